"""The sweep over K and seeds: splits, dictionaries, LDA fits on the run's dask workers and their coherence scores."""

from __future__ import annotations

import contextlib
import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from pipeline.common import engine
from pipeline.common.params import ThemeParams
from pipeline.text.units import Unit
from pipeline.themes.matching import agreement
from pipeline.themes.params import LDA_DTYPE, round_frame, place_order, top_terms
from pipeline.themes.scaling import schedule
from pipeline.themes.stm_measures import frex_exclusivity, semantic_coherence

# The job name of the other seeds' fits of the final model's corpora (fitted on every unit).
FINAL = "lexicon_full"


@dataclass(frozen=True)
class SweepCorpora:
    """One segmentation's sweep corpora: the training units' dictionary and vocabulary, the training and
    held-out units as bags of words on it, and the training units' tokens (for coherence)."""

    dictionary: Any
    vocab: list[str]
    train: list[list[tuple[int, int]]]
    held: list[list[tuple[int, int]]]
    train_texts: list[list[str]]


@dataclass(frozen=True)
class FullCorpora:
    """The final model's corpora: the dictionary and vocabulary of every unit, and every unit's bag of words."""

    dictionary: Any
    vocab: list[str]
    all: list[list[tuple[int, int]]]


@dataclass(frozen=True)
class SegmentationData:
    """Corpora of one segmentation: the sweep's, and the final model's (None where there is no final model)."""

    sweep: SweepCorpora
    full: FullCorpora | None = None


@dataclass(frozen=True)
class SweepData:
    """What the sweep's tasks read, sent once to each worker: the parameters, each segmentation's sweep
    corpora by name, and the final model's corpora for the other seeds' fits at the chosen K."""

    params: ThemeParams
    segmentations: dict[str, SweepCorpora] = field(default_factory=dict)
    final: FullCorpora | None = None


@dataclass(frozen=True)
class FitResult:
    """One sweep fit, job (segmentation, part, K, seed): its topics' top terms, held-out perplexity (NaN
    without held-out units), and stm's FREX exclusivity and semantic coherence per topic."""

    job: tuple[str, str, int, int]
    tops: list[list[tuple[str, float]]]
    perplexity: float
    exclusivity: list[float]
    semantic_coherence: list[float]

__all__ = ["build_dictionary", "COHERENCE_MEASURES", "coherence_scores", "FINAL", "fit_lda", "FitResult",
           "FullCorpora", "job_pool", "segmentation_data", "SegmentationData", "single_thread_blas", "split_units",
           "submit_tasks", "sweep_coherence", "SWEEP_MIN_WORK", "sweep_table", "sweep_work", "SweepCorpora",
           "SweepData"]


