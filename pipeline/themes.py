"""Shared themes: LDA over text units, the choice of K, stability across seeds,
and topic prevalence by place with bootstrap intervals.

Method
------
* Topics: latent Dirichlet allocation (Blei, Ng & Jordan 2003) fitted with
  gensim's online variational Bayes (Hoffman, Blei & Bach 2010). Only the
  single-process `LdaModel` is used, always with an explicit `random_state`:
  `LdaMulticore` interleaves its workers' updates and is not reproducible.
* Choice of K: every K in `k_min..k_max` is fitted once per seed on a training
  split of the units. Each (K, seed) run is scored by coherence of its top
  terms (c_v and c_npmi, Röder, Both & Hinneburg 2015; u_mass, Mimno et al.
  2011), by held-out perplexity (`2 ** -log_perplexity` on units held out by a
  seeded split, stratified by place), and by stability: the mean agreement of
  its topics with the runs of the other seeds at the same K, after matching
  topics one-to-one with the Hungarian method on the Jaccard similarity of
  their top-term sets (Greene, O'Callaghan & Cunningham 2014; this is the
  rank-insensitive variant of their average-Jaccard agreement, which keeps
  agreement from turning on near-tied weights).
  Rule (`choose_k`): among the K whose mean stability across seeds is at least
  `min_stability`, take the highest mean c_v; every K whose mean c_v is within
  `cv_tolerance` of that best counts as tied, and ties go to the smaller K.
  If no K is stable enough, the most stable K is taken (ties to the smaller K)
  and the reason says so.
* Final model: fitted on all units at the chosen K with `final_seed`. Topics
  are numbered 1..K (1-based everywhere: tables, figures and the LDAvis page)
  in decreasing order of corpus-wide prevalence (share of all modelled
  tokens). Unit-topic proportions are the normalised variational posterior of
  every unit (what `get_document_topics(minimum_probability=0)` returns, without
  its silent floor of 1e-8 that would drop tiny proportions).
* Labels: each topic gets a suggested label from the governance lexicon: the
  category holding the largest summed weight among the topic's top terms,
  then its two top terms ("digital_governance: 智慧社区/网格"); a topic with no
  lexicon term among its top terms is labelled "no_category: 甲/乙". A
  researcher's labels replace the suggestions through `lexicon/topic_labels.csv`
  (columns `topic,label`; header only when there are no overrides; `topic` is
  the 1-based number in `results/tables/topics.csv`). An override belongs to
  one fitted model: after a change of data or parameters the numbering may
  change, so `topic_roles` keeps the `suggested_label` beside the label in use,
  and an override naming a topic beyond K stops the run.
* Prevalence by place: a place's share of a topic is the token-weighted mean
  of its units' topic proportions, i.e. the expected share of the place's
  modelled tokens drawn from the topic (weighting keeps a short fragment from
  counting as much as a full paragraph). Shares sum to 1 within a place. 95%
  intervals are percentile bootstrap intervals resampling units within place
  (seeded per place from `bootstrap_seed` and the place's name, so adding a
  place leaves the other places' intervals unchanged); an interval is widened
  to include its share where the percentile interval of a skewed bootstrap
  distribution would miss it. Units of one article are not independent, so
  with one article per place these intervals are optimistic: they describe
  variation across the article's passages, not across articles.
* Roles: a topic is *present* in a place when the lower 95% bound of its share
  is at least `presence_floor`; it is *shared* when present in at least
  `shared_min_places` places (capped at the number of places) and *specific*
  otherwise. With five places of which three are in Anhui, the default of four
  places means a shared topic always reaches beyond Anhui.
* Cross-checks: NMF (scikit-learn, TF-IDF of the same units over the same
  vocabulary, same K, `init='nndsvd'`) matched to the LDA topics by the
  Hungarian method on top-term Jaccard; and an ablation that repeats the K
  sweep on plain jieba tokens. Coherence depends on the vocabulary it is
  computed over, so the two segmentations' coherence values are compared as
  profiles across K, not as absolute levels.

Everything here is a pure function of its arguments; the runner reads the
override file with `load_topic_labels` and writes the returned tables.
Floats in the tables are rounded to six significant digits and term ranks are
sorted by rounded weight, then term, so that last-bit differences of BLAS
arithmetic between machines cannot reorder terms or change labels.
"""

from __future__ import annotations

import contextlib
import csv
import math
import warnings
import zlib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np
import pandas as pd

from pipeline.errors import InputError

SIG_DIGITS = 6
NO_CATEGORY = "no_category"
SEGMENTATIONS = ("lexicon", "plain")
TOKEN_FIELD = {"lexicon": "tokens", "plain": "plain_tokens"}
LDAVIS_DIV_ID = "ldavis-themes"


# --------------------------------------------------------------------------
# parameters


@dataclass(frozen=True)
class ThemeParams:
    """The `themes:` section of params.yaml, checked."""

    k_min: int
    k_max: int
    seeds: tuple[int, ...]
    final_seed: int
    passes: int
    iterations: int
    alpha: Any
    eta: Any
    chunksize: int
    no_below: int
    no_above: float
    holdout_fraction: float
    split_seed: int
    topn_terms: int
    min_stability: float
    cv_tolerance: float
    presence_floor: float
    shared_min_places: int
    bootstrap_samples: int
    bootstrap_seed: int
    nmf_close_jaccard: float
    nmf_max_iter: int
    nmf_seed: int
    ablation: bool
    ldavis_terms: int
    processes: int

    @classmethod
    def from_dict(cls, params: dict[str, Any]) -> "ThemeParams":
        names = list(cls.__dataclass_fields__)
        missing = [n for n in names if n not in params]
        if missing:
            raise ValueError(f"themes parameters lack {', '.join(missing)}; copy them from the project's params.yaml")
        unknown = sorted(set(params) - set(names))
        if unknown:
            raise ValueError(f"themes parameters has unknown key(s) {', '.join(unknown)}")
        values = {n: params[n] for n in names}
        values["seeds"] = tuple(int(s) for s in params["seeds"])
        p = cls(**values)
        p._check()
        return p

    def _check(self) -> None:
        problems = []
        if not 2 <= self.k_min <= self.k_max:
            problems.append("need 2 <= k_min <= k_max")
        if len(set(self.seeds)) < 2 or len(set(self.seeds)) != len(self.seeds):
            problems.append("seeds must be at least two distinct integers (stability compares seeds)")
        if not 0.0 <= self.holdout_fraction < 1.0:
            problems.append("holdout_fraction must be in [0, 1)")
        if self.topn_terms < 2:
            problems.append("topn_terms must be at least 2")
        if self.processes < 1:
            problems.append("processes must be at least 1")
        if self.bootstrap_samples < 1:
            problems.append("bootstrap_samples must be at least 1")
        if self.shared_min_places < 1:
            problems.append("shared_min_places must be at least 1")
        if problems:
            raise ValueError("themes parameters: " + "; ".join(problems))


