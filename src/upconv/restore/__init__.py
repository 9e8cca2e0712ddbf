"""Restoring: true deconvolution (the inverse of a convolution, not its transpose) and image metrics."""

from upconv.restore import metrics
from upconv.restore.deconvolution import blur_kernel, deconvolve

__all__ = ["deconvolve", "blur_kernel", "metrics"]
