"""Fault injection, processes: Ctrl-C, SIGKILL and concurrent runs of the real pipeline in subprocesses
(survivors looked for by process group), and what a run does to a results folder it does not own."""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import time

import pytest

from pipeline.common.config import Paths
from pipeline.common.params import load_params
from pipeline.run.runner import up_to_date
from tests.run.cli_runs import (LONG, SMALL, alive, command, descendants, group_members, kill_group, start,
                                wait_for_line, wait_until_empty, write_params)
from tests.run.cli_runs import small_run  # noqa: F401  (fixture)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def warm(tmp_path_factory, small_run):
    """A project copy with its stage cache filled by one small run, and that run's results.

    The project is a copy of the shared small run's, whose cache and lock are then this module's own (the
    stage cache is keyed by paths relative to the project, so the copy's runs reuse it). The results are
    the shared run's own folder: the tests copy it before changing anything in it.
    """
    root = tmp_path_factory.mktemp("faults")
    shutil.copytree(small_run.project.root, root / "project")
    project = Paths.at(root / "project")
    small = project.root / small_run.params.name
    long = write_params(project.root, "long.yaml", **LONG)
    return project, small, long, small_run.results


def leftovers(folder, project: Paths) -> list:
    """Staging copies beside folder/out and temporary folders of the project's runs."""
    scratch = project.build / "tmp"
    return list(folder.glob("out.*")) + (list(scratch.iterdir()) if scratch.exists() else [])


def run(project: Paths, params, results, *extra) -> subprocess.CompletedProcess:
    return subprocess.run(command(project, params, *extra, results=results), capture_output=True, text=True)


def interrupted_sweep(project, params, results, log, how):
    process = start(command(project, params, results=results), log)
    try:
        wait_for_line(log, "stage themes: started", process)
        time.sleep(3)  # the workers are fitting
        assert len(group_members(process.pid)) >= 3  # the run and its two workers at least
        sent = time.monotonic()
        how(process)
        code = process.wait(timeout=30)
        return code, time.monotonic() - sent, wait_until_empty(process.pid, 15)
    finally:
        kill_group(process.pid)


