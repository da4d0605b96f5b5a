"""``iterbench kernel ...`` and ``iterbench plan --planner kernel``: files written, bad input refused."""

from __future__ import annotations

import json

import pytest
from kernel_helpers import planner_trace

from pytest_iterbench import cli
from pytest_iterbench.kernel import planner as kernel_planner_module
from pytest_iterbench.llm.traces import TraceStore

DESCRIPTION = "Forecast daily sales of a store from 2,000 observations."


def test_dataset_writes_train_heldout_and_manifest(tmp_path, capsys):
    task = "Task:\nClassify digits\n\nThe workspace already holds:\n"
    TraceStore(tmp_path).append(planner_trace([{"role": "user", "content": task}]))
    assert (
        cli.main(["kernel", "dataset", "--dir", str(tmp_path), "--synthetic", "200", "--seed", "3"])
        == 0
    )
    folder = tmp_path / ".iterbench" / "kernel" / "dataset"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["sources"] == {"trace": 1, "synthetic": 200}
    train = (folder / "train.jsonl").read_text().splitlines()
    heldout = (folder / "heldout.jsonl").read_text().splitlines()
    assert (
        len(train) + len(heldout)
        == 201
        == manifest["train"]["count"] + manifest["heldout"]["count"]
    )
    assert any(json.loads(line)["source"] == "trace" for line in train + heldout)
    assert "201" not in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["kernel", "dataset", "--synthetic", "-1"], "--synthetic: expected 0 or more, found -1"),
        (["kernel", "dataset", "--synthetic", "0"], "no examples (no planner traces"),
        (["kernel", "train"], "--data: expected train.jsonl in"),
        (
            ["kernel", "train", "--max-minutes", "0"],
            "--max-minutes: expected a number above 0, found 0.0",
        ),
        (["kernel", "train", "--rank", "-2"], "--rank: expected a number above 0, found -2"),
        (["kernel", "eval", "--limit", "0"], "--limit: expected a number above 0, found 0"),
    ],
)
def test_bad_input_is_refused_by_name(tmp_path, capsys, argv, message):
    assert cli.main([*argv, "--dir", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / ".iterbench" / "kernel" / "adapter").exists()


def test_an_unknown_action_is_a_usage_error(tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["kernel", "distill", "--dir", str(tmp_path)])
    assert exit_info.value.code == 2


def test_plan_with_the_kernel_planner_writes_a_valid_traced_plan(tmp_path, monkeypatch, capsys):
    pytest.importorskip("llguidance")
    from kernel_helpers import tiny_model, tiny_tokenizer

    from pytest_iterbench.kernel.decode import ConstrainedDecoder

    decoder = ConstrainedDecoder(tiny_model(), tiny_tokenizer())
    monkeypatch.setattr(
        kernel_planner_module, "shared_decoder", lambda adapter=None: (decoder, "tiny+test")
    )
    assert (
        cli.main(["plan", DESCRIPTION, "--planner", "kernel", "--dir", str(tmp_path), "--apply"])
        == 0
    )
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert (plan["planner"], plan["model"]) == ("kernel", "tiny+test")
    assert plan["cost"]["calls"] == 1
    assert 0 < plan["cost"]["cost_usd"] < 0.001
    assert plan["iterations"]
    assert json.loads((tmp_path / "runs.json").read_text())["runs"]
    [record] = TraceStore(tmp_path).records()
    assert (record.role, record.model, record.price_table) == (
        "planner",
        "tiny+test",
        "kernel-cpu-0.05-usd-per-cpu-hour",
    )
    assert record.usage.output_tokens == plan["cost"]["output_tokens"]
    assert record.cost_usd == plan["cost"]["cost_usd"]
    assert record.answer[0]["text"].startswith("kind: ")
    assert cli.main(["costs", "--dir", str(tmp_path)]) == 0
    assert "tiny+test" in capsys.readouterr().out
    assert cli.main(["validate", "--dir", str(tmp_path)]) == 0
