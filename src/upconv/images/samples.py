r"""Built-in test images: charts that show aliasing and blocking, and a photograph.

The image commands of the CLI (``upconv compare`` with no IMAGE, ``upconv
resize``, ...) use these when no file is given.  Every image is
deterministic, float64, with values in ``[0, 1]``, and laid out like the
operators' unbatched ``(C, *spatial)`` inputs:

==================  ==========================================================
``(H, W)``          gray (the charts, ``"astronaut_gray"``)
``(3, H, W)``       RGB, channel first (``"astronaut"``)
==================  ==========================================================

so ``upconv.interpolate(img[None], scale_factor=2, mode="bicubic")[0]``
works on either (a gray image needs ``img[None, None]``).

==================  ==========================================================
name                image
==================  ==========================================================
``zone_plate``      :func:`zone_plate`: circular chirp ``cos(k r**2)``, every
                    frequency up to Nyquist; down-sampling folds it into
                    spurious rings (aliasing)
``siemens_star``    :func:`siemens_star`: black and white wedges whose
                    frequency rises towards the centre (aliasing, blocking)
``text``            :func:`text_chart`: small text, 1-pixel line pairs and a
                    converging-line wedge (sharpness, ringing, jaggies)
``astronaut``       :func:`photograph`: 256 x 256 RGB photograph
``astronaut_gray``  the same in gray
==================  ==========================================================

The photograph
--------------
``upconv/images/astronaut.png`` is scikit-image's ``skimage.data.astronaut()``
(scikit-image 0.26.0; ``skimage/data/astronaut.png``, 512 x 512 RGB)
down-sampled by 2 with 2 x 2 area averaging and rounded to 8 bits.  Its
docstring in scikit-image reads:

    Color image of the astronaut Eileen Collins.

    Photograph of Eileen Collins, an American astronaut. She was selected
    as an astronaut in 1992 and first piloted the space shuttle STS-63 in
    1995. She retired in 2006 after spending a total of 38 days, 8 hours
    and 10 minutes in outer space.

    This image was downloaded from the NASA Great Images database
    <https://flic.kr/p/r9qvLn>`__.

    No known copyright restrictions, released into the public domain.

scikit-image is not a dependency of upconv: only the PNG file is shipped.

Examples
--------
>>> from upconv import data
>>> data.names()
('zone_plate', 'siemens_star', 'text', 'astronaut', 'astronaut_gray')
>>> data.load("astronaut").shape
(3, 256, 256)
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from upconv import _validate as v

if TYPE_CHECKING:
    import numpy.typing as npt
    from PIL import ImageFont

__all__ = ["zone_plate", "siemens_star", "text_chart", "photograph", "load", "names"]

_PHOTO = "astronaut.png"
_TEXT = "The quick brown fox jumps over the lazy dog. 0123456789 upconv"
# Font sizes (pixels) of the text chart's lines, when Pillow can scale its default font.
_TEXT_SIZES = (6, 7, 8, 9, 10, 12, 14, 16, 20, 24, 32)


def _coordinates(size: int) -> npt.NDArray[np.float64]:
    """Pixel-centre coordinates ``j - (size - 1) / 2``, symmetric about the image centre."""
    return np.arange(size, dtype=np.float64) - (size - 1) / 2


def zone_plate(size: int = 256) -> npt.NDArray[np.float64]:
    r"""Circular zone plate: a radial chirp with every frequency up to Nyquist.

    Parameters
    ----------
    size : int
        Height and width (>= 1).

    Returns
    -------
    image : (size, size) ndarray of float64
        Values in ``[0, 1]``.

    Raises
    ------
    TypeError, ValueError
        If ``size`` is not an integer >= 1.
    MemoryError
        If the image would exceed :func:`upconv.get_memory_limit`.

    Notes
    -----
    With ``(x, y)`` the offsets of pixel centres from the image centre,

    .. math::

        z(x, y) = \tfrac12 + \tfrac12 \cos\!\Big(\frac{\pi (x^2 + y^2)}{\text{size}}\Big),

    whose local frequency is :math:`(x, y) / \text{size}` cycles per pixel:
    zero at the centre, half a cycle per pixel (Nyquist) along ``x`` at the
    left and right edges and along ``y`` at the top and bottom, and Nyquist
    on both axes at the corners.  The spectrum covers the whole band about
    evenly, so anything that aliases (nearest-neighbour down-sampling,
    strided convolution) shows up as extra rings centred at the edges and
    corners.

    Examples
    --------
    >>> from upconv.images.samples import zone_plate
    >>> z = zone_plate(8)
    >>> z.shape, z.dtype, bool(z.min() >= 0 and z.max() <= 1)
    ((8, 8), dtype('float64'), True)
    """
    size = v.integer(size, "zone_plate", "size", minimum=1)
    v.check_allocation((size, size), np.float64, "zone_plate", "the image")
    r = _coordinates(size) ** 2
    return 0.5 + 0.5 * np.cos((np.pi / size) * (r[:, None] + r[None, :]))


def siemens_star(size: int = 256, spokes: int = 36, supersample: int = 4) -> npt.NDArray[np.float64]:
    r"""Siemens star: black and white wedges meeting at the centre.

    Parameters
    ----------
    size : int
        Height and width (>= 1).  The star is the inscribed disk of radius
        ``size / 2``; outside it the image is white.
    spokes : int
        Number of black wedges (and of white ones), i.e. cycles per turn
        (>= 1).
    supersample : int
        Antialiasing: each pixel is the mean of ``supersample**2`` point
        samples on a regular sub-pixel grid (>= 1; 1 is plain point
        sampling, whose jagged edges are aliasing already).

    Returns
    -------
    image : (size, size) ndarray of float64
        Values in ``[0, 1]``; 0 black wedges, 1 white wedges and background.

    Raises
    ------
    TypeError, ValueError
        If an argument is not an integer >= 1.
    MemoryError
        If the image would exceed :func:`upconv.get_memory_limit`.

    Notes
    -----
    At radius :math:`r` pixels the pattern has :math:`\text{spokes} / (2\pi r)`
    cycles per pixel, which passes Nyquist (1/2) at
    :math:`r = \text{spokes} / \pi` (about 11.5 pixels for 36 spokes): inside
    that circle no sampling can represent it, and any down-sampling by
    ``s`` moves the circle out ``s`` times, where aliasing shows up as
    moiré and blocking.  The point samples are

    .. math::

        s(x, y) = \begin{cases} \tfrac12 + \tfrac12\,\mathrm{sign}\,\sin(\text{spokes}\cdot\operatorname{atan2}(y, x))
        & x^2 + y^2 \le (\text{size}/2)^2 \\ 1 & \text{otherwise.} \end{cases}

    Examples
    --------
    >>> from upconv.images.samples import siemens_star
    >>> siemens_star(64, spokes=8).shape
    (64, 64)
    """
    func = "siemens_star"
    size = v.integer(size, func, "size", minimum=1)
    spokes = v.integer(spokes, func, "spokes", minimum=1)
    supersample = v.integer(supersample, func, "supersample", minimum=1)
    v.check_allocation((3, size, size), np.float64, func, "the image")
    base = _coordinates(size)
    radius2 = (size / 2) ** 2
    total = np.zeros((size, size))
    offsets = (np.arange(supersample) + 0.5) / supersample - 0.5
    for dy in offsets:
        y = (base + dy)[:, None]
        for dx in offsets:
            x = (base + dx)[None, :]
            wedge = 0.5 + 0.5 * np.sign(np.sin(spokes * np.arctan2(y, x)))
            total += np.where(x * x + y * y <= radius2, wedge, 1.0)
    return total / supersample**2


def _font(size: int | None) -> ImageFont.ImageFont | ImageFont.FreeTypeFont | None:
    """Pillow's built-in font at ``size`` pixels, or its fixed bitmap font if it cannot be scaled."""
    from PIL import ImageFont

    if size is not None:
        try:
            return ImageFont.load_default(size=size)
        except (TypeError, ImportError, OSError):  # Pillow < 10.1, or no FreeType
            return None
    return ImageFont.load_default()


