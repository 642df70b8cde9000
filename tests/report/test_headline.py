"""The findings' tables: one definition per claim, applied to hand-made tables whose answers are known."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.report.headline import (
    FindingsSettings,
    Names,
    article_footing,
    dimension_leads,
    leading_concepts,
    shared_dimensions,
    topic_names,
)
from pipeline.text.concepts import Dimension

NAMES = Names({"digital_governance": Dimension("digital_governance", "digital governance", "智慧治理", "r"),
               "social_forces": Dimension("social_forces", "social forces", "社会力量", "r")},
              {"five_networks": "five networks"})


def _shares(place: str, rows: dict[str, tuple[int, float, float]], sentences: int = 40) -> list[dict]:
    """profile_shares rows: category -> (mentioning, ci_low, ci_high)."""
    return [{"place": place, "variant": "all", "category": c, "sentences": sentences, "mentioning": m,
             "share": m / sentences, "ci_low": lo, "ci_high": hi} for c, (m, lo, hi) in rows.items()]


def test_a_lead_is_clear_only_when_its_interval_lies_above_the_runner_ups():
    rows = (_shares("甲市", {"governance_frame": (30, 0.6, 0.8), "digital_governance": (20, 0.35, 0.65),
                             "social_forces": (5, 0.05, 0.26)})
            + _shares("乙市", {"digital_governance": (8, 0.1, 0.35), "social_forces": (7, 0.09, 0.33)})
            + _shares("丙市", {"digital_governance": (9, 0.12, 0.38), "social_forces": (9, 0.12, 0.38),
                               "rule_of_law": (4, 0.04, 0.23)}))
    leads = dimension_leads(pd.DataFrame(rows), NAMES).set_index("place")
    # The frame (30 sentences) is never a lead.
    assert leads.loc["甲市", "leads_with"] == "digital governance (智慧治理)"
    assert leads.loc["甲市", "verdict"] == "clear"
    # 8 against 7 sentences with overlapping intervals is within noise, and says so.
    assert (leads.loc["乙市", "verdict"], leads.loc["乙市", "mentioning"], leads.loc["乙市", "runner_up_mentioning"]) \
        == ("within noise", 8, 7)
    # A tie names every tied dimension; the runner-up is the best below them.
    assert leads.loc["丙市", "verdict"] == "tie"
    assert leads.loc["丙市", "leads_with"] == "digital governance (智慧治理) = social forces (社会力量)"
    assert leads.loc["丙市", "runner_up"] == "rule of law" and leads.loc["丙市", "runner_up_mentioning"] == 4


def test_intervals_that_meet_at_four_significant_digits_are_not_apart():
    rows = _shares("甲市", {"digital_governance": (20, 0.3000001, 0.6), "social_forces": (10, 0.1, 0.3)})
    assert dimension_leads(pd.DataFrame(rows), NAMES)["verdict"].item() == "within noise"
    rows = _shares("甲市", {"digital_governance": (20, 0.3001, 0.6), "social_forces": (10, 0.1, 0.3)})
    assert dimension_leads(pd.DataFrame(rows), NAMES)["verdict"].item() == "clear"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=12), min_size=2, max_size=6))
def test_the_lead_always_has_the_most_sentences_and_a_tie_is_called_a_tie(counts):
    categories = [f"dim_{i}" for i in range(len(counts))]
    rows = _shares("甲市", {c: (m, 0.0, 1.0) for c, m in zip(categories, counts)})
    lead = dimension_leads(pd.DataFrame(rows), Names()).iloc[0]
    top = max(counts)
    assert lead["mentioning"] == top
    if top == 0:
        assert lead["verdict"] == "none"
    else:
        assert (lead["verdict"] == "tie") == (counts.count(top) > 1)
        assert lead["leads_with"].count(" = ") == counts.count(top) - 1


def _quality(found: dict[str, bool | None]) -> pd.DataFrame:
    return pd.DataFrame([{"topic": (i + 1 if f is not None else None), "dimension": d, "found": bool(f),
                          "stability": 0.9 if f else 0.3, "seeds_in_top10": 6} for i, (d, f) in enumerate(found.items())])


def _topic_shares(dimension: str, topic: int, by_place: dict[str, tuple[float, float]]) -> list[dict]:
    return [{"place": p, "topic": topic, "dimension": dimension, "share": s, "ci_low": lo, "ci_high": s + 0.1}
            for p, (s, lo) in by_place.items()]


def test_shared_reports_both_methods_and_why_they_differ():
    places = ["甲市", "乙市", "丙市", "丁市", "戊市"]
    profile = pd.DataFrame(sum((_shares(p, {"digital_governance": (10, 0.1, 0.4), "social_forces": (10, 0.1, 0.4),
                                           "rule_of_law": (1, 0.01, 0.1)}) for p in places), []))
    quality = _quality({"digital_governance": True, "social_forces": False, "rule_of_law": None})
    topics = pd.DataFrame(_topic_shares("digital_governance", 1, {p: (0.2, 0.01) for p in places})
                          + _topic_shares("social_forces", 2, {p: (0.2, 0.1) for p in places}))
    shared = shared_dimensions(profile, quality, topics, NAMES, FindingsSettings()).set_index("dimension")
    assert shared.loc["digital_governance", "dictionary_places"] == 5
    assert shared.loc["digital_governance", "verdict"] == "shared by the dictionary"
    assert shared.loc["digital_governance", "why"] == ("the topic's share reaches the floor in 5 articles; its "
                                                         "interval, resampling passages, clears it in 0 (the "
                                                         "dictionary's, over sentences, is narrower)")
    # An unstable topic is not counted, whatever its interval says.
    assert shared.loc["social_forces", "topic_places"] == 0
    assert shared.loc["social_forces", "why"] == "its topic changes from seed to seed"
    assert shared.loc["rule_of_law", "verdict"] == "not shared" and shared.loc["rule_of_law", "topic"] == "none"


def test_shared_needs_no_more_places_than_there_are():
    profile = pd.DataFrame(_shares("甲市", {"digital_governance": (10, 0.04999999, 0.4)})
                           + _shares("乙市", {"digital_governance": (10, 0.2, 0.4)}))
    shared = shared_dimensions(profile, None, None, NAMES, FindingsSettings(shared_min_places=4))
    # Two places need both (not four); 0.04999999 is 0.05 at four significant digits.
    assert shared["dictionary_places"].item() == 2 and bool(shared["dictionary_shared"].item())


def test_leading_concepts_keep_stable_positive_well_spread_dimension_concepts_with_their_peak_context():
    rows = [{"place": "甲市", "method": "logodds", "rank": r, "concept": c, "label": lab, "dimension": dim,
             "count": 4, "sentences": n, "units": u, "q": 0.5, "z": z, "stability": s, "guardrail": "one_article"}
            for r, c, lab, dim, n, u, z, s in (
                (1, "unstable", "甲", "digital_governance", 3, 2, 1.0, 0.59),
                (2, "five_networks", "五网智治", "digital_governance", 3, 2, 1.0, 0.6),
                (3, "negative", "乙", "digital_governance", 3, 2, -0.1, 0.9),
                (4, "two_sentences", "戊", "digital_governance", 2, 2, 2.0, 0.9),  # a list's two mentions
                (5, "one_passage", "己", "digital_governance", 3, 1, 2.0, 0.9),  # a headline and its lede
                (6, "frame", "庚", "governance_frame", 9, 5, 2.0, 0.9),  # the genre's frame, not a dimension
                (7, "x", "丙", "digital_governance", 3, 2, 2.0, 0.7), (8, "y", "丁", "digital_governance", 3, 2, 2.0, 0.7))]
    rows.append({**rows[1], "method": "tfidf", "rank": 1, "concept": "tfidf_only"})
    # The context line comes from the passage that uses the concept most: u2, not the first mention in u1.
    kwic = pd.DataFrame([{"place": "甲市", "unit_id": "u1", "concept": "five_networks", "left": "first", "match": "五网",
                          "right": ""},
                         {"place": "甲市", "unit_id": "u2", "concept": "five_networks", "left": "初步形成“",
                          "match": "五网智治", "right": "”的智慧社区"},
                         {"place": "甲市", "unit_id": "u2", "concept": "five_networks", "left": "later", "match": "五网",
                          "right": ""}])
    out = leading_concepts(pd.DataFrame(rows), kwic, NAMES, FindingsSettings(top_concepts=2))
    assert list(out["concept"]) == ["five_networks", "x"]
    first = out.iloc[0]
    assert (first["gloss"], first["dimension"]) == ("five networks", "digital governance (智慧治理)")
    assert first["kwic"] == "…初步形成“【五网智治】”的智慧社区…"
    assert out.iloc[1]["kwic"] == ""


def test_topics_are_named_from_their_words_unless_most_top_words_are_seeds():
    quality = pd.DataFrame({"topic": [1, 2, 3], "dimension": ["digital_governance", "social_forces", "free"],
                            "found": [True, True, False], "stability": [1.0, 0.7, 0.2], "seeds_in_top10": [5, 4, 0]})
    words = pd.DataFrame([{"topic": t, "rank": r, "term": f"词{t}{r}"} for t in (1, 2, 3) for r in range(1, 11)])
    shares = pd.DataFrame([{"topic": t, "place": p, "share": s} for t, by in
                           ((1, {"甲市": 0.2, "乙市": 0.2}), (2, {"甲市": 0.3, "乙市": 0.1}), (3, {"甲市": 0.76, "乙市": 0.24}))
                           for p, s in by.items()])
    named = topic_names(quality, words, shares, NAMES, FindingsSettings()).set_index("topic")
    assert named.loc[1, "title"] == "digital governance" and named.loc[1, "named_from"] == "dimension"
    assert named.loc[2, "title"] == "词21·词22·词23 (seeded: social forces)"
    assert named.loc[3, "title"] == "词31·词32·词33 (unseeded)"
    # 0.3 of 0.4 is exactly three quarters: one place; 0.76 of 1.0 too; an even topic is not.
    assert list(named["one_place"]) == [False, True, True]
    assert named.loc[2, "home"] == "甲市"


def test_blank_metadata_reads_unknown():
    docs = pd.DataFrame({"place": ["甲市"], "doc_id": ["a"], "genre": ["report"], "author": [None],
                         "occasion": ["  "], "source": [""], "date": ["2020-12-31"]})
    row = article_footing(docs).iloc[0]
    assert (row["genre"], row["author"], row["occasion"], row["source"], row["date"]) == \
        ("report", "unknown", "unknown", "unknown", "2020-12-31")


def test_leads_and_shared_use_the_chosen_variant_and_keep_the_other_beside_it():
    """The speaker's own office (a self-reference) can make a lead; without it another dimension leads."""
    rows = (_shares("甲市", {"digital_governance": (10, 0.14, 0.4), "social_forces": (8, 0.1, 0.35)})
            + [dict(r, variant="without_flagged") for r in
               _shares("甲市", {"digital_governance": (3, 0.02, 0.2), "social_forces": (8, 0.1, 0.35)})])
    leads = dimension_leads(pd.DataFrame(rows), NAMES, "without_flagged").iloc[0]
    assert leads["leads_with"] == "social forces (社会力量)" and leads["leads_with_all"] == "digital governance (智慧治理)"
    shared = shared_dimensions(pd.DataFrame(rows), None, None, NAMES,
                               FindingsSettings(shared_min_places=1)).set_index("dimension")
    assert shared.loc["digital_governance", ["dictionary_places", "dictionary_places_all"]].tolist() == [0, 1]
    # A profile without the variant asked for falls back to every term.
    only_all = pd.DataFrame([r for r in rows if r["variant"] == "all"])
    assert dimension_leads(only_all, NAMES, "without_flagged").iloc[0]["leads_with"] == "digital governance (智慧治理)"
