"""Near-duplicate articles: shingle similarity, and the run refusing an unmarked repost."""

from __future__ import annotations

import contextlib
import csv

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.common.errors import InputError
from pipeline.corpus import duplicates, ingest
from pipeline.corpus.script import make_converter
from pipeline.corpus.stage import ingest_and_clean
from tests.conftest import raw_text

READINGS = {"社": "shè", "區": "qū", "會": "huì", "治": "zhì", "理": "lǐ", "民": "mín", "務": "wù", "層": "céng"}


def repost(text: str) -> str:
    """A mirror site's copy: traditional script, a reading after some characters, other chrome."""
    traditional = make_converter("s2t").convert(text)
    with_readings = "".join(ch + (f"({READINGS[ch]})" if ch in READINGS and i % 3 == 0 else "")
                            for i, ch in enumerate(traditional))
    return "首頁 > 新聞中心 > 正文\n" + with_readings + "\n(責任編輯:張三)\n"


def test_shingles_ignore_punctuation_and_space():
    assert duplicates.shingles("社区 治理,好。", 2) == duplicates.shingles("社区治理好", 2)
    assert duplicates.shingles("社区", 5) == frozenset({"社区"})
    assert duplicates.shingles("。", 5) == frozenset()


@settings(max_examples=60, deadline=None)
@given(a=st.text("社区治理居民议事协商服务街道", min_size=0, max_size=40),
       b=st.text("社区治理居民议事协商服务街道", min_size=0, max_size=40))
def test_jaccard_is_symmetric_and_bounded(a, b):
    x, y = duplicates.shingles(a, 3), duplicates.shingles(b, 3)
    assert duplicates.jaccard(x, y) == duplicates.jaccard(y, x)
    assert 0.0 <= duplicates.jaccard(x, y) <= 1.0
    assert duplicates.jaccard(x, x) == 1.0


def test_pairs_found_with_the_size_bound_match_all_pairs():
    texts = ["社区治理居民议事", "社区治理居民议事会", "协商服务街道社区", "完全不同的一段文字内容", "社区治理居民"]
    found = duplicates.near_duplicate_pairs(texts, 3, 0.5)
    every = [(i, j, duplicates.jaccard(duplicates.shingles(texts[i], 3), duplicates.shingles(texts[j], 3)))
             for i in range(len(texts)) for j in range(i + 1, len(texts))]
    assert found == sorted((i, j, v) for i, j, v in every if v >= 0.5)
    assert (0, 1) in {(i, j) for i, j, _ in found}


def _add(paths, doc_id: str, file: str, text: str, duplicate_of: str = "") -> None:
    (paths.raw / file).write_text(text, encoding="utf-8")
    rows = list(csv.DictReader(open(paths.manifest_csv, encoding="utf-8", newline="")))
    rows.append({"doc_id": doc_id, "file": file, "place": "合肥市", "level": "city"})
    columns = list(ingest.MANIFEST_COLUMNS) + (["duplicate_of"] if duplicate_of else [])
    if duplicate_of:
        rows[-1]["duplicate_of"] = duplicate_of
    with open(paths.manifest_csv, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows({c: row.get(c, "") for c in columns} for row in rows)


def test_a_cross_script_repost_of_a_corpus_article_is_refused(project_copy, project_params):
    _add(project_copy, "hefei_mirror", "mirror.txt", repost(raw_text("hefei")))
    with pytest.raises(InputError) as info:
        ingest_and_clean(project_copy, project_params, lambda name: contextlib.nullcontext())
    message = str(info.value)
    assert "mirror.txt" in message and "002_b9b0226557ee4642.txt" in message


def test_a_marked_duplicate_is_let_through(project_copy, project_params):
    _add(project_copy, "hefei_mirror", "mirror.txt", repost(raw_text("hefei")), duplicate_of="hefei")
    documents = ingest_and_clean(project_copy, project_params, lambda name: contextlib.nullcontext())
    assert documents[-1].doc.duplicate_of == "hefei"


def test_duplicate_of_must_name_another_article(project_copy):
    _add(project_copy, "other", "other.txt", "社区治理的一篇文章。", duplicate_of="nowhere")
    with pytest.raises(InputError, match="duplicate_of 'nowhere'"):
        ingest.read_manifest(project_copy.manifest_csv)


@pytest.mark.parametrize("content,refused", [
    (b"<!DOCTYPE html><html><head><title>x</title></head><body><p>\xe7\xa4\xbe\xe5\x8c\xba</p></body></html>", True),
    ("<div class='a'><p>社区治理</p><script>var x=1;</script><span>居民</span></div>".encode(), True),
    ("<p class=\"ql-block\"> 12月5日,永阳街道召开社区议事会,居民代表参加。</p>".encode(), False),
    ("社区治理 a<b 的讨论。".encode(), False),
])
def test_a_saved_web_page_is_refused_by_name(content, refused, tmp_path):
    if refused:
        with pytest.raises(InputError, match="web page") as info:
            ingest.decode_bytes(content, tmp_path / "page.html", ["utf-8"], lambda t: 0.0, 0.0)
        assert "page.html" in str(info.value)
    else:
        text, _ = ingest.decode_bytes(content, tmp_path / "page.txt", ["utf-8"], lambda t: 0.0, 0.0)
        assert text
