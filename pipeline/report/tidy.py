"""Table cells a reader can read: the report's rendered tables show no NaN, None or snake_case code names.

The notebooks display pandas tables as they are (a researcher rerunning them
wants the real values); the report, which a scholar reads, shows a missing
value as a blank cell and a code name (`public_services_elderly_care`,
`units_optimistic`) as words. Only whole cells are changed, so no text inside
prose or a keyword-in-context line is touched.
"""

from __future__ import annotations

import html
import re

__all__ = ["MISSING", "CODE_NAME", "tidy_cell", "tidy_tables", "untidy_cells"]

# How pandas, numpy and Python print a missing value.
MISSING = frozenset({"nan", "NaN", "None", "<NA>", "NaT", "null"})
# A code name: lower-case words joined by underscores (public_services_elderly_care, ci_low).
CODE_NAME = re.compile(r"(?<![\w/.])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w/.])")
# A cell of plain text, or of one code span (a Markdown table's `party_leadership`).
_CELL = re.compile(r"(<t[dh](?:\s[^>]*)?>)(?:<code>)?([^<]*)(?:</code>)?(</t[dh]>)")


def tidy_cell(text: str) -> str:
    """One cell's text as a reader sees it: blank for a missing value, words for a code name."""
    stripped = html.unescape(text).strip()
    if stripped in MISSING:
        return ""
    if CODE_NAME.search(stripped):
        # Lists of flags (one_article;small_expected) read as lists.
        return CODE_NAME.sub(lambda m: m.group(0).replace("_", " "), text.replace(";", "; ")).replace(";  ", "; ")
    return text


def tidy_tables(page: str) -> str:
    """Every table cell of an HTML page passed through `tidy_cell`; the rest of the page unchanged.

    Parameters
    ----------
    page : str
        An HTML page of the report.

    Returns
    -------
    str
        The page with its table cells tidied.
    """
    return _CELL.sub(lambda m: m.group(1) + tidy_cell(m.group(2)) + m.group(3), page)


def untidy_cells(page: str) -> list[str]:
    """The cells of `page` a reader should not see (missing-value words or code names), for checks."""
    return [m.group(2).strip() for m in _CELL.finditer(page)
            if html.unescape(m.group(2)).strip() in MISSING or CODE_NAME.search(html.unescape(m.group(2)))]
