"""Restoring: true deconvolution (the inverse of a convolution, not its transpose) and image metrics.

=========================  ===================================================
``deconvolution``          deconvolve: validate, build the operator, solve
``operators``              C and Cᵀ three ways (upconv, FFT, scipy.ndimage)
``solvers``                LSQR, CG, Richardson-Lucy, Wiener, the progress bar
``blur``                   blur_kernel: Gaussian, box and motion kernels
``metrics``                psnr, ssim
=========================  ===================================================
"""

from upconv.restore import metrics
from upconv.restore.blur import blur_kernel
from upconv.restore.deconvolution import deconvolve

__all__ = ["deconvolve", "blur_kernel", "metrics"]