# --------------------------------------------------------------------------
# small numeric helpers


def round_sig(values, digits: int = SIG_DIGITS):
    """Round to `digits` significant digits (array or scalar); NaN stays NaN."""
    arr = np.asarray(values, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        mags = np.where(arr == 0, 0, np.floor(np.log10(np.abs(arr))))
    exps = digits - 1 - np.where(np.isfinite(mags), mags, 0)
    # Scaling only by exact powers of ten (multiplying for small values,
    # dividing for large ones) makes the result the double nearest the
    # rounded decimal, so values that round alike become identical floats and
    # ties after rounding are exact.
    up = 10.0 ** np.clip(exps, 0, None)
    down = 10.0 ** np.clip(-exps, 0, None)
    out = np.round(arr * up / down) * down / up
    return out if arr.shape else float(out)


def _round_frame(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    for col in frame.columns:
        if pd.api.types.is_float_dtype(frame[col]):
            frame[col] = round_sig(frame[col].to_numpy())
    return frame


def top_terms(weights: np.ndarray, vocab: Sequence[str], topn: int) -> list[tuple[str, float]]:
    """The `topn` heaviest terms of one weight vector, by rounded weight then term.

    Sorting on the rounded weight makes near-ties (which BLAS noise could flip)
    exact ties, broken by the term itself.
    """
    w = round_sig(np.asarray(weights, dtype=np.float64))
    topn = min(topn, len(w))
    if topn == 0:
        return []
    cutoff = np.partition(w, len(w) - topn)[len(w) - topn]
    candidates = np.flatnonzero(w >= cutoff)
    ranked = sorted(candidates, key=lambda i: (-w[i], vocab[i]))[:topn]
    return [(vocab[i], float(w[i])) for i in ranked]


def jaccard(a: Iterable[str], b: Iterable[str]) -> float:
    a, b = set(a), set(b)
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def match_topics(terms_a: Sequence[Sequence[str]], terms_b: Sequence[Sequence[str]]) -> list[tuple[int, int, float]]:
    """One-to-one matching of two topic lists maximising total top-term Jaccard.

    Returns (index in a, index in b, Jaccard) for every matched pair, ordered
    by the index in a (Hungarian method, `scipy.optimize.linear_sum_assignment`).
    """
    from scipy.optimize import linear_sum_assignment

    if not terms_a or not terms_b:
        return []
    sim = np.array([[jaccard(a, b) for b in terms_b] for a in terms_a])
    rows, cols = linear_sum_assignment(sim, maximize=True)
    return sorted((int(r), int(c), float(sim[r, c])) for r, c in zip(rows, cols))


def agreement(terms_a: Sequence[Sequence[str]], terms_b: Sequence[Sequence[str]]) -> float:
    """Mean top-term Jaccard of matched topics: 1 for identical topic sets, in any order."""
    pairs = match_topics(terms_a, terms_b)
    return float(np.mean([s for _, _, s in pairs])) if pairs else float("nan")


# --------------------------------------------------------------------------
# data preparation


def _check_units(units: Sequence[dict[str, Any]], field: str) -> None:
    if not units:
        raise ValueError("themes: no text units to model")
    needed = ("unit_id", "doc_id", "place", field)
    for unit in units:
        lacking = [k for k in needed if k not in unit]
        if lacking:
            raise ValueError(f"themes: unit {unit.get('unit_id', '?')} lacks {', '.join(lacking)}")
    ids = [u["unit_id"] for u in units]
    if len(set(ids)) != len(ids):
        raise ValueError("themes: unit_id values are not unique")


def place_order(units: Sequence[dict[str, Any]]) -> list[str]:
    """Places in order of first appearance (the manifest's order when units follow it)."""
    return list(dict.fromkeys(u["place"] for u in units))


def split_units(units: Sequence[dict[str, Any]], fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """Seeded train / held-out split of unit indices, stratified by place.

    Each place keeps at least one training unit; a place holds out
    round(fraction x its units). Stratifying keeps every place's language in
    both parts, so held-out perplexity is not a test of an unseen place.
    """
    rng = np.random.default_rng(seed)
    held: list[int] = []
    for place in place_order(units):
        idx = [i for i, u in enumerate(units) if u["place"] == place]
        n_hold = min(math.floor(fraction * len(idx) + 0.5), len(idx) - 1)
        if n_hold > 0:
            held.extend(int(i) for i in rng.permutation(idx)[:n_hold])
    held_set = set(held)
    return [i for i in range(len(units)) if i not in held_set], sorted(held_set)


def build_dictionary(texts: Sequence[Sequence[str]], no_below: int, no_above: float):
    from gensim.corpora import Dictionary

    dictionary = Dictionary(texts)
    dictionary.filter_extremes(no_below=no_below, no_above=no_above, keep_n=None)
    if len(dictionary) == 0:
        raise ValueError(
            f"themes: no term survives filter_extremes(no_below={no_below}, no_above={no_above}); "
            "lower no_below or raise no_above"
        )
    return dictionary


def _vocab(dictionary) -> list[str]:
    return [dictionary[i] for i in range(len(dictionary))]


# --------------------------------------------------------------------------
# model fitting (shared by the serial path and the worker processes)


def fit_lda(corpus, dictionary, k: int, seed: int, p: ThemeParams):
    """One LDA fit; `eval_every=None` because gensim's periodic perplexity
    evaluation would draw from the model's random state and cost a pass."""
    from gensim.models import LdaModel

    return LdaModel(
        corpus=corpus,
        id2word=dictionary,
        num_topics=k,
        passes=p.passes,
        iterations=p.iterations,
        alpha=p.alpha,
        eta=p.eta,
        chunksize=p.chunksize,
        random_state=seed,
        eval_every=None,
        update_every=1,
    )


@contextlib.contextmanager
def single_thread_blas() -> Iterator[None]:
    """One BLAS thread, so that a computation gives the same numbers in this
    process, in a worker, and on machines with more cores.

    Some OpenBLAS kernels also leave the CPU's invalid-operation flag set after
    a clean product, so numpy warns "invalid value encountered in dot" with
    nothing invalid in the result; that warning is silenced here and the
    callers check their results for non-finite values instead.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="invalid value encountered in dot", category=RuntimeWarning)
        yield


def _fit_job(data: dict[str, Any], job: tuple[str, str, int, int]) -> dict[str, Any]:
    """Fit one (segmentation, part, K, seed) model and summarise it."""
    segmentation, part, k, seed = job
    seg = data[segmentation]
    p: ThemeParams = data["params"]
    with single_thread_blas():
        model = fit_lda(seg[part], seg["dictionary"], k, seed, p)
        phi = model.get_topics()
        perplexity = float("nan")
        if part == "train" and seg["held"]:
            perplexity = float(2.0 ** (-model.log_perplexity(seg["held"])))
    if not np.isfinite(phi).all():
        raise FloatingPointError(f"themes: LDA with K={k}, seed={seed} ({segmentation}) produced non-finite topics")
    tops = [top_terms(row, seg["vocab"], p.topn_terms) for row in phi]
    return {"job": job, "tops": tops, "perplexity": perplexity}


def _coherence_job(data: dict[str, Any], job: tuple[str, str, tuple[tuple[str, ...], ...]]) -> list[float]:
    segmentation, measure, topics = job
    seg = data[segmentation]
    with single_thread_blas():
        return coherence_scores(
            topics, measure, seg["train_texts"], seg["train"], seg["dictionary"], data["params"].topn_terms
        )


def _run_task(data: dict[str, Any], task: tuple[str, tuple]) -> Any:
    kind, job = task
    return _fit_job(data, job) if kind == "fit" else _coherence_job(data, job)


_WORKER_DATA: dict[str, Any] = {}


def _init_worker(data: dict[str, Any]) -> None:
    # The corpus travels once per worker instead of once per job.
    _WORKER_DATA.clear()
    _WORKER_DATA.update(data)


def _worker_task(task: tuple[str, tuple]) -> Any:
    return _run_task(_WORKER_DATA, task)


@contextlib.contextmanager
def job_pool(data: dict[str, Any], processes: int) -> Iterator[ProcessPoolExecutor | None]:
    """A process pool holding `data` in every worker, or None to run serially.

    Workers are spawned, not forked: forking a process whose BLAS threads are
    running can deadlock the child. Spawned workers import the main module, so
    a script that runs this stage with processes > 1 must guard its entry
    point with `if __name__ == "__main__":` (`python -m pipeline`, the console
    script, pytest and notebooks need nothing).
    """
    if processes <= 1:
        yield None
        return
    with ProcessPoolExecutor(
        max_workers=processes, mp_context=get_context("spawn"), initializer=_init_worker, initargs=(data,)
    ) as pool:
        yield pool


def submit_tasks(
    data: dict[str, Any], tasks: Sequence[tuple[str, tuple]], pool: ProcessPoolExecutor | None
) -> Callable[[], list[Any]]:
    """Start tasks ("fit" or "coherence"); the returned function waits and
    gives their results in task order.

    Serial runs are deferred to the call, so work done in between (the final
    model) overlaps with the pool's tasks only when there is a pool. Tasks are
    submitted by decreasing expected cost (larger K, larger coherence batch)
    so that no worker is left with one long task at the end.
    """
    if pool is None:
        return lambda: [_run_task(data, task) for task in tasks]

    def cost(i: int) -> tuple[int, int]:
        kind, job = tasks[i]
        return (-len(job[2]) if kind == "coherence" else -job[2], i)

    futures = {i: pool.submit(_worker_task, tasks[i]) for i in sorted(range(len(tasks)), key=cost)}
    return lambda: [futures[i].result() for i in range(len(tasks))]


def sweep_coherence(
    data: dict[str, Any],
    results: Sequence[dict[str, Any]],
    segmentations: Sequence[str],
    pool: ProcessPoolExecutor | None,
) -> dict[str, dict[str, dict[tuple[int, tuple[str, ...]], float]]]:
    """Coherence of every distinct sweep topic: segmentation -> measure -> (K, topic) -> score.

    One batch per segmentation, measure and K (the distinct topics of that K's
    runs): the batches, and so the scores to the last bit, are the same
    whether they run serially or in any number of workers.
    """
    tasks, keys = [], []
    for s in segmentations:
        for k in sorted({r["job"][2] for r in results if r["job"][0] == s}):
            topics = tuple(
                sorted(
                    {
                        tuple(t for t, _ in topic)
                        for r in results
                        if r["job"][0] == s and r["job"][2] == k
                        for topic in r["tops"]
                    }
                )
            )
            for measure in COHERENCE_MEASURES:
                tasks.append(("coherence", (s, measure, topics)))
                keys.append((s, measure, k, topics))
    values = submit_tasks(data, tasks, pool)()
    scores: dict[str, dict[str, dict[tuple[int, tuple[str, ...]], float]]] = {
        s: {m: {} for m in COHERENCE_MEASURES} for s in segmentations
    }
    for (s, measure, k, topics), vals in zip(keys, values):
        scores[s][measure].update(((k, t), v) for t, v in zip(topics, vals))
    return scores


# --------------------------------------------------------------------------
# the K sweep


def _segmentation_data(units, field: str, train_idx, held_idx, p: ThemeParams) -> dict[str, Any]:
    """Corpora for one segmentation.

    The sweep's dictionary is built from the training units only, so that the
    held-out units are unseen text (their out-of-vocabulary words are dropped,
    as usual for held-out likelihood). The final model's dictionary covers all
    units.
    """
    texts = [list(u[field]) for u in units]
    train_texts = [texts[i] for i in train_idx]
    train_dict = build_dictionary(train_texts, p.no_below, p.no_above)
    full_dict = build_dictionary(texts, p.no_below, p.no_above)
    return {
        "sweep": {
            "dictionary": train_dict,
            "vocab": _vocab(train_dict),
            "train": [train_dict.doc2bow(t) for t in train_texts],
            "held": [train_dict.doc2bow(texts[i]) for i in held_idx],
            "train_texts": train_texts,
        },
        "full": {
            "dictionary": full_dict,
            "vocab": _vocab(full_dict),
            "all": [full_dict.doc2bow(t) for t in texts],
        },
    }


COHERENCE_MEASURES = ("c_v", "c_npmi", "u_mass")


def coherence_scores(
    topics: Sequence[Sequence[str]], measure: str, texts, corpus, dictionary, topn: int
) -> list[float]:
    """Coherence of each topic (a list of terms) under one measure.

    Many topics go into one CoherenceModel, so the co-occurrence counts are
    accumulated once per batch rather than once per topic. A topic's score
    depends on its batch only in the last bits (the order of floating-point
    sums follows the batch's vocabulary), so the sweep forms its batches by a
    fixed rule that does not depend on the number of processes.
    """
    from gensim.models import CoherenceModel

    if not topics:
        return []
    topics = [list(t)[:topn] for t in topics]
    source = {"corpus": corpus} if measure == "u_mass" else {"texts": texts}
    model = CoherenceModel(
        topics=[list(t) for t in topics],
        dictionary=dictionary,
        coherence=measure,
        # Topics arrive already cut to their top terms; a batch-wide topn would
        # cut every topic to the shortest one's length and make a topic's score
        # depend on its batch.
        topn=max(len(t) for t in topics),
        processes=1,
        **source,
    )
    segmented = model.measure.seg(model.topics)
    model.estimate_probabilities(segmented)
    _dense_co_occurrences(model._accumulator)
    return [float(v) for v in model.get_coherence_per_topic(segmented)]


def _dense_co_occurrences(accumulator) -> None:
    """Hold a sliding-window accumulator's co-occurrence counts as a dense array.

    gensim keeps them in a scipy sparse matrix over the batch's top terms
    only (a few hundred), and the confirmation measures then read it one
    element at a time, which costs most of the coherence time. A dense array
    holds the same uint32 counts, so every score is unchanged
    (`tests/test_themes.py` compares both); accumulators of other kinds are
    left alone.
    """
    import scipy.sparse

    counts = getattr(accumulator, "_co_occurrences", None)
    if counts is not None and scipy.sparse.issparse(counts):
        accumulator._co_occurrences = counts.toarray()


def sweep_table(
    results: Sequence[dict[str, Any]], scores: dict[str, dict[tuple[str, ...], float]], seeds: Sequence[int]
) -> pd.DataFrame:
    """The k_selection table (one row per K x seed) of one segmentation's sweep.

    `scores[measure][(K, topic terms)]` is the coherence of each distinct
    topic; a run's coherence is the mean over its topics.
    """
    runs = {(r["job"][2], r["job"][3]): [[t for t, _ in topic] for topic in r["tops"]] for r in results}
    rows = []
    for r in results:
        k, seed = r["job"][2], r["job"][3]
        terms = runs[(k, seed)]
        others = [agreement(terms, runs[(k, s)]) for s in seeds if s != seed]
        row = {"k": k, "seed": seed}
        for measure in COHERENCE_MEASURES:
            row[measure] = float(np.mean([scores[measure][(k, tuple(t))] for t in terms]))
        row["perplexity"] = r["perplexity"]
        row["stability"] = float(np.mean(others))
        rows.append(row)
    table = pd.DataFrame(rows).sort_values(["k", "seed"], kind="stable").reset_index(drop=True)
    return _round_frame(table)


def summarise_sweep(k_selection: pd.DataFrame) -> pd.DataFrame:
    """Mean and spread across seeds for each K."""
    g = k_selection.groupby("k", sort=True)
    out = pd.DataFrame(
        {
            "k": sorted(k_selection["k"].unique()),
            "seeds": g.size().to_numpy(),
            "c_v_mean": g["c_v"].mean().to_numpy(),
            "c_v_sd": g["c_v"].std(ddof=1).to_numpy(),
            "c_npmi_mean": g["c_npmi"].mean().to_numpy(),
            "u_mass_mean": g["u_mass"].mean().to_numpy(),
            "perplexity_mean": g["perplexity"].mean().to_numpy(),
            "stability_mean": g["stability"].mean().to_numpy(),
            "stability_sd": g["stability"].std(ddof=1).to_numpy(),
        }
    )
    return _round_frame(out)


def choose_k(k_selection: pd.DataFrame, min_stability: float, cv_tolerance: float = 0.0) -> tuple[int, str]:
    """The documented K rule; returns (K, reason as text).

    Among K with mean stability >= `min_stability`, the highest mean c_v;
    every K within `cv_tolerance` of that best counts as tied and the smallest
    tied K wins. Without any stable K, the most stable K (ties to the smaller).
    Means are rounded to six significant digits first so that ties are exact.
    """
    summary = summarise_sweep(k_selection)
    cv = dict(zip(summary["k"], summary["c_v_mean"]))
    stab = dict(zip(summary["k"], summary["stability_mean"]))
    eligible = [k for k in summary["k"] if np.isfinite(stab[k]) and stab[k] >= min_stability]
    if eligible:
        finite = [k for k in eligible if np.isfinite(cv[k])]
        if not finite:
            k = int(min(eligible))
            return k, f"K={k}: no K had a finite mean c_v; smallest K with mean stability >= {min_stability:g}"
        best = max(cv[k] for k in finite)
        tied = [k for k in finite if cv[k] >= best - cv_tolerance]
        k = int(min(tied))
        if cv_tolerance > 0:
            tol = f" (K within {cv_tolerance:g} of the best mean c_v, {best:.3f}, count as tied; the smallest is taken)"
        else:
            tol = " (ties go to the smaller K)"
        return k, (
            f"K={k}: highest mean c_v ({cv[k]:.3f}) among K with mean stability across seeds >= "
            f"{min_stability:g} (eligible K: {', '.join(str(int(e)) for e in eligible)}){tol}; "
            f"its mean stability is {stab[k]:.3f}"
        )
    ranked = sorted((k for k in summary["k"] if np.isfinite(stab[k])), key=lambda k: (-stab[k], k))
    if not ranked:
        raise ValueError("themes: no K has a finite stability; check seeds and the corpus")
    k = int(ranked[0])
    return k, (
        f"K={k}: no K reached mean stability {min_stability:g}; the most stable K was taken "
        f"(mean stability {stab[k]:.3f}, mean c_v {cv[k]:.3f}); treat its topics as tentative"
    )


# --------------------------------------------------------------------------
# labels


def suggest_label(topic_top: Sequence[tuple[str, float]], term_categories: dict[str, str]) -> str:
    """Lexicon category with the largest summed top-term weight, plus the top two terms."""
    weight: dict[str, float] = {}
    for term, w in topic_top:
        cat = term_categories.get(term)
        if cat:
            weight[cat] = weight.get(cat, 0.0) + w
    terms = "/".join(t for t, _ in topic_top[:2])
    if not weight:
        return f"{NO_CATEGORY}: {terms}"
    rounded = {c: float(round_sig(w)) for c, w in weight.items()}
    category = min(rounded, key=lambda c: (-rounded[c], c))
    return f"{category}: {terms}"


def load_topic_labels(path: Path) -> dict[int, str]:
    """Read researcher overrides of topic labels (CSV with header `topic,label`)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(path, "topic-label overrides not found; create it with the header line `topic,label`") from None
    rows = list(csv.reader(text.splitlines()))
    if not rows or [c.strip() for c in rows[0]] != ["topic", "label"]:
        raise InputError(path, "first line must be the header `topic,label`")
    labels: dict[int, str] = {}
    for line_no, row in enumerate(rows[1:], start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != 2:
            raise InputError(path, f"line {line_no}: expected two columns (topic,label), got {len(row)}")
        topic, label = row[0].strip(), row[1].strip()
        if not topic.isdigit() or int(topic) < 1:
            raise InputError(path, f"line {line_no}: topic must be a 1-based topic number, got {topic!r}")
        if not label:
            raise InputError(path, f"line {line_no}: empty label for topic {topic}")
        if int(topic) in labels:
            raise InputError(path, f"line {line_no}: topic {topic} is labelled twice")
        labels[int(topic)] = label
    return labels


def apply_labels(suggested: dict[int, str], overrides: dict[int, str]) -> dict[int, str]:
    beyond = sorted(t for t in overrides if t not in suggested)
    if beyond:
        raise ValueError(
            f"themes: topic-label overrides name topic(s) {', '.join(map(str, beyond))} but the model has "
            f"{len(suggested)} topics; update lexicon/topic_labels.csv to the current topics.csv"
        )
    return {t: overrides.get(t, label) for t, label in suggested.items()}


# --------------------------------------------------------------------------
# prevalence by place


def _place_seed(seed: int, place: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(place.encode("utf-8"))])


def place_shares(
    theta: np.ndarray,
    lengths: np.ndarray,
    places: Sequence[str],
    samples: int,
    seed: int,
) -> pd.DataFrame:
    """Token-weighted topic shares per place with 95% bootstrap intervals.

    `theta` is units x topics (rows sum to 1), `lengths` the units' modelled
    token counts, `places` each unit's place. Topics are numbered 1..K.
    Resampling draws multinomial counts of units (equivalent to drawing units
    with replacement), which needs samples x units memory, not
    samples x units x topics.
    """
    theta = np.asarray(theta, dtype=np.float64)
    lengths = np.asarray(lengths, dtype=np.float64)
    places = list(places)
    k = theta.shape[1]
    rows = []
    for place in dict.fromkeys(places):
        idx = np.array([i for i, p in enumerate(places) if p == place])
        th, w = theta[idx], lengths[idx]
        if w.sum() <= 0:
            # No modelled token at all: every unit counts equally.
            w = np.ones_like(w)
        share = (w @ th) / w.sum()
        n = len(idx)
        rng = _place_seed(seed, place)
        counts = rng.multinomial(n, np.full(n, 1.0 / n), size=samples).astype(np.float64)
        den = counts @ w
        num = counts @ (w[:, None] * th)
        unweighted = counts @ th / n
        boot = np.where(den[:, None] > 0, num / np.where(den > 0, den, 1.0)[:, None], unweighted)
        low, high = np.quantile(boot, [0.025, 0.975], axis=0)
        for t in range(k):
            rows.append(
                {
                    "place": place,
                    "topic": t + 1,
                    "share": share[t],
                    "ci_low": min(low[t], share[t]),
                    "ci_high": max(high[t], share[t]),
                    "units": n,
                    "tokens": int(lengths[idx].sum()),
                }
            )
    return _round_frame(pd.DataFrame(rows))


def topic_roles(
    place_topics: pd.DataFrame,
    labels: dict[int, str],
    suggested: dict[int, str],
    prevalence: dict[int, float],
    stability: dict[int, float],
    presence_floor: float,
    shared_min_places: int,
) -> pd.DataFrame:
    """Shared or specific, with the evidence spelled out in numbers."""
    n_places = place_topics["place"].nunique()
    need = min(shared_min_places, n_places)
    rows = []
    for topic in sorted(labels):
        sub = place_topics[place_topics["topic"] == topic].sort_values(["share", "place"], ascending=[False, True])
        present = sub[sub["ci_low"] >= presence_floor]
        role = "shared" if len(present) >= need else "specific"
        places = list(present["place"]) if len(present) else [sub.iloc[0]["place"]]
        detail = "; ".join(f"{r.place} {r.share:.2f} [{r.ci_low:.2f}, {r.ci_high:.2f}]" for r in sub.itertuples())
        if len(present):
            head = (
                f"present (lower 95% bound of share >= {presence_floor:g}) in {len(present)} of {n_places} places"
                f" (shared needs {need})"
            )
        else:
            head = (
                f"present in no place (no lower 95% bound reaches {presence_floor:g}); "
                f"largest share in {places[0]}"
            )
        rows.append(
            {
                "topic": topic,
                "label": labels[topic],
                "role": role,
                "places": ";".join(places),
                "evidence": f"{head}; share [95% CI] by place: {detail}; corpus-wide prevalence "
                f"{prevalence[topic]:.3f}; stability across seeds {stability[topic]:.2f}",
                "places_present": len(present),
                "prevalence": prevalence[topic],
                "stability": stability[topic],
                "suggested_label": suggested[topic],
            }
        )
    return _round_frame(pd.DataFrame(rows))


# --------------------------------------------------------------------------
# cross-check: NMF


def _count_matrix(corpus, n_terms: int):
    from scipy.sparse import csr_matrix

    indptr, indices, data = [0], [], []
    for bow in corpus:
        for term_id, count in sorted(bow):
            indices.append(term_id)
            data.append(count)
        indptr.append(len(indices))
    return csr_matrix((np.array(data, dtype=np.float64), indices, indptr), shape=(len(corpus), n_terms))


def nmf_topics(corpus, vocab: Sequence[str], k: int, p: ThemeParams) -> list[list[tuple[str, float]]]:
    """Top terms of NMF components fitted to TF-IDF of the same units and vocabulary."""
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfTransformer

    tfidf = TfidfTransformer().fit_transform(_count_matrix(corpus, len(vocab)))
    model = NMF(n_components=k, init="nndsvd", random_state=p.nmf_seed, max_iter=p.nmf_max_iter)
    with single_thread_blas():
        model.fit(tfidf)
    return [top_terms(row, vocab, p.topn_terms) for row in model.components_]


def nmf_match_table(
    lda_tops: Sequence[Sequence[tuple[str, float]]],
    nmf_tops: Sequence[Sequence[tuple[str, float]]],
    labels: dict[int, str],
    close_jaccard: float,
) -> pd.DataFrame:
    lda_terms = [[t for t, _ in topic] for topic in lda_tops]
    nmf_terms = [[t for t, _ in topic] for topic in nmf_tops]
    rows = []
    for a, b, sim in match_topics(lda_terms, nmf_terms):
        shared = [t for t in lda_terms[a] if t in set(nmf_terms[b])]
        rows.append(
            {
                "topic": a + 1,
                "label": labels[a + 1],
                "nmf_component": b + 1,
                "jaccard": sim,
                "close": bool(sim >= close_jaccard),
                "shared_terms": "/".join(shared),
                "lda_terms": "/".join(lda_terms[a]),
                "nmf_terms": "/".join(nmf_terms[b]),
            }
        )
    return _round_frame(pd.DataFrame(rows))


# --------------------------------------------------------------------------
# final model


def final_model(seg_full: dict[str, Any], k: int, p: ThemeParams) -> dict[str, Any]:
    """Fit the final model and renumber its topics 1..K by decreasing prevalence."""
    corpus, vocab = seg_full["all"], seg_full["vocab"]
    with single_thread_blas():
        model = fit_lda(corpus, seg_full["dictionary"], k, p.final_seed, p)
        phi = model.get_topics().astype(np.float64)
        gamma, _ = model.inference(corpus)
    gamma = np.asarray(gamma, dtype=np.float64)
    theta = gamma / gamma.sum(axis=1, keepdims=True)
    if not (np.isfinite(phi).all() and np.isfinite(theta).all()):
        raise FloatingPointError(f"themes: the final LDA model (K={k}, seed={p.final_seed}) is not finite")
    lengths = np.array([sum(c for _, c in bow) for bow in corpus], dtype=np.float64)
    total = lengths.sum()
    prevalence = (lengths @ theta) / total if total > 0 else theta.mean(axis=0)
    tops = [top_terms(row, vocab, p.topn_terms) for row in phi]
    prev_r = round_sig(prevalence)
    order = sorted(range(k), key=lambda t: (-prev_r[t], tops[t][0][0] if tops[t] else ""))
    term_frequency = np.zeros(len(vocab))
    for bow in corpus:
        for term_id, count in bow:
            term_frequency[term_id] += count
    return {
        "model": model,
        "order": order,  # order[new topic - 1] = gensim's topic index
        "phi": phi[order],
        "theta": theta[:, order],
        "lengths": lengths,
        "prevalence": prevalence[order],
        "tops": [tops[t] for t in order],
        "vocab": vocab,
        "term_frequency": term_frequency,
    }


def final_topic_stability(final_tops, other_runs: Sequence[Sequence[Sequence[tuple[str, float]]]]) -> list[float]:
    """Per final topic: mean Jaccard with its Hungarian match in each other seed's model."""
    terms = [[t for t, _ in topic] for topic in final_tops]
    per_topic = np.zeros(len(terms))
    for run in other_runs:
        other = [[t for t, _ in topic] for topic in run]
        for a, _, sim in match_topics(terms, other):
            per_topic[a] += sim
    return list(per_topic / max(len(other_runs), 1))


def topics_table(tops, labels: dict[int, str], term_categories: dict[str, str]) -> pd.DataFrame:
    rows = [
        {
            "topic": t + 1,
            "label": labels[t + 1],
            "rank": r + 1,
            "term": term,
            "weight": w,
            "category": term_categories.get(term, ""),
        }
        for t, topic in enumerate(tops)
        for r, (term, w) in enumerate(topic)
    ]
    return _round_frame(pd.DataFrame(rows))


def unit_topics_table(units, theta: np.ndarray) -> pd.DataFrame:
    """Long table of unit-topic proportions: one row per unit and topic, units in input order."""
    n, k = theta.shape
    frame = pd.DataFrame(
        {
            "unit_id": np.repeat([u["unit_id"] for u in units], k),
            "doc_id": np.repeat([u["doc_id"] for u in units], k),
            "place": np.repeat([u["place"] for u in units], k),
            "topic": np.tile(np.arange(1, k + 1), n),
            "proportion": np.asarray(theta, dtype=np.float64).reshape(-1),
        }
    )
    return _round_frame(frame)


# --------------------------------------------------------------------------
# LDAvis


def _jensen_shannon(p: np.ndarray, q: np.ndarray) -> float:
    from scipy.stats import entropy

    m = 0.5 * (p + q)
    return float(0.5 * (entropy(p, m) + entropy(q, m)))


def deterministic_pcoa(topic_term_dists: np.ndarray) -> np.ndarray:
    """Principal coordinates of the topics' Jensen-Shannon distances, with fixed signs.

    pyLDAvis's own PCoA takes eigenvectors from `numpy.linalg.eig`, whose signs
    (and order among equal eigenvalues) are arbitrary, so the map could mirror
    between machines. Here the symmetric solver is used and each axis is
    oriented so that its largest-magnitude coordinate is positive.
    """
    from scipy.spatial.distance import pdist, squareform

    dists = squareform(pdist(np.asarray(topic_term_dists, dtype=np.float64), metric=_jensen_shannon))
    n = dists.shape[0]
    h = np.eye(n) - np.ones((n, n)) / n
    b = -h @ (dists**2) @ h / 2
    vals, vecs = np.linalg.eigh((b + b.T) / 2)
    ix = np.argsort(-vals, kind="stable")[:2]
    vals, vecs = np.clip(vals[ix], 0, None), vecs[:, ix]
    for j in range(vecs.shape[1]):
        if vecs[np.argmax(np.abs(vecs[:, j])), j] < 0:
            vecs[:, j] = -vecs[:, j]
    coords = vecs * np.sqrt(vals)
    if coords.shape[1] < 2:
        coords = np.hstack([coords, np.zeros((n, 2 - coords.shape[1]))])
    return round_sig(coords)


def ldavis_prepare(inputs: dict[str, Any], terms: int | None = None):
    """pyLDAvis data for the final model, topics kept in this module's order (1-based).

    `sort_topics=False` keeps topic n of the page equal to topic n of
    topics.csv (the topics are already numbered by decreasing prevalence,
    which is also pyLDAvis's own order); the map uses `deterministic_pcoa`,
    and the floats are rounded like the tables'.
    """
    import pyLDAvis

    with single_thread_blas():
        prepared = pyLDAvis.prepare(
            topic_term_dists=inputs["topic_term_dists"],
            doc_topic_dists=inputs["doc_topic_dists"],
            doc_lengths=inputs["doc_lengths"],
            vocab=inputs["vocab"],
            term_frequency=inputs["term_frequency"],
            R=terms or inputs.get("terms", 30),
            mds=deterministic_pcoa,
            sort_topics=False,
            n_jobs=1,
            start_index=1,
        )
    return prepared._replace(
        topic_coordinates=_round_frame(prepared.topic_coordinates),
        topic_info=_round_frame(prepared.topic_info),
        token_table=_round_frame(prepared.token_table),
    )


def _ldavis_asset(name: str) -> str:
    import pyLDAvis

    return (Path(pyLDAvis.__file__).parent / "js" / name).read_text(encoding="utf-8")


def ldavis_html(inputs: dict[str, Any], title: str | None = None, note: str | None = None, terms: int | None = None) -> str:
    """A self-contained LDAvis page: d3, LDAvis and its stylesheet inlined from
    the pyLDAvis package (no network at view time), and a fixed element id so
    the same model gives the same bytes."""
    import html
    import json

    from pyLDAvis.urls import CSS_VERSION, JS_VERSION
    from pyLDAvis.utils import NumPyEncoder

    k = len(inputs["topic_term_dists"])
    title = title or f"Topics of the community-governance articles (LDA, K={k})"
    note = note or (
        f"Topics are numbered 1 to {k} as in results/tables/topics.csv, in decreasing order of their share "
        "of all modelled tokens; labels are in topics.csv and topic_roles.csv."
    )
    prepared = ldavis_prepare(inputs, terms)
    data = json.dumps(prepared.to_dict(), cls=NumPyEncoder, ensure_ascii=False, sort_keys=True)

    def script(text: str) -> str:
        # "</" would end the inline script early if a term or the library held it.
        return text.replace("</", "<\\/")

    return (
        "<!DOCTYPE html>\n<html lang=\"zh\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{html.escape(title)}</title>\n"
        f"<style>\n{_ldavis_asset(f'ldavis.v{CSS_VERSION}.css')}\n</style>\n"
        "</head>\n<body>\n"
        f"<h1 style=\"font-family:sans-serif;font-size:1.2em\">{html.escape(title)}</h1>\n"
        f"<p style=\"font-family:sans-serif;max-width:60em\">{html.escape(note)}</p>\n"
        f"<div id=\"{LDAVIS_DIV_ID}\" style=\"background-color:white;\"></div>\n"
        f"<script>\n{script(_ldavis_asset('d3.v5.min.js'))}\n</script>\n"
        f"<script>\n{script(_ldavis_asset(f'ldavis.v{JS_VERSION}.js'))}\n</script>\n"
        f"<script>\nnew LDAvis(\"#{LDAVIS_DIV_ID}\", {script(data)});\n</script>\n"
        "</body>\n</html>\n"
    )


def write_ldavis_html(
    inputs: dict[str, Any], path: Path, title: str | None = None, note: str | None = None, terms: int | None = None
) -> Path:
    from pipeline.io import write_text

    return write_text(ldavis_html(inputs, title, note, terms), Path(path))


# --------------------------------------------------------------------------
# entry point


def run_themes(
    units: Sequence[dict[str, Any]],
    term_categories: dict[str, str],
    params: dict[str, Any],
    labels_override: dict[int, str],
) -> dict[str, Any]:
    """The themes stage: every table of the K sweep, the final model and the cross-checks.

    Returns a dict with DataFrames `k_selection`, `k_summary`, `topics`,
    `unit_topics`, `place_topics`, `topic_roles`, `nmf_match`, `ablation`
    (and `k_selection_plain` when the ablation runs), `chosen_k` and
    `k_reason`, `summary` (plain values for the run manifest), and the objects
    `model`, `dictionary` and `ldavis_inputs` (for `write_ldavis_html`).
    """
    p = ThemeParams.from_dict(params)
    # Every product in this process runs on one BLAS thread too (bootstrap,
    # prevalence, NMF), so the tables do not depend on the machine's cores.
    with single_thread_blas():
        return _run_themes(units, term_categories, p, labels_override)


def _run_themes(
    units: Sequence[dict[str, Any]],
    term_categories: dict[str, str],
    p: ThemeParams,
    labels_override: dict[int, str],
) -> dict[str, Any]:
    segmentations = SEGMENTATIONS if p.ablation else SEGMENTATIONS[:1]
    for s in segmentations:
        _check_units(units, TOKEN_FIELD[s])
    units = list(units)
    train_idx, held_idx = split_units(units, p.holdout_fraction, p.split_seed)
    per_seg = {s: _segmentation_data(units, TOKEN_FIELD[s], train_idx, held_idx, p) for s in segmentations}

    # What the tasks need, sent once to each worker: sweep corpora on the
    # training dictionary, and full corpora for the other seeds' final fits.
    data: dict[str, Any] = {"params": p}
    for s in segmentations:
        sweep = per_seg[s]["sweep"]
        data[s] = {k: sweep[k] for k in ("dictionary", "vocab", "train", "held", "train_texts")}
    data["lexicon_full"] = {**per_seg["lexicon"]["full"], "held": []}
    ks = range(p.k_min, p.k_max + 1)
    fits = [("fit", (s, "train", k, seed)) for s in segmentations for k in ks for seed in p.seeds]
    full = per_seg["lexicon"]["full"]

    with job_pool(data, p.processes) as pool:
        results = submit_tasks(data, fits, pool)()
        scores = sweep_coherence(data, results, segmentations, pool)
        tables: dict[str, pd.DataFrame] = {}
        choices: dict[str, tuple[int, str]] = {}
        for s in segmentations:
            seg_results = [r for r in results if r["job"][0] == s]
            tables[s] = sweep_table(seg_results, scores[s], p.seeds)
            choices[s] = choose_k(tables[s], p.min_stability, p.cv_tolerance)
        chosen_k, reason = choices["lexicon"]
        # The other seeds' full-data models at the chosen K (for per-topic
        # stability) run in the pool while this process fits the final model.
        other_seeds = [s for s in p.seeds if s != p.final_seed]
        wait_others = submit_tasks(data, [("fit", ("lexicon_full", "all", chosen_k, s)) for s in other_seeds], pool)
        final = final_model(full, chosen_k, p)
        others = wait_others()
    stability = final_topic_stability(final["tops"], [r["tops"] for r in others])

    suggested = {t + 1: suggest_label(top, term_categories) for t, top in enumerate(final["tops"])}
    labels = apply_labels(suggested, dict(labels_override))

    place_topics = place_shares(
        final["theta"], final["lengths"], [u["place"] for u in units], p.bootstrap_samples, p.bootstrap_seed
    )
    place_topics.insert(2, "label", place_topics["topic"].map(labels))
    prevalence = {t + 1: float(v) for t, v in enumerate(final["prevalence"])}
    roles = topic_roles(
        place_topics,
        labels,
        suggested,
        prevalence,
        {t + 1: v for t, v in enumerate(stability)},
        p.presence_floor,
        p.shared_min_places,
    )

    nmf = nmf_topics(full["all"], full["vocab"], chosen_k, p)
    nmf_match = nmf_match_table(final["tops"], nmf, labels, p.nmf_close_jaccard)

    ablation_parts = []
    for s in segmentations:
        summ = summarise_sweep(tables[s])
        summ.insert(0, "segmentation", s)
        summ["vocabulary"] = len(per_seg[s]["sweep"]["vocab"])
        summ["chosen"] = summ["k"] == choices[s][0]
        ablation_parts.append(summ)
    ablation = pd.concat(ablation_parts, ignore_index=True)

    out: dict[str, Any] = {
        "k_selection": tables["lexicon"],
        "k_summary": summarise_sweep(tables["lexicon"]),
        "chosen_k": chosen_k,
        "k_reason": reason,
        "topics": topics_table(final["tops"], labels, term_categories),
        "unit_topics": unit_topics_table(units, final["theta"]),
        "place_topics": place_topics,
        "topic_roles": roles,
        "nmf_match": nmf_match,
        "ablation": ablation,
        "model": final["model"],
        "dictionary": full["dictionary"],
        "topic_order": final["order"],
        "ldavis_inputs": {
            "topic_term_dists": final["phi"],
            "doc_topic_dists": final["theta"],
            "doc_lengths": final["lengths"],
            "vocab": final["vocab"],
            "term_frequency": final["term_frequency"],
            "terms": p.ldavis_terms,
        },
        "summary": {
            "chosen_k": chosen_k,
            "k_reason": reason,
            "units": len(units),
            "train_units": len(train_idx),
            "heldout_units": len(held_idx),
            "vocabulary_sweep": len(per_seg["lexicon"]["sweep"]["vocab"]),
            "vocabulary_final": len(full["vocab"]),
            "shared_topics": int((roles["role"] == "shared").sum()),
            "nmf_close": int(nmf_match["close"].sum()),
        },
    }
    if p.ablation:
        out["k_selection_plain"] = tables["plain"]
        out["summary"]["chosen_k_plain"] = choices["plain"][0]
        out["summary"]["k_reason_plain"] = choices["plain"][1]
    return out
