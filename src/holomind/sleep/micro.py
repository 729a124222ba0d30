"""Micro-sleep: consolidate a chat's memories into the cartridges while the user is idle.

Pragnosia's "micro-sleep". The chat calls `idle()` when it starts waiting for
the user and `busy()` when a turn begins; both only take the time and signal the
child, so a turn's critical path pays a few microseconds. A watcher thread
starts ``holomind sleep`` in a child process (priority lowered by ``nice``) once
the chat has been idle ``idle_s`` seconds and a turn happened since the last
sleep began (or that sleep only finished an interrupted one).

When a turn begins, a child that has read the network (it prints ``Sleep:
replaying …`` after its last read) is paused with SIGSTOP and continued with
SIGCONT at the next idle spell: it takes no CPU from the turn and holds no lock
the chat needs. A child still starting up has only read so far: it is ended
(SIGTERM) and the next idle spell starts another. `close` continues a paused
child and interrupts it (SIGINT: it saves its step and exits; the next sleep
resumes it), SIGKILL after ``grace_s`` seconds (which loses nothing either: the
last commit stands).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from holomind.learning import saved_run
from holomind.sleep.job import READY


class MicroSleep:
    """Runs sleeps of ``network`` into ``library`` in a child process while the chat is idle."""

    def __init__(
        self,
        network: Path,
        library: Path,
        *,
        idle_s: float = 5.0,
        steps: int | None = None,
        nice: int = 10,
        grace_s: float = 30.0,
        log: Path | None = None,
    ) -> None:
        self.network = Path(network)
        self.library = Path(library)
        self.idle_s = idle_s
        self.steps = steps
        self.nice = nice
        self.grace_s = grace_s
        self.log = log or self.library / "micro-sleep.log"
        self.child: subprocess.Popen | None = None
        self.sleeps = 0  # children started
        self.finished = 0  # children that ended their sleep (exit 0)
        self._idle_since: float | None = None
        self._ready = False  # the child has read the network: pausing it is safe
        self.paused = False  # the child is stopped (SIGSTOP) while a turn runs
        self._pending = True  # something may be new since the last finished sleep
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closing = False
        self._offset = 0  # where the running child's output begins in the log
        self._thread = threading.Thread(target=self._watch, name="micro-sleep", daemon=True)

    def start(self) -> MicroSleep:
        """Start the watcher thread; returns self."""
        self._thread.start()
        return self

    def idle(self) -> None:
        """The chat now waits for the user (call before reading input): a paused sleep goes on."""
        self._idle_since = time.monotonic()
        if self.paused:
            self._signal(signal.SIGCONT)
            self.paused = False
        self._wake.set()

    def busy(self) -> None:
        """A turn begins (the chat's critical path): pause the sleep, or end one starting up."""
        self._idle_since = None
        self._pending = True
        child = self.child
        if child is not None and child.poll() is None and not self.paused:
            self.paused = self._ready
            # before its "ready" line a child has only read: ending it loses nothing
            self._signal(signal.SIGSTOP if self._ready else signal.SIGTERM)

    def _signal(self, sig: int) -> None:
        child = self.child
        if child is not None and child.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child.pid, sig)

    def wrap(self, read: Callable[[str], str]) -> Callable[[str], str]:
        """``read`` (e.g. ``input``) with the time spent in it counted as idle."""

        def reading(prompt: str) -> str:
            self.idle()
            try:
                return read(prompt)
            finally:
                self.busy()

        return reading

    def command(self) -> list[str]:
        """The child's command line."""
        cmd = [sys.executable, "-m", "holomind", "sleep", str(self.network)]
        cmd += ["--library", str(self.library), "--log-every", "10"]
        return cmd + (["--steps", str(self.steps)] if self.steps else [])

    def _watch(self) -> None:
        while not self._closing:
            self._wake.wait(timeout=0.5)
            self._wake.clear()
            child = self.child
            if child is not None:
                if child.poll() is None:
                    if not self._ready:
                        self._ready = READY in self._log_since()
                    continue
                self.finished += child.returncode == 0
                self.child, self._ready, self.paused = None, False, False
            since = self._idle_since
            if self._closing or since is None or not self._pending:
                continue
            if time.monotonic() - since < self.idle_s:
                self._wake.set()  # check again shortly
                time.sleep(min(0.5, self.idle_s))
                continue
            with self._lock:
                if self._closing:
                    return
                # A sleep that continues an interrupted one replays that one's plan only:
                # whatever came since needs another sleep after it.
                run = saved_run(self.library)
                self._pending = run is not None and not run["state"]["done"]
                self.sleeps += 1
                self._offset = self.log.stat().st_size if self.log.exists() else 0
                env = {**os.environ, "PYTHONUNBUFFERED": "1"}
                with self.log.open("ab") as out:
                    self.child = subprocess.Popen(
                        self.command(),
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        stdin=subprocess.DEVNULL,
                        env=env,
                    )
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.setpriority(os.PRIO_PROCESS, self.child.pid, self.nice)

    def _log_since(self) -> str:
        """What the running child has written to the log."""
        with self.log.open("rb") as f:
            f.seek(self._offset)
            return f.read().decode(errors="replace")

    def close(self) -> None:
        """Stop watching; a running sleep is interrupted (it commits) and waited for."""
        with self._lock:
            self._closing = True
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join()
        child = self.child
        if child is None:
            return
        if child.poll() is None:
            if self.paused:
                child.send_signal(signal.SIGCONT)
            child.send_signal(signal.SIGINT)
            try:
                child.wait(timeout=self.grace_s)
            except subprocess.TimeoutExpired:
                child.kill()  # safe: the library keeps its last commit
                child.wait()
        self.finished += child.returncode == 0
        self.child, self._ready, self.paused = None, False, False
