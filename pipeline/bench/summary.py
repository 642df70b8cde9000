"""Summaries of the benchmark's measurements (pure): growth exponents, extrapolations, the bench and ratio tables and summary.json."""

from __future__ import annotations

import math
import os
import platform
from importlib import metadata
from typing import Any, Sequence

import numpy as np
import pandas as pd
import psutil

from pipeline.bench.settings import BENCH_CSV_COLUMNS, OTHER, RATIO_COLUMNS, STAGES, TOTAL

__all__ = ["bench_summary", "bench_table", "finite_json", "fit_rows", "growth_exponent", "interleaved_row", "ratio_row",
           "ratio_table"]


def growth_exponent(sizes: Sequence[float], seconds: Sequence[float]) -> float:
    """Least-squares slope of log(seconds) on log(size); NaN with fewer than two sizes."""
    x, y = np.log(np.asarray(sizes, dtype=float)), np.log(np.asarray(seconds, dtype=float))
    if len(set(x.tolist())) < 2:
        return float("nan")
    return float(np.polyfit(x, y, 1)[0])


def fit_rows(table: pd.DataFrame, condition: str = "study", min_scale: int = 10) -> pd.DataFrame:
    """Per stage: its growth exponent in units, fitted on the scales >= min_scale
    (all scales when fewer than two are that large), so that fixed start-up
    costs (dictionary loads) do not flatten the slope of the large runs.

    Parameters
    ----------
    table : pd.DataFrame
        bench.csv: one row per scale x stage.
    condition : str
        The condition whose timings are fitted.
    min_scale : int
        The smallest scale a fit uses, when at least two scales reach it.

    Returns
    -------
    pd.DataFrame
        Columns stage, exponent, fit_scales and exponent_largest (the slope between the two largest scales).
    """
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


