"""The report as a document: blocks of inline spans, written out as clean Markdown.

One document feeds every form of the report (:mod:`pytest_iterbench.report.html`
writes the same blocks as HTML), so the forms cannot drift apart. The Markdown
passes ``pymarkdownlnt`` with its default rules (line length aside): text is
escaped span by span, every table row has its header's column count, blocks
are separated by one blank line, fenced blocks name their language, and no
line ends in a space.
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import quote

SpanStyle = Literal["text", "code", "bold", "link"]
Align = Literal["left", "right"]

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~])")
_BARE_WWW = re.compile(r"\bwww\.")
_WHITESPACE = re.compile(r"\s+")
_SPACE_RUNS = re.compile(" {2,}")
#: Text made only of these needs no escaping (the common case: numbers, ids, words).
_PLAIN = frozenset(string.ascii_letters + string.digits + " .,;:-+=()%±×/'\"")


def _escape_run(text: str) -> str:
    """Escape Markdown syntax and defuse bare URLs in text already on one line."""
    if _PLAIN.issuperset(text) and "://" not in text and "www." not in text:
        return text
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    return _BARE_WWW.sub(r"www\\.", text.replace("://", "\\://"))


def escape_cell(text: str) -> str:
    r"""Make ``text`` one line of literal Markdown text, safe in a table cell or a list item.

    Backslash-escapes what Markdown would read as syntax (pipes, backticks,
    emphasis, HTML, links) and defuses bare URLs, so any name or reason passes
    the linter and renders as written.

    >>> print(escape_cell("a|b\nc <x> see https://h.io"))
    a\|b c \<x\> see https\://h.io
    """
    return _escape_run(" ".join(text.split()))


def code_span(text: str) -> str:
    r"""``text`` as inline code, or as escaped text where a code span cannot hold it.

    A backtick would end the span, and a pipe would end a table cell even
    inside one, so such names are written as escaped text instead.

    >>> print(code_span("v1-baseline"), code_span("odd`id"), code_span("a|b"))
    `v1-baseline` odd\`id a\|b
    """
    if text and "`" not in text and "|" not in text and text == " ".join(text.split()):
        return f"`{text}`"
    return escape_cell(text)


def format_value(value: float | None) -> str:
    """Four significant digits, without scientific notation for everyday magnitudes.

    >>> format_value(96.8888), format_value(3.0), format_value(None), format_value(1.5e-7)
    ('96.89', '3', 'n/a', '1.500e-07')
    """
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    if value == 0 or 1e-3 <= abs(value) < 1e6:
        digits = max(0, 3 - math.floor(math.log10(abs(value)))) if value else 0
        return f"{value:.{digits}f}"
    return f"{value:.3e}"


def format_signed(value: float) -> str:
    """A change with its sign: ``+0.8900``, ``-3``, ``0``.

    >>> format_signed(0.89), format_signed(-3.0), format_signed(0.0)
    ('+0.8900', '-3', '0')
    """
    return ("+" if value > 0 else "") + format_value(value)


def format_percent(fraction: float) -> str:
    """A relative change in percent, with its sign and two significant digits or so.

    >>> format_percent(-0.0588), format_percent(0.00123), format_percent(1.5)
    ('-5.9 %', '+0.12 %', '+150 %')
    """
    percent = fraction * 100
    digits = 0 if abs(percent) >= 10 else 1 if abs(percent) >= 1 else 2
    return f"{percent:+.{digits}f} %"


@dataclass(frozen=True)
class Span:
    """A run of inline text: plain, code, bold, or a link to ``href`` (a relative path)."""

    text: str
    style: SpanStyle = "text"
    href: str = ""


Inline = tuple[Span, ...]


def text(value: str) -> Span:
    return Span(value)


def code(value: str) -> Span:
    return Span(value, "code")


def bold(value: str) -> Span:
    return Span(value, "bold")


def link(label: str, href: str) -> Span:
    return Span(label, "link", href)


def line(*parts: Span | str) -> Inline:
    """Spans from spans and plain strings: ``line("Baseline: ", code("v1"))``."""
    return tuple(Span(p) if isinstance(p, str) else p for p in parts)


def joined(items: Iterable[Inline], separator: str = ", ") -> Inline:
    """Inline runs one after another, separated by plain ``separator``."""
    out: list[Span] = []
    for k, item in enumerate(items):
        if k:
            out.append(Span(separator))
        out.extend(item)
    return tuple(out)


