"""Jobs the dashboard starts: each runs in a thread of the server process, on its workspace.

A `Job` subclass names its ``kind`` and implements `run` (blocking, in the job's
thread), checking ``stop_requested`` between its steps; jobs that can hold still
between steps also implement `pause` and `resume`. `JobRunner` starts them, allows one running job
per kind (two trainers on one library would overwrite each other), and
publishes the list of jobs as ``server/jobs`` after every change of state.
"""

from __future__ import annotations

import abc
import itertools
import logging
import threading
import time
from typing import Any, ClassVar

from holomind.errors import BusyError, HoloMindError, InvalidInputError, MissingFileError
from holomind.workspace import GlobalWorkspace

log = logging.getLogger(__name__)

ACTIVE = ("starting", "running", "pausing", "paused", "stopping")
KEPT = 20  # finished jobs remembered per kind


class Job(abc.ABC):
    """One long piece of work: a state, its parameters, and what it has to say."""

    kind: ClassVar[str] = "job"

    def __init__(self, job_id: int, params: dict[str, Any], workspace: GlobalWorkspace) -> None:
        self.id = job_id
        self.params = params
        self.workspace = workspace
        self.state = "starting"
        self.error: str | None = None
        self.result: dict[str, Any] | None = None
        self.started = time.time()
        self.ended: float | None = None
        self.on_change: list[Any] = []
        self.stop_requested = threading.Event()  # set by `request_stop`; `run` checks it

    @abc.abstractmethod
    def run(self) -> dict[str, Any]:
        """Do the work (in the job's thread); return a JSON-ready summary."""

    def request_stop(self) -> None:
        """Ask the work to end soon, keeping what it has done."""
        self.stop_requested.set()

    def pause(self) -> None:
        """Hold the work still between steps."""
        raise InvalidInputError(f"a {self.kind} job cannot pause")

    def resume(self) -> None:
        """Let held work go on."""
        raise InvalidInputError(f"a {self.kind} job cannot pause or resume")

    def progress(self) -> dict[str, Any]:
        """What the job is doing now, for the page (JSON-ready)."""
        return {}

    @property
    def active(self) -> bool:
        """Whether the job has not finished."""
        return self.state in ACTIVE

    def set_state(self, state: str) -> None:
        """Move to ``state`` and tell the runner."""
        if state != self.state:
            self.state = state
            for callback in self.on_change:
                callback(self)

    def to_dict(self) -> dict[str, Any]:
        """The job as the API and ``server/jobs`` show it."""
        return {
            "id": self.id,
            "kind": self.kind,
            "state": self.state,
            "params": self.params,
            "started": self.started,
            "ended": self.ended,
            "error": self.error,
            "result": self.result,
            "progress": self.progress(),
        }

    def _main(self) -> None:
        self.set_state("running")
        try:
            self.result = self.run()
        except HoloMindError as exc:
            self.error = str(exc)
        except Exception as exc:  # a job must never take the server down with it
            log.exception("%s job %d failed", self.kind, self.id)
            self.error = f"{type(exc).__name__}: {exc}"
        self.ended = time.time()
        if self.error is not None:
            self.set_state("failed")
        else:
            self.set_state("stopped" if self.state == "stopping" else "done")


class JobRunner:
    """Starts jobs in threads, one running job per kind, and publishes ``server/jobs``."""

    def __init__(self, workspace: GlobalWorkspace) -> None:
        self.workspace = workspace
        self._jobs: dict[int, Job] = {}
        self._threads: dict[int, threading.Thread] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def start(self, job_type: type[Job], params: dict[str, Any]) -> Job:
        """Create and start a job; refused while another job of its kind is running."""
        with self._lock:
            running = self._running(job_type.kind)
            if running is not None:
                raise BusyError(
                    f"{job_type.kind} job {running.id} is still running",
                    hint="stop it first, or wait for it to end",
                )
            job = job_type(next(self._ids), params, self.workspace)
            job.on_change.append(self._changed)
            self._jobs[job.id] = job
            self._forget_old(job.kind)
            thread = threading.Thread(
                target=job._main, name=f"job-{job.kind}-{job.id}", daemon=True
            )
            self._threads[job.id] = thread
        self._publish()
        thread.start()
        return job

    def get(self, job_id: int) -> Job:
        """The job with this id."""
        job = self._jobs.get(job_id)
        if job is None:
            raise MissingFileError(f"no job {job_id}", hint="see GET /api/jobs")
        return job

    def jobs(self) -> list[Job]:
        """Every job remembered, newest first."""
        return sorted(self._jobs.values(), key=lambda j: -j.id)

    def latest(self, kind: str) -> Job | None:
        """The newest job of a kind, running or not."""
        return next((j for j in self.jobs() if j.kind == kind), None)

    def running(self, kind: str) -> Job:
        """The running job of a kind; refused when there is none."""
        job = self._running(kind)
        if job is None:
            raise BusyError(f"no {kind} job is running", hint=f"start a {kind} job first")
        return job

    def stop(self, job_id: int) -> Job:
        """Ask a job to stop (it keeps what it did); a finished job is left as it is."""
        job = self.get(job_id)
        if job.active and job.state != "stopping":
            job.set_state("stopping")
            job.request_stop()
        return job

    def shutdown(self, timeout: float = 30.0) -> None:
        """Stop every running job and wait up to ``timeout`` seconds for them to save and end."""
        for job in self.jobs():
            if job.active:
                self.stop(job.id)
        deadline = time.monotonic() + timeout
        for thread in list(self._threads.values()):
            thread.join(max(0.0, deadline - time.monotonic()))

    def _running(self, kind: str) -> Job | None:
        return next((j for j in self._jobs.values() if j.kind == kind and j.active), None)

    def _forget_old(self, kind: str) -> None:
        done = [j for j in self.jobs() if j.kind == kind and not j.active]
        for job in done[KEPT:]:
            del self._jobs[job.id]
            self._threads.pop(job.id, None)

    def _changed(self, job: Job) -> None:
        self._publish()

    def _publish(self) -> None:
        summary = [
            {"id": j.id, "kind": j.kind, "state": j.state, "error": j.error} for j in self.jobs()
        ]
        self.workspace.write("server/jobs", summary)
