"""Studies on images: every up-sampler compared, and the checkerboard training experiment."""

from upconv.studies import compare
from upconv.studies.compare import compare_upsamplers

__all__ = ["compare", "compare_upsamplers"]
