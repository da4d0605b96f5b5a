"""The supervised set: (task text, compact plan) pairs from traces and from the generator.

``build_dataset`` reads the Claude planner's traces of a workspace (the last
answer of each planning conversation: the one the validator accepted, or the
last repair), turns each plan into its compact form (``recognise.compress``),
adds synthetic tasks (:mod:`~pytest_iterbench.kernel.synthetic`), anonymises
every prompt, and splits off held-out examples by a hash of the prompt, so
the same task always lands on the same side and is never trained on.

Files, under ``.iterbench/kernel/dataset/``: ``train.jsonl``, ``heldout.jsonl``
and ``manifest.json`` (counts, sources, the SHA-256 of each file).

>>> examples = synthetic_examples(3, seed=0)
>>> examples[0].completion.startswith("kind: ")
True
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pytest_iterbench.atomic import write_text_atomically
from pytest_iterbench.kernel.prompt import task_text
from pytest_iterbench.kernel.recognise import compress
from pytest_iterbench.kernel.synthetic import synthetic_task
from pytest_iterbench.llm.traces import TraceRecord

HELDOUT_PERCENT = 10
TASK_MARK, HOLDS_MARK = "Task:\n", "\n\nThe workspace already holds:"


@dataclass(frozen=True)
class Example:
    """One supervised pair; ``reference`` fields let held-out tasks be scored."""

    prompt: str
    completion: str
    source: str
    kind: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Example:
        return cls(data["prompt"], data["completion"], data["source"], data["kind"])


def synthetic_examples(count: int, *, seed: int) -> list[Example]:
    """``count`` generated tasks with their reference plans (reproducible by ``seed``)."""
    rng = random.Random(seed)
    examples = []
    for _ in range(count):
        task = synthetic_task(rng)
        examples.append(
            Example(task_text(task.description), task.reference.to_text(), "synthetic", task.kind)
        )
    return examples


def trace_examples(records: Iterable[TraceRecord]) -> list[Example]:
    """One example per traced planning conversation whose last answer compresses."""
    last: dict[str, tuple[int, dict[str, Any]]] = {}
    for record in records:
        if (
            record.role != "planner"
            or record.status != "ok"
            or not record.prompt
            or not record.answer
        ):
            continue
        messages = record.prompt.get("messages") or []
        task = _task(messages[0]) if messages else None
        answer = next((b.get("input") for b in record.answer if b.get("type") == "tool_use"), None)
        if task and isinstance(answer, dict) and len(messages) >= last.get(task, (0, {}))[0]:
            last[task] = (len(messages), answer)
    examples = []
    for task, (_, answer) in last.items():
        compact = compress(answer)
        if compact is not None:
            examples.append(Example(task_text(task), compact.to_text(), "trace", compact.kind))
    return examples


def _task(message: dict[str, Any]) -> str | None:
    content = message.get("content")
    if isinstance(content, list):
        content = "".join(b.get("text", "") for b in content if isinstance(b, dict))
    if not isinstance(content, str) or not content.startswith(TASK_MARK):
        return None
    return content[len(TASK_MARK) :].split(HOLDS_MARK)[0]


def is_heldout(example: Example) -> bool:
    digest = hashlib.sha256(example.prompt.encode("utf-8")).hexdigest()
    return int(digest[:8], 16) % 100 < HELDOUT_PERCENT


def split(examples: Iterable[Example]) -> tuple[list[Example], list[Example]]:
    """(train, held-out), duplicates of a prompt dropped (the first one kept)."""
    unique = {e.prompt: e for e in reversed(list(examples))}
    ordered = list(reversed(unique.values()))
    return [e for e in ordered if not is_heldout(e)], [e for e in ordered if is_heldout(e)]


def write_examples(path: Path, examples: Iterable[Example]) -> str:
    """Write JSONL; returns the file's SHA-256."""
    text = "".join(
        json.dumps(e.to_json(), ensure_ascii=False, sort_keys=True) + "\n" for e in examples
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomically(path, text)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_examples(path: Path) -> list[Example]:
    """The examples of a JSONL file written by ``write_examples``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [Example.from_json(json.loads(line)) for line in lines if line.strip()]


def build_dataset(
    directory: Path, records: Iterable[TraceRecord], *, synthetic: int, seed: int
) -> dict[str, Any]:
    """Write train/held-out files and the manifest under ``directory``; returns the manifest."""
    traced = trace_examples(records)
    train, heldout = split(traced + synthetic_examples(synthetic, seed=seed))
    manifest = {
        "train": {"count": len(train), "sha256": write_examples(directory / "train.jsonl", train)},
        "heldout": {
            "count": len(heldout),
            "sha256": write_examples(directory / "heldout.jsonl", heldout),
        },
        "sources": {"trace": len(traced), "synthetic": synthetic},
        "synthetic_seed": seed,
        "heldout_percent": HELDOUT_PERCENT,
    }
    write_text_atomically(directory / "manifest.json", json.dumps(manifest, indent=2) + "\n")
    return manifest
