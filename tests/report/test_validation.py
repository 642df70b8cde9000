"""Precision and recall of the dictionary against hand coding, on small made-up codings."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from pipeline.common.errors import InputError
from pipeline.report.validation import (combine_lexicons, dictionary_codes, load_coded, split_units,
                                        validation_report, validation_table)


def _lexicon(rows):
    return pd.DataFrame([{"term": t, "category": c, "variants": tuple(v), "gloss": "", "note": "", "line": i}
                         for i, (t, c, v) in enumerate(rows, start=2)])


LEXICON = _lexicon([
    ("社区", "governance_frame", []),
    ("社区服务中心", "public_services_elderly_care", ["社区服务站"]),
    ("网格员", "grid_management", []),
    ("考核机制", "burden_reduction", []),
    ("考核", "targets_assessment", []),
])


def _coded(rows):
    frame = pd.DataFrame(rows, columns=["sentence_id", "doc_id", "sentence", "public_services_elderly_care",
                                        "grid_management", "targets_assessment", "frame_only"])
    frame["coder_note"] = ""
    return frame


CODED = _coded([
    ("a-1", "a", "建成社区服务中心12个。", 1, 0, 0, 0),      # true positive, public services
    ("a-2", "a", "网格员走访独居老人。", 1, 1, 0, 0),         # grid found; the care it reports is missed
    ("a-3", "a", "健全以满意度为标准的考核机制。", 0, 0, 1, 0),  # 考核 loses to the longer 考核机制
    ("b-1", "b", "社区是基层治理的基本单元。", 0, 0, 0, 1),     # frame only: nothing scored
    ("b-2", "b", "年度考核由街道组织。", 0, 0, 1, 0),          # true positive, targets
    ("b-3", "b", "社区服务站里的网格员。", 0, 1, 0, 0),        # variant found, human says no service
])


def test_longest_match_decides_the_category():
    found = dictionary_codes(CODED["sentence"], LEXICON)
    assert found[2] == {"burden_reduction"}
    assert found[3] == {"governance_frame"}
    assert found[5] == {"public_services_elderly_care", "grid_management"}


def test_table_counts_precision_and_recall():
    table = validation_table(CODED, LEXICON, "governance_frame").set_index("dimension")
    services = table.loc["public_services_elderly_care"]
    assert (services.coded_positive, services.dictionary_positive, services.true_positive) == (2, 2, 1)
    assert services.precision == 0.5 and services.recall == 0.5
    grid = table.loc["grid_management"]
    assert (grid.precision, grid.recall) == (1.0, 1.0)
    targets = table.loc["targets_assessment"]
    assert (targets.dictionary_positive, targets.true_positive, targets.recall) == (1, 1, 0.5)
    assert set(table.n_sentences) == {6}
    assert "governance_frame" not in table.index and "frame_only" not in table.index


def test_precision_is_undefined_when_the_dictionary_finds_nothing():
    coded = _coded([("a-1", "a", "居民说好。", 0, 0, 1, 0)])
    targets = validation_table(coded, LEXICON, "governance_frame").set_index("dimension").loc["targets_assessment"]
    assert math.isnan(targets.precision) and targets.recall == 0.0


def test_report_splits_study_articles_from_the_rest():
    report = validation_report(CODED, {"lexicon": LEXICON}, study_docs=["a"], frame="governance_frame")
    sizes = report.groupby("subset")["n_sentences"].first().to_dict()
    assert sizes == {"all": 6, "study_articles": 3, "heldout": 3}


def test_candidate_terms_may_not_repeat_a_lexicon_string():
    proposed = _lexicon([("经费", "fiscal_resources", []), ("社区服务站", "public_services_elderly_care", [])])
    with pytest.raises(ValueError, match="社区服务站"):
        combine_lexicons(LEXICON, proposed)
    combined = combine_lexicons(LEXICON, _lexicon([("经费", "fiscal_resources", [])]))
    assert dictionary_codes(["工作经费纳入预算。"], combined) == [{"fiscal_resources"}]


def test_split_units_on_a_real_snippet():
    text = "健全协商组织,调动群众参与。\n夯实硬件基础,提供协商场所。城乡社区是社会治理的基本单元；\n\n好！"
    assert split_units(text) == ["健全协商组织,调动群众参与。", "夯实硬件基础,提供协商场所。",
                                 "城乡社区是社会治理的基本单元；", "好！"]


def test_load_coded_rejects_a_code_that_is_not_zero_or_one(tmp_path):
    path = tmp_path / "coded.csv"
    path.write_text("sentence_id,doc_id,sentence,grid_management,frame_only,coder_note\n"
                    "a-1,a,网格员。,2,0,\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 2: grid_management is '2'"):
        load_coded(path)


def test_committed_coding_is_consistent():
    from pipeline.common.config import Paths
    from pipeline.report.validation import coded_dimensions

    coded = load_coded(Paths.at().validation / "coded_sentences.csv")
    dimensions = coded_dimensions(coded)
    assert len(coded) >= 200
    # frame_only means: governance content, but none of the dimensions
    assert not (coded["frame_only"].astype(bool) & coded[dimensions].any(axis=1)).any()
