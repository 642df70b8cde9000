"""The prose-number check: what counts as a figure, when a table backs it, and what the report names.

The snippets are real sentences of results/findings.md, data/validation/README.md and
lexicon/CODEBOOK.md (and of params.yaml's comments), copied here so that these tests do
not change when the documents are regenerated.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from hypothesis import given
from hypothesis import strategies as st

from pipeline.report.consistency import (
    ProseNumber,
    Support,
    check_documents,
    params_numbers,
    prose_numbers,
    support_values,
    unsupported,
)

# results/findings.md
IMAGE = "![themes_seeded_place_topics.png](results/figures/themes_seeded_place_topics.png)"
CORPUS = ("The corpus is 5 articles from 5 places (4 city, 1 province); 3 of the 5 places are in 安徽省, "
          "cut into 69 text units with 4073 counted tokens, so every place-level contrast below is a "
          "contrast between one article per place.")
SEEDED = ("A keyword-assisted topic model with one topic per dimension finds 8 of 16 dimensions as stable "
          "topics; counting a dimension as present in a place when the lower 95% bound of its share is at "
          "least 0.05, none is shared by 4 or more places, and digital_governance (合肥市) and social_forces "
          "(合肥市) are specific; with one article per place these intervals are optimistic.")
CONCEPTS = ("Counting each policy concept's terms together and shrinking what every government work report "
            "says, the concepts each place stresses most (log-odds, in at least 60% of bootstrap resamples): "
            "安徽省: 街道体制改革、社区矫正、长三角一体化; 苏州市: 公益创投、政社互动、根系工程.")
KWIC_ROW = ("| 合肥市 | 社会组织 | social organisations and their incubation | social forces (社会力量) | 19 | 12 "
            "| 91% | …社会组织1270家,备案4163家,社区【枢纽型社会组织】562家。… |")
# data/validation/README.md
UNITS = ("  after every 。！？； and at every line break, giving 172 units (anhui 33,\n"
         "  chengdu 24, hefei 35, huainan 40, suzhou 40). Every unit is coded, headings,")
HELDOUT = ("  the held-out cleaning set (`tests/heldout/`): h08, h10, h13, h19, h20, h23, h24, h25, h30, "
           "chosen as the")
EXCERPTS = "  excerpts stop at about 1,500 characters, so their last unit is often cut."
CODER = ("* **One coder, not a person.** The coding was done on 1 December 2026 by a\n"
         "  language-model assistant (Claude) acting as the coder.")
RECALL = ("reduction 0.83 / 0.83; regional coordination 1.00 / 1.00 (4 sentences);\n"
          "community development 0.80 / 0.64; safety 0.77 / 0.53; institutions 0.80 /\n"
          "0.77. The two added dimensions then had no lexicon terms (recall 0); with the")
FILE_ROW = ("| `coded_sentences.csv` | 250 sentences coded by hand against `lexicon/CODEBOOK.md`, following "
            "`lexicon/coding_instructions.md` |")
# lexicon/CODEBOOK.md
CONGRESS = ("| three-way integration (自治、法治、德治相结合) | report to the 19th Party Congress, October 2017 "
            "(rural governance) | self-governance, rule of law and rule by virtue combined; carried into the "
            "2021 opinion for all grassroots governance |")
PLENUM = ("| grid management (网格化管理) | 18th Central Committee, Third Plenum decision, November 2013 "
          "| 以网格化管理、社会化服务为方向，健全基层综合服务管理平台 |")
LIFE_CIRCLE = ("the 2017 opinion's community planning, service facilities and living\n"
               "environment (改善社区人居环境); the 15-minute life circle of the national\n"
               "residential-area standard GB 50180-2018; Chengdu's 城乡社区发展治理.")
CIRCLES = ("**Include.** Community development (社区发展治理, 社区营造), life circles\n"
           "(15分钟生活圈, 一刻钟便民生活圈), neighbourhood centres, renovation of old")
COVERAGE = '**Include.** Coverage claims and targets (全覆盖, 覆盖率, 达标, "实现……100%"),'
BUILT = '("建成社区服务中心1200个" codes only the dimension of what was built); a'
RATE = "reads each dimension on its own (rate per 10,000 tokens, intervals) and does"
GENERATED = ("<!-- concepts-by-dimension:start -->\n<!-- Generated from lexicon/concepts.csv and "
             "lexicon/term_concepts.csv by pipeline.report.codebook; do not edit by hand. -->\n\n"
             "### governance_frame (13 concepts)")
# params.yaml comments, and a cell of results/tables/documents.csv
SCALES = "  # Synthetic articles per synthetic place: 5 places up to 100x, 50 at 1000x."
GARBLE = "    # counts against the text it stands in (歙 -5.8, 臧 -5.5; 的 -2.3)."
TIMING = "  # two workers cost what they save (43-45 s for the whole run either way,"
CODECS = "  codecs: [utf-8, gb18030, big5hkscs, big5]"


def texts(text: str) -> list[str]:
    return [n.text for n in prose_numbers(text)]


def number(text: str) -> ProseNumber:
    """The one number of `text`."""
    (found,) = prose_numbers(text)
    return found


def test_every_figure_of_a_findings_sentence_is_found_in_order():
    assert texts(CORPUS) == ["5", "5", "4", "1", "3", "5", "69", "4073"]
    assert [(n.value, n.decimals, n.percent) for n in prose_numbers(CORPUS)][-1] == (4073.0, 0, False)


def test_percentages_decimals_and_thousands_keep_how_they_are_written():
    found = prose_numbers(SEEDED)
    assert [(n.text, n.value, n.decimals, n.percent) for n in found] == [
        ("8", 8.0, 0, False), ("16", 16.0, 0, False), ("95%", 95.0, 0, True),
        ("0.05", 0.05, 2, False), ("4", 4.0, 0, False)]
    assert (number(EXCERPTS).text, number(EXCERPTS).value, number(EXCERPTS).decimals) == ("1,500", 1500.0, 0)
    assert [(n.text, n.decimals) for n in prose_numbers(RECALL)][4:7] == [("4", 0), ("0.80", 2), ("0.64", 2)]
    assert texts(CONCEPTS) == ["60%"]


def test_numbers_in_markdown_tables_are_figures():
    assert texts(FILE_ROW) == ["250"]
    assert texts(KWIC_ROW) == ["19", "12", "91%"]


def test_years_days_of_the_month_and_ordinals_are_skipped():
    assert texts(CONGRESS) == []  # 19th, 2017, 2021
    assert texts(PLENUM) == []  # 18th, 2013
    assert texts(CODER) == []  # 1 December 2026
    assert texts("issued 14th, 2nd, 1st and 3rd, on June 5, 2019") == []


def test_code_comments_links_images_and_urls_are_skipped():
    assert texts(HELDOUT) == []  # a code span, then identifiers h08 ... h30
    assert texts(IMAGE) == []
    assert texts(GENERATED) == ["13"]  # the comments go, the heading's count stays
    assert texts("```bash\nmake results   # 69 units\n```\nthen 5 places") == ["5"]
    assert texts("runs on [dask.distributed](https://distributed.dask.org/en/2024.1/) with 2 workers") == ["2"]
    assert texts("see https://example.org/v2/table-3 and `k_max: 12`, <img width=\"600\">") == []


def test_digits_quoted_inside_chinese_text_are_skipped():
    assert texts(CIRCLES) == []  # 15分钟生活圈
    assert texts(COVERAGE) == []  # 实现……100%
    assert texts(BUILT) == []  # 1200个
    assert texts("12月14日,《中国社区报》以“乘势而上”为题") == []  # a cell of results/tables/documents.csv
    assert texts("等“1+N”文件体系; 高标准打造市、区“1+10”基层; 达标率分别达99.2%、98.3%。") == []
    assert texts(UNITS) == ["172", "33", "24", "35", "40", "40"]  # 。！？； is Chinese, 172 is ours


def test_identifiers_versions_dates_and_hyphenated_words_are_skipped():
    assert texts(CODECS) == []  # utf-8, gb18030, big5
    assert texts("doc-0011, K2, k_min, Python 3.11, v1.2.3 and version 2.0 on 2020-12-31") == []
    # 15-minute names a policy, 2017 and 2018 are years; the standard's number is a figure to allow.
    assert texts(LIFE_CIRCLE) == ["50180"]


def test_list_markers_and_section_numbers_are_skipped_but_a_wrapped_line_is_prose():
    document = "## 2. Findings\n\n1. The corpus is 5 articles\n2) 3 of the 5 places\n"
    assert texts(document) == ["5", "3", "5"]
    assert [(n.text, n.line) for n in prose_numbers(RECALL)][-3:] == [("0.80", 2), ("0.77", 3), ("0", 3)]
    # CommonMark: only "1." may interrupt a paragraph, so this "4." continues the sentence.
    assert texts("burden reduction 6, regional coordination\n4. Frame only 10.") == ["6", "4", "10"]


def test_scales_signs_and_ranges_are_figures():
    assert texts(SCALES) == ["5", "100x", "50", "1000x"]
    assert [n.value for n in prose_numbers(GARBLE)] == [-5.8, -5.5, -2.3]
    assert texts(TIMING) == ["43", "45"]


def test_line_and_context_point_at_the_number():
    last = prose_numbers(RECALL)[-2]
    assert (last.text, last.line) == ("0.77", 3)
    assert "0.77. The two" in last.context and len(last.context) <= 40


def test_a_decimal_is_supported_by_a_value_that_rounds_to_it():
    support = Support([0.767677, 0.605])  # seeded_topic_quality stability; expectation_hits stability
    assert all(support.supports(number(f"stability {x}")) for x in ("0.77", "0.8", "0.768", "0.6"))
    assert not any(support.supports(number(f"stability {x}")) for x in ("0.76", "0.78", "0.7676", "0.62"))
    # 0.605 is a tie: a writer may round it either way.
    assert support.supports(number("stable in 0.60")) and support.supports(number("stable in 0.61"))


def test_a_percentage_is_supported_by_a_share_or_a_stored_percentage():
    support = Support([0.6, 169 / 41568, 95.0])
    assert all(support.supports(number(f"in {x} of resamples")) for x in ("60%", "60.0%", "0.41%", "95%"))
    assert not any(support.supports(number(f"in {x} of resamples")) for x in ("61%", "59.9%", "0.42%"))


def test_an_integer_needs_an_equal_value_not_a_rounded_one():
    support = Support([68.03, 69.0])  # lexicon_profile per_10k, place_summary units
    assert support.supports(number("cut into 69 text units"))
    assert not support.supports(number("cut into 68 text units"))


def test_support_values_reads_numbers_text_cells_and_row_counts(tmp_path):
    nested = tmp_path / "seeded"
    nested.mkdir()
    pd.DataFrame({"topic": [1, 2], "stability": [0.767677, 0.674437], "found": [True, False],
                  "reason": ["stable: 0.77 >= 0.6", "stable: 0.67 >= 0.6"]}).to_csv(
        nested / "seeded_topic_quality.csv", index=False)
    pd.DataFrame({"place": ["安徽省", "淮南市", "成都市"], "date": ["12月14日", "", "2020-12-31"],
                  "terms": ["社区矫正 2", "街道体制改革 1; 街道管理体制改革 3", "NA"],
                  "tokens": [588, 887, 734]}).to_csv(tmp_path / "documents.csv", index=False)
    values = set(support_values(tmp_path, extra=[0.05]).values.tolist())
    assert {0.767677, 0.674437, 588.0, 887.0, 734.0} <= values  # numeric cells
    assert {0.77, 0.67, 0.6, 2.0, 3.0} <= values  # numbers inside text cells
    assert {3.0, 0.05} <= values  # a row count, and an extra value
    assert not {0.0, 14.0, 12.0, 31.0} & values  # no booleans as 0/1, no quoted or date digits
    assert 1.0 in values  # the topic column and the 1 of "街道体制改革 1"


def test_params_numbers_walks_the_nested_parameters():
    params = yaml.safe_load("profile:\n  confidence: 0.95\n  bootstrap_samples: 2000\nthemes:\n  seeds: [1, 2, 3]\n"
                            "  ablation: true\n  alpha: auto\n  presence_floor: 0.05\n")
    assert params_numbers(params) == [0.95, 2000.0, 1.0, 2.0, 3.0, 0.05]


finite = st.floats(min_value=-10_000, max_value=10_000, allow_nan=False, allow_infinity=False)
decimals = st.integers(min_value=1, max_value=4)


@given(value=finite, places=decimals, thousands=st.booleans())
def test_a_table_value_written_at_any_precision_is_supported(value, places, thousands):
    written = f"{value:,.{places}f}" if thousands else f"{value:.{places}f}"
    assert Support([value]).supports(number(f"the share is {written} here"))


@given(share=st.floats(min_value=0, max_value=1), places=st.integers(min_value=0, max_value=3))
def test_a_share_written_as_a_percentage_is_supported(share, places):
    assert Support([share]).supports(number(f"in {share * 100:.{places}f}% of resamples"))


@given(value=finite, places=decimals, steps=st.integers(min_value=2, max_value=1000), down=st.booleans())
def test_a_value_moved_by_two_units_or_more_is_not_supported(value, places, steps, down):
    # Rounding moves a number by at most half a unit, so two units away can never round back.
    moved = value + (-1 if down else 1) * steps * 10.0 ** -places
    assert not Support([value]).supports(number(f"the share is {moved:.{places}f} here"))


@given(share=st.floats(min_value=0.01, max_value=1), places=st.integers(min_value=0, max_value=3),
       steps=st.integers(min_value=2, max_value=1000))
def test_a_percentage_two_units_above_the_share_is_not_supported(share, places, steps):
    # Upwards only: the percentage then stays far above the share itself, which a stored percentage could be.
    moved = share * 100 + steps * 10.0 ** -places
    assert not Support([share]).supports(number(f"in {moved:.{places}f}% of resamples"))


@given(count=st.integers(min_value=0, max_value=10**7), offset=st.integers(min_value=1, max_value=10**4))
def test_an_integer_is_supported_by_itself_and_by_nothing_next_to_it(count, offset):
    support = Support([count])
    assert support.supports(number(f"with {count:,} counted tokens"))
    assert not support.supports(number(f"with {count + offset:,} counted tokens"))


def findings_tables(folder: Path) -> Support:
    """Tables holding the figures of CORPUS and SEEDED, as the study's tables and parameters would."""
    folder.mkdir()
    pd.DataFrame({"articles": [5], "places": [5], "cities": [4], "provinces": [1], "anhui_places": [3],
                  "units": [69], "tokens": [4073]}).to_csv(folder / "corpus.csv", index=False)
    pd.DataFrame({"found": [8], "dimensions": [16], "shared_min_places": [4]}).to_csv(
        folder / "seeded_summary.csv", index=False)
    return support_values(folder, extra=[0.95, 0.05])


