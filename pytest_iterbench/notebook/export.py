"""Export the completed notebook: HTML through nbconvert, and lighter images.

Assignments are often bloated by images nobody needs at full size. Two
opt-in treatments:

- ``downscale_images``: every PNG/JPEG output and markdown attachment larger
  than ``max_px`` on its longer side is resized (Pillow, Lanczos) and kept
  only if that made it smaller. Cell sources are untouched.
- ``dedupe_html_images``: in the HTML, an image embedded several times is
  stored once (an SVG ``<image>`` definition) and every occurrence refers to
  it with ``<use>``: no JavaScript, same rendering.

The HTML embeds every image (``embed_images``), so it is one self-contained
file, and uses the nbconvert template the user chose (``lab`` by default).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import html
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from nbconvert import HTMLExporter
from nbformat import NotebookNode
from PIL import Image, UnidentifiedImageError

_RESIZABLE = {"image/png": "PNG", "image/jpeg": "JPEG"}
_IMG_TAG = re.compile(
    r"<img\b[^>]*?\bsrc=\"(data:image/(?:png|jpeg|gif);base64,[^\"]+)\"[^>]*>", re.I
)
_ALT = re.compile(r"\balt=\"([^\"]*)\"", re.I)


@dataclass(frozen=True)
class ExportOptions:
    """How to export: nbconvert template, image downscaling and de-duplication."""

    template: str = "lab"  # an nbconvert template name, or a folder holding one
    max_image_px: int | None = None
    dedupe_images: bool = False


@dataclass
class ImageStats:
    """What happened to the images of one notebook."""

    images: int = 0
    downscaled: int = 0
    bytes_before: int = 0
    bytes_after: int = 0
    duplicates_removed: int = 0
    notes: list[str] = field(default_factory=list)


def human_size(size: int) -> str:
    """``1.5 MB``, ``820 kB``, ``12 B``.

    >>> human_size(1536 * 1024)
    '1.6 MB'
    """
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"


def _shrink(data: bytes, mime: str, max_px: int) -> bytes | None:
    """The image fitted into ``max_px``, or None when it is small enough or would not shrink."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if max(image.size) <= max_px:
                return None
            fitted = image.copy()
    except (UnidentifiedImageError, OSError):
        return None
    fitted.thumbnail((max_px, max_px), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image_format = _RESIZABLE[mime]
    if image_format == "JPEG":
        fitted.convert("RGB").save(out, format="JPEG", quality=85, optimize=True)
    else:
        fitted.save(out, format="PNG", optimize=True)
    smaller = out.getvalue()
    return smaller if len(smaller) < len(data) else None


def _decode(payload: str | list[str]) -> bytes | None:
    text = "".join(payload) if isinstance(payload, list) else payload
    try:
        return base64.b64decode(text)
    except (binascii.Error, ValueError):
        return None


def _shrink_bundle(bundle: dict[str, object], max_px: int, stats: ImageStats) -> None:
    for mime in _RESIZABLE:
        payload = bundle.get(mime)
        if not isinstance(payload, str | list):
            continue
        data = _decode(payload)
        if data is None:
            continue
        stats.images += 1
        stats.bytes_before += len(data)
        smaller = _shrink(data, mime, max_px)
        if smaller is not None:
            bundle[mime] = base64.b64encode(smaller).decode("ascii")
            stats.downscaled += 1
        stats.bytes_after += len(smaller if smaller is not None else data)


def downscale_images(nb: NotebookNode, max_px: int) -> ImageStats:
    """Fit every PNG/JPEG output and attachment into ``max_px`` pixels, in place."""
    stats = ImageStats()
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if "data" in output:
                _shrink_bundle(output["data"], max_px, stats)
        for bundle in cell.get("attachments", {}).values():
            _shrink_bundle(bundle, max_px, stats)
    return stats


def _image_size(uri: str) -> tuple[int, int] | None:
    data = _decode(uri.split(",", 1)[1])
    if data is None:
        return None
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except (UnidentifiedImageError, OSError):
        return None


def dedupe_html_images(document: str) -> tuple[str, int]:
    """``document`` with each repeated embedded image stored once; and how many copies went."""
    occurrences: dict[str, int] = {}
    for match in _IMG_TAG.finditer(document):
        occurrences[match.group(1)] = occurrences.get(match.group(1), 0) + 1
    repeated = {uri: _image_size(uri) for uri, count in occurrences.items() if count > 1}
    repeated = {uri: size for uri, size in repeated.items() if size is not None}
    if not repeated:
        return document, 0
    ids = {uri: "ib-img-" + hashlib.sha256(uri.encode()).hexdigest()[:12] for uri in repeated}
    removed = sum(occurrences[uri] - 1 for uri in repeated)

    def use(match: re.Match[str]) -> str:
        uri = match.group(1)
        if uri not in repeated:
            return match.group(0)
        width, height = repeated[uri] or (0, 0)
        alt = _ALT.search(match.group(0))
        title = f"<title>{alt.group(1)}</title>" if alt and alt.group(1) else ""
        return (
            f'<svg class="ib-img" role="img" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" style="max-width:100%;height:auto">'
            f'{title}<use href="#{ids[uri]}"/></svg>'
        )

    body = _IMG_TAG.sub(use, document)
    definitions = "".join(
        f'<image id="{ids[uri]}" width="{size[0]}" height="{size[1]}" href="{html.escape(uri)}"/>'
        for uri, size in repeated.items()
        if size is not None
    )
    sprite = f'<svg style="display:none" aria-hidden="true"><defs>{definitions}</defs></svg>'
    return re.sub(r"(<body\b[^>]*>)", lambda m: m.group(1) + sprite, body, count=1), removed


def _exporter(template: str) -> HTMLExporter:
    folder = Path(template)
    if folder.is_dir():
        return HTMLExporter(  # type: ignore[no-untyped-call]
            template_name=folder.name,
            extra_template_basedirs=[str(folder.parent)],
            embed_images=True,
        )
    return HTMLExporter(template_name=template, embed_images=True)  # type: ignore[no-untyped-call]


def export_html(
    nb: NotebookNode, destination: Path, *, resources_dir: Path, options: ExportOptions
) -> tuple[Path, int]:
    """Write ``nb`` as HTML at ``destination``; images it links to resolve from ``resources_dir``.

    Returns the path and how many duplicate images were folded.
    """
    body, _ = _exporter(options.template).from_notebook_node(
        nb, resources={"metadata": {"path": str(resources_dir), "name": destination.stem}}
    )
    removed = 0
    if options.dedupe_images:
        body, removed = dedupe_html_images(body)
    partial = destination.with_name(f".{destination.name}.partial")
    partial.write_text(body, encoding="utf-8")
    partial.replace(destination)
    return destination, removed
