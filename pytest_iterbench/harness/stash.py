"""Where the plugin keeps a session's state: ``running_session(config)``.

``pytest --iterbench RUN`` puts its :class:`IterbenchSession` in the config's
stash; every hook and fixture reads it back from there, and finds None in a
session without ``--iterbench``. The key lives apart from the session's module
so that the plugin and the fixtures, which pytest imports in every session,
need not import the harness to find out that there is nothing to do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pytest_iterbench.harness.session import IterbenchSession

SESSION_KEY: pytest.StashKey[IterbenchSession] = pytest.StashKey()


def running_session(config: pytest.Config) -> IterbenchSession | None:
    """The ``--iterbench`` session this config runs, or None."""
    return config.stash.get(SESSION_KEY, None)
