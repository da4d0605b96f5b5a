"""Result records: one measured value of one (run, iteration, metric), self-contained.

A record is plain JSON on the wire (the report's ``user_properties`` under
xdist) and on disk (``results.json``), in the seed's format plus ``status``,
``reason``, ``parameters``, ``session_id``, ``git_commit`` and ``record_id``.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.metadata
import json
import math
import platform
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pytest_iterbench.errors import IterbenchError

RecordStatus = Literal["passed", "failed", "error", "skipped", "timeout"]
KEY_PACKAGES = ("pytest", "pytest-iterbench", "pytest-xdist", "numpy", "scikit-learn", "torch")


def utc_now() -> str:
    """The current UTC time as ISO 8601 with a ``Z``."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_session_id() -> str:
    """A unique session id that sorts by start time, such as ``20261121T235100.123456Z-3f2a9c1b``.

    Reports and the gate order sessions by id: the microseconds keep two
    sessions started in the same second in order.
    """
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    return f"{stamp}-{uuid.uuid4().hex[:8]}"


def session_of(record: dict[str, Any]) -> str:
    """The record's session id; a seed record without one gets a sortable id from ``executed_at``.

    >>> session_of({"executed_at": "2025-02-14T16:00:00.000Z"})
    '20250214T160000Z-legacy'
    """
    session_id = record.get("session_id")
    if session_id:
        return str(session_id)
    try:
        moment = dt.datetime.fromisoformat(str(record.get("executed_at", "")))
    except ValueError:
        return "00000000T000000Z-legacy"
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return moment.strftime("%Y%m%dT%H%M%SZ") + "-legacy"


def _json_number(value: Any) -> float | None:
    """A JSON-safe number: NaN and infinities become None (JSON has neither)."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def json_problem(data: Any) -> str | None:
    """Why ``data`` cannot be written as strict JSON in UTF-8 (NaN, infinity, a lone surrogate, an object), or None."""
    try:
        json.dumps(data, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError, OverflowError, RecursionError, UnicodeEncodeError) as exc:
        return ascii(str(exc))[1:-1][:200]
    return None


def measured(metric_id: str, value: Any, metadata: Any) -> tuple[float | None, dict[str, Any]]:
    """A metric's value and metadata as a record holds them; IterbenchError saying what is wrong otherwise.

    >>> measured("acc", 1, None)
    (1.0, {})
    >>> measured("acc", "abc", None)
    Traceback (most recent call last):
    pytest_iterbench.errors.IterbenchError: metric 'acc' returned 'abc': expected a number
    """
    if value is not None:
        try:
            if isinstance(value, str | bytes):
                raise TypeError(value)
            value = float(value)
        except (TypeError, ValueError) as exc:
            raise IterbenchError(
                f"metric {metric_id!r} returned {_shown(value)}: expected a number"
            ) from exc
        except OverflowError as exc:
            raise IterbenchError(
                f"metric {metric_id!r} returned {_shown(value)}: expected a number a float can hold"
            ) from exc
    metadata = dict(metadata or {})
    problem = json_problem(metadata)
    if problem is not None:
        raise IterbenchError(f"metric {metric_id!r} returned metadata JSON cannot hold: {problem}")
    return value, metadata


def _shown(value: Any) -> str:
    if isinstance(value, int) and abs(value) > 10**300:
        return f"an integer of about {int(value.bit_length() * math.log10(2)) + 1} digits"
    text = ascii(value)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(frozen=True)
class ResultRecord:
    """One row of ``results.json``."""

    run_id: str
    iteration_id: str
    metric_id: str
    value: float | None
    unit: str
    status: RecordStatus
    executed_at: str
    environment: dict[str, Any]
    session_id: str
    parameters: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None
    git_commit: str | None = None
    nodeid: str | None = None
    higher_is_better: bool | None = None
    iteration_parent: str | None = None
    iteration_tags: tuple[str, ...] = ()
    config_hash: str | None = None
    repeat: int = 0
    seed: int | None = None
    metric_type: str | None = None
    record_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def to_json(self) -> dict[str, Any]:
        return {
            "record_id": self.record_id,
            "session_id": self.session_id,
            "run_id": self.run_id,
            "iteration_id": self.iteration_id,
            "metric_id": self.metric_id,
            "value": _json_number(self.value),
            "unit": self.unit,
            "metric_type": self.metric_type,
            "status": self.status,
            "reason": self.reason,
            "executed_at": self.executed_at,
            "parameters": self.parameters,
            "git_commit": self.git_commit,
            "nodeid": self.nodeid,
            "higher_is_better": self.higher_is_better,
            "iteration_parent": self.iteration_parent,
            "iteration_tags": list(self.iteration_tags),
            "config_hash": self.config_hash,
            "repeat": self.repeat,
            "seed": self.seed,
            "environment": self.environment,
            "metadata": self.metadata,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ResultRecord:
        """Read a record, including the seed's older records without status or ids."""
        return cls(
            run_id=data["run_id"],
            iteration_id=data["iteration_id"],
            metric_id=data["metric_id"],
            value=data.get("value"),
            unit=data.get("unit", ""),
            status=data.get("status", "passed"),
            executed_at=data.get("executed_at", ""),
            environment=data.get("environment") or {},
            session_id=data.get("session_id", ""),
            parameters=data.get("parameters") or {},
            metadata=data.get("metadata") or {},
            reason=data.get("reason"),
            git_commit=data.get("git_commit"),
            nodeid=data.get("nodeid"),
            higher_is_better=data.get("higher_is_better"),
            iteration_parent=data.get("iteration_parent"),
            iteration_tags=tuple(data.get("iteration_tags") or ()),
            config_hash=data.get("config_hash"),
            repeat=int(data.get("repeat") or 0),
            seed=data.get("seed"),
            metric_type=data.get("metric_type"),
            record_id=data.get("record_id")
            or f"legacy-{data.get('executed_at', '')}-{data['run_id']}-{data['iteration_id']}-{data['metric_id']}",
        )


def package_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _gpu_name() -> str | None:
    """The first GPU's name from nvidia-smi, without importing torch (which costs seconds)."""
    if shutil.which("nvidia-smi") is None:
        return None
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    names = [line.strip() for line in out.stdout.splitlines() if line.strip()]
    return names[0] if names else None


@functools.cache
def environment() -> dict[str, Any]:
    """Where the measurements are taken: platform, Python, CPU, GPU, key package versions."""
    import os

    return {
        "platform": f"{sys.platform}-{platform.machine()}",
        "platform_detail": platform.platform(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "gpu": _gpu_name(),
        "hostname": platform.node(),
        "packages": {name: package_version(name) for name in KEY_PACKAGES},
    }


def git_commit(directory: Path) -> str | None:
    """The commit checked out at ``directory`` (``+dirty`` when there are changes), if any."""
    if shutil.which("git") is None:
        return None
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=directory, capture_output=True, text=True, timeout=10
        )
        if head.returncode != 0:
            return None
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    dirty = "+dirty" if status.returncode == 0 and status.stdout.strip() else ""
    return head.stdout.strip() + dirty
