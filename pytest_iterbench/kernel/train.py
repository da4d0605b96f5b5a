"""LoRA fine-tuning on the CPU, bounded in time, recorded with what it trained on.

The adapter (peft) sits on the attention projections of the top
``Recipe.layers`` transformer blocks only: the blocks below it get no
gradient, so backward stops there and a step costs about a third of a full
fine-tune. The loss counts the answer's tokens only (the compact plan), not
the prompt's. Training stops at ``max_examples`` or ``max_seconds``, whichever
comes first (CPU seconds of the process, so that a busy machine
does not shorten training); ``recipe.json`` beside the adapter records the recipe, the data
file's SHA-256, what was seen and the losses.

>>> result = train(model, tokenizer, examples, Recipe(max_seconds=60))  # doctest: +SKIP
>>> save_adapter(result, Path("adapter"), data_sha256="...")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import random
import sys
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pytest_iterbench.atomic import write_text_atomically
from pytest_iterbench.kernel.dataset import Example
from pytest_iterbench.kernel.model import offline
from pytest_iterbench.kernel.prompt import messages

TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj")


@dataclass(frozen=True)
class Recipe:
    """How to train; every field lands in ``recipe.json``."""

    rank: int = 8
    alpha: int = 16
    layers: int = 8
    targets: tuple[str, ...] = TARGETS
    learning_rate: float = 2e-3
    batch_size: int = 4
    max_examples: int = 2_000
    max_seconds: float = 600.0
    seed: int = 0
    threads: int = 1


@dataclass
class TrainResult:
    """The trained peft model and what training did."""

    model: Any
    recipe: Recipe
    examples_seen: int = 0
    steps: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    losses: list[float] = field(default_factory=list)


def encode(tokenizer: Any, example: Example) -> tuple[list[int], list[int]]:
    """Token ids of prompt + answer, and labels (-100 on the prompt: no loss there)."""
    prompt = tokenizer.apply_chat_template(
        messages(example.prompt), add_generation_prompt=True, tokenize=True, return_dict=False
    )
    prompt = list(prompt["input_ids"] if hasattr(prompt, "keys") else prompt)
    answer = tokenizer(example.completion, add_special_tokens=False)["input_ids"]
    return prompt + answer, [-100] * len(prompt) + list(answer)


def with_lora(model: Any, recipe: Recipe) -> Any:
    """``model`` wrapped with a fresh LoRA adapter on its top ``recipe.layers`` blocks."""
    from peft import LoraConfig, get_peft_model

    offline()

    layers = model.config.num_hidden_layers
    config = LoraConfig(
        r=recipe.rank,
        lora_alpha=recipe.alpha,
        lora_dropout=0.0,
        target_modules=list(recipe.targets),
        layers_to_transform=list(range(max(0, layers - recipe.layers), layers)),
        task_type="CAUSAL_LM",
    )
    with warnings.catch_warnings():  # peft still asks transformers a deprecated question
        warnings.filterwarnings(
            "ignore", "`is_gradient_checkpointing` is deprecated", FutureWarning
        )
        return get_peft_model(model, config)


def train(
    model: Any, tokenizer: Any, examples: list[Example], recipe: Recipe, *, progress: bool = True
) -> TrainResult:
    """One pass over (a shuffled prefix of) ``examples``, within the recipe's bounds."""
    import torch

    torch.manual_seed(recipe.seed)
    chosen = random.Random(recipe.seed).sample(examples, min(len(examples), recipe.max_examples))
    peft_model = with_lora(model, recipe)
    peft_model.train()
    optimiser = torch.optim.AdamW(
        [p for p in peft_model.parameters() if p.requires_grad], lr=recipe.learning_rate
    )
    result = TrainResult(peft_model, recipe)
    before = torch.get_num_threads()
    torch.set_num_threads(recipe.threads)
    start, cpu = time.perf_counter(), time.process_time()
    bar = _bar(len(chosen), progress)
    try:
        for first in range(0, len(chosen), recipe.batch_size):
            if time.process_time() - cpu > recipe.max_seconds:  # CPU time: fair on a shared machine
                break
            batch = chosen[first : first + recipe.batch_size]
            loss = _step(peft_model, tokenizer, batch, optimiser, first / max(1, len(chosen)))
            result.steps += 1
            result.examples_seen += len(batch)
            result.losses.append(round(loss, 4))
            bar.update(len(batch))
            bar.set_postfix(loss=f"{loss:.3f}")
    finally:
        bar.close()
        torch.set_num_threads(before)
    result.seconds = time.perf_counter() - start
    result.cpu_seconds = time.process_time() - cpu
    peft_model.eval()
    return result


def _bar(total: int, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, unit="ex", desc="kernel train", disable=not enabled, file=sys.stderr)


def _step(model: Any, tokenizer: Any, batch: list[Example], optimiser: Any, done: float) -> float:
    import torch

    encoded = [encode(tokenizer, example) for example in batch]
    width = max(len(ids) for ids, _ in encoded)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    ids = torch.tensor([i + [pad] * (width - len(i)) for i, _ in encoded])
    labels = torch.tensor([lab + [-100] * (width - len(lab)) for _, lab in encoded])
    mask = torch.tensor([[1] * len(i) + [0] * (width - len(i)) for i, _ in encoded])
    for group in optimiser.param_groups:  # linear decay to 10% over the pass
        group.setdefault("initial_lr", group["lr"])
        group["lr"] = group["initial_lr"] * (1.0 - 0.9 * done)
    loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
    loss.backward()
    optimiser.step()
    optimiser.zero_grad(set_to_none=True)
    return float(loss.detach())


def save_adapter(result: TrainResult, directory: Path, *, data_sha256: str, base: str) -> Path:
    """Write the adapter and ``recipe.json`` (recipe, data hash, what training did)."""
    directory.mkdir(parents=True, exist_ok=True)
    result.model.save_pretrained(str(directory))
    (directory / "README.md").unlink(missing_ok=True)  # peft's blank model card template
    config_file = directory / "adapter_config.json"
    config = json.loads(config_file.read_text(encoding="utf-8"))
    config["base_model_name_or_path"] = base  # the base's name, not this machine's cache path
    write_text_atomically(config_file, json.dumps(config, indent=2, sort_keys=True) + "\n")
    record = {
        "base": base,
        "data_sha256": data_sha256,
        "recipe": asdict(result.recipe),
        "examples_seen": result.examples_seen,
        "steps": result.steps,
        "seconds": round(result.seconds, 1),
        "cpu_seconds": round(result.cpu_seconds, 1),
        "first_losses": result.losses[:5],
        "last_losses": result.losses[-5:],
        "command": "iterbench kernel train",
    }
    write_text_atomically(directory / "recipe.json", json.dumps(record, indent=2) + "\n")
    return directory
