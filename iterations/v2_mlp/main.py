"""Iteration v2: a one-hidden-layer torch MLP on scikit-learn's digits.

Uses the same stratified split as v1 (same ``test_size`` and ``seed`` give the
same test set), standard-scales features fit on the training set, and trains on
the CPU with Adam.

Parameters (all optional):

- ``test_size`` (float, default 0.25): fraction of the data held out, stratified.
- ``seed`` (int, default 0): seeds the split, numpy, torch's initialisation and
  the mini-batch shuffling.
- ``learning_rate`` (float, default 1e-3): Adam step size.
- ``epochs`` (int, default 30): passes over the training set.
- ``batch_size`` (int, default 64): mini-batch size.
- ``hidden`` (int, default 128): width of the hidden layer.
- ``dropout`` (float, default 0.0): dropout after the hidden layer.

Outputs: ``y_true`` and ``y_pred`` (test labels and predictions, lists of ints),
``n_train``, ``n_test``, ``n_parameters`` and ``train_seconds``.
"""

from __future__ import annotations

import random
import time
from typing import Any

import numpy as np
import torch
from model import MLP, count_parameters, train
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler


def run(parameters: dict[str, Any]) -> dict[str, Any]:
    """Train the MLP on a stratified split of digits and predict the test set."""
    test_size = float(parameters.get("test_size", 0.25))
    seed = int(parameters.get("seed", 0))
    learning_rate = float(parameters.get("learning_rate", 1e-3))
    epochs = int(parameters.get("epochs", 30))
    batch_size = int(parameters.get("batch_size", 64))
    hidden = int(parameters.get("hidden", 128))
    dropout = float(parameters.get("dropout", 0.0))

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)

    digits = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(
        digits.data,
        digits.target,
        test_size=test_size,
        random_state=seed,
        stratify=digits.target,
    )
    scaler = StandardScaler().fit(x_train)
    x_train = scaler.transform(x_train)
    x_test = scaler.transform(x_test)

    model = MLP(in_features=x_train.shape[1], hidden=hidden, n_classes=10, dropout=dropout)
    start = time.perf_counter()
    train(
        model,
        x_train,
        y_train,
        learning_rate=learning_rate,
        epochs=epochs,
        batch_size=batch_size,
        seed=seed,
    )
    train_seconds = time.perf_counter() - start

    with torch.no_grad():
        logits = model(torch.as_tensor(x_test, dtype=torch.float32))
    y_pred = logits.argmax(dim=1).tolist()

    return {
        "y_true": [int(v) for v in y_test],
        "y_pred": [int(v) for v in y_pred],
        "n_train": len(y_train),
        "n_test": len(y_test),
        "n_parameters": count_parameters(model),
        "train_seconds": round(train_seconds, 4),
    }
