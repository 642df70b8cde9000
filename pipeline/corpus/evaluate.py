"""How well cleaning does on labelled articles it was not written for.

The held-out sets (tests/heldout/, tests/heldout_b/, ..., never part of the
study's corpus) hold real page excerpts from many sites, each line labelled body, heading or chrome, and
the rare place names each excerpt contains. Cleaning is run on every article
as the study runs it; each labelled line is then found again in the cleaned
text and called kept (same text up to whitespace), altered or removed.

Comparisons are made on a normal form: NFC, inserted pinyin readings removed
by the study's own pinyin rule, full-width letters and digits folded, all
whitespace dropped. Removing a reading is part of cleaning, not damage, so a
line whose only change is a removed reading counts as kept, and a listed name
such as 永陽鎮(zhèn)街道 is looked for as 永陽鎮街道.

Measures:
- chrome recall: chrome lines removed / chrome lines;
- chrome precision: chrome lines removed / labelled lines removed;
- body lines lost: a body line removed or altered beyond whitespace; a
  `mixed_*` body line (body glued to chrome), or a line the page itself
  prints garbled (garbled.tsv: cleaning should repair it), counts only when
  removed whole;
- garbled spans found: of the spans listed in garbled.tsv, those no longer in
  the cleaned text;
- headings lost: a heading removed (a pure heading also when altered);
- names cut: a listed name that occurs fewer times in the cleaned text than in
  the body and heading lines of the raw text.

Run as `python -m pipeline.corpus.evaluate [folder ...]`: with no folder, every
held-out set under tests/ (tests/heldout/, tests/heldout_b/, ...), each on its
own and combined; with --lines, also every line that is not as labelled.

Run as `python -m pipeline.corpus.evaluate --pages DIR [DIR ...] [--extractor NAME]
[--half development|heldout] [--out CSV]` to measure main-text extraction from
saved web pages on page sets instead (pipeline/corpus/pageeval.py defines the
measures).
"""

from __future__ import annotations

import argparse
import csv
import difflib
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from pipeline.common.config import PROJECT_ROOT, Paths
from pipeline.common.params import load_params
from pipeline.corpus import clean
from pipeline.corpus.edits import apply_edits
from pipeline.corpus.extractors import EXTRACTORS
from pipeline.corpus.pageeval import evaluate_pages, print_report
from pipeline.corpus.stage import Cleaner, article_rules, build_cleaner

__all__ = ["Line", "align", "combine", "evaluate", "heldout_folders", "is_lost", "line_outcomes", "main", "names_cut",
           "normal", "read_labels", "study_cleaner", "summarise"]


def normal(text: str) -> str:
    """The comparison form of a text (see the module docstring).

    Parameters
    ----------
    text : str
        A line or a whole text.

    Returns
    -------
    str
        NFC, inserted pinyin readings removed, full-width letters and digits folded, all whitespace dropped.
    """
    text = unicodedata.normalize("NFC", text)
    text, _ = apply_edits(text, clean.pinyin_edits(text))
    text, _ = apply_edits(text, clean.fullwidth_alnum_edits(text))
    return "".join(text.split())


@dataclass(frozen=True)
class Line:
    line_no: int
    label: str
    kind: str
    text: str


def read_labels(path: Path) -> list[Line]:
    """The line labels of one held-out article.

    Parameters
    ----------
    path : Path
        Its labels file (labels/<id>.tsv: line_no, label, kind, text).

    Returns
    -------
    list[Line]
        One per labelled line, in file order.
    """
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [Line(int(r["line_no"]), r["label"], r["kind"] or "", r["text"]) for r in rows]


def _similarity(cleaned: str, raw: str) -> float:
    """Share of the cleaned line's characters found, in order, in the raw line."""
    if not cleaned:
        return 0.0
    blocks = difflib.SequenceMatcher(None, cleaned, raw, autojunk=False).get_matching_blocks()
    return sum(b.size for b in blocks) / len(cleaned)


def align(raw_lines: list[str], cleaned_lines: list[str], floor: float = 0.6) -> dict[int, int]:
    """Raw line index -> cleaned line index, in order, maximising matched characters.

    Cleaning removes whole lines or spans inside a line and never joins lines,
    so every cleaned line comes from one raw line, in the same order.
    """
    n, m = len(raw_lines), len(cleaned_lines)
    score = [[0.0] * (m + 1) for _ in range(n + 1)]
    move = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            best, how = score[i + 1][j], 1
            if score[i][j + 1] > best:
                best, how = score[i][j + 1], 2
            sim = _similarity(cleaned_lines[j], raw_lines[i])
            # Matched characters, and on a tie the raw line closest in length
            # (a title repeated inside a longer line belongs to the title line).
            gain = sim * len(cleaned_lines[j]) + 0.5 * len(cleaned_lines[j]) / max(len(raw_lines[i]), 1)
            if sim >= floor and score[i + 1][j + 1] + gain > best:
                best, how = score[i + 1][j + 1] + gain, 3
            score[i][j], move[i][j] = best, how
    pairs, i, j = {}, 0, 0
    while i < n and j < m:
        if move[i][j] == 3:
            pairs[i] = j
            i, j = i + 1, j + 1
        elif move[i][j] == 1:
            i += 1
        else:
            j += 1
    return pairs


