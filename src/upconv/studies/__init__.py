"""Studies on images: every up-sampler compared, the deblurring study and the checkerboard training experiment.

=========================  ===================================================
``compare``                compare_upsamplers: down-sample, up-sample back every
                           way, score (``upconv compare``)
``deblur``                 deblur_study: blur the photograph, restore it every
                           way, score (``upconv deconvolve``)
``experiment``             checkerboard_experiment: one decoder trained with six
                           up-sampling layers (``upconv experiment``)
=========================  ===================================================

The figures of their results are in :mod:`upconv.figures.studies`.
"""

from upconv.studies import compare
from upconv.studies.compare import compare_upsamplers

__all__ = ["compare", "compare_upsamplers"]
