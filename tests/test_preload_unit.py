"""Unit tests of ``pytest_iterbench.execution.preload``: which modules the process template pre-imports."""

from __future__ import annotations

import textwrap

import pytest

from pytest_iterbench.execution.preload import auto_preload, imported_modules, resolve_preload

MAIN = """
import json
import numpy as np
from model import Net
import not_installed_pkg_xyz


def run(parameters):
    return {"y_true": [0], "y_pred": [0]}
"""


@pytest.fixture
def iteration_dir(tmp_path):
    """An iteration folder whose main.py imports numpy, the stdlib, a local module and a missing one."""
    folder = tmp_path / "v1"
    folder.mkdir()
    (folder / "main.py").write_text(textwrap.dedent(MAIN), encoding="utf-8")
    (folder / "model.py").write_text("class Net:\n    pass\n", encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import a.b", {"a.b"}),
        ("import a.b as c, d", {"a.b", "d"}),
        ("from c.d import e", {"c.d"}),
        ("def f():\n    import inner\n", {"inner"}),
        ("from . import x\nfrom .sibling import y\nfrom ..up import z", set()),
        ("import a\nfrom . import x", {"a"}),
        ("import a\ndef broken(:\n", set()),
        ("", set()),
    ],
    ids=["import", "aliases", "from", "nested", "relative", "mixed", "syntax-error", "empty"],
)
def test_imported_modules(source, expected):
    assert imported_modules(source) == expected


def test_auto_preload_keeps_installed_third_party_packages(iteration_dir):
    assert auto_preload([iteration_dir]) == ["numpy"]


def test_auto_preload_never_preloads_a_module_of_an_iteration_folder(tmp_path, iteration_dir):
    # "numpy" shadowed by a folder of a second iteration is that iteration's own code
    other = tmp_path / "v2"
    (other / "numpy").mkdir(parents=True)
    assert auto_preload([iteration_dir, other]) == []


def test_auto_preload_skips_missing_folders(tmp_path, iteration_dir):
    assert auto_preload([tmp_path / "absent", iteration_dir]) == ["numpy"]


@pytest.mark.parametrize("setting", [["none"], []])
def test_resolve_preload_none(setting, iteration_dir):
    assert resolve_preload(setting, [iteration_dir]) == []


def test_resolve_preload_auto_adds_the_detected_modules(iteration_dir):
    assert resolve_preload(["auto", "json"], [iteration_dir]) == ["json", "numpy"]


def test_resolve_preload_explicit_names_without_auto(iteration_dir):
    assert resolve_preload(["json", "numpy"], [iteration_dir]) == ["json", "numpy"]


def test_resolve_preload_lists_each_module_once(iteration_dir):
    assert resolve_preload(["numpy", "auto"], [iteration_dir]) == ["numpy"]
