"""The harm check measured on the labelled held-out sets: does chrome that cleaning kept move a finding?

Line labels say which lines of a held-out article are chrome; the study's own
run says which terms lead each place's lists and each topic. This command
makes a throw-away project of the held-out articles (each article its own
place, its site as the source, so that lines a site repeats are found as in a
real corpus), runs the whole study on it (no notebooks, a short topic
sweep), and then reports, per set and combined:

- chrome lines kept: labelled chrome that the cleaned text still holds;
- supplying: kept chrome lines whose tokens include a term on their place's
  top lists (terms and concepts, `emphases.stability_top` rows per method)
  or among a topic's top terms;
- harmful: kept chrome lines that alone put a term on such a list (every
  occurrence of the term in the place, or in the corpus for a topic, is in
  the line), with the terms;
- the review table's flags (`cleaning_review.csv`, column top_terms) by
  label: a flagged heading is content, a flagged chrome line is harm.

Run as `python -m pipeline.corpus.heldout_harm [folder ...] [--keep DIR]`
(default: every held-out set under tests/). It takes a few minutes.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import pandas as pd
import yaml

from pipeline.common.config import PROJECT_ROOT
from pipeline.common.params import load_params
from pipeline.corpus import script
from pipeline.corpus.evaluate import heldout_folders, line_outcomes, normal, read_labels, study_cleaner
from pipeline.corpus.review import LIST_TABLES, harm_check, line_tokens, top_lists

__all__ = ["build_project", "harm_rows", "main", "summarise_harm"]

# A short run: the harm check reads the lists, not their intervals.
QUICK = {"ingest": {"min_chinese_chars": 50},
         "clean": {"near_duplicates": {"check": False}},
         "themes": {"k_min": 2, "k_max": 6, "seeds": [1, 2], "passes": 5, "iterations": 50,
                    "bootstrap_samples": 20, "ablation": False},
         "emphases": {"bootstrap_samples": 20},
         "report": {"execute_notebooks": False}}


def build_project(folders: list[Path], root: Path) -> Path:
    """A project of the held-out articles under `root` (each article a place); returns its parameters file.

    Parameters
    ----------
    folders : list[Path]
        The labelled held-out sets (articles/, labels/, a sources table with id and host).
    root : Path
        The new project's folder (created).

    Returns
    -------
    Path
        The parameters file of the quick run (`QUICK` merged into the project's params.yaml).
    """
    (root / "data" / "raw").mkdir(parents=True)
    shutil.copytree(PROJECT_ROOT / "lexicon", root / "lexicon")
    shutil.copytree(PROJECT_ROOT / "data" / "background", root / "data" / "background")
    rows = []
    for folder in folders:
        sources = next(p for p in (folder / "sources.csv", folder / "heldout.csv") if p.exists())
        with open(sources, encoding="utf-8", newline="") as handle:
            host = {r["id"]: r["host"] for r in csv.DictReader(handle)}
        for article in sorted((folder / "articles").glob("*.txt")):
            shutil.copy2(article, root / "data" / "raw" / article.name)
            rows.append({"doc_id": article.stem, "file": article.name, "place": f"{folder.name}:{article.stem}",
                         "level": "community", "province": "", "source": host.get(article.stem, ""),
                         "date": "", "notes": "held-out article"})
    with open(root / "data" / "corpus.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    params = load_params(PROJECT_ROOT / "params.yaml").updated(QUICK)  # checked like any parameters file
    path = root / "params.yaml"
    path.write_text(yaml.safe_dump(params.record(), allow_unicode=True), encoding="utf-8")
    return path


def harm_rows(folders: list[Path], results: Path, top: int) -> list[dict]:
    """One row per labelled line the cleaning kept whole: its label and the top-list terms it supplies.

    Parameters
    ----------
    folders : list[Path]
        The held-out sets the run was made of.
    results : Path
        The run's results folder.
    top : int
        The length of a place's top list (emphases.stability_top).

    Returns
    -------
    list[dict]
        set, id, line_no, label, kind, text, top_terms, only_from_line, top_lists.
    """
    units = [json.loads(line) for line in (results / "corpus" / "units.jsonl").read_text(encoding="utf-8").splitlines()]
    by_doc: dict[str, list[dict]] = defaultdict(list)
    for unit in units:
        by_doc[unit["doc_id"]].append(unit)
    lists = top_lists({name: pd.read_csv(results / "tables" / f"{name}.csv", keep_default_na=False)
                       for name in LIST_TABLES if (results / "tables" / f"{name}.csv").exists()}, top)
    clean_one, converter = study_cleaner(), script.make_converter("t2s")
    rows = []
    for folder in folders:
        for article in sorted((folder / "articles").glob("*.txt")):
            raw = article.read_text(encoding="utf-8")
            labels = read_labels(folder / "labels" / f"{article.stem}.tsv")
            cleaned_lines = (results / "corpus" / "clean" / f"{article.stem}.txt").read_text(encoding="utf-8").splitlines()
            by_form = {normal(c): c for c in cleaned_lines}
            for row in line_outcomes(raw, clean_one(raw), labels):
                if row["status"] != "kept":
                    continue
                line = by_form.get(normal(script.to_simplified(row["text"], converter)))
                if line is None:
                    continue
                review = pd.DataFrame({"doc_id": [article.stem], "line": [line], "reason": [""]})
                found = harm_check(review, by_doc[article.stem], lists).iloc[0]
                rows.append({"set": folder.name, "id": article.stem, "line_no": row["line_no"], "label": row["label"],
                             "kind": row["kind"], "text": line, "top_terms": found["top_terms"],
                             "only_from_line": found["only_from_line"], "top_lists": found["top_lists"]})
    return rows


def summarise_harm(rows: list[dict], review: pd.DataFrame, labels: dict[tuple[str, str], str]) -> dict:
    """Counts of kept chrome, harmful chrome, and the review table's flags by label.

    Parameters
    ----------
    rows : list[dict]
        `harm_rows` of one or more sets.
    review : pd.DataFrame
        The run's cleaning_review.csv, limited to the same articles.
    labels : dict of (id, simplified line) to label
        The label of each kept line, to name what the review flagged.

    Returns
    -------
    dict
        chrome_kept, chrome_supplying_top_terms (kept chrome whose tokens include a top-list term),
        chrome_harmful (kept chrome that alone put a term on a list: column only_from_line), harmful_terms,
        review_lines, review_flagged (top_terms), review_flagged_alone (only_from_line), and
        review_flagged_<label> (top_terms, by the line's label).
    """
    chrome = [r for r in rows if r["label"] == "chrome"]
    supplying = [r for r in chrome if r["top_terms"]]
    harmful = [r for r in chrome if r["only_from_line"]]
    flagged = review[review["top_terms"] != ""]
    summary = {"chrome_kept": len(chrome), "chrome_supplying_top_terms": len(supplying),
               "chrome_harmful": len(harmful),
               "harmful_terms": "; ".join(f"{r['id']}:{r['line_no']} {r['only_from_line']}" for r in harmful),
               "review_lines": len(review), "review_flagged": len(flagged),
               "review_flagged_alone": int((review["only_from_line"] != "").sum())}
    for label in ("heading", "body", "chrome", "unlabelled"):
        summary[f"review_flagged_{label}"] = sum(labels.get((r.doc_id, normal(r.line)), "unlabelled") == label
                                                for r in flagged.itertuples())
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", help="labelled folders (default: every held-out set under tests/)")
    parser.add_argument("--keep", help="make the project here and keep it (default: a temporary folder)")
    parser.add_argument("--lines", action="store_true", help="list every kept chrome line that supplies a top term")
    args = parser.parse_args(argv)
    folders = [Path(f) for f in args.folders] or heldout_folders(PROJECT_ROOT)
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="heldout-harm-"))
    try:
        params = build_project(folders, root / "project")
        print(f"running the study on {len(folders)} held-out set(s) in {root} ...", file=sys.stderr)
        done = subprocess.run([sys.executable, "-m", "pipeline", "--quiet", "run", "--root", str(root / "project"),
                               "--params", str(params), "--results", str(root / "results"), "--no-cache"],
                              capture_output=True, text=True)
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            return done.returncode
        top = load_params(params).emphases.stability_top
        rows = harm_rows(folders, root / "results", top)
        review = pd.read_csv(root / "results" / "tables" / "cleaning_review.csv", keep_default_na=False, dtype=str)
        labels = {(r["id"], normal(r["text"])): r["label"] for r in rows}
        sections = [(f.name, [r for r in rows if r["set"] == f.name],
                     review[review["doc_id"].isin({p.stem for p in (f / "articles").glob("*.txt")})]) for f in folders]
        if len(folders) > 1:
            sections.append(("combined", rows, review))
        for name, part, part_review in sections:
            print(f"== {name}")
            for key, value in summarise_harm(part, part_review, labels).items():
                print(f"{key}: {value}")
        if args.lines:
            for r in rows:
                if r["label"] == "chrome" and r["only_from_line"]:
                    print(f"{r['set']}/{r['id']}:{r['line_no']}\t{r['kind']}\t{r['text'][:60]}\t{r['only_from_line']}")
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
