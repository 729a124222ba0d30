"""Many files replaced as one: staged copies, a commit manifest, then the moves (a redo log).

A library changes many files at once (cartridges, their optimiser moments, the
index, the registry, a training run's state). Each change is first written under
``.staged/`` beside the target; `Journal.commit` then writes the manifest
``.staged/COMMIT`` (atomically) naming every staged file, moves each into place,
and removes the manifest. A crash before the manifest leaves every target as it
was: the next open discards the staged copies. A crash after it is finished by
the next open, which redoes the moves. So what is on disk is always exactly one
committed state — which is what lets a killed training run resume bit for bit.

Only the process holding the folder's lock (`Journal.lock`) may stage and commit;
others open it read-only and never touch ``.staged/``.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
from pathlib import Path

from holomind.errors import CorruptFileError, InvalidInputError, MissingFileError
from holomind.files import atomic_write_text, fsync_folder

STAGING = ".staged"
MANIFEST = "COMMIT"
LOCK = ".lock"


class Journal:
    """Staged writes to files under ``root``, made visible together by `commit`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.staging = root / STAGING
        self._staged: set[str] = set()  # relative paths written since the last commit
        self._lock_fd = -1

    def lock(self) -> None:
        """Become the folder's only writer, then finish or discard what a crash left staged."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / LOCK, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise InvalidInputError(
                f"{self.root} is being written by another process",
                hint="wait for that training run to finish, or stop it",
            ) from None
        self._lock_fd = fd
        self.recover()

    def settle(self) -> None:
        """For a reader: finish a commit a crash interrupted, unless a writer is at work."""
        try:
            fd = os.open(self.root / LOCK, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError:  # a read-only folder: nobody can have written it half-way
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return
        try:
            self.recover()
        finally:
            os.close(fd)

    def unlock(self) -> None:
        """Release the folder (staged but uncommitted writes are discarded by the next writer)."""
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1

    @property
    def locked(self) -> bool:
        """Whether this journal may write."""
        return self._lock_fd >= 0

    def recover(self) -> None:
        """Redo a commit whose manifest was written; drop staged files no manifest names."""
        manifest = self.staging / MANIFEST
        if manifest.is_file():
            try:
                paths = json.loads(manifest.read_text())["paths"]
            except (ValueError, KeyError, TypeError) as exc:
                raise CorruptFileError(
                    f"the commit manifest {manifest} is unreadable ({exc})",
                    hint="it is written atomically, so the disk or another program damaged it",
                ) from None
            self._apply(paths)
        if self.staging.exists():
            shutil.rmtree(self.staging)
        self._staged.clear()

    def write(self, rel: str, data: bytes) -> None:
        """Stage ``data`` as the next content of ``root/rel``."""
        if not self.locked:
            raise RuntimeError("Journal.write needs the folder's lock (call lock() first)")
        path = self.staging / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        self._staged.add(rel)

    def commit(self) -> None:
        """Make every staged file visible at once (see the module's docstring)."""
        if not self._staged:
            return
        paths = sorted(self._staged)
        for folder in {(self.staging / rel).parent for rel in paths}:
            fsync_folder(folder)  # the staged files' names are durable before the manifest
        atomic_write_text(self.staging / MANIFEST, json.dumps({"paths": paths}))
        self._apply(paths)
        (self.staging / MANIFEST).unlink()
        fsync_folder(self.staging)
        shutil.rmtree(self.staging)  # only the emptied folders are left
        self._staged.clear()

    def _apply(self, paths: list[str]) -> None:
        folders = set()
        for rel in paths:
            src, dst = self.staging / rel, self.root / rel
            if src.is_file():  # a redo after a crash finds the files already moved gone
                dst.parent.mkdir(parents=True, exist_ok=True)
                os.replace(src, dst)
                folders.add(dst.parent)
        for folder in folders:
            fsync_folder(folder)


def read_verified(path: Path, sha256: str | None, hint: str) -> bytes:
    """A file's bytes, refused (``CorruptFileError``) unless they match the recorded SHA-256."""
    if not path.is_file():
        raise MissingFileError(f"{path} is missing", hint=hint)
    blob = path.read_bytes()
    if hashlib.sha256(blob).hexdigest() != sha256:
        raise CorruptFileError(f"{path} does not match its recorded checksum", hint=hint)
    return blob
