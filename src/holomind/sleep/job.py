"""One sleep: replay a pixel network's records into a cartridge library through the trainer.

`sleep(network, library)` plans what to replay (`sleep.replay`), turns it into a
corpus of one domain (``memory`` by default) and trains it with the ordinary
`Trainer`: the domain gets a cartridge of its own the first time and the same
one afterwards, and no other domain's cartridge learns. The trainer commits as
it goes; the commit that ends the sleep also writes ``sleep.json`` (`sleep.marks`),
so the library's mark moves only together with the weights it describes.

Interrupted — Ctrl-C (the step in flight finishes and is saved) or SIGKILL (the
last commit stands) — the library keeps the sleep's plan in its run state; the
next `sleep` finds it and resumes exactly, and only then plans anew.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from holomind.cartridges import Library
from holomind.errors import InvalidInputError, MissingFileError
from holomind.learning import (
    Corpus,
    Plugin,
    ProgressLine,
    RouterStatistics,
    RunReport,
    Trainer,
    resolve_config,
    saved_run,
    standard_plugins,
)
from holomind.learning.plugins import metrics
from holomind.learning.trainer import FREE_ON_RESUME
from holomind.memory import PixelNetwork
from holomind.sleep.marks import SLEEP_FILE, mark_of, network_key, read_marks, with_sleep
from holomind.sleep.recall import RecallRouting, SparseStatistics, recall_contexts
from holomind.sleep.replay import REHEARSE, ReplayPlan, plan_replay, replay_text

DOMAIN = "memory"  # the cartridge domain replayed records train
STEPS_PER_RECORD = 20  # default steps per new record …
MIN_STEPS, MAX_STEPS = 100, 2000  # … within these bounds
READY = "Sleep: replaying"  # first words of the line printed once the network is read
STATISTICS_EVERY = 8  # steps whose windows count in the routing statistics (SparseStatistics)


@dataclass
class SleepResult:
    """What one call of `sleep` did (JSON-ready through `to_dict`)."""

    network: str
    library: str
    after: int  # mark before
    upto: int  # mark after (when finished)
    new: int  # records replayed as new
    rehearsed: int  # earlier records replayed once
    steps: int  # steps this sleep runs in all
    step: int  # steps done when it returned
    resumed: bool  # it continued an interrupted sleep
    finished: bool  # the mark moved to ``upto``
    stopped_early: bool  # Ctrl-C ended it; the next sleep continues
    nothing_new: bool = False  # there was nothing to replay; nothing was trained
    val_before: dict[str, float] = field(default_factory=dict)  # replay text's held-out loss
    val_after: dict[str, float] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)  # `RunReport.result()`

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return dict(vars(self))


class ReplayState(Plugin):
    """Carries the sleep's plan in the run's saved state, so an interrupted sleep can resume."""

    def __init__(self, plan: ReplayPlan, key: str) -> None:
        self.plan = plan
        self.key = key

    def state_dict(self) -> dict[str, Any]:
        """The plan and the network it is for."""
        return {"plan": self.plan.to_dict(), "network": self.key}


class SleepProgress(Plugin):
    """Publishes ``sleep/progress`` to the workspace (read by the dashboard's Sleep view)."""

    def __init__(self, workspace: Any, every: int, info: dict[str, Any]) -> None:
        self.workspace = workspace
        self.every = max(1, every)
        self.info = info  # network, library, new, rehearsed

    def _publish(self, loop: Any, status: str) -> None:
        m = metrics(loop)
        keys = ("step", "total", "phase", "loss", "eta_s", "tokens_per_s", "rss_mb")
        self.workspace.write(
            "sleep/progress", {**self.info, **{k: m[k] for k in keys}, "status": status}
        )

    def before_stage(self, loop: Any) -> None:
        """Announce the start."""
        self._publish(loop, "sleeping")

    def after_training_iteration(self, loop: Any) -> None:
        """Every few steps."""
        s = loop.state
        if s.step % self.every == 0 or s.step == s.total:
            self._publish(loop, "sleeping")

    def after_training(self, loop: Any) -> None:
        """The end: finished, or stopped (to be continued)."""
        self._publish(loop, "stopped" if loop.state.stopped_early else "done")


class SleepTrainer(Trainer):
    """The trainer, committing the sleep's bookkeeping with the cartridges it trained."""

    def __init__(self, *args: Any, bookkeeping: Callable[[Trainer], bytes], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bookkeeping = bookkeeping

    def extra_files(self) -> dict[str, bytes]:
        """``sleep.json`` with the mark moved, in the commit that ends the sleep only."""
        return {SLEEP_FILE: self.bookkeeping(self)} if self.state.done else {}


def default_steps(plan: ReplayPlan) -> int:
    """``STEPS_PER_RECORD`` per new record (a tenth of that per rehearsed one), within bounds."""
    wanted = STEPS_PER_RECORD * len(plan.new) + STEPS_PER_RECORD // 10 * len(plan.rehearsed)
    return max(MIN_STEPS, min(MAX_STEPS, wanted))


def open_network(path: Path) -> PixelNetwork:
    """The pixel network at ``path`` for reading; a missing, foreign or empty file is refused."""
    if not path.is_file():
        raise MissingFileError(f"{path} does not exist", hint="name a pixel network PNG")
    net = PixelNetwork(path, embedder="none")
    if len(net) == 0:
        raise InvalidInputError(
            f"{path} holds no records: there is nothing to consolidate",
            hint="teach it first with `holomind memory add` or `holomind chat`",
        )
    return net


def sleep(
    network: Path,
    library: Path,
    *,
    steps: int | None = None,
    settings: dict[str, Any] | None = None,
    rehearse: int = REHEARSE,
    domain: str = DOMAIN,
    recall_per_step: int = 8,
    plugins: Sequence[Plugin] = (),
    write: Callable[[str], None] | None = None,
    workspace: Any = None,
) -> SleepResult:
    """Consolidate ``network``'s new records into the cartridge library at ``library``.

    ``steps`` defaults to `default_steps` of the plan; ``settings`` are further
    `TrainConfig` fields (``lr``, ``batch``, ``seed``, …). ``write`` gets a progress
    line every ``log_every`` steps; ``workspace`` (anything with ``write(key,
    value)``) gets ``sleep/progress``. ``recall_per_step`` recall contexts are counted
    in the memory cartridge's routing statistics per step (`RecallRouting`; 0 = off).
    An unfinished sleep in the library is continued first (its own plan and steps;
    ``steps`` is ignored).
    """
    if not Library.exists(library):
        raise MissingFileError(
            f"{library} is not a cartridge library",
            hint="make one with `holomind train DATA --library LIB`",
        )
    net = open_network(network)
    key = network_key(net)
    marks = read_marks(library)
    run = saved_run(library)
    resume = run is not None and not run["state"]["done"]
    values = dict(settings or {})
    if resume:
        assert run is not None
        saved = run["plugins"].get(ReplayState.__name__)
        if not saved:
            raise InvalidInputError(
                f"{library} holds an unfinished training run, not a sleep",
                hint=f"finish it first with `holomind train DATA --library {library} --resume`",
            )
        if saved["network"] != key:
            raise InvalidInputError(
                f"{library} holds an unfinished sleep of another network",
                hint=f"finish it with that network first, or delete {library / 'run'} to drop it",
            )
        plan = ReplayPlan.from_dict(saved["plan"])
        values = {k: v for k, v in values.items() if k in FREE_ON_RESUME}
        config = resolve_config(library, values, resume=True)
    else:
        plan = plan_replay(net, mark_of(marks, key), rehearse=rehearse, seed=values.get("seed", 0))
        if not plan.new:
            return SleepResult(
                str(network), str(library), plan.after, plan.after, 0, 0, 0, 0,
                resumed=False, finished=True, stopped_early=False, nothing_new=True,
            )  # fmt: skip
        values["steps"] = steps if steps is not None else default_steps(plan)
        config = resolve_config(library, values)
    # Ten of the corpus's 8-window segments: the tenth is held out whole for validation.
    text = replay_text(net, plan, min_bytes=80 * (config.seq_len + 1))
    corpus = Corpus.from_texts([(f"sleep-{plan.upto}", text)], config.seq_len, domain=domain)
    if write is not None:  # the network is not read again after this line (MicroSleep's cue)
        write(
            f"{READY} {'continuing: ' if resume else ''}{len(plan.new)} new and "
            f"{len(plan.rehearsed)} rehearsed records of {network}, {config.steps} steps"
        )
    report = RunReport()
    info = {"network": str(network), "library": str(library), "new": len(plan.new)}
    info["rehearsed"] = len(plan.rehearsed)
    rules = [
        SparseStatistics(STATISTICS_EVERY) if isinstance(p, RouterStatistics) else p
        for p in standard_plugins(config)
    ]
    contexts = recall_contexts(text, config.seq_len)
    recall = RecallRouting(contexts, recall_per_step, STATISTICS_EVERY)
    chosen: list[Plugin] = [*rules, recall, ReplayState(plan, key), report]
    if write is not None:
        chosen.append(ProgressLine(config.log_every, lambda line: write(f"Sleep: {line}")))
    if workspace is not None:
        chosen.append(SleepProgress(workspace, config.log_every, info))
    chosen += plugins

    def bookkeeping(trainer: Trainer) -> bytes:
        entry = {
            "after": plan.after,
            "upto": plan.upto,
            "new": len(plan.new),
            "rehearsed": len(plan.rehearsed),
            "steps": config.steps,
            "domain": domain,
            "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "val_before": trainer.state.val_before,
            "val_after": trainer.state.val_after,
        }
        return with_sleep(marks, key, str(network), entry)

    trainer = SleepTrainer(config, corpus, library, chosen, resume=resume, bookkeeping=bookkeeping)
    state = trainer.fit()
    return SleepResult(
        str(network),
        str(library),
        plan.after,
        plan.upto,
        len(plan.new),
        len(plan.rehearsed),
        config.steps,
        state.step,
        resumed=resume,
        finished=state.done,
        stopped_early=state.stopped_early,
        val_before=state.val_before,
        val_after=state.val_after,
        report=report.result(),
    )
