"""The report of a run with known values: what each section says, in Markdown, HTML and plots."""

from __future__ import annotations

import re
import string
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_lint import assert_markdown_clean

from pytest_iterbench.report.comparison import compare_run
from pytest_iterbench.report.writer import render_report, write_reports

RUN = "run-007"
EARLIER, CURRENT, LATER = (
    "20261120T100000Z-00000001",
    "20261121T100000Z-00000002",
    "20261122T100000Z-00000003",
)
ORDER = ["v1-baseline", "v2-mlp", "v2-mlp-lr", "broken"]
METRICS = {
    # id: (unit, higher_is_better)
    "accuracy": ("%", True),
    "f1_macro": ("", True),
    "custom_score": ("", None),
    "exec_time": ("seconds", False),
    "peak_memory": ("MB", False),
}
ITERATIONS = {
    # id: (parent, tags, parameters, configuration hash)
    "v1-baseline": (None, ["baseline"], {"C": 1.0}, "h-v1"),
    "v2-mlp": ("v1-baseline", [], {"lr": 0.001, "epochs": 30}, "h-v2"),
    "v2-mlp-lr": ("v2-mlp", ["tuning"], {"lr": 0.01, "epochs": 30}, "h-v2-lr"),
    "broken": (None, [], {}, "h-broken"),
}
ENVIRONMENT = {
    "platform": "linux-x86_64",
    "python": "3.11.7",
    "cpu": "Test CPU",
    "cpu_count": 8,
    "gpu": None,
    "packages": {"torch": "2.13.0+cpu", "numpy": None},
}
CURRENT_VALUES = {
    ("v1-baseline", "accuracy"): [90.0, 91.0, 92.0, 93.0, 94.0],
    ("v2-mlp", "accuracy"): [95.0, 96.0, 97.0, 98.0, 99.0],
    ("v2-mlp-lr", "accuracy"): [89.5, 90.5, 91.5, 92.5, 93.5],
    ("v1-baseline", "f1_macro"): [0.90],
    ("v2-mlp", "f1_macro"): [0.95],
    ("v2-mlp-lr", "f1_macro"): [0.85],
    ("v1-baseline", "custom_score"): [3.0],
    ("v2-mlp", "custom_score"): [5.0],
    ("v1-baseline", "exec_time"): [1.0, 1.1, 1.2, 1.3, 1.4],
    ("v2-mlp", "exec_time"): [3.0, 3.1, 3.2, 3.3, 3.4],
    ("v2-mlp-lr", "exec_time"): [2.0, 2.1, 2.2, 2.3, 2.4],
    ("v1-baseline", "peak_memory"): [50.0] * 5,
    ("v2-mlp", "peak_memory"): [200.0] * 5,
    ("v2-mlp-lr", "peak_memory"): [100.0] * 5,
}


def record(iteration, metric, value, session=CURRENT, *, repeat=0, **extra):
    parent, tags, parameters, config = ITERATIONS[iteration]
    unit, higher = METRICS[metric]
    return {
        "record_id": f"{session}-{iteration}-{metric}-{repeat}",
        "session_id": session,
        "run_id": RUN,
        "iteration_id": iteration,
        "metric_id": metric,
        "value": value,
        "unit": unit,
        "status": "passed",
        "reason": None,
        "executed_at": f"{session[:4]}-{session[4:6]}-{session[6:8]}T10:00:00.000Z",
        "parameters": parameters,
        "git_commit": "abc1234",
        "nodeid": f"runs.json::{RUN}::{iteration}-{metric}",
        "higher_is_better": higher,
        "iteration_parent": parent,
        "iteration_tags": tags,
        "config_hash": config,
        "repeat": repeat,
        "seed": None,
        "environment": ENVIRONMENT,
        "metadata": {},
        **extra,
    }


