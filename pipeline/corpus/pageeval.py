"""How well the main text is taken from saved web pages: extraction measured against gold text on page sets.

Every page of a page set (pipeline/corpus/pagesets.py) is read as a run reads it (`pages.read_page`), and
scored twice: the extracted text ("extracted"), and that text after the study's cleaning, exactly as a run
cleans a text file ("cleaned"). Texts are compared in `evaluate.normal` form, line by line.

Measures, per page, then as macro means over pages (simplified, traditional and all pages apart):

- character precision and recall: the multiset overlap of the non-whitespace characters of the output and of
  the gold (in normal form), over the output's and over the gold's character count; F1 their harmonic mean.
  An empty output has precision 0 and recall 0;
- paragraphs kept: the share of gold paragraphs found in the output: a paragraph of 10 or more characters is
  found when at least 90% of its distinct character 5-grams occur in the output, a shorter one when it occurs
  in the output as a substring;
- chrome lines left: output lines not from the gold (a line is from the gold when at least half of its
  5-grams, or, under 10 characters, the line itself, occur in the gold); and chrome removed: of the page's
  visible lines not from the gold (`pages.visible_text`), the share not found in the output's chrome lines;
- empty: the page gave no usable text (InputError, i.e. fewer than ingest.pages.min_chars characters);
- metadata: the share of pages with a title, date, author; where pages.csv has a gold value, the share correct
  (title and author: equal in normal form or one containing the other; date: equal); where it has only the
  crawl date (`crawled`), the share of dates within 3 days of it, a proxy for the publication date.
"""

from __future__ import annotations

import csv
import datetime
from collections import Counter
from pathlib import Path
from typing import Callable

from pipeline.common.errors import InputError
from pipeline.common.params import PageParams
from pipeline.corpus.pages import decode_page, read_page, visible_text
from pipeline.corpus.pagesets import read_pageset, site_half

__all__ = ["char_scores", "chrome_lines", "evaluate_pages", "from_gold", "macro", "paragraphs_kept", "print_report",
           "score_page"]

SHORT = 10


def _grams(text: str, n: int = 5) -> set[str]:
    return {text[i:i + n] for i in range(len(text) - n + 1)}


def char_scores(output: str, gold: str) -> tuple[float, float, float]:
    """(precision, recall, F1) of characters, as the module docstring defines them; both texts in normal form.

    Parameters
    ----------
    output : str
        The output, normal form.
    gold : str
        The gold text, normal form.

    Returns
    -------
    tuple[float, float, float]
        Precision, recall and F1.
    """
    out, ref = Counter("".join(output.split())), Counter("".join(gold.split()))
    overlap = sum((out & ref).values())
    precision = overlap / sum(out.values()) if out else 0.0
    recall = overlap / sum(ref.values()) if ref else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def paragraphs_kept(gold_lines: list[str], output: str) -> int:
    """How many gold paragraphs the output holds (see the module docstring); all in normal form.

    Parameters
    ----------
    gold_lines : list[str]
        The gold paragraphs, normal form.
    output : str
        The output, normal form, lines joined.

    Returns
    -------
    int
        The number found.
    """
    grams = _grams(output)
    found = 0
    for line in gold_lines:
        if len(line) < SHORT:
            found += line in output
        else:
            own = _grams(line)
            found += len(own & grams) >= 0.9 * len(own)
    return found


def from_gold(line: str, gold: str, gold_grams: set[str]) -> bool:
    """True when an output or page line comes from the gold text (see the module docstring).

    Parameters
    ----------
    line : str
        The line, normal form.
    gold : str
        The gold text, normal form, lines joined.
    gold_grams : set[str]
        The gold text's 5-grams.

    Returns
    -------
    bool
        Whether the line is gold text.
    """
    if len(line) < SHORT:
        return line in gold
    own = _grams(line)
    return len(own & gold_grams) >= 0.5 * len(own)


def chrome_lines(output_lines: list[str], visible_lines: list[str], gold: str) -> tuple[int, int, int]:
    """(output lines not from the gold, visible page lines not from the gold, of those the ones left in the
    output); all lines in normal form.

    Parameters
    ----------
    output_lines : list[str]
        The output's lines.
    visible_lines : list[str]
        The page's visible lines.
    gold : str
        The gold text, lines joined.

    Returns
    -------
    tuple[int, int, int]
        Chrome lines in the output, chrome lines on the page, chrome lines of the page left in the output.
    """
    grams = _grams(gold)
    chrome_out = [line for line in output_lines if line and not from_gold(line, gold, grams)]
    chrome_text = "\n".join(chrome_out)
    page_chrome = [line for line in visible_lines if line and not from_gold(line, gold, grams)]
    left = sum(line in chrome_text for line in page_chrome)
    return len(chrome_out), len(page_chrome), left


def _days(date: str, other: str) -> int | None:
    try:
        return abs((datetime.date.fromisoformat(date) - datetime.date.fromisoformat(other)).days)
    except ValueError:
        return None


def _same(found: str, gold: str, form: Callable[[str], str]) -> bool:
    a, b = form(found), form(gold)
    return bool(a) and (a == b or a in b or b in a)


def _metadata(row: dict, page, form: Callable[[str], str]) -> dict:
    found = {"title": page.title if page else "", "date": page.date if page else "",
             "author": page.author if page else ""}
    result = {f"{key}_found": int(bool(value)) for key, value in found.items()}
    for key in ("title", "author"):
        result[f"{key}_correct"] = int(_same(found[key], row[key], form)) if row.get(key) else ""
    result["date_correct"] = int(found["date"] == row["date"]) if row.get("date") else ""
    days = _days(found["date"], row["crawled"]) if row.get("crawled") and found["date"] else None
    result["date_near_crawl"] = (int(days is not None and days <= 3)) if row.get("crawled") else ""
    return result


