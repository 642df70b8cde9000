"""The report's tables as a reader sees them: blank for a missing value, words for a code name."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pipeline.report.tidy import tidy_cell, tidy_tables, untidy_cells

# Cells as nbconvert renders a pandas table and a Markdown table of the notebooks.
PAGE = """<p>The column <code>ci_low</code> in prose stays; so does NaN in a sentence.</p>
<table><thead><tr><th>place</th><th>ci_low</th><th>interval</th></tr></thead>
<tbody><tr><td>安徽省</td><td>NaN</td><td>units_optimistic</td></tr>
<tr><td>苏州市</td><td>None</td><td>0.10 [0.00, 0.25] units_optimistic</td></tr>
<tr><td><code>party_leadership</code></td><td>one_article;small_expected</td><td>…开展【公益创投】…</td></tr>
</tbody></table>"""


def test_missing_values_become_blank_and_code_names_words():
    tidy = tidy_tables(PAGE)
    assert "<td>NaN</td>" not in tidy and "<td>None</td>" not in tidy
    assert "<th>ci low</th>" in tidy and "<td>units optimistic</td>" in tidy
    assert "<td>0.10 [0.00, 0.25] units optimistic</td>" in tidy
    assert "<td>party leadership</td>" in tidy and "<td>one article; small expected</td>" in tidy
    # Outside the tables nothing changes, nor does a keyword-in-context cell.
    assert tidy.startswith("<p>The column <code>ci_low</code> in prose stays; so does NaN in a sentence.</p>")
    assert "<td>…开展【公益创投】…</td>" in tidy
    assert untidy_cells(PAGE) and untidy_cells(tidy) == []


def test_paths_and_numbers_are_not_code_names():
    for text in ("results/tables/place_terms.csv", "0.581", "2020-12-31", "社区治理", "K = 2"):
        assert tidy_cell(text) == text


@given(st.lists(st.one_of(st.sampled_from(["NaN", "None", "nan", "<NA>", "rule_of_law", "ci_low;ci_high",
                                           "社区矫正 2", "0.5", ""]),
                          st.from_regex(r"[a-z]{1,6}(_[a-z0-9]{1,4}){0,2}", fullmatch=True)), max_size=8))
def test_tidy_leaves_no_untidy_cell_and_is_idempotent(cells):
    page = "<table><tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr></table>"
    once = tidy_tables(page)
    assert untidy_cells(once) == []
    assert tidy_tables(once) == once