@pytest.mark.parametrize("signum,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_one_interrupt_during_a_long_sweep_stops_within_seconds(warm, tmp_path, signum, code):
    project, _, long, _ = warm
    log = tmp_path / "log"
    # Ctrl-C in a terminal reaches the whole process group; SIGTERM is sent to the run only.
    how = (lambda p: os.killpg(p.pid, signum)) if signum == signal.SIGINT else (lambda p: p.send_signal(signum))
    returned, seconds, survivors = interrupted_sweep(project, long, tmp_path / "out", log, how)
    assert returned == code and seconds < 10 and survivors == []
    text = log.read_text(encoding="utf-8")
    assert "Traceback" not in text and "KeyboardInterrupt" not in text
    last = [line for line in text.splitlines() if line.startswith(("interrupted:", "terminated:"))]
    assert len(last) == 1 and "was left as it was" in last[0] and "build/cache/" in last[0]
    assert not (tmp_path / "out").exists()
    assert leftovers(tmp_path, project) == []


def test_one_ctrl_c_while_notebooks_run_leaves_no_kernel(warm, tmp_path):
    project, _, _, _ = warm
    params = write_params(tmp_path, **{**SMALL, "report": dict(execute_notebooks=True, kernels=2)})
    process = start(command(project, params, results=tmp_path / "out"), tmp_path / "log")
    try:
        wait_for_line(tmp_path / "log", "Executing notebook", process)
        time.sleep(2)
        tree = descendants(process.pid)
        assert len(tree) >= 2  # the run and at least one kernel
        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(timeout=30) == 130
        deadline = time.monotonic() + 15
        while alive(tree) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert alive(tree) == []
    finally:
        kill_group(process.pid)
    text = (tmp_path / "log").read_text(encoding="utf-8")
    assert "Traceback" not in text and text.strip().splitlines()[-1].startswith("interrupted:"), text
    assert leftovers(tmp_path, project) == []


def test_workers_die_with_a_killed_run_and_the_next_run_clears_its_leftovers(warm, tmp_path):
    project, small, long, _ = warm
    returned, _, survivors = interrupted_sweep(project, long, tmp_path / "out", tmp_path / "log",
                                               lambda p: p.send_signal(signal.SIGKILL))
    assert returned == -signal.SIGKILL and survivors == []  # workers and resource tracker gone too
    assert leftovers(tmp_path, project)  # the killed run could not clean up after itself
    # The next run (stopped here by an input error after its clean-up) removes them.
    (project.raw / ".stray").write_text("x")
    try:
        done = run(project, small, tmp_path / "out")
    finally:
        (project.raw / ".stray").unlink()
    assert done.returncode == 2 and ".stray is hidden" in done.stderr
    assert leftovers(tmp_path, project) == []


def test_a_second_run_stops_with_a_message_or_waits(warm, tmp_path):
    project, small, long, _ = warm
    first = start(command(project, long, results=tmp_path / "a"), tmp_path / "log")
    try:
        wait_for_line(tmp_path / "log", "stage themes: started", first)
        second = run(project, small, tmp_path / "b")
        assert second.returncode == 2
        assert f"another run of the study is going in this project (pid {first.pid})" in second.stderr
        third = start(command(project, small, "--wait", results=tmp_path / "c"), tmp_path / "log3")
        wait_for_line(tmp_path / "log3", "waiting for it to finish", third)
        os.killpg(first.pid, signal.SIGINT)
        assert first.wait(timeout=30) == 130 and third.wait(timeout=180) == 0
    finally:
        kill_group(first.pid)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
    assert (tmp_path / "c" / "manifest.json").exists()


def test_a_run_refuses_to_delete_a_file_it_did_not_write(warm, tmp_path):
    project, small, _, first = warm
    results = tmp_path / "results"
    shutil.copytree(first, results)
    (results / "tables" / "my_notes.txt").write_text("mine")
    done = run(project, small, results, "--force")
    assert done.returncode == 2 and "tables/my_notes.txt" in done.stderr and "no run of the study wrote" in done.stderr
    assert (results / "tables" / "my_notes.txt").read_text() == "mine"


def test_permissions_of_the_results_folder_are_kept(warm, tmp_path):
    project, small, _, first = warm
    results = tmp_path / "results"
    results.mkdir(mode=0o751)
    results.chmod(0o751)
    assert run(project, small, results, "--force").returncode == 0
    assert stat.S_IMODE(results.stat().st_mode) == 0o751
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(first.stat().st_mode) == 0o777 & ~umask  # a new folder: the umask's, not 700


def test_a_read_only_results_folder_gets_a_clear_error(warm, tmp_path):
    project, small, _, first = warm
    results = tmp_path / "results"
    shutil.copytree(first, results)
    results.chmod(0o555)
    try:
        done = run(project, small, results, "--force")
    finally:
        results.chmod(0o755)
    assert done.returncode == 2 and "is read-only, so the run will not replace it" in done.stderr
    assert not list(tmp_path.glob("results.*"))  # no staging or previous copy left


def test_an_edited_manifest_is_not_up_to_date(warm, tmp_path):
    project, small, _, first = warm
    params = load_params(small)
    results = tmp_path / "results"
    shutil.copytree(first, results)
    assert up_to_date(project, params, results)
    manifest = json.loads((results / "manifest.json").read_text(encoding="utf-8"))
    manifest["summary"]["themes"]["chosen_k"] = 99
    (results / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert not up_to_date(project, params, results)
    shutil.copyfile(first / "manifest.json", results / "manifest.json")
    (results / "tables" / "extra.csv").write_text("a\n")
    assert not up_to_date(project, params, results)  # a file the manifest does not list


def test_a_comment_edited_in_the_parameters_file_is_not_up_to_date(warm, tmp_path):
    """The fingerprint reads the parameters' values, the manifest the file's digest: `make results` must not
    call results up to date that `make check` would then find different."""
    project, small, _, first = warm
    params = load_params(small)
    results = tmp_path / "results"
    shutil.copytree(first, results)
    assert up_to_date(project, params, results)
    original = small.read_bytes()
    try:
        small.write_bytes(original + b"# a reader's note\n")
        assert load_params(small) == params  # the same values
        assert not up_to_date(project, params, results)
    finally:
        small.write_bytes(original)
    assert up_to_date(project, params, results)
