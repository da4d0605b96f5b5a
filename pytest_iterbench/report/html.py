"""The report as one self-contained HTML file: the same document, plots inlined as base64.

Nothing is fetched when the file is opened: the style sheet is inline, each
picture is a ``data:`` URI read from the file the Markdown links to, and the
lineage, which Markdown draws with Mermaid, is a nested list (the Mermaid
source follows in a collapsed block), since no Mermaid script can run offline.
"""

from __future__ import annotations

import base64
import html
import mimetypes
import re
from collections.abc import Sequence
from pathlib import Path

from pytest_iterbench.report.document import (
    Block,
    BulletList,
    CodeBlock,
    Diagram,
    Document,
    Heading,
    Image,
    ListItem,
    Paragraph,
    Span,
    Table,
)

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
       max-width: 72rem; padding: 0 1rem; color: #1f2328; line-height: 1.5; }
h1, h2, h3 { line-height: 1.25; }
h2 { border-bottom: 1px solid #d1d9e0; padding-bottom: .3rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: 1rem 0; display: block; overflow-x: auto; }
th, td { border: 1px solid #d1d9e0; padding: .3rem .7rem; vertical-align: top; }
th { background: #f6f8fa; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
code { background: #eff1f3; border-radius: 4px; padding: .1rem .3rem; font-size: 90%; }
pre { background: #f6f8fa; padding: 1rem; overflow-x: auto; }
img { max-width: 100%; height: auto; display: block; margin: 1rem 0; }
details summary { cursor: pointer; color: #59636e; }
""".strip()


def _span_html(span: Span) -> str:
    escaped = html.escape(
        " ".join(span.text.split()) if span.style != "text" else re.sub(r"\s+", " ", span.text)
    )
    if span.style == "code":
        return f"<code>{escaped}</code>"
    if span.style == "bold":
        return f"<strong>{escaped}</strong>"
    if span.style == "link":
        return f'<a href="{html.escape(span.href, quote=True)}">{escaped}</a>'
    return escaped


def inline_html(content: Sequence[Span]) -> str:
    """Spans as HTML, every character of the text escaped."""
    return "".join(_span_html(s) for s in content).strip()


def _slug(text: str, used: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"
    slug, k = base, 1
    while slug in used:
        k += 1
        slug = f"{base}-{k}"
    used.add(slug)
    return slug


def _table_html(table: Table) -> str:
    def cells(row: Sequence[Sequence[Span]], tag: str) -> str:
        return "".join(
            f"<{tag}{' class=num' if align == 'right' else ''}>{inline_html(c) or '-'}</{tag}>"
            for c, align in zip(row, table.align, strict=True)
        )

    head = f"<thead><tr>{cells(table.header, 'th')}</tr></thead>"
    body = "".join(f"<tr>{cells(row, 'td')}</tr>" for row in table.rows)
    return f"<table>{head}<tbody>{body}</tbody></table>"


def _list_html(items: Sequence[ListItem]) -> str:
    inner = "".join(
        f"<li>{inline_html(item.content)}{_list_html(item.children) if item.children else ''}</li>"
        for item in items
    )
    return f"<ul>{inner}</ul>"


def _image_html(image: Image, base: Path) -> str:
    path = base / image.path
    alt = html.escape(image.alt, quote=True)
    try:
        data = base64.b64encode(path.read_bytes()).decode("ascii")
    except OSError:
        return f"<p>(plot missing: {html.escape(image.path)})</p>"
    mime = mimetypes.guess_type(path.name)[0] or "image/png"
    return f'<img alt="{alt}" src="data:{mime};base64,{data}">'


def block_html(block: Block, base: Path, used: set[str]) -> str:
    """One block as HTML; pictures are read from ``base`` and inlined."""
    if isinstance(block, Heading):
        content = inline_html(block.content)
        slug = _slug(" ".join(s.text for s in block.content), used)
        return f'<h{block.level} id="{slug}">{content}</h{block.level}>'
    if isinstance(block, Paragraph):
        return f"<p>{inline_html(block.content)}</p>"
    if isinstance(block, Table):
        return _table_html(block)
    if isinstance(block, BulletList):
        return _list_html(block.items)
    if isinstance(block, CodeBlock):
        language = html.escape(block.language, quote=True)
        return f'<pre><code class="language-{language}">{html.escape(block.source)}</code></pre>'
    if isinstance(block, Diagram):
        source = html.escape(block.mermaid)
        return (
            _list_html(block.fallback.items)
            + f"<details><summary>Mermaid source</summary><pre><code>{source}</code></pre></details>"
        )
    return _image_html(block, base)


def to_html(document: Document, base: Path) -> str:
    """The document as a standalone HTML page; ``base`` is the folder image paths are relative to."""
    used: set[str] = set()
    title = html.escape(document.title)
    body = "\n".join(block_html(b, base, used) for b in document.blocks)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title}</title>\n<style>\n{STYLE}\n</style>\n</head>\n<body>\n"
        f"<h1>{title}</h1>\n{body}\n</body>\n</html>\n"
    )
