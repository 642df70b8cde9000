"""A unit's leading seeded topic against the dictionary, with the free topic counted."""

from __future__ import annotations

import numpy as np

from pipeline.themes.seeded import FREE
from pipeline.themes.seeded_tables import unit_agreement

DIMS = ["digital_governance", "social_forces", FREE]
CATEGORIES = {"智慧社区": "digital_governance", "社会组织": "social_forces"}
UNITS = [{"unit_id": "a-0001", "place": "甲市", "tokens": ["智慧社区", "智慧社区", "社会组织"]},
         {"unit_id": "a-0002", "place": "甲市", "tokens": ["社会组织", "居民"]},
         {"unit_id": "a-0003", "place": "甲市", "tokens": ["居民"]}]


def test_a_unit_the_free_topic_leads_shows_the_free_topic_and_is_not_scored():
    """Hiding the free topic made a unit with 0.002 of a seeded topic look led by it."""
    theta = np.array([[0.7, 0.2, 0.1],
                      [0.002, 0.001, 0.997],
                      [0.5, 0.3, 0.2]])
    table = unit_agreement(UNITS, theta, DIMS, CATEGORIES).set_index("unit_id")
    assert table.loc["a-0001", ["model_dimension", "dictionary_dimension"]].tolist() == \
        ["digital_governance", "digital_governance"]
    assert bool(table.loc["a-0001", "agree"]) is True
    free = table.loc["a-0002"]
    assert (free["model_dimension"], free["model_share"]) == (FREE, 0.997)
    assert (free["seeded_dimension"], free["seeded_share"]) == ("digital_governance", 0.002)
    assert free["agree"] is None or free["agree"] != free["agree"]  # not scored (None, or NaN once framed)
    # No lexicon term: nothing to agree with.
    assert table.loc["a-0003", "dictionary_dimension"] == ""
    assert table.loc["a-0003", "agree"] is None or table.loc["a-0003", "agree"] != table.loc["a-0003", "agree"]


def test_a_seeded_lead_that_the_dictionary_does_not_count_most_disagrees():
    theta = np.array([[0.1, 0.8, 0.1]])
    row = unit_agreement(UNITS[:1], theta, DIMS, CATEGORIES).iloc[0]
    assert row["model_dimension"] == "social_forces" and row["dictionary_dimension"] == "digital_governance"
    assert bool(row["agree"]) is False
