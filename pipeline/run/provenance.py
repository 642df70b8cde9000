"""The run manifest: what went in, what came out, with which code and packages."""

from __future__ import annotations

import subprocess
from importlib import metadata
from pathlib import Path

from pipeline.common.io import sha256_file

__all__ = ["REPORTED_PACKAGES", "SOURCE_PATHS", "collect_seeds", "file_digests", "git_state", "package_versions"]

# Distributions whose versions a reader needs to reproduce the numbers.
REPORTED_PACKAGES = ("gensim", "jieba", "opencc", "scikit-learn", "scipy", "numpy", "pandas",
                     "matplotlib", "mplfonts", "stopwordsiso", "pyLDAvis", "nbclient", "nbconvert", "PyYAML")

# Paths whose last commit identifies the code and inputs behind a run. Results
# and executed notebooks are left out so that committing them does not change
# the commit the next regeneration reports.
SOURCE_PATHS = ("pipeline", "lexicon", "data", "params.yaml", "pyproject.toml", "requirements.lock")


def package_versions() -> dict[str, str]:
    """The versions of the packages a reader needs to reproduce the numbers.

    Returns
    -------
    dict[str, str]
        Version by distribution name (`REPORTED_PACKAGES`), "not installed" for one that is missing.
    """
    versions = {}
    for name in REPORTED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_state(root: Path) -> dict[str, object]:
    """The last commit that changed the study's code or inputs, and whether they have uncommitted edits.

    Parameters
    ----------
    root : Path
        The project root (the git work tree).

    Returns
    -------
    dict[str, object]
        `source_commit`, `source_paths` and `uncommitted_changes`; None where git cannot tell.
    """
    commit = _git(root, "log", "-1", "--format=%H", "--", *SOURCE_PATHS)
    status = _git(root, "status", "--porcelain", "--untracked-files=no", "--", *SOURCE_PATHS)
    return {"source_commit": commit or None,
            "source_paths": list(SOURCE_PATHS),
            "uncommitted_changes": bool(status) if status is not None else None}


def file_digests(files: list[Path], relative_to: Path) -> dict[str, str]:
    return {path.relative_to(relative_to).as_posix(): sha256_file(path) for path in sorted(files)}


def collect_seeds(params: dict) -> dict[str, object]:
    """Every seed in the parameters file, by its dotted key.

    Parameters
    ----------
    params : dict
        The parameters file as read (nested mappings).

    Returns
    -------
    dict[str, object]
        Each value whose key names a seed or a random_state, by its dotted path (such as `themes.split_seed`).
    """
    seeds: dict[str, object] = {}

    def walk(node: object, prefix: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{prefix}.{key}" if prefix else str(key))
        elif any(word in prefix.rsplit(".", 1)[-1] for word in ("seed", "random_state")):
            seeds[prefix] = node

    walk(params, "")
    return seeds
