"""``python -m pytest_iterbench``: the ``iterbench`` command."""

from __future__ import annotations

import sys

from pytest_iterbench.cli import main

if __name__ == "__main__":
    sys.exit(main())
