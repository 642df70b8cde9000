"""The garble rule on real rare place names: calibration data in tests/corpus/data/garble_names.tsv.

The names are China's county and township units (Ministry of Civil Affairs
list of 2025-12-31, see build_garble_names.py): every one that the plain gain
threshold cut (`hard`) and a seeded sample of the rest. A name must come out
of cleaning unchanged in the kind of sentence the corpus holds.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from pipeline.corpus.charmodel import CharModel
from pipeline.corpus.garble import GarbleDetector, name_shaped
from pipeline.corpus.script import make_converter
from tests.corpus.build_garble_names import carrier

NAMES = Path(__file__).parent / "data" / "garble_names.tsv"


def _names() -> list[dict]:
    with open(NAMES, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


@pytest.fixture(scope="module")
def detector(project_params) -> GarbleDetector:
    return GarbleDetector(CharModel.from_jieba_dictionary(make_converter()), project_params.clean.garble)


def test_the_calibration_list_spans_the_country_and_holds_the_hard_cases():
    names = _names()
    assert len(names) >= 500
    assert len({n["code"][:2] for n in names}) >= 25  # provinces
    assert sum(n["hard"] == "1" for n in names) >= 100
    assert {n["level"] for n in names} == {"3", "4"}


def test_no_real_place_name_is_cut(detector):
    cut = []
    for n in _names():
        sentence = carrier(n["county"], n["name"])
        if detector.edits(sentence):
            cut.append(n["name"])
    assert cut == [], f"{len(cut)} names cut: {cut[:20]}"


@pytest.mark.parametrize("mark", [",", "、", ";", "。"])
def test_no_real_place_name_before_punctuation_is_cut(detector, mark):
    # A confirmed span may take in the punctuation after a name; the name guard looks past it.
    cut = [n["name"] for n in _names() if detector.edits(f"近日,{n['county']}{n['name']}{mark}居民议事会召开。")]
    assert cut == [], f"{len(cut)} names cut: {cut[:20]}"


@pytest.mark.parametrize("text", [
    # Lines of a held-out set (tests/heldout_d/, d04 and d16) whose personal names lost 珊 and the mark after it.
    "那时,社区有一位退休的编审,叫许幼珊,而我是学中文的。",
    "理事長陳黃淑媛;常務監事洪若珊;監事藍陳春錦、高春。",
    # Not misreadings: a dash typed as a box-drawing line, Latin letters after a quoted name.
    "建立社區資料─歷史、地理、環境、人文。",
    "随着“北京丰台”APP启用以及“三个中心”的贯通,新闻发声人发挥了作用。",
])
def test_names_dashes_and_latin_words_are_not_misreadings(detector, text):
    assert detector.edits(text) == []


def test_a_person_name_after_a_title_is_not_cut(detector):
    # A held-out government report: 工委书记孔永 was once "repaired" to 书强子.
    text = "现场,高米店街道工委书记孔永代表街道和社工们给辖区居民拜年,并进一步指导社区服务工作。"
    assert detector.edits(text) == []


@pytest.mark.parametrize("printed,shaped", [("圐圙", True), ("陈塘庄", True), ("阎油坊乡", True),
                                            ("陈塘庄街道", True), ("社区居民议事会召开了", False), ("居民议事会", False), ("!蓖襞空f", False), ("肮ぷ", False), ("", False),
                                            ("幼珊,", True), ("珊;", True), ("?!拔慕?", False), (",", False)])
def test_name_shape(printed, shaped, project_params):
    settings = project_params.clean.garble
    assert name_shaped(printed, settings) is shaped