def score_page(row: dict, html: str, text: str | None, form: Callable[[str], str]) -> dict:
    """The measures of one output against a page's gold (text None: the page gave no usable text).

    Parameters
    ----------
    row : dict
        The page's pages.csv row with its `gold` paragraphs (`pagesets.read_pageset`).
    html : str
        The decoded page.
    text : str | None
        The output, one paragraph a line; None when the page was left empty.
    form : Callable[[str], str]
        The comparison form (`evaluate.normal`).

    Returns
    -------
    dict
        precision, recall, f1, paragraphs, paragraphs_kept, chrome_left, page_chrome, chrome_removed, empty.
    """
    gold_lines = [form(line) for line in row["gold"]]
    gold = "\n".join(gold_lines)
    output_lines = [form(line) for line in (text or "").splitlines()]
    output = "\n".join(output_lines)
    precision, recall, f1 = char_scores(output, gold)
    chrome_out, page_chrome, left = chrome_lines(output_lines, [form(x) for x in visible_text(html).splitlines()],
                                                 gold)
    return {"precision": precision, "recall": recall, "f1": f1, "paragraphs": len(gold_lines),
            "paragraphs_kept": paragraphs_kept(gold_lines, output) / len(gold_lines) if gold_lines else 1.0,
            "chrome_left": chrome_out, "page_chrome": page_chrome,
            "chrome_removed": 1 - left / page_chrome if page_chrome else 1.0, "empty": int(text is None)}


def _clean(clean_one: Callable[[str], str], text: str) -> tuple[str, str]:
    """(cleaned text, "") or, when cleaning fails (a run would stop on that article), (the text uncleaned, the
    error): the page is still scored, and the failure is reported per page."""
    try:
        return clean_one(text), ""
    except ValueError as error:
        return text, str(error)


def evaluate_pages(folders: list[Path], settings: PageParams, codecs: list[str],
                   plausibility: Callable[[str], float], clean_one: Callable[[str], str],
                   form: Callable[[str], str], half: str | None = None) -> list[dict]:
    """One row per page and pass ("extracted", "cleaned") of every page set's pages.

    Parameters
    ----------
    folders : list[Path]
        The page sets.
    settings : PageParams
        The page settings (the extractor to measure among them).
    codecs : list[str]
        The ingest codecs.
    plausibility : Callable[[str], float]
        The character model's mean log probability.
    clean_one : Callable[[str], str]
        The study's cleaning (`evaluate.study_cleaner`).
    form : Callable[[str], str]
        The comparison form (`evaluate.normal`).
    half : str | None
        Only the pages of this half ("development" or "heldout", `pagesets.site_half`); None: all.

    Returns
    -------
    list[dict]
        The rows, with the page's set, id, script, half and pass.
    """
    rows = []
    for folder in folders:
        for page_row in read_pageset(folder):
            if half and site_half(page_row["id"]) != half:
                continue
            data = page_row["html_path"].read_bytes()
            html = decode_page(data, page_row["html_path"], codecs, plausibility)[0]
            try:
                page = read_page(data, page_row["html_path"], codecs, plausibility, settings)
            except InputError:
                page = None
            cleaned, clean_error = _clean(clean_one, page.text) if page else (None, "")
            texts = {"extracted": page.text if page else None, "cleaned": cleaned}
            meta = _metadata(page_row, page, form)
            for name, text in texts.items():
                rows.append({"set": folder.name, "id": page_row["id"], "script": page_row["script"],
                             "half": site_half(page_row["id"]), "pass": name, "extractor": settings.extractor,
                             **score_page(page_row, html, text, form), **meta,
                             "clean_error": clean_error if name == "cleaned" else ""})
    return rows


_MEANS = ("precision", "recall", "f1", "paragraphs_kept", "chrome_left", "chrome_removed", "empty", "title_found",
          "date_found", "author_found", "title_correct", "date_correct", "author_correct", "date_near_crawl")


def macro(rows: list[dict]) -> dict:
    """Macro means over pages of every measure (a metadata share only over pages with a gold value).

    Parameters
    ----------
    rows : list[dict]
        Page rows of one pass.

    Returns
    -------
    dict
        The page count and each measure's mean (None where no page has a value).
    """
    summary: dict = {"pages": len(rows)}
    for key in _MEANS:
        values = [r[key] for r in rows if r.get(key) not in ("", None)]
        summary[key] = round(sum(values) / len(values), 4) if values else None
    return summary


def print_report(rows: list[dict], out: Path | None) -> None:
    """Print macro means by pass and script (and all pages), and write the page rows to `out`.

    Parameters
    ----------
    rows : list[dict]
        evaluate_pages's rows.
    out : Path | None
        Where to write one row per page and pass (CSV), or None.
    """
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(out, "w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else ["id"])
            writer.writeheader()
            writer.writerows(rows)
    print("pass\tscript\t" + "\t".join(["pages", *_MEANS]))
    for name in ("extracted", "cleaned"):
        for script in ("simplified", "traditional", "all"):
            chosen = [r for r in rows if r["pass"] == name and script in ("all", r["script"])]
            summary = macro(chosen)
            print(f"{name}\t{script}\t" + "\t".join("" if v is None else str(v) for v in summary.values()))
    failed = sorted({r["id"] for r in rows if r.get("clean_error")})
    if failed:
        print(f"cleaning failed (scored uncleaned) on {len(failed)} pages: {', '.join(failed)}")
