"""Figures with Chinese labels, rendered with a font that a pip package ships.

`mplfonts` ships Noto Sans CJK SC; it is registered with matplotlib here, at
call time, so that no system font and no root access is needed and no module
changes global state on import.
"""

from __future__ import annotations

import csv
import functools
import io as _io
import warnings
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from pipeline.common.errors import InputError
from pipeline.text.lexicon import read_utf8

__all__ = ["CJK_FONT_FILE", "cjk_font_path", "drawing", "gloss_label", "gloss_topic_label", "save_figure",
           "term_glosses", "use_cjk_font"]

CJK_FONT_FILE = "NotoSansCJKsc-Regular.otf"


def cjk_font_path() -> Path:
    """The CJK font file that mplfonts ships (Noto Sans CJK SC).

    Returns
    -------
    Path
        The font file inside the installed mplfonts package.

    Raises
    ------
    FileNotFoundError
        When the installed mplfonts lacks the font.
    """
    # mplfonts (with matplotlib) is loaded only when a figure is drawn
    import mplfonts

    path = Path(mplfonts.__file__).parent / "fonts" / CJK_FONT_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path}: the CJK font shipped by mplfonts is missing; reinstall with `make venv`")
    return path


def use_cjk_font() -> str:
    """Register the packaged CJK font and make it matplotlib's default.

    Returns
    -------
    str
        The font's family name, as matplotlib knows it.
    """
    # matplotlib is loaded only when a figure is drawn
    import matplotlib

    matplotlib.use("Agg")
    # pyplot only after the backend is chosen
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
    """Save a figure as PNG with no volatile metadata, failing on any missing glyph.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The drawn figure; it is closed once saved.
    path : Path
        The PNG file to write (its folder is created when missing).

    Returns
    -------
    Path
        `path`, the file written.
    """
    # matplotlib is loaded only when a figure is drawn
    from matplotlib import pyplot

    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=r".*[Gg]lyph .* missing from.*")
        fig.savefig(path, format="png", metadata={"Software": None}, bbox_inches="tight")
    pyplot.close(fig)
    return path


def drawing(make: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[[Path], Path]:
    """A figure as a function of the path it is saved to: `make(*args, **kwargs)` saved by `save_figure`.

    It holds only the function and the data it draws (no closure over a
    stage's whole result), so that it pickles small and can be drawn in a
    worker process.

    Parameters
    ----------
    make : Callable[..., Any]
        A module-level function that returns a drawn matplotlib figure.
    *args, **kwargs : Any
        Its arguments.

    Returns
    -------
    Callable[[Path], Path]
        A function of the PNG path that draws, saves and returns it.
    """
    return functools.partial(_draw_and_save, make, args, kwargs)


def _draw_and_save(make: Callable[..., Any], args: tuple, kwargs: dict, path: Path) -> Path:
    return save_figure(make(*args, **kwargs), path)


# English glosses beside Chinese terms, shared by every figure that draws terms.
def term_glosses(lexicon: pd.DataFrame, glossary_path: Path | None = None) -> dict[str, str]:
    """English gloss of every term that has one: the lexicon's, then the glossary's (term,gloss CSV).

    A missing glossary file gives the lexicon glosses alone; a term without a
    gloss is drawn with the term only.

    Parameters
    ----------
    lexicon : pd.DataFrame
        The lexicon table, with its `term` and `gloss` columns.
    glossary_path : Path or None
        The glossary file (`lexicon/glossary.csv`); its glosses give way to the lexicon's.

    Returns
    -------
    dict[str, str]
        Each glossed term's English gloss.

    Raises
    ------
    InputError
        When the glossary lacks the columns term,gloss.
    """
    glosses: dict[str, str] = {}
    if glossary_path is not None and Path(glossary_path).exists():
        rows = list(csv.DictReader(_io.StringIO(read_utf8(Path(glossary_path), "glossary"))))
        if rows and not {"term", "gloss"} <= set(rows[0]):
            raise InputError(Path(glossary_path), "needs the columns term,gloss")
        glosses.update({r["term"].strip(): r["gloss"].strip() for r in rows if r["term"].strip() and r["gloss"]})
    glosses.update({t: g for t, g in zip(lexicon["term"], lexicon["gloss"]) if isinstance(g, str) and g.strip()})
    return glosses


def gloss_label(term: str, glosses: dict[str, str] | None, width: int = 28) -> str:
    """A term as a figure labels it: the term, two spaces and its English gloss, where one is known.

    Parameters
    ----------
    term : str
        The Chinese term (or concept label).
    glosses : dict[str, str] or None
        English glosses by term; None for none.
    width : int
        The most characters of the gloss shown; a longer gloss is cut and ends with an ellipsis.

    Returns
    -------
    str
        The label; the term alone when it has no gloss.
    """
    gloss = (glosses or {}).get(term, "")
    if len(gloss) > width:
        gloss = gloss[:width - 1].rstrip() + "…"
    return f"{term}  {gloss}" if gloss else term


def gloss_topic_label(label: str, glosses: dict[str, str] | None, width: int = 18) -> str:
    """A topic label "dimension: 甲/乙" with each Chinese term followed by its gloss, where one is known.

    Parameters
    ----------
    label : str
        The topic's label, its dimension then its top terms joined by "/".
    glosses : dict[str, str] or None
        English glosses by term; None for none.
    width : int
        The most characters of each gloss shown.

    Returns
    -------
    str
        The glossed label; `label` unchanged when it has no "dimension: " part.
    """
    head, sep, terms = label.partition(": ")
    if not sep:
        return label
    return head + sep + "/".join(gloss_label(term, glosses, width).replace("  ", " ", 1) for term in terms.split("/"))
