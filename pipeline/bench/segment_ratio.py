"""The speed of the study's segmentation against plain jieba, measured so that the machine's drift cancels.

Timing one side over the whole corpus and then the other compares two
moments of a shared machine as much as two programs: on the benchmark's
2-core machine the same measurement has given ratios from 0.5 to 1.1. Here
both sides run on the same slice of texts back to back, slice after slice,
in one process whose dictionaries are already loaded, and each pair gives
one ratio; drift slower than a slice (seconds) affects both sides of a pair
alike. The clock is the process's CPU time (`time.process_time`), which
other processes on the machine do not advance. The first side of each pair
alternates, so that neither side always meets the caches the other left.
The median of the pairs' ratios is the measurement; their quartiles and
range say how much it can be trusted.

What is compared (`segment_vs_raw_jieba`): our side is `segment_article`,
the study's segmentation proper of one article (units, the lexicon search,
jieba's POS route between the terms, classification of every word, place
names and lexicon coverage) with its segmenter built beforehand; the other
side is `jieba.Tokenizer().lcut(text)` on the same article text (jieba's
default dictionary and its default HMM setting). When the study's themes
ablation is on, the segmentation stage also cuts every unit with plain jieba
for the ablation's baseline tokens: that is a second full jieba pass on top
of the segmentation proper, so it is measured separately
(`segment_with_ablation_vs_raw_jieba`, with the ablation's segmenter) rather
than hidden in the first ratio. Neither includes loading the dictionaries.

The `segment_ratios` benchmark task measures both on each scale's cleaned
texts; `python -m pipeline.bench.segment_ratio --scale 100 [--ablation]`
measures them on the benchmark's resampled corpus (before cleaning) without
running the benchmark.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time
from typing import Any, Callable, Sequence

import jieba

from pipeline.bench.corpus import real_articles, synthetic_corpus
from pipeline.common import io
from pipeline.common.config import Paths
from pipeline.common.params import StudyParams, load_params
from pipeline.corpus.ingest import read_manifest
from pipeline.text.lexicon import load_lexicon
from pipeline.text.stage import build_segmenter, segment_article

__all__ = ["interleaved_ratio", "main", "scaled_jobs", "segment_vs_raw_jieba"]


def interleaved_ratio(items: Sequence[Any], ours: Callable[[Any], Any], theirs: Callable[[Any], Any],
                      slices: int = 20, repeats: int = 1,
                      clock: Callable[[], float] = time.process_time) -> dict[str, Any]:
    """Time `ours(item)` and `theirs(item)` on the same slices of `items`, alternately.

    The items are dealt round-robin into `slices` slices (so that each slice
    is a sample of the whole corpus); every slice is run by both sides back to
    back, `repeats` times over.

    Parameters
    ----------
    items : Sequence[Any]
        What both sides work on (articles, or slices of them).
    ours : Callable[[Any], Any]
        Our side, called on one item.
    theirs : Callable[[Any], Any]
        The side compared with, called on the same item.
    slices : int
        Number of slices (pairs per repeat).
    repeats : int
        How many times every slice is run by both sides.
    clock : Callable[[], float]
        The clock: process CPU time by default, wall time where the work runs in other processes.

    Returns
    -------
    dict[str, Any]
        `ratio` (the median over the pairs of theirs_seconds / ours_seconds: above 1 when ours is faster),
        `q1`, `q3`, `min`, `max`, `pairs`, `ratio_of_totals`, `ours_seconds` and `theirs_seconds` (the sums)
        and `rounds`, one record per pair (slice, repeat, which side ran first, items, each side's seconds,
        ratio).

    Raises
    ------
    ValueError
        When there is no item, or `slices` or `repeats` is below 1.
    """
    if not items:
        raise ValueError("interleaved_ratio needs at least one item to time")
    if slices < 1 or repeats < 1:
        raise ValueError("slices and repeats must be positive")
    groups = [list(items[i::slices]) for i in range(min(slices, len(items)))]

    def run(side: Callable[[Any], Any], group: list) -> float:
        start = clock()
        for item in group:
            side(item)
        return clock() - start

    rounds = []
    for repeat in range(repeats):
        for number, group in enumerate(groups):
            ours_first = (repeat * len(groups) + number) % 2 == 0
            if ours_first:
                ours_s = run(ours, group)
                theirs_s = run(theirs, group)
            else:
                theirs_s = run(theirs, group)
                ours_s = run(ours, group)
            rounds.append({"slice": number, "repeat": repeat, "first": "ours" if ours_first else "theirs",
                           "items": len(group), "ours_seconds": ours_s, "theirs_seconds": theirs_s,
                           "ratio": theirs_s / ours_s if ours_s > 0 else float("nan")})
    ratios = sorted(r["ratio"] for r in rounds)
    quartiles = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else [ratios[0]] * 3
    ours_total = sum(r["ours_seconds"] for r in rounds)
    theirs_total = sum(r["theirs_seconds"] for r in rounds)
    return {"ratio": statistics.median(ratios), "q1": quartiles[0], "q3": quartiles[2],
            "min": ratios[0], "max": ratios[-1], "pairs": len(rounds),
            "ratio_of_totals": theirs_total / ours_total if ours_total > 0 else float("nan"),
            "ours_seconds": ours_total, "theirs_seconds": theirs_total, "rounds": rounds}


def segment_vs_raw_jieba(jobs: Sequence[tuple[str, str, str]], segmenter: Any, slices: int = 20,
                         repeats: int = 1, raw_tokenizer: Any = None) -> dict[str, Any]:
    """`interleaved_ratio` of `segment_article` with `segmenter` against raw
    `jieba.Tokenizer().lcut` on the texts of (doc_id, place, text) `jobs`.

    Both sides segment one text of `jobs` first, so that every dictionary and
    table either side loads on first use is loaded before the clock runs.

    Parameters
    ----------
    jobs : Sequence[tuple[str, str, str]]
        (doc_id, place, text) of every cleaned article.
    segmenter : Any
        The study's segmenter, built beforehand (with or without the ablation's baseline cut).
    slices : int
        Number of slices of the articles.
    repeats : int
        How many times every slice is run by both sides.
    raw_tokenizer : Any
        An initialised `jieba.Tokenizer` to compare with; None builds one.

    Returns
    -------
    dict[str, Any]
        The record of `interleaved_ratio`, plus `chars` (characters segmented per pass over the jobs).
    """
    raw = raw_tokenizer
    if raw is None:
        raw = jieba.Tokenizer()
        raw.initialize()
    segment_article(*jobs[0], segmenter)
    raw.lcut(jobs[0][2])
    found = interleaved_ratio(jobs, lambda job: segment_article(*job, segmenter), lambda job: raw.lcut(job[2]),
                              slices, repeats)
    found["chars"] = sum(len(text) for _, _, text in jobs)
    return found


def scaled_jobs(paths: Any, params: StudyParams, scale: int) -> list[tuple[str, str, str]]:
    """(doc_id, place, text) of the benchmark's corpus at `scale`, resampled (as
    `make bench` resamples it) from the units of the run in `paths.results`;
    the real articles' units, one text per article, at scale 1."""
    if not paths.units_jsonl.exists():
        raise FileNotFoundError(f"{paths.units_jsonl} is missing: run the study first (python -m pipeline run)")
    manifest = read_manifest(paths.manifest_csv)
    articles = real_articles(io.read_jsonl(paths.units_jsonl), manifest)
    if scale == 1:
        places = {row["doc_id"]: row["place"] for row in manifest}
        return [(a["doc_id"], places[a["doc_id"]], "\n".join(a["units"])) for a in articles]
    rows = synthetic_corpus(articles, scale, params.bench.articles_per_place, params.bench.seed)
    return [(row["doc_id"], row["place"], row["text"].removesuffix("\n")) for row in rows]


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m pipeline.bench.segment_ratio [--scale N] [--slices N] [--repeats N] [--ablation]`."""



    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=100, help="the benchmark's scale of the corpus (1: the real one)")
    parser.add_argument("--slices", type=int, default=20, help="slices of the texts, one pair of timings each")
    parser.add_argument("--repeats", type=int, default=1, help="passes over the slices")
    parser.add_argument("--ablation", action="store_true",
                        help="include the themes ablation's plain-jieba cut in our side, as the study's stage does")
    args = parser.parse_args(argv)
    jieba.setLogLevel(logging.WARNING)
    paths = Paths.at()
    params = load_params(paths.params)
    params = params.updated({"themes": {"ablation": args.ablation}})
    segmenter = build_segmenter(paths, params, load_lexicon(paths.lexicon / "governance_terms.csv"))
    found = segment_vs_raw_jieba(scaled_jobs(paths, params, args.scale), segmenter, args.slices, args.repeats)
    name = "segment_with_ablation_vs_raw_jieba" if args.ablation else "segment_vs_raw_jieba"
    print(f"{name} at {args.scale}x ({found['chars']} characters), CPU time, interleaved: "
          f"median ratio {found['ratio']:.3f} (quartiles {found['q1']:.3f}-{found['q3']:.3f}, "
          f"range {found['min']:.3f}-{found['max']:.3f}, {found['pairs']} pairs); "
          f"ours {found['ours_seconds']:.2f} s, raw jieba {found['theirs_seconds']:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
