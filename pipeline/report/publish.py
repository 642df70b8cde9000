"""The reader-facing pages of a run: the findings text and tables, the README's findings section, the
codebook's generated sections, and the CJK font embedded in every HTML page of the results."""

from __future__ import annotations

from pathlib import Path

from pipeline.common import io
from pipeline.common.outputs import StageOutputs
from pipeline.figures.themes import seeded_figures
from pipeline.report.codebook import (CONCEPT_END, CONCEPT_START, concepts_markdown, read_terms,
                                      terms_markdown)
from pipeline.report.codebook import replace_section as replace_codebook_section
from pipeline.report.findings import findings_markdown, replace_section, section_of
from pipeline.report.fonts import embed_font
from pipeline.report.headline import FindingsSettings, Headline, Names, build_headline
from pipeline.report.results import read_table
from pipeline.report.validation import replace_validation_section, validation_markdown
from pipeline.text.concepts import load_concepts, load_dimensions
from pipeline.text.lexicon import category_map, load_lexicon

__all__ = ["FINDINGS_TABLES", "KEY_FIGURE", "lexicon_names", "findings_of", "findings_outputs", "readme_text", "sync_readme",
           "sync_codebook", "sync_validation", "embed_fonts"]

# The result tables the findings read, by name.
FINDINGS_TABLES = ("documents", "profile_shares", "place_concepts", "concept_statistics", "kwic", "expectation_summary",
                   "seeded_topic_quality", "seeded_place_topics", "seeded_topics", "validation_agreement",
                   "cleaning_review")
# Relative to results/findings.md; the README's copy points into results/ (`readme_text`).
KEY_FIGURE = "figures/themes_seeded_place_topics.png"


def lexicon_names(lexicon_dir: Path) -> Names:
    """The readable names of a lexicon folder's dimensions and concepts, each file checked on loading."""
    categories = category_map(load_lexicon(lexicon_dir / "governance_terms.csv"))
    concepts = load_concepts(lexicon_dir / "concepts.csv", lexicon_dir / "term_concepts.csv", categories)
    return Names(load_dimensions(lexicon_dir / "dimensions.csv", categories.values()),
                 {c.concept: c.gloss for c in concepts.concepts})


def findings_of(tables_dir: Path, names: Names, settings: FindingsSettings,
                figure: str | None = KEY_FIGURE) -> tuple[Headline, str]:
    """The findings tables and text from the result tables in `tables_dir` (those missing are left out)."""
    tables = {name: read_table(tables_dir / f"{name}.csv") for name in FINDINGS_TABLES
              if (tables_dir / f"{name}.csv").exists()}
    head = build_headline(tables, names, settings)
    return head, findings_markdown(head, tables, settings, figure)


def findings_outputs(tables_dir: Path, names: Names, settings: FindingsSettings) -> StageOutputs:
    """The findings tables and text (`findings.md`), and the lead figures drawn from the topics as the
    findings name them (stable topics, and the unstable ones for the appendix).

    Parameters
    ----------
    tables_dir : Path
        The run's tables, which the findings read.
    names : Names
        The dimensions' and concepts' readable names.
    settings : FindingsSettings
        The findings' settings.

    Returns
    -------
    StageOutputs
        Tables by name, the two figures (when the seeded model has topics the findings name), and the
        page `findings.md`.
    """
    head, text = findings_of(tables_dir, names, settings)
    figures = {}
    if (tables_dir / "seeded_place_topics.csv").exists() and not head.topics.empty:
        figures = seeded_figures(read_table(tables_dir / "seeded_place_topics.csv"), head.topics,
                                 settings.presence_floor)
    return StageOutputs(tables=head.tables(), figures=figures, pages={"findings.md": text})


def readme_text(findings: str) -> str:
    """The findings as the README shows them: figure links point into results/."""
    return findings.replace("](figures/", "](results/figures/")


def sync_readme(readme: Path, findings: str) -> bool:
    """Put the findings into the README's findings section; True when the README changed.

    Parameters
    ----------
    readme : Path
        The project's README.
    findings : str
        The findings in Markdown, figure links relative to results/.

    Returns
    -------
    bool
        Whether the README was rewritten.
    """
    document = readme.read_text(encoding="utf-8")
    if section_of(document) == readme_text(findings):
        return False
    io.write_text(replace_section(document, readme_text(findings)), readme)
    return True


def sync_codebook(lexicon_csv: Path, codebook: Path) -> bool:
    """Regenerate the codebook's terms-by-dimension section from the lexicon, and its concepts-by-dimension
    section from `concepts.csv` and `term_concepts.csv` beside it; True when it changed.

    Parameters
    ----------
    lexicon_csv : Path
        The lexicon CSV (`lexicon/governance_terms.csv`).
    codebook : Path
        The codebook (`lexicon/CODEBOOK.md`), rewritten only when its generated sections change.

    Returns
    -------
    bool
        Whether the codebook was rewritten.
    """
    document = codebook.read_text(encoding="utf-8")
    section = terms_markdown(read_terms(lexicon_csv.read_text(encoding="utf-8"), str(lexicon_csv)))
    updated = replace_codebook_section(document, section, str(codebook))
    concepts, members = lexicon_csv.with_name("concepts.csv"), lexicon_csv.with_name("term_concepts.csv")
    if concepts.exists() and members.exists():
        updated = replace_codebook_section(updated, concepts_markdown(concepts.read_text(encoding="utf-8"),
                                                                      members.read_text(encoding="utf-8")),
                                           str(codebook), CONCEPT_START, CONCEPT_END)
    if updated == document:
        return False
    io.write_text(updated, codebook)
    return True


def sync_validation(readme: Path, table_csv: Path, lexicon_dir: Path) -> bool:
    """Regenerate the precision-and-recall table of `data/validation/README.md` from the run's validation
    table, dimensions by the names `lexicon_names` reads from `lexicon_dir`; True when it changed.

    Parameters
    ----------
    readme : Path
        `data/validation/README.md`.
    table_csv : Path
        The run's `tables/dictionary_validation.csv`.
    lexicon_dir : Path
        The lexicon folder, for the dimensions' readable names.

    Returns
    -------
    bool
        Whether the README was rewritten.
    """
    names = {key: d.name for key, d in lexicon_names(lexicon_dir).dimensions.items()}
    document = readme.read_text(encoding="utf-8")
    updated = replace_validation_section(document, validation_markdown(read_table(table_csv), names), str(readme))
    if updated == document:
        return False
    io.write_text(updated, readme)
    return True


def embed_fonts(results_dir: Path, font_path: Path, artifacts: Path | None = None) -> list[Path]:
    """Embed the CJK font subset into every HTML page directly under `results_dir`.

    Parameters
    ----------
    results_dir : Path
        The results folder whose HTML pages are rewritten in place.
    font_path : Path
        The CJK font file the subsets are cut from.
    artifacts : Path or None, optional
        Where subsets are kept between runs (`pipeline.report.fonts.subset_font`); None cuts each anew.

    Returns
    -------
    list[Path]
        The pages, sorted by name.
    """
    pages = sorted(results_dir.glob("*.html"))
    for page in pages:
        io.write_text(embed_font(page.read_text(encoding="utf-8"), font_path, artifacts), page)
    return pages
