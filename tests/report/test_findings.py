"""The findings text: written from the tables, and the README holds exactly what the tables say."""

from __future__ import annotations

import csv

import pandas as pd
import pytest

from pipeline.common.config import PROJECT_ROOT, Paths
from pipeline.report.findings import (
    FRAME,
    caveat_sentence,
    concept_sentence,
    corpus_sentence,
    emphases_sentence,
    expectations_sentence,
    findings_markdown,
    profile_sentence,
    replace_section,
    section_of,
    seeded_sentence,
)
from pipeline.report.publish import write_findings

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


def test_readme_holds_what_the_findings_writer_makes_of_the_committed_tables(tmp_path):
    """The README section must be the writer's text for the committed tables, recomputed here.

    Comparing the README with results/findings.md only compared two files the
    same run wrote; recomputing catches a README or a table edited by hand, and
    a change to a sentence that was never carried into the README.
    """
    paths = Paths.at()
    written = write_findings(paths.tables, tmp_path / "findings.md")
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert section_of(readme) == written, "README findings differ from what the tables say: run `make results`"


def test_readme_corpus_numbers_are_the_sums_of_documents_csv():
    """The corpus figures the README states, summed here from documents.csv read with the csv module."""
    with open(Paths.at().tables / "documents.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    places = {row["place"] for row in rows}
    units = sum(int(row["units"]) for row in rows)
    tokens = sum(int(row["tokens"]) for row in rows)
    section = section_of((PROJECT_ROOT / "README.md").read_text(encoding="utf-8"))
    assert f"The corpus is {len(rows)} articles from {len(places)} places" in section
    assert f"cut into {units} text units with {tokens} counted tokens" in section


def test_corpus_sentence_counts_places_not_articles():
    """With several articles in one place, levels and provinces are counted by place.

    丁省 holds three articles but one place, 丙省 two places of one article each:
    the province that holds most places is 丙省 (2 of 3), and the levels are
    2 city and 1 province, not 4 city and 1 province.
    """
    docs = pd.DataFrame({"doc_id": ["a", "b", "c", "d", "e"],
                         "place": ["甲市", "丙省", "乙市", "乙市", "乙市"],
                         "level": ["city", "province", "city", "city", "city"],
                         "province": ["丙省", "丙省", "丁省", "丁省", "丁省"],
                         "units": [1, 2, 3, 4, 5], "tokens": [10, 20, 30, 40, 50]})
    sentence = corpus_sentence({"documents": docs})
    assert sentence.startswith("The corpus is 5 articles from 3 places (2 city, 1 province); "
                               "2 of the 3 places are in 丙省, cut into 15 text units with 150 counted tokens")
    assert sentence.endswith("a contrast between a few articles per place.")


def test_caveat_is_written_only_when_every_place_has_one_article():
    """The one-article caveat would be false for a place with several articles."""
    assert caveat_sentence({"documents": DOCS}).startswith("With one article per place")
    several = pd.concat([DOCS, DOCS.iloc[[0]].assign(doc_id="a2")], ignore_index=True)
    assert caveat_sentence({"documents": several}) is None


def _profile_rows(place: str, variant: str, shares: dict[str, float]) -> list[dict]:
    return [{"place": place, "variant": variant, "category": c, "share": s} for c, s in shares.items()]


def test_profile_lead_is_decided_at_four_significant_digits_then_by_name():
    """A last-bit difference must not make a lead; a difference in the 4th digit must.

    甲市: social_forces exceeds digital_governance by 4e-7, equal at 4 digits,
    so the name decides (digital_governance). 乙市: 0.3000 beats 0.2999, so
    social_forces leads although its name comes later. The frame is never a lead.
    """
    rows = (_profile_rows("甲市", "all", {FRAME: 0.9, "digital_governance": 0.2, "social_forces": 0.2000004})
            + _profile_rows("乙市", "all", {FRAME: 0.9, "digital_governance": 0.2999, "social_forces": 0.3})
            + _profile_rows("丙市", "all", {FRAME: 0.9, "rule_of_law": 0.5, "social_forces": 0.1})
            + _profile_rows("丁市", "all", {FRAME: 0.9, "digital_governance": 0.4, "rule_of_law": 0.1}))
    sentence = profile_sentence({"profile_shares": pd.DataFrame(rows)})
    assert "(frame terms aside, by share of sentences) is digital_governance in 2 of 4 places;" in sentence
    assert "乙市 (social_forces)" in sentence and "丙市 (rule_of_law)" in sentence
    assert "甲市 (" not in sentence and "丁市 (" not in sentence and FRAME not in sentence


def test_profile_sentence_lists_every_place_whose_lead_rests_on_brands():
    """Two of three places change lead without flagged terms; the third keeps its lead and is not listed."""
    rows = (_profile_rows("甲市", "all", {"digital_governance": 0.5, "social_forces": 0.3})
            + _profile_rows("甲市", "without_flagged", {"digital_governance": 0.1, "social_forces": 0.3})
            + _profile_rows("乙市", "all", {"digital_governance": 0.6, "rule_of_law": 0.2})
            + _profile_rows("乙市", "without_flagged", {"digital_governance": 0.2, "rule_of_law": 0.2})
            + _profile_rows("丙市", "all", {"digital_governance": 0.1, "rule_of_law": 0.4})
            + _profile_rows("丙市", "without_flagged", {"digital_governance": 0.1, "rule_of_law": 0.3}))
    sentence = profile_sentence({"profile_shares": pd.DataFrame(rows)})
    # 乙市 without brands: a 0.2/0.2 tie, which the name gives to digital_governance: no change.
    assert "is digital_governance in 2 of 3 places; the others lead with another: 丙市 (rule_of_law)." in sentence
    assert sentence.endswith("the lead changes in 1 place: 甲市 (digital_governance → social_forces).")
    rows += _profile_rows("丁市", "all", {"rule_of_law": 0.5, "social_forces": 0.1})
    rows += _profile_rows("丁市", "without_flagged", {"rule_of_law": 0.05, "social_forces": 0.1})
    sentence = profile_sentence({"profile_shares": pd.DataFrame(rows)})
    assert "the lead changes in 2 places: " in sentence
    assert "甲市 (digital_governance → social_forces)" in sentence and "丁市 (rule_of_law → social_forces)" in sentence
    assert "乙市 (digital" not in sentence and "丙市 (rule_of_law →" not in sentence


def test_seeded_sentence_applies_the_floor_at_four_digits_and_needs_four_of_five_places():
    """Presence, sharing and specificity on a table whose answer was worked out by hand.

    Five places, so a dimension is shared when present in 4. digital_governance:
    lower bounds 0.06, 0.05, 0.0499996 (0.05000 at 4 digits, present), 0.2 and
    0.01: present in 4 places, shared. social_forces: 0.3 and 0.07 present,
    0.04994 (0.04994 at 4 digits) not: specific to 甲市 and 戊市. rule_of_law is
    stable but present nowhere: neither. grid_management is not stable and the
    free topic is no dimension: neither is named, whatever their shares.
    """
    quality = pd.DataFrame({"dimension": ["digital_governance", "social_forces", "rule_of_law", "grid_management",
                                          "free"],
                            "found": [True, True, True, False, True]})
    places = ["甲市", "乙市", "丙市", "丁市", "戊市"]
    bounds = {"digital_governance": [0.06, 0.05, 0.0499996, 0.2, 0.01],
              "social_forces": [0.3, 0.0, 0.0, 0.04994, 0.07],
              "rule_of_law": [0.01] * 5, "grid_management": [0.5] * 5, "free": [0.9] * 5}
    shares = pd.DataFrame([{"place": p, "dimension": d, "ci_low": b}
                           for d, row in bounds.items() for p, b in zip(places, row)])
    sentence = seeded_sentence({"seeded_topic_quality": quality, "seeded_place_topics": shares},
                               presence_floor=0.05, shared_min_places=4)
    assert "finds 3 of 4 dimensions as stable topics" in sentence
    assert ("digital_governance is shared by at least 4 places, and social_forces (甲市、戊市) is specific."
            in sentence)
    for absent in ("rule_of_law", "grid_management", "free"):
        assert absent not in sentence


def test_seeded_sentence_says_when_nothing_is_shared():
    """No stable dimension reaches 4 of 5 places: the sentence says so instead of naming one."""
    quality = pd.DataFrame({"dimension": ["digital_governance", "social_forces"], "found": [True, True]})
    places = ["甲市", "乙市", "丙市", "丁市", "戊市"]
    shares = pd.DataFrame([{"place": p, "dimension": d, "ci_low": b} for d, row in
                           {"digital_governance": [0.1, 0.1, 0.1, 0.0, 0.0], "social_forces": [0.2, 0, 0, 0, 0]}.items()
                           for p, b in zip(places, row)])
    sentence = seeded_sentence({"seeded_topic_quality": quality, "seeded_place_topics": shares},
                               presence_floor=0.05, shared_min_places=4)
    assert ("none is shared by 4 or more places, and digital_governance (甲市、乙市、丙市) and social_forces (甲市) "
            "are specific." in sentence)


def test_emphases_sentence_keeps_stability_at_four_digits_breaks_rank_ties_by_term_and_cuts_at_three():
    """Which terms a place lists, worked out by hand.

    甲市 by log-odds: 社区 (rank 1, stability 0.599996, i.e. 0.6000: kept),
    治理 (rank 2, 0.59994, i.e. 0.5999: dropped), 一线 and 党建 (tied at rank 3;
    一 U+4E00 before 党 U+515A), 网格 (rank 5, beyond three). The TF-IDF row
    of 甲市 is another method and never listed.
    """
    terms = pd.DataFrame([
        {"place": "甲市", "method": "logodds", "rank": 1, "term": "社区", "stability": 0.599996},
        {"place": "甲市", "method": "logodds", "rank": 2, "term": "治理", "stability": 0.59994},
        {"place": "甲市", "method": "logodds", "rank": 3, "term": "党建", "stability": 0.9},
        {"place": "甲市", "method": "logodds", "rank": 3, "term": "一线", "stability": 0.9},
        {"place": "甲市", "method": "logodds", "rank": 5, "term": "网格", "stability": 1.0},
        {"place": "甲市", "method": "tfidf", "rank": 1, "term": "协商", "stability": 1.0},
        {"place": "乙市", "method": "logodds", "rank": 1, "term": "数据", "stability": 0.7},
    ])
    sentence = emphases_sentence({"place_terms": terms})
    assert "甲市: 社区、一线、党建" in sentence and "乙市: 数据" in sentence
    for absent in ("治理", "网格", "协商"):
        assert absent not in sentence


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


@pytest.mark.parametrize("kinds, caveat", [
    (["units_optimistic"] * 2, "; with one article per place these intervals are optimistic."),
    (["cluster", "units_optimistic"], "; where a place has one article its interval is optimistic."),
    (["cluster"] * 2, None),
])
def test_seeded_sentence_calls_intervals_optimistic_only_where_units_were_resampled(kinds, caveat):
    """Resampling the units of one article gives optimistic intervals; resampling articles does not."""
    quality = pd.DataFrame({"dimension": ["digital_governance"], "found": [True]})
    shares = pd.DataFrame({"place": ["甲市", "乙市"], "dimension": ["digital_governance"] * 2,
                           "ci_low": [0.2, 0.0], "interval": kinds})
    sentence = seeded_sentence({"seeded_topic_quality": quality, "seeded_place_topics": shares})
    if caveat is None:
        assert "optimistic" not in sentence and sentence.endswith("specific.")
    else:
        assert sentence.endswith(caveat)


def test_concept_sentence_lists_stable_concepts_used_more_there_in_rank_order_and_place_order():
    """By hand: 乙市 comes first in the table, so first in the sentence; 甲市's 网格 (z < 0: used less there than
    elsewhere) and 数据 (stability 0.5) are left out; 慈善 and 社工 tie at rank 2 and are ordered by concept id."""
    rows = [("乙市", 1, "civil_affairs", "民政", 2.0, 0.9), ("甲市", 1, "grid", "网格", -0.5, 1.0),
            ("甲市", 2, "social_work", "社工", 1.5, 0.8), ("甲市", 2, "charity", "慈善", 1.5, 0.7),
            ("甲市", 4, "data", "数据", 1.2, 0.5)]
    table = pd.DataFrame([{"place": p, "method": "logodds", "rank": r, "concept": c, "label": lab, "z": z,
                           "stability": st} for p, r, c, lab, z, st in rows])
    sentence = concept_sentence({"place_concepts": table})
    assert sentence.endswith("resamples): 乙市: 民政; 甲市: 慈善、社工.")


def test_expectations_sentence_reports_both_sets():
    summary = pd.DataFrame([{"set": "concepts", "place": "all", "expected": 30, "hits": 23, "rate": 23 / 30},
                            {"set": "terms", "place": "all", "expected": 51, "hits": 18, "rate": 18 / 51},
                            {"set": "terms", "place": "甲市", "expected": 10, "hits": 2, "rate": 0.2}])
    assert expectations_sentence({"expectation_summary": summary}).endswith(
        "find 23 of 30 expected concepts and 18 of 51 expected terms.")
