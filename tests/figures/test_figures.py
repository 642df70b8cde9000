"""Figures: Chinese text renders with the packaged font, a missing glyph fails loudly,
and the corpus figures are written as PNG files from the tables the runner writes."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from pipeline.common.config import PROJECT_ROOT
from pipeline.figures import corpus as figures_corpus
from pipeline.figures.plotting import cjk_font_path, save_figure, use_cjk_font

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _figure_with_text(*texts: str):
    use_cjk_font()
    from matplotlib import pyplot

    fig, ax = pyplot.subplots(figsize=(4, 0.3 * len(texts) + 1))
    for i, text in enumerate(texts):
        ax.text(0.02, 1 - (i + 1) / (len(texts) + 1), text, transform=ax.transAxes, fontsize=8)
    ax.set_axis_off()
    return fig


def _font_lacks(char: str) -> bool:
    from matplotlib import ft2font

    return ord(char) not in ft2font.FT2Font(str(cjk_font_path())).get_charmap()


# A Private Use Area code point, an emoji and a CJK Extension B character: none
# is in Noto Sans CJK SC, so each would be drawn as an empty box.
@pytest.mark.parametrize("char", ["\ue000", "\U0001f600", "\U00020000"])
def test_a_glyph_missing_from_the_font_stops_the_figure(tmp_path, char):
    assert _font_lacks(char), "the test needs a character the font does not have"
    fig = _figure_with_text(f"社区{char}治理")
    with pytest.raises(UserWarning, match="[Gg]lyph"):
        save_figure(fig, tmp_path / "missing.png")


def test_place_names_categories_and_lexicon_terms_render_without_warnings(tmp_path):
    places = pd.read_csv(PROJECT_ROOT / "data" / "corpus.csv")["place"].tolist()
    lexicon = pd.read_csv(PROJECT_ROOT / "lexicon" / "governance_terms.csv", keep_default_na=False)
    categories = sorted(set(lexicon["category"]))
    # Every term in lines of twenty, so that any character of the lexicon the font
    # lacks would show up here rather than as a box in a published figure.
    terms = lexicon["term"].tolist()
    lines = ["、".join(terms[i:i + 20]) for i in range(0, len(terms), 20)]
    fig = _figure_with_text("、".join(places), " ".join(categories), *lines)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        path = save_figure(fig, tmp_path / "labels.png")
    assert [str(w.message) for w in caught] == []
    assert path.read_bytes().startswith(PNG_SIGNATURE)


# Real rows of the corpus's cleaning audit (Suzhou's inserted pinyin, Hefei's
# site header, Huainan's garbled span) and of its documents table.
AUDIT = pd.DataFrame([
    {"doc_id": "suzhou", "step": 2, "rule": "pinyin_reading", "start": 1, "end": 6, "before": "(lái)", "after": ""},
    {"doc_id": "suzhou", "step": 2, "rule": "pinyin_reading", "start": 8, "end": 14, "before": "(tǒng)", "after": ""},
    {"doc_id": "suzhou", "step": 3, "rule": "chrome_layout_bars", "start": 0, "end": 2, "before": "|\n", "after": ""},
    {"doc_id": "hefei", "step": 3, "rule": "chrome_today_header", "start": 0, "end": 29,
     "before": "今天是2024年12月24日,欢迎您访问中国社区发展网!\n", "after": ""},
    {"doc_id": "hefei", "step": 3, "rule": "chrome_site_name", "start": 29, "end": 37, "before": "中国社区发展网\n", "after": ""},
    {"doc_id": "huainan", "step": 4, "rule": "garble_repair", "start": 40, "end": 46, "before": "!肮ぷ魅藛T",
     "after": "。“工作人員"},
    {"doc_id": "huainan", "step": 4, "rule": "garble_remove", "start": 60, "end": 65, "before": "!蓖襞空f", "after": ""},
])
DOCUMENTS = pd.DataFrame([
    {"doc_id": "suzhou", "place": "苏州市", "chars_raw": 6284, "chars_clean": 3272},
    {"doc_id": "hefei", "place": "合肥市", "chars_raw": 2244, "chars_clean": 2153},
    {"doc_id": "huainan", "place": "淮南市", "chars_raw": 3985, "chars_clean": 2455},
])


def test_cleaning_is_summed_by_rule_group():
    summary = figures_corpus.cleaning_by_group(AUDIT)
    got = {(r.doc_id, r.group): (r.changes, r.chars_removed) for r in summary.itertuples()}
    assert got == {
        ("hefei", "chrome"): (2, 29 + 8),
        ("huainan", "garble"): (2, 0 + 5),  # the repair replaces six characters by six
        ("suzhou", "pinyin"): (2, 5 + 6),
        ("suzhou", "chrome"): (1, 2),
    }
    # groups follow the fixed order (pinyin before chrome), not the alphabet
    assert summary[summary["doc_id"] == "suzhou"]["group"].tolist() == ["pinyin", "chrome"]


def test_rule_group_is_the_prefix():
    assert figures_corpus.rule_group("garble_repair") == "garble"
    assert figures_corpus.rule_group("spam_seo") == "spam"
    assert figures_corpus.rule_group("whitespace") == "whitespace"


def test_cleaning_rows_are_articles_in_manifest_order_up_to_the_limit():
    rows, note = figures_corpus.cleaning_rows(DOCUMENTS, AUDIT, max_rows=3)
    assert note == ""
    assert rows["label"].tolist() == ["苏州市\n(suzhou)", "合肥市\n(hefei)", "淮南市\n(huainan)"]
    assert rows["changes"].tolist() == [3, 2, 2]
    assert rows["pinyin"].tolist() == [11, 0, 0] and rows["chrome"].tolist() == [2, 37, 0]


# Two more Hefei articles make five articles in three places.
MORE_HEFEI = pd.DataFrame([
    {"doc_id": "hefei_2", "place": "合肥市", "chars_raw": 1000, "chars_clean": 900},
    {"doc_id": "hefei_3", "place": "合肥市", "chars_raw": 500, "chars_clean": 500},
])
MORE_AUDIT = pd.DataFrame([
    {"doc_id": "hefei_2", "step": 3, "rule": "chrome_site_name", "start": 0, "end": 100, "before": "x" * 100,
     "after": ""},
])


def test_beyond_the_limit_articles_are_summed_by_place():
    documents = pd.concat([DOCUMENTS, MORE_HEFEI], ignore_index=True)
    audit = pd.concat([AUDIT, MORE_AUDIT], ignore_index=True)
    rows, note = figures_corpus.cleaning_rows(documents, audit, max_rows=4)
    assert note == "5 articles summed by place"
    assert rows["label"].tolist() == ["苏州市\n(1 articles)", "合肥市\n(3 articles)", "淮南市\n(1 articles)"]
    hefei = rows.iloc[1]
    assert (hefei["chars_raw"], hefei["chars_clean"]) == (2244 + 1000 + 500, 2153 + 900 + 500)
    assert (hefei["changes"], hefei["chrome"]) == (3, 37 + 100)
    # Every article's numbers are in exactly one row.
    assert rows["chars_raw"].sum() == documents["chars_raw"].sum()


def test_beyond_the_limit_in_places_the_places_that_lost_most_are_kept_in_manifest_order():
    documents = pd.concat([DOCUMENTS, MORE_HEFEI], ignore_index=True)
    audit = pd.concat([AUDIT, MORE_AUDIT], ignore_index=True)
    rows, note = figures_corpus.cleaning_rows(documents, audit, max_rows=2)
    # lost: 苏州 3012, 合肥 191, 淮南 1530
    assert [label.split("\n")[0] for label in rows["label"]] == ["苏州市", "淮南市"]
    assert note == "5 articles summed by place; the 2 places of 3 that lost the most characters"


def test_a_large_corpus_draws_one_row_per_place(tmp_path):
    documents = pd.concat([DOCUMENTS, MORE_HEFEI], ignore_index=True)
    audit = pd.concat([AUDIT, MORE_AUDIT], ignore_index=True)
    by_place = figures_corpus.plot_cleaning(documents, audit, tmp_path / "place.png", max_rows=4)
    by_article = figures_corpus.plot_cleaning(documents, audit, tmp_path / "article.png", max_rows=5)
    from matplotlib import image

    # Three rows instead of five: a shorter image.
    assert image.imread(by_place).shape[0] < image.imread(by_article).shape[0]


def test_plot_cleaning_writes_the_same_png_twice(tmp_path):
    first = figures_corpus.plot_cleaning(DOCUMENTS, AUDIT, tmp_path / "a" / "cleaning.png")
    second = figures_corpus.plot_cleaning(DOCUMENTS, AUDIT, tmp_path / "b" / "cleaning.png")
    assert first == tmp_path / "a" / "cleaning.png"
    assert first.read_bytes().startswith(PNG_SIGNATURE)
    assert first.read_bytes() == second.read_bytes()


def test_plot_cleaning_needs_documents(tmp_path):
    with pytest.raises(ValueError):
        figures_corpus.plot_cleaning(DOCUMENTS.iloc[0:0], AUDIT, tmp_path / "cleaning.png")


PROFILE = pd.DataFrame([
    {"place": place, "category": category, "count": count, "per_10k": round(10000 * count / total, 2)}
    for place, total, counts in [("安徽省", 600, {"regional_coordination": 18, "governance_frame": 39, "grid_management": 2}),
                                 ("成都市", 742, {"regional_coordination": 0, "governance_frame": 38, "grid_management": 0}),
                                 ("淮南市", 905, {"regional_coordination": 0, "governance_frame": 52, "grid_management": 9})]
    for category, count in counts.items()
])


def test_profile_matrix_orders_categories_by_mean_rate():
    matrix = figures_corpus.profile_matrix(PROFILE)
    assert list(matrix.index) == ["安徽省", "成都市", "淮南市"]
    assert list(matrix.columns) == ["governance_frame", "regional_coordination", "grid_management"]
    assert matrix.loc["安徽省", "regional_coordination"] == 300.0


def test_plot_lexicon_profile_writes_a_png(tmp_path):
    path = figures_corpus.plot_lexicon_profile(PROFILE, tmp_path / "lexicon_profile.png")
    assert path.read_bytes().startswith(PNG_SIGNATURE)


def test_plot_lexicon_profile_rejects_an_empty_profile(tmp_path):
    with pytest.raises(ValueError):
        figures_corpus.plot_lexicon_profile(PROFILE.iloc[0:0], tmp_path / "lexicon_profile.png")


def test_profile_shares_figure_draws_intervals_that_need_not_contain_the_share(tmp_path):
    rows = []
    for place, shift in (("成都市", 0.0), ("合肥市", 0.1)):
        for variant, drop in (("all", 0.0), ("without_flagged", 0.05)):
            rows.append({"place": place, "variant": variant, "category": "digital_governance",
                         "share": 0.3 + shift - drop, "ci_low": 0.2 + shift, "ci_high": 0.5 + shift})
            # A cluster-bootstrap percentile interval can lie wholly above the share.
            rows.append({"place": place, "variant": variant, "category": "rule_of_law",
                         "share": 0.0, "ci_low": 0.05, "ci_high": 0.2})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path = figures_corpus.plot_profile_shares(pd.DataFrame(rows), tmp_path / "shares.png")
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    with pytest.raises(ValueError, match="empty"):
        figures_corpus.plot_profile_shares(pd.DataFrame(columns=["place", "variant"]), tmp_path / "none.png")
