"""Keyword-assisted topics: one LDA topic per governance dimension of the lexicon, seeded in the prior.

Method
------
The model follows keyATM (Eshima, Imai & Sasaki 2024, AJPS) and seededlda
(Watanabe & Zhou 2022, Social Science Computer Review) with gensim's
`LdaModel` and a topics x terms prior `eta`:

* Dimensions: every `category` of lexicon/governance_terms.csv except the
  frame category (`seeded.frame_category`, `governance_frame`): its terms
  (社区, 城乡社区治理, 基层治理, 街道 ...) name the genre and its unit of
  governance in almost every sentence, so they say nothing about which
  dimension a passage is about; seeding them would make a topic of the genre.
* Seeds: a dimension's lexicon terms ranked by their count in the units
  (ties by term), kept while their share of all the units' tokens (before
  the vocabulary is pruned) exceeds
  `min_keyword_share` (keyATM's advice is more than 0.1% of the corpus: rarer
  keywords cannot shape a topic), at most `max_keywords`. A dimension without a
  seed above the floor gets no topic and is reported as not found.
* Prior: every entry of eta is `eta` (seededlda's default beta, 0.1); a
  seed's entry in its dimension's topic gets `weight` x the seed's corpus
  count added, and its entries in other topics nothing: pseudo-counts on the
  count scale of the data, as seededlda gives them (its current versions add
  the seed's count x weight x 100, with weight 0.01 by default, so weight = 1
  here is seededlda's default: a seed's prior weighs as much as its own
  occurrences). Seed terms are kept in the vocabulary even where the
  document-frequency pruning would drop them. alpha, passes, iterations and
  chunksize are the exploratory model's (`themes:`).
* Free topics: topics without seeds take up language no dimension's seeds
  reach. Their number follows the units no seed reaches: if a share f of the
  units contains no seed term, free topics get that share at the seeded
  topics' rate of units per topic, round(S x f / (1 - f)) for S seeded
  topics, within 0..`max_free`.
* Start: the first pass reads the prior (gensim's own start ignores it; see
  `fit_seeded`).
* Topics keep their index across seeds (topic k is always dimension k), so
  stability needs no matching: it is the mean Jaccard of a topic's top terms
  over all pairs of seeds. A dimension is *found* when its topic's stability
  is at least `min_stability`.
* Sensitivity: the fits are repeated with the weight multiplied by each of
  `sensitivity` (halved and doubled by default).

gensim's bound and perplexity for a matrix eta sum the prior over every
topic x term entry, so they are not comparable with the exploratory model's
and are not reported.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd

from pipeline.common.engine import pool, same
from pipeline.common.params import SeededParams
from pipeline.text.units import Unit
from pipeline.themes.params import LDA_DTYPE
from pipeline.themes.sweep import single_thread_blas

__all__ = ["choose_seeds", "dimensions", "fit_all", "fit_seeded", "FREE", "free_topic_count", "POOL_MIN_TOKENS",
           "prepare", "seed_table", "seeded_prior", "SeededFit", "SeededFitData", "SeededParams", "SeededPrep"]

FREE = "free"


def dimensions(term_categories: dict[str, str], frame_category: str) -> list[str]:
    """The lexicon's dimensions in the order of their first term, the frame excluded."""
    cats = list(dict.fromkeys(term_categories.values()))
    if frame_category not in cats:
        raise ValueError(f"themes.seeded: frame_category {frame_category!r} is not a lexicon category "
                         f"(categories: {', '.join(cats)})")
    return [c for c in cats if c != frame_category]


def choose_seeds(
    counts: dict[str, int], total: int, term_categories: dict[str, str], dims: Sequence[str], sp: SeededParams
) -> dict[str, list[tuple[str, int]]]:
    """Dimension -> [(seed term, corpus count)], most frequent first, above the share floor."""
    out: dict[str, list[tuple[str, int]]] = {}
    for dim in dims:
        terms = [t for t, c in term_categories.items() if c == dim]
        ranked = sorted(((t, counts.get(t, 0)) for t in terms), key=lambda tc: (-tc[1], tc[0]))
        out[dim] = [(t, n) for t, n in ranked if total > 0 and n / total > sp.min_keyword_share][: sp.max_keywords]
    return out


