"""How the activity log's items travel down a pipe from the simulating process to its writer.

An item (a tuple holding numpy arrays, bytes, numbers) is pickled with protocol 5,
its arrays and large byte strings out of band, and written behind a frame that
says how long the pickle and each of those buffers are: the kernel copies them
once, straight from the arrays into the pipe. An ordinary pickle copies each array
twice first (into bytes, then into the pickle's buffer); at a chunk boundary, with
Brian2's sweep through memory just over, that cost 0.33 ms of a COBA chunk's
0.5-ms send, against 0.07-0.18 ms for the small pickle here (the pipe write itself,
~0.23 ms for ~100 KB, is the same either way).
"""

from __future__ import annotations

import os
import pickle
import struct
from typing import Any

_FRAME = struct.Struct("<QI")  # pickle bytes, out-of-band buffers (their sizes follow)
_IOV_MAX = 1024  # parts per writev (POSIX guarantees at least 16; Linux allows 1,024)


def send_item(fd: int, item: Any) -> None:
    """Write `item` to the pipe `fd` (OSError if the reader is gone).

    Wrap a large `bytes` in `pickle.PickleBuffer` to send it out of band too.
    """
    buffers: list[pickle.PickleBuffer] = []
    header = pickle.dumps(item, protocol=5, buffer_callback=buffers.append)
    raws = [buffer.raw() for buffer in buffers]
    sizes = [raw.nbytes for raw in raws]
    frame = _FRAME.pack(len(header), len(sizes)) + struct.pack(f"<{len(sizes)}Q", *sizes)
    parts = [part for part in (memoryview(frame), memoryview(header), *raws) if part.nbytes]
    done = 0  # parts written whole
    while done < len(parts):
        written = os.writev(fd, parts[done : done + _IOV_MAX])
        while done < len(parts) and written >= parts[done].nbytes:
            written -= parts[done].nbytes
            done += 1
        if written:  # a part written in part (a signal came): the rest of it next
            parts[done] = parts[done][written:]


def recv_item(fd: int) -> Any:
    """Read one item that `send_item` wrote to the pipe `fd` (EOFError: the pipe closed).

    Its arrays view one buffer read from the pipe; out-of-band byte strings come
    back as memoryviews.
    """
    header_bytes, count = _FRAME.unpack(_read_exactly(fd, _FRAME.size))
    sizes = struct.unpack(f"<{count}Q", _read_exactly(fd, 8 * count))
    header = _read_exactly(fd, header_bytes)
    body = memoryview(_read_exactly(fd, sum(sizes)))
    buffers, at = [], 0
    for size in sizes:
        buffers.append(body[at : at + size])
        at += size
    return pickle.loads(header, buffers=buffers)


def _read_exactly(fd: int, n: int) -> bytearray:
    out = bytearray(n)
    view, got = memoryview(out), 0
    while got < n:
        read = os.readv(fd, [view[got:]])
        if not read:
            raise EOFError("the pipe closed")
        got += read
    return out
