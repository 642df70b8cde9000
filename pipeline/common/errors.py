"""Errors that name the offending file and say what to do next."""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """Bad input: the run stops before anything under results/ is replaced."""

    def __init__(self, path: Path | str, problem: str):
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")
