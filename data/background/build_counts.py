"""Background word counts from the State Council's government work reports (政府工作报告).

What it does
------------
Reads the government work reports from a JSON Lines file (one record per
line with the fields `title`, `url`, `content`, `year`), segments every report
with the study's own segmenter, and writes next to this script:

* `counts.csv`: `term,count,documents`, one row per vocabulary token: its
  total count over the reports and the number of reports that contain it,
  sorted by count (descending), then term;
* `summary.json`: documents, years, totals, the source (repository, commit,
  path, licence statement) and the pipeline functions used.

The texts themselves are never written anywhere: only the counts are.

The counted tokens are exactly those the study's emphasis stage counts
(`unit["tokens"]` of `pipeline.text.stage.segment_article`): the segmenter is
the one the runner builds (`pipeline.text.stage.build_segmenter`, from
`params.yaml` and `lexicon/`): the project's dedicated `jieba.Tokenizer` behind
the governance lexicon's longest-match search, bracket notation as one token,
the stopwords (stopwords-iso plus `lexicon/stopwords_domain.txt`) and the
place/person-name rules (jieba tags, the division gazetteer, the suffix rule,
`lexicon/vocab_exclusions.txt`) keeping words out of the vocabulary, text
cut into units by `pipeline.text.units.make_units`.

Before segmentation each report is prepared as follows:

1. the Wikisource licence notice that the source appends to every record
   (from the line starting 本作品是 / 本作品来自 to the end) is cut off;
2. line breaks that Wikisource's links leave inside a sentence
   (…国务院总理李强所作的\\n政府工作报告\\n。…) are removed: a single line
   break, possibly around a line of invisible characters, whose preceding
   character is neither whitespace nor sentence-final punctuation
   (。！？!?；;：:) and whose following character is not whitespace;
3. the study's Unicode and whitespace cleaning rules
   (`pipeline.corpus.clean.default_rules` without the site-specific
   boilerplate patterns, chrome classifier and garble detector, which are
   made for scraped web pages, run by `pipeline.corpus.clean.clean_text`);
4. conversion to simplified script with OpenCC t2s as the corpus stage does
   (`pipeline.corpus.script`); the reports of the 1950s are in traditional
   script in the source.

Only records that are reports are used: those with a `year`; the source file
also holds the National People's Congress resolutions approving the reports
(`…关于政府工作报告的决议`, without a year), which are left out.

How to rerun
------------
The script never downloads anything. Get the source repository
(https://github.com/aldohemsn/chinese-political-corpora) yourself, outside
the project, then from the project root:

    .venv/bin/python data/background/build_counts.py /path/to/chinese-political-corpora

The argument is either a git repository (bare or not: the file is read with
`git show COMMIT:PATH`, COMMIT from `--commit`, default HEAD, and the resolved
commit is recorded) or the JSONL file itself (then give `--commit` and
`--source-repo` so that the summary can name them). `--out DIR` writes
elsewhere (default: this script's folder); `--jieba-cache DIR` is where the
dedicated tokenizer keeps its prefix-dictionary cache (default: a temporary
folder, so that nothing under the project's build/ is touched).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT_ROOT = HERE.parents[1]
sys.path.insert(0, str(PROJECT_ROOT))  # the study's package, when the script is run from anywhere

from pipeline.common.config import Paths  # noqa: E402
from pipeline.corpus import clean, script  # noqa: E402
from pipeline.common.params import load_params  # noqa: E402
from pipeline.text import lexicon as lex_mod  # noqa: E402
from pipeline.text.stage import build_segmenter, segment_article  # noqa: E402

DEFAULT_REPO = "aldohemsn/chinese-political-corpora"
DEFAULT_PATH = "government_work_reports.jsonl"
BUILD_DATE = "2026-12-07"

LICENCE_STATEMENT = (
    "None: the repository has no LICENSE file and its README states no licence. Its data are "
    "scraped from Chinese Wikisource (zh.wikisource.org), whose page notice, kept at the end of "
    "every record, says the work is a law, regulation, resolution, decision, order or other "
    "document of a legislative, administrative or judicial nature of the PRC and, under Art. 5(1) "
    "of the PRC Copyright Law, is not subject to that law and is in the public domain (with the "
    "Wikisource community's note that official speeches are not always such documents).")

PIPELINE_FUNCTIONS = [
    "pipeline.common.config.Paths.at",
    "pipeline.common.params.load_params",
    "pipeline.text.lexicon.load_lexicon",
    "pipeline.text.stage.build_segmenter",
    "pipeline.text.stage.segment_article",
    "pipeline.corpus.clean.default_rules",
    "pipeline.corpus.clean.clean_text",
    "pipeline.corpus.script.make_converter",
    "pipeline.corpus.script.detect_script",
    "pipeline.corpus.script.to_simplified",
]

# Wikisource's licence notice starts on a line of its own.
_NOTICE = re.compile(r"^本作品(?:是|来自)", re.MULTILINE)
# A line break left by a wiki link inside a sentence (see the module docstring).
_LINK_BREAK = re.compile(r"(?<=[^\s。！？!?；;：:])\n(?:[\u200b-\u200d\u2060\ufeff]+\n)?(?=\S)")


@dataclass(frozen=True)
class _BackgroundPaths(Paths):
    """The project's paths, with the jieba cache moved out of the project's build/ folder."""
    jieba_dir: Path | None = None

    @property
    def jieba_cache(self) -> Path:
        return self.jieba_dir if self.jieba_dir is not None else super().jieba_cache


def git(repo: Path, *args: str) -> bytes:
    return subprocess.run(["git", "--git-dir", str(repo), *args], check=True, capture_output=True).stdout


def git_dir(path: Path) -> Path | None:
    """The git directory of `path` (a bare repository or a checkout), None when it is not one."""
    if not path.is_dir():
        return None
    for candidate in (path / ".git", path):
        if (candidate / "HEAD").is_file() and (candidate / "objects").is_dir():
            return candidate
    return None


def read_source(source: Path, commit: str | None, path_in_repo: str) -> tuple[bytes, str | None]:
    """The JSONL bytes and the commit they were read at (None for a plain file given without --commit)."""
    repo = git_dir(source)
    if repo is None:
        if not source.is_file():
            sys.exit(f"{source}: neither a git repository nor a file")
        return source.read_bytes(), commit
    resolved = git(repo, "rev-parse", "--verify", f"{commit or 'HEAD'}^{{commit}}").decode().strip()
    return git(repo, "show", f"{resolved}:{path_in_repo}"), resolved


def is_report(record: dict) -> bool:
    """A government work report, not one of the NPC resolutions approving it (those have no year)."""
    return bool(record.get("year")) and "决议" not in record.get("title", "")


def prepare(text: str, converter) -> tuple[str, dict]:
    """The report's text ready for segmentation, and what was done to it."""
    notice = _NOTICE.search(text)
    body = text[:notice.start()] if notice else text
    body, joined = _LINK_BREAK.subn("", body)
    # The study's Unicode/whitespace rules; no site boilerplate, chrome or garble rule.
    cleaned, audit = clean.clean_text(body, clean.default_rules([], None))
    kind = script.detect_script(cleaned, converter)
    return script.to_simplified(cleaned, converter), {
        "notice_removed": notice is not None, "link_breaks_joined": joined, "cleaning_edits": len(audit),
        "script": kind}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, help="the fetched repository (git directory) or the JSONL file")
    parser.add_argument("--commit", help="commit to read in the repository (default: HEAD); "
                                         "for a plain file, the commit it came from")
    parser.add_argument("--path-in-repo", default=DEFAULT_PATH, help=f"file inside the repository (default: {DEFAULT_PATH})")
    parser.add_argument("--source-repo", default=DEFAULT_REPO, help=f"owner/name recorded in the summary (default: {DEFAULT_REPO})")
    parser.add_argument("--out", type=Path, default=HERE, help="output folder (default: this script's folder)")
    parser.add_argument("--jieba-cache", type=Path, default=None, help="jieba cache folder (default: a temporary one)")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    data, commit = read_source(args.source.resolve(), args.commit, args.path_in_repo)
    records = [json.loads(line) for line in data.decode("utf-8").splitlines() if line.strip()]
    reports = sorted((r for r in records if is_report(r)), key=lambda r: int(r["year"]))
    excluded = [r.get("title", "") for r in records if not is_report(r)]
    years = [int(r["year"]) for r in reports]
    if len(set(years)) != len(years):
        sys.exit(f"more than one report for a year: {sorted(y for y, n in Counter(years).items() if n > 1)}")

    paths = Paths.at(PROJECT_ROOT)
    # The ablation's plain-jieba tokens are not counted here; not building them changes no token.
    params = load_params(paths.params).updated({"themes": {"ablation": False}})
    lexicon = lex_mod.load_lexicon(paths.lexicon / "governance_terms.csv")
    converter = script.make_converter("t2s")

    with tempfile.TemporaryDirectory(prefix="background-jieba-") as scratch:
        seg_paths = _BackgroundPaths(root=paths.root, results=paths.results,
                                     jieba_dir=(args.jieba_cache or Path(scratch)).resolve())
        segmenter = build_segmenter(seg_paths, params, lexicon)
        counts, documents = Counter(), Counter()
        countable_total, per_report = 0, []
        for record in reports:
            text, notes = prepare(record["content"], converter)
            article = segment_article(str(record["year"]), "background", text, segmenter)
            tokens = Counter(token for unit in article["units"] for token in unit["tokens"])
            counts.update(tokens)
            documents.update(tokens.keys())
            countable_total += sum(article["countable"].values())
            per_report.append({"year": int(record["year"]), "title": record.get("title", ""),
                               "units": len(article["units"]), "tokens": sum(tokens.values()), **notes})

    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "counts.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["term", "count", "documents"])
        for term, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
            writer.writerow([term, count, documents[term]])

    summary = {
        "description": "Word counts of the State Council's government work reports (政府工作报告), "
                       "segmented with the study's tokenizer, lexicon, stopword and name rules; "
                       "background corpus for the informative Dirichlet prior (Monroe, Colaresi & Quinn 2008, 3.5).",
        "date": BUILD_DATE,
        "documents": len(reports),
        "years": years,
        "first_year": min(years),
        "last_year": max(years),
        "total_tokens": sum(counts.values()),
        "distinct_terms": len(counts),
        "countable_tokens": countable_total,
        "source": {
            "repository": args.source_repo,
            "url": f"https://github.com/{args.source_repo}",
            "commit": commit,
            "path": args.path_in_repo,
            "sha256": hashlib.sha256(data).hexdigest(),
            "records_in_file": len(records),
            "records_used": len(reports),
            "records_excluded": len(excluded),
            "excluded_because": "NPC resolutions approving the reports (关于政府工作报告的决议), not reports; no year",
            "licence": LICENCE_STATEMENT,
            "upstream": "Chinese Wikisource, Portal:中华人民共和国国务院政府工作报告",
        },
        "pipeline": {
            "project_commit": _project_commit(),
            "functions": PIPELINE_FUNCTIONS,
            "params": {"segment": {k: params["segment"][k] for k in ("hmm", "lexicon_freq", "exclude_tags")},
                       "units": params["units"]},
            "counted": "unit['tokens'] of segment_article: the vocabulary tokens after stopword and name filtering",
        },
        "reports": per_report,
    }
    (args.out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"{len(reports)} reports ({min(years)}-{max(years)}), {summary['total_tokens']} tokens, "
          f"{len(counts)} terms -> {args.out} in {time.perf_counter() - started:.1f} s")
    return 0


def _project_commit() -> str | None:
    try:
        return git(PROJECT_ROOT / ".git", "rev-parse", "HEAD").decode().strip()
    except (subprocess.CalledProcessError, FileNotFoundError):
        return None


if __name__ == "__main__":
    raise SystemExit(main())
