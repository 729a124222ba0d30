"""Sleep as a dashboard job: the server's pixel network consolidated into its cartridge library.

`holomind.sleep.sleep` in a thread, publishing ``sleep/progress`` on the
server's workspace; a stop ends it the way Ctrl-C ends `holomind sleep` (the
step in flight is saved; the next sleep continues it).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from holomind.learning import Plugin
from holomind.server.jobs import Job


class StopOn(Plugin):
    """Stops the loop after the step in flight once ``event`` is set."""

    def __init__(self, event: threading.Event) -> None:
        self.event = event

    def after_training_iteration(self, loop: Any) -> None:
        """Ask the loop to save and stop when the event is set."""
        if self.event.is_set():
            loop.request_stop()


class SleepJob(Job):
    """`holomind sleep NETWORK --library LIB` as a job; params are the two paths and steps."""

    kind = "sleep"  # routes.sleep.KIND

    def run(self) -> dict[str, Any]:
        """Sleep until done or stopped; the library is saved either way."""
        import torch

        from holomind.sleep import sleep

        p = self.params
        torch.set_num_threads(p["threads"])
        result = sleep(
            Path(p["network_path"]),
            Path(p["library_path"]),
            steps=p.get("steps"),
            settings={"threads": p["threads"], "log_every": p["log_every"]},
            workspace=self.workspace,
            plugins=[StopOn(self.stop_requested)],
        )
        return result.to_dict()
