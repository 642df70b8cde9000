"""Ingestion: read the manifest, decode every raw file strictly, refuse bad input.

Raw files are opened read-only and never written. Every problem stops the run
with an `InputError` that names the file and says what to do.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from pipeline.common.errors import InputError
from pipeline.common.io import sha256_text
from pipeline.common.params import PageParams
from pipeline.corpus.pages import Page, is_page_file, read_page

__all__ = ["DESCRIPTIVE_COLUMNS", "Document", "LEVELS", "MANIFEST_COLUMNS", "OPTIONAL_COLUMNS", "check_articles",
           "check_raw_folder", "chinese_chars", "cjk_share", "decode_bytes", "file_name_problem", "load_documents",
           "looks_like_html", "raw_entry_problem", "read_article", "read_manifest"]

MANIFEST_COLUMNS = ("doc_id", "file", "place", "level", "province", "source", "date", "notes")
# Optional: the doc_id of an article this one deliberately repeats (a repost
# kept on purpose); the near-duplicate check then lets the pair through.
OPTIONAL_COLUMNS = ("duplicate_of",)
# Optional too: what kind of text the article is, what occasion it was written
# for, and who wrote it (when the manifest knows; otherwise the byline the
# cleaning finds). Place is confounded with all three when a place has one
# article, so the findings show them beside every place. The title, when the
# manifest knows it; a saved page's own title is used otherwise.
DESCRIPTIVE_COLUMNS = ("genre", "occasion", "author", "title")
log = logging.getLogger("pipeline")
LEVELS = ("province", "city", "county", "district", "township", "community")


@dataclass(frozen=True)
class Document:
    doc_id: str
    file: str
    place: str
    level: str
    province: str
    source: str
    date: str
    notes: str
    text: str
    codec: str
    raw_sha256: str
    duplicate_of: str = ""
    genre: str = ""
    occasion: str = ""
    author: str = ""
    title: str = ""
    page: Page | None = None  # what a saved web page gave besides its text (None for a text file)


def read_manifest(path: Path) -> list[dict[str, str]]:  # noqa: C901, PLR0912 (one check per column, each with its own message)
    """Read and check data/corpus.csv; return its rows in file order.

    Parameters
    ----------
    path : Path
        The manifest, data/corpus.csv.

    Returns
    -------
    list[dict[str, str]]
        One row per article, with every required, optional and descriptive column, stripped ("" when absent).

    Raises
    ------
    InputError
        When the manifest is missing, not UTF-8 or not CSV, lacks a column or rows, or a row has an empty,
        malformed, duplicated or unknown value.
    """
    try:
        # utf-8-sig: a manifest saved by a spreadsheet program starts with a byte-order mark.
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = tuple(reader.fieldnames or ())
            rows = [dict(row) for row in reader]
    except FileNotFoundError:
        raise InputError(path, "manifest not found; create it with the columns " + ",".join(MANIFEST_COLUMNS)) from None
    except UnicodeDecodeError as exc:
        raise InputError(path, f"manifest is not UTF-8 (invalid byte at offset {exc.start}); save it as UTF-8 and rerun") from None
    except csv.Error as exc:
        raise InputError(path, f"manifest is not a readable CSV file ({exc})") from None
    missing = [c for c in MANIFEST_COLUMNS if c not in header]
    if missing:
        raise InputError(path, f"manifest lacks column(s) {', '.join(missing)}; its header must include "
                               + ",".join(MANIFEST_COLUMNS))
    extra = [c for c in header if c not in MANIFEST_COLUMNS + OPTIONAL_COLUMNS + DESCRIPTIVE_COLUMNS]
    if extra:
        log.warning("%s: column(s) %s are not used by the study and are ignored", path, ", ".join(map(repr, extra)))
    if not rows:
        raise InputError(path, "manifest has no rows; add one row per article in data/raw/")
    seen: dict[str, int] = {}
    for line_no, row in enumerate(rows, start=2):
        for column in ("doc_id", "file", "place", "level"):
            if not (row.get(column) or "").strip():
                raise InputError(path, f"line {line_no}: column {column!r} is empty")
        doc_id = row["doc_id"]
        if not doc_id.isidentifier() or doc_id != doc_id.lower():
            raise InputError(path, f"line {line_no}: doc_id {doc_id!r} must be lower-case letters, digits and _")
        if doc_id in seen:
            raise InputError(path, f"line {line_no}: duplicate doc_id {doc_id!r} (first on line {seen[doc_id]}); give each article its own id")
        seen[doc_id] = line_no
        problem = file_name_problem(row["file"])
        if problem:
            raise InputError(path, f"line {line_no}: file {row['file']!r} {problem}")
        if row["level"] not in LEVELS:
            raise InputError(path, f"line {line_no}: level {row['level']!r} is not one of {', '.join(LEVELS)}")
    for line_no, row in enumerate(rows, start=2):
        target = (row.get("duplicate_of") or "").strip()
        if target and (target not in seen or target == row["doc_id"]):
            raise InputError(path, f"line {line_no}: duplicate_of {target!r} is not the doc_id of another article")
    files = [row["file"] for row in rows]
    duplicates = sorted({f for f in files if files.count(f) > 1})
    if duplicates:
        raise InputError(path, f"file(s) listed twice: {', '.join(duplicates)}")
    return [{c: (row.get(c) or "").strip() for c in MANIFEST_COLUMNS + OPTIONAL_COLUMNS + DESCRIPTIVE_COLUMNS}
            for row in rows]


def file_name_problem(name: str) -> str | None:
    """Why a manifest `file` value is not a plain file name inside data/raw/ (None when it is)."""
    if "/" in name or "\\" in name or name in (".", "..") or Path(name).is_absolute():
        return "must be a plain file name inside data/raw/ (no folders, no '..', not an absolute path)"
    if name.startswith("."):
        return "must not start with a dot (hidden files are not articles)"
    return None


def raw_entry_problem(entry: Path, raw_dir: Path) -> str | None:
    """Why an entry of data/raw/ cannot be an article (None for a regular, visible file)."""
    if entry.is_symlink():
        target = Path(os.path.realpath(entry))
        if not entry.exists():
            return f"is a broken symbolic link (to {os.readlink(entry)}); remove it"
        inside = target.is_relative_to(Path(os.path.realpath(raw_dir)))
        where = "inside" if inside else "outside"
        return (f"is a symbolic link to {target} ({where} data/raw/); put the article itself in data/raw/ "
                "so that the study's inputs are the files it fingerprints")
    if entry.name.startswith("."):
        return "is hidden (its name starts with a dot); move it out of data/raw/ or rename it and add a manifest row"
    if entry.is_dir():
        return "is a folder; data/raw/ holds article files only, with no subfolders"
    if not entry.is_file():
        return "is not a regular file"
    return None


def check_raw_folder(raw_dir: Path, manifest_rows: list[dict[str, str]], manifest_path: Path) -> None:
    """Every manifest row has its file, and every entry of data/raw/ is a listed regular file."""
    if not raw_dir.is_dir():
        raise InputError(raw_dir, "the folder of raw articles is missing; create it and put the articles in it")
    listed = {row["file"] for row in manifest_rows}
    entries = sorted(raw_dir.iterdir())
    problems = [f"{p.name} {problem}" for p in entries if (problem := raw_entry_problem(p, raw_dir))]
    if problems:
        raise InputError(raw_dir, problems)
    present = {p.name for p in entries}
    for row in manifest_rows:
        if row["file"] not in present:
            raise InputError(raw_dir / row["file"], f"listed in {manifest_path.name} (doc_id {row['doc_id']!r}) but not found; add the file or remove the row")
    for name in sorted(present - listed):
        raise InputError(raw_dir / name, f"has no row in {manifest_path}; add a row for it (doc_id, file, place, level, ...) or move it out of data/raw/")


def cjk_share(text: str) -> float:
    letters = [c for c in text if not c.isspace()]
    if not letters:
        return 0.0
    return sum(1 for c in letters if unicodedata.name(c, "").startswith("CJK")) / len(letters)


_HTML_MARKERS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<script", b"<div", b"<meta ", b"<p>",
                 b"<p ", b"<br", b"<span", b"<style", b"<table")


def looks_like_html(data: bytes) -> bool:
    """True for a saved web page: a document type or several kinds of HTML tag.

    One stray tag (a <p class=...> left in a copied paragraph) is removed by
    cleaning; a page has its markup in many places.
    """
    lowered = data[:200_000].lower()
    if lowered.lstrip().startswith((b"<!doctype html", b"<html")):
        return True
    kinds = sum(1 for marker in _HTML_MARKERS if marker in lowered)
    return kinds >= 3 or lowered.count(b"</") >= 10


def decode_bytes(data: bytes, path: Path, codecs: list[str], plausibility: Callable[[str], float],
                 min_cjk_share: float) -> tuple[str, str]:
    """Decode strictly with each codec and keep the most plausible Chinese text.

    Returns (text, codec). A UTF-8 byte-order mark is dropped.
    """
    if not data.strip():
        raise InputError(path, "is empty; remove it (and its manifest row) or put the article's text in it")
    if b"\x00" in data:
        raise InputError(path, "contains NUL bytes, so it is binary, not an article; replace it with the text file")
    if looks_like_html(data):
        raise InputError(path, "is a web page (HTML markup) saved under a name that does not end in .html; its tags "
                               "and scripts would be counted as words. Rename it to end in .html (and its manifest "
                               "row's file), so that its main text is taken from the page's structure, and rerun")
    candidates: list[tuple[float, int, str, str]] = []
    for order, codec in enumerate(codecs):
        try:
            text = data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
        text = text.removeprefix("\ufeff")
        if cjk_share(text) < min_cjk_share:
            continue
        # Higher plausibility first; among equals, the earlier codec in the list.
        candidates.append((plausibility(text), -order, codec, text))
    if not candidates:
        raise InputError(path, _undecodable(data, codecs, min_cjk_share))
    _, _, codec, text = max(candidates)
    return text, codec


def chinese_chars(text: str) -> int:
    """Number of Han characters (CJK unified or compatibility ideographs)."""
    return sum(1 for c in text if unicodedata.name(c, "").startswith(("CJK UNIFIED", "CJK COMPATIBILITY IDEOGRAPH")))


def _undecodable(data: bytes, codecs: list[str], min_cjk_share: float) -> str:
    """Why no codec gave Chinese text: no Chinese at all, too little, or bytes no codec accepts."""
    decoded, errors = {}, []
    for codec in codecs:
        try:
            decoded[codec] = data.decode(codec).removeprefix("\ufeff")
        except UnicodeDecodeError as exc:
            errors.append(f"{codec}: byte 0x{data[exc.start]:02x} at offset {exc.start}")
        except LookupError:
            errors.append(f"{codec}: unknown codec (check ingest.codecs)")
    if decoded:
        codec, text = next(iter(decoded.items()))
        if not any(chinese_chars(t) for t in decoded.values()):
            return (f"has no Chinese text (decoded as {codec}: {len(''.join(text.split()))} "
                    "visible characters, none of them Chinese); an article must be Chinese text")
        share = max(cjk_share(t) for t in decoded.values())
        return (f"only {share:.0%} of its characters are Chinese (as {codec}), below ingest.min_cjk_share = "
                f"{min_cjk_share}; it does not look like an article")
    return ("cannot be decoded with any of the codecs in ingest.codecs (" + "; ".join(errors) + "); "
            "fix or remove the invalid bytes, or convert the file to UTF-8 (e.g. iconv -f <codec> -t utf-8)")


def read_article(data: bytes, path: Path, codecs: list[str], plausibility: Callable[[str], float],
                 min_cjk_share: float, pages: PageParams) -> tuple[str, str, Page | None]:
    """The text of one raw file: a text file decoded, or a saved web page's main text.

    Parameters
    ----------
    data : bytes
        The file's bytes (never modified).
    path : Path
        The file, named in errors; a name ending in .html or .htm is read as a saved web page.
    codecs : list[str]
        The codecs to try (ingest.codecs).
    plausibility : Callable[[str], float]
        How plausible a decoding is as Chinese text.
    min_cjk_share : float
        Least share of CJK characters a decoding must give (ingest.min_cjk_share).
    pages : PageParams
        How a saved page becomes text (ingest.pages).

    Returns
    -------
    tuple[str, str, Page or None]
        The text, the codec, and for a page what else it gave (its metadata, its size).

    Raises
    ------
    InputError
        When the file is empty or binary, cannot be decoded, is mostly not Chinese, or is a page with no main text.
    """
    if not is_page_file(path.name):
        text, codec = decode_bytes(data, path, codecs, plausibility, min_cjk_share)
        return text, codec, None
    if not data.strip():
        raise InputError(path, "is empty; remove it (and its manifest row) or save the page again")
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(path, "contains NUL bytes, so it is binary, not a saved web page; save the page as HTML")
    page = read_page(data, path, codecs, plausibility, pages)
    if cjk_share(page.text) < min_cjk_share:
        raise InputError(path, f"is a web page whose main text is only {cjk_share(page.text):.0%} Chinese, below "
                               f"ingest.min_cjk_share = {min_cjk_share}; it does not look like a Chinese article")
    return page.text, page.encoding, page


def check_articles(raw_dir: Path, manifest_path: Path, codecs: list[str], min_cjk_share: float,
                   min_chinese_chars: int, pages: PageParams) -> int:
    """Every input of the corpus checked before any stage runs; returns the number of articles.

    The manifest, the raw folder, and each article's bytes: decodable as
    Chinese text with one of `codecs` (a saved page: with main text), and
    with at least `min_chinese_chars` Chinese characters.

    Parameters
    ----------
    raw_dir : Path
        The folder of the raw articles, data/raw/.
    manifest_path : Path
        The manifest, data/corpus.csv.
    codecs : list[str]
        The codecs to try on each article (ingest.codecs).
    min_cjk_share : float
        Least share of CJK characters a decoding must give (ingest.min_cjk_share).
    min_chinese_chars : int
        Least number of Chinese characters of an article (ingest.min_chinese_chars).
    pages : PageParams
        How a saved page becomes text (ingest.pages).

    Returns
    -------
    int
        The number of articles in the manifest.

    Raises
    ------
    InputError
        At the first input that fails a check.
    """
    rows = read_manifest(manifest_path)
    check_raw_folder(raw_dir, rows, manifest_path)
    for row in rows:
        path = raw_dir / row["file"]
        with open(path, "rb") as handle:
            data = handle.read()
        text, _, _ = read_article(data, path, codecs, cjk_share, min_cjk_share, pages)
        count = chinese_chars(text)
        if count < min_chinese_chars:
            raise InputError(path, f"has {count} Chinese characters; an article needs at least {min_chinese_chars} "
                                   "(ingest.min_chinese_chars) for the analyses to have units to compare. "
                                   "Remove it and its manifest row, or lower the minimum")
    return len(rows)


def load_documents(raw_dir: Path, manifest_path: Path, codecs: list[str],
                   plausibility: Callable[[str], float], min_cjk_share: float, pages: PageParams) -> list[Document]:
    """Read every article listed in the manifest; refuse duplicates of the same text.

    Parameters
    ----------
    raw_dir : Path
        The folder of the raw articles, data/raw/ (read only).
    manifest_path : Path
        The manifest, data/corpus.csv.
    codecs : list[str]
        The codecs to try on each article (ingest.codecs).
    plausibility : Callable[[str], float]
        How plausible a decoding is as Chinese text (the character model's mean log probability).
    min_cjk_share : float
        Least share of CJK characters a decoding must give (ingest.min_cjk_share).
    pages : PageParams
        How a saved page becomes text (ingest.pages).

    Returns
    -------
    list[Document]
        The articles in manifest order, each with its decoded text, codec and raw bytes' SHA-256.

    Raises
    ------
    InputError
        When an article cannot be decoded, or two have the same text once whitespace is ignored.
    """
    rows = read_manifest(manifest_path)
    check_raw_folder(raw_dir, rows, manifest_path)
    documents: list[Document] = []
    seen_text: dict[str, str] = {}
    for row in rows:
        path = raw_dir / row["file"]
        with open(path, "rb") as handle:  # read-only: raw data is never modified
            data = handle.read()
        text, codec, page = read_article(data, path, codecs, plausibility, min_cjk_share, pages)
        fingerprint = sha256_text("".join(text.split()))
        if fingerprint in seen_text:
            raise InputError(path, f"has the same text as {seen_text[fingerprint]}; keep one copy and remove the other file and its manifest row")
        seen_text[fingerprint] = row["file"]
        documents.append(Document(**row, text=text, codec=codec, raw_sha256=hashlib.sha256(data).hexdigest(),
                                  page=page))
    return documents
