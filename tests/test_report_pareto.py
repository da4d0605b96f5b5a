"""Pure parts of the report: the Pareto front, the lineage and its Mermaid graph, trends."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_iterbench.report.history import build_trend, sparkline
from pytest_iterbench.report.lineage import (
    build_lineage,
    choose_baseline,
    mermaid_text,
    parameter_changes,
)
from pytest_iterbench.report.pareto import Axis, dominates, pareto_front, staircase
from pytest_iterbench.report.samples import Sample, collect_samples, session_of

# -- Pareto front ----------------------------------------------------------------------------

AXES = (Axis("accuracy", True), Axis("exec_time", False), Axis("peak_memory", False))
small = st.integers(0, 4).map(float)  # few values: ties and equal points come up often
points = st.dictionaries(
    st.text("abcdefgh", min_size=1, max_size=3),
    st.tuples(small, small, small),
    min_size=1,
    max_size=8,
)


def test_front_of_known_points():
    front = pareto_front(
        {
            "fast": (90.0, 1.0, 100.0),
            "accurate": (97.0, 9.0, 300.0),
            "lean": (80.0, 5.0, 10.0),
            "worse": (89.0, 2.0, 200.0),  # beaten by fast on all three
            "twin": (90.0, 1.0, 100.0),  # equal to fast: neither beats the other
        },
        AXES,
    )
    assert front.members == ("fast", "accurate", "lean", "twin")
    assert front.dominated_by == {"worse": ("fast", "twin")}
    assert front.on_front("fast") is True
    assert front.on_front("worse") is False


def test_a_point_without_a_value_is_not_placed():
    front = pareto_front({"a": (1.0, 1.0, 1.0), "b": (2.0, None, 1.0)}, AXES)
    assert front.members == ("a",)
    assert front.unplaced == ("b",)
    assert front.on_front("b") is None


def test_a_point_of_the_wrong_length_is_an_error():
    with pytest.raises(ValueError, match="2 values for 3 axes"):
        pareto_front({"a": (1.0, 2.0)}, AXES)


@settings(deadline=None)
@given(points)
def test_front_is_exactly_the_undominated_points(pts):
    front = pareto_front(pts, AXES)
    for name, point in pts.items():
        beaten_by = [o for o, other in pts.items() if o != name and dominates(other, point, AXES)]
        assert (name in front.members) == (not beaten_by)
        assert tuple(front.dominated_by.get(name, ())) == tuple(beaten_by)
    # Every beaten point is beaten by some member of the front (domination is transitive).
    for by in front.dominated_by.values():
        assert any(
            dominates(pts[m], pts[b], AXES) for m in front.members for b in by if m != b
        ) or set(by) & set(front.members)


@settings(deadline=None)
@given(points)
def test_flipping_a_direction_is_the_same_as_negating_the_values(pts):
    flipped_axes = (Axis("accuracy", False), *AXES[1:])
    negated = {n: (-p[0], p[1], p[2]) for n, p in pts.items()}
    assert pareto_front(pts, AXES).members == pareto_front(negated, flipped_axes).members


def test_staircase_keeps_the_two_axis_front_left_to_right():
    corners = staircase(
        [(3.0, 97.0), (1.0, 90.0), (2.0, 80.0), (4.0, 96.0)],
        (Axis("exec_time", False), Axis("accuracy", True)),
    )
    assert corners == [(1.0, 90.0), (3.0, 97.0)]


# -- lineage ---------------------------------------------------------------------------------


def test_parameter_changes():
    assert parameter_changes({"lr": 0.001, "epochs": 30}, {"lr": 0.01, "epochs": 30}) == [
        "lr: 0.001 → 0.01"
    ]
    assert parameter_changes({}, {"layers": [64, 32], "name": "mlp"}) == [
        "+layers: [64, 32]",
        "+name: mlp",
    ]
    assert parameter_changes({"dropout": 0.1}, {}) == ["-dropout: 0.1"]
    assert parameter_changes({"a": 1}, {"a": 1}) == []


def test_choose_baseline():
    assert choose_baseline(["v1", "v2", "v3"], {"v3": ["baseline"], "v2": ["x"]}) == "v3"
    assert choose_baseline(["v1", "v2"], {}) == "v1"
    assert choose_baseline([], {}) is None


@settings(deadline=None)
@given(st.text(max_size=40))
def test_mermaid_text_leaves_no_syntax_character(name):
    label = mermaid_text(name)
    bare = re.sub(r"#\d+;", "", label)
    assert not set(bare) & set('"[]{}<>|`#;\n\r\t')
    decoded = re.sub(r"#(\d+);", lambda m: chr(int(m.group(1))), label)
    assert decoded == " ".join(name.split())


def test_lineage_as_mermaid_and_as_a_tree():
    lineage = build_lineage(
        ["v1", "v2", "v2-lr"],
        {"v1": None, "v2": "v1", "v2-lr": "v2"},
        {"v1": {"C": 1.0}, "v2": {"lr": 0.001}, "v2-lr": {"lr": 0.01}},
        baseline="v1",
    )
    assert lineage.mermaid().splitlines() == [
        "graph TD",
        '    n0["v1 (baseline)"]',
        '    n1["v2"]',
        '    n2["v2-lr"]',
        '    n0 -->|"+lr: 0.001#59; -C: 1.0"| n1',
        '    n1 -->|"lr: 0.001 → 0.01"| n2',
    ]
    (root,) = lineage.roots
    assert root.iteration_id == "v1"
    assert [c.iteration_id for c in root.children] == ["v2"]
    assert [c.iteration_id for c in root.children[0].children] == ["v2-lr"]


def test_an_ancestor_outside_the_run_is_drawn_dashed():
    lineage = build_lineage(["v2-lr"], {"v2-lr": "v2", "v2": "v1", "v1": None}, {}, "v2-lr")
    mermaid = lineage.mermaid()
    assert '["v2 (not in this run)"]' in mermaid
    assert '["v1 (not in this run)"]' in mermaid
    assert "classDef outside stroke-dasharray" in mermaid
    assert [r.iteration_id for r in lineage.roots] == ["v1"]


def test_a_parent_cycle_does_not_hang():
    lineage = build_lineage(["a", "b"], {"a": "b", "b": "a"}, {}, "a")
    assert {n.iteration_id for n in lineage.nodes.values()} == {"a", "b"}
    assert lineage.roots


# -- samples and trends ----------------------------------------------------------------------


def _record(session, value, config="h1", status="passed", **extra):
    return {
        "run_id": "r",
        "iteration_id": "v1",
        "metric_id": "acc",
        "session_id": session,
        "value": value,
        "status": status,
        "config_hash": config,
        **extra,
    }


def test_samples_group_repeats_by_session_and_keep_failures():
    samples = collect_samples(
        [
            _record("S1", 1.0),
            _record("S1", 2.0),
            _record("S2", None, status="error", reason="boom"),
            _record("S2", 3.0),
            {**_record("S1", 9.0), "run_id": "other"},
        ],
        "r",
    )
    by_session = samples.by_pair["v1", "acc"]
    assert by_session["S1"].values == [1.0, 2.0]
    assert by_session["S2"].values == [3.0]
    assert by_session["S2"].problems == [("error", "boom")]
    assert by_session["S2"].statuses == {"passed": 1, "error": 1}
    assert samples.records == 4
    assert samples.sessions() == ["S1", "S2"]
    assert samples.focus()["v1", "acc"].session_id == "S2"
    assert samples.focus("S1")["v1", "acc"].session_id == "S1"


def test_a_seed_record_gets_a_sortable_session_from_its_time():
    assert session_of({"executed_at": "2025-02-14T17:30:00+02:00"}) == "20250214T153000Z-legacy"
    assert session_of({"executed_at": "garbage"}) == "00000000T000000Z-legacy"


def _sample(session, values, config):
    sample = Sample(session, {"config_hash": config})
    for value in values:
        sample.add({"value": value, "config_hash": config})
    return sample


def test_a_trend_never_mixes_configurations():
    by_session = {
        "S1": _sample("S1", [1.0, 3.0], "old"),
        "S2": _sample("S2", [5.0], "new"),
        "S3": _sample("S3", [7.0], "old"),
        "S4": _sample("S4", [6.0, 8.0], "new"),
        "S5": _sample("S5", [100.0], "new"),  # after the focus: not part of its history
    }
    trend = build_trend(by_session, by_session["S4"], "quality")
    assert [(p.session_id, p.centre, p.n) for p in trend.points] == [
        ("S2", 5.0, 1),
        ("S4", 7.0, 2),
    ]
    assert trend.other_configurations == 2
    assert trend.change() == 2.0


def test_a_sample_without_a_configuration_hash_has_no_history():
    by_session = {"S1": _sample("S1", [1.0], None), "S2": _sample("S2", [2.0], None)}
    trend = build_trend(by_session, by_session["S2"], "time")
    assert not trend.has_history
    assert trend.other_configurations == 1


@settings(deadline=None)
@given(st.lists(st.floats(-1e6, 1e6), max_size=12))
def test_sparkline_has_a_bar_per_value_and_keeps_order(values):
    line = sparkline(values)
    assert len(line) == len(values)
    if values and max(values) > min(values):
        assert line[values.index(min(values))] == "▁"
        assert line[values.index(max(values))] == "█"


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([0.0, 2.2250738585072014e-308], "▁█"),  # a span whose reciprocal overflows
        ([0.0, 5e-324, 1e-323], "▁▅█"),  # subnormals
        ([-1.7976931348623157e308, 0.0, 1.7976931348623157e308], "▁▅█"),  # a span that overflows
    ],
)
def test_a_sparkline_of_extreme_values_never_breaks_the_report(values, expected):
    assert sparkline(values) == expected