def test_check_documents_names_a_stale_number_with_its_line(tmp_path):
    support = findings_tables(tmp_path / "tables")
    current = f"{IMAGE}\n\n{CORPUS} {SEEDED}\n"
    assert check_documents({"findings.md": current}, support) == []
    stale = f"{IMAGE}\n\n{CORPUS.replace('69 text units', '71 text units')}\n\n{SEEDED.replace('95%', '90%')}\n"
    messages = check_documents({"findings.md": stale}, support)
    assert len(messages) == 2
    assert messages[0].startswith("findings.md:3: 71 (…") and "into 71 text units" in messages[0]
    assert messages[1].startswith("findings.md:5: 90% (…") and "lower 90% bound" in messages[1]
    assert all(m.endswith("…) matches no value in results/tables") for m in messages)
    assert [n.text for n in unsupported(stale, support)] == ["71", "90%"]


def test_an_allowed_phrase_covers_only_its_own_numbers_and_a_stale_one_is_reported():
    codebook = f"{RATE}\n{LIFE_CIRCLE}\n"
    support = Support(np.array([]))
    standard = ("GB 50180-2018", "the national residential-area standard, cited by its number")
    assert check_documents({"CODEBOOK.md": codebook}, support, {"CODEBOOK.md": [standard]}) == [
        "CODEBOOK.md:1: 10,000 (…own (rate per 10,000 tokens, interv…) matches no value in results/tables"]
    stale = ("Article 31 of the regulation", "cited from the Chengdu regulation")
    messages = check_documents({"CODEBOOK.md": codebook}, support,
                               {"CODEBOOK.md": [standard, stale], "README.md": [standard]})
    assert "README.md: allowed phrases are listed for a document that is not checked" in messages
    assert ("CODEBOOK.md: allowed phrase 'Article 31 of the regulation' (cited from the Chengdu regulation) "
            "no longer occurs in the document") in messages
    assert len(messages) == 3  # and the 10,000 outside every allowed phrase
