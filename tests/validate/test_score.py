"""Scoring independent coders: Krippendorff's alpha, the adjudicated codes, the dictionary's and the topics'
scores, and a lexicon that moved after coding."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.common.errors import InputError
from pipeline.validate.score import (MIN_POSITIVE, RELIABLE_ALPHA, CoderSheets, adjudicate, agreement_table, dictionary_table,
                                     nominal_alpha, pool_sheets, read_coder_sheets, stale_dimensions, topic_agreement)

NAN = np.nan
# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", section C: nominal data, four observers,
# twelve units, missing values; the paper computes alpha = 0.743.
PUBLISHED = np.array([[1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
                      [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
                      [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
                      [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN]])


def test_alpha_reproduces_the_published_nominal_example():
    assert round(nominal_alpha(PUBLISHED), 3) == 0.743


def test_a_planted_disagreement_lowers_alpha():
    rng = np.random.default_rng(7)
    codes = (rng.random(200) < 0.3).astype(int)
    agree = np.stack([codes, codes])
    assert nominal_alpha(agree) == 1.0
    flipped = codes.copy()
    flipped[:20] = 1 - flipped[:20]
    lower = nominal_alpha(np.stack([codes, flipped]))
    assert lower < 1.0
    flipped[20:60] = 1 - flipped[20:60]
    assert nominal_alpha(np.stack([codes, flipped])) < lower < 1.0


def test_alpha_is_undefined_without_variation():
    assert np.isnan(nominal_alpha(np.zeros((3, 10), int)))


def _sheets(*coders: list[list[int]], dims=("a", "b")) -> CoderSheets:
    n = len(coders[0])
    return CoderSheets(tuple(f"s{i}" for i in range(n)), dims, {f"coder_{k}": np.array(c) for k, c in enumerate(coders)})


def test_adjudication_needs_a_strict_majority():
    three = _sheets([[1, 0], [1, 1], [0, 0]], [[1, 0], [0, 1], [0, 0]], [[0, 0], [0, 1], [1, 0]])
    assert adjudicate(three).tolist() == [[1, 0], [0, 1], [0, 0]]
    # With two coders a code needs both.
    two = _sheets([[1, 1], [0, 1]], [[1, 0], [0, 1]])
    assert adjudicate(two).tolist() == [[1, 0], [0, 1]]


def test_agreement_flags_a_dimension_below_the_floor_or_on_too_few_coded_sentences():
    n = 40
    first_a = [1] * 16 + [0] * 24            # dimension a: both coders agree on 16 positives
    first_b = [1] * 16 + [0] * 24            # dimension b: the second coder moves 16 of them
    second_b = [0] * 16 + [1] * 16 + [0] * 8
    few = [1] * 10 + [0] * 30                # dimension c: agreement on only 10 positives
    coder_1 = [list(r) for r in zip(first_a, first_b, few)]
    coder_2 = [list(r) for r in zip(first_a, second_b, few)]
    table = agreement_table(_sheets(coder_1, coder_2, dims=("a", "b", "c")),
                            {"all": np.ones(n, bool)}).set_index("dimension")
    assert table.loc["a", "alpha"] == 1.0 and bool(table.loc["a", "reliable"])
    assert table.loc["b", "alpha"] < RELIABLE_ALPHA and not bool(table.loc["b", "reliable"])
    assert table.loc["b", "any_coder_positive"] == 32 and table.loc["b", "all_agree"] == 0.2
    # Perfect agreement on 10 coded sentences is too few to tell.
    assert table.loc["c", "alpha"] == 1.0 and table.loc["c", "any_coder_positive"] == 10 < MIN_POSITIVE
    assert not bool(table.loc["c", "reliable"])


def test_dictionary_scores_against_the_adjudicated_codes_with_wilson_intervals():
    truth = np.array([[1], [1], [1], [0], [0]])
    found = np.array([[1], [1], [0], [1], [0]])
    row = dictionary_table(truth, found, ["a"], {"all": np.ones(5, bool)}).iloc[0]
    assert (row["coded"], row["dictionary"], row["both"]) == (3, 3, 2)
    assert row["precision"] == pytest.approx(2 / 3) and row["recall"] == pytest.approx(2 / 3)
    assert row["f1"] == pytest.approx(2 / 3)
    # Wilson's interval for 2 of 3 (z = 1.96): 0.2077 to 0.9385.
    assert row["precision_low"] == pytest.approx(0.2077, abs=1e-4)
    assert row["precision_high"] == pytest.approx(0.9385, abs=1e-4)


def test_a_dimension_nobody_coded_has_no_recall():
    row = dictionary_table(np.zeros((4, 1), int), np.array([[1], [0], [0], [0]]), ["a"],
                           {"all": np.ones(4, bool)}).iloc[0]
    assert np.isnan(row["recall"]) and row["precision"] == 0.0


def test_topic_agreement_counts_study_sentences_by_their_units_leading_topic():
    truth = pd.DataFrame({"a": [1, 0, 1], "b": [0, 1, 0]}, index=["x-1", "x-2", "x-3"])
    units = pd.DataFrame({"unit_id": ["u1", "u2"], "model_dimension": ["a", "free"]})
    table = topic_agreement(truth, {"x-1": "u1", "x-2": "u1", "x-3": "u2"}, units)
    row = table.iloc[0]
    assert (row["dimension"], row["sentences"], row["coded_as_topic"], row["share"]) == ("a", 2, 1, 0.5)
    assert len(table) == 1  # the free topic's unit is not scored


def _write(path, rows, columns=("sentence_id", "a", "b")):
    pd.DataFrame(rows, columns=list(columns)).to_csv(path, index=False)
    return path


def test_reading_sheets_names_the_file_line_and_column_of_a_bad_code(tmp_path):
    good = _write(tmp_path / "coder_a.csv", [["s1", 1, 0], ["s2", 0, 0]])
    bad = _write(tmp_path / "coder_b.csv", [["s1", 1, 0], ["s2", 0, "yes"]])
    with pytest.raises(InputError, match=r"coder_b.csv.*line 3, column b: 'yes' is not 0 or 1"):
        read_coder_sheets([good, bad], ["a", "b"])
    other = _write(tmp_path / "coder_c.csv", [["s2", 1, 0], ["s1", 0, 0]])
    with pytest.raises(InputError, match="differ from the first sheet"):
        read_coder_sheets([good, other], ["a", "b"])
    with pytest.raises(InputError, match="at least two"):
        read_coder_sheets([good], ["a", "b"])
    sheets = read_coder_sheets([good, _write(tmp_path / "coder_d.csv", [["s1", 1, 1], ["s2", 0, 0]])], ["a", "b"])
    assert sheets.sentence_ids == ("s1", "s2") and sheets.codes["coder_d"].tolist() == [[1, 1], [0, 0]]


def test_a_lexicon_changed_after_coding_names_the_dimensions(tmp_path):
    record = tmp_path / "sheet.json"
    record.write_text(json.dumps({"lexicon_digests": {"a": "1", "b": "2"}}), encoding="utf-8")
    assert stale_dimensions(record, {"a": "1", "b": "2"}) == []
    assert stale_dimensions(record, {"a": "1", "b": "3", "c": "4"}) == ["b", "c"]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1), st.integers(0, 1)), min_size=5, max_size=60))
def test_alpha_never_exceeds_one_and_is_one_only_when_coders_agree(pairs):
    matrix = np.array(pairs).T
    alpha = nominal_alpha(matrix)
    if np.isnan(alpha):
        assert len(np.unique(matrix)) < 2
    else:
        assert alpha <= 1.0 + 1e-12
        assert (abs(alpha - 1.0) < 1e-12) == bool((matrix[0] == matrix[1]).all())


def test_pooled_sheets_leave_missing_coders_empty_and_adjudicate_among_those_who_coded():
    first = _sheets([[1, 0], [0, 0]], [[1, 0], [0, 1]], [[0, 0], [0, 1]])
    second = CoderSheets(("t0",), ("a", "b"), {"coder_x": np.array([[1, 1]]), "coder_y": np.array([[1, 0]])})
    pooled = pool_sheets([first, second])
    assert pooled.sentence_ids == ("s0", "s1", "t0")
    assert np.isnan(pooled.codes["coder_3"][2]).all()
    # s0: 2 of 3 code a; s1: 2 of 3 code b; t0: both of its two coders code a, one of two codes b.
    assert adjudicate(pooled).tolist() == [[1, 0], [0, 1], [1, 0]]
    alone = nominal_alpha(np.stack([c[:, 0] for c in first.codes.values()]).astype(float))
    with_second = nominal_alpha(np.stack([c[:, 0] for c in pooled.codes.values()]))
    assert not np.isnan(with_second) and with_second != alone
    with pytest.raises(ValueError, match="same dimensions"):
        pool_sheets([first, CoderSheets(("u",), ("a",), {"c": np.array([[1]])})])
