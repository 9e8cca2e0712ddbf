"""Compiled kernels, the thread pool that runs them, and their scratch buffers.

The kernel modules (``convolution``, ``interpolation``, ``pooling``,
``rearrange``, ``png``, and the 8-lane vector layer ``simd``) import numba;
the operators import them on their first call, so ``import upconv`` never
imports numba.  ``parallel`` (the thread pool) and ``workspace`` (scratch
buffers) are plain Python and NumPy.
"""
