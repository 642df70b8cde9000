"""Read the study's results: the one loader the notebooks use.

Notebooks compute nothing heavy; they call `load_table("place_terms")` and
plot. The results folder is the project's `results/` unless the runner points
the notebooks at a staging folder through the STUDY_RESULTS_DIR variable.
"""

from __future__ import annotations

import html
import json
import os
import re
from pathlib import Path

import pandas as pd

from pipeline.common.config import Paths
from pipeline.common.io import read_jsonl

__all__ = ["RESULTS_ENV", "clean_text", "figure_path", "load_manifest", "load_table", "load_units", "md_code",
           "md_text", "read_table", "results_dir"]

RESULTS_ENV = "STUDY_RESULTS_DIR"

# ASCII punctuation that forms Markdown syntax anywhere in a line: emphasis, code, links and images,
# strikethrough, math ($, which Jupyter hands to MathJax), attributes, e-mail autolinks (@). A backslash
# before any ASCII punctuation is a literal character in CommonMark. Parentheses are left alone: they form a link only after "]", which is escaped, and "\(" opens inline
# math for MathJax.
_MD_PUNCT = re.compile(r"([\\`*_\[\]{}#!~$@])")
# Text that starts like a list item, a thematic break or a setext underline (the template may put it at the
# start of a line); only there: "-0.5" or "1.5" stay as written. A backslash before a digit is no escape, so
# "1. " and "1) " are broken at the mark after the digits.
_MD_LINE_START = re.compile(r"^(?:([-+=])(?=[-+=\s]|$)|([0-9]{1,9})([.)])(?=\s|$))")
# GFM and mistune turn a bare http://... or www.example.org into a link; an escaped mark breaks the pattern.
_AUTOLINK = re.compile(r"(?i)(?<=www)\.|:(?=//)")


def md_text(value: object) -> str:
    """Article-derived text made literal for Markdown: nothing in it can become a tag, link or format.

    `<`, `>` and `&` become entities (so neither raw HTML nor entity text such as `&lt;b&gt;` is read as
    markup), `|` becomes `&#124;` (a GFM table splits rows on a backslash-escaped pipe in some renderers),
    Markdown punctuation is backslash-escaped, and line breaks become spaces, so the text stays on one line
    of a paragraph, list item or table cell. Chinese text and other punctuation are left as they are.

    Parameters
    ----------
    value : object
        The text (or any value, shown as `str(value)`); missing values (None, NaN) give "".

    Returns
    -------
    str
        Markdown whose rendering is the text itself.
    """
    if value is None or (isinstance(value, float) and value != value):
        return ""
    # Leading spaces could open an indented code block, where escapes show as backslashes.
    text = re.sub(r"\s*[\r\n\u2028\u2029]+\s*", " ", str(value)).strip()
    text = html.escape(_MD_PUNCT.sub(r"\\\1", text), quote=False).replace("|", "&#124;")
    text = _AUTOLINK.sub(lambda m: "\\" + m.group(0), text)
    return _MD_LINE_START.sub(lambda m: "\\" + m.group(1) if m.group(1) else m.group(2) + "\\" + m.group(3), text,
                              count=1)


def md_code(value: object) -> str:
    """Article-derived text as one Markdown code span, shown as written (for a garbled span quoted verbatim).

    Inside a code span nothing is markup but a run of backticks as long as the span's own; the span's
    backticks are made one longer than the longest run in the text, and a space pads a text that starts or
    ends with a backtick. Line breaks become spaces. Entities are literal in a code span, so a pipe stays a
    pipe: the span is for prose, not for a table cell.

    Parameters
    ----------
    value : object
        The text (or any value, shown as `str(value)`).

    Returns
    -------
    str
        The code span.
    """
    text = re.sub(r"[\r\n\u2028\u2029]+", " ", str(value))
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def results_dir() -> Path:
    override = os.environ.get(RESULTS_ENV)
    return Path(override) if override else Paths.at().results


def read_table(path: Path) -> pd.DataFrame:
    """A results table as written: empty cells are missing, no other string is.

    Parameters
    ----------
    path : Path
        A CSV table of the results folder.

    Returns
    -------
    pd.DataFrame
        The table; FileNotFoundError when it does not exist.
    """
    if not path.exists():
        raise FileNotFoundError(f"{path}: not found; run `make results` first")
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


def load_table(name: str) -> pd.DataFrame:
    """A table from results/tables/ by its name without .csv (e.g. 'documents')."""
    return read_table(results_dir() / "tables" / f"{name}.csv")


def load_manifest() -> dict:
    return json.loads((results_dir() / "manifest.json").read_text(encoding="utf-8"))


def figure_path(name: str) -> Path:
    return results_dir() / "figures" / name


def clean_text(doc_id: str) -> str:
    return (results_dir() / "corpus" / "clean" / f"{doc_id}.txt").read_text(encoding="utf-8")


def load_units() -> list[dict]:
    """The segmented text units (results/corpus/units.jsonl): text, tokens and their spans, place, doc_id."""
    path = results_dir() / "corpus" / "units.jsonl"
    if not path.exists():
        raise FileNotFoundError(f"{path}: not found; run `make results` first")
    return read_jsonl(path)
