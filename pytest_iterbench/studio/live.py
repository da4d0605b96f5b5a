"""Live status: the workspace's event stream, folded into item states and pushed to every page.

One task per studio follows ``.iterbench/events/events.jsonl``
(:class:`~pytest_iterbench.results.events.EventFollower`: complete lines only,
across rotation) every :data:`POLL_SECONDS`, folds each event into
:class:`LiveState` and sends the new events to every open WebSocket. A page
that connects gets the folded state first (``snapshot``), then the events
(``events``), and folds them with the same rules in its script; so a page
opened mid-run catches up, and a page closed changes nothing for the run,
which is another process.

Item states: ``queued`` (listed by ``session.items``), ``running``
(``item.start``), then the outcome of ``item.finish``: ``passed``,
``failed``, ``error`` or ``skipped``. An orchestrator's ``orchestration.*``
and ``step.*`` events fold into the latest orchestration (its planner, task,
cost and each step's status, attempt, seconds, cost and error); its benchmark
is a pytest session like any other. Event kinds this module does not know are
kept, last :data:`KEEP_OTHER` of them, and forwarded as they come.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from pytest_iterbench.orchestrator.steps import (
    ORCHESTRATION_FINISH,
    ORCHESTRATION_PUSH,
    ORCHESTRATION_START,
    STEP_FINISH,
    STEP_SKIP,
    STEP_START,
)
from pytest_iterbench.results.events import (
    ITEM_FINISH,
    ITEM_START,
    SESSION_FINISH,
    SESSION_ITEMS,
    SESSION_START,
    EventFollower,
)
from pytest_iterbench.secrets import Scrubber
from pytest_iterbench.studio.sessions import process_alive

POLL_SECONDS: Final = 0.05
#: Sessions kept in the folded state (the latest ones).
KEEP_SESSIONS: Final = 5
KEEP_OTHER: Final = 200
#: Messages queued for a slow page before they are replaced by one snapshot.
QUEUE_LIMIT: Final = 1000
ITEM_FIELDS: Final = (
    "outcome",
    "duration",
    "worker",
    "iteration_id",
    "metric_id",
    "repeat",
    "status",
    "value",
    "unit",
    "reason",
)


def _new_session(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "session_id": event.get("session_id"),
        "run_id": event.get("run_id"),
        "pid": event.get("pid"),
        "started_at": event.get("at"),
        "workers": event.get("workers", 0),
        "total": None,
        "items": {},
        "finished": False,
        "exitstatus": None,
        "counts": {},
    }


@dataclass
class LiveState:
    """The latest sessions' item states, folded from events."""

    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    other: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=KEEP_OTHER))
    orchestration: dict[str, Any] | None = None

    def fold(self, event: dict[str, Any]) -> None:
        """Apply one event (unknown kinds are kept apart)."""
        kind = event.get("event")
        if kind == ORCHESTRATION_START:
            self.orchestration = _new_orchestration(event)
            return
        if kind in _ORCHESTRATION_FOLDS:
            if self.orchestration is not None:
                _ORCHESTRATION_FOLDS[str(kind)](self.orchestration, event)
            return
        if kind == SESSION_START:
            self.sessions[str(event.get("session_id"))] = _new_session(event)
            while len(self.sessions) > KEEP_SESSIONS:
                del self.sessions[next(iter(self.sessions))]
            return
        session = self.sessions.get(str(event.get("session_id")))
        if kind not in (SESSION_ITEMS, ITEM_START, ITEM_FINISH, SESSION_FINISH):
            self.other.append(event)
        elif session is not None:
            _FOLDS[kind](session, event)

    def running_outside(self, own_pid: int | None) -> dict[str, Any] | None:
        """An unfinished session whose process is alive and is not ``own_pid``'s, if any."""
        for session in reversed(self.sessions.values()):
            pid = session.get("pid")
            if (
                not session["finished"]
                and isinstance(pid, int)
                and pid != own_pid
                and process_alive(pid)
            ):
                return session
        return None

    def orchestration_outside(self, own_pid: int | None) -> dict[str, Any] | None:
        """The latest orchestration if it is unfinished, alive, and not ``own_pid``'s."""
        found = self.orchestration
        pid = found.get("pid") if found else None
        if found and not found["finished"] and isinstance(pid, int) and pid != own_pid:
            return found if process_alive(pid) else None
        return None

    def snapshot(self) -> dict[str, Any]:
        return {
            "sessions": list(self.sessions.values()),
            "other": list(self.other),
            "orchestration": self.orchestration,
        }


def _items(session: dict[str, Any], event: dict[str, Any]) -> None:
    session["total"] = event.get("total")
    for nodeid in event.get("items", []):
        session["items"].setdefault(nodeid, {"state": "queued"})


def _start(session: dict[str, Any], event: dict[str, Any]) -> None:
    item = session["items"].setdefault(str(event.get("nodeid")), {})
    item["state"] = "running"
    item["started_at"] = event.get("at")


def _finish(session: dict[str, Any], event: dict[str, Any]) -> None:
    item = session["items"].setdefault(str(event.get("nodeid")), {})
    item.update({name: event.get(name) for name in ITEM_FIELDS})
    item["state"] = event.get("outcome", "error")
    item["finished_at"] = event.get("at")


