"""Declared outputs: what a stage writes into results/, named once, on its result or in its declaration.

A stage's result class marks the fields that are result tables with `table()`
(the field's name is the file's name, results/tables/<name>.csv); a table
written only under some setting says so with `table(when=...)` and is None
when that setting is off. `Declaration` names every table, figure and page a
stage writes; `StageOutputs` holds what one run of the stage produced, and
pipeline.run.outputs writes it after checking it against the declaration.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Callable, Mapping

import pandas as pd

__all__ = ["Declaration", "StageOutputs", "table", "declared_tables", "conditional_tables", "tables_of"]

TABLE = "table"


def table(when: str | None = None) -> Any:
    """A dataclass field that is a result table; `when` names the setting without which it is None.

    Parameters
    ----------
    when : str, optional
        The condition under which the table is written (e.g. "themes.ablation").

    Returns
    -------
    dataclasses.Field
        A field carrying the mark that `declared_tables` reads.
    """
    return field(default=None, metadata={TABLE: when or ""}) if when else field(metadata={TABLE: ""})


def declared_tables(cls: type) -> tuple[str, ...]:
    """The names of a result class's table fields, in field order.

    Parameters
    ----------
    cls : type
        A dataclass whose table fields are marked with `table()`.

    Returns
    -------
    tuple of str
        The field names, which are the tables' file names without `.csv`.
    """
    return tuple(f.name for f in fields(cls) if TABLE in f.metadata)


def conditional_tables(cls: type) -> dict[str, str]:
    """Table name -> the condition it is written under, for the result class's conditional tables.

    Parameters
    ----------
    cls : type
        A dataclass whose table fields are marked with `table()`.

    Returns
    -------
    dict of str to str
        Only the tables declared with `table(when=...)`.
    """
    return {f.name: f.metadata[TABLE] for f in fields(cls) if f.metadata.get(TABLE)}


def tables_of(result: Any) -> dict[str, pd.DataFrame]:
    """The tables a result holds: every table field that is not None.

    Parameters
    ----------
    result : dataclass instance
        A stage's result.

    Returns
    -------
    dict of str to pandas.DataFrame
        Name -> table, in field order.
    """
    return {name: getattr(result, name) for name in declared_tables(type(result))
            if getattr(result, name) is not None}


@dataclass(frozen=True)
class Declaration:
    """Every output of one stage: tables (results/tables/<name>.csv), figures (results/figures/<name>)
    and pages (results/<name>); `conditional` maps an output that is not always written to the
    condition under which it is."""

    stage: str
    tables: tuple[str, ...] = ()
    figures: tuple[str, ...] = ()
    pages: tuple[str, ...] = ()
    conditional: Mapping[str, str] = field(default_factory=dict)

    def names(self) -> tuple[str, ...]:
        """Every output's path relative to results/."""
        return (tuple(f"tables/{t}.csv" for t in self.tables) + tuple(f"figures/{f}" for f in self.figures)
                + self.pages)


@dataclass(frozen=True)
class StageOutputs:
    """What one run of a stage produced: tables by name, figures as functions that draw to a path,
    pages as their text."""

    tables: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    figures: Mapping[str, Callable[[Path], Any]] = field(default_factory=dict)
    pages: Mapping[str, str] = field(default_factory=dict)
