"""Cleaning, segmentation and both topic models on a dask LocalCluster of two workers give exactly what
they give in one process, and the run's stages share one cluster."""

from __future__ import annotations

import contextlib

import pytest

from pipeline.common import engine
from pipeline.common.outputs import tables_of
from pipeline.common.params import StudyParams
from pipeline.corpus.stage import ingest_and_clean
from pipeline.text.lexicon import category_map
from pipeline.text.stage import segment_corpus
from pipeline.themes import seeded, sweep
from pipeline.themes.model import run_themes
from pipeline.themes.seeded_tables import run_seeded

pytestmark = pytest.mark.slow


def _untimed(name: str):
    return contextlib.nullcontext()


def _study(paths, params: StudyParams) -> dict:
    """What the corpus, segmentation and themes stages produce, as plain comparable values."""
    documents = ingest_and_clean(paths, params, _untimed)
    seg = segment_corpus(paths, params, documents, _untimed)
    covariates = {d.doc.doc_id: {"level": d.doc.level, "province": d.doc.province} for d in documents}
    terms = category_map(seg.lexicon)
    found = run_themes(seg.units, terms, params.themes, {}, covariates, [])
    keyed = run_seeded(seg.units, terms, params.themes, covariates)
    tables = {name: frame.to_csv(index=False) for out in (found, keyed) for name, frame in tables_of(out).items()}
    return {"documents": [(d.doc.doc_id, d.script, d.text, d.audit, d.meta) for d in documents],
            "units": seg.units, "counts": (seg.countable_by_place, seg.survival_by_place, seg.doc_counts),
            "tables": tables}


def _with_processes(params: StudyParams, processes: int) -> StudyParams:
    return params.updated({
        "clean": {"processes": processes}, "segment": {"processes": processes},
        "themes": dict(processes=processes, k_min=2, k_max=3, seeds=[1, 2], passes=2, iterations=20,
                       bootstrap_samples=20, ablation=True, seeded=dict(seeds=[1, 2], sensitivity=[2.0]))})


def test_two_workers_give_the_serial_outputs_from_one_shared_cluster(project_copy, project_params, monkeypatch,
                                                                      tmp_path):
    # The sweep and the keyword-assisted fits go to the workers however small the corpus.
    monkeypatch.setattr(seeded, "POOL_MIN_TOKENS", 0)
    monkeypatch.setattr(sweep, "SWEEP_MIN_WORK", 0)
    serial = _study(project_copy, _with_processes(project_params, 1))
    started = []
    start = engine.Engine._start_local
    monkeypatch.setattr(engine.Engine, "_start_local", lambda self, n: started.append(n) or start(self, n))
    with engine.engine(workers=2, local_directory=tmp_path / "dask"):
        parallel = _study(project_copy, _with_processes(project_params, 2))
    assert started == [2]  # one cluster for every stage
    assert parallel["documents"] == serial["documents"]
    assert parallel["units"] == serial["units"]
    assert parallel["counts"] == serial["counts"]
    assert parallel["tables"].keys() == serial["tables"].keys()
    differing = [name for name in serial["tables"] if parallel["tables"][name] != serial["tables"][name]]
    assert differing == []
