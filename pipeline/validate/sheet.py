"""Draw a coding sheet: sentences for independent coders, from the study's articles and from held-out pages.

The sample is stratified so that every dimension is tested: most sentences are
drawn in turn for each dimension the dictionary finds in them (spread over
places and pages), the rest uniformly at random, so that sentences the
dictionary misses are coded too. The draw is seeded and recorded
(`sample.csv`, `sheet.json`); the coders get only `sheet.csv` (ids and
sentences), the written instructions and the codebook without its term lists,
so that nothing they read shows the dictionary's output. `sheet.json` records
the lexicon as it was when the sheet was drawn, dimension by dimension, so a
later score can say which dimensions' validation the lexicon has outgrown.
"""

from __future__ import annotations

import csv
import hashlib
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Collection, Iterable, Mapping, Sequence

import pandas as pd

from pipeline.common.errors import InputError
from pipeline.report.validation import dictionary_codes, split_units
from pipeline.text.units import Unit

__all__ = ["PoolSentence", "study_pool", "heldout_pool", "draw_sample", "lexicon_digests", "coder_codebook",
           "study_units_of", "SHEET_COLUMNS"]

SHEET_COLUMNS = ("sentence_id", "sentence")


@dataclass(frozen=True)
class PoolSentence:
    """A sentence that may be drawn: where it comes from, and the dimensions the dictionary finds in it."""

    sentence_id: str
    doc_id: str
    source: str  # "study" or "heldout"
    group: str  # the place (study) or the held-out page
    sentence: str
    dims: frozenset[str] = frozenset()


def study_pool(clean_dir: Path, documents: pd.DataFrame) -> list[PoolSentence]:
    """The study's cleaned articles cut into coding units (as `coding_instructions.md` cuts them).

    Parameters
    ----------
    clean_dir : Path
        The cleaned articles, one `<doc_id>.txt` each (results/corpus/clean).
    documents : pd.DataFrame
        The documents table: each article's doc_id and place.

    Returns
    -------
    list[PoolSentence]
        The articles' sentences, source "study", grouped by place, in document order.

    Raises
    ------
    InputError
        When a cleaned article is missing.
    """
    out = []
    for doc_id, place in zip(documents["doc_id"], documents["place"]):
        path = Path(clean_dir) / f"{doc_id}.txt"
        if not path.exists():
            raise InputError(path, "cleaned article not found; run `make results` first")
        out += [PoolSentence(f"{doc_id}-{i}", doc_id, "study", place, unit)
                for i, unit in enumerate(split_units(path.read_text(encoding="utf-8")), start=1)]
    return out


def heldout_pool(sets: Iterable[Path]) -> list[PoolSentence]:
    """The body lines of held-out pages (simplified script, no inserted readings) cut into coding units.

    Each set is a folder with `sources.csv` (`id`, `script`, `pinyin_inserted`) and `labels/<id>.tsv`
    (`line_no, label, kind, text`), as the held-out cleaning sets are kept.

    Parameters
    ----------
    sets : Iterable[Path]
        The held-out cleaning sets' folders.

    Returns
    -------
    list[PoolSentence]
        The pages' sentences, source "heldout", grouped by page.
    """
    out = []
    for folder in map(Path, sets):
        with open(folder / "sources.csv", encoding="utf-8", newline="") as handle:
            sources = list(csv.DictReader(handle))
        for row in sources:
            labels = folder / "labels" / f"{row['id']}.tsv"
            if row.get("script") != "simplified" or row.get("pinyin_inserted") != "no" or not labels.exists():
                continue
            body = [fields[3] for fields in (line.split("\t") for line in
                                              labels.read_text(encoding="utf-8").splitlines()[1:])
                    if len(fields) >= 4 and fields[1] == "body"]
            units = [u for text in body for u in split_units(text)]
            out += [PoolSentence(f"{row['id']}-{i}", row["id"], "heldout", row["id"], unit)
                    for i, unit in enumerate(units, start=1)]
    return out


def _with_dims(pool: Sequence[PoolSentence], lexicon: pd.DataFrame) -> list[PoolSentence]:
    found = dictionary_codes([p.sentence for p in pool], lexicon)
    return [PoolSentence(p.sentence_id, p.doc_id, p.source, p.group, p.sentence, frozenset(f)) for p, f in
            zip(pool, found)]


