"""The project lock between processes: a second run stops naming the holder's pid, or waits with --wait;
the lock goes with its holder, however it exits, and a process forked from the holder does not keep it."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pipeline.common.config import PROJECT_ROOT
from pipeline.common.errors import RunBusy
from pipeline.run.guard import LOCK_FILE, project_lock

HOLD = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    from pipeline.run.guard import project_lock
    with project_lock(Path(sys.argv[1])):
        child = os.fork() if sys.argv[3] == "fork" else None
        if child == 0:
            Path(sys.argv[1], "child-started").touch()  # past os.fork's hooks in the child
            time.sleep(60)
            os._exit(0)
        while child and not Path(sys.argv[1], "child-started").exists():
            time.sleep(0.01)
        print("held", child or "", flush=True)
        time.sleep(float(sys.argv[2]))
        Path(sys.argv[1], "done-holding").touch()  # still inside the lock
""")


def holder(build: Path, seconds: float, fork: bool = False) -> tuple[subprocess.Popen, int | None]:
    """A process holding the lock for `seconds`, returned once it holds the lock, with the pid of the
    child it forked while holding it (`fork`)."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(build), str(seconds), "fork" if fork else "-"],
                               stdout=subprocess.PIPE, text=True, env=env)
    line = process.stdout.readline().split()
    assert line and line[0] == "held", "the holder exited before taking the lock"
    return process, int(line[1]) if fork else None


def test_a_second_run_stops_naming_the_holder(tmp_path):
    process, _ = holder(tmp_path, 60)
    try:
        busy = rf"another run of the study is going in this project \(pid {process.pid}\)"
        with pytest.raises(RunBusy, match=busy), project_lock(tmp_path):
            pass
        # Asking did not erase the holder's pid: a third run names it too.
        assert (tmp_path / LOCK_FILE).read_text().strip() == str(process.pid)
    finally:
        process.kill()
        process.wait()


def test_the_lock_goes_with_a_killed_holder(tmp_path):
    process, _ = holder(tmp_path, 60)
    process.send_signal(signal.SIGKILL)
    process.wait()
    start = time.monotonic()
    with project_lock(tmp_path) as path:
        assert path.read_text().strip() == str(os.getpid())
    assert time.monotonic() - start < 2


def test_a_forked_child_does_not_keep_the_lock(tmp_path):
    process, child = holder(tmp_path, 60, fork=True)
    try:
        process.send_signal(signal.SIGKILL)
        process.wait()
        os.kill(child, 0)  # still alive
        with project_lock(tmp_path):
            pass
    finally:
        os.kill(child, signal.SIGKILL)


def test_wait_starts_when_the_holder_is_done(tmp_path, caplog):
    process, _ = holder(tmp_path, 1.5)
    try:
        with caplog.at_level(logging.WARNING, logger="pipeline"), project_lock(tmp_path, wait=True):
            # The holder marks the end of its hold before it lets go: a lock taken earlier would not see it.
            assert (tmp_path / "done-holding").exists()
        assert process.wait(timeout=10) == 0
        assert f"another run (pid {process.pid}) holds" in caplog.text and "waiting" in caplog.text
    finally:
        process.kill()
        process.wait()