def line_outcomes(raw: str, cleaned: str, labels: list[Line]) -> list[dict]:
    """One row per labelled line: its label and whether cleaning kept, altered or removed it.

    Parameters
    ----------
    raw : str
        The article as it was.
    cleaned : str
        The article as cleaning left it.
    labels : list[Line]
        The article's line labels.

    Returns
    -------
    list[dict]
        line_no, label, kind, status ("kept", "altered" or "removed") and the raw line's text.
    """
    raw_lines = raw.splitlines()
    labelled = [line for line in labels if normal(raw_lines[line.line_no - 1])]
    cleaned_lines = [c for c in (normal(x) for x in cleaned.splitlines()) if c]
    sources = [normal(raw_lines[line.line_no - 1]) for line in labelled]
    pairs = align(sources, cleaned_lines)
    rows = []
    for index, line in enumerate(labelled):
        if index not in pairs:
            status = "removed"
        else:
            status = "kept" if cleaned_lines[pairs[index]] == sources[index] else "altered"
        rows.append({"line_no": line.line_no, "label": line.label, "kind": line.kind, "status": status,
                     "text": raw_lines[line.line_no - 1]})
    return rows


def names_cut(raw: str, cleaned: str, labels: list[Line], names: list[str]) -> list[str]:
    """Listed names that occur fewer times in the cleaned text than in the raw body and headings."""
    raw_lines = raw.splitlines()
    kept_text = "\n".join(normal(raw_lines[line.line_no - 1]) for line in labels if line.label != "chrome")
    cleaned_text = "\n".join(normal(x) for x in cleaned.splitlines())
    cut = []
    for name in names:
        form = normal(name)
        if form and cleaned_text.count(form) < kept_text.count(form):
            cut.append(name)
    return cut


def is_lost(row: dict) -> bool:
    if row["label"] == "chrome":
        return False
    if row["kind"].startswith("mixed_") or row.get("garbled"):
        return row["status"] == "removed"
    return row["status"] != "kept"


def summarise(rows: list[dict], cut: list[tuple[str, str]], garbled: list[dict] | None = None) -> dict:
    chrome = [r for r in rows if r["label"] == "chrome"]
    removed = [r for r in rows if r["status"] == "removed"]
    chrome_removed = [r for r in chrome if r["status"] == "removed"]
    return {
        "lines": len(rows),
        "chrome_lines": len(chrome),
        "chrome_removed": len(chrome_removed),
        "lines_removed": len(removed),
        "chrome_recall": round(len(chrome_removed) / len(chrome), 3) if chrome else 1.0,
        "chrome_precision": round(len(chrome_removed) / len(removed), 3) if removed else 1.0,
        "body_lines": sum(r["label"] == "body" for r in rows),
        "body_lines_lost": sum(is_lost(r) for r in rows if r["label"] == "body"),
        "heading_lines": sum(r["label"] == "heading" for r in rows),
        "headings_lost": sum(is_lost(r) for r in rows if r["label"] == "heading"),
        "names": None,
        "names_cut": len(cut),
        "garbled_spans": len(garbled or []),
        "garbled_spans_found": sum(g["found"] for g in garbled or []),
    }


def evaluate(folder: Path, clean_one: Callable[[str], str]) -> tuple[list[dict], list[tuple[str, str]], dict]:
    """(line rows, names cut as (id, name), summary) of cleaning every article of a labelled folder."""
    rows: list[dict] = []
    cut: list[tuple[str, str]] = []
    name_count = 0
    garbled: list[dict] = []
    if (folder / "garbled.tsv").exists():
        with open(folder / "garbled.tsv", encoding="utf-8", newline="") as handle:
            garbled = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    for article in sorted((folder / "articles").glob("*.txt")):
        doc = article.stem
        raw = article.read_text(encoding="utf-8")
        labels = read_labels(folder / "labels" / f"{doc}.tsv")
        names_file = folder / "names" / f"{doc}.txt"
        names = [n.strip() for n in names_file.read_text(encoding="utf-8").splitlines()
                 if n.strip()] if names_file.exists() else []
        name_count += len(names)
        cleaned = clean_one(raw)
        marked = {int(g["line_no"]) for g in garbled if g["id"] == doc}
        rows += [{"id": doc, **row, "garbled": row["line_no"] in marked}
                 for row in line_outcomes(raw, cleaned, labels)]
        for g in garbled:
            if g["id"] == doc:
                g["found"] = normal(g["span"]) not in normal(cleaned)
        cut += [(doc, name) for name in names_cut(raw, cleaned, labels, names)]
    summary = summarise(rows, cut, garbled)
    summary["names"] = name_count
    return rows, cut, summary


