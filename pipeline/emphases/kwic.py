"""`python -m pipeline kwic TERM [--concept] [--place P] [--window N]`: keyword in context from the results.

Reads the segmented units (results/corpus/units.jsonl) and prints every
occurrence of TERM as a token, with N characters of context either side,
one line per occurrence: place, unit, left context, [match], right context.
TERM is a token as the study counts it (村社区 finds the text's 村(社区)).
With `--concept`, TERM is a concept of the lexicon (its id, such as charity,
or its label, such as 慈善) and every token of its terms is shown.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

from pipeline.common.errors import InputError
from pipeline.emphases.evidence import kwic
from pipeline.text.concepts import load_concepts
from pipeline.text.lexicon import category_map, load_lexicon

__all__ = ["DEFAULT_WINDOW", "add_parser", "concept_terms", "read_units", "run_kwic"]

DEFAULT_WINDOW = 20


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register the `kwic` subcommand.

    Parameters
    ----------
    commands : argparse._SubParsersAction
        The subcommands of `python -m pipeline`.
    """
    parser = commands.add_parser("kwic", help="print a term's keyword-in-context lines from results/")
    parser.add_argument("term", help="the term, as a token (e.g. 基层治理)")
    parser.add_argument("--place", default=None, help="only this place (as in data/corpus.csv)")
    parser.add_argument("--window", type=int, default=DEFAULT_WINDOW, help="characters of context each side")
    parser.add_argument("--concept", action="store_true",
                        help="TERM is a concept of the lexicon (id or label): show every term of it")


def concept_terms(lexicon: Path, concept: str) -> list[str]:
    """The terms of a concept given by its id or its label, from the lexicon folder.

    Parameters
    ----------
    lexicon : Path
        The lexicon folder (governance_terms.csv, concepts.csv, term_concepts.csv).
    concept : str
        The concept's id (such as charity) or its label (such as 慈善).

    Returns
    -------
    list[str]
        The concept's terms.

    Raises
    ------
    InputError
        When no concept has that id or label.
    """
    categories = category_map(load_lexicon(lexicon / "governance_terms.csv"))
    concepts = load_concepts(lexicon / "concepts.csv", lexicon / "term_concepts.csv", categories)
    matches = [c.concept for c in concepts.concepts if concept in (c.concept, c.label)]
    if not matches:
        raise InputError(lexicon / "concepts.csv", f"no concept {concept!r} (give its id or its label)")
    members = concepts.terms_of()
    return [t for cid in matches for t in members[cid]]


def read_units(path: Path) -> list[dict]:
    path = Path(path)
    if not path.exists():
        raise InputError(path, "not found; run `python -m pipeline run` first")
    units = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                unit = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(path, f"line {number}: not JSON ({exc})") from None
            if "spans" not in unit:
                raise InputError(path, f"line {number}: unit without token spans; the results predate them, "
                                       "run `python -m pipeline run` again")
            units.append(unit)
    return units


def run_kwic(units_path: Path, term: str, place: str | None, window: int, out: TextIO | None = None,
             terms: list[str] | None = None) -> int:
    """Print the lines (to `out`, standard output by default).

    Parameters
    ----------
    units_path : Path
        The segmented units, results/corpus/units.jsonl.
    term : str
        The token to show, or the concept's name when `terms` is given.
    place : str or None
        Only this place; None for every place.
    window : int
        Characters of context on either side.
    out : TextIO or None
        Where the lines go; None for standard output.
    terms : list[str] or None
        When given, the tokens to show (a concept's terms); `term` then only names them.

    Returns
    -------
    int
        How many lines were printed.
    """
    out = sys.stdout if out is None else out
    if window < 0:
        raise InputError(Path(units_path), f"--window must be zero or more, got {window}")
    units = read_units(units_path)
    if place is not None:
        places = {u["place"] for u in units}
        if place not in places:
            raise InputError(Path(units_path), f"no place {place!r}; places: {', '.join(sorted(places))}")
        units = [u for u in units if u["place"] == place]
    wanted = None if terms is None else {p: set(terms) for p in {u["place"] for u in units}}
    lines = kwic(units, wanted, window, term=term)
    for row in lines.itertuples(index=False):
        shown = f"\t{row.term}" if terms is not None else ""
        print(f"{row.place}\t{row.unit_id}{shown}\t{row.left:>{window}} [{row.match}] {row.right}", file=out)
    if lines.empty:
        what = f"no token of concept {term!r}" if terms is not None else f"no token {term!r}"
        print(what + (f" in {place}" if place else ""), file=sys.stderr)
    return len(lines)
