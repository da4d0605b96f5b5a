"""Thread caps: N xdist workers must not each start a thread per core.

Under ``-n N`` every worker caps BLAS, OpenMP and torch threads at
``max(1, cpus // N)``: through environment variables for the process template
(and so every iteration it forks), and through threadpoolctl and
``torch.set_num_threads`` in the worker itself. A serial session is not capped.
The caps are recorded in every record's environment.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Any

THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask), at least 1."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


@dataclass(frozen=True)
class ThreadCaps:
    """The thread cap of one process of the session; ``cap=None`` means uncapped."""

    workers: int
    cpus: int
    cap: int | None

    @classmethod
    def for_session(
        cls, workers: int, setting: str = "auto", cpus: int | None = None
    ) -> ThreadCaps:
        """``auto``: cap at cpus // workers under xdist; ``none``: never; a number: that cap.

        >>> ThreadCaps.for_session(workers=2, cpus=8).cap
        4
        >>> ThreadCaps.for_session(workers=1, cpus=8).cap is None
        True
        """
        cpus = cpus or available_cpus()
        if setting == "none":
            return cls(workers, cpus, None)
        if setting != "auto":
            return cls(workers, cpus, max(1, int(setting)))
        return cls(workers, cpus, max(1, cpus // workers) if workers > 1 else None)

    def environment(self) -> dict[str, str]:
        """Variables to set for a child process (empty when uncapped)."""
        return {} if self.cap is None else dict.fromkeys(THREAD_VARIABLES, str(self.cap))

    def apply_here(self) -> None:
        """Cap this process: its environment, loaded BLAS/OpenMP pools, and torch if imported."""
        if self.cap is None:
            return
        os.environ.update(self.environment())
        try:
            from threadpoolctl import threadpool_limits

            threadpool_limits(self.cap)
        except ImportError:
            pass
        torch = sys.modules.get("torch")
        if torch is not None:
            torch.set_num_threads(self.cap)

    def to_json(self) -> dict[str, Any]:
        return {"xdist_workers": self.workers, "cpus_available": self.cpus, "thread_cap": self.cap}
