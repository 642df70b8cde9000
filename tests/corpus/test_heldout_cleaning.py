"""Cleaning measured on the held-out sets: 150 labelled page excerpts from 150 sites.

tests/heldout/ (32 excerpts), tests/heldout_b/ (22 excerpts, gathered and
measured before the chrome rules were changed against them) and
tests/heldout_c/ (10 excerpts, gathered after the rules were fixed, measured
once, then used up: its four surviving lines are now covered; see the sets'
READMEs), tests/heldout_d/ (20 excerpts, chrome-rich: measured once at
recall 0.59 with four body lines altered, then used up), tests/heldout_e/
(22 excerpts: measured once at recall 0.42, then used up), tests/heldout_f/
(22 excerpts: measured once at recall 0.52 with one heading removed and one
garbled span left, then used up) and tests/heldout_g/ (22 excerpts, the
validation set: measured once at recall 0.46, no rule written from it).
The thresholds, and why:
- no body line lost, no heading lost, no listed place name cut, in any
  set: losing text is the failure the study cannot see afterwards, so none is
  tolerated;
- chrome precision >= 0.97 in each set: at most about two of the lines
  removed may be anything but chrome (measured: 1.0 in every set, 514 of
  514);
- chrome recall, all sets together >= 0.74: measured 0.75 (514 of 685), a
  margin of seven lines, so losing the photo-credit, table-of-contents or
  author-name rules fails; per set >= 0.91 (old set: 0.94, 101 of 108),
  >= 0.93 (set B: 0.97, 60 of 62), >= 0.88 (set C: 1.0, 17 of 17, after
  its four surviving lines were covered by general rules; two lines of
  margin), >= 0.89 (set D: 0.92, 79 of 86, after its first measurement;
  two lines of margin), >= 0.65 (set E: 0.675, 77 of 114, after its
  first measurement at 0.42; two lines of margin), >= 0.77 (set F: 0.79,
  103 of 130, after its first measurement at 0.52; two lines of margin)
  and >= 0.44 (set G: 0.458, 77 of 168, the validation set; three lines of
  margin: the measure of pages the rules were not written for). The chrome
  still kept is listed in the sets' READMEs: captions written as plain sentences, a site
  name or slogan without a marker, bare channel names, lists of other
  articles' headlines;
- every garbled span the pages print is repaired or removed, except set G's
  `???` (two characters lost, printed as question marks: nothing to
  re-align), found at its first measurement.
"""

from __future__ import annotations

import hashlib

import pytest

from pipeline.common.config import PROJECT_ROOT
from pipeline.corpus import evaluate

HELDOUT = PROJECT_ROOT / "tests" / "heldout"
# body lines, names, recall floor, garbled spans listed
SETS = {"heldout": (100, 70, 0.91, 2), "heldout_b": (100, 40, 0.93, 3), "heldout_c": (40, 10, 0.88, 0),
        "heldout_d": (80, 30, 0.89, 0), "heldout_e": (85, 30, 0.65, 1),
        "heldout_f": (70, 40, 0.77, 5), "heldout_g": (90, 30, 0.44, 2)}
# Garbled spans a set's first measurement left, and why (see the set's README).
GARBLED_LEFT = {"heldout_g": 1}  # g22's ???: two lost characters printed as question marks


@pytest.fixture(scope="module")
def measured():
    clean_one = evaluate.study_cleaner()
    return {name: evaluate.evaluate(PROJECT_ROOT / "tests" / name, clean_one) for name in SETS}


@pytest.mark.parametrize("name", sorted(SETS))
def test_no_body_heading_or_name_is_lost(measured, name):
    rows, cut, summary = measured[name]
    lost = [(r["id"], r["line_no"], r["text"][:40]) for r in rows if evaluate.is_lost(r)]
    assert lost == []
    assert cut == []
    body_lines, names, _, _ = SETS[name]
    assert summary["body_lines"] >= body_lines and summary["names"] >= names  # the set is all there


@pytest.mark.parametrize("name", sorted(SETS))
def test_chrome_is_removed(measured, name):
    _, _, summary = measured[name]
    assert summary["chrome_precision"] >= 0.97, summary
    assert summary["chrome_recall"] >= SETS[name][2], summary


def test_chrome_is_removed_across_all_sets(measured):
    summary = evaluate.combine(list(measured.values()))
    assert summary["chrome_lines"] >= 685
    assert summary["chrome_precision"] >= 0.97, summary
    assert summary["chrome_recall"] >= 0.74, summary


def test_every_heldout_set_is_measured():
    assert [p.name for p in evaluate.heldout_folders(PROJECT_ROOT)] == sorted(SETS)


@pytest.mark.parametrize("name", sorted(SETS))
def test_garbled_spans_printed_by_the_pages_are_handled(measured, name):
    _, _, summary = measured[name]
    assert summary["garbled_spans"] >= SETS[name][3]
    assert summary["garbled_spans_found"] >= summary["garbled_spans"] - GARBLED_LEFT.get(name, 0)


@pytest.mark.parametrize("name", sorted(SETS))
def test_heldout_articles_stay_out_of_the_corpus(name):
    raw = PROJECT_ROOT / "data" / "raw"
    corpus = {hashlib.sha256(p.read_bytes()).hexdigest() for p in raw.iterdir() if p.is_file()}
    folder = PROJECT_ROOT / "tests" / name / "articles"
    heldout = {hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.glob("*.txt")}
    assert len(heldout) >= 10
    assert not corpus & heldout
    manifest = (PROJECT_ROOT / "data" / "corpus.csv").read_text(encoding="utf-8")
    assert "heldout" not in manifest


@pytest.mark.parametrize("raw,cleaned,labels,expected", [
    ("标题\n来源:某网\n正文一句。\n", "标题\n正文一句。", ["heading", "chrome", "body"], ["kept", "removed", "kept"]),
    ("标题\n正文(zhèng)一句。\n", "标题\n正文一句。", ["heading", "body"], ["kept", "kept"]),
    ("标题\n正文一句。\n", "标题\n正文二句。", ["heading", "body"], ["kept", "altered"]),
    ("标题\n正文一句。\n", "标题", ["heading", "body"], ["kept", "removed"]),
])
def test_line_outcomes(raw, cleaned, labels, expected):
    lines = [evaluate.Line(i + 1, label, "", text) for i, (label, text) in enumerate(zip(labels, raw.splitlines()))]
    assert [r["status"] for r in evaluate.line_outcomes(raw, cleaned, lines)] == expected


def test_a_name_with_readings_is_compared_without_them():
    raw = "永陽鎮(zhèn)街道召開會議。\n"
    lines = [evaluate.Line(1, "body", "", raw.strip())]
    assert evaluate.names_cut(raw, "永陽鎮街道召開會議。", lines, ["永陽鎮(zhèn)街道"]) == []
    assert evaluate.names_cut(raw, "永陽街道召開會議。", lines, ["永陽鎮(zhèn)街道"]) == ["永陽鎮(zhèn)街道"]
