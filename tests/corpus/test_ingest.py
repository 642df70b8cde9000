"""Ingestion: strict decoding, and a clear error for every kind of bad input."""

from __future__ import annotations

import csv
import hashlib

import pytest

from pipeline.common.errors import InputError
from pipeline.common.params import load_params
from pipeline.corpus import ingest
from pipeline.corpus.charmodel import CharModel
from pipeline.corpus.script import make_converter

CODECS = ["utf-8", "gb18030", "big5hkscs", "big5"]
SENTENCE = "城乡社区是人民群众安居乐业的家园,是社会治理的基本单元。"
TRADITIONAL = "城鄉社區是人民群眾安居樂業的家園,是社會治理的基本單元。"


@pytest.fixture(scope="module")
def plausibility():
    return CharModel.from_jieba_dictionary(make_converter()).mean_logp


def _load(paths, plausibility):
    return ingest.load_documents(paths.raw, paths.manifest_csv, CODECS, plausibility, 0.3,
                                 load_params(paths.params).ingest.pages)


def _add_row(paths, **row):
    with open(paths.manifest_csv, "a", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=ingest.MANIFEST_COLUMNS)
        writer.writerow({c: row.get(c, "") for c in ingest.MANIFEST_COLUMNS})


@pytest.mark.parametrize("codec,text", [("utf-8", SENTENCE), ("gb18030", SENTENCE),
                                        ("big5", TRADITIONAL), ("gb18030", TRADITIONAL)])
def test_decode_picks_the_codec_that_gives_plausible_chinese(codec, text, plausibility, tmp_path):
    decoded, used = ingest.decode_bytes(text.encode(codec), tmp_path / "x.txt", CODECS, plausibility, 0.3)
    assert decoded == text
    # GB18030 and Big5 bytes can both decode under the other codec; the plausible reading must win.
    # Big5-HKSCS is a superset of Big5 and is tried first, so Big5 bytes are reported under it.
    assert used == ("big5hkscs" if codec == "big5" else codec)


def test_real_corpus_decodes_as_utf8(project_copy, plausibility):
    """Every raw article is UTF-8 (a strict decode of its bytes, here, is the reference), so ingestion must say
    so and hand on exactly that reading: data/raw holds the articles as collected, and every later change is
    made, and audited, by the cleaning stage, never silently on reading."""
    docs = _load(project_copy, plausibility)
    rows = ingest.read_manifest(project_copy.manifest_csv)
    assert [d.doc_id for d in docs] == [row["doc_id"] for row in rows]
    for doc, row in zip(docs, rows):
        data = (project_copy.raw / row["file"]).read_bytes()
        assert doc.codec == "utf-8", f"{row['file']}: read as {doc.codec}"
        assert doc.text == data.decode("utf-8", errors="strict").removeprefix("\ufeff"), (
            f"{row['file']}: the text is not the file's UTF-8 reading")
        assert doc.raw_sha256 == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("content,message", [
    (b"", "is empty"),
    (b"   \n\n", "is empty"),
    (b"\x00\x01binary\x00", "NUL bytes"),
    (bytes(range(0x80, 0x100)) * 4, "cannot be decoded"),
    (b"just some english text, no chinese at all", "has no Chinese text"),
])
def test_bad_file_is_refused_with_its_name(content, message, project_copy, plausibility):
    (project_copy.raw / "bad.txt").write_bytes(content)
    _add_row(project_copy, doc_id="bad", file="bad.txt", place="某市", level="city")
    with pytest.raises(InputError, match=message) as info:
        _load(project_copy, plausibility)
    assert info.value.path.name == "bad.txt"


def test_manifest_row_without_file(project_copy, plausibility):
    _add_row(project_copy, doc_id="ghost", file="ghost.txt", place="某市", level="city")
    with pytest.raises(InputError, match="not found") as info:
        _load(project_copy, plausibility)
    assert info.value.path.name == "ghost.txt"


def test_file_without_manifest_row(project_copy, plausibility):
    (project_copy.raw / "stray.txt").write_text(SENTENCE, encoding="utf-8")
    with pytest.raises(InputError, match="has no row") as info:
        _load(project_copy, plausibility)
    assert info.value.path.name == "stray.txt"


def test_duplicate_doc_id(project_copy, plausibility):
    (project_copy.raw / "new.txt").write_text(SENTENCE, encoding="utf-8")
    _add_row(project_copy, doc_id="hefei", file="new.txt", place="合肥市", level="city")
    with pytest.raises(InputError, match="duplicate doc_id 'hefei'"):
        _load(project_copy, plausibility)


def test_duplicate_article_under_another_name(project_copy, plausibility):
    original = (project_copy.raw / "002_b9b0226557ee4642.txt").read_bytes()
    (project_copy.raw / "copy.txt").write_bytes(original.replace(b"\n", b"\r\n"))
    _add_row(project_copy, doc_id="hefei_copy", file="copy.txt", place="合肥市", level="city")
    with pytest.raises(InputError, match="same text as 002_b9b0226557ee4642.txt") as info:
        _load(project_copy, plausibility)
    assert info.value.path.name == "copy.txt"


def test_manifest_missing_column(project_copy, plausibility):
    lines = project_copy.manifest_csv.read_text(encoding="utf-8").splitlines()
    lines[0] = lines[0].replace(",level", ",tier")
    project_copy.manifest_csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="lacks column"):
        _load(project_copy, plausibility)


def test_raw_files_are_not_modified(project_copy, plausibility):
    before = {p.name: p.read_bytes() for p in project_copy.raw.iterdir()}
    _load(project_copy, plausibility)
    assert before == {p.name: p.read_bytes() for p in project_copy.raw.iterdir()}
