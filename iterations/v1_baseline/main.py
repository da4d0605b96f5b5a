"""Iteration v1: a scaled logistic-regression baseline on scikit-learn's digits.

Parameters (all optional):

- ``test_size`` (float, default 0.25): fraction of the data held out, stratified.
- ``seed`` (int, default 0): ``random_state`` of the split and of the solver.
- ``C`` (float, default 1.0): inverse regularisation strength.
- ``max_iter`` (int, default 1000): solver iteration limit.

Outputs: ``y_true`` and ``y_pred`` (test labels and predictions, lists of ints),
``n_train``, ``n_test`` and ``train_seconds``.
"""

from __future__ import annotations

import time
from typing import Any

from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler


def run(parameters: dict[str, Any]) -> dict[str, Any]:
    """Fit the baseline on a stratified split of digits and predict the test set."""
    test_size = float(parameters.get("test_size", 0.25))
    seed = int(parameters.get("seed", 0))
    c = float(parameters.get("C", 1.0))
    max_iter = int(parameters.get("max_iter", 1000))

    digits = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(
        digits.data,
        digits.target,
        test_size=test_size,
        random_state=seed,
        stratify=digits.target,
    )

    pipeline = Pipeline(
        [
            ("scale", StandardScaler()),
            ("clf", LogisticRegression(C=c, max_iter=max_iter, random_state=seed)),
        ]
    )
    start = time.perf_counter()
    pipeline.fit(x_train, y_train)
    train_seconds = time.perf_counter() - start
    y_pred = pipeline.predict(x_test)

    return {
        "y_true": [int(v) for v in y_test],
        "y_pred": [int(v) for v in y_pred],
        "n_train": len(y_train),
        "n_test": len(y_test),
        "train_seconds": round(train_seconds, 4),
    }
