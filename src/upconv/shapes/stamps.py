"""Which outputs of a 1-d transposed convolution its kernel taps reach, and how often: index arithmetic.

Output ``o`` sits at ``f = o + padding[0]`` of the un-cropped result and is
reached by input ``j`` through tap ``t`` when ``j*stride + t*dilation == f``
with ``0 <= j < in_size`` and ``0 <= t < kernel_size``.  From that map:
how many (input, tap) pairs reach each output (:func:`stamp_counts`), which
outputs no tap reaches (:func:`unreached_positions`: they hold the bias
only, e.g. an ``output_padding`` past the kernel), and how many stamps the
borders miss compared with the interior (:func:`border_deficits`).  The
planner ranks candidates with them and the linter reports them.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from upconv.shapes.transposed import conv_transpose_output_size

__all__ = ["stamp_counts", "interior_counts", "unreached_positions", "border_deficits", "TapCoverage",
           "tap_coverage"]


def stamp_counts(
    in_size: int, kernel_size: int, stride: int, padding: tuple[int, int] = (0, 0), output_padding: int = 0,
    dilation: int = 1,
) -> npt.NDArray[np.intp]:
    """Per output position of a 1-d transposed convolution, how many (input, tap) pairs reach it.

    Positions past the un-cropped result (``output_padding`` beyond the
    kernel) count 0.

    Examples
    --------
    >>> from upconv.shapes import stamp_counts
    >>> stamp_counts(3, 3, 2).tolist()                      # k3 s2: 3 -> 7
    [1, 1, 2, 1, 2, 1, 1]
    >>> stamp_counts(3, 2, 2, output_padding=1).tolist()    # k2 s2 a1: the last row gets nothing
    [1, 1, 1, 1, 1, 1, 0]
    """
    out = conv_transpose_output_size((in_size,), kernel_size, stride, [padding], output_padding, dilation)[0]
    f = np.arange(out)[:, None] + padding[0]
    j = f - np.arange(kernel_size)[None, :] * dilation
    hit = (j >= 0) & (j % stride == 0) & (j // stride < in_size)
    return hit.sum(axis=1)


def interior_counts(length: int, kernel_size: int, stride: int, begin: int = 0,
                    dilation: int = 1) -> npt.NDArray[np.intp]:
    """Counts at ``length`` output positions starting at un-cropped ``begin`` for an infinite input.

    The count of un-cropped position ``f`` is the number of taps ``t`` with
    ``t*dilation = f (mod stride)``: what :func:`stamp_counts` gives away
    from the borders.

    Examples
    --------
    >>> from upconv.shapes import interior_counts
    >>> interior_counts(6, 3, 2).tolist()
    [2, 1, 2, 1, 2, 1]
    """
    f = np.arange(length)[:, None] + begin
    return ((f - np.arange(kernel_size)[None, :] * dilation) % stride == 0).sum(axis=1)


def unreached_positions(
    in_size: int, kernel_size: int, stride: int, padding: tuple[int, int] = (0, 0), output_padding: int = 0,
    dilation: int = 1,
) -> npt.NDArray[np.intp]:
    """Output positions of a 1-d transposed convolution that no kernel tap reaches (bias only).

    Examples
    --------
    >>> from upconv.shapes import unreached_positions
    >>> unreached_positions(4, 2, 2, output_padding=1).tolist()   # U-Net k2 s2, odd size: 4 -> 9
    [8]
    >>> unreached_positions(3, 1, 2).tolist()                      # k1 s2: every other position
    [1, 3]
    """
    return np.flatnonzero(stamp_counts(in_size, kernel_size, stride, padding, output_padding, dilation) == 0)


def border_deficits(
    in_size: int, kernel_size: int, stride: int, padding: tuple[int, int] = (0, 0), output_padding: int = 0,
    dilation: int = 1,
) -> tuple[list[int], list[int]]:
    """Stamps missing near each border of a 1-d transposed convolution: ``(from the start, from the end)``.

    The deficit of an output is the count it would get from an infinite input
    (:func:`interior_counts`) minus the count it gets (:func:`stamp_counts`).
    Each list runs from its border inwards over the first half of the
    output, without trailing zeros.  The borders are even when the two lists
    are equal: the output's count profile is the same read from either end.

    Examples
    --------
    >>> from upconv.shapes import border_deficits
    >>> border_deficits(4, 4, 2, padding=(1, 1))                   # k4 s2 p1: even
    ([1], [1])
    >>> border_deficits(4, 3, 2, padding=(1, 1), output_padding=1) # k3 s2 p1 a1: the last row is weaker
    ([], [1])
    """
    counts = stamp_counts(in_size, kernel_size, stride, padding, output_padding, dilation)
    deficits = interior_counts(len(counts), kernel_size, stride, padding[0], dilation) - counts
    half = (len(counts) + 1) // 2
    return _trim(deficits[:half]), _trim(deficits[::-1][:half])


def _trim(a: np.ndarray) -> list[int]:
    nz = np.flatnonzero(a)
    return [int(x) for x in a[: nz[-1] + 1]] if nz.size else []


class TapCoverage(NamedTuple):
    """Where a 1-d transposed convolution's taps fall short: unreached outputs and the two borders' deficits."""

    unreached: tuple[int, ...]
    begin: tuple[int, ...]
    end: tuple[int, ...]

    @property
    def even_borders(self) -> bool:
        """Whether both borders miss the same stamps (the count profile reads the same from either end)."""
        return self.begin == self.end


def tap_coverage(
    in_size: int, kernel_size: int, stride: int, padding: tuple[int, int] = (0, 0), output_padding: int = 0,
    dilation: int = 1,
) -> TapCoverage:
    """:func:`unreached_positions` and :func:`border_deficits` of one layer, from one count.

    Examples
    --------
    >>> from upconv.shapes import tap_coverage
    >>> c = tap_coverage(37, 2, 2, output_padding=1)    # ConvTranspose k2 s2 a1: 37 -> 75
    >>> c.unreached, c.even_borders
    ((74,), False)
    >>> tap_coverage(37, 4, 2, (1, 1), 1).unreached      # k4 s2 p1 a1: every output reached
    ()
    """
    counts = stamp_counts(in_size, kernel_size, stride, padding, output_padding, dilation)
    deficits = interior_counts(len(counts), kernel_size, stride, padding[0], dilation) - counts
    half = (len(counts) + 1) // 2
    return TapCoverage(tuple(int(i) for i in np.flatnonzero(counts == 0)), tuple(_trim(deficits[:half])),
                       tuple(_trim(deficits[::-1][:half])))
