"""The page evaluation's measures, on cases worked out by hand, and its run on a tiny page set."""

from __future__ import annotations

import csv

import pytest

from pipeline.corpus.pageeval import char_scores, chrome_lines, macro, paragraphs_kept, score_page
from pipeline.corpus.pagesets import COLUMNS, gold_paragraphs, read_pageset, site, site_half

GOLD = ["社区议事会每月召开一次会议", "居民代表物业企业和社区民警共同商议公共事务"]


def form(text: str) -> str:
    return "".join(text.split())


def test_perfect_output_scores_one():
    gold = "\n".join(GOLD)
    assert char_scores(gold, gold) == (1.0, 1.0, 1.0)
    assert paragraphs_kept(GOLD, gold) == 2


def test_empty_output_has_zero_recall():
    precision, recall, f1 = char_scores("", "\n".join(GOLD))
    assert (precision, recall, f1) == (0.0, 0.0, 0.0)
    assert paragraphs_kept(GOLD, "") == 0


def test_a_partial_output_by_hand():
    # Output: the first gold paragraph (13 characters) and a chrome line "版权所有" (4 characters, none in the
    # gold, since 所 and 有 do not occur there either): overlap 13; precision 13/17; recall 13/(13+21).
    output = GOLD[0] + "\n版权所有"
    precision, recall, f1 = char_scores(output, "\n".join(GOLD))
    assert precision == pytest.approx(13 / 17)
    assert recall == pytest.approx(13 / 34)
    assert f1 == pytest.approx(2 * (13 / 17) * (13 / 34) / (13 / 17 + 13 / 34))
    assert paragraphs_kept(GOLD, output) == 1
    gold = "\n".join(GOLD)
    assert chrome_lines([GOLD[0], "版权所有"], [GOLD[0], "版权所有", "首页", GOLD[1]], gold) == (1, 2, 1)


def test_characters_count_as_a_multiset():
    # The gold has 社 three times; an output repeating it five times gets credit for three only.
    precision, recall, _ = char_scores("社社社社社", "社社社区")
    assert precision == pytest.approx(3 / 5)
    assert recall == pytest.approx(3 / 4)


def test_a_paragraph_mostly_present_counts_as_kept_and_a_half_present_one_does_not():
    long = "城乡社区是人民群众安居乐业的家园是社会治理的基本单元"
    assert paragraphs_kept([long], long[:-1]) == 1  # 22 of 23 five-grams
    assert paragraphs_kept([long], long[: len(long) // 2]) == 0


def test_score_page_marks_an_empty_page():
    row = {"gold": GOLD}
    scores = score_page(row, "<html><body><p>首页</p></body></html>", None, form)
    assert scores["empty"] == 1 and scores["recall"] == 0.0
    assert macro([scores, score_page(row, "<p>x</p>", "\n".join(GOLD), form)])["recall"] == 0.5


def test_gold_paragraphs_drop_tags_and_decode_entities_once():
    reference = "<p>标题</p>\n<p>第一段&amp;lt;b&amp;gt;<b>加粗</b>&lt;i&gt;</p>\n<p> </p>"
    assert gold_paragraphs(reference) == ["标题", "第一段&lt;b&gt; 加粗 <i>"]


def test_sites_and_halves_are_stable():
    assert site("20120112_news.sina.com.cn_abc") == "sina.com.cn"
    assert site("20120112_finance.ifeng.com_abc") == "ifeng.com"
    assert site_half("20120112_news.sina.com.cn_abc") == site_half("20111101_finance.sina.com.cn_def")
    assert {site_half(f"20120101_site{i}.com_x") for i in range(20)} == {"development", "heldout"}


def test_read_pageset_reads_the_format(tmp_path):
    (tmp_path / "html").mkdir()
    (tmp_path / "gold").mkdir()
    (tmp_path / "html" / "a.html").write_bytes(b"<p>x</p>")
    (tmp_path / "gold" / "a.txt").write_text("\n".join(GOLD) + "\n\n", encoding="utf-8")
    with open(tmp_path / "pages.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerow({"id": "a", "file": "a.html", "script": "simplified"})
    (row,) = read_pageset(tmp_path)
    assert row["gold"] == GOLD and row["html_path"].read_bytes() == b"<p>x</p>"
