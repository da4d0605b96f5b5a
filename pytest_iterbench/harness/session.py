"""The state of one iterbench session, in every pytest process that takes part.

``IterbenchSession`` lives in ``config.stash`` (never in module globals:
pytester runs many sessions in one process). In the process that runs items
(serial pytest, or an xdist worker) it executes iterations and turns outcomes
into records, which travel on the test report. In the controller (serial
pytest, or xdist's controller) it alone writes: the journal as reports arrive,
then ``results.json`` and the report at the end.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import platform
import shutil
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_iterbench.atomic import write_text_atomically
from pytest_iterbench.errors import (
    ExecutionFailed,
    IterbenchError,
    IterbenchWarning,
    MetricSkipped,
)
from pytest_iterbench.execution.exclusivity import MeasurementLock
from pytest_iterbench.execution.executor import (
    EntryPointRunner,
    Execution,
    Executor,
    effective_parameters,
)
from pytest_iterbench.execution.isolation import ProcessTemplate
from pytest_iterbench.execution.logs import clip_text, prune_sessions
from pytest_iterbench.execution.preload import resolve_preload
from pytest_iterbench.execution.threads import ThreadCaps
from pytest_iterbench.execution.timing_stats import STAT_FIELDS
from pytest_iterbench.harness.live import SessionEvents
from pytest_iterbench.harness.remote import (
    LOCK_SCOPE,
    WorkerWatch,
    check_worker_code,
    is_remote,
    refusal_message,
    spec_host,
    workers_per_host,
)
from pytest_iterbench.harness.settings import SessionSettings, WorkerInput
from pytest_iterbench.harness.target import Target, item_target
from pytest_iterbench.metrics.builtin import TimingMetric
from pytest_iterbench.results.document import dump_record
from pytest_iterbench.results.records import RecordStatus, ResultRecord, json_problem, utc_now
from pytest_iterbench.results.records import environment as describe_environment
from pytest_iterbench.results.store import Journal, ResultsStore
from pytest_iterbench.secrets import Scrubber
from pytest_iterbench.workspace.loader import Workspace
from pytest_iterbench.workspace.model import RunDefinition, configuration_hash
from pytest_iterbench.workspace.paths import WorkspacePaths

if TYPE_CHECKING:  # the report is the controller's, imported where it writes (workers never do)
    from pytest_iterbench.report.comparison import Comparison
    from pytest_iterbench.report.document import Block
    from pytest_iterbench.report.gate import GateResult
    from pytest_iterbench.report.samples import RunSamples

RECORD_PROPERTY = "iterbench_record"
TARGETS_FILE = (
    "targets.json"  # nodeid -> target, written by workers for the controller's crash records
)
MEASURED_KEY = pytest.StashKey[list[tuple[float | None, dict[str, Any]]]]()


@dataclass
class ControllerState:
    """What only the writing process holds."""

    store: ResultsStore
    journal: Journal
    recovered: int = 0
    appended: int = 0
    report_paths: list[Path] = field(default_factory=list)
    gate: GateResult | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    workers: WorkerWatch = field(default_factory=WorkerWatch)
    events: SessionEvents | None = None


class IterbenchSession:
    """Executes, records and (in the controller) persists one run's session."""

    def __init__(
        self, config: pytest.Config, workspace: Workspace, settings: SessionSettings
    ) -> None:
        self.config = config
        self.workspace = workspace
        self.settings = settings
        self.run: RunDefinition = workspace.run(settings.run_id)
        self.paths = WorkspacePaths(workspace.root)
        self.scratch = workspace.paths.session_scratch(settings.session_id)
        self.scrubber = (
            Scrubber.from_environment()
        )  # the secrets' values, kept out of what is written
        self._executor: Executor | None = None
        self._template: ProcessTemplate | None = None
        self._environment: dict[str, Any] | None = None
        self._record_environment: dict[str, Any] | None = None
        self.controller: ControllerState | None = None
        self._config_hashes: dict[str, str] = {}
        workerinput = getattr(config, "workerinput", None)
        is_worker = workerinput is not None
        self.worker_id: str | None = workerinput["workerid"] if workerinput else None
        received: WorkerInput | dict[str, Any] = settings.received or {}
        self.host = received.get("iterbench_host") or platform.node() or "localhost"
        self.workers = received.get("iterbench_host_workers") or (
            int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) if is_worker else 1
        )
        if "iterbench_config_hashes" in received:
            self._check_code(received["iterbench_config_hashes"])
        self.caps = ThreadCaps.for_session(self.workers, settings.threads)
        self.lock = MeasurementLock(self.scratch, enabled=settings.exclusive and self.workers > 1)
        self.runs_items = is_worker or config.getoption("dist", "no") == "no"
        if not self.runs_items:
            return  # the xdist controller runs no item
        self.caps.apply_here()

    def measurement_context(self) -> dict[str, Any]:
        """How this process measures: worker count, thread cap, CPUs, exclusivity of timings."""
        return {
            **self.caps.to_json(),
            "exclusive_timing": self.lock.enabled or self.workers == 1,
            "xdist_worker": self.worker_id,
            "host": self.host,
            "lock_scope": LOCK_SCOPE,
        }

    # -- remote workers ---------------------------------------------------------------

    def worker_input(self, spec: Any, specs: Sequence[Any]) -> WorkerInput:
        """What the controller sends the worker of ``spec``: ids, its host, and (remote) the code's hashes."""
        sent = self.settings.worker_input()
        host = spec_host(spec)
        sent["iterbench_host"] = host
        sent["iterbench_host_workers"] = workers_per_host(specs)[host]
        if is_remote(spec):
            sent["iterbench_config_hashes"] = self.config_hashes()
        else:
            sent["iterbench_schema_checked"] = True
        return sent

    def config_hashes(self) -> dict[str, str]:
        """The ``config_hash`` of each of the run's iterations."""
        return {i: self.config_hash(i) for i in dict.fromkeys(self.run.iteration_ids)}

    def _check_code(self, expected: dict[str, str]) -> None:
        check_worker_code(
            expected,
            self.config_hashes(),
            worker=self.worker_id or "?",
            host=self.host,
            workspace=str(self.workspace.root),
            commit=self.settings.git_commit,
        )

    # -- executing (serial pytest or an xdist worker) ---------------------------------

    @property
    def executor(self) -> Executor:
        if self._executor is None:
            directories = [
                self.workspace.iterations[i].directory(self.workspace.root)
                for i in self.run.iteration_ids
            ]
            preload = resolve_preload(self.settings.preload, directories)
            self._template = ProcessTemplate(preload, environment=self.caps.environment())
            classes = [self.workspace.metric_classes.get(m) for m in self.run.metric_ids]
            self._executor = Executor(
                self.workspace.root,
                self.scratch,
                {**self._plugin_runners(), ".py": self._template.execute},
                self.settings.limits,
                lock=self.lock,
                thread_cap=self.caps.cap,
                exclusive_executions=any(getattr(c, "exclusive_execution", False) for c in classes),
                lock_is_moot=self.workers == 1,
                scrubber=self.scrubber,
            )
        return self._executor

    def entry_point_suffixes(self) -> set[str]:
        """The kinds of entry point the run's iterations have: ``{".py", ".ipynb"}``."""
        return {
            Path(self.workspace.iterations[i].entry_point).suffix for i in self.run.iteration_ids
        }

    def needs_notebooks(self) -> bool:
        return ".ipynb" in self.entry_point_suffixes()

    def _plugin_runners(self) -> dict[str, EntryPointRunner]:
        """Runners of the run's other entry-point kinds, from ``pytest_iterbench_entry_point_runner``."""
        runners = {}
        for suffix in sorted(self.entry_point_suffixes() - {".py"}):
            runner = self.config.hook.pytest_iterbench_entry_point_runner(suffix=suffix)
            if runner is not None:
                runners[suffix] = runner
        return runners

    @property
    def environment(self) -> dict[str, Any]:
        """Where this process measures, extended once by ``pytest_iterbench_environment``."""
        if self._environment is None:
            described = copy.deepcopy(describe_environment())
            for additions in self.config.hook.pytest_iterbench_environment(
                config=self.config, environment=described
            ):
                described.update(additions or {})
            self._environment = described
        return self._environment

    @property
    def record_environment(self) -> dict[str, Any]:
        """A record's ``environment``: :attr:`environment` and :meth:`measurement_context`, both fixed for the process."""
        if self._record_environment is None:
            self._record_environment = {**self.environment, **self.measurement_context()}
        return self._record_environment

    def execution(self, target: Target) -> Execution:
        """The target's execution (run once per session); raises ExecutionFailed if it failed."""
        iteration = self.workspace.iterations[target.iteration_id]
        execution = self.executor.get(iteration, target.repeat, target.seed)
        execution.raise_for_status()
        return execution

    def timed_result(self, metric: TimingMetric, target: Target) -> Any:
        """A TimingMetric's result: ``run()`` timed in rounds, in a fresh child, exclusively."""
        iteration = self.workspace.iterations[target.iteration_id]
        timed = self.executor.time(
            iteration, metric.plan_for(iteration), target.repeat, target.seed
        )
        return metric.from_timed(timed, self.measurement_context())

    def config_hash(self, iteration_id: str) -> str:
        """The iteration's configuration hash, computed once per process."""
        if iteration_id not in self._config_hashes:
            iteration = self.workspace.iterations[iteration_id]
            self._config_hashes[iteration_id] = configuration_hash(
                iteration, iteration.directory(self.workspace.root)
            )
        return self._config_hashes[iteration_id]

    def instantiate_metric(self, metric_id: str) -> Any:
        definition = self.workspace.metrics[metric_id]
        metric = self.workspace.metric_classes[metric_id](**definition.options)
        for attribute, value in (
            ("metric_id", definition.id),
            ("unit", definition.unit),
            ("higher_is_better", definition.higher_is_better),
        ):
            with contextlib.suppress(
                AttributeError
            ):  # a read-only property on a user's class: its own value stands
                setattr(metric, attribute, value)
        return metric

    def measured(self, item: pytest.Item) -> list[tuple[float | None, dict[str, Any]]]:
        """The values an item recorded so far (``record_result`` appends here)."""
        return item.stash.setdefault(MEASURED_KEY, [])

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Any:
        with self.lock.shared():  # a timing measurement elsewhere waits for this item
            return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Any:
        target = item_target(item)
        benchmarked = target is not None and "benchmark" in getattr(item, "fixturenames", ())
        with self.lock.exclusive() if benchmarked else contextlib.nullcontext():
            try:
                result = yield
            except MetricSkipped as exc:
                if target is None:
                    raise
                pytest.skip(str(exc))
        if target is None or not isinstance(item, pytest.Function):
            return result
        if benchmarked and not item.stash.get(MEASURED_KEY, []):
            self._record_benchmark(item)
        if not item.stash.get(MEASURED_KEY, []):
            raise IterbenchError(
                f"metric test {item.nodeid} recorded no value: call record_result(value) for metric {target.metric_id!r}"
            )
        return result

    def _record_benchmark(self, item: pytest.Function) -> None:
        """pytest-benchmark's statistics as the metric test's value (the median) and metadata."""
        metadata = getattr(item.funcargs.get("benchmark"), "stats", None)
        if metadata is None:
            return  # the fixture was not called, or benchmarks are disabled
        stats = {name: getattr(metadata.stats, name) for name in STAT_FIELDS}
        context = {
            "iterations_per_round": metadata.iterations,
            "timer": str(metadata.options.get("timer")),
            "source": "pytest-benchmark",
        }
        self.measured(item).append(
            (stats["median"], {**stats, **context, **self.measurement_context()})
        )

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        # pytest-benchmark switches itself off under xdist, and no public option turns
        # it back on (``--benchmark-enable`` only undoes ``--benchmark-disable``; its
        # BenchmarkSession sets ``disabled`` whenever xdist is active). Its session
        # object is reachable only as ``config._benchmarksession``, which its own
        # fixture reads. Here every benchmark runs holding the measurement lock
        # exclusively, so its numbers stand: re-enabling it is sound.
        benchmark_session = getattr(self.config, "_benchmarksession", None)
        if benchmark_session is not None and not self.config.getoption("benchmark_disable", False):
            benchmark_session.disabled = False
            benchmark_session.xdist_warning = False

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        report: pytest.TestReport = yield
        target = item_target(item)
        if target is None:
            return report
        if call.excinfo is not None and isinstance(call.excinfo.value, ExecutionFailed):
            report.longrepr = call.excinfo.value.details
        self._scrub_report(report)
        if call.when == "call" or (call.when == "setup" and not report.passed):
            for record in self._records(item, target, call, report):
                report.user_properties.append((RECORD_PROPERTY, _record_property(record)))
        return report

    def _records(
        self,
        item: pytest.Item,
        target: Target,
        call: pytest.CallInfo[None],
        report: pytest.TestReport,
    ) -> list[ResultRecord]:
        status, reason = _status(call, report)
        reason = clip_text(self.scrubber.scrub_optional(reason))
        values = item.stash.get(MEASURED_KEY, []) or [(None, {})]
        if status in ("error", "timeout", "skipped"):
            values = [(None, {})]
        return [
            self._record(target, item.nodeid, value, metadata, status, reason)
            for value, metadata in values
        ]

    def _record(
        self,
        target: Target,
        nodeid: str,
        value: float | None,
        metadata: dict[str, Any],
        status: RecordStatus,
        reason: str | None,
    ) -> ResultRecord:
        definition = self.workspace.metrics[target.metric_id]
        iteration = self.workspace.iterations[target.iteration_id]
        return ResultRecord(
            run_id=self.run.id,
            iteration_id=target.iteration_id,
            metric_id=target.metric_id,
            value=value,
            unit=definition.unit,
            metric_type=definition.type or None,
            status=status,
            reason=reason,
            executed_at=utc_now(),
            environment=self.record_environment,
            session_id=self.settings.session_id,
            parameters=effective_parameters(iteration, target.seed),
            metadata=metadata,
            git_commit=self.settings.git_commit,
            nodeid=nodeid,
            higher_is_better=definition.higher_is_better,
            iteration_parent=iteration.parent,
            iteration_tags=iteration.tags,
            config_hash=self.config_hash(target.iteration_id),
            repeat=target.repeat,
            seed=target.seed,
        )

    def _scrub_report(self, report: pytest.TestReport) -> None:
        """Keep known secrets out of the failure text and captured output pytest shows."""
        if not self.scrubber:
            return
        if report.longrepr is not None and self.scrubber.contains_secret(str(report.longrepr)):
            report.longrepr = self.scrubber.scrub(str(report.longrepr))
        report.sections = [(name, self.scrubber.scrub(text)) for name, text in report.sections]

    # -- a worker that dies (xdist) ----------------------------------------------------

    def _controller_workers(self) -> int:
        """How many processes run items: xdist's workers, or 1."""
        numprocesses = self.config.getoption("numprocesses", None)
        if self.config.getoption("dist", "no") == "no" or not numprocesses:
            return 1
        return int(numprocesses)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """On a worker: leave each item's target where the controller finds it if the worker dies.

        In a serial session's controller: announce the collected items to live views.
        Where items run, the process template starts now, pre-importing while
        the session sets up, instead of when the first item needs it.
        """
        if self.runs_items and not self.config.option.collectonly:
            self._launch_template(session.items)
        if self.worker_id is None:
            if self.controller is not None and self.controller.events is not None:
                self.controller.events.items([item.nodeid for item in session.items])
            return
        targets = {
            item.nodeid: [t.iteration_id, t.metric_id, t.repeat, t.seed]
            for item in session.items
            if (t := item_target(item)) is not None
        }
        self.scratch.mkdir(parents=True, exist_ok=True)
        write_text_atomically(self.scratch / TARGETS_FILE, json.dumps(targets))

    def _launch_template(self, items: Sequence[pytest.Item]) -> None:
        """Start the template early; any failure here is met again, and reported, by the first item."""
        if ".py" not in self.entry_point_suffixes():
            return
        if not any(item_target(item) is not None for item in items):
            return
        with contextlib.suppress(Exception):
            _ = self.executor  # creates the template
            if self._template is not None:
                self._template.launch()

    @pytest.hookimpl(optionalhook=True)
    def pytest_handlecrashitem(self, crashitem: str, report: pytest.TestReport) -> None:
        """The item whose worker died gets an ``error`` record (the controller journals it)."""
        try:
            targets = json.loads((self.scratch / TARGETS_FILE).read_text(encoding="utf-8"))
            iteration_id, metric_id, repeat, seed = targets[crashitem]
        except (OSError, ValueError, KeyError):
            return  # a remote worker, or it died before collecting: xdist's failure report stands
        reason = (
            f"the xdist worker crashed while running {crashitem} (the metric or its test ended "
            "the worker process: os._exit, a signal, a crash in a C extension)"
        )
        record = self._record(
            Target(iteration_id, metric_id, repeat, seed), crashitem, None, {}, "error", reason
        )
        report.user_properties.append(
            (RECORD_PROPERTY, json.dumps(record.to_json(), allow_nan=False))
        )

    # -- persisting (the controller only) --------------------------------------------

    def start_controller(self) -> None:
        store = ResultsStore(self.workspace.root)
        journal = store.open_journal(self.settings.session_id)
        events = SessionEvents(
            self.paths.events_dir,
            self.settings.session_id,
            self.run.id,
            self.scrubber,
            record_property=RECORD_PROPERTY,
        )
        self.controller = ControllerState(store=store, journal=journal, events=events)
        events.start(self._controller_workers(), self.config.invocation_params.args)
        try:
            self.controller.recovered = store.recover()
        except IterbenchError as exc:
            # Not the user's fault (a journal another session still holds, a busy lock):
            # the session runs; the journals wait for the next one.
            self.config.issue_config_time_warning(
                IterbenchWarning(f"journals not recovered: {exc}"), stacklevel=2
            )
        for warning in dict.fromkeys(store.warnings):
            self.config.issue_config_time_warning(IterbenchWarning(warning), stacklevel=2)
        store.warnings.clear()

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: Sequence[str]) -> None:
        if self.controller is not None:
            self.controller.workers.collected.update(dict.fromkeys(ids))
            if self.controller.events is not None:
                self.controller.events.items(ids)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        refusal = refusal_message(error)
        if self.controller is not None and refusal is not None:
            self.controller.workers.refuse(self.config, refusal)

    def pytest_runtest_logstart(self, nodeid: str, location: tuple[str, int | None, str]) -> None:
        if self.controller is not None and self.controller.events is not None:
            self.controller.events.item_start(nodeid)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.controller is None:
            return
        self.controller.workers.reported.add(report.nodeid)
        texts = [str(value) for name, value in report.user_properties if name == RECORD_PROPERTY]
        records = [json.loads(text) for text in texts]
        if self.controller.events is not None:
            self.controller.events.report(report, records)
        # Without a plugin that changes records, the text on the wire is the journal's line.
        changed = bool(self.config.hook.pytest_iterbench_record.get_hookimpls())
        for text, record in zip(texts, records, strict=True):
            self.config.hook.pytest_iterbench_record(config=self.config, record=record)
            self.controller.journal.append(record, None if changed else text)
            self.controller.appended += 1

    def close(self) -> None:
        """Stop the process template and release the measurement lock (idempotent)."""
        if self._template is not None:
            self._template.close()
        self.lock.close()

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Stop the template; in the controller, fold the journal and write the report.

        ``tryfirst``: xdist's controller has every report once its loop ends, and
        its own ``pytest_sessionfinish`` then waits for the workers to exit; the
        fold and the report run before that wait, while the workers shut down.
        """
        self.close()
        if self.controller is None:
            return
        self.controller.journal.close(keep_lock=True)
        self._check_workers(session)
        if self._persist(session):
            from pytest_iterbench.report.reading import load_run_samples

            try:
                samples = load_run_samples(
                    self.controller.store, self.run.id, self.settings.session_id
                )
                self._report(samples)
                self._gate(session)
            except IterbenchError as exc:
                self._fail(session, str(exc))
        self.controller.store.forget_appended()
        for warning in dict.fromkeys(self.controller.store.warnings):
            self._warn(warning)
        if self.controller.events is not None:
            self.controller.events.finish(
                session.exitstatus, self.controller.report_paths, self.controller.appended
            )
        _clean_scratch(self.scratch)

    def _check_workers(self, session: pytest.Session) -> None:
        """A refused remote worker is a usage error; items no worker ran fail the session."""
        assert self.controller is not None
        watch = self.controller.workers
        if watch.refused:
            self.controller.errors.extend(watch.refused)
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
        lost = watch.lost()
        if lost and not watch.refused:
            self._fail(
                session,
                f"{len(lost)} items never ran (their xdist worker died first): {', '.join(lost)}",
            )

    def _persist(self, session: pytest.Session) -> bool:
        """Fold the journal into ``results.json``; on failure keep it, warn, fail the session.

        A corrupt ``results.json`` (or a results lock held too long by another
        session) is no internal error: the records are safe in the journal, whose
        path the message names, and ``iterbench recover`` folds them once the file
        is repaired. The session ends with TESTS_FAILED, because its results did not
        reach ``results.json``; it is not USAGE_ERROR, because the command was right.
        The report and the gate are skipped: they would judge an older session.
        """
        assert self.controller is not None
        journal = self.controller.journal
        kept = [journal.path, *([journal.spilled] if journal.spilled else [])]
        if journal.lost:
            self._fail(
                session,
                f"{journal.lost} records could be written neither to {journal.path} nor to the "
                f"temporary folder ({journal.error}); they are lost",
            )
        try:
            try:
                self.controller.store.fold(kept, fresh=True)
            finally:
                journal.release()
        except IterbenchError as exc:
            where = " and ".join(str(path) for path in kept)
            self._fail(session, f"{exc} (this session's records: {where})")
            return False
        return True

    def _fail(self, session: pytest.Session, message: str) -> None:
        self._warn(message)
        if session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def _warn(self, message: str) -> None:
        assert self.controller is not None
        self.controller.warnings.append(message)
        # With ``-W error`` the warning raises: the terminal summary still shows
        # the message and the exit status is set, so it is not an INTERNALERROR.
        with contextlib.suppress(IterbenchWarning):
            warnings.warn(IterbenchWarning(message), stacklevel=2)

    def _report(self, samples: RunSamples) -> None:
        from pytest_iterbench.report.writer import write_reports

        assert self.controller is not None
        self.controller.report_paths = write_reports(
            self.workspace.root,
            samples,
            self.run.id,
            iteration_order=self.run.iteration_ids,
            metric_order=self.run.metric_ids,
            session_id=self.settings.session_id,
            sections=self._plugin_sections,
            plots=self.settings.plots,
        )

    def _plugin_sections(self, comparison: Comparison) -> list[Block]:
        """Report blocks other plugins add through ``pytest_iterbench_report_sections``."""
        results = self.config.hook.pytest_iterbench_report_sections(
            config=self.config, comparison=comparison
        )
        return [block for blocks in results for block in blocks or ()]

    def _gate(self, session: pytest.Session) -> None:
        """``--iterbench-compare``: fail the session when a metric got worse beyond its tolerance."""
        assert self.controller is not None
        if self.settings.compare is None or self.controller.appended == 0:
            return
        from pytest_iterbench.report.gate import compare_stored_sessions, workspace_tolerances

        tolerances = workspace_tolerances(self.workspace.metrics)
        try:
            gate = compare_stored_sessions(
                self.controller.store,
                self.run.id,
                self.settings.session_id,
                self.settings.compare,
                tolerances,
            )
        except IterbenchError as exc:
            # An unknown session to compare with: the command line's mistake.
            self.controller.errors.append(str(exc))
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
            return
        self.controller.gate = gate
        if not gate.ok and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.controller is None:
            return
        state = self.controller
        write = terminalreporter.write_line
        terminalreporter.section("iterbench")
        if state.recovered:
            write(f"recovered {state.recovered} records from interrupted sessions' journals")
        write(
            f"run {self.run.id}, session {self.settings.session_id}: {state.appended} records -> {state.store.path}"
        )
        if state.report_paths:
            write(
                f"report: {state.report_paths[-1].parent / 'comparison_report.md'} (+ {len(state.report_paths) - 1} files)"
            )
        if state.gate is not None:
            for line in state.gate.summary_lines():
                write(
                    line,
                    red=not state.gate.ok,
                    green=state.gate.ok and line.startswith("iterbench"),
                )
        for warning in state.warnings:
            write(f"WARNING: {warning}", yellow=True)
        for error in state.errors:
            write(f"ERROR: {error}", red=True)


def _status(
    call: pytest.CallInfo[None], report: pytest.TestReport
) -> tuple[RecordStatus, str | None]:
    if report.passed:
        return "passed", None
    if report.skipped:
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        return "skipped", reason.removeprefix("Skipped: ")
    exc = call.excinfo.value if call.excinfo is not None else None
    if isinstance(exc, ExecutionFailed):
        return ("timeout" if exc.status == "timeout" else "error"), exc.reason
    if isinstance(exc, AssertionError) and call.when == "call":
        message = str(exc).strip().splitlines()
        return "failed", message[0] if message else "assertion failed"
    return "error", f"{type(exc).__name__}: {exc}" if exc is not None else "failed"


def _record_property(record: ResultRecord) -> str:
    """The record on the wire; one JSON cannot hold (a metric test's metadata) becomes an error record saying why."""
    data = record.to_json()
    try:  # the common case in one pass: strict JSON that UTF-8 can hold (what json_problem checks)
        text = dump_record(data)
        text.encode("utf-8")
    except (TypeError, ValueError, OverflowError, RecursionError):
        pass
    else:
        return text
    problem = json_problem(data)
    if problem is not None:
        reason = f"metric {record.metric_id!r}: the record cannot be written as JSON ({problem})"
        data = replace(record, value=None, metadata={}, status="error", reason=reason).to_json()
        data["parameters"] = data["parameters"] if json_problem(data["parameters"]) is None else {}
    return json.dumps(data, allow_nan=False)


def _clean_scratch(scratch: Path) -> None:
    """Drop the session's pickled outputs; keep the iterations' logs of the last sessions."""
    prune_sessions(scratch.parent)
    if not scratch.is_dir():
        return
    for path in scratch.iterdir():
        if path.suffix != ".log":
            path.unlink(missing_ok=True) if path.is_file() else shutil.rmtree(
                path, ignore_errors=True
            )
    if not any(scratch.iterdir()):
        scratch.rmdir()
