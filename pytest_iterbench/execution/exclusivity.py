"""Exclusive measurement under xdist: a fair cross-process readers-writer lock.

Every item of a session holds the lock *shared* while it runs, so items run in
parallel on all workers. A timing measurement takes it *exclusively*: it waits
until the items running on other workers finish, and no new item starts until
it is done. The lock is two ``flock`` files in the session's scratch folder; a
turnstile keeps a waiting measurement from being starved by a stream of items.

A process holding the lock shared that needs it exclusively (an item whose
iteration is executed for a timing metric) steps out and back in:
``exclusive()`` releases the shared hold first and takes it again afterwards.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

Mode = Literal["none", "shared", "exclusive"]


class MeasurementLock:
    """A fair readers-writer lock shared by the processes of one session on one host.

    >>> lock = MeasurementLock(Path(tmp))  # doctest: +SKIP
    >>> with lock.shared():  # doctest: +SKIP
    ...     with lock.exclusive():  # other workers' items have finished; none starts
    ...         measure()
    """

    def __init__(self, folder: Path, enabled: bool = True) -> None:
        self.enabled = enabled
        self.mode: Mode = "none"
        self._turnstile_fd = -1
        self._lock_fd = -1
        if enabled:
            folder.mkdir(parents=True, exist_ok=True)
            self._turnstile_fd = os.open(
                folder / "measurement.turnstile", os.O_RDWR | os.O_CREAT, 0o644
            )
            self._lock_fd = os.open(folder / "measurement.lock", os.O_RDWR | os.O_CREAT, 0o644)

    def _acquire(self, mode: Mode) -> None:
        fcntl.flock(self._turnstile_fd, fcntl.LOCK_EX)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX if mode == "exclusive" else fcntl.LOCK_SH)
        finally:
            fcntl.flock(self._turnstile_fd, fcntl.LOCK_UN)
        self.mode = mode

    def _release(self) -> None:
        fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
        self.mode = "none"

    @contextmanager
    def shared(self) -> Iterator[None]:
        """Hold the lock shared (an ordinary item); re-entrant inside ``exclusive()``."""
        if not self.enabled or self.mode != "none":
            yield
            return
        self._acquire("shared")
        try:
            yield
        finally:
            self._release()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the lock exclusively (a timing measurement), then return to the previous mode."""
        if not self.enabled or self.mode == "exclusive":
            yield
            return
        previous = self.mode
        if previous == "shared":
            self._release()
        self._acquire("exclusive")
        try:
            yield
        finally:
            self._release()
            if previous == "shared":
                self._acquire("shared")

    def close(self) -> None:
        if self.enabled:
            if self.mode != "none":
                self._release()
            os.close(self._turnstile_fd)
            os.close(self._lock_fd)
            self.enabled = False
