"""Compiled kernels, the thread pool that runs them, and their scratch buffers.

The kernels are C (``csrc/``), compiled when upconv is installed (``pip install .``, which needs a C
compiler) into one extension module, ``_native``; ``convolution``, ``interpolation``, ``pooling``,
``rearrange`` and ``png`` are the thin modules the operators import them from, on their first call, so
``import upconv`` loads no compiled code.  ``parallel`` (the thread pool) and ``workspace`` (scratch
buffers) are plain Python and NumPy.

On x86-64 the kernels are built for three instruction sets, the baseline (SSE2), AVX2 + FMA and AVX-512,
and ``_native`` runs the best one the CPU supports (``_native.variant()``; ``_native.variants()`` lists
those it could run).  The environment variable ``UPCONV_KERNELS`` (``base``, ``avx2`` or ``avx512``) picks
one instead, e.g. to compare them.
"""
