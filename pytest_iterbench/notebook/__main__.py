"""``python -m pytest_iterbench.notebook run input/``: the ``iterbench notebook`` commands."""

from __future__ import annotations

import sys

from pytest_iterbench.notebook.cli import main

if __name__ == "__main__":
    sys.exit(main())
