"""Atomic results folder and deterministic writers."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.common import io


def test_staged_directory_replaces_target_on_success(tmp_path):
    target = tmp_path / "results"
    (target / "bench").mkdir(parents=True)
    (target / "bench" / "bench.csv").write_text("old bench\n")
    (target / "old.csv").write_text("old\n")
    with io.staged_directory(target, keep=("bench",)) as staging:
        (staging / "new.csv").write_text("new\n")
    assert sorted(p.name for p in target.iterdir()) == ["bench", "new.csv"]
    assert (target / "bench" / "bench.csv").read_text() == "old bench\n"
    assert [p.name for p in tmp_path.iterdir()] == ["results"]  # no staging folder left behind


def test_staged_directory_keeps_target_when_the_body_fails(tmp_path):
    target = tmp_path / "results"
    target.mkdir()
    (target / "table.csv").write_text("committed\n")
    with pytest.raises(RuntimeError):
        with io.staged_directory(target) as staging:
            (staging / "table.csv").write_text("half-written\n")
            raise RuntimeError("stage failed")
    assert (target / "table.csv").read_text() == "committed\n"
    assert [p.name for p in tmp_path.iterdir()] == ["results"]


def test_write_csv_is_byte_stable(tmp_path):
    frame = pd.DataFrame({"place": ["苏州市", "合肥市"], "score": [0.1 + 0.2, 1 / 3]})
    first = io.write_csv(frame, tmp_path / "a.csv").read_bytes()
    second = io.write_csv(frame.copy(), tmp_path / "b.csv").read_bytes()
    assert first == second
    assert first.decode("utf-8") == "place,score\n苏州市,0.3\n合肥市,0.333333\n"
