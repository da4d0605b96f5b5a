"""Shared builders for the orchestrator's tests: a workspace with a hand-written plan and code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

#: Each execution appends its iteration's id (and whether it is a smoke check) to this file.
COUNTER_VARIABLE = "ITERBENCH_TEST_COUNTER"
#: A folder where each run() touches a file when it starts: "v1 run", or "v1 smoke" in a smoke test.
STARTED_VARIABLE = "ITERBENCH_TEST_STARTED"

COUNTING_MAIN = """
import os
import time


def run(parameters):
    smoke = "smoke" if os.environ.get("ITERBENCH_SMOKE") else "run"
    started = os.environ.get("ITERBENCH_TEST_STARTED")
    if started:
        open(os.path.join(started, f"{parameters['name']} {smoke}"), "w").close()
    time.sleep(parameters.get("sleep", 0))
    counter = os.environ.get("ITERBENCH_TEST_COUNTER")
    if counter:
        with open(counter, "a") as handle:
            handle.write(f"{parameters['name']} {smoke}\\n")
    return {"y_true": [0, 1, 1, 0], "y_pred": PREDICTIONS}
"""


#: The built-in accuracy and F1 classes, scored without sklearn: importing it costs each
#: process (the orchestrator's, the benchmark's pytest) about 2 s of CPU.
TOY_METRICS = """
from pytest_iterbench.metrics import AccuracyMetric, F1MacroMetric


class Accuracy(AccuracyMetric):
    def score(self, y_true, y_pred):
        return sum(a == b for a, b in zip(y_true, y_pred)) / len(y_true)


class F1Macro(F1MacroMetric):
    def score(self, y_true, y_pred):
        scores = []
        for label in sorted(set(y_true) | set(y_pred)):
            pairs = list(zip(y_true, y_pred))
            hit = sum(t == p == label for t, p in pairs)
            wrong = sum(p == label for t, p in pairs) - hit + sum(t == label for t, p in pairs) - hit
            scores.append(2 * hit / (2 * hit + wrong) if hit or wrong else 0.0)
        return sum(scores) / len(scores)
"""


def iteration_code(predictions: list[int]) -> str:
    return textwrap.dedent(COUNTING_MAIN).replace("PREDICTIONS", repr(predictions))


def plan_document(
    iterations: list[str], sleep: dict[str, float] | None = None, **extra: Any
) -> dict[str, Any]:
    """A hand-written plan: the iterations, accuracy and F1 (``TOY_METRICS``), run-001."""
    return {
        "plan_version": 1,
        "description": "toy classifiers",
        "source": {"kind": "manual"},
        "planner": "manual",
        "created_at": "2026-11-30T12:00:00Z",
        "rationale": "",
        "iterations": [
            {
                "id": it,
                "name": it,
                "source_path": f"iterations/{it}/",
                "entry_point": "main.py",
                "parameters": {"name": it, "sleep": (sleep or {}).get(it, 0)},
                "parent": None,
            }
            for it in iterations
        ],
        "metrics": [
            {"id": "accuracy", "name": "Accuracy", "class": "toy_metrics.Accuracy",
             "higher_is_better": True, "unit": "%"},
            {"id": "f1_macro", "name": "F1", "class": "toy_metrics.F1Macro",
             "higher_is_better": True, "unit": ""},
        ],
        "runs": [{"id": "run-001", "name": "toy", "iteration_ids": iterations,
                  "metric_ids": ["accuracy", "f1_macro"]}],
        **extra,
    }  # fmt: skip


def manual_workspace(
    root: Path, code: dict[str, list[int] | None], sleep: dict[str, float] | None = None
) -> Path:
    """``plan.json`` and hand-written code (None: no code) under ``root``; ``sleep``: seconds per run."""
    root.mkdir(parents=True, exist_ok=True)
    for iteration, predictions in code.items():
        if predictions is not None:
            folder = root / "iterations" / iteration
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "main.py").write_text(iteration_code(predictions), encoding="utf-8")
    (root / "toy_metrics.py").write_text(TOY_METRICS, encoding="utf-8")
    plan = plan_document(list(code), sleep)
    (root / "plan.json").write_text(json.dumps(plan, indent=2), encoding="utf-8")
    return root


def state(root: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((root / "state.json").read_text(encoding="utf-8"))
    return data


def steps(root: Path) -> dict[str, dict[str, Any]]:
    return {step["id"]: step for step in state(root)["orchestration"]["steps"]}


def results(root: Path) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = json.loads((root / "results.json").read_text(encoding="utf-8"))[
        "results"
    ]
    return records


def measured(root: Path) -> list[tuple[str, str, str, float | None]]:
    """What was measured, without ids and times: (iteration, metric, status, value) sorted."""
    return sorted(
        (r["iteration_id"], r["metric_id"], r["status"], r["value"]) for r in results(root)
    )


def orchestrate_process(
    root: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    """``python -m pytest_iterbench orchestrate --dir root ARGS`` in a new session (the kill hook kills its tree)."""
    return subprocess.run(
        [sys.executable, "-m", "pytest_iterbench", "orchestrate", "--dir", str(root), *args],
        capture_output=True, text=True, timeout=timeout, start_new_session=True,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
