"""Helpers for running the study's command line on a throw-away project, in this process or in a subprocess,
and one small run of it that the slow tests share."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from pipeline.common.config import PROJECT_ROOT, Paths
from tests.conftest import copy_project_inputs, made_once


def write_params(root: Path, name: str = "small.yaml", **sections) -> Path:
    """The project's parameters with `sections` merged in, written under root; returns the file."""
    params = yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text(encoding="utf-8"))
    for section, values in sections.items():
        params.setdefault(section, {}).update(values)
    path = root / name
    path.write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
    return path


# A run of a few tens of seconds: a small sweep in 2 worker processes, no notebooks.
SMALL = {"themes": dict(k_min=2, k_max=3, seeds=[1, 2], passes=2, iterations=20, bootstrap_samples=20,
                        ablation=False, processes=2),
         "emphases": dict(bootstrap_samples=10), "report": dict(execute_notebooks=False)}
# A sweep that runs for minutes, to be interrupted.
# Only the themes section differs from SMALL, so a project warmed by a SMALL run reaches the sweep at once.
LONG = {"themes": dict(k_min=2, k_max=12, seeds=[1, 2, 3], passes=40, iterations=400, bootstrap_samples=20,
                       ablation=False, processes=2),
        "emphases": dict(bootstrap_samples=10), "report": dict(execute_notebooks=False)}


@pytest.fixture
def project(tmp_path) -> Paths:
    return copy_project_inputs(tmp_path / "project")


@dataclass(frozen=True)
class SmallRun:
    """A project copy after one SMALL run of the command line (its stage cache filled), the parameters file
    of that run, and the results folder it wrote."""

    project: Paths
    params: Path
    results: Path


@pytest.fixture(scope="session")
def small_run(tmp_path_factory) -> SmallRun:
    """One SMALL run, shared by the tests that need "a finished run": made once per session (`made_once`),
    so none of them pays for a run of its own. They read it, or change a copy."""

    def make(folder: Path) -> None:
        project = copy_project_inputs(folder / "project")
        params = write_params(project.root, **SMALL)
        done = subprocess.run(command(project, params, "--quiet", results=folder / "results"),
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr

    folder = made_once(tmp_path_factory, "small_run", make)
    return SmallRun(Paths.at(folder / "project"), folder / "project" / "small.yaml", folder / "results")


def command(project: Paths, params: Path, *extra: str, results: Path | None = None) -> list[str]:
    return [sys.executable, "-m", "pipeline", "run", "--root", str(project.root), "--params", str(params),
            "--results", str(results or project.root.parent / "out"), *extra]


def start(cmd: list[str], log: Path) -> subprocess.Popen:
    """Start a run in its own process group (as a shell does), stderr into `log`."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    # As a terminal starts it: with Ctrl-C's default action, even when these
    # tests themselves run in a background job (which starts with SIGINT ignored,
    # and a program started with a signal ignored keeps ignoring it).
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(log, "wb"), start_new_session=True,
                            cwd=PROJECT_ROOT, env=env, preexec_fn=_default_interrupt)


def _default_interrupt() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def wait_for_line(log: Path, text: str, process: subprocess.Popen, timeout: float = 240) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if text in log.read_text(encoding="utf-8", errors="replace"):
            return
        if process.poll() is not None:
            raise AssertionError(f"the run ended before {text!r}:\n{log.read_text(errors='replace')}")
        time.sleep(0.2)
    raise AssertionError(f"no {text!r} within {timeout} s")


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of a process group."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def descendants(pid: int) -> list[int]:
    """A process and every process it started, and they started, and so on (live ones)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text() if entry.name.isdigit() else ""
        except OSError:
            continue
        if stat:
            children.setdefault(int(stat[stat.rindex(")") + 2:].split()[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += children.get(current, [])
    return found


def alive(pids: list[int]) -> list[int]:
    """Those of `pids` still running (zombies count as gone)."""
    live = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        if state[state.rindex(")") + 2] != "Z":
            live.append(pid)
    return live


def wait_until_empty(pgid: int, timeout: float) -> list[int]:
    end = time.monotonic() + timeout
    while time.monotonic() < end and group_members(pgid):
        time.sleep(0.1)
    return group_members(pgid)


def kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass
