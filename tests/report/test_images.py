"""Shrinking the PNG figures embedded in the HTML report."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin

from pipeline.common.config import PROJECT_ROOT
from pipeline.report import images
from pipeline.report.images import embedded_image_bytes, shrink_embedded_images, shrink_png

FIGURES = sorted((PROJECT_ROOT / "results" / "figures").glob("*.png"))
FONT = "data:font/woff2;base64,d09GMgABAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
SVG = "data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciLz4="


def png_bytes(image: Image.Image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", **options)
    return buffer.getvalue()


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def wide_gradient(width: int = 1500, height: int = 60) -> Image.Image:
    """An opaque RGB image wider than the default max_width, with more than 256 colours."""
    x = np.linspace(0, 255, width)[None, :].repeat(height, 0)
    y = np.linspace(0, 255, height)[:, None].repeat(width, 1)
    return Image.fromarray(np.dstack([x, y, 255 - x]).astype(np.uint8), "RGB")


def test_the_real_figures_are_there():
    assert len(FIGURES) >= 5, "results/figures/*.png are the test's inputs"


@pytest.mark.parametrize("path", FIGURES, ids=lambda p: p.stem)
def test_a_real_figure_shrinks_keeping_its_shape_within_the_palette_and_reproducibly(path):
    data = path.read_bytes()
    original = opened(data)
    for max_width, colours in ((1100, 256), (600, 64)):
        shrunk = shrink_png(data, max_width=max_width, colours=colours)
        assert len(shrunk) < len(data)
        assert shrink_png(data, max_width=max_width, colours=colours) == shrunk
        image = opened(shrunk)
        Image.open(io.BytesIO(shrunk)).verify()
        assert image.width == min(original.width, max_width)
        assert abs(image.height - original.height * image.width / original.width) <= 1
        assert image.getcolors(maxcolors=colours) is not None  # None when there are more colours
        assert set(image.info) <= {"transparency"}  # no dpi, text, ICC or EXIF


@pytest.mark.parametrize("path", FIGURES, ids=lambda p: p.stem)
def test_a_real_figure_keeps_its_colours_and_pure_white(path):
    """Median cut moved black text to grey and heatmap cells to another hue; octree made white 254."""
    original = opened(path.read_bytes()).convert("RGB")
    shrunk = opened(shrink_png(path.read_bytes())).convert("RGB")
    if original.width > shrunk.width:
        original = original.resize(shrunk.size, Image.Resampling.LANCZOS)
    before, after = np.asarray(original, int), np.asarray(shrunk, int)
    assert np.abs(before - after).max() <= 16
    white = (before == 255).all(axis=2)
    assert white.any() and (after[white] == 255).all()


def test_metadata_chunks_are_not_carried_over():
    info = PngImagePlugin.PngInfo()
    info.add_text("Software", "matplotlib")
    info.add_text("Creation Time", "2024-01-01 12:00")
    data = png_bytes(wide_gradient(), pnginfo=info, dpi=(300, 300))
    shrunk = shrink_png(data)
    for chunk in (b"tEXt", b"zTXt", b"iTXt", b"pHYs", b"tIME", b"eXIf", b"iCCP"):
        assert chunk not in shrunk
    assert opened(shrunk).size == (1100, 44)


def test_a_one_pixel_png_survives():
    for mode, colour in (("RGB", (10, 20, 30)), ("RGBA", (10, 20, 30, 128)), ("L", 77)):
        image = opened(shrink_png(png_bytes(Image.new(mode, (1, 1), colour))))
        assert image.size == (1, 1)
        assert image.convert(mode).getpixel((0, 0)) == colour


def test_transparency_is_kept_not_composited():
    """Alpha survives as a palette with alpha (tRNS): transparent stays transparent, opaque keeps its colour."""
    image = Image.new("RGBA", (1600, 80), (255, 255, 255, 0))
    image.paste((200, 30, 40, 255), (0, 0, 800, 80))
    image.paste((20, 40, 200, 128), (1200, 0, 1600, 80))
    shrunk = opened(shrink_png(png_bytes(image)))
    assert shrunk.mode == "P" and shrunk.size == (1100, 55)
    rgba = shrunk.convert("RGBA")
    assert rgba.getpixel((200, 27)) == (200, 30, 40, 255)  # opaque stays exactly opaque
    assert rgba.getpixel((700, 27))[3] == 0
    red, green, blue, alpha = rgba.getpixel((1000, 27))
    assert alpha == 128 and abs(red - 20) + abs(green - 40) + abs(blue - 200) <= 6


def test_palette_and_greyscale_pngs_survive():
    palette = wide_gradient().quantize(16)
    greyscale = Image.fromarray(np.tile(np.linspace(0, 255, 1200), (30, 1)).astype(np.uint8), "L")
    with_transparency = png_bytes(Image.new("RGB", (1300, 20), (0, 128, 0)).quantize(2), transparency=0)
    for data in (png_bytes(palette), png_bytes(greyscale), png_bytes(Image.new("1", (1300, 10), 1)),
                 with_transparency):
        assert opened(shrink_png(data)).width == 1100
    assert opened(shrink_png(with_transparency)).convert("RGBA").getpixel((5, 5))[3] == 0
    grey = opened(shrink_png(png_bytes(greyscale))).convert("L")
    assert grey.getpixel((0, 0)) <= 4 and grey.getpixel((549, 0)) in range(120, 136) and grey.getpixel((1099, 0)) >= 250


def test_sixteen_bit_greyscale_is_scaled_not_clipped():
    ramp = Image.fromarray(np.tile(np.arange(0, 65536, 64, dtype=np.uint16), (40, 1)))
    grey = opened(shrink_png(png_bytes(ramp), max_width=256)).convert("L")
    assert grey.size == (256, 10)
    assert abs(grey.getpixel((128, 5)) - 128) <= 4 and grey.getpixel((255, 5)) >= 250


def test_bad_arguments_are_refused():
    data = png_bytes(Image.new("RGB", (4, 4)))
    for max_width, colours in ((0, 256), (100, 0), (100, 257)):
        with pytest.raises(ValueError):
            shrink_png(data, max_width=max_width, colours=colours)


def test_html_pngs_are_replaced_once_and_everything_else_is_untouched(monkeypatch):
    data = min(FIGURES, key=lambda p: p.stat().st_size).read_bytes()
    uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
    page = (f'<html><head><style>@font-face {{ src: url({FONT}) format("woff2"); }}\n'
            f'.icon {{ background-image: url({SVG}); }}</style></head><body><p>社区治理 plain text</p>\n'
            f'<div class="jp-RenderedImage"><img alt="No description" class="" src="{uri}"/></div>\n'
            f'<p><img alt="figure" src="{uri}" /> more text</p></body></html>')
    calls = []

    def counting(*args, **kwargs):
        calls.append(args)
        return shrink_png(*args, **kwargs)

    monkeypatch.setattr(images, "shrink_png", counting)
    out = shrink_embedded_images(page)
    assert len(calls) == 1
    shrunk_uri = "data:image/png;base64," + base64.b64encode(shrink_png(data)).decode("ascii")
    assert out == page.replace(uri, shrunk_uri)
    assert out.count(shrunk_uri) == 2 and FONT in out and SVG in out
    assert embedded_image_bytes(page) == 2 * len(data)
    assert embedded_image_bytes(out) == 2 * len(shrink_png(data)) < embedded_image_bytes(page)


def test_html_without_pngs_or_with_broken_ones_is_left_alone():
    page = f'<p>text</p><img src="{FONT}"><img src="data:image/png;base64,bm90IGEgcG5n"><img src="data:image/png;base64,@@">'
    assert shrink_embedded_images(page) == page
    assert embedded_image_bytes(page) == len(b"not a png")


@settings(max_examples=60, deadline=None)
@given(width=st.integers(1, 40), height=st.integers(1, 20), max_width=st.integers(1, 50),
       colours=st.integers(1, 256), seed=st.integers(0, 2**32 - 1))
def test_random_rgb_images_decode_to_the_expected_size(width, height, max_width, colours, seed):
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    data = png_bytes(Image.fromarray(pixels, "RGB"))
    shrunk = shrink_png(data, max_width=max_width, colours=colours)
    image = opened(shrunk)
    expected_width = min(width, max_width)
    expected_height = height if width <= max_width else max(1, round(height * max_width / width))
    assert image.size == (expected_width, expected_height)
    if shrunk != data:
        assert image.getcolors(maxcolors=colours) is not None
        assert len(shrunk) < len(data) or width > max_width
