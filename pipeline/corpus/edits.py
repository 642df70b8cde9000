"""Edits: the unit in which cleaning changes text, and in which it is audited.

A cleaning rule is a pure function from text to a list of non-overlapping
`Edit`s (positions in the text the rule received). `apply_edits` applies them
and returns the audit rows, so that every change the study makes to an
article is logged and can be replayed.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Edit", "apply_edits", "replay"]


@dataclass(frozen=True, order=True)
class Edit:
    start: int
    end: int
    after: str
    rule: str
    note: str = ""


def apply_edits(text: str, edits: list[Edit]) -> tuple[str, list[dict]]:
    """Apply non-overlapping edits; return the new text and one audit row each.

    Audit rows carry `start`/`end` in the coordinates of `text` (the text the
    rule received), the removed or replaced `before`, and the `after`.

    Parameters
    ----------
    text : str
        The text the rule received.
    edits : list[Edit]
        The rule's edits, in any order; an edit whose `after` equals what it covers is dropped.

    Returns
    -------
    tuple[str, list[dict]]
        The edited text, and one audit row per edit made (rule, start, end, before, after, note), in text order.

    Raises
    ------
    ValueError
        When edits overlap or one lies outside the text.
    """
    ordered = sorted(edits)
    pieces: list[str] = []
    rows: list[dict] = []
    cursor = 0
    for edit in ordered:
        if edit.start < cursor or edit.end < edit.start or edit.end > len(text):
            raise ValueError(f"rule {edit.rule!r} produced an overlapping or out-of-range edit {edit}")
        before = text[edit.start:edit.end]
        if before == edit.after:
            continue
        pieces.append(text[cursor:edit.start])
        pieces.append(edit.after)
        cursor = edit.end
        rows.append({"rule": edit.rule, "start": edit.start, "end": edit.end,
                     "before": before, "after": edit.after, "note": edit.note})
    pieces.append(text[cursor:])
    return "".join(pieces), rows


def replay(text: str, rows: list[dict]) -> str:
    """Rebuild a cleaned text from the original and its audit rows, rule by rule."""
    step_rows: dict[int, list[dict]] = {}
    for row in rows:
        step_rows.setdefault(row["step"], []).append(row)
    for step in sorted(step_rows):
        edits = [Edit(r["start"], r["end"], r["after"], r["rule"]) for r in step_rows[step]]
        for edit, row in zip(sorted(edits), sorted(step_rows[step], key=lambda r: (r["start"], r["end"]))):
            if text[edit.start:edit.end] != row["before"]:
                raise ValueError(f"audit row does not match the text at {edit.start}:{edit.end} in step {step}")
        text, _ = apply_edits(text, edits)
    return text
