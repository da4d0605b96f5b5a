"""The files beside a notebook that it uses: they travel with it to ``output/`` and ``done/``.

A notebook in ``input/`` often needs its neighbours: ``%run helper.py``,
``import course_utils`` (``course_utils.py`` or a ``course_utils/`` package),
``images/`` its markdown shows, data files its code opens. ``neighbours``
finds them by reading the cells: each ``%run`` path, each imported module's
name, and each path-like word that names an existing entry of the folder.
What it returns are top-level entries of the folder (``images``, not
``images/a.png``), never another notebook, never the folder's bookkeeping.

>>> neighbours(nb, Path("input"))  # doctest: +SKIP
[PosixPath('input/course_utils.py'), PosixPath('input/data'), PosixPath('input/images')]
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from nbformat import NotebookNode

_RUN = re.compile(r"^\s*%run\s+(?:-\w+\s+)*([^\s;]+)", re.M)
_IMPORT = re.compile(r"^\s*(?:from\s+([\w.]+)\s+import|import\s+([\w., ]+))", re.M)
_PATHLIKE = re.compile(r"[\w][\w./\\-]*")
_SKIPPED = {".iterbench", "__pycache__", ".ipynb_checkpoints", ".git"}


def _candidates(nb: NotebookNode) -> set[str]:
    words: set[str] = set()
    for cell in nb.cells:
        source = str(cell.source)
        words.update(_RUN.findall(source))
        if cell.cell_type == "code":
            for found in _IMPORT.findall(source):
                for name in (found[0], *found[1].split(",")):
                    top = name.strip().split(" ")[0].split(".")[0]
                    if top:
                        words.update({f"{top}.py", top})
        words.update(_PATHLIKE.findall(source))
    return words


def neighbours(nb: NotebookNode, folder: Path) -> list[Path]:
    """The top-level entries of ``folder`` that ``nb`` uses, sorted."""
    root = folder.resolve()
    found: set[Path] = set()
    for word in _candidates(nb):
        first = Path(word.replace("\\", "/").lstrip("./")).parts[:1]
        if not first or first[0] in _SKIPPED or first[0].startswith("."):
            continue
        entry = root / first[0]
        if entry.exists() and entry.suffix != ".ipynb" and entry.parent == root:
            found.add(entry)
    return sorted(found)


def copy_neighbours(entries: list[Path], destination: Path) -> list[Path]:
    """Copy files and folders into ``destination`` (replacing older copies); the copies."""
    copies: list[Path] = []
    for entry in entries:
        target = destination / entry.name
        if entry.is_dir():
            shutil.copytree(entry, target, dirs_exist_ok=True)
        else:
            shutil.copy2(entry, target)
        copies.append(target)
    return copies
