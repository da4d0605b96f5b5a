"""The pytest plugins a user's install of pytest-iterbench loads, and the others.

The benchmarks run in the development environment: ``make setup`` installs the
package with every extra, and the ``dev`` extra's tools. Several of them
register pytest plugins that load in every pytest process, each xdist worker
included, and cost every session whether it uses them or not:

- hypothesis (``dev``) imports all of hypothesis in its ``pytest_terminal_summary``:
  0.2 to 0.4 s per process, while xdist's controller waits for its workers to exit;
- nbmake (the ``notebook`` extra) imports nbclient, jupyter_client and zmq: about 0.3 s;
- anyio (through the ``llm`` and ``studio`` extras): about 0.08 s.

Benchmark sessions load the plugins of the install named by
``ITERBENCH_BENCH_PLUGINS``:

- ``core`` (the default): ``pip install pytest-iterbench``, what a run of
  iterations and metrics needs (pytest-xdist and pytest-benchmark stay);
- ``extras``: ``pip install "pytest-iterbench[notebook,llm,studio,kernel,torch]"``,
  every extra but ``dev``;
- ``all``: every plugin installed here.

A plugin is left out when no distribution of that install, followed through
their requirements, provides it.

    .venv/bin/python benchmarks/user_install.py   # the plugins left out, per install
"""

from __future__ import annotations

import os
from importlib import metadata

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

PRODUCT = "pytest-iterbench"
DEVELOPMENT_EXTRAS = frozenset({"dev"})
PLUGINS_VARIABLE = "ITERBENCH_BENCH_PLUGINS"
INSTALLS = ("core", "extras", "all")


def product_extras() -> frozenset[str]:
    """Every extra of the product but the development ones."""
    product = metadata.distribution(PRODUCT)
    return frozenset(product.metadata.get_all("Provides-Extra") or []) - DEVELOPMENT_EXTRAS


def user_install(extras: frozenset[str]) -> set[str]:
    """Canonical names of the installed distributions ``pytest-iterbench[EXTRAS]`` pulls in."""
    done: dict[str, frozenset[str]] = {}  # distribution: the extras already followed
    pending = [(PRODUCT, extras)]
    while pending:
        name, wanted = pending.pop()
        key = canonicalize_name(name)
        if key in done and wanted <= done[key]:
            continue
        try:
            distribution = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # an optional requirement this environment lacks
        done[key] = done.get(key, frozenset()) | wanted
        for text in distribution.requires or []:
            try:
                requirement = Requirement(text)
            except InvalidRequirement:
                continue
            marker = requirement.marker
            if marker is None or any(marker.evaluate({"extra": e}) for e in {"", *wanted}):
                pending.append((requirement.name, frozenset(requirement.extras)))
    return set(done)


def plugins_outside(install: str) -> list[str]:
    """Names of the installed ``pytest11`` plugins that ``install`` (one of ``INSTALLS``) lacks."""
    if install == "all":
        return []
    installed = user_install(product_extras() if install == "extras" else frozenset())
    left_out = set()
    for entry_point in metadata.entry_points(group="pytest11"):
        distribution = entry_point.dist
        if distribution is None or canonicalize_name(distribution.name) not in installed:
            left_out.add(entry_point.name)
    return sorted(left_out)


def chosen_install() -> str:
    """The install ``ITERBENCH_BENCH_PLUGINS`` names (``core`` when unset)."""
    install = os.environ.get(PLUGINS_VARIABLE, "core")
    if install not in INSTALLS:
        raise SystemExit(f"{PLUGINS_VARIABLE}={install!r}: expected one of {', '.join(INSTALLS)}")
    return install


def plugins_left_out() -> list[str]:
    """The plugins this benchmark's sessions run without."""
    return plugins_outside(chosen_install())


def pytest_addopts(plugins: list[str]) -> str:
    """``PYTEST_ADDOPTS`` that disables ``plugins`` (xdist workers inherit the controller's)."""
    return " ".join(f"-p no:{name}" for name in plugins)


def describe(plugins: list[str]) -> str:
    """One sentence for a benchmark's output."""
    install = chosen_install()
    if not plugins:
        return f"Sessions ran with every installed pytest plugin (`{PLUGINS_VARIABLE}={install}`)."
    return (
        f"Sessions loaded the pytest plugins of the `{install}` install "
        f"(`{PLUGINS_VARIABLE}`, `benchmarks/user_install.py`), without "
        f"{', '.join(f'`{name}`' for name in plugins)}."
    )


if __name__ == "__main__":
    for name in INSTALLS:
        print(f"{name}: {', '.join(plugins_outside(name)) or '(none left out)'}")
