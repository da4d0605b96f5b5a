"""Hooks that other plugins (or a ``conftest.py``) implement to extend pytest-iterbench.

Registered by ``pytest_addhooks`` in :mod:`pytest_iterbench.plugin`. Implement
a hook as a plain function of the same name in a plugin module or a
``conftest.py``; every hook takes its arguments by name, so an implementation
may accept only those it needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pytest_iterbench.execution.executor import EntryPointRunner
    from pytest_iterbench.report.comparison import Comparison
    from pytest_iterbench.report.document import Block


def pytest_iterbench_environment(
    config: pytest.Config, environment: dict[str, Any]
) -> dict[str, Any] | None:
    """Extend the description of where measurements are taken.

    Called once per process that runs items (the serial session, or each xdist
    worker), before its first record. ``environment`` holds the platform,
    Python, CPU, GPU and key package versions; mutate it, or return a dict of
    additions (merged in). It lands in every record's ``environment`` in
    ``results.json`` and in the report's environment section.

    Example, in a ``conftest.py``::

        def pytest_iterbench_environment(config, environment):
            return {"cluster_node": os.environ.get("SLURM_NODEID", "local")}
    """
    return None


def pytest_iterbench_record(config: pytest.Config, record: dict[str, Any]) -> None:
    """Change a result record just before it is written; mutate ``record`` in place.

    Called in the process that writes (the serial session, or xdist's
    controller, so it sees the records of every worker), once per record, before
    the record is appended to the session's journal and folded into
    ``results.json``. The record is the JSON object described by
    ``schemas/results-schema.json``; keep it valid.

    Example, tagging every record with the CI job that produced it::

        def pytest_iterbench_record(config, record):
            record["metadata"]["ci_job"] = os.environ.get("CI_JOB_ID")
    """


def pytest_iterbench_report_sections(
    config: pytest.Config, comparison: Comparison
) -> list[Block] | None:
    """Add sections to the comparison report: return a list of report blocks.

    Called in the writing process at the end of the session, when the report is
    written. ``comparison`` is the run's :class:`~pytest_iterbench.report.comparison.Comparison`
    (iterations, metrics, cells, baseline, ...). The blocks (headings,
    paragraphs, tables, lists, code blocks from
    :mod:`pytest_iterbench.report.document`) are appended after the built-in
    sections, in the Markdown and the HTML report alike.

    Example::

        from pytest_iterbench.report.document import Heading, Paragraph, line

        def pytest_iterbench_report_sections(config, comparison):
            return [
                Heading(2, line("Budget")),
                Paragraph(line(f"{len(comparison.iterations)} iterations compared.")),
            ]
    """
    return None


@pytest.hookspec(firstresult=True)
def pytest_iterbench_entry_point_runner(suffix: str) -> EntryPointRunner | None:
    """The runner of entry points whose file name ends in ``suffix`` (``".ipynb"``).

    Python entry points (``.py``) always run in the session's process template;
    for any other kind of entry point in the run this hook is asked once per
    session, and the first runner returned is used. A runner is a callable
    taking an :class:`~pytest_iterbench.execution.isolation.ExecutionRequest`
    (folder, entry point, parameters, timeout, log path, ``timing``) and
    returning a :class:`~pytest_iterbench.execution.isolation.RawOutcome`
    whose ``result`` holds ``outputs``, ``timings`` and ``resources``. The
    notebook layer provides the ``.ipynb`` runner.

    Example, a runner that replays saved outputs::

        from pytest_iterbench.execution.isolation import RawOutcome

        def replay(request):
            outputs = json.loads((request.directory / request.entry_point).read_text())
            return RawOutcome("ok", result={"outputs": outputs, "timings": {}, "resources": {}})

        @pytest.hookimpl(tryfirst=True)
        def pytest_iterbench_entry_point_runner(suffix):
            return replay if suffix == ".ipynb" else None
    """
    return None
