"""The review table and its harm check: which kept lines supply a term to a list the findings draw on."""

from __future__ import annotations

import pandas as pd

from pipeline.corpus.review import HARM_COLUMNS, REVIEW_COLUMNS, harm_check, line_tokens, top_lists


def unit(doc_id: str, place: str, text: str, tokens: list[str]) -> dict:
    """A text unit with each token's span found left to right in the text, as the segmentation writes it."""
    spans, at = [], 0
    for token in tokens:
        start = text.index(token, at)
        spans.append([start, start + len(token)])
        at = start + len(token)
    return {"unit_id": f"{doc_id}-1", "doc_id": doc_id, "place": place, "text": text, "tokens": tokens, "spans": spans}


# A kept line of chrome (a site's street-name menu, from held-out set E's kind of page) and a heading, in one unit
# with the first sentence of the body.
MENU = "老街 新村 首页"
UNITS = [unit("luohe", "漯河市", f"{MENU}\n构建群众自治圈\n社区居民议事会每月召开一次。",
              ["老街", "新村", "首页", "群众自治", "社区", "居民", "议事会"]),
         unit("hefei", "合肥市", "老街改造议事会召开。", ["老街", "改造", "议事会"])]
PLACE_TERMS = pd.DataFrame({"place": ["漯河市", "漯河市", "合肥市"], "method": ["logodds", "tfidf", "logodds"],
                            "rank": [1, 3, 1], "term": ["老街", "议事会", "改造"]})
CONCEPTS = pd.DataFrame({"place": ["漯河市"], "method": ["logodds"], "rank": [2], "concept": ["self_governance"],
                         "terms": ["群众自治 1; 村民自治 2"]})
TOPICS = pd.DataFrame({"topic": [1, 1], "rank": [1, 2], "term": ["社区", "首页"]})
TABLES = {"place_terms": PLACE_TERMS, "place_concepts": CONCEPTS, "topics": TOPICS}


def test_a_lines_tokens_are_those_inside_it_only():
    assert line_tokens(UNITS[:1], MENU) == ["老街", "新村", "首页"]
    assert line_tokens(UNITS[:1], "构建群众自治圈") == ["群众自治"]
    # a line longer than a unit takes the unit's tokens whole
    assert line_tokens(UNITS[1:], "老街改造议事会召开。附:报名表") == ["老街", "改造", "议事会"]
    assert line_tokens(UNITS, "不在文中的一行") == []


def test_top_lists_take_the_terms_of_place_terms_concepts_and_topics():
    lists = top_lists(TABLES, 15)
    assert set(zip(lists["place"], lists["term"])) == {("漯河市", "老街"), ("漯河市", "议事会"), ("合肥市", "改造"),
                                                       ("漯河市", "群众自治"), ("漯河市", "村民自治"), ("", "社区"),
                                                       ("", "首页")}
    assert "concept self_governance, logodds #2" in set(lists["list"])
    # rows ranked below the list a reader sees are not on it; a topic's listed terms all are
    cut = top_lists(TABLES, 1)
    assert set(zip(cut["place"], cut["term"])) == {("漯河市", "老街"), ("合肥市", "改造"), ("", "社区"), ("", "首页")}


def test_chrome_that_supplies_a_top_term_is_named_and_a_line_that_supplies_none_is_not():
    review = pd.DataFrame({"doc_id": ["luohe", "luohe", "luohe"],
                           "line": [MENU, "构建群众自治圈", "不在文中的一行"],
                           "reason": ["head line 1", "head line 2", "head line 3"]})
    checked = harm_check(review, UNITS, top_lists(TABLES, 15))
    assert list(checked.columns) == REVIEW_COLUMNS + HARM_COLUMNS
    # 老街 is on 漯河市's own list; 首页 on a topic's, which belongs to every place; 新村 on none.
    assert checked["top_terms"].tolist() == ["老街; 首页", "群众自治", ""]
    # 老街 and 首页 occur nowhere else in 漯河市 (nor 首页 in the corpus): the menu alone put them on the lists;
    # 群众自治 occurs only in its heading too
    assert checked["only_from_line"].tolist() == ["老街; 首页", "群众自治", ""]
    assert "老街: place terms, logodds #1" in checked["top_lists"][0]
    assert "首页: topic 1 #2" in checked["top_lists"][0]


def test_a_term_the_body_also_uses_is_supplied_but_not_only_from_the_line():
    body = unit("luohe", "漯河市", "老街社区议事会召开。", ["老街", "社区", "议事会"])
    review = pd.DataFrame({"doc_id": ["luohe"], "line": [MENU], "reason": ["head line 1"]})
    checked = harm_check(review, [UNITS[0], body], top_lists(TABLES, 15))
    assert checked["top_terms"].tolist() == ["老街; 首页"]
    assert checked["only_from_line"].tolist() == ["首页"]


def test_another_places_list_does_not_count():
    review = pd.DataFrame({"doc_id": ["hefei"], "line": ["老街改造议事会召开。"], "reason": ["tail"]})
    checked = harm_check(review, UNITS, top_lists({"place_terms": PLACE_TERMS.iloc[:2]}, 15))
    # 老街 and 议事会 lead 漯河市's lists, not 合肥市's
    assert checked["top_terms"].tolist() == [""]


def test_an_empty_review_stays_empty_with_the_harm_columns():
    review = pd.DataFrame(columns=REVIEW_COLUMNS)
    checked = harm_check(review, UNITS, top_lists({"place_terms": PLACE_TERMS, "place_concepts": CONCEPTS}, 15))
    assert checked.empty and list(checked.columns) == REVIEW_COLUMNS + HARM_COLUMNS

