"""Benchmark tasks, each run in a fresh Python process (`python -m pipeline.bench TASK job.json result.json`)."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Sequence

import jieba
import pandas as pd

import pipeline
from pipeline.bench.memory import StageMemory
from pipeline.bench.segment_ratio import segment_vs_raw_jieba
from pipeline.bench.settings import OTHER, TOTAL, log
from pipeline.bench.workers_ratio import bare_processes_ceiling, workers_vs_process
from pipeline.common import io
from pipeline.common.config import Paths
from pipeline.common.engine import time_map
from pipeline.common.outputs import tables_of
from pipeline.common.params import ThemeParams, load_params
from pipeline.corpus import chrome, ingest
from pipeline.corpus.stage import build_cleaner, clean_article
from pipeline.run.runner import run_study, stage_corpus, stage_segment
from pipeline.run.state import StudyState
from pipeline.text import lexicon as lex_mod
from pipeline.text import segment as seg_mod
from pipeline.text.stage import build_segmenter, segment_article, segment_articles, segment_job
from pipeline.themes.labels import load_topic_labels
from pipeline.themes.model import run_themes
from pipeline.themes.results import ThemesResult

__all__ = ["TASKS", "main", "run_task"]


def _task_scale(job: dict[str, Any]) -> dict[str, Any]:
    """The whole study on one project root; per-stage time and memory."""

    root = Paths.at(job["root"])
    params = load_params(root.params)
    with StageMemory(job["sample_seconds"]) as memory:
        start = time.perf_counter()
        # No stage cache: every stage computes, as in a first run.
        state = run_study(root, params, root.params, notebooks_dir=root.root / "notebooks_executed",
                          use_cache=False)
        total = time.perf_counter() - start
    documents = pd.read_csv(root.tables / "documents.csv")
    # Every stage timer the runner kept, in the order the stages ran.
    stages = {name: {"seconds": seconds, "peak_rss_mb": memory.peaks.get(name, float("nan")),
                     "maxrss_mb": state.peak_rss_mb.get(name, float("nan"))}
              for name, seconds in state.timings.items()}
    maxrss = max(state.peak_rss_mb.values(), default=float("nan"))
    stages[OTHER] = {"seconds": total - sum(state.timings.values()),
                     "peak_rss_mb": max(memory.peaks.get(n, 0.0) for n in ("setup", "between")), "maxrss_mb": maxrss}
    stages[TOTAL] = {"seconds": total, "peak_rss_mb": memory.overall, "maxrss_mb": maxrss}
    return {"articles": int(len(documents)), "places": int(documents["place"].nunique()),
            "units": int(documents["units"].sum()), "tokens": int(documents["tokens"].sum()),
            "chars": int(documents["chars_clean"].sum()), "stages": stages}


def _clean_jobs(root: Paths) -> list[tuple[str, str, str]]:
    """(doc_id, place, cleaned text) of a finished run, as the segmentation stage gets them."""
    documents = pd.read_csv(root.tables / "documents.csv", keep_default_na=False)
    jobs = []
    for doc_id, place in zip(documents["doc_id"], documents["place"]):
        text = (root.clean_corpus / f"{doc_id}.txt").read_text(encoding="utf-8")
        jobs.append((doc_id, place, text.removesuffix("\n")))  # the runner adds one line break on writing
    return jobs


def _task_segment_ratios(job: dict[str, Any]) -> dict[str, Any]:
    """Our segmentation serially and on 2 workers, and against plain jieba, on one scale's cleaned texts.

    `interleaved` holds the measurements of `pipeline.bench.segment_ratio`:
    `segment_vs_raw_jieba` (the study's segmentation proper against raw jieba,
    slice by slice in this process, CPU time; its `ratio` is the median of the
    pairs' raw/ours ratios) and, when the run's themes ablation is on,
    `segment_with_ablation_vs_raw_jieba` (the segmentation stage's work
    including the ablation's plain-jieba cut of every unit). `whole_stage`
    holds the stage in 1 process against 2 workers, in `job["pairs"]`
    alternating pairs, and their median ratio.
    """



    root = Paths.at(job["root"])
    params = load_params(root.params)
    jobs = _clean_jobs(root)
    lexicon = lex_mod.load_lexicon(root.lexicon / "governance_terms.csv")
    timings: dict[str, float] = {}

    # The whole stage in 1 process and on 2 workers, each run with its own
    # dictionary loads (and the cluster's start), as a stage run does, in
    # `pairs` pairs whose first side alternates: one pair compares two
    # moments of a shared machine (on the benchmark's machine the same
    # 5,000 articles have taken 44 s and 64 s in one process); the median of
    # the pairs' ratios is the row's value.
    one, identical, rounds = None, True, []
    for number in range(max(1, int(job.get("pairs", 1)))):
        seconds = {}
        for processes in ((1, 2) if number % 2 == 0 else (2, 1)):
            start = time.perf_counter()
            result = segment_articles(root, params, lexicon, jobs, processes)
            seconds[processes] = time.perf_counter() - start
            if one is None:
                one = result  # the first side of the first pair is the serial run
            else:
                identical = identical and result == one
            del result
        log.info("bench: segmentation pair %d: %.1f s in 1 process, %.1f s on 2 workers", number + 1,
                 seconds[1], seconds[2])
        rounds.append({"process_seconds": seconds[1], "workers_seconds": seconds[2],
                       "ratio": seconds[1] / seconds[2], "first": "process" if number % 2 == 0 else "workers"})
    timings["segment_1_process"] = sum(r["process_seconds"] for r in rounds)
    timings["segment_2_processes"] = sum(r["workers_seconds"] for r in rounds)
    whole_stage = {"ratio": statistics.median(r["ratio"] for r in rounds), "pairs": len(rounds), "rounds": rounds,
                   "theirs_seconds": timings["segment_1_process"], "ours_seconds": timings["segment_2_processes"]}

    # Dictionaries loaded once, then both sides on the same texts.
    segmenter = build_segmenter(root, params, lexicon)
    segment_article("warm", "warm", jobs[0][2], segmenter)  # loads the POS tagger's tag table
    raw = jieba.Tokenizer()
    raw.initialize()
    texts = [u["text"] for article in one for u in article["units"]]

    # Both sides on the same slices of texts, back to back: the machine's
    # drift cancels in each pair's ratio (pipeline.bench.segment_ratio).
    proper = dataclasses.replace(segmenter, plain_tokenizer=None)
    interleaved = {"segment_vs_raw_jieba": segment_vs_raw_jieba(jobs, proper, raw_tokenizer=raw)}
    if segmenter.plain_tokenizer is not None:
        interleaved["segment_with_ablation_vs_raw_jieba"] = segment_vs_raw_jieba(jobs, segmenter, raw_tokenizer=raw)
    for name, found in interleaved.items():
        log.info("bench: %s, interleaved: median ratio %.3f (quartiles %.3f-%.3f, %d pairs)", name,
                 found["ratio"], found["q1"], found["q3"], found["pairs"])
    timings["segment_interleaved_cpu"] = interleaved["segment_vs_raw_jieba"]["ours_seconds"]
    timings["raw_jieba_lcut_interleaved_cpu"] = interleaved["segment_vs_raw_jieba"]["theirs_seconds"]
    return {"timings": timings, "identical": bool(identical), "whole_stage": whole_stage, "articles": len(jobs),
            "units": len(texts), "chars": sum(len(t) for _, _, t in jobs), "interleaved": interleaved}


def _task_clean_ratio(job: dict[str, Any]) -> dict[str, Any]:
    """Cleaning of one scale's raw articles in this process and on 2 dask workers; identical output?

    Both sides build their cleaners inside the timing (the serial side one,
    each worker its own), as a run of the stage does.
    """

    root = Paths.at(job["root"])
    params = load_params(root.params)
    model = build_cleaner(root, params.clean).model
    docs = ingest.load_documents(root.raw, root.manifest_csv, params.ingest.codecs, model.mean_logp,
                                 params.ingest.min_cjk_share, params.ingest.pages)
    del model
    repeated = chrome.repeated_lines([d.text for d in docs], [d.source for d in docs])
    jobs = list(zip([d.text for d in docs], repeated))
    found = time_map(clean_article, jobs, build_cleaner, (root, params.clean), processes=2,
                     local_directory=root.build / "dask")
    log.info("bench: cleaning took %.1f s in 1 process, %.1f s on 2 workers (%.1f s of it the cluster's start)",
             found["serial_s"], found["cluster_s"], found["cluster_start_s"])
    return {"timings": {"clean_1_process": found["serial_s"], "clean_2_workers": found["cluster_s"]},
            "cluster_start_s": found["cluster_start_s"], "identical": bool(found["identical"]),
            "articles": len(jobs)}


def _task_workers_ratio(job: dict[str, Any]) -> dict[str, Any]:
    """Segmentation's throughput on 2 dask workers against 1 process, and on 2 bare processes against 1
    (the machine's ceiling), in interleaved pairs on one scale's cleaned texts (`pipeline.bench.workers_ratio`)."""

    root = Paths.at(job["root"])
    params = load_params(root.params)
    jobs = _clean_jobs(root)
    build_args = (root, params, lex_mod.load_lexicon(root.lexicon / "governance_terms.csv"))
    found = {"bare_processes_ceiling": bare_processes_ceiling(segment_job, jobs, build_segmenter, build_args,
                                                              job["slices"]),
             "workers_vs_process": workers_vs_process(segment_job, jobs, build_segmenter, build_args, job["slices"],
                                                      root.build / "dask")}
    for name, one in found.items():
        log.info("bench: segmentation, %s: median ratio %.3f (quartiles %.3f-%.3f, %d pairs)", name, one["ratio"],
                 one["q1"], one["q3"], one["pairs"])
    return {**found, "identical": found["workers_vs_process"]["identical"], "articles": len(jobs)}


def _themes_run(root: Paths, theme_params: ThemeParams) -> tuple[ThemesResult, float]:

    units = io.read_jsonl(root.units_jsonl)
    categories = lex_mod.category_map(lex_mod.load_lexicon(root.lexicon / "governance_terms.csv"))
    labels = load_topic_labels(root.lexicon / "topic_labels.csv")
    if theme_params.ablation and any("plain_tokens" not in u for u in units):
        # The bench condition runs without the ablation, so its units carry no
        # plain-jieba tokens; they are made here as the segmentation stage
        # makes them when the ablation is on, outside the timed themes stage.
        plain, stopwords = seg_mod.build_plain_tokenizer(root.jieba_cache), seg_mod.general_stopwords()
        for unit in units:
            unit["plain_tokens"] = seg_mod.plain_tokens(unit["text"], plain, stopwords)
    start = time.perf_counter()
    found = run_themes(units, categories, theme_params, labels)
    return found, time.perf_counter() - start


def _task_themes_ratio(job: dict[str, Any]) -> dict[str, Any]:
    """The themes stage serially and in 2 processes on one scale's units; identical tables?"""

    root = Paths.at(job["root"])
    theme_params = load_params(root.params).themes
    serial, serial_s = _themes_run(root, theme_params.model_copy(update={"processes": 1}))
    log.info("bench: themes in 1 process took %.1f s", serial_s)
    parallel, parallel_s = _themes_run(root, theme_params.model_copy(update={"processes": 2}))
    log.info("bench: themes in 2 processes took %.1f s", parallel_s)
    serial_tables, parallel_tables = tables_of(serial), tables_of(parallel)
    frames = sorted(serial_tables)
    differing = [k for k in frames if k not in parallel_tables or not serial_tables[k].equals(parallel_tables[k])]
    if serial.chosen_k != parallel.chosen_k:
        differing.append("chosen_k")
    return {"timings": {"themes_1_process": serial_s, "themes_2_processes": parallel_s},
            "identical": not differing, "differing": differing, "tables": frames}


def _task_report(job: dict[str, Any]) -> dict[str, Any]:
    """The report stage (every notebook executed, the HTML export) on a finished run's results."""
    # nbformat (~2 s, through jsonschema) is loaded only by the task that executes the notebooks
    from pipeline.report.notebooks import build_report

    root = Paths.at(job["root"])
    sources = sorted(Path(job["notebooks"]).glob("[0-9][0-9]_*.ipynb"))
    if not sources:
        return {"error": "no notebooks"}
    scratch = Path(tempfile.mkdtemp(prefix="bench-report-", dir=root.root))
    with StageMemory(job["sample_seconds"]) as memory:
        start = time.perf_counter()
        try:
            build_report(sources, scratch / "notebooks", root.results, scratch / "report.html")
        except Exception as exc:  # a failing notebook is reported, and the benchmark goes on
            log.error("bench: the report failed: %s", str(exc).splitlines()[0])
            return {"error": str(exc).splitlines()[0]}
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "peak_rss_mb": memory.overall, "notebooks": len(sources)}


def _task_real_units(job: dict[str, Any]) -> dict[str, Any]:
    """The real corpus's units (ingest, clean, segment only), when scale 1 is not run."""
    root = Paths.at(job["root"])
    state = StudyState(params=load_params(root.params))
    stage_corpus(root, state)
    seg = stage_segment(root, state)
    io.write_jsonl(seg.units, root.units_jsonl)
    return {"units": len(seg.units)}


TASKS = {"real_units": _task_real_units, "scale": _task_scale, "report": _task_report,
         "segment_ratios": _task_segment_ratios, "clean_ratio": _task_clean_ratio,
         "workers_ratio": _task_workers_ratio, "themes_ratio": _task_themes_ratio}


def main(argv: Sequence[str] | None = None) -> int:
    """Run one task in this process: `python -m pipeline.bench TASK job.json result.json`.

    Parameters
    ----------
    argv : Sequence[str] or None
        TASK, the job file and the result file; None reads them from the command line.

    Returns
    -------
    int
        The exit code, 0 once the result file is written.
    """
    task, job_file, result_file = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s",
                        datefmt="%H:%M:%S")
    # jieba logs every dictionary load, gensim every pass of every fit.
    for noisy in ("jieba", "gensim", "numexpr", "matplotlib", "traitlets"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    job = json.loads(Path(job_file).read_text(encoding="utf-8"))
    result = TASKS[task](job)
    io.write_json(result, Path(result_file))
    return 0


def run_task(task: str, job: dict[str, Any], work: Path) -> dict[str, Any]:
    """Run a task in a fresh Python process and return what it reports.

    Parameters
    ----------
    task : str
        The task's name (real_units, scale, report, segment_ratios, clean_ratio, workers_ratio, themes_ratio).
    job : dict[str, Any]
        The task's inputs, written to its job file.
    work : Path
        The task's folder, for its job and result files.

    Returns
    -------
    dict[str, Any]
        The task's result, with the machine's load average before and after it.

    Raises
    ------
    RuntimeError
        When the task's process fails.
    """
    work.mkdir(parents=True, exist_ok=True)
    job_file, result_file = work / f"{task}.job.json", work / f"{task}.result.json"
    result_file.unlink(missing_ok=True)
    io.write_json(job, job_file)
    env = dict(os.environ)
    package_parent = str(Path(pipeline.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH")) if p)
    # The machine's load before and after: other work on a 2-core machine
    # slows every stage, and this is how a reader can tell.
    load_before = os.getloadavg()[0]
    done = subprocess.run([sys.executable, "-m", "pipeline.bench", task, str(job_file), str(result_file)], env=env)
    if done.returncode != 0:
        raise RuntimeError(f"benchmark task {task} in {work} failed with exit code {done.returncode}; see the log above")
    result = json.loads(result_file.read_text(encoding="utf-8"))
    result["load_average"] = {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)}
    io.write_json(result, result_file)
    return result