def draw_sample(pool: Sequence[PoolSentence], lexicon: pd.DataFrame, sizes: Mapping[str, int],
                random_share: float, random_state: int, only: Collection[str] = (),
                exclude: Collection[str] = ()) -> pd.DataFrame:
    """The sentences to code, `sizes[source]` from each source, with how each was drawn.

    Parameters
    ----------
    pool : sequence of PoolSentence
        Every sentence that may be drawn.
    lexicon : pd.DataFrame
        The lexicon whose dimensions stratify the draw (frame terms do not).
    sizes : mapping of str to int
        Sentences to draw per source ("study", "heldout"); a source with fewer gives all it has.
    random_share : float
        Share of each source's sentences drawn uniformly at random (after the stratified ones).
    random_state : int
        Seed of the draw.
    only : collection of str, optional
        Stratify by these dimensions only (a later sheet topping up dimensions an earlier one coded too
        rarely); every dimension when empty.
    exclude : collection of str, optional
        Sentence ids not to draw (those of earlier sheets, so that no sentence is coded twice).

    Returns
    -------
    pd.DataFrame
        `sentence_id, doc_id, source, group, drawn_by, sentence` in drawing order; `drawn_by` is the
        dimension whose stratum drew the sentence, or `random`.
    """
    rng = random.Random(random_state)
    pool = [p for p in _with_dims(pool, lexicon) if p.sentence_id not in set(exclude)]
    rows = []
    for source, size in sizes.items():
        part = [p for p in pool if p.source == source]
        rng.shuffle(part)
        size = min(size, len(part))
        stratified = size - round(size * random_share)
        taken: set[str] = set()
        per_group: dict[str, int] = {}
        dims = sorted({d for p in part for d in p.dims if not only or d in only})
        while len(taken) < stratified and dims:
            progressed = False
            for dim in dims:
                if len(taken) >= stratified:
                    break
                candidates = [p for p in part if dim in p.dims and p.sentence_id not in taken]
                if not candidates:
                    continue
                # Spread each stratum over places and pages: the least-drawn group first.
                pick = min(candidates, key=lambda p: per_group.get(p.group, 0))
                taken.add(pick.sentence_id)
                per_group[pick.group] = per_group.get(pick.group, 0) + 1
                rows.append((pick, dim))
                progressed = True
            if not progressed:
                break
        rest = [p for p in part if p.sentence_id not in taken]
        rows += [(p, "random") for p in rest[:size - len(taken)]]
    return pd.DataFrame([{"sentence_id": p.sentence_id, "doc_id": p.doc_id, "source": p.source, "group": p.group,
                          "drawn_by": how, "sentence": p.sentence} for p, how in rows])


def lexicon_digests(lexicon: pd.DataFrame) -> dict[str, str]:
    """A digest per dimension of its terms and variants: equal digests, the same dictionary for it.

    Parameters
    ----------
    lexicon : pd.DataFrame
        The lexicon (category, term and variants columns).

    Returns
    -------
    dict[str, str]
        Each category's 16-hex-digit SHA-256 prefix, categories sorted.
    """
    out = {}
    for dimension, part in lexicon.groupby("category", sort=True):
        entries = sorted(f"{t}|{v if isinstance(v, str) else ''}" for t, v in zip(part["term"], part["variants"]))
        out[str(dimension)] = hashlib.sha256("\n".join(entries).encode("utf-8")).hexdigest()[:16]
    return out


def coder_codebook(codebook: str, sections: Sequence[tuple[str, str]]) -> str:
    """The codebook without its generated term and concept lists (between each pair of markers), which
    would show a coder the dictionary; the markers' places say what was left out.

    Parameters
    ----------
    codebook : str
        The text of `lexicon/CODEBOOK.md`.
    sections : Sequence[tuple[str, str]]
        The start and end markers of each generated list.

    Returns
    -------
    str
        The coders' copy of the codebook.
    """
    for start, end in sections:
        a, b = codebook.find(start), codebook.find(end)
        if 0 <= a < b:
            codebook = (codebook[:a] + "(The list of dictionary terms is left out of the coders' copy.)\n"
                        + codebook[b + len(end):])
    return codebook


def study_units_of(sentences: pd.DataFrame, units: Sequence[Unit]) -> dict[str, str]:
    """The text unit (of `results/corpus/units.jsonl`) each study sentence lies in, by its article and text;
    a sentence found in no unit of its article is left out.

    Parameters
    ----------
    sentences : pd.DataFrame
        The study sentences of the sample, indexed by sentence_id, with doc_id and sentence columns.
    units : Sequence[Unit]
        The run's text units.

    Returns
    -------
    dict[str, str]
        The unit_id of each sentence_id found.
    """
    by_doc: dict[str, list[Mapping]] = {}
    for unit in units:
        by_doc.setdefault(unit["doc_id"], []).append(unit)
    out = {}
    for sentence_id, row in sentences.iterrows():
        for unit in by_doc.get(row["doc_id"], []):
            if row["sentence"].strip() and row["sentence"].strip() in unit["text"]:
                out[str(sentence_id)] = unit["unit_id"]
                break
    return out
