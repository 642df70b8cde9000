"""`python -m pipeline validate sheet|score`: the validation kit's two commands, I/O at the edge.

`sheet` draws the sample (`pipeline/validate/sheet.py`) and writes, into one
folder: `sheet.csv` for the coders, `INSTRUCTIONS.md` and
`codebook_for_coders.md` (what a coder may read), `sample.csv` and
`sheet.json` (how the sample was drawn, and the lexicon at drawing time:
coders do not open them). `score` reads every `coder_*.csv` of that folder
and writes the agreement, the dictionary's and the topic model's scores.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from pipeline.common import io
from pipeline.common.errors import InputError
from pipeline.report.codebook import CONCEPT_END, CONCEPT_START, END, START
from pipeline.report.validation import dictionary_codes
from pipeline.text.lexicon import load_lexicon
from pipeline.text.units import Unit
from pipeline.validate.score import (adjudicate, agreement_table, dictionary_table, pool_sheets, read_coder_sheets,
                                     stale_dimensions, topic_agreement)
from pipeline.validate.sheet import (coder_codebook, draw_sample, heldout_pool, lexicon_digests, study_pool,
                                     study_units_of)

__all__ = ["write_sheet", "score_sheets", "score_all", "coder_sheets_in", "INSTRUCTIONS"]

INSTRUCTIONS = """# Coding instructions

You code each sentence of `sheet.csv` against the dimensions of community governance defined in
`codebook_for_coders.md`. Read the codebook first and keep it open. Code alone: do not open another
coder's sheet, `sample.csv`, `sheet.json`, the lexicon's files or any result of the study, and do not
search the sentences for the codebook's example words mechanically; judge what each sentence says.

For each sentence (a unit cut at 。！？； or a line break; headings and fragments included):

1. Does it say something about how communities are governed? If not, every column is 0.
2. For each of the dimensions below, write 1 when the sentence meets the dimension's inclusion rule
   and no exclusion rule sends it elsewhere, else 0. Several 1s are normal; there is no primary code.
   Code the content, not the word: a dimension's word inside a name or title does not count, and a
   dimension expressed without its usual word does. A list of dimensions stated as a place's
   arrangement or goal codes each one listed.
