"""What the themes stage hands on: the exploratory model's and the seeded model's results.

Each result names its tables as fields marked `table()` (pipeline/common/outputs.py): the field's name is
the table's file name under results/tables/, so a table cannot be computed and then left unwritten. The
other fields are what later steps read: the chosen K, the LDAvis inputs, and the summary the run manifest
records.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import pandas as pd

from pipeline.common.outputs import table
from pipeline.themes.ldavis import LdavisInputs

__all__ = ["ThemesSummary", "ThemesResult", "SeededSummary", "SeededResult"]


def _manifest(summary: Any) -> dict[str, Any]:
    # Fields left None (the ablation's, when it does not run) are not recorded.
    return {f.name: getattr(summary, f.name) for f in fields(summary) if getattr(summary, f.name) is not None}


@dataclass(frozen=True)
class ThemesSummary:
    """The exploratory model's figures for the run manifest (`summary.themes`)."""

    chosen_k: int
    k_reason: str
    units: int
    # The sweep's units: a stratified sample when the corpus exceeds selection_max_units.
    sweep_sampled: bool
    sweep_units: int
    train_units: int
    heldout_units: int
    # Passes and E-step cap as the corpus size set them (pipeline/themes/scaling.py).
    sweep_passes_iterations: list[int]
    final_passes_iterations: list[int]
    vocabulary_sweep: int
    vocabulary_final: int
    shared_topics: int
    nmf_close: int
    chosen_k_plain: int | None = None
    k_reason_plain: str | None = None

    def manifest(self) -> dict[str, Any]:
        """The summary as the manifest records it (plain values; the ablation's only when it ran)."""
        return _manifest(self)


@dataclass(frozen=True)
class ThemesResult:
    """The exploratory model (`pipeline.themes.model.run_themes`): the K sweep, the final model and the
    cross-checks."""

    k_selection: pd.DataFrame = table()
    k_summary: pd.DataFrame = table()
    topics: pd.DataFrame = table()
    unit_topics: pd.DataFrame = table()
    place_topics: pd.DataFrame = table()
    topic_roles: pd.DataFrame = table()
    topic_quality: pd.DataFrame = table()
    nmf_match: pd.DataFrame = table()
    ablation: pd.DataFrame = table()
    group_topics: pd.DataFrame = table()
    vocabulary_pruning: pd.DataFrame = table()
    chosen_k: int
    k_reason: str
    summary: ThemesSummary
    model: Any  # gensim's LdaModel, topics in gensim's order (`topic_order` maps them)
    dictionary: Any  # the final model's gensim Dictionary
    topic_order: list[int]  # topic_order[new topic - 1] = gensim's topic index
    ldavis_inputs: LdavisInputs
    k_selection_plain: pd.DataFrame | None = table(when="themes.ablation")


@dataclass(frozen=True)
class SeededSummary:
    """The seeded model's figures for the run manifest (`summary.themes_seeded`)."""

    dimensions: int
    seeded_topics: int
    free_topics: int
    found: int
    found_dimensions: list[str]
    unit_agreement: float
    units_judged: int
    fits: int
    passes: int
    iterations: int
    coherence_units: int

    def manifest(self) -> dict[str, Any]:
        """The summary as the manifest records it."""
        return _manifest(self)


@dataclass(frozen=True)
class SeededResult:
    """The keyword-assisted model (`pipeline.themes.seeded_tables.run_seeded`)."""

    seeded_topics: pd.DataFrame = table()
    seeded_topic_quality: pd.DataFrame = table()
    seeded_place_topics: pd.DataFrame = table()
    seeded_group_topics: pd.DataFrame = table()
    seeded_sensitivity: pd.DataFrame = table()
    seeded_unit_agreement: pd.DataFrame = table()
    seeded_seeds: pd.DataFrame = table()
    ldavis_inputs: LdavisInputs
    summary: SeededSummary
