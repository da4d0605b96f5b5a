"""A workspace's metric classes come from its own ``metrics/`` package, whatever this process imported before."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_iterbench.workspace.loader import Workspace
from tests.conftest import WorkspaceBuilder

RATE = """
from pytest_iterbench.metrics import BaseMetric, MetricResult


class Rate(BaseMetric):
    def measure_execution(self, execution):
        return MetricResult(value={value})
"""


def _workspace(root: Path, value: float) -> Path:
    (root / "metrics").mkdir(parents=True)
    (root / "metrics" / "__init__.py").write_text("")
    (root / "metrics" / "rates.py").write_text(RATE.format(value=value))
    builder = WorkspaceBuilder(root).iteration("v1").metric("rate", "metrics.rates.Rate")
    return builder.run().write()


def _origin(workspace: Workspace) -> Path:
    """The file the workspace's metric class was read from (its code knows; ``sys.modules`` moves on)."""
    return Path(workspace.metric_classes["rate"].measure_execution.__code__.co_filename)


def test_a_second_workspace_in_the_same_process_measures_with_its_own_metric_class(
    tmp_path: Path,
) -> None:
    first = Workspace.load(_workspace(tmp_path / "a", 1.0))
    second = Workspace.load(_workspace(tmp_path / "b", 2.0))
    assert _origin(first) == tmp_path / "a" / "metrics" / "rates.py"
    assert _origin(second) == tmp_path / "b" / "metrics" / "rates.py"
    assert first.metric_classes["rate"] is not second.metric_classes["rate"]
    again = Workspace.load(tmp_path / "b")
    assert again.metric_classes["rate"] is second.metric_classes["rate"], "its own import is kept"


def test_a_metrics_package_from_the_current_folder_does_not_shadow_the_workspaces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "metrics").mkdir(parents=True)
    (elsewhere / "metrics" / "__init__.py").write_text("")
    (elsewhere / "metrics" / "rates.py").write_text(RATE.format(value=9.0))
    monkeypatch.syspath_prepend(str(elsewhere))
    __import__("metrics.rates")  # what a conftest or a notebook of that folder may have done
    workspace = Workspace.load(_workspace(tmp_path / "ws", 3.0))
    assert _origin(workspace) == tmp_path / "ws" / "metrics" / "rates.py"
