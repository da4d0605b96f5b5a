"""Re-exports imported on first use (PEP 562).

pytest imports this package for its plugin in every session, and the
``iterbench`` command imports a subpackage to build its arguments: neither
should pay for every module a package re-exports. A package's ``__init__``
lists each public name with the module that owns it, imports them for type
checkers only (``if TYPE_CHECKING:``), and takes its PEP 562 hooks from here::

    __getattr__, __dir__ = lazy.exports(__name__, _OWNERS)

``from pytest_iterbench.llm import Plan`` then imports ``llm.plan`` and nothing
else of the package.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def exports(
    package: str, owners: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``, which re-exports each name of ``owners``."""

    def attribute(name: str) -> Any:
        """``package.name``, imported from its owner module and kept in the package's namespace."""
        owner = owners.get(name)
        if owner is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(owner), name)
        setattr(sys.modules[package], name, value)
        return value

    def names() -> list[str]:
        """``dir(package)``: what it holds now, and every name it re-exports."""
        return sorted({*vars(sys.modules[package]), *owners})

    return attribute, names
