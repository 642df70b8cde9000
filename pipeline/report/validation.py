"""The dictionary's precision and recall per dimension, against sentences coded by hand.

`data/validation/coded_sentences.csv` holds sentences coded against
`lexicon/CODEBOOK.md` by a reader who did not see the dictionary's output
(one 0/1 column per dimension, plus `frame_only` and `coder_note`). A sentence
is *dictionary-positive* for a dimension when the lexicon finds a term or
variant of that dimension in it, with overlaps settled as the segmentation
settles them (`TermMatcher`: the longest string wins). Frame terms
(the category `themes.seeded.frame_category` names) are not a dimension and are never scored.

The table is computed for every sentence and separately for the study's own
articles (doc_ids in `data/corpus.csv`, from which the lexicon was built) and
for the rest (held-out pages), because a lexicon harvested from the texts it
measures is expected to do better on them. The runner writes it to
`results/tables/dictionary_validation.csv` on every run, so an edit of the
lexicon shows at once what it does to precision and recall;
`combine_lexicons` scores a lexicon with candidate terms added.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Iterable, Mapping

import pandas as pd

from pipeline.common.errors import InputError
from pipeline.text.lexicon import canonical_map, category_map
from pipeline.text.matching import TermMatcher

__all__ = ["META_COLUMNS", "TABLE_COLUMNS", "VALIDATION_END", "VALIDATION_START", "coded_dimensions",
           "combine_lexicons", "dictionary_codes", "dictionary_validation", "load_coded", "replace_validation_section",
           "split_units", "validation_markdown", "validation_report", "validation_table"]
META_COLUMNS = ("sentence_id", "doc_id", "sentence", "frame_only", "coder_note")
TABLE_COLUMNS = ("subset", "dictionary", "dimension", "coded_positive", "dictionary_positive",
                 "true_positive", "precision", "recall", "n_sentences")
_UNIT_END = re.compile(r"(?<=[。！？；])|\n")


def split_units(text: str) -> list[str]:
    """Coding units: text cut after 。！？； and at line breaks, stripped, empty ones dropped.

    Parameters
    ----------
    text : str
        An article's or page's text.

    Returns
    -------
    list[str]
        The coding units (sentences), in reading order.
    """
    return [unit.strip() for unit in _UNIT_END.split(text) if unit.strip()]


def load_coded(path: Path) -> pd.DataFrame:
    """The hand coding, checked: the meta columns present, ids unique, every code 0 or 1."""
    path = Path(path)
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        raise InputError(path, "has no coded sentences")
    columns = list(rows[0])
    missing = [c for c in META_COLUMNS if c not in columns]
    if missing:
        raise InputError(path, f"line 1: missing column(s) {', '.join(missing)}")
    codes = [c for c in columns if c not in META_COLUMNS]
    seen: set[str] = set()
    for number, row in enumerate(rows, start=2):
        if row["sentence_id"] in seen:
            raise InputError(path, f"line {number}: duplicate sentence_id {row['sentence_id']!r}")
        seen.add(row["sentence_id"])
        for column in [*codes, "frame_only"]:
            if row[column] not in ("0", "1"):
                raise InputError(path, f"line {number}: {column} is {row[column]!r}; codes are 0 or 1")
    frame = pd.DataFrame(rows, columns=columns)
    for column in [*codes, "frame_only"]:
        frame[column] = frame[column].astype(int)
    return frame


def coded_dimensions(coded: pd.DataFrame) -> list[str]:
    """The dimension columns of a coding table, in file order."""
    return [c for c in coded.columns if c not in META_COLUMNS]


def combine_lexicons(base: pd.DataFrame, extra: pd.DataFrame) -> pd.DataFrame:
    """The lexicon with proposed rows added; a proposed string already in the lexicon is an error."""
    known = canonical_map(base)
    clashes = [s for s in canonical_map(extra) if s in known]
    if clashes:
        raise ValueError(f"proposed strings already in the lexicon: {', '.join(sorted(clashes))}")
    return pd.concat([base, extra], ignore_index=True)


def dictionary_codes(sentences: Iterable[str], lexicon: pd.DataFrame) -> list[set[str]]:
    """For each sentence, the categories of the lexicon strings found in it (longest match wins).

    Parameters
    ----------
    sentences : Iterable[str]
        The hand-coded sentences.
    lexicon : pd.DataFrame
        The dictionary under validation: its strings, their canonical terms and categories.

    Returns
    -------
    list[set[str]]
        One set of categories per sentence, in order; empty where no lexicon string occurs.
    """
    canonical = canonical_map(lexicon)
    category = category_map(lexicon)
    matcher = TermMatcher(canonical)
    return [{category[canonical[string]] for _, _, string in matcher.find(sentence)} for sentence in sentences]


def _ratio(numerator: int, denominator: int) -> float:
    return round(numerator / denominator, 3) if denominator else float("nan")


def validation_table(coded: pd.DataFrame, lexicon: pd.DataFrame, frame: str) -> pd.DataFrame:
    """Per coded dimension (the `frame` category aside): coded and dictionary positives, their overlap, precision
    and recall."""
    found = dictionary_codes(coded["sentence"], lexicon)
    rows = []
    for dimension in coded_dimensions(coded):
        if dimension == frame:
            continue
        human = coded[dimension].to_numpy() == 1
        machine = [dimension in categories for categories in found]
        true_positive = int(sum(h and m for h, m in zip(human, machine)))
        rows.append({"dimension": dimension, "coded_positive": int(human.sum()),
                     "dictionary_positive": int(sum(machine)), "true_positive": true_positive,
                     "precision": _ratio(true_positive, int(sum(machine))),
                     "recall": _ratio(true_positive, int(human.sum())), "n_sentences": len(coded)})
    return pd.DataFrame(rows, columns=TABLE_COLUMNS[2:])


def validation_report(coded: pd.DataFrame, dictionaries: Mapping[str, pd.DataFrame],
                      study_docs: Iterable[str], frame: str) -> pd.DataFrame:
    """`validation_table` for every dictionary, over all sentences, the study's articles and the rest."""
    in_study = coded["doc_id"].isin(set(study_docs))
    subsets = {"all": coded, "study_articles": coded[in_study], "heldout": coded[~in_study]}
    parts = []
    for subset, rows in subsets.items():
        if rows.empty:
            continue
        for name, lexicon in dictionaries.items():
            table = validation_table(rows, lexicon, frame)
            table.insert(0, "dictionary", name)
            table.insert(0, "subset", subset)
            parts.append(table)
    return pd.concat(parts, ignore_index=True)[list(TABLE_COLUMNS)]


