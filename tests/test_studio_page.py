"""The page's own files: ES5 only (browsers a decade old), nothing fetched from the internet."""

from __future__ import annotations

import re
from pathlib import Path

import pyjsparser
import pytest

STATIC = Path(__file__).resolve().parents[1] / "pytest_iterbench" / "studio" / "static"
#: What ES5.1 lacks, or an old Safari refuses, that pyjsparser's grammar lets through.
LATER_THAN_ES5 = re.compile(
    r"\b(let|const)\s+\w|\bfetch\(|\bPromise\b|\.includes\(|Object\.assign|\basync\b|\bawait\b|\.\.\.\w"
)


def test_the_script_is_es5():
    source = (STATIC / "studio.js").read_text(encoding="utf-8")
    pyjsparser.parse(source)  # raises on arrow functions, classes, template literals, modules
    assert LATER_THAN_ES5.findall(source) == []


@pytest.mark.parametrize(
    "later", ["var f = (x) => x;", "class A {}", "var s = `t`;", "import a from 'b';"]
)
def test_the_es5_check_refuses_later_syntax(later):
    with pytest.raises(pyjsparser.JsSyntaxError):
        pyjsparser.parse(later)


def test_the_page_loads_nothing_from_elsewhere():
    for path in STATIC.iterdir():
        text = path.read_text(encoding="utf-8")
        urls = set(re.findall(r"(?:https?:)?//[\w.-]+\.\w+[^\s\"')]*", text)) - {
            "http://www.w3.org/2000/svg"  # the SVG namespace: a name, never fetched
        }
        assert urls == set(), f"{path.name}: {urls}"
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    assert re.findall(r'(?:src|href)="([^"]+)"', page) == [
        "/static/studio.css",
        "/code.css",
        "/report",
        "/static/studio.js",
    ]
