"""A small synthetic corpus through the corpus stage: every chrome kind, inserted readings,
a garbled span, rare real toponyms and a cross-script repost (tests/corpus/fixtures/synthetic/).

The articles are written for the tests; the toponyms are real units of China's
division list (薛圐圙乡, 嵖岈山镇, 陈塘庄街道, 大碶街道, 光塔街道, 红山街道).
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import pytest

from pipeline.common.errors import InputError
from pipeline.corpus.stage import documents_table, ingest_and_clean
from tests.conftest import copy_project_inputs

FIXTURE = Path(__file__).parent / "fixtures" / "synthetic" / "data"
TOPONYMS = ["薛圐圙乡", "嵖岈山镇", "陈塘庄街道", "大碶街道", "光塔街道", "红山街道"]
CHROME = ["APP下载", "首页", "网站地图", "来源", "作者", "王建国", "050080", "关键词", "中图分类号", "DOI", "摘要",
          "图1", "供图", "参考文献", "[J]", "本报记者", "分享到", "发表评论", "以上就是", "版权所有", "<div", "ldquo",
          "返回顶部", "责任编辑", "记者"]


def _project(tmp_path, duplicate_of: str = ""):
    paths = copy_project_inputs(tmp_path / "project")
    shutil.rmtree(paths.root / "data")
    shutil.copytree(FIXTURE, paths.root / "data")
    if duplicate_of:
        rows = paths.manifest_csv.read_text(encoding="utf-8").splitlines()
        rows = [rows[0] + ",duplicate_of"] + [r + ("," + duplicate_of if r.startswith("syn_c,") else ",")
                                             for r in rows[1:]]
        paths.manifest_csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return paths


def _run(paths, params):
    return ingest_and_clean(paths, params, lambda name: contextlib.nullcontext())


def test_a_cross_script_repost_is_refused_naming_both_files(tmp_path, project_params):
    paths = _project(tmp_path)
    with pytest.raises(InputError) as info:
        _run(paths, project_params)
    message = str(info.value)
    assert "c_repost.txt" in message and "a_news.txt" in message and "duplicate_of" in message


@pytest.fixture(scope="module")
def cleaned(tmp_path_factory, project_params):
    paths = _project(tmp_path_factory.mktemp("synthetic"), duplicate_of="syn_a")
    documents = _run(paths, project_params)
    return {d.doc.doc_id: d for d in documents}, documents_table(documents)


def test_every_chrome_kind_is_removed(cleaned):
    docs, _ = cleaned
    for doc_id, d in docs.items():
        left = [c for c in CHROME if c in d.text]
        assert left == [], (doc_id, left)


def test_body_toponyms_and_repairs_survive(cleaned):
    docs, _ = cleaned
    text = docs["syn_a"].text
    for name in TOPONYMS[:4]:
        assert name in text and name in docs["syn_c"].text
    assert text.startswith("社区议事会开到家门口\n——基层协商治理的三个样本")
    assert "近年来,内蒙古山阴县薛圐圙乡" in text and text.endswith("变为“由民做主”。“好”")
    b = docs["syn_b"].text
    assert all(name in b for name in TOPONYMS[4:])
    assert "工作人员办事效率高" in b and "ぷ" not in b and "魅" not in b
    assert "(qū)" not in b and "(xiāng)" not in b
    assert {row["rule"] for row in docs["syn_b"].audit} >= {"pinyin_reading", "garble_repair"}


def test_bylines_and_dates_go_to_the_documents_table(cleaned):
    _, table = cleaned
    rows = table.set_index("doc_id")
    assert rows.loc["syn_a", "date"] == "2023-05-12"
    assert {"李晓明", "王建国", "柴瑜", "王梦梦"} <= set(rows.loc["syn_a", "author"].split("、"))
    assert rows.loc["syn_b", "author"] == "陈正峰"  # simplified, like the cleaned text
