"""SIGINT and SIGTERM as a request to stop: the handler only calls back, the threads wind down."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def stop_on_signals(on_stop: Callable[[int], None]) -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM call `on_stop(signum)` instead of killing the process.

    Handlers can only be installed from the main thread; elsewhere the block runs
    without them (a caller on another thread stops the run itself). The previous
    handlers come back when the block ends.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    for sig in STOP_SIGNALS:
        signal.signal(sig, lambda signum, frame: on_stop(signum))
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
