"""Scaled corpora resampled from the real corpus's units, written as project roots of their own."""

from __future__ import annotations

import csv
import math
import shutil
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import yaml

from pipeline.common import io
from pipeline.common.config import Paths
from pipeline.corpus.ingest import MANIFEST_COLUMNS

__all__ = ["real_articles", "synthetic_corpus", "write_project"]


def synthetic_corpus(articles: Sequence[dict[str, Any]], factor: int, articles_per_place: int,
                     seed: int) -> list[dict[str, str]]:
    """Resample real articles' units into 5·factor synthetic articles.

    Deterministic for a given seed; no two articles share a
    text (the ingestion stage refuses duplicates).

    Parameters
    ----------
    articles : Sequence[dict[str, Any]]
        One dict per real article, in manifest order, with `doc_id`, `province` and `units` (the cleaned
        unit texts).
    factor : int
        How many synthetic articles each real article yields (the scale).
    articles_per_place : int
        Synthetic articles per synthetic place.
    seed : int
        Seed of the resampling.

    Returns
    -------
    list[dict[str, str]]
        Manifest rows (doc_id, file, place, level, province, source, date, notes) with the article's `text`.

    Raises
    ------
    ValueError
        When `factor` or `articles_per_place` is below 1, a real article has no unit, or an article's units
        cannot give `factor` distinct texts.
    """
    if factor < 1 or articles_per_place < 1:
        raise ValueError("factor and articles_per_place must be positive")
    if any(not a["units"] for a in articles):
        raise ValueError("every real article needs at least one unit")
    rng = np.random.default_rng(seed)
    lengths = np.array([len(a["units"]) for a in articles])
    per_real = math.ceil(factor / articles_per_place)
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    for r, article in enumerate(articles):
        pool = list(article["units"])
        for j in range(factor):
            place = f"样本市{r * per_real + j // articles_per_place + 1:04d}"
            for _attempt in range(100):
                n = int(rng.choice(lengths))
                text = "\n".join(pool[i] for i in rng.integers(0, len(pool), size=n))
                # The ingestion stage refuses two articles whose texts agree
                # once whitespace is removed, so such a draw is redrawn.
                key = "".join(text.split())
                if key not in seen:
                    break
            else:
                raise ValueError(f"{article['doc_id']}: too few distinct units for {factor} distinct articles")
            seen.add(key)
            doc_id = f"{article['doc_id']}_{j + 1:05d}"
            rows.append({"doc_id": doc_id, "file": f"{doc_id}.txt", "place": place, "level": "city",
                         "province": article["province"], "source": "", "date": "",
                         "notes": f"resampled from the units of {article['doc_id']} (seed {seed}, factor {factor})",
                         "text": text + "\n"})
    return rows


def real_articles(units: Sequence[dict[str, Any]], manifest_rows: Sequence[dict[str, str]]) -> list[dict[str, Any]]:
    """The real articles as `synthetic_corpus` needs them, from a run's units.

    Parameters
    ----------
    units : Sequence[dict[str, Any]]
        The text units of a run on the real corpus (results/corpus/units.jsonl).
    manifest_rows : Sequence[dict[str, str]]
        The real corpus's manifest rows, in order.

    Returns
    -------
    list[dict[str, Any]]
        Per article with units, in manifest order: `doc_id`, `province` (the place when none is given) and
        `units` (the unit texts).
    """
    by_doc: dict[str, list[str]] = {}
    for unit in units:
        by_doc.setdefault(unit["doc_id"], []).append(unit["text"])
    return [{"doc_id": row["doc_id"], "province": row["province"] or row["place"], "units": by_doc[row["doc_id"]]}
            for row in manifest_rows if row["doc_id"] in by_doc]


def write_project(root: Path, source: Paths, run_params: dict[str, Any], rows: Sequence[dict[str, str]] | None,
                  with_notebooks: bool) -> Paths:
    """A project root at `root` with the given corpus (None: the real one), the
    project's lexicon, `run_params` as params.yaml, and the jieba cache.

    Parameters
    ----------
    root : Path
        The folder of the new project root (replaced when it exists).
    source : Paths
        The real project's folders, copied from.
    run_params : dict[str, Any]
        The study parameters the run uses (`scale_params`).
    rows : Sequence[dict[str, str]] or None
        The synthetic corpus's manifest rows with their texts (`synthetic_corpus`); None copies the real corpus.
    with_notebooks : bool
        Whether the notebooks are copied too (for the report task).

    Returns
    -------
    Paths
        The new project root's folders.
    """
    if root.exists():
        shutil.rmtree(root)
    target = Paths.at(root)
    target.raw.mkdir(parents=True)
    if rows is None:
        for path in sorted(source.raw.iterdir()):
            if path.is_file():
                shutil.copyfile(path, target.raw / path.name)
        shutil.copyfile(source.manifest_csv, target.manifest_csv)
    else:
        for row in rows:
            io.write_text(row["text"], target.raw / row["file"])
        with open(target.manifest_csv, "w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=MANIFEST_COLUMNS, extrasaction="ignore", lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
    shutil.copytree(source.lexicon, target.lexicon)
    # The background corpus' counts: the prior of the concept emphases.
    shutil.copytree(source.background_counts.parent, target.background_counts.parent)
    if with_notebooks and source.notebooks.exists():
        shutil.copytree(source.notebooks, target.notebooks)
    # A warm dictionary cache, as in any run after the first.
    if source.jieba_cache.exists():
        shutil.copytree(source.jieba_cache, target.jieba_cache)
    if source.artifacts.exists():
        shutil.copytree(source.artifacts, target.artifacts)
    io.write_text(yaml.safe_dump(run_params, allow_unicode=True, sort_keys=False), target.params)
    return target
