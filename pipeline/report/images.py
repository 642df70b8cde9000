"""Shrink the PNG figures embedded in the HTML report: the notebooks keep full-resolution figures; the report sizes them for the page.

matplotlib saves the notebooks' figures up to ~2800 px wide with thousands of
antialiasing shades, while the report's content column is about 1000-1200 px
wide. Each embedded ``data:image/png;base64,...`` image is therefore scaled
down (LANCZOS) to at most `max_width` pixels, reduced to a palette of at most
`colours` colours without dithering (so flat areas and text edges stay clean)
and saved without metadata chunks, so the same figure always yields the same
bytes. Fonts, SVG and other data URIs are left alone.

Opaque images are quantised by Pillow's "maximum coverage" median cut: on the
study's figures it keeps every colour within 10/255 of the resampled original
and pure white exact, where plain median cut moved some black text pixels to
grey and heatmap cells to another hue (errors up to 87/255) and fast octree
turned white into 254 and light grey (240) into white. Fast octree is used
only for images with transparency, the one deterministic method that keeps
alpha.
"""

from __future__ import annotations

import base64
import binascii
import io
import re

import numpy as np
from PIL import Image

__all__ = ["DEFAULT_COLOURS", "DEFAULT_MAX_WIDTH", "embedded_image_bytes", "shrink_embedded_images", "shrink_png"]

DEFAULT_MAX_WIDTH = 1100
DEFAULT_COLOURS = 256

# A PNG data URI: its base64 payload ends at the first character outside the alphabet (a quote or `)`).
_PNG_URI = re.compile(r"data:image/png;base64,([A-Za-z0-9+/]+={0,2})")
_PREFIX = "data:image/png;base64,"


def _decode(payload: str) -> bytes | None:
    """The bytes of a base64 payload, or None when it is not valid base64."""
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        return None


def _normalised(image: Image.Image) -> Image.Image:
    """The image as RGB, or as RGBA when it has any pixel that is not fully opaque."""
    has_alpha = image.mode in ("RGBA", "RGBa", "LA", "La", "PA") or "transparency" in image.info
    if image.mode.startswith("I") or image.mode == "F":
        # 16-bit and float greyscale: scale to 8 bits first (Pillow's I -> RGB conversion clips).
        image = image.point(lambda value: value / 256).convert("L")
    converted = image.convert("RGBA" if has_alpha else "RGB")
    if has_alpha and converted.getchannel("A").getextrema()[0] == 255:
        converted = converted.convert("RGB")
    return converted


def _refit_palette(palette: Image.Image, source: Image.Image) -> Image.Image:
    """The palette image with each entry set to the rounded mean RGBA of the source pixels it stands for.

    Fast octree buckets RGBA coarsely (an opaque red came back as alpha 254, white as 254);
    the pixel indices stay as they are, so the file's size does not change.
    """
    index = np.asarray(palette).ravel()
    pixels = np.asarray(source.convert("RGBA"), dtype=np.float64).reshape(-1, 4)
    counts = np.bincount(index, minlength=256)
    entries = np.array(palette.getpalette("RGBA"), dtype=np.float64).reshape(-1, 4)
    used = counts[: len(entries)] > 0
    for channel in range(4):
        sums = np.bincount(index, weights=pixels[:, channel], minlength=256)[: len(entries)]
        entries[used, channel] = np.rint(sums[used] / counts[: len(entries)][used])
    palette.putpalette(entries.astype(np.uint8).tobytes(), "RGBA")
    return palette


