"""The scaling benchmark (`make bench`): the whole study on corpora 10, 100 and
1000 times the size of the real one, stage by stage.

Scaled corpora
--------------
A scaled corpus is resampled from the real corpus's cleaned text units (the
`text` of every unit of a run on the real corpus), so that vocabulary, unit
lengths and article lengths stay those of real policy articles:

* for factor f, every real article yields f synthetic articles (5·f in all);
* a synthetic article draws its number of units from the real articles' unit
  counts, then that many units (with replacement) from its own real article,
  and joins them by line breaks, so that each unit is a paragraph again;
* the synthetic articles of one real article are spread over
  ceil(f / articles_per_place) synthetic places (样本市0001, ...), which keep
  the real place's province;
* everything is drawn from one `numpy.random.default_rng(seed)`.

Each scaled corpus is written as a project root of its own (data/raw/*.txt,
data/corpus.csv, a copy of lexicon/, params.yaml, the warm jieba cache) and
run through `pipeline.runner.run_study` exactly as the real corpus is, with
the stage cache off: ingestion, cleaning, segmentation, emphases and the LDA
sweep, with every table and figure. The real corpus itself is run the same
way as scale 1.

Resampling keeps the real corpus's vocabulary: a scaled corpus repeats each
real unit about f times, so its vocabulary does not grow with f as a real
corpus's would, and a topic model converges in fewer passes over it.

Conditions
----------
The study's parameters with `bench.overrides` applied (condition `bench`)
are used at every scale: the study's own topic sweep (K 2..12 x 3 seeds x 20
passes, plus the ablation) costs minutes on the real corpus and grows
linearly with it. That sweep is timed separately (condition `study`, themes
stage only, on the units of the scales in `study_themes_scales`) and
extrapolated to the larger scales by its fitted growth exponent.

The report (notebooks executed and exported) is timed on the real corpus
only (`report_scales`): the notebooks narrate the five real places by name,
and their cost depends on the number of notebooks and figures, not on the
number of units. It runs right after the study, on that run's results, in a
process of its own (`_task_report`), so that a failing notebook costs the
report's row and not the scale's measurements; its time is not in `total`.

Measurements
------------
Every scale runs in a fresh Python process, so that its peak memory is its
own. Per stage: wall time (the runner's own stage timer), the peak of the
summed resident memory of the process and all its worker processes (sampled
every `sample_seconds`; shared pages of forked workers count once per
process, so this errs high), and the process's resident high-water mark from
`getrusage`. `other` is the part of the run outside every stage timer
(loading the character model, writing units and tables, the corpus figures,
the run manifest); `total` is the whole `run_study` call. The machine's load
average before and after each task is kept, because other work on a 2-core
machine slows every stage. Ratios measured in the same run: our segmentation against plain
`jieba.Tokenizer().lcut` on the same text, and segmentation in 2 worker
processes against 1, at each of `segment_ratio_scales` (loading the
dictionaries costs the same at every scale, so both ratios grow with the
corpus); the themes stage with 2 processes against 1 at `themes_ratio_scale`.
Identical output is asserted for every parallel run.

Everything is written to results/bench/ (or the folder given); the scaled
project roots are working files under build/bench/.
"""

from __future__ import annotations

import copy
import csv
import json
import logging
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from pipeline import io
from pipeline.config import Paths

log = logging.getLogger("pipeline.bench")

STAGES = ("ingest", "clean", "segment", "emphases", "themes", "report")
# Wall time of the whole run_study call, and the part of it outside every
# stage timer (loading the character model, writing tables and corpus
# figures, the manifest).
TOTAL, OTHER = "total", "other"
# The report runs after the study on its results (see `_task_report`).
REPORT = "report"
BENCH_CSV_COLUMNS = ("scale", "condition", "articles", "places", "units", "tokens", "chars",
                     "stage", "seconds", "peak_rss_mb", "maxrss_mb")
RATIO_COLUMNS = ("ratio", "scale", "numerator", "numerator_seconds", "denominator", "denominator_seconds",
                 "value", "target", "meets_target", "identical")
