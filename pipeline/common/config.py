"""Every path the study reads or writes, derived from one project root.

Modules never build paths of their own: the runner makes a `Paths` and passes
it (or the single path a stage needs) down.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

__all__ = ["PROJECT_ROOT", "Paths"]

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Paths:
    root: Path
    results: Path

    @classmethod
    def at(cls, root: Path | str = PROJECT_ROOT, results: Path | str | None = None) -> "Paths":
        root = Path(root).resolve()
        return cls(root=root, results=Path(results).resolve() if results else root / "results")

    def with_results(self, results: Path) -> "Paths":
        return replace(self, results=Path(results))

    # inputs
    @property
    def raw(self) -> Path:
        return self.root / "data" / "raw"

    @property
    def manifest_csv(self) -> Path:
        return self.root / "data" / "corpus.csv"

    @property
    def params(self) -> Path:
        return self.root / "params.yaml"

    @property
    def lexicon(self) -> Path:
        return self.root / "lexicon"

    @property
    def validation(self) -> Path:
        """Hand coding of sentences against the codebook, and the dictionary's scores against it."""
        return self.root / "data" / "validation"

    @property
    def background_counts(self) -> Path:
        """Word counts of the background corpus of policy writing (the log-odds prior of concept emphases)."""
        return self.root / "data" / "background" / "counts.csv"

    @property
    def notebooks(self) -> Path:
        return self.root / "notebooks"

    # working files that are never committed
    @property
    def build(self) -> Path:
        return self.root / "build"

    @property
    def artifacts(self) -> Path:
        """Startup artifacts keyed by their inputs (pipeline/common/artifacts.py)."""
        return self.build / "artifacts"

    @property
    def jieba_cache(self) -> Path:
        return self.build / "jieba"

    # outputs
    @property
    def tables(self) -> Path:
        return self.results / "tables"

    @property
    def figures(self) -> Path:
        return self.results / "figures"

    @property
    def clean_corpus(self) -> Path:
        return self.results / "corpus" / "clean"

    @property
    def units_jsonl(self) -> Path:
        return self.results / "corpus" / "units.jsonl"

    @property
    def exports(self) -> Path:
        return self.results / "exports"

    @property
    def run_manifest(self) -> Path:
        return self.results / "manifest.json"
