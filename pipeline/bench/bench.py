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
run through `pipeline.run.runner.run_study` exactly as the real corpus is, with
the stage cache off: ingestion, cleaning, segmentation, emphases and the LDA
sweep, with every table and figure. The real corpus itself is run the same
way as scale 1.

Resampling keeps the real corpus's vocabulary: a scaled corpus repeats each
real unit about f times, so its vocabulary does not grow with f as a real
corpus's would, and a topic model converges in fewer passes over it.

Conditions
----------
Every scale runs with the study's own `params.yaml` (condition `study`): the
same K sweep, seeds, passes rule, ablation and keyword-assisted fits a
researcher runs. `bench.overrides` holds only what the resampled corpus
forces (its articles are near-duplicates by construction, so that check is
off); the quick mode's overrides shrink the topic sweep for the test suite.

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
processes against 1 (the median of `whole_stage_pairs` alternating pairs of
whole-stage runs), at each of `segment_ratio_scales` (loading the
dictionaries costs the same at every scale, so both ratios grow with the
corpus); at the largest of them, cleaning on 2 workers against 1 process,
and segmentation's throughput on 2 workers and on 2 bare processes (the
machine's own ceiling) against 1, in interleaved pairs of slices
(`pipeline.bench.workers_ratio`); the themes stage with 2 processes against
1 at `themes_ratio_scale`. Identical output is asserted for every parallel
run.

Everything is written to results/bench/ (or the folder given); the scaled
project roots are working files under build/bench/.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any


from pipeline.bench.corpus import real_articles, synthetic_corpus, write_project
from pipeline.bench.figure import plot_bench
from pipeline.bench.settings import REPORT, TOTAL, bench_settings, log, scale_params
from pipeline.bench.summary import bench_summary, bench_table, finite_json, fit_rows, ratio_table
from pipeline.bench.tasks import run_task
from pipeline.common import io
from pipeline.common.config import Paths
from pipeline.common.params import StudyParams
from pipeline.corpus.ingest import read_manifest

__all__ = ["run_bench", "write_outputs"]


def run_bench(paths: Paths, params: StudyParams, quick: bool = False, out_dir: Path | None = None,  # noqa: PLR0915 (the benchmark's steps in the order they run: each scale, then each ratio)
              work_dir: Path | None = None) -> dict[str, Any]:
    """Run the benchmark; write bench.csv, bench.png, ratios.csv and summary.json.

    Parameters
    ----------
    paths : Paths
        The project's folders: the real corpus, lexicon and background counts the scaled roots copy.
    params : StudyParams
        The study's parameters, with their `bench` section.
    quick : bool
        Whether the quick mode's settings (`quick_*` keys and overrides) are used.
    out_dir : Path or None
        Where the outputs go; defaults to results/bench/, the only folder of results/ touched.
    work_dir : Path or None
        The scaled project roots and the tasks' files; defaults to build/bench/ (emptied first).

    Returns
    -------
    dict[str, Any]
        The summary, as written to summary.json.

    Raises
    ------
    AssertionError
        After writing everything, if a parallel run's output differs from its serial run.
    """
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
            params.report.execute_notebooks
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
        seg_ratios[scale] = run_task("segment_ratios", {"root": str(roots[scale].root),
                                                        "pairs": int(settings["whole_stage_pairs"])},
                                     work_dir / "tasks" / f"segment_ratios_{scale:05d}")
    clean_scale = max(settings["segment_ratio_scales"])
    log.info("bench: cleaning ratio on the %dx corpus", clean_scale)
    clean_ratio = run_task("clean_ratio", {"root": str(roots[clean_scale].root)}, work_dir / "tasks" / "clean_ratio")
    log.info("bench: segmentation on 2 workers and 2 bare processes against 1, interleaved, on the %dx corpus",
             clean_scale)
    workers_ratio = run_task("workers_ratio", {"root": str(roots[clean_scale].root),
                                               "slices": int(settings["workers_ratio_slices"])},
                             work_dir / "tasks" / "workers_ratio")
    themes_scale = int(settings["themes_ratio_scale"])
    log.info("bench: themes ratio on the %dx corpus", themes_scale)
    theme_ratio = run_task("themes_ratio", {"root": str(roots[themes_scale].root)}, work_dir / "tasks" / "themes_ratio")

    write_outputs(work_dir, out_dir, params, quick)
    assert all(r["identical"] for r in seg_ratios.values()), "segmentation in 2 processes gave different tokens than in 1"
    assert workers_ratio["identical"], "segmentation on 2 workers gave different tokens than in 1 process"
    assert clean_ratio["identical"], "cleaning on 2 workers gave different texts than in 1 process"
    assert theme_ratio["identical"], f"themes in 2 processes differ from 1 in {theme_ratio['differing']}"
    return json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))


def _read_result(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def write_outputs(work_dir: Path, out_dir: Path, params: StudyParams, quick: bool) -> None:
    """bench.csv, ratios.csv, summary.json and bench.png from the tasks' result
    files under `work_dir`/tasks (so that they can be redrawn without rerunning)."""
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
    clean_ratio = _read_result(tasks / "clean_ratio" / "clean_ratio.result.json")
    workers_ratio = _read_result(tasks / "workers_ratio" / "workers_ratio.result.json")

    table = bench_table(measured)
    totals = {scale: found["stages"]["total"]["seconds"] for scale, found in measured.items()
              if found.get("condition", "study") == "study" and "total" in found["stages"]}
    ratios = ratio_table(seg_ratios, theme_ratio, int(settings["themes_ratio_scale"]), settings["targets"],
                         clean_ratio, max(settings["segment_ratio_scales"]), workers_ratio, totals)
    fits = fit_rows(table)
    summary = bench_summary(table, fits, ratios, seg_ratios, theme_ratio, measured, settings,
                       "quick" if quick else "full")
    summary["report"] = {str(s): r for s, r in reports.items()}

    staging = Path(work_dir) / "out"
    if staging.exists():
        shutil.rmtree(staging)
    io.write_csv(table, staging / "bench.csv")
    io.write_csv(ratios, staging / "ratios.csv")
    io.write_json(finite_json(summary), staging / "summary.json")
    plot_bench(table, fits, staging / "bench.png")
    # Only out_dir is replaced; nothing else under results/ is touched.
    if out_dir.exists():
        shutil.rmtree(out_dir)
    shutil.copytree(staging, out_dir)
    log.info("bench: written to %s", out_dir)