_STAGE_EVENT = re.compile(r"^stage (\w+): (started|done)")


# --------------------------------------------------------------------------
# parameters


def bench_settings(params: dict[str, Any], quick: bool) -> dict[str, Any]:
    """The `bench:` section resolved for full or quick mode (quick_* keys win)."""
    if "bench" not in params:
        raise ValueError("params lack the bench section; copy it from the project's params.yaml")
    section = params["bench"]
    settings = {k: v for k, v in section.items() if not k.startswith("quick_")}
    if quick:
        for key, value in section.items():
            if key.startswith("quick_"):
                settings[key.removeprefix("quick_")] = value
    scales = [int(s) for s in settings["scales"]]
    settings["segment_ratio_scales"] = sorted({int(s) for s in settings["segment_ratio_scales"]})
    if not set(settings["segment_ratio_scales"]) <= set(scales) or int(settings["themes_ratio_scale"]) not in scales:
        raise ValueError("bench segment_ratio_scales and themes_ratio_scale must be among the scales")
    settings["scales"] = sorted(set(scales))
    return settings


def merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of `base` with `overrides` merged in, section by section."""
    merged = copy.deepcopy(base)
    for key, value in (overrides or {}).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def scale_params(params: dict[str, Any], settings: dict[str, Any], scale: int) -> dict[str, Any]:
    """The study parameters a benchmark run at `scale` uses (condition `bench`).

    The notebooks are executed by the `report` task after the run instead of
    inside it, so that a failing notebook costs the report's row, not the
    scale's measurements.
    """
    run = merge(params, settings.get("overrides", {}))
    run["report"]["execute_notebooks"] = False
    return run


# --------------------------------------------------------------------------
# scaled corpora (pure)


def synthetic_corpus(articles: Sequence[dict[str, Any]], factor: int, articles_per_place: int,
                     seed: int) -> list[dict[str, str]]:
    """Resample real articles' units into 5·factor synthetic articles.

    `articles`: one dict per real article, in manifest order, with `doc_id`,
    `province` and `units` (the cleaned unit texts). Returns manifest rows
    (doc_id, file, place, level, province, source, date, notes) with the
    article's `text`. Deterministic for a given seed; no two articles share a
    text (the ingestion stage refuses duplicates).
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
    """The real articles as `synthetic_corpus` needs them, from a run's units."""
    by_doc: dict[str, list[str]] = {}
    for unit in units:
        by_doc.setdefault(unit["doc_id"], []).append(unit["text"])
    return [{"doc_id": row["doc_id"], "province": row["province"] or row["place"], "units": by_doc[row["doc_id"]]}
            for row in manifest_rows if row["doc_id"] in by_doc]


# --------------------------------------------------------------------------
# project roots


def write_project(root: Path, source: Paths, run_params: dict[str, Any], rows: Sequence[dict[str, str]] | None,
                  with_notebooks: bool) -> Paths:
    """A project root at `root` with the given corpus (None: the real one), the
    project's lexicon, `run_params` as params.yaml, and the jieba cache."""
    import yaml

    from pipeline.ingest import MANIFEST_COLUMNS

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
    if with_notebooks and source.notebooks.exists():
        shutil.copytree(source.notebooks, target.notebooks)
    # A warm dictionary cache, as in any run after the first.
    if source.jieba_cache.exists():
        shutil.copytree(source.jieba_cache, target.jieba_cache)
    io.write_text(yaml.safe_dump(run_params, allow_unicode=True, sort_keys=False), target.params)
    return target


# --------------------------------------------------------------------------
# memory of a process tree


def tree_rss_mb() -> float:
    """Resident memory of this process and all its descendants, in MB."""
    import psutil

    me = psutil.Process()
    total = me.memory_info().rss
    for child in me.children(recursive=True):
        try:
            total += child.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass  # a worker that ended between listing and reading
    return total / 2**20


