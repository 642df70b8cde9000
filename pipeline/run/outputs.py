"""Every stage's declared outputs, and the one writer that puts what a stage produced into results/.

A stage's tables, figures and pages are named once: here, or (for the themes
stage) on its result classes, whose table fields are the tables
(pipeline/themes/results.py). `write_outputs` writes what a stage produced
after checking it against the stage's declaration: an output the stage
produced but does not declare, or a declared output it did not produce
(outside the declared conditions), stops the run instead of being dropped or
missed in silence.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.common import io
from pipeline.common.config import Paths
from pipeline.common.outputs import Declaration, StageOutputs, conditional_tables, declared_tables
from pipeline.figures.themes import FIGURE_FILES, SEEDED_FIGURE, SEEDED_UNSTABLE_FIGURE
from pipeline.report.headline import HEADLINE_TABLES
from pipeline.themes.results import SeededResult, ThemesResult

__all__ = ["DECLARATIONS", "declaration", "declared_outputs", "write_outputs"]

DECLARATIONS: tuple[Declaration, ...] = (
    Declaration("corpus", tables=("cleaning_audit", "cleaning_review")),
    Declaration("segment", tables=("lexicon_coverage", "lexicon_profile", "profile_shares", "profile_sensitivity")),
    Declaration("documents", tables=("documents",)),
    Declaration("dictionary_validation", tables=("dictionary_validation",),
                conditional={"dictionary_validation": "data/validation/coded_sentences.csv exists"}),
    Declaration("corpus_figures", figures=("cleaning.png", "lexicon_profile.png", "profile_shares.png")),
    Declaration("emphases",
                tables=("place_terms", "place_terms_cut", "methods_agreement", "place_summary", "term_statistics",
                        "below_floor", "multiple_testing", "kwic", "place_concepts", "place_concepts_cut",
                        "concept_statistics", "expectation_hits", "expectation_summary", "generic_in_lists"),
                figures=("place_terms_logodds.png", "place_terms_heatmap.png", "place_concepts_logodds.png")),
    Declaration("themes", tables=declared_tables(ThemesResult) + declared_tables(SeededResult),
                figures=tuple(FIGURE_FILES.values()), pages=("lda.html", "lda_seeded.html"),
                conditional={**conditional_tables(ThemesResult), **conditional_tables(SeededResult)}),
    Declaration("validation", tables=("validation_agreement", "validation_dictionary", "validation_topics"),
                conditional=dict.fromkeys(("validation_agreement", "validation_dictionary", "validation_topics"),
                                          "a sheet folder of data/validation/ holds two coders' sheets")),
    Declaration("findings", tables=HEADLINE_TABLES, figures=(SEEDED_FIGURE, SEEDED_UNSTABLE_FIGURE),
                pages=("findings.md",),
                conditional=dict.fromkeys((SEEDED_FIGURE, SEEDED_UNSTABLE_FIGURE),
                                          "the seeded model has topics the findings name")),
)


def declaration(stage: str) -> Declaration:
    """The declaration of one stage.

    Parameters
    ----------
    stage : str
        The stage's name (`Declaration.stage`).

    Returns
    -------
    Declaration
    """
    return next(d for d in DECLARATIONS if d.stage == stage)


def declared_outputs() -> dict[str, str]:
    """Every declared output's path relative to results/ -> the condition it is written under ("" for always).

    Returns
    -------
    dict of str to str
    """
    out: dict[str, str] = {}
    for d in DECLARATIONS:
        for name in d.names():
            key = name.removeprefix("tables/").removesuffix(".csv") if name.startswith("tables/") \
                else name.removeprefix("figures/")
            out[name] = d.conditional.get(key, "")
    return out


def _check(declared: Declaration, produced: StageOutputs) -> None:
    kinds = (("tables", declared.tables, produced.tables), ("figures", declared.figures, produced.figures),
             ("pages", declared.pages, produced.pages))
    for kind, names, made in kinds:
        undeclared = sorted(set(made) - set(names))
        missing = [n for n in names if n not in made and n not in declared.conditional]
        if undeclared or missing:
            raise RuntimeError(f"stage {declared.stage}: {kind} " + "; ".join(
                part for part in (f"produced but not declared: {', '.join(undeclared)}" if undeclared else "",
                                  f"declared but not produced: {', '.join(missing)}" if missing else "") if part))


def write_outputs(out: Paths, stage: str, produced: StageOutputs) -> list[Path]:
    """Write what a stage produced: tables to tables/<name>.csv, figures to figures/<name>, pages to <name>.

    Tables are written first, so that a figure drawn from a written table reads
    this run's.

    Parameters
    ----------
    out : Paths
        The run's output folders.
    stage : str
        The stage whose declaration the outputs are checked against.
    produced : StageOutputs
        What the stage produced.

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    RuntimeError
        When the stage produced an output it does not declare, or lacks one it
        declares unconditionally.
    """
    _check(declaration(stage), produced)
    written = [io.write_csv(frame, out.tables / f"{name}.csv") for name, frame in produced.tables.items()]
    if produced.figures:
        out.figures.mkdir(parents=True, exist_ok=True)
    for name, draw in produced.figures.items():
        draw(out.figures / name)
        written.append(out.figures / name)
    written += [io.write_text(text, out.results / name) for name, text in produced.pages.items()]
    return written
