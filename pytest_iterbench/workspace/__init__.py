"""The workspace layer: definitions (model), their schemas, and loading with validation.

Everything above reads a workspace through :class:`Workspace`; nothing here
imports from a higher layer.
"""

from __future__ import annotations

from pytest_iterbench.workspace.loader import Workspace

__all__ = ["Workspace"]