class StageMemory(logging.Handler):
    """Peak tree memory per runner stage, following the runner's stage log lines."""

    def __init__(self, interval: float):
        super().__init__(level=logging.INFO)
        self.interval = interval
        self.current = "setup"
        self.peaks: dict[str, float] = {}
        self.overall = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-memory", daemon=True)

    def sample(self) -> None:
        value = tree_rss_mb()
        with self._lock:
            self.peaks[self.current] = max(self.peaks.get(self.current, 0.0), value)
            self.overall = max(self.overall, value)

    def emit(self, record: logging.LogRecord) -> None:
        match = _STAGE_EVENT.match(record.getMessage())
        if match:
            self.sample()  # closes the previous span
            with self._lock:
                self.current = match.group(1) if match.group(2) == "started" else "between"

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> "StageMemory":
        logging.getLogger("pipeline").addHandler(self)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()
        logging.getLogger("pipeline").removeHandler(self)


# --------------------------------------------------------------------------
# tasks, each run in a fresh process (`python -m pipeline.bench TASK job.json`)


def _task_scale(job: dict[str, Any]) -> dict[str, Any]:
    """The whole study on one project root; per-stage time and memory."""
    from pipeline.params import load_params
    from pipeline.runner import run_study

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
    """Our segmentation in 1 and 2 processes, and plain jieba, on one scale's cleaned texts."""
    import jieba

    from pipeline import lexicon as lex_mod
    from pipeline import segment as seg_mod
    from pipeline.params import load_params
    from pipeline.runner import build_segmenter, segment_article, segment_articles

    root = Paths.at(job["root"])
    params = load_params(root.params)
    jobs = _clean_jobs(root)
    lexicon = lex_mod.load_lexicon(root.lexicon / "governance_terms.csv")
    timings: dict[str, float] = {}

    def timed(name, fn):
        start = time.perf_counter()
        value = fn()
        timings[name] = time.perf_counter() - start
        log.info("bench: %s took %.1f s", name, timings[name])
        return value

    # Each measurement includes its own dictionary loads, as a stage run does.
    one = timed("segment_1_process", lambda: segment_articles(root, params, lexicon, jobs, 1))
    two = timed("segment_2_processes", lambda: segment_articles(root, params, lexicon, jobs, 2))
    identical = one == two
    del two

    def plain_jieba():
        tokenizer = jieba.Tokenizer()
        tokenizer.initialize()
        return [tokenizer.lcut(text) for _, _, text in jobs]

    timed("raw_jieba_lcut", plain_jieba)

    # Steady state (dictionaries already loaded), and where our time goes.
    segmenter = build_segmenter(root, params, lexicon)
    segment_article("warm", "warm", jobs[0][2], segmenter)  # loads the POS tagger's tag table
    timed("segment_steady", lambda: [segment_article(*j, segmenter) for j in jobs])
    raw = jieba.Tokenizer()
    raw.initialize()
    timed("raw_jieba_lcut_steady", lambda: [raw.lcut(text) for _, _, text in jobs])
    texts = [u["text"] for article in one for u in article["units"]]
    timed("component_lexicon_pos_cut", lambda: [seg_mod.segment(t, segmenter.tokenizer, segmenter.hmm) for t in texts])
    plain = segmenter.plain_tokenizer or seg_mod.build_plain_tokenizer(root.jieba_cache)
    timed("component_plain_cut", lambda: [seg_mod.plain_tokens(t, plain, segmenter.general_stopwords)
                                          for t in texts])
    return {"timings": timings, "identical": bool(identical), "articles": len(jobs),
            "units": len(texts), "chars": sum(len(t) for _, _, t in jobs)}


