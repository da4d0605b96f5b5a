"""A package's re-exports are imported on first use: importing the package imports none of them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

PACKAGES = [
    "pytest_iterbench",
    "pytest_iterbench.kernel",
    "pytest_iterbench.llm",
    "pytest_iterbench.notebook",
    "pytest_iterbench.orchestrator",
    "pytest_iterbench.report",
]

SCRIPT = """
import importlib, json, sys
package = importlib.import_module(sys.argv[1])
owners = sorted(set(package._OWNERS.values()) - {sys.argv[1]})
imported = [owner for owner in owners if owner in sys.modules]
missing = [name for name in package.__all__ if getattr(package, name, None) is None]
listed = sorted(set(package.__all__) - set(dir(package)))
try:
    package.no_such_name
    unknown = "resolved"
except AttributeError as exc:
    unknown = str(exc)
print(json.dumps([imported, missing, listed, sorted(package._OWNERS) == sorted(package.__all__), unknown]))
"""


@pytest.mark.parametrize("package", PACKAGES)
def test_a_package_imports_its_exports_only_when_used(package):
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, package], capture_output=True, text=True, check=True
    )
    imported, missing, listed, same_names, unknown = json.loads(out.stdout)
    assert imported == [], "imported with the package"
    assert missing == []
    assert listed == []
    assert same_names, "__all__ and _OWNERS name the same exports"
    assert unknown == f"module {package!r} has no attribute 'no_such_name'"
