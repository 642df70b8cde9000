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
from pipeline.corpus.readings import GarbleSettings
from pipeline.corpus.script import make_converter
from tests.corpus.build_garble_names import carrier

NAMES = Path(__file__).parent / "data" / "garble_names.tsv"


def _names() -> list[dict]:
    with open(NAMES, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


@pytest.fixture(scope="module")
def detector(project_params) -> GarbleDetector:
    return GarbleDetector(CharModel.from_jieba_dictionary(make_converter()), project_params["clean"]["garble"])


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


def test_a_person_name_after_a_title_is_not_cut(detector):
    # A held-out government report: 工委书记孔永 was once "repaired" to 书强子.
    text = "现场,高米店街道工委书记孔永代表街道和社工们给辖区居民拜年,并进一步指导社区服务工作。"
    assert detector.edits(text) == []


@pytest.mark.parametrize("printed,shaped", [("圐圙", True), ("陈塘庄", True), ("阎油坊乡", True),
                                            ("陈塘庄街道", False), ("!蓖襞空f", False), ("肮ぷ", False), ("", False)])
def test_name_shape(printed, shaped, project_params):
    settings = GarbleSettings.from_params(project_params["clean"]["garble"])
    assert name_shaped(printed, settings) is shaped