def dictionary_validation(coded_csv: Path, lexicon: pd.DataFrame, study_docs: Iterable[str],
                          frame: str) -> pd.DataFrame:
    """The validation table of the study's lexicon against the hand coding in `coded_csv` (`frame` aside).

    Parameters
    ----------
    coded_csv : Path
        The hand-coded sentences (one 0/1 column per dimension).
    lexicon : pd.DataFrame
        The study's lexicon.
    study_docs : Iterable[str]
        The doc_ids of the study's articles; other coded sentences are held-out pages.
    frame : str
        The frame category (the unit of governance), left out of the table.

    Returns
    -------
    pd.DataFrame
        Precision and recall per dimension, over all sentences, the study's articles and the held-out pages.
    """
    return validation_report(load_coded(coded_csv), {"lexicon": lexicon}, study_docs, frame)


VALIDATION_START, VALIDATION_END = "<!-- validation:start -->", "<!-- validation:end -->"


def _pr(row: pd.Series | None) -> tuple[str, str, str]:
    """Coded positives, precision and recall of one row as a reader sees them (blank when undefined)."""
    if row is None:
        return "", "", ""
    show = (lambda v: "" if pd.isna(v) else f"{v:.2f}")
    return str(int(row["coded_positive"])), show(row["precision"]), show(row["recall"])


def validation_markdown(table: pd.DataFrame, names: Mapping[str, str] | None = None) -> str:
    """The dictionary's precision and recall per dimension, the study's articles and the held-out pages apart,
    as the Markdown section `data/validation/README.md` holds between its validation markers.

    Parameters
    ----------
    table : pd.DataFrame
        `results/tables/dictionary_validation.csv`.
    names : Mapping[str, str], optional
        A readable name per dimension id.

    Returns
    -------
    str
        The section: a line on where it comes from and the sentence counts, then one table row per dimension.
    """
    names = names or {}
    part = table[table["dictionary"] == "lexicon"]
    by = {subset: rows.set_index("dimension") for subset, rows in part.groupby("subset", sort=False)}
    sizes = {subset: int(rows["n_sentences"].iloc[0]) for subset, rows in by.items()}
    head = ("Generated by every run from `results/tables/dictionary_validation.csv` (do not edit): "
            + "; ".join(f"{label} {sizes[s]} sentences" for s, label in
                        (("all", "all"), ("study_articles", "the study's articles"), ("heldout", "held-out pages"))
                        if s in sizes) + ". Coded: sentences the coder put in the dimension; P: precision; R: recall; "
            "blank where the denominator is zero.")
    lines = [head, "", "| dimension | coded, all | articles: coded | P | R | held-out: coded | P | R |",
             "|---|---|---|---|---|---|---|---|"]
    for dimension in by.get("all", pd.DataFrame()).index:
        cells = [names.get(dimension, dimension.replace("_", " ")), _pr(by["all"].loc[dimension])[0]]
        for subset in ("study_articles", "heldout"):
            rows = by.get(subset)
            cells += _pr(rows.loc[dimension] if rows is not None and dimension in rows.index else None)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def replace_validation_section(document: str, section: str, where: str) -> str:
    """`document` with the text between its validation markers replaced by `section`.

    Parameters
    ----------
    document : str
        The text of `data/validation/README.md`.
    section : str
        The precision-and-recall section from `validation_markdown`.
    where : str
        The document's path, named in the error when the markers are missing.

    Returns
    -------
    str
        The document with the markers kept and only the text between them replaced.
    """
    start, end = document.find(VALIDATION_START), document.find(VALIDATION_END)
    if start < 0 or end < start:
        raise ValueError(f"{where}: no {VALIDATION_START} ... {VALIDATION_END} section to write the table into; "
                         "add the two markers where the table belongs")
    return document[:start + len(VALIDATION_START)] + "\n" + section + document[end:]