3. `frame_only` is 1 when the sentence speaks of community or grassroots governance only in general
   (the genre's frame: 社区治理, 基层治理, 治理现代化 ...) and no dimension was coded; else 0.
4. `coder_note`: a few words when a code rests on a judgement the rules do not settle.

Columns to fill, each 0 or 1: {columns}, frame_only; and coder_note (free text, may be empty).
Write your sheet as `coder_<your id>.csv` with the columns `sentence_id`, the dimensions, `frame_only`
and `coder_note`, one row per sentence of `sheet.csv`, in its order.

Adjudication rule, fixed before any coding: a sentence is coded to a dimension when a strict majority
of the coders code it (with two coders, both). Agreement is Krippendorff's alpha per dimension; a
dimension below 0.667 is reported as not reliably codable.
"""


def _dimensions(lexicon: pd.DataFrame, frame: str) -> list[str]:
    return [d for d in dict.fromkeys(lexicon["category"]) if d != frame]


def write_sheet(root: Path, out_dir: Path, heldout: Sequence[Path], sizes: dict[str, int], random_share: float,
                random_state: int, frame: str, only: Sequence[str] = ()) -> pd.DataFrame:
    """Draw a sheet from the study's cleaned articles and the held-out pages and write the kit's files; no
    sentence of a sheet beside it (a sibling folder's `sample.csv`) is drawn again. The coders code every
    lexicon category but `frame` (the unit of governance, not a dimension).

    Parameters
    ----------
    root : Path
        The project folder (its lexicon, results/tables/documents.csv and results/corpus/clean).
    out_dir : Path
        The sheet folder to write (sheet.csv, INSTRUCTIONS.md, codebook_for_coders.md, sample.csv, sheet.json).
    heldout : Sequence[Path]
        The held-out cleaning sets whose pages are drawn from.
    sizes : dict[str, int]
        Sentences to draw per source ("study", "heldout").
    random_share : float
        Share of each source's sentences drawn uniformly at random.
    random_state : int
        Seed of the draw.
    frame : str
        The lexicon category that is the frame, not a dimension the coders code.
    only : Sequence[str]
        Stratify by these dimensions only; every dimension when empty.

    Returns
    -------
    pd.DataFrame
        The drawn sample, as written to `sample.csv`.
    """
    lexicon = load_lexicon(root / "lexicon" / "governance_terms.csv")
    documents = pd.read_csv(root / "results" / "tables" / "documents.csv", keep_default_na=False)
    pool = study_pool(root / "results" / "corpus" / "clean", documents) + heldout_pool(heldout)
    earlier = {i for other in sorted(out_dir.parent.glob("*/sample.csv")) if other.parent != out_dir
               for i in pd.read_csv(other, keep_default_na=False)["sentence_id"]}
    sample = draw_sample(pool, lexicon, sizes, random_share, random_state, only, earlier)
    dims = _dimensions(lexicon, frame)
    out_dir.mkdir(parents=True, exist_ok=True)
    io.write_csv(sample, out_dir / "sample.csv")
    io.write_csv(sample[["sentence_id", "sentence"]], out_dir / "sheet.csv")
    io.write_text(INSTRUCTIONS.format(columns=", ".join(dims)), out_dir / "INSTRUCTIONS.md")
    codebook = (root / "lexicon" / "CODEBOOK.md").read_text(encoding="utf-8")
    io.write_text(coder_codebook(codebook, [(START, END), (CONCEPT_START, CONCEPT_END)]),
                  out_dir / "codebook_for_coders.md")
    record = {"random_state": random_state, "sizes": sizes, "random_share": random_share, "only": list(only),
              "excluded_from_earlier_sheets": len(earlier),
              "drawn": {s: int((sample["source"] == s).sum()) for s in sizes},
              "heldout_sets": [str(Path(h).relative_to(root)) if Path(h).is_relative_to(root) else str(h)
                               for h in heldout],
              "dimensions": dims, "lexicon_digests": lexicon_digests(lexicon)}
    io.write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", out_dir / "sheet.json")
    return sample


def coder_sheets_in(sheet_dir: Path) -> list[Path]:
    """The coders' sheets of a sheet folder (`coder_*.csv`)."""
    return sorted(Path(sheet_dir).glob("coder_*.csv"))


def score_sheets(sheet_dirs: Sequence[Path], lexicon: pd.DataFrame, tables_dir: Path | None = None,
                 units: Sequence[Unit] | None = None) -> dict[str, pd.DataFrame]:
    """Score the `coder_*.csv` of the sheet folders, pooled, against each other, the dictionary (`lexicon`)
    and, for the study's sentences, the leading seeded topic of their text unit (the run's
    `seeded_unit_agreement.csv` in `tables_dir` and its `units`, when both are there).

    Parameters
    ----------
    sheet_dirs : Sequence[Path]
        The sheet folders, each with its `sheet.json`, `sample.csv` and coders' sheets.
    lexicon : pd.DataFrame
        The current lexicon: the dictionary scored, and the digests that flag dimensions changed since drawing.
    tables_dir : Path or None
        The run's results/tables folder; None scores no topics.
    units : Sequence[Unit] or None
        The run's text units; None scores no topics.

    Returns
    -------
    dict[str, pd.DataFrame]
        `validation_agreement`, `validation_dictionary`, `validation_topics`, for the study's articles, the
        held-out pages, and both, each with a `sheets` column naming the folders.

    Raises
    ------
    InputError
        When a coded sentence is not in its `sample.csv`, or a sentence is in two sheets.
    """
    agreement_csv = Path(tables_dir) / "seeded_unit_agreement.csv" if tables_dir is not None else None
    unit_topics = (pd.read_csv(agreement_csv, keep_default_na=False)
                   if agreement_csv is not None and agreement_csv.exists() else None)
    parts, samples, stale, dims = [], [], set(), None
    for folder in map(Path, sheet_dirs):
        record = json.loads((folder / "sheet.json").read_text(encoding="utf-8"))
        dims = dims or list(record["dimensions"])
        coders = coder_sheets_in(folder)
        sheets = read_coder_sheets(coders, dims)
        sample = pd.read_csv(folder / "sample.csv", keep_default_na=False).set_index("sentence_id")
        missing = [s for s in sheets.sentence_ids if s not in sample.index]
        if missing:
            raise InputError(coders[0], f"sentence(s) {', '.join(missing[:5])} are not in sample.csv")
        parts.append(sheets)
        samples.append(sample.loc[list(sheets.sentence_ids)])
        stale |= set(stale_dimensions(folder / "sheet.json", lexicon_digests(lexicon)))
    sheets, sample = pool_sheets(parts), pd.concat(samples)
    if sample.index.duplicated().any():
        raise InputError(Path(sheet_dirs[0]), "a sentence is in two sheets; draw later sheets with their --exclude")
    source = sample["source"].to_numpy()
    subsets = {"all": np.ones(len(source), bool), "study": source == "study", "heldout": source == "heldout"}
    agreement = agreement_table(sheets, subsets)
    agreement["coders_in_all"] = sum(len(part.codes) for part in parts)  # every coder's sheet, over the sheets
    agreement["lexicon_changed"] = agreement["dimension"].isin(stale)
    truth = adjudicate(sheets)
    found_sets = dictionary_codes(sample["sentence"], lexicon)
    found = np.array([[int(d in f) for d in dims] for f in found_sets])
    dictionary = dictionary_table(truth, found, dims, subsets)
    dictionary["lexicon_changed"] = dictionary["dimension"].isin(stale)
    topics = pd.DataFrame(columns=["dimension", "sentences", "coded_as_topic", "share", "share_low", "share_high"])
    if unit_topics is not None and units is not None:
        unit_of = study_units_of(sample[sample["source"] == "study"], units)
        topics = topic_agreement(pd.DataFrame(truth, index=list(sheets.sentence_ids), columns=dims), unit_of,
                                 unit_topics)
    sheet = "+".join(Path(d).name for d in sheet_dirs)
    return {name: table.assign(sheets=sheet) for name, table in
            (("validation_agreement", agreement), ("validation_dictionary", dictionary), ("validation_topics", topics))}


def score_all(validation_dir: Path, lexicon: pd.DataFrame, tables_dir: Path,
              units: Sequence[Unit] | None) -> dict[str, pd.DataFrame]:
    """Every sheet folder under `validation_dir` (a `sheet.json` and at least two coders' sheets), pooled,
    scored against the run whose tables are in `tables_dir` (its `seeded_unit_agreement.csv`, when there)
    and whose text units are `units`.

    Parameters
    ----------
    validation_dir : Path
        The folder holding the sheet folders.
    lexicon : pd.DataFrame
        The current lexicon.
    tables_dir : Path
        The run's results/tables folder.
    units : Sequence[Unit] or None
        The run's text units; None scores no topics.

    Returns
    -------
    dict[str, pd.DataFrame]
        The tables of `score_sheets`; empty when there is no such folder.
    """
    folders = [r.parent for r in sorted(Path(validation_dir).glob("*/sheet.json")) if len(coder_sheets_in(r.parent)) >= 2]
    return score_sheets(folders, lexicon, tables_dir, units) if folders else {}