def shrink_png(data: bytes, max_width: int = DEFAULT_MAX_WIDTH, colours: int = DEFAULT_COLOURS) -> bytes:
    """A smaller PNG of the same picture: no wider than `max_width`, with at most `colours` colours.

    Parameters
    ----------
    data : bytes
        A PNG file (any mode: RGB, RGBA, palette, greyscale).
    max_width : int, optional
        Wider images are scaled down to this width with LANCZOS, keeping the aspect ratio.
    colours : int, optional
        Size of the palette (1-256). Opaque images are quantised by maximum-coverage median
        cut, images with transparency by fast octree (the only deterministic method that keeps
        alpha) with each palette entry then refitted to the mean of its pixels; neither dithers.

    Returns
    -------
    bytes
        The palette PNG, saved with ``optimize=True`` and no metadata chunks (no text, dpi,
        ICC or EXIF), so identical input gives identical bytes. Transparency is kept (as a
        palette with alpha), not composited. When the image was not resized and the
        palette PNG is not smaller, `data` itself is returned; a resized image is always
        returned resized, so the result is never wider than `max_width`.

    Raises
    ------
    ValueError
        When `max_width` < 1 or `colours` is outside 1-256.
    PIL.UnidentifiedImageError
        When `data` is not an image.
    """
    if max_width < 1:
        raise ValueError(f"max_width must be at least 1, not {max_width}")
    if not 1 <= colours <= 256:
        raise ValueError(f"colours must be between 1 and 256, not {colours}")
    with Image.open(io.BytesIO(data)) as original:
        image = _normalised(original)
    resized = image.width > max_width
    if resized:
        height = max(1, round(image.height * max_width / image.width))
        image = image.resize((max_width, height), Image.Resampling.LANCZOS)
    method = Image.Quantize.FASTOCTREE if image.mode == "RGBA" else Image.Quantize.MAXCOVERAGE
    palette = image.quantize(colours, method=method, dither=Image.Dither.NONE)
    if image.mode == "RGBA":
        palette = _refit_palette(palette, image)
    used = sorted(index for _, index in palette.getcolors(256))
    if len(used) < len(palette.getpalette()) // 3:
        palette = palette.remap_palette(used)  # a short PLTE; few colours also allow 1-4 bit pixels
    palette.info = {}  # no dpi, text, ICC or EXIF chunks; the palette's own alpha still yields tRNS
    buffer = io.BytesIO()
    palette.save(buffer, format="PNG", optimize=True)
    shrunk = buffer.getvalue()
    return shrunk if resized or len(shrunk) < len(data) else data


def shrink_embedded_images(html: str, max_width: int = DEFAULT_MAX_WIDTH, colours: int = DEFAULT_COLOURS) -> str:
    """The HTML with every embedded PNG (``data:image/png;base64,...``) replaced by its shrunk version.

    Parameters
    ----------
    html : str
        A page, e.g. the nbconvert export of the notebooks. Images are found wherever their
        data URI appears: ``src="..."`` of output and Markdown ``<img>`` tags, CSS ``url(...)``.
    max_width, colours : int, optional
        Passed to `shrink_png`.

    Returns
    -------
    str
        The page with only the PNG payloads changed; identical images are shrunk once. Other
        data URIs (fonts, SVG, JPEG), invalid base64 and payloads that are not images are
        left as they are.
    """
    cache: dict[str, str] = {}

    def replace(match: re.Match[str]) -> str:
        payload = match.group(1)
        if payload not in cache:
            data = _decode(payload)
            try:
                shrunk = None if data is None else shrink_png(data, max_width, colours)
            except (OSError, SyntaxError, ValueError):  # not a decodable PNG: keep it as it is
                shrunk = None
            cache[payload] = payload if shrunk is None else base64.b64encode(shrunk).decode("ascii")
        return _PREFIX + cache[payload]

    return _PNG_URI.sub(replace, html)


def embedded_image_bytes(html: str) -> int:
    """Total decoded size of the PNG images embedded as data URIs in the page.

    Parameters
    ----------
    html : str
        The page.

    Returns
    -------
    int
        The sum, over every occurrence (a repeated image counts each time), of the bytes its
        base64 payload decodes to; invalid payloads count as zero.
    """
    return sum(len(_decode(match.group(1)) or b"") for match in _PNG_URI.finditer(html))