def known_records():
    records = [
        # An earlier session: v1's configuration is the same, v2-mlp's was another.
        *(
            record("v1-baseline", "accuracy", v, EARLIER, repeat=k)
            for k, v in enumerate([88.0, 89.0, 90.0, 91.0, 92.0])
        ),
        record("v2-mlp", "accuracy", 50.0, EARLIER, config_hash="h-v2-old"),
        record("v2-mlp", "exec_time", 0.5, EARLIER, config_hash="h-v2-old"),
        # Another run: never in this report.
        {**record("v1-baseline", "accuracy", 1.0), "run_id": "run-other", "iteration_id": "noise"},
    ]
    for (iteration, metric), values in CURRENT_VALUES.items():
        records += [record(iteration, metric, v, repeat=k) for k, v in enumerate(values)]
    records.append(
        record(
            "v2-mlp-lr",
            "custom_score",
            0.3,
            status="failed",
            reason="assert 0.3 > 0.5",
        )
    )
    for metric in ("accuracy", "exec_time"):
        records.append(
            record(
                "broken",
                metric,
                None,
                status="error",
                reason="ValueError: bad | input `x`\nsecond line",
            )
        )
    records.append(record("broken", "peak_memory", None, status="timeout", reason=None))
    return records


@pytest.fixture(scope="module")
def markdown():
    return render_report(known_records(), RUN, ORDER, list(METRICS))


def section(markdown: str, heading: str) -> list[str]:
    """The lines under ``heading`` up to the next heading of the same or a higher level."""
    lines = markdown.splitlines()
    start = lines.index(heading)
    level = heading.split(" ")[0]
    end = next(
        (
            k
            for k in range(start + 1, len(lines))
            if lines[k].startswith("#") and len(lines[k].split(" ")[0]) <= len(level)
        ),
        len(lines),
    )
    return lines[start + 1 : end]


def table(lines: list[str]) -> dict[str, dict[str, str]]:
    """The first table in ``lines``: first column -> header -> cell."""
    rows = [line for line in lines if line.startswith("| ")]
    split = [re.split(r"(?<!\\) \| ", row[2:-2]) for row in rows]
    header, _, *body = split
    return {cells[0]: dict(zip(header, cells, strict=True)) for cells in body}


# -- Results ---------------------------------------------------------------------------------


def test_the_best_value_of_each_metric_is_bold_by_its_direction(markdown):
    results = table(section(markdown, "## Results"))
    assert list(results) == ORDER
    assert results["v1-baseline"] == {
        "Iteration": "v1-baseline",
        "accuracy (%)": "92 ± 1.963 (n=5)",
        "f1\\_macro": "0.9000",
        "custom\\_score": "3",
        "exec\\_time (seconds)": "**1.200** (IQR 1.075 to 1.325; n=5)",
        "peak\\_memory (MB)": "**50** (IQR 50 to 50; n=5)",
    }
    assert results["v2-mlp"]["accuracy (%)"] == "**97** ± 1.963 (n=5)"
    assert results["v2-mlp"]["f1\\_macro"] == "**0.9500**"
    # custom_score: the direction is unknown, so nothing is bold.
    assert "**" not in results["v2-mlp"]["custom\\_score"]
    assert results["v2-mlp-lr"]["custom\\_score"] == "0.3000 (failed)"
    assert results["broken"] == {
        "Iteration": "broken",
        "accuracy (%)": "error",
        "f1\\_macro": "-",
        "custom\\_score": "-",
        "exec\\_time (seconds)": "error",
        "peak\\_memory (MB)": "timeout",
    }


def test_the_introduction_names_the_session_and_the_baseline(markdown):
    intro = markdown.splitlines()[2]
    assert f"judged by its latest session, `{CURRENT}`" in intro
    assert "Baseline: `v1-baseline` (tagged baseline)." in intro
    assert "4 iterations × 5 metrics" in intro


# -- Changes ---------------------------------------------------------------------------------


