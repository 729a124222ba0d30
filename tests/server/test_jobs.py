"""The job runner: one running job per kind, states, stop, failures, and ``server/jobs``."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from holomind.errors import BusyError, InvalidInputError, MissingFileError
from holomind.server.jobs import Job, JobRunner
from holomind.workspace import GlobalWorkspace


class Waiting(Job):
    """Waits for a stop (or a release), then reports how it ended."""

    kind = "waiting"

    def __init__(self, job_id: int, params: dict[str, Any], workspace: Any) -> None:
        super().__init__(job_id, params, workspace)
        self.entered = threading.Event()
        self.release = self.stop_requested  # a stop, or the test, lets it end

    def run(self) -> dict[str, Any]:
        self.entered.set()
        self.release.wait(30)
        if self.params.get("fail") == "user":
            raise InvalidInputError("the input was wrong")
        if self.params.get("fail") == "bug":
            raise ZeroDivisionError("division by zero")
        return {"params": self.params}


@pytest.fixture
def runner() -> Iterator[JobRunner]:
    with GlobalWorkspace() as ws:
        jobs = JobRunner(ws)
        yield jobs
        jobs.shutdown(5)


def finish(runner: JobRunner, job: Waiting) -> dict[str, Any]:
    """Let the job end by itself; its final account."""
    ended = threading.Event()
    job.on_change.append(lambda j: j.active or ended.set())
    job.release.set()
    assert ended.wait(5) or not job.active
    return job.to_dict()


def test_a_job_runs_in_its_own_thread_and_ends_done(runner: JobRunner) -> None:
    job = runner.start(Waiting, {"n": 1})
    assert job.entered.wait(5)
    assert job.state == "running" and job.active
    done = finish(runner, job)
    assert (done["state"], done["result"], done["error"]) == ("done", {"params": {"n": 1}}, None)
    assert done["ended"] >= done["started"]
    assert runner.workspace.read("server/jobs") == [
        {"id": 1, "kind": "waiting", "state": "done", "error": None}
    ]


def test_one_running_job_per_kind(runner: JobRunner) -> None:
    first = runner.start(Waiting, {})
    with pytest.raises(BusyError, match="waiting job 1 is still running"):
        runner.start(Waiting, {})
    assert runner.running("waiting") is first
    finish(runner, first)
    second = runner.start(Waiting, {})
    assert second.id == 2 and runner.latest("waiting") is second
    assert [j.id for j in runner.jobs()] == [2, 1]


def test_stop_keeps_the_result_and_says_stopped(runner: JobRunner) -> None:
    job = runner.start(Waiting, {})
    assert job.entered.wait(5)
    assert runner.stop(job.id).state in ("stopping", "stopped")
    runner.shutdown(5)
    assert job.state == "stopped" and job.result == {"params": {}}
    assert runner.stop(job.id).state == "stopped"  # a finished job is left as it is


@pytest.mark.parametrize(
    ("fail", "error"),
    [("user", "the input was wrong"), ("bug", "ZeroDivisionError: division by zero")],
)
def test_a_failing_job_is_reported_not_raised(runner: JobRunner, fail: str, error: str) -> None:
    job = runner.start(Waiting, {"fail": fail})
    done = finish(runner, job)
    assert (done["state"], done["error"], done["result"]) == ("failed", error, None)
    assert runner.workspace.read("server/jobs")[0]["error"] == error


def test_pause_is_refused_by_jobs_that_cannot_pause(runner: JobRunner) -> None:
    job = runner.start(Waiting, {})
    with pytest.raises(InvalidInputError, match="a waiting job cannot pause"):
        job.pause()
    finish(runner, job)


def test_unknown_and_missing_jobs(runner: JobRunner) -> None:
    with pytest.raises(MissingFileError, match="no job 7"):
        runner.get(7)
    with pytest.raises(BusyError, match="no waiting job is running"):
        runner.running("waiting")


def test_every_state_change_is_published_in_order(runner: JobRunner) -> None:
    seen: list[str] = []
    runner.workspace.subscribe("server/jobs", lambda jobs: seen.append(jobs[0]["state"]))
    job = runner.start(Waiting, {})
    assert job.entered.wait(5)
    runner.stop(job.id)
    runner.shutdown(5)
    runner.workspace.flush(5)
    assert seen == ["starting", "running", "stopping", "stopped"]
