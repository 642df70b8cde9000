"""The findings text: written from the tables, and the README holds exactly what the tables say."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.common.config import PROJECT_ROOT, Paths
from pipeline.report.findings import (
    corpus_sentence,
    emphases_sentence,
    findings_markdown,
    profile_sentence,
    replace_section,
    section_of,
    seeded_sentence,
)

DOCS = pd.DataFrame({"doc_id": ["a", "b", "c"], "place": ["甲市", "乙市", "丙省"],
                     "level": ["city", "city", "province"], "province": ["丙省", "丁省", "丙省"],
                     "units": [3, 4, 5], "tokens": [30, 40, 50]})
PROFILE = pd.DataFrame({"place": ["甲市", "甲市", "乙市", "乙市", "丙省", "丙省"],
                        "category": ["governance_frame", "digital_governance", "digital_governance",
                                     "social_forces", "digital_governance", "social_forces"],
                        "per_10k": [900.0, 50.0, 10.0, 20.0, 30.0, 30.0]})


def test_corpus_sentence_counts_articles_places_units_and_the_largest_province():
    sentence = corpus_sentence({"documents": DOCS})
    assert "3 articles from 3 places (2 city, 1 province)" in sentence
    assert "2 of the 3 places are in 丙省" in sentence and "12 text units with 120 counted tokens" in sentence


def test_profile_sentence_leaves_the_frame_out_and_breaks_ties_by_name():
    sentence = profile_sentence({"lexicon_profile": PROFILE})
    # 甲市 leads with digital_governance (frame aside); 丙省 ties 30/30 and the name decides.
    assert "is digital_governance in 2 of 3 places" in sentence and "乙市 (social_forces)" in sentence


def test_emphases_sentence_keeps_only_stable_terms_in_rank_order():
    terms = pd.DataFrame({"place": ["甲市"] * 3, "method": ["logodds"] * 3, "rank": [1, 2, 3],
                          "term": ["网格", "智慧", "数据"], "stability": [0.9, 0.2, 0.7]})
    assert "甲市: 网格、数据" in emphases_sentence({"place_terms": terms})


def test_a_missing_table_leaves_its_sentence_out():
    assert findings_markdown({}) == "\n"
    assert findings_markdown({"documents": DOCS}).startswith("The corpus is 3 articles")


def test_replace_section_needs_both_markers():
    doc = "a\n<!-- findings:start -->\nold\n<!-- findings:end -->\nb"
    assert section_of(replace_section(doc, "new\n")) == "new\n"
    with pytest.raises(ValueError, match="findings"):
        replace_section("no markers", "x")


def test_readme_holds_the_findings_of_the_committed_tables():
    findings = (Paths.at().results / "findings.md").read_text(encoding="utf-8")
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert section_of(readme) == findings, "README findings differ from results/findings.md: run `make results`"


def test_seeded_sentence_counts_stable_dimensions_and_where_they_are_present():
    quality = pd.DataFrame({"dimension": ["digital_governance", "social_forces", "grid_management"],
                            "found": [True, True, False]})
    shares = pd.DataFrame({"place": ["甲市", "乙市", "甲市", "乙市", "甲市", "乙市"],
                           "dimension": ["digital_governance"] * 2 + ["social_forces"] * 2 + ["grid_management"] * 2,
                           "ci_low": [0.10, 0.07, 0.20, 0.01, 0.5, 0.5]})
    sentence = seeded_sentence({"seeded_topic_quality": quality, "seeded_place_topics": shares},
                               presence_floor=0.05, shared_min_places=4)
    # two places: "shared" needs both; grid_management is not stable, so it is neither
    assert "finds 2 of 3 dimensions" in sentence
    assert "digital_governance is shared by at least 2 places" in sentence
    assert "social_forces (甲市) is specific" in sentence and "grid_management" not in sentence


def test_profile_sentence_reports_a_lead_that_rests_on_brand_names():
    shares = pd.DataFrame({"place": ["甲市"] * 4, "variant": ["all", "all", "without_flagged", "without_flagged"],
                           "category": ["digital_governance", "social_forces"] * 2, "share": [0.5, 0.3, 0.1, 0.3]})
    sentence = profile_sentence({"profile_shares": shares})
    assert "is digital_governance in 1 of 1 places" in sentence
    assert "甲市 (digital_governance → social_forces)" in sentence