def test_changes_against_the_parent_name_the_changed_parameters(markdown):
    rows = table(section(markdown, "### Against the parent"))
    assert set(rows) == {"`v2-mlp`", "`v2-mlp-lr`"}
    v2 = rows["`v2-mlp`"]
    assert v2["Parent"] == "`v1-baseline`"
    assert v2["Changed parameters"] == "+lr: 0.001; +epochs: 30; -C: 1.0"
    assert v2["accuracy (%)"] == "+5 (+5.4 %), better"
    assert v2["exec\\_time (seconds)"] == "+2 (+167 %), worse"
    lr = rows["`v2-mlp-lr`"]
    assert lr["Changed parameters"] == "lr: 0.001 → 0.01"
    assert lr["accuracy (%)"] == "-5.500 (-5.7 %), worse"
    assert lr["exec\\_time (seconds)"] == "-1 (-31 %), better"
    assert lr["custom\\_score"] == "-4.700 (-94 %)"  # direction unknown: neither better nor worse


def test_changes_against_the_baseline_say_whether_they_are_significant(markdown):
    rows = table(section(markdown, "### Against the baseline"))
    assert set(rows) == {"`v2-mlp`", "`v2-mlp-lr`", "`broken`"}
    v2 = rows["`v2-mlp`"]
    # 5 values a side, no overlap: the exact two-sided p is 2/252.
    assert v2["accuracy (%)"] == "+5 (+5.4 %), better; significant, p = 0.0079"
    # Constant samples are all ties: SciPy's normal approximation, as mannwhitneyu gives it.
    assert v2["peak\\_memory (MB)"] == "+150 (+300 %), worse; significant, p = 0.0040"
    # One value a side: no test, and the cell says why.
    assert v2["f1\\_macro"] == "+0.05000 (+5.6 %), better; n too small (1 vs 1)"
    lr = rows["`v2-mlp-lr`"]
    assert lr["accuracy (%)"].startswith("-0.5000 (-0.54 %), worse; not significant, p = 0.")
    assert rows["`broken`"]["accuracy (%)"] == "-"
    explanation = " ".join(section(markdown, "### Against the baseline"))
    assert "Mann–Whitney U" in explanation
    assert "at least 4 values" in explanation


# -- Trade-offs ------------------------------------------------------------------------------


def test_the_pareto_front_over_quality_time_and_memory(markdown):
    lines = section(markdown, "## Trade-offs")
    intro = next(line for line in lines if line.startswith("Pareto front over"))
    assert intro.startswith(
        "Pareto front over `accuracy` (higher is better), `f1_macro` (higher is better),"
        " `exec_time` (lower is better), `peak_memory` (lower is better)"
    )
    assert "custom_score" not in intro  # its direction is unknown
    assert intro.endswith("On the front: `v1-baseline`, `v2-mlp`.")
    rows = table(lines)
    assert {name: row["On the front"] for name, row in rows.items()} == {
        "`v1-baseline`": "**yes**",
        "`v2-mlp`": "**yes**",
        "`v2-mlp-lr`": "no",
        "`broken`": "not placed (a value is missing)",
    }
    assert rows["`v2-mlp-lr`"]["Beaten by"] == "`v1-baseline`"
    assert rows["`v2-mlp`"]["exec\\_time (seconds)"] == "3.200"


def test_the_front_as_the_comparison_holds_it():
    comparison = compare_run(known_records(), RUN, iteration_order=ORDER)
    assert comparison.pareto is not None
    assert comparison.pareto.members == ("v1-baseline", "v2-mlp")
    assert comparison.pareto.dominated_by == {"v2-mlp-lr": ("v1-baseline",)}
    assert comparison.pareto.unplaced == ("broken",)
    assert comparison.best["accuracy"] == {"v2-mlp"}
    assert comparison.best["custom_score"] == frozenset()


# -- History, lineage, problems, environment -------------------------------------------------


