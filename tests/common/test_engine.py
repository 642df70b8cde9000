"""The engine: results in job order, state built once per worker, jieba's user words kept in the workers,
a given scheduler used and left running, and no worker left when a run is interrupted or fails."""

from __future__ import annotations

import os
import signal
import time
import uuid

import psutil
import pytest

from pipeline.common import engine
from pipeline.common.engine import ordered_map

# A word jieba's own dictionary cuts in pieces (睦邻 / 议事 / 坊): whole only when added.
USER_WORD = "睦邻议事坊"


def _build(offset: int) -> int:
    return offset


def _add(job: int, offset: int) -> int:
    return job + offset


def _fails(job: int, state: None) -> int:
    if job == 5:
        raise ValueError("job 5 cannot be done")
    return job


def _slow(job: int, state: None) -> int:
    time.sleep(0.2)
    return job


def _nothing() -> None:
    return None


def _identity() -> dict:
    """A state that says which process built it, and which build it was."""
    return {"pid": os.getpid(), "build": uuid.uuid4().hex}


def _who(job: int, state: dict) -> tuple[int, str]:
    return state["pid"], state["build"]


def _tokenizer(words: list[str], cache: str):
    from pipeline.text.segment import build_plain_tokenizer, build_tokenizer

    return build_tokenizer(words, cache, 10) if words else build_plain_tokenizer(cache)


def _cut(text: str, tokenizer) -> tuple[int, list[str]]:
    # jieba's own cut, without the study's lexicon matcher: only the user dictionary keeps the word whole.
    return os.getpid(), tokenizer.lcut(text, HMM=False)


def _own_children() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True) if p.status() != psutil.STATUS_ZOMBIE}


def _left(before: set[int], seconds: float) -> set[int]:
    """Processes started since `before` that are still alive after at most `seconds`."""
    end = time.monotonic() + seconds
    while True:
        left = _own_children() - before
        if not left or time.monotonic() > end:
            return left
        time.sleep(0.05)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """One local cluster of two workers for the tests that only use it."""
    with engine.engine(workers=2, local_directory=tmp_path_factory.mktemp("dask")) as current:
        yield current


def test_ordered_map_keeps_job_order_on_workers_and_serially(cluster):
    jobs = list(range(40))
    assert ordered_map(_add, jobs, _build, (100,), 2, "test") == [j + 100 for j in jobs]
    assert ordered_map(_add, jobs, _build, (100,), 1, "test") == [j + 100 for j in jobs]
    assert cluster.cluster is not None and len(cluster.cluster.workers) == 2


def test_state_is_built_once_per_worker_and_not_in_this_process(cluster):
    with engine.pool(_identity, (), 2) as workers:
        first = workers.map(_who, list(range(64)), "test")
        again = workers.submit(_who, list(range(16)), "test")()
    builds: dict[int, set[str]] = {}
    for pid, build in first + again:
        builds.setdefault(pid, set()).add(build)
    assert os.getpid() not in builds
    assert 1 <= len(builds) <= 2 and all(len(b) == 1 for b in builds.values())


def test_a_word_added_to_jieba_comes_out_whole_from_a_worker(cluster, tmp_path):
    text = f"居民在{USER_WORD}商量社区的事"
    plain = ordered_map(_cut, [text] * 4, _tokenizer, ([], str(tmp_path)), 1, "test")
    assert all(USER_WORD not in tokens for _, tokens in plain)  # the test can fail
    cut = ordered_map(_cut, [text] * 4, _tokenizer, ([USER_WORD], str(tmp_path)), 2, "test")
    assert {pid for pid, _ in cut} != {os.getpid()}
    assert all(USER_WORD in tokens for _, tokens in cut)


def test_costliest_jobs_start_first_and_results_keep_job_order(cluster):
    with engine.pool(_build, (0,), 2) as workers:
        wait = workers.submit(_add, list(range(12)), "test", cost=lambda job: job)
        assert wait() == list(range(12))


def test_jobs_dealt_by_cost_over_many_tasks_come_back_in_job_order(cluster):
    jobs = list(range(200))  # 200 // 16 = 12 jobs a task, dealt costliest (here: odd, then high) first
    with engine.pool(_build, (1000,), 2) as workers:
        assert workers.map(_add, jobs, "test", cost=lambda job: (job % 2) * 1000 + job) == [j + 1000 for j in jobs]
        assert workers.map(_add, jobs, "test") == [j + 1000 for j in jobs]


def _collector(job: int, state: None) -> tuple[int, bool]:
    import gc

    return os.getpid(), gc.isenabled()


