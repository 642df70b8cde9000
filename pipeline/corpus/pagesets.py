"""Page sets: saved web pages with their gold main text, the folder format every page evaluation reads.

A page set is a folder:

- `pages.csv`: one row a page, columns `id,file,script,source,title,date,author,origin,licence` (script:
  simplified or traditional, decided from the gold text by the study's script detector; title, date, author:
  the gold metadata when known, else empty), plus `crawled` (YYYY-MM-DD) where the page's crawl date is known;
- `html/<file>`: the page's bytes, unchanged;
- `gold/<id>.txt`: the gold main text, UTF-8, one paragraph a line;
- `PROVENANCE.md`: where the pages came from, at which commit, under which licence.

`python -m pipeline.corpus.pagesets daniel --source SRC --out DIR` builds the set of the DAnIEL corpus's
Chinese pages (the re-annotated version 2.1 in the waddle repository, https://github.com/rundimeco/waddle;
GPL-3.0, so the set is written under build/, which git ignores, and never committed to this MIT project).

Pages are split into a development half and a held-out half by site (`site_half`): pages of one site share a
template, so tuning on some of a site's pages and testing on others would measure memory of the template.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import html
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from pipeline.common.config import PROJECT_ROOT
from pipeline.corpus.script import detect_script, make_converter

__all__ = ["COLUMNS", "DANIEL_URL", "gold_paragraphs", "main", "read_pageset", "site", "site_half",
           "write_daniel"]

COLUMNS = ["id", "file", "script", "source", "title", "date", "author", "origin", "licence", "crawled"]
DANIEL_URL = "https://github.com/rundimeco/waddle"
_DANIEL_DIR = "corpora/Corpus_daniel_v2.1"
_TAG = re.compile(r"<[^>]*>")
_PARAGRAPH = re.compile(r"<p\b[^>]*>(.*?)</p\s*>", re.IGNORECASE | re.DOTALL)
# Second-level labels under which a country's sites register (sina.com.cn, udn.com.tw, rthk.org.hk): the
# site is then the last three labels, not two.
_SECOND_LEVEL = {"com", "net", "org", "gov", "edu", "co", "ac"}


def gold_paragraphs(reference: str) -> list[str]:
    """The paragraphs of a DAnIEL reference file (`<p>...</p>` lines): tags removed, entities decoded.

    Parameters
    ----------
    reference : str
        The reference file's text.

    Returns
    -------
    list[str]
        The non-empty paragraphs, whitespace inside each collapsed to single spaces.
    """
    found = _PARAGRAPH.findall(reference) or reference.splitlines()
    paragraphs = (" ".join(html.unescape(_TAG.sub(" ", p)).split()) for p in found)
    return [p for p in paragraphs if p]


def site(page_id: str) -> str:
    """The site of a DAnIEL page id (`YYYYMMDD_host_hash`): the host's registrable domain.

    Parameters
    ----------
    page_id : str
        The page id.

    Returns
    -------
    str
        The domain, e.g. sina.com.cn for news.sina.com.cn, ifeng.com for finance.ifeng.com.
    """
    parts = page_id.split("_")
    host = parts[1] if len(parts) >= 3 else page_id
    labels = host.lower().split(".")
    keep = 3 if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL else 2
    return ".".join(labels[-keep:])


def site_half(page_id: str) -> str:
    """'development' or 'heldout': the half a page belongs to, by the SHA-256 of its site (even first byte:
    development).

    Parameters
    ----------
    page_id : str
        The page id.

    Returns
    -------
    str
        "development" or "heldout".
    """
    first = hashlib.sha256(site(page_id).encode("utf-8")).digest()[0]
    return "development" if first % 2 == 0 else "heldout"


def read_pageset(folder: Path) -> list[dict]:
    """The rows of a page set's pages.csv, each with its html path and gold paragraphs added.

    Parameters
    ----------
    folder : Path
        The page set.

    Returns
    -------
    list[dict]
        The rows, with `html_path` (Path) and `gold` (list[str]) added.
    """
    with open(folder / "pages.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row["html_path"] = folder / "html" / row["file"]
        gold = (folder / "gold" / f"{row['id']}.txt").read_text(encoding="utf-8")
        row["gold"] = [line for line in gold.splitlines() if line.strip()]
    return rows


def _git(git_dir: Path, *args: str) -> bytes:
    return subprocess.run(["git", "--git-dir", str(git_dir), *args], check=True, capture_output=True).stdout


def _git_dir(source: Path) -> Path:
    """The git directory of a bare or checked-out repository."""
    return source / ".git" if (source / ".git").exists() else source


def _crawled(page_id: str) -> str:
    match = re.match(r"(\d{4})(\d{2})(\d{2})_", page_id)
    return "-".join(match.groups()) if match else ""


def write_daniel(git_dir: Path, out: Path, url: str = DANIEL_URL) -> int:
    """Write the page set of DAnIEL's Chinese pages that have both a page and a reference.

    Parameters
    ----------
    git_dir : Path
        The git directory of the waddle repository (bare or a checkout's .git).
    out : Path
        The page set folder (replaced if it exists).
    url : str
        The repository's address, recorded as the pages' origin.

    Returns
    -------
    int
        The number of pages written.
    """
    commit = _git(git_dir, "rev-parse", "HEAD").decode().strip()
    languages = json.loads(_git(git_dir, "show", f"{commit}:{_DANIEL_DIR}/doc_lg.json"))
    listed = set(_git(git_dir, "ls-tree", "-r", "--name-only", commit, _DANIEL_DIR).decode().split("\n"))
    ids = sorted(i for i, lang in languages.items() if lang == "Chinese"
                 and f"{_DANIEL_DIR}/html/{i}" in listed and f"{_DANIEL_DIR}/reference/{i}" in listed)
    if out.exists():
        shutil.rmtree(out)
    (out / "html").mkdir(parents=True)
    (out / "gold").mkdir()
    converter = make_converter()
    rows = []
    for page_id in ids:
        data = _git(git_dir, "show", f"{commit}:{_DANIEL_DIR}/html/{page_id}")
        reference = _git(git_dir, "show", f"{commit}:{_DANIEL_DIR}/reference/{page_id}").decode("utf-8", "replace")
        gold = gold_paragraphs(reference)
        (out / "html" / f"{page_id}.html").write_bytes(data)
        (out / "gold" / f"{page_id}.txt").write_text("".join(p + "\n" for p in gold), encoding="utf-8")
        rows.append({"id": page_id, "file": f"{page_id}.html", "script": detect_script("".join(gold), converter),
                     "source": "DAnIEL v2.1", "title": "", "date": "", "author": "",
                     "origin": f"{url} @ {commit}: {_DANIEL_DIR}/html/{page_id}", "licence": "GPL-3.0",
                     "crawled": _crawled(page_id)})
    with open(out / "pages.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    halves = {h: sum(site_half(r["id"]) == h for r in rows) for h in ("development", "heldout")}
    (out / "PROVENANCE.md").write_text(
        "# DAnIEL Chinese pages\n\n"
        f"Source: the DAnIEL corpus, re-annotated version 2.1, in {url} (`{_DANIEL_DIR}/`), commit {commit}.\n"
        f"Pages: the {len(rows)} pages `doc_lg.json` marks Chinese that have both `html/<id>` and "
        "`reference/<id>`.\n`html/` holds their bytes unchanged; `gold/` the reference paragraphs (tags removed, "
        "entities decoded), one a line.\n\n"
        "Licence: GPL-3.0 (the waddle repository's). The study is MIT-licensed, so this folder is built on demand "
        "under build/ (git-ignored) and is kept out of the study's repository.\n\n"
        f"Split by site (pagesets.site_half): {halves['development']} development pages, "
        f"{halves['heldout']} held-out pages.\n\n"
        "Built by `python -m pipeline.corpus.pagesets daniel`.\n", encoding="utf-8")
    return len(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", choices=["daniel"], help="which page set to build")
    parser.add_argument("--source", default=DANIEL_URL,
                        help="a local git directory (bare or not) of the waddle repository, or its URL")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "build" / "pagesets" / "daniel")
    args = parser.parse_args(argv)
    if Path(args.source).exists():
        count = write_daniel(_git_dir(Path(args.source)), args.out)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(["git", "clone", "--quiet", "--depth", "1", args.source, tmp], check=True)
            count = write_daniel(Path(tmp) / ".git", args.out, url=args.source)
    print(f"{count} pages written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