def _themes_run(root: Paths, theme_params: dict[str, Any]) -> tuple[dict[str, Any], float]:
    from pipeline import lexicon as lex_mod
    from pipeline import themes

    units = io.read_jsonl(root.units_jsonl)
    categories = lex_mod.category_map(lex_mod.load_lexicon(root.lexicon / "governance_terms.csv"))
    labels = themes.load_topic_labels(root.lexicon / "topic_labels.csv")
    if theme_params.get("ablation") and any("plain_tokens" not in u for u in units):
        # The bench condition runs without the ablation, so its units carry no
        # plain-jieba tokens; they are made here as the segmentation stage
        # makes them when the ablation is on, outside the timed themes stage.
        from pipeline import segment as seg_mod

        plain, stopwords = seg_mod.build_plain_tokenizer(root.jieba_cache), seg_mod.general_stopwords()
        for unit in units:
            unit["plain_tokens"] = seg_mod.plain_tokens(unit["text"], plain, stopwords)
    start = time.perf_counter()
    found = themes.run_themes(units, categories, theme_params, labels)
    return found, time.perf_counter() - start


def _task_themes_ratio(job: dict[str, Any]) -> dict[str, Any]:
    """The themes stage serially and in 2 processes on one scale's units; identical tables?"""
    from pipeline.params import load_params

    root = Paths.at(job["root"])
    theme_params = load_params(root.params)["themes"]
    serial, serial_s = _themes_run(root, {**theme_params, "processes": 1})
    log.info("bench: themes in 1 process took %.1f s", serial_s)
    parallel, parallel_s = _themes_run(root, {**theme_params, "processes": 2})
    log.info("bench: themes in 2 processes took %.1f s", parallel_s)
    frames = sorted(k for k, v in serial.items() if isinstance(v, pd.DataFrame))
    differing = [k for k in frames if not (isinstance(parallel.get(k), pd.DataFrame) and serial[k].equals(parallel[k]))]
    if serial["chosen_k"] != parallel["chosen_k"]:
        differing.append("chosen_k")
    return {"timings": {"themes_1_process": serial_s, "themes_2_processes": parallel_s},
            "identical": not differing, "differing": differing, "tables": frames}


def _task_report(job: dict[str, Any]) -> dict[str, Any]:
    """The report stage (every notebook executed, the HTML export) on a finished run's results."""
    import tempfile

    from pipeline.report import build_report

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
    from pipeline.params import load_params
    from pipeline.runner import StudyState, stage_corpus, stage_segment

    root = Paths.at(job["root"])
    state = StudyState(params=load_params(root.params))
    stage_corpus(root, state)
    seg = stage_segment(root, state)
    io.write_jsonl(seg.units, root.units_jsonl)
    return {"units": len(seg.units)}


def _task_study_themes(job: dict[str, Any]) -> dict[str, Any]:
    """The themes stage with the study's own parameters on one scale's units."""
    with StageMemory(job["sample_seconds"]) as memory:
        _, seconds = _themes_run(Paths.at(job["root"]), job["themes"])
    return {"seconds": seconds, "peak_rss_mb": memory.overall}


TASKS = {"real_units": _task_real_units, "scale": _task_scale, "report": _task_report,
         "segment_ratios": _task_segment_ratios,
         "themes_ratio": _task_themes_ratio, "study_themes": _task_study_themes}


def main(argv: Sequence[str] | None = None) -> int:
    """Run one task in this process: `python -m pipeline.bench TASK job.json result.json`."""
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
    """Run a task in a fresh Python process and return what it reports."""
    import pipeline

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


# --------------------------------------------------------------------------
# summaries (pure)


def growth_exponent(sizes: Sequence[float], seconds: Sequence[float]) -> float:
    """Least-squares slope of log(seconds) on log(size); NaN with fewer than two sizes."""
    x, y = np.log(np.asarray(sizes, dtype=float)), np.log(np.asarray(seconds, dtype=float))
    if len(set(x.tolist())) < 2:
        return float("nan")
    return float(np.polyfit(x, y, 1)[0])


