"""A session's live events: what the controller sees, appended to the workspace's event stream.

The controller (serial pytest, or xdist's controller, which receives every
worker's ``logstart`` and reports) writes ``session.start``, ``session.items``
(the collected item ids), ``item.start``, ``item.finish`` (its final outcome:
``passed``, ``failed``, ``error`` or ``skipped`` — ``error`` also for a metric
whose record says ``error`` or ``timeout``, which pytest shows as failed — and the iterbench record's
status, value and reason when the item is a metric), and ``session.finish``.
The format is documented in ``docs/events.md``; ``results/events.py`` writes it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import pytest

from pytest_iterbench.results.events import (
    ITEM_FINISH,
    ITEM_START,
    SESSION_FINISH,
    SESSION_ITEMS,
    SESSION_START,
    TEXT_LIMIT,
    EventLog,
    clip,
    events_path,
)
from pytest_iterbench.secrets import Scrubber

#: A failed item's traceback (pytest's report of it) is cut to this many characters.
TRACEBACK_LIMIT: Final = 8000
#: pytest's report phases; xdist reports a crashed worker's item with ``when="???"``.
_PHASES: Final = ("setup", "call", "teardown")


class SessionEvents:
    """Turns the controller's hooks into events; one per session."""

    def __init__(
        self,
        events_dir: Path,
        session_id: str,
        run_id: str,
        scrubber: Scrubber | None = None,
        *,
        record_property: str,
    ) -> None:
        self.log = EventLog(events_path(events_dir))
        self.session_id = session_id
        self.run_id = run_id
        self.scrubber = scrubber
        self.record_property = record_property
        self.items_sent = False
        self.outcomes: dict[str, str] = {}
        self.records: dict[str, dict[str, Any]] = {}
        self.reasons: dict[str, str] = {}
        self.tracebacks: dict[str, str] = {}
        self.finished: Counter[str] = Counter()

    def _emit(self, event: str, **fields: Any) -> None:
        self.log.emit(event, session_id=self.session_id, run_id=self.run_id, **fields)

    def start(self, workers: int, argv: Sequence[str]) -> None:
        self._emit(SESSION_START, workers=workers, args=list(argv))

    def items(self, nodeids: Sequence[str]) -> None:
        """The collected items, once (every xdist worker collects the same list)."""
        if self.items_sent:
            return
        self.items_sent = True
        self._emit(SESSION_ITEMS, total=len(nodeids), items=list(nodeids))

    def item_start(self, nodeid: str) -> None:
        self._emit(ITEM_START, nodeid=nodeid)

    def report(
        self, report: pytest.TestReport, records: Sequence[dict[str, Any]] | None = None
    ) -> None:
        """Fold one phase's report into the item's outcome; the last phase emits ``item.finish``.

        ``records``: the report's records, already parsed by the caller (read from
        ``report.user_properties`` when None); the last one is kept, as a copy.
        """
        nodeid = report.nodeid
        outcome = _phase_outcome(report, self.outcomes.get(nodeid))
        self.outcomes[nodeid] = outcome
        if not report.passed and nodeid not in self.reasons:
            self.reasons[nodeid] = _reason(report)
        if report.failed and nodeid not in self.tracebacks:
            self.tracebacks[nodeid] = report.longreprtext
        if records is None:
            records = [
                json.loads(str(value))
                for name, value in report.user_properties
                if name == self.record_property
            ]
        if records:
            self.records[nodeid] = dict(records[-1])
        if report.when == "teardown" or report.when not in _PHASES:
            self._finish(report, outcome)

    def _finish(self, report: pytest.TestReport, outcome: str) -> None:
        nodeid = report.nodeid
        self.outcomes.pop(nodeid, None)
        record = self.records.pop(nodeid, None)
        reason = self.reasons.pop(nodeid, None)
        if record is not None and record.get("status") in ("error", "timeout"):
            outcome = "error"  # the iteration or the metric errored: pytest shows it as failed
        self.finished[outcome] += 1
        fields: dict[str, Any] = {
            "nodeid": nodeid,
            "outcome": outcome,
            "duration": round(report.duration, 6),
            "worker": _worker(report),
        }
        if record is not None:
            fields.update(
                iteration_id=record.get("iteration_id"),
                metric_id=record.get("metric_id"),
                repeat=record.get("repeat"),
                status=record.get("status"),
                value=record.get("value"),
                unit=record.get("unit"),
                reason=self._text(record.get("reason")),
            )
        elif reason is not None:
            fields["reason"] = self._text(reason)
        traceback = self.tracebacks.pop(nodeid, None)
        if traceback:
            fields["traceback"] = self._text(traceback, TRACEBACK_LIMIT)
        self._emit(ITEM_FINISH, **fields)

    def _text(self, text: str | None, limit: int = TEXT_LIMIT) -> str | None:
        if text is not None and self.scrubber:
            text = self.scrubber.scrub(text)
        return clip(text, limit)

    def finish(self, exitstatus: int, report_paths: Sequence[Path], appended: int) -> None:
        self._emit(
            SESSION_FINISH,
            exitstatus=int(exitstatus),
            counts=dict(self.finished),
            records=appended,
            reports=[path.name for path in report_paths],
        )
        self.log.close()


def _phase_outcome(report: pytest.TestReport, before: str | None) -> str:
    if report.when not in _PHASES:
        return "error"  # the worker crashed while running it
    if report.when == "call":
        return "passed" if report.passed else "skipped" if report.skipped else "failed"
    if report.failed:
        return "error"  # a failing setup or teardown
    if report.skipped:
        return "skipped"
    return before or "passed"


def _worker(report: pytest.TestReport) -> str | None:
    """The xdist worker (``gw0``) that ran the item, as xdist's controller sees its report."""
    gateway = getattr(getattr(report, "node", None), "gateway", None)
    return getattr(gateway, "id", None)


def _reason(report: pytest.TestReport) -> str:
    """A phase's failure or skip in one line: the exception pytest shows, or the skip's reason."""
    longrepr = report.longrepr
    if isinstance(longrepr, tuple):  # a skip: (path, line, "Skipped: why")
        return str(longrepr[2]).removeprefix("Skipped: ")
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None:
        return str(crash.message)
    lines = [line for line in str(longrepr).strip().splitlines() if line.strip()]
    return lines[-1] if lines else "failed"