def test_history_shows_a_trend_of_the_same_configuration_only(markdown):
    lines = section(markdown, "## History")
    rows = [line for line in lines if line.startswith("| `")]
    assert rows == ["| `v1-baseline` | accuracy (%) | 2 | ▁█ | 90 → 92 | +2 |"]
    assert "Samples of another or an unknown configuration left out: 2." in " ".join(lines)


def test_the_lineage_is_a_mermaid_graph(markdown):
    lines = section(markdown, "## Lineage")
    start = lines.index("```mermaid")
    graph = lines[start + 1 : lines.index("```", start)]
    assert graph == [
        "graph TD",
        '    n0["v1-baseline (baseline)"]',
        '    n1["v2-mlp"]',
        '    n2["v2-mlp-lr"]',
        '    n3["broken"]',
        '    n0 -->|"+lr: 0.001#59; +epochs: 30#59; -C: 1.0"| n1',
        '    n1 -->|"lr: 0.001 → 0.01"| n2',
    ]


def test_items_that_did_not_pass_are_listed_with_their_reasons(markdown):
    items = [line for line in section(markdown, "## Items that did not pass") if line]
    assert items == [
        "- `v2-mlp-lr` × `custom_score`: failed: assert 0.3 \\> 0.5",
        "- `broken` × `accuracy`: error: ValueError: bad \\| input \\`x\\` second line",
        "- `broken` × `exec_time`: error: ValueError: bad \\| input \\`x\\` second line",
        "- `broken` × `peak_memory`: timeout: no reason recorded",
    ]


def test_the_environment_is_summarised(markdown):
    rows = table(section(markdown, "## Environment"))
    assert {name: row["Value"] for name, row in rows.items()} == {
        "Sessions": f"`{CURRENT}`",
        "Host": "unknown",
        "Platform": "linux-x86\\_64",
        "Python": "3.11.7",
        "CPU": "Test CPU (8 logical CPUs)",
        "GPU": "none",
        "Measurement": "unknown",
        "Git commit": "`abc1234`",
        "Packages": "torch 2.13.0+cpu",
    }


@pytest.mark.parametrize("hosts", [("gpu1", "gpu2"), ("gpu1", "gpu1")], ids=["two", "one"])
def test_one_session_on_two_hosts_shows_one_environment_per_host(hosts):
    records = [
        record(
            iteration,
            "f1_macro",
            0.9,
            environment={**ENVIRONMENT, "host": host, "xdist_workers": 1, "lock_scope": "host"},
        )
        for iteration, host in zip(("v1-baseline", "v2-mlp"), hosts, strict=True)
    ]
    rows = table(section(render_report(records, RUN, ORDER), "## Environment"))
    hosts_row = [value for header, value in rows["Host"].items() if header != "Setting"]
    assert hosts_row == list(dict.fromkeys(hosts))
    assert {v for k, v in rows["Sessions"].items() if k != "Setting"} == {f"`{CURRENT}`"}
    assert all(
        value.endswith("timings not exclusive (per host)")
        for header, value in rows["Measurement"].items()
        if header != "Setting"
    )


def test_the_report_is_clean_markdown(markdown):
    assert_markdown_clean(markdown)


def test_a_report_of_an_earlier_session_ignores_later_ones():
    records = [*known_records(), record("v2-mlp", "accuracy", 10.0, LATER)]
    later = render_report(records, RUN, ORDER)
    assert table(section(later, "## Results"))["v2-mlp"]["accuracy (%)"] == "10"
    focused = render_report(records, RUN, ORDER, session_id=CURRENT)
    assert table(section(focused, "## Results"))["v2-mlp"]["accuracy (%)"] == "**97** ± 1.963 (n=5)"


def test_a_single_iteration_has_no_bold_and_no_baseline_comparison():
    markdown = render_report(
        [
            record("v1-baseline", "accuracy", 90.0),
            record("v1-baseline", "accuracy", 91.0, repeat=1),
        ],
        RUN,
    )
    assert "**" not in markdown
    assert "### Against the baseline" not in markdown
    assert "## Trade-offs" not in markdown
    assert "No iteration of this run names a parent." in markdown
    assert_markdown_clean(markdown)