def test_per_article_work_runs_with_the_collector_paused_and_leaves_it_on(cluster):
    """map (cleaning, segmentation) pauses the garbage collector for its jobs, on workers and here alike;
    submit (whole fits) does not; the collector is on again afterwards, also when a job fails."""
    import gc

    assert gc.isenabled()
    with engine.pool(engine.same, (None,), 2) as workers:
        on_workers = workers.map(_collector, list(range(32)), "test")
        fits = workers.submit(_collector, list(range(4)), "test")()
        with pytest.raises(ValueError):
            workers.map(_fails, list(range(8)), "test")
    assert {pid for pid, _ in on_workers} != {os.getpid()}
    assert not any(enabled for _, enabled in on_workers) and all(enabled for _, enabled in fits)
    here = engine.Pool(engine.same, (None,)).map(_collector, list(range(4)), "test")
    assert here == [(os.getpid(), False)] * 4
    assert gc.isenabled()
    assert set(cluster.client(2).run(gc.isenabled).values()) == {True}


def _config(key: str) -> str:
    import dask

    return dask.config.get(key)


def test_the_local_cluster_workers_run_with_the_quieter_settings(cluster):
    """The worker processes themselves (not only this one) tick and sample less often than dask's defaults."""
    from pipeline.common.cluster import LOCAL_CLUSTER_CONFIG

    client = cluster.client(2)
    for key, value in LOCAL_CLUSTER_CONFIG.items():
        assert set(client.run(_config, key).values()) == {value}, key
    assert LOCAL_CLUSTER_CONFIG["distributed.admin.tick.interval"] != _config("distributed.admin.tick.interval")


def test_a_given_scheduler_runs_the_work_and_is_left_running(tmp_path, project_params):
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0",
                      local_directory=str(tmp_path)) as theirs:
        with engine.study_engine(project_params.updated({"dask": {"scheduler": theirs.scheduler_address}}),
                                 tmp_path / "build") as current:
            built = ordered_map(_who, list(range(6)), _identity, (), 2, "test")
            assert current.cluster is None  # none started here
        worker_pids = {p.pid for p in psutil.Process().children(recursive=True)}
        assert {pid for pid, _ in built} <= worker_pids and os.getpid() not in {pid for pid, _ in built}
        with Client(theirs.scheduler_address, set_as_default=False) as client:
            assert len(client.scheduler_info()["workers"]) == 1  # still up


def test_the_command_line_scheduler_replaces_the_parameters_one(project_params):
    from pipeline.cli import build_parser, with_scheduler

    params = project_params.updated({"dask": {"scheduler": None}, "themes": {"processes": 2}})
    for command in ("run", "check"):
        args = build_parser().parse_args([command, "--scheduler", "tcp://h:8786"])
        chosen = with_scheduler(params, args.scheduler)
        with engine.study_engine(chosen, "build") as current:
            assert current.scheduler == "tcp://h:8786"
    assert with_scheduler(params, None) is params and params.dask.scheduler is None


def test_an_unreachable_scheduler_is_named(monkeypatch, tmp_path):
    from pipeline.common import cluster

    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", 2)
    with pytest.raises(ConnectionError, match="tcp://127.0.0.1:9"):
        with engine.engine("tcp://127.0.0.1:9"):
            ordered_map(_add, [1, 2], _build, (0,), 2, "test")


def test_study_parameters_choose_the_cluster(project_params):
    params = project_params.updated({"clean": {"processes": 1}, "segment": {"processes": 3},
                                     "themes": {"processes": 2}, "dask": {"scheduler": None}})
    with engine.study_engine(params, "build") as current:
        assert current.scheduler is None and current.workers == 3 and current.cluster is None
    with engine.study_engine(params.updated({"dask": {"scheduler": "tcp://h:8786"}}), "build") as current:
        assert current.scheduler == "tcp://h:8786"


def test_a_failed_job_stops_the_run_and_ends_the_workers(tmp_path):
    before = _own_children()
    with pytest.raises(ValueError, match="job 5"):
        with engine.engine(workers=2, local_directory=tmp_path):
            ordered_map(_fails, list(range(40)), _nothing, (), 2, "test")
    assert _left(before, 5.0) == set()


def test_ctrl_c_cancels_pending_jobs_and_ends_the_workers_at_once(tmp_path):
    # Only this engine's workers count: the module's cluster is another's.
    before = _own_children()
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    alarm = signal.signal(signal.SIGALRM, lambda *_: os.kill(os.getpid(), signal.SIGINT))
    started = None
    try:
        with pytest.raises(KeyboardInterrupt):
            with engine.engine(workers=2, local_directory=tmp_path):
                assert ordered_map(_add, [1, 2], _build, (0,), 2, "test") == [1, 2]  # the workers are up
                started = time.monotonic()
                signal.setitimer(signal.ITIMER_REAL, 0.8)
                ordered_map(_slow, list(range(800)), _nothing, (), 2, "test")  # 80 s of work in 2 workers
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, alarm)
        signal.signal(signal.SIGINT, previous)
    assert started is not None and time.monotonic() - started < 15
    assert _left(before, 5.0) == set()


def test_time_map_times_both_ways_and_compares_them(tmp_path):
    timing = engine.time_map(_add, list(range(20)), _build, (7,), 2, tmp_path)
    assert timing["identical"] is True and timing["processes"] == 2
    assert 0 < timing["cluster_start_s"] <= timing["cluster_s"] and timing["serial_s"] > 0
