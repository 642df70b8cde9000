"""The sweep over K and seeds: splits, dictionaries, LDA fits in worker processes and their coherence scores."""

from __future__ import annotations

import contextlib
import math
import os
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import pandas as pd

from pipeline.common.parallel import closing_pool, progress, worker_context, worker_setup
from pipeline.themes.matching import agreement
from pipeline.themes.params import ThemeParams, _round_frame, place_order, top_terms
from pipeline.themes.stm_measures import frex_exclusivity, semantic_coherence


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


def fit_lda(corpus, dictionary, k: int, seed: int, p: ThemeParams):
    """One LDA fit; `eval_every=None` because gensim's periodic perplexity
    evaluation would draw from the model's random state and cost a pass.
    Passes and the E-step cap follow the corpus size (`ThemeParams.schedule`)."""
    from gensim.models import LdaModel

    passes, iterations = p.schedule(len(corpus))
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
    # stm's searchK measures, per topic, on the units the model was fitted on.
    exclusivity = frex_exclusivity(phi, p.topn_terms, p.frex_weight)
    ids = {term: i for i, term in enumerate(seg["vocab"])}
    semcoh = semantic_coherence([[ids[t] for t, _ in top] for top in tops],
                                [{i for i, _ in bow} for bow in seg[part]])
    return {"job": job, "tops": tops, "perplexity": perplexity, "exclusivity": [float(v) for v in exclusivity],
            "semantic_coherence": [float(v) for v in semcoh]}


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


def _init_worker(parent: int, data: dict[str, Any]) -> None:
    # Ctrl-C is the parent's; the worker dies with the parent even on SIGKILL.
    worker_setup(parent)
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
    pool = ProcessPoolExecutor(
        max_workers=processes, mp_context=worker_context("spawn"), initializer=_init_worker,
        initargs=(os.getpid(), data),
    )
    # On any exception (Ctrl-C too) queued fits are cancelled and the workers ended at once.
    with closing_pool(pool):
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
    what = "fits" if tasks and tasks[0][0] == "fit" else "coherence batches"
    if pool is None:
        return lambda: [_run_task(data, task) for task in progress(tasks, f"themes: {what}", unit="task")]

    def cost(i: int) -> tuple[int, int]:
        kind, job = tasks[i]
        return (-len(job[2]) if kind == "coherence" else -job[2], i)

    futures = {i: pool.submit(_worker_task, tasks[i]) for i in sorted(range(len(tasks)), key=cost)}

    def wait() -> list[Any]:
        with progress(total=len(tasks), description=f"themes: {what}", unit="task") as bar:
            for future in as_completed(futures.values()):
                future.result()  # a failed task stops the wait at once
                bar.update(1)
        return [futures[i].result() for i in range(len(tasks))]

    return wait


def sweep_coherence(
    data: dict[str, Any],
    results: Sequence[dict[str, Any]],
    segmentations: Sequence[str],
    pool: ProcessPoolExecutor | None,
) -> dict[str, dict[str, dict[tuple[int, tuple[str, ...]], float]]]:
    """Coherence of every distinct sweep topic: segmentation -> measure -> (K, topic) -> score.

    One batch per segmentation and measure holding the distinct topics of the
    whole sweep (gensim's `CoherenceModel.for_topics` route): the
    co-occurrence counts are accumulated once per measure over all K, and the
    batches, so the scores to the last bit, are the same whether they run
    serially or in any number of workers. c_v and c_npmi cannot share one
    accumulator: their sliding windows differ (110 and 10 tokens, as Röder et
    al. define them).
    """
    tasks, keys = [], []
    for s in segmentations:
        topics = tuple(sorted({tuple(t for t, _ in topic) for r in results if r["job"][0] == s for topic in r["tops"]}))
        for measure in COHERENCE_MEASURES:
            tasks.append(("coherence", (s, measure, topics)))
            keys.append((s, measure, topics))
    values = submit_tasks(data, tasks, pool)()
    scores: dict[str, dict[str, dict[tuple[int, tuple[str, ...]], float]]] = {
        s: {m: {} for m in COHERENCE_MEASURES} for s in segmentations
    }
    ks = {s: sorted({r["job"][2] for r in results if r["job"][0] == s}) for s in segmentations}
    for (s, measure, topics), vals in zip(keys, values):
        scores[s][measure].update(((k, t), v) for t, v in zip(topics, vals) for k in ks[s])
    return scores


def _segmentation_data(units, field: str, train_idx, held_idx, p: ThemeParams, full: bool = True) -> dict[str, Any]:
    """Corpora for one segmentation.

    The sweep's dictionary is built from the training units only, so that the
    held-out units are unseen text (their out-of-vocabulary words are dropped,
    as usual for held-out likelihood). The final model's dictionary covers all
    units; `full=False` leaves it out (the ablation has no final model).
    """
    train_texts = [list(units[i][field]) for i in train_idx]
    held_texts = [list(units[i][field]) for i in held_idx]
    train_dict = build_dictionary(train_texts, p.no_below, p.no_above)
    out: dict[str, Any] = {
        "sweep": {
            "dictionary": train_dict,
            "vocab": _vocab(train_dict),
            "train": [train_dict.doc2bow(t) for t in train_texts],
            "held": [train_dict.doc2bow(t) for t in held_texts],
            "train_texts": train_texts,
        },
    }
    if full:
        texts = [list(u[field]) for u in units]
        full_dict = build_dictionary(texts, p.no_below, p.no_above)
        out["full"] = {
            "dictionary": full_dict,
            "vocab": _vocab(full_dict),
            "all": [full_dict.doc2bow(t) for t in texts],
        }
    return out


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
        row["exclusivity"] = float(np.mean(r["exclusivity"]))
        row["semantic_coherence"] = float(np.mean(r["semantic_coherence"]))
        row["perplexity"] = r["perplexity"]
        row["stability"] = float(np.mean(others))
        rows.append(row)
    table = pd.DataFrame(rows).sort_values(["k", "seed"], kind="stable").reset_index(drop=True)
    return _round_frame(table)
