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

import os
import tempfile
from pathlib import Path
from typing import Any, Callable

from pipeline.common import engine, io
from pipeline.common.config import Paths
from pipeline.common.outputs import Declaration, StageOutputs, conditional_tables, declared_tables
from pipeline.figures.themes import FIGURE_FILES, SEEDED_FIGURE, SEEDED_UNSTABLE_FIGURE
from pipeline.report.headline import HEADLINE_TABLES
from pipeline.themes.results import SeededResult, ThemesResult

__all__ = ["DECLARATIONS", "Figures", "declaration", "declared_outputs", "write_outputs"]

DECLARATIONS: tuple[Declaration, ...] = (
    Declaration("corpus", tables=("cleaning_audit",)),
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
    # Written after the emphases and topics: the harm check reads their top lists.
    Declaration("review", tables=("cleaning_review",)),
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


class Figures:
    """Draws a run's figures: in this process as each stage ends, or on the run's workers meanwhile.

    A figure is a leaf of the run (only the notebooks read it) and costs a
    second or more of matplotlib in one process; on workers it is drawn while
    this process goes on with the next stage, whose own work would otherwise
    leave the second core idle. A worker draws into its own temporary folder
    and hands back the PNG's bytes, which this process writes, so that the
    workers need not see the results folder (those of a remote cluster do not).
    """

    def __init__(self, pool: engine.Pool | None = None):
        self._pool = pool
        self._pending: list[tuple[Path, Callable[[], list[Any]]]] = []

    def draw(self, draw: Callable[[Path], Any], path: Path) -> None:
        """Draw one figure to `path`: now in this process, or on a worker (written by `finish`).

        Parameters
        ----------
        draw : Callable[[Path], Any]
            Draws and saves the figure at the path it is given; picklable when the pool has workers.
        path : Path
            The PNG file of the results.
        """
        if self._pool is None or not self._pool.parallel:
            draw(path)
            return
        self._pending.append((path, self._pool.submit(_draw_png, [(draw, path.name)], f"figure {path.name}")))

    def finish(self) -> list[Path]:
        """Wait for the figures drawn on workers and write them (each atomically); a failed one raises here.

        Returns
        -------
        list of Path
            The files written.
        """
        written = []
        pending, self._pending = self._pending, []
        for path, wait in pending:
            (data,) = wait()
            path.parent.mkdir(parents=True, exist_ok=True)
            part = path.with_name(f".{path.name}.{os.getpid()}.part")
            part.write_bytes(data)
            os.replace(part, path)
            written.append(path)
        return written


def _draw_png(job: tuple[Callable[[Path], Any], str], state: Any) -> bytes:
    """In a worker: draw one figure into a temporary folder and return the PNG's bytes."""
    draw, name = job
    with tempfile.TemporaryDirectory(prefix="figure-") as folder:
        path = Path(folder) / name
        draw(path)
        return path.read_bytes()


def write_outputs(out: Paths, stage: str, produced: StageOutputs, figures: Figures | None = None) -> list[Path]:
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
    figures : Figures or None, optional
        Where the figures are drawn (None: here, now); those drawn on workers
        are written when the run calls `Figures.finish`.

    Returns
    -------
    list of Path
        The files written, or (figures on workers) to be written.

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
    drawer = figures or Figures()
    for name, draw in produced.figures.items():
        drawer.draw(draw, out.figures / name)
        written.append(out.figures / name)
    written += [io.write_text(text, out.results / name) for name, text in produced.pages.items()]
    return written