def text_chart(size: int = 256) -> npt.NDArray[np.float64]:
    r"""Black text, line pairs and a resolution wedge on white.

    Parameters
    ----------
    size : int
        Height and width (>= 64).  Text and line widths are in pixels (they
        do not scale with ``size``); a larger chart shows more of them.

    Returns
    -------
    image : (size, size) ndarray of float64
        Values in ``[0, 1]``, 1 is white.

    Raises
    ------
    TypeError, ValueError
        If ``size`` is not an integer >= 64.
    MemoryError
        If the image would exceed :func:`upconv.get_memory_limit`.

    Notes
    -----
    From top to bottom:

    * a pangram and the digits in Pillow's built-in font
      (``PIL.ImageFont.load_default``: Aileron Regular, antialiased, from 6
      pixels up, when Pillow >= 10.1 has FreeType; otherwise its fixed
      bitmap font at 1x and 2x) filling the upper 45% of the chart;
    * bar groups: vertical, then horizontal lines with periods of 2, 3, 4
      and 6 pixels (period 2 is one-pixel lines at the Nyquist frequency);
    * a wedge of lines converging from 8 pixels apart to 2 (Nyquist),
      slanted so that their edges also show jaggies.

    Rendering uses Pillow's basic layout engine, so the chart is the same
    on every run (it can differ in antialiasing details between FreeType
    versions).

    Examples
    --------
    >>> from upconv.images.samples import text_chart
    >>> t = text_chart()
    >>> t.shape, float(t.max())
    ((256, 256), 1.0)
    """
    func = "text_chart"
    size = v.integer(size, func, "size", minimum=64)
    v.check_allocation((2, size, size), np.float64, func, "the image")
    from upconv.images.pillow import image_module

    Image = image_module(func)
    from PIL import ImageDraw

    img = Image.new("L", (size, size), 255)
    draw = ImageDraw.Draw(img)
    y = 2
    fonts = [_font(s) for s in _TEXT_SIZES]
    if any(f is None for f in fonts):
        bitmap = _font(None)
        for scale in (1, 2):
            if y + 11 * scale > 0.45 * size:
                break
            box = draw.textbbox((0, 0), _TEXT, font=bitmap)
            line = Image.new("L", (box[2] + 1, box[3] + 1), 255)
            ImageDraw.Draw(line).text((0, 0), _TEXT, font=bitmap, fill=0)
            line = line.resize((line.width * scale, line.height * scale), Image.Resampling.NEAREST)
            img.paste(line, (3, y))
            y += line.height + 2
    else:
        for s, font in zip(_TEXT_SIZES, fonts):
            if y + s > 0.45 * size:  # the upper 45% holds text
                break
            draw.text((3, y), _TEXT, font=font, fill=0)
            y += s + max(2, s // 4)
    y += 4

    # bar groups: 6 lines per group, vertical then horizontal, one group per period
    bar_h = max(8, min(24, (size - y) // 3))
    x = 3
    for period in (2, 3, 4, 6):
        on = max(1, period // 2)
        span = 6 * period
        if x + 2 * span + 2 > size or y + bar_h > size:
            break
        for k in range(6):
            draw.rectangle((x + k * period, y, x + k * period + on - 1, y + bar_h - 1), fill=0)
        for k in range(min(6, bar_h // period)):
            top = y + k * period
            draw.rectangle((x + span + 2, top, x + 2 * span + 1, top + on - 1), fill=0)
        x += 2 * span + 6
    y += bar_h + 6

    # wedge: lines converging from (up to) 8 pixels apart on the left to 2 on the right
    lines = 9
    height = size - 3 - y
    if height > 2 * (lines - 1):
        start = min(8.0, (height - 1) / (lines - 1))
        centre = y + (height - 1) / 2
        for i in range(lines):
            offset = i - (lines - 1) / 2
            draw.line([(3, round(centre + offset * start)), (size - 4, round(centre + 2 * offset))], fill=0, width=1)
    return np.asarray(img, dtype=np.float64) / 255.0


@functools.lru_cache(maxsize=2)
def _photo(gray: bool) -> npt.NDArray[np.float64]:
    from importlib import resources

    from upconv.images.files import read_image

    with resources.as_file(resources.files("upconv") / "images" / _PHOTO) as path:
        found, _ = read_image(path, as_gray=gray)
    img = found.astype(np.float64, copy=False)  # float64 already: only the type is narrowed
    img.setflags(write=False)
    return img


def photograph(gray: bool = False) -> npt.NDArray[np.float64]:
    r"""A 256 x 256 photograph: NASA's portrait of astronaut Eileen Collins (public domain).

    Parameters
    ----------
    gray : bool
        Return the luma ``0.299 R + 0.587 G + 0.114 B`` instead of RGB.

    Returns
    -------
    image : (3, 256, 256) or (256, 256) ndarray of float64
        Channel-first RGB (or gray), values ``k / 255`` in ``[0, 1]``; a new
        array on every call.

    Raises
    ------
    TypeError
        If ``gray`` is not a bool.

    Notes
    -----
    The file is ``upconv/images/astronaut.png``, scikit-image's
    ``skimage.data.astronaut()`` area-down-sampled from 512 x 512; "No known
    copyright restrictions, released into the public domain" (its
    scikit-image docstring; see :mod:`upconv.data`).  Pillow decodes it, or
    :mod:`upconv.images.png` when Pillow is not installed (the same values).

    Examples
    --------
    >>> from upconv.images.samples import photograph
    >>> photograph().shape, photograph(gray=True).shape
    ((3, 256, 256), (256, 256))
    """
    gray = v.boolean(gray, "photograph", "gray")
    return _photo(gray).copy()


_REGISTRY: dict[str, Callable[..., npt.NDArray[np.float64]]] = {
    "zone_plate": zone_plate,
    "siemens_star": siemens_star,
    "text": text_chart,
    "astronaut": photograph,
    "astronaut_gray": functools.partial(photograph, gray=True),
}


def names() -> tuple[str, ...]:
    """Names of the built-in images, for :func:`load`.

    Examples
    --------
    >>> from upconv.images.samples import names
    >>> "zone_plate" in names()
    True
    """
    return tuple(_REGISTRY)


def load(name: str, **kwargs: Any) -> npt.NDArray[np.float64]:
    """Return the built-in image ``name``; ``kwargs`` go to its function.

    Parameters
    ----------
    name : str
        One of :func:`names`: ``"zone_plate"``, ``"siemens_star"``,
        ``"text"``, ``"astronaut"``, ``"astronaut_gray"``.
    **kwargs
        Options of the image's function (``size=128`` for the charts,
        ``spokes=...`` for the star).

    Returns
    -------
    image : (H, W) or (3, H, W) ndarray of float64
        Values in ``[0, 1]``.

    Raises
    ------
    ValueError
        If ``name`` is unknown.
    TypeError
        If ``kwargs`` holds an option the image does not have.

    Examples
    --------
    >>> from upconv.images.samples import load
    >>> load("zone_plate", size=32).shape
    (32, 32)
    """
    name = v.choice(name, names(), "load", "name")
    try:
        return _REGISTRY[name](**kwargs)
    except TypeError as exc:
        if kwargs and "unexpected keyword" in str(exc):
            raise TypeError(f"load: image {name!r} takes no option(s) {sorted(kwargs)}: {exc}") from None
        raise