def free_topic_count(unit_texts: Sequence[Sequence[str]], seed_terms: set[str], n_seeded: int, max_free: int) -> int:
    """round(S x f / (1 - f)) within 0..max_free, f the share of units with no seed term."""
    if not unit_texts:
        return 0
    unreached = sum(1 for text in unit_texts if not seed_terms.intersection(text))
    f = unreached / len(unit_texts)
    if f >= 1.0:
        return max_free
    return int(min(max_free, max(0, math.floor(n_seeded * f / (1.0 - f) + 0.5))))


def seeded_prior(
    seeds: dict[str, list[tuple[str, int]]], topic_dims: Sequence[str], token2id: dict[str, int],
    n_terms: int, eta: float, weight: float,
) -> np.ndarray:
    """The K x V prior: eta everywhere, plus weight x count at each seed of its dimension's topic."""
    prior = np.full((len(topic_dims), n_terms), float(eta))
    for k, dim in enumerate(topic_dims):
        for term, count in seeds.get(dim, []):
            prior[k, token2id[term]] += weight * count
    return prior


@dataclass(frozen=True)
class SeededPrep:
    """Vocabulary, seeds, topics and corpus of the seeded model: the gensim Dictionary and its vocabulary,
    the units' tokens and bags of words, the lexicon's dimensions (frame excluded), each dimension's
    (seed, count) pairs, each topic's dimension (FREE for a free topic), the number of free topics, and the
    token counts before pruning."""

    dictionary: Any
    vocab: list[str]
    texts: list[list[str]]
    corpus: list[list[tuple[int, int]]]
    dimensions: list[str]
    seeds: dict[str, list[tuple[str, int]]]
    topic_dims: list[str]
    n_free: int
    total_tokens: int
    counts: dict[str, int]


@dataclass(frozen=True)
class SeededFitData:
    """What every seeded fit reads, sent once to each worker: the prepared corpus and seeds, the seeded
    parameters, the schedule and the exploratory model's alpha and chunksize; `theta_of` is the one
    (weight, seed) fit whose unit proportions are inferred (None: every fit's)."""

    dictionary: Any
    corpus: list[list[tuple[int, int]]]
    seeds: dict[str, list[tuple[str, int]]]
    topic_dims: list[str]
    sp: SeededParams
    passes: int
    iterations: int
    alpha: Any
    chunksize: int
    theta_of: tuple[float, int] | None = None


@dataclass(frozen=True)
class SeededFit:
    """One seeded fit: topics x terms weights, and units x topics proportions when they were inferred."""

    phi: np.ndarray
    theta: np.ndarray | None = None


def prepare(units: Sequence[Unit], term_categories: dict[str, str], no_below: int, no_above: float,
            sp: SeededParams) -> SeededPrep:
    """Vocabulary, seeds, topics and corpus of the seeded model.

    Parameters
    ----------
    units : sequence of dict
        The text units (their `tokens`).
    term_categories : dict
        Lexicon term -> its dimension.
    no_below, no_above : int, float
        The exploratory model's document-frequency pruning (seeds are kept).
    sp : SeededParams
        The seeded model's parameters.

    Returns
    -------
    SeededPrep
    """
    # gensim (~2.5 s) is loaded only when a model is fitted
    from gensim.corpora import Dictionary

    texts = [list(u["tokens"]) for u in units]
    dictionary = Dictionary(texts)
    counts = {dictionary[i]: int(n) for i, n in dictionary.cfs.items()}
    total = int(dictionary.num_pos)
    dims = dimensions(term_categories, sp.frame_category)
    seeds = choose_seeds(counts, total, term_categories, dims, sp)
    seed_terms = sorted({t for s in seeds.values() for t, _ in s})
    dictionary.filter_extremes(no_below=no_below, no_above=no_above, keep_n=None, keep_tokens=seed_terms)
    seeded_dims = [d for d in dims if seeds[d]]
    if not seeded_dims:
        raise ValueError(
            f"themes.seeded: no lexicon term reaches min_keyword_share={sp.min_keyword_share} of the units' "
            f"{total} tokens; lower min_keyword_share"
        )
    n_free = free_topic_count(texts, set(seed_terms), len(seeded_dims), sp.max_free)
    topic_dims = seeded_dims + [FREE] * n_free
    vocab = [dictionary[i] for i in range(len(dictionary))]
    return SeededPrep(dictionary=dictionary, vocab=vocab, texts=texts, corpus=[dictionary.doc2bow(t) for t in texts],
                      dimensions=dims, seeds=seeds, topic_dims=topic_dims, n_free=n_free, total_tokens=total,
                      counts=counts)


