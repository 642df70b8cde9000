"""Kept lines that still look like chrome, for a researcher to check by eye.

After cleaning, a line near an article's head or tail that is short and does
not end like a sentence is either a title or heading (keep) or chrome that no
rule knew (a site name, a caption, a menu of a new site). The table lists
them per article; a new site's leftovers are found in a minute, and a line
that is chrome belongs in lexicon/chrome.yaml as a rule for its kind.
"""

from __future__ import annotations

import pandas as pd

from pipeline.common.params import ChromeParams
from pipeline.corpus.chrome import SENTENCE_END

__all__ = ["REVIEW_COLUMNS", "review_lines", "review_table"]

REVIEW_COLUMNS = ["doc_id", "line", "reason"]


def review_lines(text: str, settings: ChromeParams) -> list[tuple[str, str]]:
    """(line, reason) for every kept line at the head or tail that is short and not a sentence."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    out = []
    for index, line in enumerate(lines):
        at_head = index < settings.head_lines
        at_tail = index >= len(lines) - settings.tail_lines
        chars = sum(not c.isspace() for c in line)
        if not (at_head or at_tail) or chars > settings.max_chars or SENTENCE_END.search(line):
            continue
        where = f"head line {index + 1}" if at_head else f"tail line {len(lines) - index} from the end"
        out.append((line, f"{where} of {len(lines)}; {chars} chars, no sentence end"))
    return out


def review_table(documents: list, settings: ChromeParams) -> pd.DataFrame:
    """The review rows of every article (documents are stage.CleanDocument), in corpus order.

    Parameters
    ----------
    documents : list
        The cleaned articles (stage.CleanDocument), in corpus order.
    settings : ChromeParams
        The chrome settings of params.yaml (head and tail lines, the longest line to review).

    Returns
    -------
    pd.DataFrame
        One row per line to review: doc_id, line, reason.
    """
    rows = [{"doc_id": d.doc.doc_id, "line": line, "reason": reason}
            for d in documents for line, reason in review_lines(d.text, settings)]
    return pd.DataFrame(rows, columns=REVIEW_COLUMNS)
