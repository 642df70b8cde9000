"""Every number a reader meets in the study's prose is one the tables hold.

The documents are checked against the tables they draw on, not against every
table (where almost any small number turns up by chance): the findings against
the findings tables, the articles' table, the expectations' summary and the
coders' agreement; the
validation README against the validation table; the codebook and the
notebooks' prose against every table. The parameters' numbers (floors,
confidence levels, list lengths) back every document. A number cited from
outside the study is allowed only inside its exact phrase, with its reason.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pandas as pd
import pytest

from pipeline.common.config import PROJECT_ROOT, Paths
from pipeline.common.params import load_params
from pipeline.report.consistency import check_documents, params_numbers, prose_numbers, support_values
from pipeline.report.findings import section_of
from pipeline.report.results import read_table

TABLES = Paths.at().tables
PARAMS = params_numbers(load_params(PROJECT_ROOT / "params.yaml").record())
FINDINGS_SUPPORT = [*sorted(TABLES.glob("findings_*.csv")), TABLES / "documents.csv", TABLES / "expectation_summary.csv",
                    TABLES / "validation_agreement.csv"]
# Numbers cited from outside the study: allowed inside these phrases only.
UNIT = ("per 10,000", "a unit of rate (tokens per 10,000 countable tokens), not a figure of the study")
ALLOWED = {
    "lexicon/CODEBOOK.md": [UNIT, ("GB 50180-2018", "the national standard for residential-area planning, cited")],
    "notebooks/04_governance_profile.ipynb": [UNIT],
    "notebooks/05_findings.ipynb": [UNIT],
}


def _notebook_prose(path: Path) -> str:
    return "\n\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")


def findings_documents() -> dict[str, str]:
    return {"results/findings.md": (Paths.at().results / "findings.md").read_text(encoding="utf-8"),
            "README.md (findings section)": section_of((PROJECT_ROOT / "README.md").read_text(encoding="utf-8"))}


def test_every_number_of_the_findings_is_in_the_tables_they_draw_on():
    assert check_documents(findings_documents(), support_values(FINDINGS_SUPPORT, PARAMS)) == []


def test_every_number_of_the_validation_readme_is_in_the_validation_table():
    text = (PROJECT_ROOT / "data" / "validation" / "README.md").read_text(encoding="utf-8")
    support = support_values([TABLES / "dictionary_validation.csv"])
    assert check_documents({"data/validation/README.md": text}, support) == []


def test_every_number_of_the_codebook_and_the_notebooks_prose_is_in_a_table():
    documents = {"lexicon/CODEBOOK.md": (PROJECT_ROOT / "lexicon" / "CODEBOOK.md").read_text(encoding="utf-8")}
    documents.update({f"notebooks/{p.name}": _notebook_prose(p)
                      for p in sorted((PROJECT_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))})
    assert check_documents(documents, support_values(TABLES, PARAMS), ALLOWED) == []


@pytest.mark.parametrize("document, sentence, stale", [
    # The figure a referee found stale: held-out safety recall written as 0.42 where the table says otherwise.
    ("validation", "| safety and resilience |", "0.42"),
    ("findings", "are met for ", None),
])
def test_a_planted_stale_number_is_caught(document, sentence, stale):
    if document == "validation":
        text = (PROJECT_ROOT / "data" / "validation" / "README.md").read_text(encoding="utf-8")
        row = next(line for line in text.splitlines() if line.startswith(sentence))
        cells = row.split(" | ")
        planted_row = " | ".join(cells[:-1] + [stale + " |"])
        planted, support = text.replace(row, planted_row), support_values([TABLES / "dictionary_validation.csv"])
        assert row != planted_row
    else:
        text = findings_documents()["results/findings.md"]
        summary = read_table(TABLES / "expectation_summary.csv")
        hits = int(summary.loc[(summary["place"] == "all") & (summary["set"] == "concepts"), "hits"].item())
        support = support_values(FINDINGS_SUPPORT, PARAMS)
        # A count the tables do not hold, as a stale count would be.
        stale = next(str(n) for n in range(hits + 1, hits + 500) if not support.supports(_integer(n)))
        planted = text.replace(f"{sentence}{hits} of", f"{sentence}{stale} of")
        assert planted != text
    messages = check_documents({document: planted}, support)
    assert len(messages) == 1 and f": {stale} (" in messages[0]


def _integer(n: int):
    return prose_numbers(f"count {n} here")[0]


def _markdown_rows(text: str, header_start: str) -> list[list[str]]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split(" | ")])
    return rows


def test_the_findings_tables_show_the_rows_of_their_csv_files():
    """Cell by cell: the Markdown tables of the findings against findings_concepts.csv and findings_leads.csv."""
    text = findings_documents()["results/findings.md"]
    concepts = read_table(TABLES / "findings_concepts.csv")
    shown = _markdown_rows(text, "| place | concept |")
    assert [(r[1], int(r[4]), int(r[5]), int(r[6]), int(r[7]), r[8]) for r in shown] == \
        [(r.label, r.count, r.sentences, r.units, r.elsewhere, f"{r.stability:.0%}") for r in concepts.itertuples()]
    leads = read_table(TABLES / "findings_leads.csv")
    shown = _markdown_rows(text, "| place | most sentences mention |")
    assert [(r[0], int(r[2]), int(r[4]), int(r[5]), r[6]) for r in shown] == \
        [(r.place, r.mentioning, r.runner_up_mentioning, r.sentences, r.verdict) for r in leads.itertuples()]
    assert not pd.isna(leads["verdict"]).any()