# -- files: plots, HTML, the job summary -----------------------------------------------------


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    root = tmp_path_factory.mktemp("workspace")
    summary = root / "step_summary.md"
    summary.write_text("# Earlier step\n", encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GITHUB_STEP_SUMMARY", str(summary))
        paths = write_reports(
            root,
            known_records(),
            RUN,
            iteration_order=ORDER,
            metric_order=list(METRICS),
            session_id=CURRENT,
        )
    return root, paths, summary


def test_write_reports_writes_markdown_plots_and_html(written):
    root, paths, _ = written
    reports = root / "reports"
    names = [p.relative_to(reports).as_posix() for p in paths]
    # One figure per metric family (qualities, times, memories), then the trade-off,
    # each named by the hash of what it shows.
    assert [re.sub(r"-[0-9a-f]{16}\.png$", ".png", name) for name in names] == [
        "plots/run-007/qualities.png",
        "plots/run-007/times.png",
        "plots/run-007/memories.png",
        "plots/run-007/tradeoff.png",
        "comparison_report.md",
        "comparison_report.html",
    ]
    for path in paths:
        if path.suffix == ".png":
            assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_the_markdown_links_every_plot_by_a_relative_path(written):
    root, paths, _ = written
    markdown = (root / "reports" / "comparison_report.md").read_text(encoding="utf-8")
    links = re.findall(r"!\[[^\]]+\]\(([^)]+)\)", markdown)
    assert sorted(links) == sorted(
        p.relative_to(root / "reports").as_posix() for p in paths if p.suffix == ".png"
    )
    assert all((root / "reports" / link).is_file() for link in links)
    assert re.search(
        r"!\[accuracy against exec\\_time, Pareto front marked\]\(plots/run-007/tradeoff-[0-9a-f]{16}\.png\)",
        markdown,
    )
    assert (
        "![accuracy, f1\\_macro, custom\\_score per iteration](plots/run-007/qualities-" in markdown
    )
    assert_markdown_clean(markdown)


def test_the_html_is_self_contained(written):
    root, _, _ = written
    html = (root / "reports" / "comparison_report.html").read_text(encoding="utf-8")
    assert html.count('src="data:image/png;base64,') == 4
    assert "plots/" not in html
    assert "http://" not in html
    assert "https://" not in html
    assert "<script" not in html
    assert "<strong>97</strong> ± 1.963 (n=5)" in html
    assert "ValueError: bad | input <code>" not in html  # reasons are text, escaped
    assert "ValueError: bad | input `x` second line" in html
    assert "<details><summary>Mermaid source</summary>" in html


def test_the_job_summary_gets_the_markdown_appended_without_pictures(written):
    _, _, summary = written
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("# Earlier step\n\n# Comparison report: run-007\n")
    assert "![" not in text
    assert "The plots are in the workspace's reports folder" in text
    assert "| v2-mlp | **97** ± 1.963 (n=5) |" in text


def test_stale_plots_are_removed_and_without_matplotlib_the_report_says_so(tmp_path, monkeypatch):
    plots = tmp_path / "reports" / "plots" / RUN
    plots.mkdir(parents=True)
    (plots / "metric-gone.png").write_bytes(b"old")
    write_reports(tmp_path, known_records(), RUN, html=False)
    assert not (plots / "metric-gone.png").exists()
    fresh = tmp_path / "fresh"
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    paths = write_reports(fresh, known_records(), RUN, html=False)
    assert [p.name for p in paths] == ["comparison_report.md"]
    markdown = paths[0].read_text(encoding="utf-8")
    assert "Plots skipped: matplotlib is not installed." in markdown
    assert "![" not in markdown
    assert_markdown_clean(markdown)


def test_unchanged_figures_are_reused_without_drawing(tmp_path, monkeypatch):
    first = write_reports(tmp_path, known_records(), RUN, html=False)
    pictures = {p: p.stat().st_mtime_ns for p in first if p.suffix == ".png"}
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # drawing anything would fail now
    again = write_reports(tmp_path, known_records(), RUN, html=False)
    assert [p for p in again if p.suffix == ".png"] == list(pictures)
    assert {p: p.stat().st_mtime_ns for p in pictures} == pictures
    assert "Plots skipped" not in again[-1].read_text(encoding="utf-8")


def test_a_changed_family_is_redrawn_and_the_others_are_reused(tmp_path):
    first = [
        p for p in write_reports(tmp_path, known_records(), RUN, html=False) if p.suffix == ".png"
    ]
    changed = [
        {**r, "value": r["value"] * 2}
        if r["metric_id"] == "peak_memory" and r["value"] is not None
        else r
        for r in known_records()
    ]
    second = [p for p in write_reports(tmp_path, changed, RUN, html=False) if p.suffix == ".png"]
    renamed = {a.name.split("-")[0] for a, b in zip(first, second, strict=True) if a != b}
    assert renamed == {"memories"}  # doubling every memory moves no iteration off the front
    assert all(p.exists() for p in second)
    assert not any(p.exists() for p in set(first) - set(second))  # stale pictures removed


def test_no_plots_no_html_and_no_summary_when_asked(tmp_path, monkeypatch):
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    paths = write_reports(tmp_path, known_records(), RUN, plots=False, html=False)
    assert paths == [tmp_path / "reports" / "comparison_report.md"]
    assert "## Plots" not in paths[0].read_text(encoding="utf-8")


# -- any names, any values: still clean Markdown ---------------------------------------------

HOSTILE = string.ascii_letters[:6] + string.digits[:3] + " |`*_<>#[]()\\\n\t-.:/~!"
names = st.text(alphabet=HOSTILE, min_size=1, max_size=12).filter(str.strip)


@st.composite
def runs(draw):
    iterations = draw(st.lists(names, min_size=1, max_size=4, unique=True))
    metrics = draw(st.lists(names, min_size=1, max_size=3, unique=True))
    units = {m: draw(st.sampled_from(["", "%", "seconds", "MB", "a|b"])) for m in metrics}
    directions = {m: draw(st.sampled_from([True, False, None])) for m in metrics}
    records = []
    for k, iteration in enumerate(iterations):
        parent = draw(st.sampled_from([None, *iterations[:k], "outside|`x"]))
        for metric in metrics:
            for repeat in range(draw(st.integers(0, 5))):
                status = draw(st.sampled_from(["passed", "passed", "failed", "error", "timeout"]))
                records.append(
                    {
                        "run_id": RUN,
                        "session_id": draw(st.sampled_from([EARLIER, CURRENT])),
                        "iteration_id": iteration,
                        "metric_id": metric,
                        "value": draw(st.one_of(st.none(), st.floats(-1e6, 1e6))),
                        "unit": units[metric],
                        "status": status,
                        "reason": draw(st.one_of(st.none(), names)),
                        "higher_is_better": directions[metric],
                        "iteration_parent": parent,
                        "iteration_tags": draw(st.sampled_from([[], ["baseline"]])),
                        "parameters": {"p": draw(st.integers(0, 2)), "name|`": iteration},
                        "config_hash": draw(st.sampled_from(["a", "b", None])),
                        "repeat": repeat,
                        "environment": draw(
                            st.sampled_from([ENVIRONMENT, {"platform": "x|y", "python": "`3`"}])
                        ),
                        "git_commit": draw(st.sampled_from([None, "abc", "a|b"])),
                    }
                )
    return records


@settings(max_examples=25, deadline=None)
@given(runs())
def test_any_run_gives_clean_markdown(records):
    markdown = render_report(records, RUN)
    assert_markdown_clean(markdown)
    if records:
        assert markdown.count("```mermaid") == 1
