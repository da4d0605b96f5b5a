"""A metric test: the way to add a metric without writing a class."""

from __future__ import annotations

import pytest
from sklearn.metrics import balanced_accuracy_score


@pytest.mark.metric("balanced_accuracy")
def test_balanced_accuracy(iteration, labels, record_result):
    y_true, y_pred = labels  # the repository's conftest.py reads them from iteration.outputs
    score = balanced_accuracy_score(y_true, y_pred)
    record_result(score, n_samples=len(y_true))
    assert score > 0.5, f"{iteration.id} is barely better than chance: {score:.3f}"