def fit_rows(table: pd.DataFrame, condition: str = "bench", min_scale: int = 10) -> pd.DataFrame:
    """Per stage: its growth exponent in units, fitted on the scales >= min_scale
    (all scales when fewer than two are that large), so that fixed start-up
    costs (dictionary loads) do not flatten the slope of the large runs."""
    rows = []
    part = table[(table["condition"] == condition) & (table["seconds"] > 0)]
    for stage, group in part.groupby("stage", sort=False):
        used = group[group["scale"] >= min_scale]
        if used["scale"].nunique() < 2:
            used = group
        top = group.sort_values("units").tail(2)
        rows.append({"stage": stage, "exponent": growth_exponent(used["units"], used["seconds"]),
                     "fit_scales": ",".join(str(s) for s in sorted(used["scale"].unique())),
                     # the local slope between the two largest scales, where start-up costs matter least
                     "exponent_largest": growth_exponent(top["units"], top["seconds"])})
    return pd.DataFrame(rows, columns=["stage", "exponent", "fit_scales", "exponent_largest"])


def extrapolate(sizes: Sequence[float], seconds: Sequence[float], targets: Sequence[float]) -> list[float]:
    """Seconds at `targets` sizes by the power law through the largest measured size."""
    b = growth_exponent(sizes, seconds)
    i = int(np.argmax(sizes))
    return [float(seconds[i] * (t / sizes[i]) ** b) for t in targets]


def bench_table(scales: dict[int, dict[str, Any]]) -> pd.DataFrame:
    """bench.csv: one row per scale x stage."""
    order = {name: i for i, name in enumerate(STAGES)}
    rows = []
    for scale, found in scales.items():
        for stage, values in found["stages"].items():
            rows.append({"scale": scale, "condition": found.get("condition", "bench"),
                         **{k: found[k] for k in ("articles", "places", "units", "tokens", "chars")},
                         "stage": stage, "seconds": round(values["seconds"], 3),
                         "peak_rss_mb": round(values["peak_rss_mb"], 1), "maxrss_mb": round(values["maxrss_mb"], 1)})
    table = pd.DataFrame(rows, columns=BENCH_CSV_COLUMNS)
    # The study's stages in running order, each followed by its output
    # timer (emphases_output after emphases), then other and total.
    def rank(stage: str) -> tuple[int, int, str]:
        if stage in (OTHER, TOTAL):
            return (len(order) + 1, stage == TOTAL, stage)
        base = stage.split("_")[0]
        return (order.get(base, len(order)), stage != base, stage)

    table["_order"] = table["stage"].map(rank)
    return table.sort_values(["condition", "scale", "_order"]).drop(columns="_order").reset_index(drop=True)


def ratio_row(name: str, scale: int, numerator: str, numerator_s: float, denominator: str, denominator_s: float,
              target: float | None, identical: bool | None) -> dict[str, Any]:
    """`value` = numerator_seconds / denominator_seconds: how many times faster the denominator is."""
    value = numerator_s / denominator_s
    return {"ratio": name, "scale": scale, "numerator": numerator, "numerator_seconds": round(numerator_s, 3),
            "denominator": denominator, "denominator_seconds": round(denominator_s, 3), "value": round(value, 3),
            "target": "" if target is None else target,
            "meets_target": "" if target is None else bool(value >= target),
            "identical": "" if identical is None else bool(identical)}


def ratio_table(segment: dict[int, dict[str, Any]], themes: dict[str, Any], themes_scale: int,
                targets: dict[str, float]) -> pd.DataFrame:
    """Ratio rows: the segmentation ratios at each scale of `segment`, then the themes ratio."""
    rows = []
    for scale in sorted(segment):
        t = segment[scale]["timings"]
        rows += [
            ratio_row("segment_vs_raw_jieba", scale, "raw_jieba_lcut", t["raw_jieba_lcut"], "segment_1_process",
                      t["segment_1_process"], targets["segment_vs_jieba"], None),
            ratio_row("segment_vs_raw_jieba_steady", scale, "raw_jieba_lcut_steady", t["raw_jieba_lcut_steady"],
                      "segment_steady", t["segment_steady"], targets["segment_vs_jieba"], None),
            ratio_row("segment_2_vs_1_processes", scale, "segment_1_process", t["segment_1_process"],
                      "segment_2_processes", t["segment_2_processes"], targets["segment_speedup"],
                      segment[scale]["identical"]),
        ]
    rows.append(ratio_row("themes_2_vs_1_processes", themes_scale, "themes_1_process",
                          themes["timings"]["themes_1_process"], "themes_2_processes",
                          themes["timings"]["themes_2_processes"], targets.get("themes_speedup"), themes["identical"]))
    return pd.DataFrame(rows, columns=RATIO_COLUMNS)


