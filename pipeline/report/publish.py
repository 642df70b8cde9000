"""The reader-facing pages of a run: the findings text, the README's findings
section, the codebook's generated terms, and the CJK font embedded in every
HTML page of the results."""

from __future__ import annotations

from pathlib import Path

from pipeline.common import io
from pipeline.report.findings import findings_markdown, replace_section, section_of
from pipeline.report.results import read_table

# The tables the findings sentences read, by name.
FINDINGS_TABLES = ("documents", "lexicon_profile", "profile_shares", "place_terms", "place_concepts",
                   "expectation_summary", "seeded_topic_quality", "seeded_place_topics")
KEY_FIGURE = "results/figures/themes_seeded_place_topics.png"


def write_findings(tables_dir: Path, destination: Path, figure: str | None = KEY_FIGURE) -> str:
    """Write the findings (from the tables in `tables_dir`) to `destination`; return them."""
    tables = {name: read_table(tables_dir / f"{name}.csv") for name in FINDINGS_TABLES
              if (tables_dir / f"{name}.csv").exists()}
    text = findings_markdown(tables, figure=figure)
    io.write_text(text, destination)
    return text


def abstract_of(findings: str) -> str:
    """The findings without the figure line: the report's abstract."""
    return "\n".join(line for line in findings.splitlines() if not line.startswith("![")).strip()


def sync_readme(readme: Path, findings: str) -> bool:
    """Put the findings into the README's findings section; True when the README changed."""
    document = readme.read_text(encoding="utf-8")
    if section_of(document) == findings:
        return False
    io.write_text(replace_section(document, findings), readme)
    return True


def sync_codebook(lexicon_csv: Path, codebook: Path) -> bool:
    """Regenerate the codebook's terms-by-dimension section from the lexicon, and its concepts-by-dimension
    section from `concepts.csv` and `term_concepts.csv` beside it; True when it changed."""
    from pipeline.report.codebook import (CONCEPT_END, CONCEPT_START, concepts_markdown, read_terms, replace_section,
                                          terms_markdown)

    document = codebook.read_text(encoding="utf-8")
    section = terms_markdown(read_terms(lexicon_csv.read_text(encoding="utf-8"), str(lexicon_csv)))
    updated = replace_section(document, section, str(codebook))
    concepts, members = lexicon_csv.with_name("concepts.csv"), lexicon_csv.with_name("term_concepts.csv")
    if concepts.exists() and members.exists():
        updated = replace_section(updated, concepts_markdown(concepts.read_text(encoding="utf-8"),
                                                             members.read_text(encoding="utf-8")),
                                  str(codebook), CONCEPT_START, CONCEPT_END)
    if updated == document:
        return False
    io.write_text(updated, codebook)
    return True


def embed_fonts(results_dir: Path, font_path: Path) -> list[Path]:
    """Embed the CJK font subset into every HTML page directly under `results_dir`."""
    from pipeline.report.fonts import embed_font

    pages = sorted(results_dir.glob("*.html"))
    for page in pages:
        io.write_text(embed_font(page.read_text(encoding="utf-8"), font_path), page)
    return pages
