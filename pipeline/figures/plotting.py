"""Figures with Chinese labels, rendered with a font that a pip package ships.

`mplfonts` ships Noto Sans CJK SC; it is registered with matplotlib here, at
call time, so that no system font and no root access is needed and no module
changes global state on import.
"""

from __future__ import annotations

import warnings
from pathlib import Path

CJK_FONT_FILE = "NotoSansCJKsc-Regular.otf"


def cjk_font_path() -> Path:
    import mplfonts

    path = Path(mplfonts.__file__).parent / "fonts" / CJK_FONT_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path}: the CJK font shipped by mplfonts is missing; reinstall with `make venv`")
    return path


def use_cjk_font() -> str:
    """Register the packaged CJK font and make it matplotlib's default; return its name."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager, pyplot

    path = cjk_font_path()
    font_manager.fontManager.addfont(str(path))
    name = font_manager.FontProperties(fname=str(path)).get_name()
    pyplot.rcParams["font.family"] = [name]
    pyplot.rcParams["axes.unicode_minus"] = False
    # PNG metadata would otherwise carry the matplotlib version and a timestamp.
    pyplot.rcParams["savefig.dpi"] = 120
    return name


def save_figure(fig, path: Path) -> Path:
    """Save a figure as PNG with no volatile metadata, failing on any missing glyph."""
    from matplotlib import pyplot

    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=r".*[Gg]lyph .* missing from.*")
        fig.savefig(path, format="png", metadata={"Software": None}, bbox_inches="tight")
    pyplot.close(fig)
    return path
