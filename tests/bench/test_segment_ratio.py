"""The interleaved measurement of segmentation against plain jieba."""

from __future__ import annotations

import pytest

from pipeline.bench import segment_ratio
from pipeline.bench.segment_ratio import interleaved_ratio, segment_vs_raw_jieba
from pipeline.common.config import Paths
from pipeline.text import lexicon as lex_mod
from pipeline.text import stage


class CostClock:
    """A clock that advances only by what the timed calls charge to it."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_both_sides_time_the_same_slices_back_to_back():
    clock, seen = CostClock(), []

    def side(name, cost):
        def run(item):
            seen.append((name, item))
            clock.now += cost * (1 + item % 3)  # uneven items: the ratio must still come out per pair
        return run

    items = list(range(23))
    found = interleaved_ratio(items, side("ours", 2.0), side("theirs", 1.0), slices=5, repeats=2, clock=clock)
    assert found["pairs"] == 10 and len(found["rounds"]) == 10
    assert found["ratio"] == pytest.approx(0.5) and found["ratio_of_totals"] == pytest.approx(0.5)
    assert found["min"] == pytest.approx(0.5) and found["max"] == pytest.approx(0.5)
    assert found["theirs_seconds"] * 2 == pytest.approx(found["ours_seconds"])
    # Every pair: the side named first runs a slice, then the other side the same slice.
    position = 0
    for pair in found["rounds"]:
        n = pair["items"]
        first, second = seen[position:position + n], seen[position + n:position + 2 * n]
        position += 2 * n
        assert {name for name, _ in first} == {pair["first"]}
        assert {name for name, _ in second} == {"ours", "theirs"} - {pair["first"]}
        assert [i for _, i in first] == [i for _, i in second]
    assert position == len(seen)
    # The side that goes first alternates, and every item is timed `repeats` times per side.
    assert [r["first"] for r in found["rounds"]][:4] == ["ours", "theirs", "ours", "theirs"]
    assert sorted(i for name, i in seen if name == "ours") == sorted(items * 2)
    assert sorted(i for name, i in seen if name == "theirs") == sorted(items * 2)
    assert sum(r["items"] for r in found["rounds"]) == 2 * len(items)


def test_a_slower_pair_moves_the_median_less_than_the_total():
    clock, slow = CostClock(), iter([False] * 7 + [True] + [False] * 100)

    def ours(item):
        clock.now += 1.0

    def theirs(item):
        # One of the pairs meets a machine ten times slower.
        clock.now += 10.0 if next(slow) else 1.0

    found = interleaved_ratio(list(range(10)), ours, theirs, slices=10, clock=clock)
    assert found["ratio"] == pytest.approx(1.0)
    assert found["max"] == pytest.approx(10.0)
    assert found["ratio_of_totals"] > 1.5


def test_nothing_to_time_is_an_error():
    with pytest.raises(ValueError):
        interleaved_ratio([], print, print)


@pytest.fixture(scope="module")
def segmenter(project_params):
    params = project_params.updated({"themes": {"ablation": False}})
    paths = Paths.at()
    return stage.build_segmenter(paths, params, lex_mod.load_lexicon(paths.lexicon / "governance_terms.csv"))


def test_study_segmentation_and_raw_jieba_segment_the_same_texts(segmenter, monkeypatch):
    import jieba

    jobs = [("a", "甲", "坚持党建引领,推进城乡社区发展治理。\n完善“15分钟生活圈”。"),
            ("b", "乙", "社区工作者队伍建设不断加强,居民参与社区治理的渠道更加多元。"),
            ("c", "丙", "打造“一站式”服务大厅,实现村(社区)综合服务设施全覆盖。")]
    ours_texts, theirs_texts = [], []
    original = stage.segment_article

    def recording_segment_article(doc_id, place, text, seg):
        ours_texts.append(text)
        return original(doc_id, place, text, seg)

    class RecordingTokenizer(jieba.Tokenizer):
        def lcut(self, text, *args, **kwargs):
            theirs_texts.append(text)
            return super().lcut(text, *args, **kwargs)

    monkeypatch.setattr(segment_ratio, "segment_article", recording_segment_article)
    found = segment_vs_raw_jieba(jobs, segmenter, slices=2, repeats=2, raw_tokenizer=RecordingTokenizer())
    assert found["pairs"] == 4 and found["ratio"] > 0 and found["min"] > 0
    assert found["ours_seconds"] > 0 and found["theirs_seconds"] > 0
    assert found["chars"] == sum(len(t) for _, _, t in jobs)
    # One warm-up text each, then every text twice, on both sides alike.
    assert ours_texts == theirs_texts
    assert sorted(ours_texts[1:]) == sorted([t for _, _, t in jobs] * 2)


def test_scaled_jobs_resample_a_finished_run_as_the_benchmark_does(tmp_path, project_params):
    from pipeline.bench.segment_ratio import scaled_jobs
    from pipeline.common import io
    from pipeline.corpus.ingest import MANIFEST_COLUMNS

    paths = Paths.at(tmp_path)
    units = {"p": ["坚持党建引领。", "推进社区治理。", "完善服务体系。"], "q": ["发展社会组织。", "培育志愿服务。"]}
    io.write_jsonl([{"doc_id": d, "text": t} for d, texts in units.items() for t in texts], paths.units_jsonl)
    paths.manifest_csv.parent.mkdir(parents=True)
    paths.manifest_csv.write_text(",".join(MANIFEST_COLUMNS) + "\n" + "".join(
        f"{d},{d}.txt,{place},city,省,,,\n" for d, place in (("p", "甲市"), ("q", "乙市"))), encoding="utf-8")
    params = project_params.updated({"bench": {"articles_per_place": 2, "seed": 3}})
    assert scaled_jobs(paths, params, 1) == [("p", "甲市", "\n".join(units["p"])), ("q", "乙市", "\n".join(units["q"]))]
    jobs = scaled_jobs(paths, params, 3)
    assert len(jobs) == 6 and len({doc_id for doc_id, _, _ in jobs}) == 6
    for doc_id, _, text in jobs:
        assert set(text.split("\n")) <= set(units[doc_id.split("_")[0]])
    assert jobs == scaled_jobs(paths, params, 3)