# --------------------------------------------------------------------------
# the benchmark


def _machine() -> dict[str, Any]:
    import psutil
    from importlib import metadata

    versions = {}
    for name in ("gensim", "jieba", "numpy", "scikit-learn"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {"cpus": os.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(), "platform": platform.platform(), "packages": versions}


def run_bench(paths: Paths, params: dict[str, Any], quick: bool = False, out_dir: Path | None = None,
              work_dir: Path | None = None) -> dict[str, Any]:
    """Run the benchmark; write bench.csv, bench.png, ratios.csv and summary.json.

    `out_dir` defaults to results/bench/ and is the only folder of results/
    touched; `work_dir` (default build/bench/) holds the scaled project roots.
    Returns the summary. Raises AssertionError after writing everything if a
    parallel run's output differs from its serial run.
    """
    from pipeline.ingest import read_manifest

    settings = bench_settings(params, quick)
    out_dir = Path(out_dir) if out_dir else paths.results / "bench"
    work_dir = Path(work_dir) if work_dir else paths.build / "bench"
    if work_dir.exists():
        shutil.rmtree(work_dir)
    work_dir.mkdir(parents=True)
    mode = "quick" if quick else "full"
    log.info("bench (%s): scales %s, working in %s", mode, settings["scales"], work_dir)

    measured: dict[int, dict[str, Any]] = {}
    roots: dict[int, Paths] = {}
    articles = None
    if 1 not in settings["scales"]:
        # The scaled corpora are drawn from the real corpus's cleaned units.
        real = write_project(work_dir / "real_units", paths, scale_params(params, settings, 1), None, False)
        run_task("real_units", {"root": str(real.root)}, work_dir / "tasks" / "real_units")
        articles = real_articles(io.read_jsonl(real.units_jsonl), read_manifest(real.manifest_csv))
    for scale in settings["scales"]:
        run_params = scale_params(params, settings, scale)
        root_dir = work_dir / f"scale_{scale:05d}"
        with_report = scale in [int(s) for s in settings.get("report_scales", [])] and \
            bool(params["report"]["execute_notebooks"])
        if scale == 1:
            roots[scale] = write_project(root_dir, paths, run_params, None, with_notebooks=with_report)
        else:
            rows = synthetic_corpus(articles, scale, int(settings["articles_per_place"]), int(settings["seed"]))
            roots[scale] = write_project(root_dir, paths, run_params, rows, with_notebooks=with_report)
        log.info("bench: scale %dx: running the study on %s", scale, root_dir)
        found = run_task("scale", {"root": str(root_dir), "sample_seconds": settings["sample_seconds"]},
                         work_dir / "tasks" / f"scale_{scale:05d}")
        measured[scale] = found
        log.info("bench: scale %dx: %d articles, %d units, %d tokens; total %.1f s, peak %.0f MB", scale,
                 found["articles"], found["units"], found["tokens"], found["stages"][TOTAL]["seconds"],
                 found["stages"][TOTAL]["peak_rss_mb"])
        if scale == 1:
            articles = real_articles(io.read_jsonl(roots[1].units_jsonl), read_manifest(roots[1].manifest_csv))
        if with_report:
            log.info("bench: scale %dx: the report", scale)
            report = run_task("report", {"root": str(root_dir), "notebooks": str(roots[scale].notebooks),
                                         "sample_seconds": settings["sample_seconds"]},
                              work_dir / "tasks" / f"report_{scale:05d}")
            if "error" in report:
                log.warning("bench: scale %dx: no report timing (%s)", scale, report["error"])

    seg_ratios = {}
    for scale in settings["segment_ratio_scales"]:
        log.info("bench: segmentation ratios on the %dx corpus", scale)
        seg_ratios[scale] = run_task("segment_ratios", {"root": str(roots[scale].root)},
                                     work_dir / "tasks" / f"segment_ratios_{scale:05d}")
    themes_scale = int(settings["themes_ratio_scale"])
    log.info("bench: themes ratio on the %dx corpus", themes_scale)
    theme_ratio = run_task("themes_ratio", {"root": str(roots[themes_scale].root)}, work_dir / "tasks" / "themes_ratio")

    study_themes: dict[int, dict[str, Any]] = {}
    for scale in [int(s) for s in settings.get("study_themes_scales", [])]:
        log.info("bench: themes with the study's parameters at %dx", scale)
        study_themes[scale] = run_task("study_themes", {"root": str(roots[scale].root), "themes": params["themes"],
                                                        "sample_seconds": settings["sample_seconds"]},
                                       work_dir / "tasks" / f"study_themes_{scale:05d}")

    write_outputs(work_dir, out_dir, params, quick)
    assert all(r["identical"] for r in seg_ratios.values()), "segmentation in 2 processes gave different tokens than in 1"
    assert theme_ratio["identical"], f"themes in 2 processes differ from 1 in {theme_ratio['differing']}"
    return json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))


