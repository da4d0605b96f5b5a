"""A tiny randomly initialised Llama and an in-process byte-level BPE tokenizer (no download)."""

from __future__ import annotations

import functools
import random

from pytest_iterbench.kernel.compact import grammar
from pytest_iterbench.kernel.dataset import synthetic_examples
from pytest_iterbench.kernel.model import offline
from pytest_iterbench.kernel.prompt import SYSTEM
from pytest_iterbench.llm.fake_api import digits_plan_answer
from pytest_iterbench.llm.pricing import TokenUsage
from pytest_iterbench.llm.traces import TraceRecord

CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
offline()  # no test reaches a model hub
SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


@functools.cache
def tiny_tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    corpus = [grammar(), SYSTEM] + [
        e.prompt + "\n" + e.completion for e in synthetic_examples(60, seed=1)
    ]
    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=700, special_tokens=SPECIAL, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    backend.train_from_iterator(corpus, trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        bos_token="<|im_start|>",
        chat_template=CHAT_TEMPLATE,
    )


def tiny_model(seed: int = 0):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    random.seed(seed)
    config = LlamaConfig(
        vocab_size=len(tiny_tokenizer()),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        tie_word_embeddings=True,
    )
    return LlamaForCausalLM(config).eval()


def planner_trace(messages: list[dict[str, object]]) -> TraceRecord:
    """A traced planner call that asked ``messages`` and got the digits plan back."""
    return TraceRecord(
        timestamp="2026-11-30T12:00:00Z",
        role="planner",
        model="claude",
        status="ok",
        usage=TokenUsage(),
        cost_usd=0.01,
        latency_seconds=1.0,
        retries=0,
        prompt_sha256="x",
        prompt={"messages": messages},
        answer=[{"type": "tool_use", "name": "submit_plan", "input": digits_plan_answer()}],
    )