def study_cleaner(root: Path | None = None) -> Callable[[str], str]:
    """Cleaning exactly as the study's run does it, before script conversion.

    Parameters
    ----------
    root : Path or None
        The project whose lexicons and parameters to use (default: this checkout).

    Returns
    -------
    Callable[[str], str]
        Raw text -> cleaned text.
    """
    paths = Paths.at(root or PROJECT_ROOT)
    return _cleaning(build_cleaner(paths, load_params(paths.params).clean))


def _cleaning(cleaner: Cleaner) -> Callable[[str], str]:
    """Raw text -> cleaned text with an already built cleaner."""

    def clean_one(text: str) -> str:
        return clean.clean_text(text, article_rules(cleaner))[0]
    return clean_one


def combine(results: list[tuple[list[dict], list[tuple[str, str]], dict]]) -> dict:
    """One summary over several labelled folders (their article ids must differ)."""
    rows = [r for rows, _, _ in results for r in rows]
    cut = [c for _, cut, _ in results for c in cut]
    garbled_total = sum(s["garbled_spans"] for _, _, s in results)
    garbled_found = sum(s["garbled_spans_found"] for _, _, s in results)
    summary = summarise(rows, cut)
    summary.update(names=sum(s["names"] for _, _, s in results), garbled_spans=garbled_total,
                   garbled_spans_found=garbled_found)
    return summary


def heldout_folders(root: Path) -> list[Path]:
    """The labelled held-out sets: tests/heldout/ and every tests/heldout_*/ beside it.

    Parameters
    ----------
    root : Path
        The project root.

    Returns
    -------
    list[Path]
        The sets' folders (each with articles/ and labels/).
    """
    tests = root / "tests"
    return [tests / "heldout"] + sorted(p for p in tests.glob("heldout_*") if (p / "articles").is_dir())


def _main_pages(args: argparse.Namespace) -> int:
    """Measure extraction on page sets, with the study's settings unless --extractor/--headline say otherwise."""
    paths = Paths.at(PROJECT_ROOT)
    params = load_params(paths.params)
    settings = params.ingest.pages
    if args.extractor:
        settings = settings.model_copy(update={"extractor": args.extractor})
    if args.headline:
        settings = settings.model_copy(update={"headline": args.headline == "yes"})
    cleaner = build_cleaner(paths, params.clean)  # one cleaner: its character model also weighs decodings
    rows = evaluate_pages(args.pages, settings, params.ingest.codecs, cleaner.model.mean_logp, _cleaning(cleaner),
                          normal, args.half)
    print(f"== pages: {', '.join(str(p) for p in args.pages)}; half: {args.half or 'all'}; "
          f"extractor: {settings.extractor}; headline: {settings.headline}")
    print_report(rows, args.out)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", help="labelled folders (default: every held-out set under tests/)")
    parser.add_argument("--lines", action="store_true", help="list every line not handled as labelled")
    parser.add_argument("--pages", nargs="+", type=Path, help="page sets to measure extraction on instead")
    parser.add_argument("--extractor", choices=sorted(EXTRACTORS), help="default: ingest.pages.extractor")
    parser.add_argument("--headline", choices=["yes", "no"], help="default: ingest.pages.headline")
    parser.add_argument("--half", choices=["development", "heldout"], help="only this half of each page set")
    parser.add_argument("--out", type=Path, help="with --pages: one row per page and pass (CSV)")
    args = parser.parse_args(argv)
    if args.pages:
        return _main_pages(args)
    folders = [Path(f) for f in args.folders] or heldout_folders(PROJECT_ROOT)
    clean_one = study_cleaner()
    results = [evaluate(folder, clean_one) for folder in folders]
    sections = [(folder.name, result[2]) for folder, result in zip(folders, results)]
    if len(results) > 1:
        sections.append(("combined", combine(results)))
    for name, summary in sections:
        print(f"== {name}")
        for key, value in summary.items():
            print(f"{key}: {value}")
    if args.lines:
        for rows, cut, _ in results:
            for r in rows:
                wrong = (r["label"] == "chrome" and r["status"] != "removed") or is_lost(r) or \
                    (r["label"] != "chrome" and r["status"] == "removed")
                if wrong:
                    print(f"{r['id']}:{r['line_no']}\t{r['label']}/{r['kind']}\t{r['status']}\t{r['text'][:70]}")
            for doc, name in cut:
                print(f"{doc}\tname cut\t{name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
