"""The built-in accuracy and macro-F1 give sklearn's value, without importing sklearn (or numpy) for plain labels."""

from __future__ import annotations

import random
import subprocess
import sys

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score

from pytest_iterbench.metrics.builtin import AccuracyMetric, F1MacroMetric, numpy_mean


def _cases() -> list[tuple[object, object]]:
    rng = random.Random(16)
    cases: list[tuple[object, object]] = []
    for n_labels, n_samples in [(1, 1), (2, 7), (3, 30), (9, 50), (20, 400), (150, 2000)]:
        for _ in range(3):
            y_true = [rng.randrange(n_labels) for _ in range(n_samples)]
            y_pred = [rng.randrange(n_labels + 2) - 1 for _ in range(n_samples)]
            cases += [
                (y_true, y_pred),
                (tuple(y_true), np.asarray(y_pred)),
                ([f"c{v}" for v in y_true], [f"c{v}" for v in y_pred]),
                (np.asarray(y_true, dtype=np.uint8 if n_labels < 200 else int), list(y_pred)),
            ]
    return cases


@pytest.mark.parametrize("case", range(len(_cases())))
def test_the_scores_equal_sklearns(case):
    y_true, y_pred = _cases()[case]
    assert AccuracyMetric().score(y_true, y_pred) == float(accuracy_score(y_true, y_pred))
    expected = float(f1_score(y_true, y_pred, average="macro"))
    assert F1MacroMetric().score(y_true, y_pred) == expected


@pytest.mark.parametrize(
    ("y_true", "y_pred"),
    [
        ([0.0, 1.0, 1.0], [0.0, 1.0, 0.0]),  # floats
        ([True, False], [True, True]),  # booleans
        (np.asarray([[0, 1], [1, 1]]), np.asarray([[0, 1], [1, 0]])),  # multilabel
    ],
    ids=["floats", "booleans", "multilabel"],
)
def test_other_labels_go_to_sklearn(y_true, y_pred):
    assert AccuracyMetric().score(y_true, y_pred) == float(accuracy_score(y_true, y_pred))
    expected = float(f1_score(y_true, y_pred, average="macro"))
    assert F1MacroMetric().score(y_true, y_pred) == expected


@pytest.mark.parametrize(
    ("y_true", "y_pred"),
    [([0, 1, 2], [0, 1]), ([0, 1], ["a", "b"]), ([0.5, 1.5], [0, 1])],
    ids=["lengths", "mixed-types", "continuous"],
)
def test_sklearns_errors_stand(y_true, y_pred):
    for metric in (AccuracyMetric(), F1MacroMetric()):
        with pytest.raises((ValueError, TypeError)):
            metric.score(y_true, y_pred)


def test_plain_labels_import_neither_sklearn_nor_numpy():
    script = (
        "import sys\n"
        "from pytest_iterbench.metrics.builtin import AccuracyMetric, F1MacroMetric\n"
        "print(AccuracyMetric().score([0, 1, 1], [0, 1, 0]), F1MacroMetric().score(['a', 'b'], ['a', 'a']))\n"
        "print('sklearn' in sys.modules, 'numpy' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == [repr(2 / 3), repr((2 / 3 + 0.0) / 2), "False", "False"]


@pytest.mark.parametrize(
    "count",
    [1, 2, 7, 8, 9, 15, 16, 17, 127, 128, 129, 130, 255, 256, 257, 1000, 8191, 8192, 8193, 100_000],
)
def test_the_pairwise_mean_is_numpys_to_the_last_bit(count):
    rng = random.Random(count)
    for scale in (1.0, 1e-3, 1e9):
        values = [rng.random() * scale for _ in range(count)]
        assert numpy_mean(values) == float(np.mean(np.asarray(values, dtype=np.float64)))
    ratios = [2.0 * rng.randrange(50) / rng.randrange(1, 100) for _ in range(count)]
    assert numpy_mean(ratios) == float(np.mean(np.asarray(ratios, dtype=np.float64)))
