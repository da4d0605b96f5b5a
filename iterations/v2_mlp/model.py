"""A small fully connected network for 8x8 digits and its training loop (CPU only)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class MLP(nn.Module):
    """``in_features -> hidden -> n_classes`` with a ReLU and optional dropout."""

    def __init__(
        self,
        in_features: int = 64,
        hidden: int = 128,
        n_classes: int = 10,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Linear(in_features, hidden), nn.ReLU()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(hidden, n_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return class logits of shape ``(batch, n_classes)``."""
        return self.net(x)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters of ``model``."""
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad))


def train(
    model: nn.Module,
    x: np.ndarray,
    y: np.ndarray,
    *,
    learning_rate: float,
    epochs: int,
    batch_size: int,
    seed: int,
) -> None:
    """Train ``model`` in place with Adam and cross-entropy on shuffled mini-batches.

    Shuffling uses its own ``torch.Generator`` seeded with ``seed``, so the run is
    deterministic whatever else has touched torch's global random state.
    """
    features = torch.as_tensor(x, dtype=torch.float32)
    labels = torch.as_tensor(y, dtype=torch.long)
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    loss_fn = nn.CrossEntropyLoss()
    n = features.shape[0]

    model.train()
    for _ in range(epochs):
        order = torch.randperm(n, generator=generator)
        for start in range(0, n, batch_size):
            index = order[start : start + batch_size]
            optimizer.zero_grad()
            loss = loss_fn(model(features[index]), labels[index])
            loss.backward()
            optimizer.step()
    model.eval()
