"""Errors that name the offending file and say what to do next."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

__all__ = ["InputError", "RunBusy"]


class InputError(Exception):
    """Bad input: the run stops before anything under results/ is replaced.

    `problem` is one problem, or several (each becomes its own line, every
    line naming the file).
    """

    def __init__(self, path: Path | str, problem: str | Sequence[str]):
        self.path = Path(path)
        self.problems = [problem] if isinstance(problem, str) else list(problem)
        self.problem = "; ".join(self.problems)
        super().__init__("\n".join(f"{self.path}: {p}" for p in self.problems))


class RunBusy(InputError):
    """Another run holds the project's lock."""