@dataclass(frozen=True)
class Heading:
    level: int
    content: Inline


@dataclass(frozen=True)
class Paragraph:
    content: Inline


@dataclass(frozen=True)
class Table:
    """A table; ``rows`` must have as many cells as ``header``. An empty cell reads ``-``."""

    header: tuple[Inline, ...]
    align: tuple[Align, ...]
    rows: tuple[tuple[Inline, ...], ...]


@dataclass(frozen=True)
class ListItem:
    content: Inline
    children: tuple[ListItem, ...] = ()


@dataclass(frozen=True)
class BulletList:
    items: tuple[ListItem, ...]


@dataclass(frozen=True)
class CodeBlock:
    language: str
    source: str


@dataclass(frozen=True)
class Diagram:
    """A Mermaid diagram; forms that cannot run Mermaid show ``fallback`` instead."""

    mermaid: str
    fallback: BulletList


@dataclass(frozen=True)
class Image:
    """A picture at ``path``, relative to the report's folder."""

    alt: str
    path: str


Block = Heading | Paragraph | Table | BulletList | CodeBlock | Diagram | Image


@dataclass
class Document:
    """A report: a title and its blocks, in order."""

    title: str
    blocks: list[Block] = field(default_factory=list)

    def add(self, *blocks: Block) -> None:
        self.blocks.extend(blocks)


# -- Markdown --------------------------------------------------------------------------------


def _span_markdown(span: Span) -> str:
    flat = _WHITESPACE.sub(" ", span.text)
    if span.style == "code":
        return code_span(flat.strip())
    if span.style == "bold":
        inner = _escape_run(flat.strip())
        return f"**{inner}**" if inner else ""
    if span.style == "link":
        label = _escape_run(flat.strip()) or "link"
        return f"[{label}]({url_path(span.href)})"
    return _escape_run(flat)


def inline_markdown(content: Sequence[Span]) -> str:
    """Spans as one line of Markdown, without leading or trailing spaces."""
    return _SPACE_RUNS.sub(" ", "".join(_span_markdown(s) for s in content)).strip()


def url_path(path: str) -> str:
    """A relative path as a URL path: spaces, parentheses and other odd characters quoted.

    >>> url_path("plots/run 1/a(b).png")
    'plots/run%201/a%28b%29.png'
    """
    return quote(path, safe="/._-~")


def _cell(content: Inline) -> str:
    return inline_markdown(content) or "-"


def _table_markdown(table: Table) -> list[str]:
    width = len(table.header)
    rule = {"left": "---", "right": "---:"}
    lines = [
        "| " + " | ".join(_cell(c) for c in table.header) + " |",
        "| " + " | ".join(rule[a] for a in table.align) + " |",
    ]
    for row in table.rows:
        if len(row) != width:
            raise ValueError(f"table row of {len(row)} cells under a header of {width}")
        lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
    return lines


def _list_markdown(items: Sequence[ListItem], depth: int = 0) -> list[str]:
    lines = []
    for item in items:
        lines.append("  " * depth + "- " + (inline_markdown(item.content) or "-"))
        lines += _list_markdown(item.children, depth + 1)
    return lines


def _fence(language: str, source: str) -> list[str]:
    ticks = "```"
    while ticks in source:
        ticks += "`"
    return [ticks + language, *(s.rstrip() for s in source.splitlines()), ticks]


def block_markdown(block: Block) -> list[str]:
    """One block as Markdown lines (no surrounding blank lines)."""
    if isinstance(block, Heading):
        return ["#" * block.level + " " + inline_markdown(block.content)]
    if isinstance(block, Paragraph):
        return [inline_markdown(block.content)]
    if isinstance(block, Table):
        return _table_markdown(block)
    if isinstance(block, BulletList):
        return _list_markdown(block.items)
    if isinstance(block, CodeBlock):
        return _fence(block.language, block.source)
    if isinstance(block, Diagram):
        return _fence("mermaid", block.mermaid)
    alt = _escape_run(" ".join(block.alt.split())) or "plot"
    return [f"![{alt}]({url_path(block.path)})"]


def to_markdown(document: Document) -> str:
    """The document as Markdown: the title as the one H1, blocks one blank line apart."""
    parts = [[f"# {escape_cell(document.title)}"]]
    parts += [block_markdown(b) for b in document.blocks]
    return "\n\n".join("\n".join(p) for p in parts if p) + "\n"