def _read_result(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def write_outputs(work_dir: Path, out_dir: Path, params: dict[str, Any], quick: bool) -> None:
    """bench.csv, ratios.csv, summary.json and bench.png from the tasks' result
    files under `work_dir`/tasks (so that they can be redrawn without rerunning)."""
    from pipeline.figures_bench import plot_bench

    settings = bench_settings(params, quick)
    tasks = Path(work_dir) / "tasks"
    measured: dict[int, dict[str, Any]] = {}
    reports: dict[int, dict[str, Any]] = {}
    for scale in settings["scales"]:
        measured[scale] = _read_result(tasks / f"scale_{scale:05d}" / "scale.result.json")
        report_file = tasks / f"report_{scale:05d}" / "report.result.json"
        if report_file.exists():
            reports[scale] = _read_result(report_file)
            if "seconds" in reports[scale]:
                measured[scale]["stages"][REPORT] = {"seconds": reports[scale]["seconds"],
                                                     "peak_rss_mb": reports[scale]["peak_rss_mb"],
                                                     "maxrss_mb": float("nan")}
    seg_ratios = {int(s): _read_result(tasks / f"segment_ratios_{int(s):05d}" / "segment_ratios.result.json")
                  for s in settings["segment_ratio_scales"]}
    theme_ratio = _read_result(tasks / "themes_ratio" / "themes_ratio.result.json")
    study_themes = {int(s): _read_result(tasks / f"study_themes_{int(s):05d}" / "study_themes.result.json")
                    for s in settings.get("study_themes_scales", [])}

    table = bench_table(measured)
    study_rows = [{"scale": s, "condition": "study",
                   **{k: measured[s][k] for k in ("articles", "places", "units", "tokens", "chars")},
                   "stage": "themes", "seconds": round(r["seconds"], 3), "peak_rss_mb": round(r["peak_rss_mb"], 1),
                   "maxrss_mb": float("nan")} for s, r in study_themes.items()]
    if study_rows:
        table = pd.concat([table, pd.DataFrame(study_rows, columns=BENCH_CSV_COLUMNS)], ignore_index=True)
    ratios = ratio_table(seg_ratios, theme_ratio, int(settings["themes_ratio_scale"]), settings["targets"])
    fits = fit_rows(table)
    summary = _summary(table, fits, ratios, seg_ratios, theme_ratio, study_themes, measured, settings,
                       "quick" if quick else "full")
    summary["report"] = {str(s): r for s, r in reports.items()}

    staging = Path(work_dir) / "out"
    if staging.exists():
        shutil.rmtree(staging)
    io.write_csv(table, staging / "bench.csv")
    io.write_csv(ratios, staging / "ratios.csv")
    io.write_json(_finite(summary), staging / "summary.json")
    plot_bench(table, fits, staging / "bench.png")
    # Only out_dir is replaced; nothing else under results/ is touched.
    if out_dir.exists():
        shutil.rmtree(out_dir)
    shutil.copytree(staging, out_dir)
    log.info("bench: written to %s", out_dir)


def _finite(value: Any) -> Any:
    """NaN and infinities as null, so that summary.json is strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _summary(table: pd.DataFrame, fits: pd.DataFrame, ratios: pd.DataFrame, seg_ratios: dict, theme_ratio: dict,
             study_themes: dict[int, dict], measured: dict[int, dict], settings: dict, mode: str) -> dict[str, Any]:
    targets = settings["targets"]
    largest = max(measured)
    big = measured[largest]["stages"]
    slowest = max((s for s in big if s != TOTAL), key=lambda s: big[s]["seconds"])
    peak_mb = max(v["peak_rss_mb"] for v in big.values())
    scales = {str(s): {"articles": m["articles"], "places": m["places"], "units": m["units"], "tokens": m["tokens"],
                       "chars": m["chars"], "total_seconds": round(m["stages"][TOTAL]["seconds"], 1),
                       "peak_rss_mb": round(max(v["peak_rss_mb"] for v in m["stages"].values()), 1),
                       "load_average": m.get("load_average")}
              for s, m in measured.items()}
    summary: dict[str, Any] = {
        "mode": mode,
        "machine": _machine(),
        "settings": settings,
        "scales": scales,
        "exponents": {r.stage: {"exponent": round(r.exponent, 3), "fit_scales": r.fit_scales,
                                "exponent_two_largest_scales": round(r.exponent_largest, 3)}
                      for r in fits.itertuples()},
        "largest_scale": {
            "scale": largest, "total_seconds": round(big[TOTAL]["seconds"], 1), "peak_rss_mb": round(peak_mb, 1),
            "slowest_stage": slowest, "slowest_stage_seconds": round(big[slowest]["seconds"], 1),
            "meets_time_target": bool(big[TOTAL]["seconds"] <= targets["minutes_largest"] * 60),
            "meets_memory_target": bool(peak_mb <= targets["peak_gb"] * 1024),
            "targets": {"minutes": targets["minutes_largest"], "peak_gb": targets["peak_gb"]},
        },
        "ratios": {f"{r.ratio} at {r.scale}x": {"value": r.value, "target": r.target, "meets_target": r.meets_target,
                                                "identical": r.identical} for r in ratios.itertuples()},
        "segment_timings": {f"{scale}x": {k: round(v, 3) for k, v in r["timings"].items()}
                            for scale, r in sorted(seg_ratios.items())},
        "ratio_load_average": {"segment": {f"{scale}x": r.get("load_average") for scale, r in sorted(seg_ratios.items())},
                               "themes": theme_ratio.get("load_average")},
        "themes_parallel_tables_compared": theme_ratio["tables"],
    }
    if study_themes:
        sizes = [measured[s]["units"] for s in study_themes]
        seconds = [study_themes[s]["seconds"] for s in study_themes]
        others = [s for s in measured if s > max(study_themes)]
        estimates = extrapolate(sizes, seconds, [measured[s]["units"] for s in others])
        summary["study_themes"] = {
            "note": "themes stage with the study's own themes parameters; larger scales extrapolated by the fitted exponent",
            "measured_seconds": {str(s): round(v, 1) for s, v in zip(study_themes, seconds)},
            "load_average": {str(s): r.get("load_average") for s, r in study_themes.items()},
            "exponent": round(growth_exponent(sizes, seconds), 3),
            "extrapolated_seconds": {str(s): round(v, 0) for s, v in zip(others, estimates)},
        }
    return summary


if __name__ == "__main__":
    sys.exit(main())