def bench_table(scales: dict[int, dict[str, Any]]) -> pd.DataFrame:
    """bench.csv: one row per scale x stage.

    Parameters
    ----------
    scales : dict[int, dict[str, Any]]
        Each scale's measurements, as its `scale` task reports them (sizes and per-stage seconds and memory).

    Returns
    -------
    pd.DataFrame
        The `BENCH_CSV_COLUMNS` rows, by condition and scale, stages in running order, then other and total.
    """
    order = {name: i for i, name in enumerate(STAGES)}
    rows = []
    for scale, found in scales.items():
        for stage, values in found["stages"].items():
            rows.append({"scale": scale, "condition": found.get("condition", "study"),
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


def interleaved_row(name: str, scale: int, found: dict[str, Any], target: float | None,
                    sides: tuple[str, str] = ("raw_jieba_lcut_cpu", "segment_cpu"),
                    identical: bool | None = None) -> dict[str, Any]:
    """A ratio measured in interleaved pairs (`pipeline.bench.segment_ratio`): `value` is the median of
    the pairs' ratios, robust to the machine's drift; the seconds are the two sides' totals (`sides`
    names them: theirs, the numerator, then ours)."""
    row = ratio_row(name, scale, sides[0], found["theirs_seconds"], sides[1], found["ours_seconds"], target, identical)
    value = round(float(found["ratio"]), 3)
    return {**row, "value": value, "meets_target": "" if target is None else bool(value >= target)}


def ratio_table(segment: dict[int, dict[str, Any]], themes: dict[str, Any], themes_scale: int,
                targets: dict[str, float], clean: dict[str, Any] | None = None, clean_scale: int = 0,
                workers: dict[str, Any] | None = None, totals: dict[int, float] | None = None) -> pd.DataFrame:
    """Ratio rows: at each scale of `segment`, our segmentation against raw jieba (interleaved; with the
    ablation's second cut too, where it ran), the whole study against raw jieba over the same text (where
    `totals` has the scale) and segmentation on 2 workers against 1 process; then cleaning on 2 workers
    against 1 process, and at the same scale segmentation's interleaved throughput on 2 workers and on 2 bare
    processes (the machine's ceiling, no target) against 1; then the themes stage on 2 workers against 1.

    Parameters
    ----------
    segment : dict[int, dict[str, Any]]
        Each scale's `segment_ratios` task result.
    themes : dict[str, Any]
        The `themes_ratio` task result.
    themes_scale : int
        The scale the themes ratio was measured at.
    targets : dict[str, float]
        The benchmark's targets (`segment_vs_jieba`, `workers_speedup`).
    clean : dict[str, Any] or None
        The `clean_ratio` task result; None for no cleaning row.
    clean_scale : int
        The scale the cleaning and interleaved worker ratios were measured at.
    workers : dict[str, Any] or None
        The `workers_ratio` task result; None for no interleaved worker rows.
    totals : dict[int, float] or None
        The whole study's seconds at each scale (bench.csv's total rows); None for no study rows.

    Returns
    -------
    pd.DataFrame
        ratios.csv: the `RATIO_COLUMNS` rows.
    """
    rows = []
    for scale in sorted(segment):
        found, t = segment[scale]["interleaved"], segment[scale]["timings"]
        rows.append(interleaved_row("segment_vs_raw_jieba", scale, found["segment_vs_raw_jieba"],
                                    targets["segment_vs_jieba"]))
        if "segment_with_ablation_vs_raw_jieba" in found:
            rows.append(interleaved_row("segment_with_ablation_vs_raw_jieba", scale,
                                        found["segment_with_ablation_vs_raw_jieba"], None))
        if totals and scale in totals:
            rows.append(ratio_row("study_vs_raw_jieba", scale, "raw_jieba_lcut_cpu",
                                  found["segment_vs_raw_jieba"]["theirs_seconds"], "study_total", totals[scale],
                                  targets.get("study_vs_jieba"), None))
        if "whole_stage" in segment[scale]:  # the median of alternating pairs; seconds are the sums
            rows.append(interleaved_row("segment_2_workers_vs_1_process", scale, segment[scale]["whole_stage"],
                                        targets["workers_speedup"], ("segment_1_process", "segment_2_workers"),
                                        segment[scale]["identical"]))
        else:
            rows.append(ratio_row("segment_2_workers_vs_1_process", scale, "segment_1_process",
                                  t["segment_1_process"], "segment_2_workers", t["segment_2_processes"],
                                  targets["workers_speedup"], segment[scale]["identical"]))
    if clean is not None:
        rows.append(ratio_row("clean_2_workers_vs_1_process", clean_scale, "clean_1_process",
                              clean["timings"]["clean_1_process"], "clean_2_workers",
                              clean["timings"]["clean_2_workers"], targets["workers_speedup"], clean["identical"]))
    if workers is not None:
        for name, key, sides, target in (
                ("segment_2_workers_vs_1_process_interleaved", "workers_vs_process", ("segment_1_process",
                 "segment_2_workers"), targets["workers_speedup"]),
                ("segment_2_bare_processes_vs_1_ceiling", "bare_processes_ceiling", ("segment_1_bare_process",
                 "segment_2_bare_processes"), None)):
            rows.append(interleaved_row(name, clean_scale, workers[key], target, sides, workers[key].get("identical")))
    rows.append(ratio_row("themes_2_workers_vs_1_process", themes_scale, "themes_1_process",
                          themes["timings"]["themes_1_process"], "themes_2_workers",
                          themes["timings"]["themes_2_processes"], None, themes["identical"]))
    return pd.DataFrame(rows, columns=RATIO_COLUMNS)


def _machine() -> dict[str, Any]:
    versions = {}
    for name in ("gensim", "jieba", "numpy", "scikit-learn"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {"cpus": os.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(), "platform": platform.platform(), "packages": versions}


def finite_json(value: Any) -> Any:
    """NaN and infinities as null, so that summary.json is strict JSON.

    Parameters
    ----------
    value : Any
        A JSON-like value (dicts, lists and tuples are walked).

    Returns
    -------
    Any
        The value with every non-finite float replaced by None; tuples become lists.
    """
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_json(v) for v in value]
    return value


def bench_summary(table: pd.DataFrame, fits: pd.DataFrame, ratios: pd.DataFrame, seg_ratios: dict, theme_ratio: dict,
             measured: dict[int, dict], settings: dict, mode: str) -> dict[str, Any]:
    """summary.json: the machine, the settings, each scale's size, time and memory, the growth exponents,
    the largest scale against its targets, and the ratios.

    Parameters
    ----------
    table : pd.DataFrame
        bench.csv (`bench_table`).
    fits : pd.DataFrame
        The growth exponents per stage (`fit_rows`).
    ratios : pd.DataFrame
        ratios.csv (`ratio_table`).
    seg_ratios : dict
        Each scale's `segment_ratios` task result.
    theme_ratio : dict
        The `themes_ratio` task result.
    measured : dict[int, dict]
        Each scale's `scale` task result.
    settings : dict
        The resolved benchmark settings, with their `targets`.
    mode : str
        "full" or "quick".

    Returns
    -------
    dict[str, Any]
        The summary, before non-finite numbers are made null (`finite_json`).
    """
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
    return summary