def fit_seeded(data: SeededFitData, weight: float, seed: int) -> SeededFit:
    """One seeded fit: topics x terms weights, and units x topics proportions for the fit named in
    `data.theta_of` (weight, seed) or for every fit when it is None.

    Only the main fit's proportions enter a table; the other fits are compared
    by their topics, and inferring every unit's proportions costs as much as
    a pass over the corpus."""
    # gensim (~2.5 s) is loaded only when a model is fitted
    from gensim.models import LdaModel

    sp = data.sp
    dictionary = data.dictionary
    prior = seeded_prior(data.seeds, data.topic_dims, dictionary.token2id, len(dictionary), sp.eta, weight)
    with single_thread_blas():
        model = LdaModel(
            corpus=None, id2word=dictionary, num_topics=len(data.topic_dims), passes=data.passes,
            iterations=data.iterations, alpha=data.alpha, eta=prior, chunksize=data.chunksize,
            random_state=seed, eval_every=None, update_every=1, dtype=LDA_DTYPE,
        )
        # gensim's first E-step reads its random initial counts without the
        # prior, so the seeds would only act from the second pass, after the
        # random start has already grouped the words into topics; the topics
        # start instead from prior + random counts, as seededlda starts from
        # the seeds' assignments.
        model.sync_state()
        model.update(data.corpus)
        phi = model.get_topics().astype(np.float64)
        if data.theta_of not in (None, (weight, seed)):
            if not np.isfinite(phi).all():
                raise FloatingPointError(f"themes.seeded: the fit with weight={weight}, seed={seed} is not finite")
            return SeededFit(phi)
        gamma, _ = model.inference(data.corpus)
    gamma = np.asarray(gamma, dtype=np.float64)
    theta = gamma / gamma.sum(axis=1, keepdims=True)
    if not (np.isfinite(phi).all() and np.isfinite(theta).all()):
        raise FloatingPointError(f"themes.seeded: the fit with weight={weight}, seed={seed} is not finite")
    return SeededFit(phi, theta)


def _job(job: tuple[float, int], data: SeededFitData) -> SeededFit:
    return fit_seeded(data, *job)


# Below this many modelled tokens the fits run in this process: handing them
# to workers (each importing gensim) costs more than the fits. Measured on
# the five articles (2,112 tokens, 13 topics, 9 fits): 5.3 s serially against
# 13.6 s with two workers.
POOL_MIN_TOKENS = 20_000


def fit_all(data: SeededFitData, jobs: Sequence[tuple[float, int]], processes: int) -> list[SeededFit]:
    """Every (weight, seed) fit, in job order; the same numbers serially or on the run's dask workers.

    Parameters
    ----------
    data : SeededFitData
        What every fit reads.
    jobs : sequence of (float, int)
        The (weight, seed) of each fit.
    processes : int
        Workers to use; small corpora run in this process (`POOL_MIN_TOKENS`).

    Returns
    -------
    list of SeededFit
        In the order of `jobs`.
    """
    tokens = sum(c for bow in data.corpus for _, c in bow)
    if processes <= 1 or len(jobs) <= 1 or tokens < POOL_MIN_TOKENS:
        processes = 1
    with pool(same, (data,), processes) as workers:
        return workers.submit(_job, jobs, "themes: seeded fits")()


def seed_table(prep: SeededPrep, sp: SeededParams) -> pd.DataFrame:
    """Every dimension's seeds (or its lack of one) with counts and token shares.

    Parameters
    ----------
    prep : SeededPrep
        The seeded model's vocabulary, seeds, topics and corpus.
    sp : SeededParams
        The keyword-assisted model's parameters (the seeds' weight).

    Returns
    -------
    pd.DataFrame
        One row per dimension and seed (one empty row for a dimension without seeds): topic, rank, term,
        count, token share and pseudo-count.
    """
    rows = []
    total = prep.total_tokens
    topic_of = {d: k + 1 for k, d in enumerate(prep.topic_dims) if d != FREE}
    for dim in prep.dimensions:
        for rank, (term, n) in enumerate(prep.seeds[dim], start=1):
            rows.append({"dimension": dim, "topic": topic_of.get(dim), "rank": rank, "term": term, "count": n,
                         "share": n / total, "pseudo_count": sp.weight * n})
        if not prep.seeds[dim]:
            rows.append({"dimension": dim, "topic": None, "rank": None, "term": "", "count": 0, "share": 0.0,
                         "pseudo_count": 0.0})
    return pd.DataFrame(rows)