def split_units(units: Sequence[Unit], fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """Seeded train / held-out split of unit indices, stratified by place.

    Each place keeps at least one training unit; a place holds out
    round(fraction x its units). Stratifying keeps every place's language in
    both parts, so held-out perplexity is not a test of an unseen place.

    Parameters
    ----------
    units : Sequence[Unit]
        The units of the sweep, each with its place.
    fraction : float
        The share of each place's units held out (`themes.holdout_fraction`).
    seed : int
        The seed of the split.

    Returns
    -------
    tuple[list[int], list[int]]
        The training and the held-out indices, each ascending.
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
    # gensim (~2.5 s) is loaded only when a model is fitted
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


def fit_lda(corpus, dictionary, k: int, seed: int, p: ThemeParams):
    """One LDA fit; `eval_every=None` because gensim's periodic perplexity
    evaluation would draw from the model's random state and cost a pass.
    Passes and the E-step cap follow the corpus size (`pipeline.themes.scaling.schedule`).

    Parameters
    ----------
    corpus : list of list of tuple[int, int]
        The units' bags of words.
    dictionary : gensim.corpora.Dictionary
        The dictionary of `corpus`.
    k : int
        The number of topics.
    seed : int
        The fit's random state.
    p : ThemeParams
        The themes parameters: priors, chunk size and the fit schedule.

    Returns
    -------
    gensim.models.LdaModel
        The fitted model.
    """
    # gensim (~2.5 s) is loaded only when a model is fitted
    from gensim.models import LdaModel

    passes, iterations = schedule(p, len(corpus))
    return LdaModel(
        corpus=corpus,
        id2word=dictionary,
        num_topics=k,
        passes=passes,
        iterations=iterations,
        alpha=p.alpha,
        eta=p.eta,
        chunksize=p.chunksize,
        random_state=seed,
        eval_every=None,
        update_every=1,
        dtype=LDA_DTYPE,
    )


@contextlib.contextmanager
def single_thread_blas() -> Iterator[None]:
    """One BLAS thread, so that a computation gives the same numbers in this
    process, in a worker, and on machines with more cores.

    Some OpenBLAS kernels also leave the CPU's invalid-operation flag set after
    a clean product, so numpy warns "invalid value encountered in dot" with
    nothing invalid in the result; that warning is silenced here and the
    callers check their results for non-finite values instead.

    Yields
    ------
    None
        Control, with one BLAS thread until the block ends.
    """
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="invalid value encountered in dot", category=RuntimeWarning)
        yield


def _fit_job(data: SweepData, job: tuple[str, str, int, int]) -> FitResult:
    """Fit one (segmentation, part, K, seed) model and summarise it: part "train" of a segmentation's
    sweep corpora, or part "all" of the final model's corpora (segmentation `FINAL`)."""
    segmentation, part, k, seed = job
    p = data.params
    if segmentation == FINAL:
        corpora, corpus, held = data.final, data.final.all, []
    else:
        corpora = data.segmentations[segmentation]
        corpus, held = corpora.train, corpora.held
    with single_thread_blas():
        model = fit_lda(corpus, corpora.dictionary, k, seed, p)
        phi = model.get_topics()
        perplexity = float("nan")
        if part == "train" and held:
            perplexity = float(2.0 ** (-model.log_perplexity(held)))
    if not np.isfinite(phi).all():
        raise FloatingPointError(f"themes: LDA with K={k}, seed={seed} ({segmentation}) produced non-finite topics")
    tops = [top_terms(row, corpora.vocab, p.topn_terms) for row in phi]
    # stm's searchK measures, per topic, on the units the model was fitted on.
    exclusivity = frex_exclusivity(phi, p.topn_terms, p.frex_weight)
    ids = {term: i for i, term in enumerate(corpora.vocab)}
    semcoh = semantic_coherence([[ids[t] for t, _ in top] for top in tops],
                                [{i for i, _ in bow} for bow in corpus])
    return FitResult(job=job, tops=tops, perplexity=perplexity, exclusivity=[float(v) for v in exclusivity],
                     semantic_coherence=[float(v) for v in semcoh])


def _coherence_job(data: SweepData, job: tuple[str, str, tuple[tuple[str, ...], ...]]) -> list[float]:
    segmentation, measure, topics = job
    seg = data.segmentations[segmentation]
    with single_thread_blas():
        return coherence_scores(topics, measure, seg.train_texts, seg.train, seg.dictionary, data.params.topn_terms)


def _run_task(data: SweepData, task: tuple[str, tuple]) -> Any:
    kind, job = task
    return _fit_job(data, job) if kind == "fit" else _coherence_job(data, job)


def _task(task: tuple[str, tuple], data: SweepData) -> Any:
    return _run_task(data, task)


# Below this much work (training tokens x passes, summed over the sweep's
# fits) the sweep runs in this process whatever `processes` says: the dask
# workers' start (~2-3 s on two cores) would cost more than the fits. The
# five articles' sweep (66 fits x 20 passes, 1.9 M) runs on the workers:
# the whole run took 38.4 and 42.9 s so, 39.0 and 43.3 s with the sweep in
# this process (interleaved, on a shared two-core machine). The threshold is
# a quarter of that sweep; the tests' and quick benchmark's sweeps are below.
SWEEP_MIN_WORK = 500_000


def sweep_work(data: SweepData) -> int:
    """Training tokens x passes, summed over the sweep's fits of every segmentation in `data`."""
    p = data.params
    fits = (p.k_max - p.k_min + 1) * len(p.seeds)
    tokens = sum(c for seg in data.segmentations.values() for bow in seg.train for _, c in bow)
    return fits * p.passes * tokens


@contextlib.contextmanager
def job_pool(data: SweepData, processes: int) -> Iterator[engine.Pool]:
    """The pool of the sweep's tasks: in this process when `processes` is 1 or the sweep is small
    (`SWEEP_MIN_WORK`), else on the run's dask cluster, where `data` goes to every worker once
    (pipeline/common/engine.py).

    Parameters
    ----------
    data : SweepData
        What the tasks read: parameters and corpora.
    processes : int
        The number of processes asked for (`themes.processes`).

    Yields
    ------
    engine.Pool
        The pool, closed when the block ends.
    """
    if sweep_work(data) < SWEEP_MIN_WORK:
        processes = 1
    with engine.pool(engine.same, (data,), processes) as workers:
        yield workers


def submit_tasks(
    data: SweepData, tasks: Sequence[tuple[str, tuple]], pool: engine.Pool | None
) -> Callable[[], list[Any]]:
    """Start tasks ("fit" or "coherence"); the returned function waits and
    gives their results in task order.

    Serial runs are deferred to the call, so work done in between (the final
    model) overlaps with the tasks only when they run on workers. Tasks start
    by decreasing expected cost (larger K, larger coherence batch) so that no
    worker is left with one long task at the end.

    Parameters
    ----------
    data : SweepData
        What the tasks read: parameters and corpora.
    tasks : Sequence[tuple[str, tuple]]
        Each task's kind and its job.
    pool : engine.Pool or None
        The pool from `job_pool`, or None to run the tasks in this process.

    Returns
    -------
    Callable[[], list[Any]]
        The function that waits for the tasks and gives their results.
    """
    what = "fits" if tasks and tasks[0][0] == "fit" else "coherence batches"

    def cost(task: tuple[str, tuple]) -> int:
        kind, job = task
        return len(job[2]) if kind == "coherence" else job[2]

    workers = pool if pool is not None else engine.Pool(engine.same, (data,))  # None: in this process
    return workers.submit(_task, tasks, f"themes: {what}", cost=cost)


def sweep_coherence(
    data: SweepData,
    results: Sequence[FitResult],
    segmentations: Sequence[str],
    pool: engine.Pool | None,
) -> dict[str, dict[str, dict[tuple[int, tuple[str, ...]], float]]]:
    """Coherence of every distinct sweep topic: segmentation -> measure -> (K, topic) -> score.

    One batch per segmentation and measure holding the distinct topics of the
    whole sweep (gensim's `CoherenceModel.for_topics` route): the
    co-occurrence counts are accumulated once per measure over all K, and the
    batches, so the scores to the last bit, are the same whether they run
    serially or in any number of workers. c_v and c_npmi cannot share one
    accumulator: their sliding windows differ (110 and 10 tokens, as Röder et
    al. define them).

    Parameters
    ----------
    data : SweepData
        What the tasks read: parameters and corpora.
    results : Sequence[FitResult]
        The sweep's fits.
    segmentations : Sequence[str]
        The segmentations whose topics are scored.
    pool : engine.Pool or None
        The pool from `job_pool`, or None to score in this process.

    Returns
    -------
    dict[str, dict[str, dict[tuple[int, tuple[str, ...]], float]]]
        Score by segmentation, measure and (K, topic terms).
    """
    tasks, keys = [], []
    for s in segmentations:
        topics = tuple(sorted({tuple(t for t, _ in topic) for r in results if r.job[0] == s for topic in r.tops}))
        for measure in COHERENCE_MEASURES:
            tasks.append(("coherence", (s, measure, topics)))
            keys.append((s, measure, topics))
    values = submit_tasks(data, tasks, pool)()
    scores: dict[str, dict[str, dict[tuple[int, tuple[str, ...]], float]]] = {
        s: {m: {} for m in COHERENCE_MEASURES} for s in segmentations
    }
    ks = {s: sorted({r.job[2] for r in results if r.job[0] == s}) for s in segmentations}
    for (s, measure, topics), vals in zip(keys, values):
        scores[s][measure].update(((k, t), v) for t, v in zip(topics, vals) for k in ks[s])
    return scores


def segmentation_data(units, field: str, train_idx, held_idx, p: ThemeParams, full: bool = True) -> SegmentationData:
    """Corpora for one segmentation.

    The sweep's dictionary is built from the training units only, so that the
    held-out units are unseen text (their out-of-vocabulary words are dropped,
    as usual for held-out likelihood). The final model's dictionary covers all
    units; `full=False` leaves it out (the ablation has no final model).

    Parameters
    ----------
    units : Sequence[Unit]
        Every text unit.
    field : str
        The units' token field of this segmentation.
    train_idx, held_idx : list[int]
        The indices of the sweep's training and held-out units.
    p : ThemeParams
        The themes parameters: the dictionary's `no_below` and `no_above`.
    full : bool, optional
        Whether to build the final model's corpora of every unit too.

    Returns
    -------
    SegmentationData
        The sweep's corpora, and the final model's when `full`.
    """
    train_texts = [list(units[i][field]) for i in train_idx]
    held_texts = [list(units[i][field]) for i in held_idx]
    train_dict = build_dictionary(train_texts, p.no_below, p.no_above)
    sweep = SweepCorpora(dictionary=train_dict, vocab=_vocab(train_dict),
                         train=[train_dict.doc2bow(t) for t in train_texts],
                         held=[train_dict.doc2bow(t) for t in held_texts], train_texts=train_texts)
    if not full:
        return SegmentationData(sweep)
    texts = [list(u[field]) for u in units]
    full_dict = build_dictionary(texts, p.no_below, p.no_above)
    return SegmentationData(sweep, FullCorpora(dictionary=full_dict, vocab=_vocab(full_dict),
                                               all=[full_dict.doc2bow(t) for t in texts]))


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

    Parameters
    ----------
    topics : Sequence[Sequence[str]]
        The batch's topics, each as its terms in rank order.
    measure : str
        The gensim coherence measure ("c_v", "c_npmi" or "u_mass").
    texts : list of list of str
        The units' tokens, read by the sliding-window measures.
    corpus : list of list of tuple[int, int]
        The units' bags of words, read by u_mass.
    dictionary : gensim.corpora.Dictionary
        The dictionary of `corpus`.
    topn : int
        How many top terms of each topic are scored.

    Returns
    -------
    list[float]
        One score per topic, in order.
    """
    # gensim (~2.5 s) is loaded only when a model is fitted
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
    # scipy.sparse is loaded only when a model is fitted
    import scipy.sparse

    counts = getattr(accumulator, "_co_occurrences", None)
    if counts is not None and scipy.sparse.issparse(counts):
        accumulator._co_occurrences = counts.toarray()


def sweep_table(
    results: Sequence[FitResult], scores: dict[str, dict[tuple[str, ...], float]], seeds: Sequence[int]
) -> pd.DataFrame:
    """The k_selection table (one row per K x seed) of one segmentation's sweep.

    `scores[measure][(K, topic terms)]` is the coherence of each distinct
    topic; a run's coherence is the mean over its topics.

    Parameters
    ----------
    results : Sequence[FitResult]
        The segmentation's sweep fits.
    scores : dict[str, dict[tuple[str, ...], float]]
        The segmentation's coherence scores from `sweep_coherence`.
    seeds : Sequence[int]
        The sweep's seeds, against whose models each run's stability is measured.

    Returns
    -------
    pd.DataFrame
        Per K and seed: coherences, exclusivity, semantic coherence, perplexity and stability.
    """
    runs = {(r.job[2], r.job[3]): [[t for t, _ in topic] for topic in r.tops] for r in results}
    rows = []
    for r in results:
        k, seed = r.job[2], r.job[3]
        terms = runs[(k, seed)]
        others = [agreement(terms, runs[(k, s)]) for s in seeds if s != seed]
        row = {"k": k, "seed": seed}
        for measure in COHERENCE_MEASURES:
            row[measure] = float(np.mean([scores[measure][(k, tuple(t))] for t in terms]))
        row["exclusivity"] = float(np.mean(r.exclusivity))
        row["semantic_coherence"] = float(np.mean(r.semantic_coherence))
        row["perplexity"] = r.perplexity
        row["stability"] = float(np.mean(others))
        rows.append(row)
    table = pd.DataFrame(rows).sort_values(["k", "seed"], kind="stable").reset_index(drop=True)
    return round_frame(table)
