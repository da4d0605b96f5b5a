"""The report's narrative section ("what won and why"), where every number comes from the results.

A model writes a few sentences from the run's latest values; each number in
a sentence must match one of those values (at the precision written, as is
or as a percentage) or the sentence is dropped, and the section says which
sentences were dropped and why. Numbers inside names (``v1-baseline``,
``run-001``) are names, not numbers.

>>> check_sentences(["v2-mlp wins with 97.5 % accuracy.", "It is 20 % faster."], [0.975])
(['v2-mlp wins with 97.5 % accuracy.'], ['It is 20 % faster.'])
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pytest_iterbench.errors import Problem
from pytest_iterbench.llm.messages import MessageSender
from pytest_iterbench.llm.structured import Ask, Tool, ask_structured
from pytest_iterbench.report.document import Block, Heading, Paragraph, line

NARRATIVE_TOOL = "submit_narrative"
HEADING = "What won and why"
_NUMBER = re.compile(r"(?<![\w.\-])(\d+(?:\.\d+)?)(?![\w\-]|\.\d)")
NARRATOR_SYSTEM = f"""\
You write the short narrative of a benchmark report: which iteration won and why, in 2 to 5 \
plain sentences. Use only the numbers in the results you are given, written as given or \
rounded; a sentence with any other number is removed. Answer by calling {NARRATIVE_TOOL}."""


def numbers_in(sentence: str) -> list[str]:
    """The numbers a sentence states (not those inside names such as ``v1`` or ``run-001``)."""
    return _NUMBER.findall(sentence)


def _matches(written: str, values: Iterable[float]) -> bool:
    decimals = len(written.partition(".")[2])
    number = float(written)
    for value in values:
        for candidate in (value, value * 100, value / 100):
            if round(candidate, decimals) == number:
                return True
    return False


def check_sentences(
    sentences: Sequence[str], values: Sequence[float]
) -> tuple[list[str], list[str]]:
    """``(kept, dropped)``: a sentence is kept when every number in it matches a value."""
    kept: list[str] = []
    dropped: list[str] = []
    for sentence in sentences:
        ok = all(_matches(number, values) for number in numbers_in(sentence))
        (kept if ok else dropped).append(sentence)
    return kept, dropped


def latest_values(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The latest passed value of each (iteration, metric), in first-seen order."""
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for record in records:
        if record.get("status") == "passed" and isinstance(record.get("value"), int | float):
            key = (record["iteration_id"], record["metric_id"])
            if key not in latest or record["executed_at"] >= latest[key]["executed_at"]:
                latest[key] = record
    return [
        {
            "iteration": r["iteration_id"],
            "metric": r["metric_id"],
            "value": r["value"],
            "unit": r.get("unit", ""),
        }
        for r in latest.values()
    ]


@dataclass
class Narrative:
    """The sentences kept and dropped; ``blocks()`` is the report section."""

    kept: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)

    def blocks(self) -> list[Block]:
        if not self.kept and not self.dropped:
            return []
        blocks: list[Block] = [Heading(2, line(HEADING))]
        if self.kept:
            blocks.append(Paragraph(line(" ".join(self.kept))))
        if self.dropped:
            blocks.append(
                Paragraph(line(
                    f"{len(self.dropped)} sentence(s) of the model's narrative were dropped: "
                    "they state numbers that are not in the results."
                ))
            )  # fmt: skip
        return blocks

    def to_json(self) -> dict[str, Any]:
        return {"kept": self.kept, "dropped": self.dropped}


def _checker(data: dict[str, Any]) -> list[Problem]:
    sentences = data.get("sentences")
    if (
        not isinstance(sentences, list)
        or not sentences
        or not all(isinstance(s, str) and s.strip() for s in sentences)
    ):
        return [Problem(NARRATIVE_TOOL, "sentences", "expected a non-empty list of sentences")]
    return []


class ClaudeNarrator:
    """Asks a model for the narrative, then checks every number against the results."""

    def __init__(self, sender: MessageSender) -> None:
        self.sender = sender

    def narrate(self, run_id: str, values: list[dict[str, Any]]) -> Narrative:
        schema = {
            "type": "object",
            "required": ["sentences"],
            "additionalProperties": False,
            "properties": {"sentences": {"type": "array", "items": {"type": "string"}}},
        }
        tool = Tool(NARRATIVE_TOOL, "Submit the narrative, one sentence per item.", schema)
        ask = Ask(self.sender, "reviewer", tool, _checker, 1)
        table = "\n".join(
            f"{v['iteration']} {v['metric']} = {v['value']} {v['unit']}" for v in values
        )
        result = ask_structured(ask, NARRATOR_SYSTEM, f"Run {run_id}, latest results:\n{table}")
        if not result.ok or result.data is None:
            return Narrative([], [f"(no valid narrative: {'; '.join(map(str, result.problems))})"])
        kept, dropped = check_sentences(result.data["sentences"], [v["value"] for v in values])
        return Narrative(kept, dropped)