def _session_finish(session: dict[str, Any], event: dict[str, Any]) -> None:
    session["finished"] = True
    session["exitstatus"] = event.get("exitstatus")
    session["counts"] = event.get("counts", {})
    for item in session["items"].values():  # interrupted: never started, or never finished
        if item.get("state") in ("queued", "running"):
            item["state"] = "not run" if item["state"] == "queued" else "interrupted"


_FOLDS: Final[dict[str, Callable[[dict[str, Any], dict[str, Any]], None]]] = {
    SESSION_ITEMS: _items,
    ITEM_START: _start,
    ITEM_FINISH: _finish,
    SESSION_FINISH: _session_finish,
}


def _new_orchestration(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "task": event.get("task"),
        "planner": event.get("planner"),
        "pid": event.get("pid"),
        "started_at": event.get("at"),
        "finished": False,
        "status": "running",
        "cost_usd": None,  # the total, known at the finish (state.json has it meanwhile)
        "push": None,
        "steps": {},
    }


def _step_start(orchestration: dict[str, Any], event: dict[str, Any]) -> None:
    orchestration["steps"][str(event.get("step"))] = {
        "id": event.get("step"),
        "kind": event.get("kind"),
        "target": event.get("target"),
        "attempt": event.get("attempt"),
        "status": "running",
        "started_at": event.get("at"),
    }


def _step_finish(orchestration: dict[str, Any], event: dict[str, Any]) -> None:
    step = orchestration["steps"].setdefault(str(event.get("step")), {"id": event.get("step")})
    step.update({name: event.get(name) for name in ("status", "seconds", "cost_usd", "error")})
    step["finished_at"] = event.get("at")


def _step_skip(orchestration: dict[str, Any], event: dict[str, Any]) -> None:
    step = orchestration["steps"].setdefault(str(event.get("step")), {"id": event.get("step")})
    step.update({"status": "done", "note": event.get("reason")})


def _push(orchestration: dict[str, Any], event: dict[str, Any]) -> None:
    orchestration["push"] = {name: event.get(name) for name in ("remote", "ok", "error", "at")}


def _orchestration_finish(orchestration: dict[str, Any], event: dict[str, Any]) -> None:
    orchestration.update(finished=True, status=event.get("status"), cost_usd=event.get("cost_usd"))
    orchestration["finished_at"] = event.get("at")


_ORCHESTRATION_FOLDS: Final[dict[str, Callable[[dict[str, Any], dict[str, Any]], None]]] = {
    STEP_START: _step_start,
    STEP_FINISH: _step_finish,
    STEP_SKIP: _step_skip,
    ORCHESTRATION_PUSH: _push,
    ORCHESTRATION_FINISH: _orchestration_finish,
}


def _drain(queue: asyncio.Queue[str]) -> None:
    while not queue.empty():
        queue.get_nowait()


class LiveHub:
    """Follows the stream and fans its events out to subscribers (one queue per page)."""

    def __init__(
        self,
        events_file: Path,
        scrubber: Scrubber,
        status: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        self.follower = EventFollower(events_file)
        self.scrubber = scrubber
        self.status = status
        self.state = LiveState()
        self.queues: set[asyncio.Queue[str]] = set()
        self._task: asyncio.Task[None] | None = None
        self._last_status: str | None = None
        for event in self.follower.poll():  # the stream so far: a page opened now catches up
            self.state.fold(event)

    def message(self, kind: str, **fields: Any) -> str:
        """A JSON message for the page, with known secrets replaced."""
        return self.scrubber.scrub(json.dumps({"type": kind, **fields}, default=str))

    def tick(self) -> list[str]:
        """Read new events, fold them, and return the messages to broadcast."""
        messages = []
        events = self.follower.poll()
        if events:
            for event in events:
                self.state.fold(event)
            messages.append(self.message("events", events=events))
        if self.status is not None:
            status = self.message("session", **self.status())
            if status != self._last_status:
                self._last_status = status
                messages.append(status)
        return messages

    def subscribe(self) -> asyncio.Queue[str]:
        """A new page's queue, starting with the snapshot of the folded state."""
        queue: asyncio.Queue[str] = asyncio.Queue(QUEUE_LIMIT)
        queue.put_nowait(self.message("snapshot", **self.state.snapshot()))
        if self._last_status is not None:
            queue.put_nowait(self._last_status)
        self.queues.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[str]) -> None:
        self.queues.discard(queue)

    def broadcast(self, messages: list[str]) -> None:
        """Queue ``messages`` for every page; a page too slow to keep up gets a fresh snapshot instead."""
        for queue in list(self.queues):
            for text in messages:
                try:
                    queue.put_nowait(text)
                except asyncio.QueueFull:
                    _drain(queue)
                    queue.put_nowait(self.message("snapshot", **self.state.snapshot()))
                    break

    async def follow(self) -> None:
        while True:
            try:
                self.broadcast(self.tick())  # a stat and a short read: cheap enough for the loop
            except (OSError, ValueError) as exc:  # a hiccup of the disk must not end the live view
                self.broadcast([self.message("error", error=f"reading the event stream: {exc}")])
            await asyncio.sleep(POLL_SECONDS)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self.follow())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
