"""Fixtures shared by the example workspace's metric tests (``metrics/test_*.py``).

A metric test takes the ``iteration`` fixture (the iteration under test, executed
once per session) and records its value with ``record_result``; the fixtures
here read what several metric tests need from it.
"""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def labels(iteration: Any) -> tuple[list[Any], list[Any]]:
    """``(y_true, y_pred)`` from the iteration's outputs, the contract of classification iterations.

    A missing key fails the test with the outputs the iteration did return.
    """
    outputs = iteration.outputs
    missing = [key for key in ("y_true", "y_pred") if key not in outputs]
    if missing:
        pytest.fail(
            f"iteration {iteration.id!r}: run() returned no {', '.join(missing)}; "
            f"outputs: {', '.join(sorted(outputs)) or '(none)'}",
            pytrace=False,
        )
    return list(outputs["y_true"]), list(outputs["y_pred"])
