"""Sleep: the hippocampus (pixel network) consolidates into the neocortex (cartridges).

`sleep` replays a network's new records into a cartridge library, incrementally
and safely interruptible; `MicroSleep` does the same in a chat's idle time.
"""

from holomind.sleep.job import DOMAIN, SleepResult, default_steps, open_network, sleep
from holomind.sleep.marks import SLEEP_FILE, read_marks
from holomind.sleep.micro import MicroSleep
from holomind.sleep.replay import ReplayPlan, plan_replay, recall_prompt, record_text

__all__ = [
    "DOMAIN",
    "SLEEP_FILE",
    "MicroSleep",
    "ReplayPlan",
    "SleepResult",
    "default_steps",
    "open_network",
    "plan_replay",
    "read_marks",
    "recall_prompt",
    "record_text",
    "sleep",
]
