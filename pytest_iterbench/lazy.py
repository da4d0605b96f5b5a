"""Re-exports imported on first use (PEP 562).

pytest imports this package for its plugin in every session, and the
``iterbench`` command imports a subpackage to build its arguments: neither
should pay for every module a package re-exports. A package's ``__init__``
lists each public name with the module that owns it, imports them for type
checkers only (``if TYPE_CHECKING:``), and forwards ``__getattr__`` here::

    def __getattr__(name: str) -> Any:
        return lazy.attribute(__name__, _OWNERS, name)

``from pytest_iterbench.llm import Plan`` then imports ``llm.plan`` and nothing
else of the package.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping
from typing import Any


def attribute(package: str, owners: Mapping[str, str], name: str) -> Any:
    """``package.name``, imported from its owner module and kept in the package's namespace."""
    owner = owners.get(name)
    if owner is None:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(owner), name)
    setattr(sys.modules[package], name, value)
    return value


def names(package: str, owners: Mapping[str, str]) -> list[str]:
    """``dir(package)``: what it holds now, and every name it re-exports."""
    return sorted({*vars(sys.modules[package]), *owners})
