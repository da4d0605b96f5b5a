"""A metric class written to the seed's signature: it reads the iteration's sources."""

from __future__ import annotations

from pathlib import Path

from pytest_iterbench import BaseMetric, MetricResult


class SourceLinesMetric(BaseMetric):
    """Non-blank, non-comment lines of Python in the iteration's folder."""

    metric_id = "source_lines"
    higher_is_better = False
    unit = "lines"

    def measure(self, iteration_path: str, entry_point: str, parameters: dict) -> MetricResult:
        files = sorted(Path(iteration_path).rglob("*.py"))
        lines = [
            line
            for path in files
            for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.strip().startswith("#")
        ]
        return MetricResult(
            self.metric_id, float(len(lines)), self.unit, {"files": [p.name for p in files]}
        )
