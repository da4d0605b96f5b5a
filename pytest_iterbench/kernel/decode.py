"""Constrained decoding: the model writes a compact plan, and nothing else can come out.

Every step, llguidance's matcher for :func:`~pytest_iterbench.kernel.compact.grammar`
masks the logits to the tokens the grammar allows; where it allows exactly one
continuation (``kind: ``, ``\\napproaches: ``...) those tokens are forced and
fed in one forward pass, so the model spends compute only on choices. Greedy
decoding: the same task gives the same plan.

>>> decoder = ConstrainedDecoder(model, tokenizer)  # doctest: +SKIP
>>> decoder.generate("Classify digits").compact.kind  # doctest: +SKIP
'images'
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

import numpy

from pytest_iterbench.kernel.compact import CompactPlan, grammar, parse_compact
from pytest_iterbench.kernel.prompt import messages

MAX_STEPS = 120


def default_threads() -> int:
    """``$ITERBENCH_KERNEL_THREADS``, else 1: on a shared two-core machine one thread per plan
    was 3x faster than two (measured: 0.12 s against 0.45 s per step under load)."""
    return max(1, int(os.environ.get("ITERBENCH_KERNEL_THREADS") or 1))


class DecodingError(RuntimeError):
    """The matcher refused a token or the grammar did not finish (a bug, never a model's fault)."""


@dataclass(frozen=True)
class Generation:
    """One decoded plan and what it took."""

    compact: CompactPlan
    text: str
    prompt_tokens: int
    output_tokens: int
    forced_tokens: int
    cpu_seconds: float
    wall_seconds: float


class ConstrainedDecoder:
    """Greedy decoding of compact plans by ``model`` under the grammar."""

    def __init__(self, model: Any, tokenizer: Any, *, threads: int | None = None) -> None:
        import llguidance
        import llguidance.hf

        self.model = model
        self.threads = threads or default_threads()
        self.tokenizer = tokenizer
        self.lltokenizer = llguidance.hf.from_tokenizer(tokenizer)
        self.grammar = llguidance.LLMatcher.grammar_from_lark(grammar())

    def prompt_ids(self, text: str) -> list[int]:
        ids = self.tokenizer.apply_chat_template(
            messages(text), add_generation_prompt=True, tokenize=True, return_dict=False
        )
        return list(ids["input_ids"] if isinstance(ids, dict) or hasattr(ids, "keys") else ids)

    def generate(self, text: str) -> Generation:
        """The compact plan for the task ``text``."""
        import torch

        start, cpu_start = time.perf_counter(), time.process_time()
        prompt = self.prompt_ids(text)
        before = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            with torch.inference_mode():
                written, forced = self._decode(prompt)
        finally:
            torch.set_num_threads(before)
        answer = self.tokenizer.decode(written)
        return Generation(
            parse_compact(answer),
            answer,
            len(prompt),
            len(written),
            forced,
            time.process_time() - cpu_start,
            time.perf_counter() - start,
        )

    def _decode(self, prompt: list[int]) -> tuple[list[int], int]:
        # llguidance.numpy, not llguidance.torch: the latter torch.compile()s at import (tens of s).
        import llguidance
        import llguidance.numpy
        import torch

        matcher = llguidance.LLMatcher(self.lltokenizer, self.grammar)
        vocab = self.lltokenizer.vocab_size
        bitmask = llguidance.numpy.allocate_token_bitmask(1, vocab)
        written: list[int] = []
        feed, forced, cache = list(prompt), 0, None
        for _ in range(MAX_STEPS):
            fast = matcher.compute_ff_tokens()
            self._consume(matcher, fast)
            written += fast
            forced += len(fast)
            if matcher.is_accepting():
                return written, forced
            out = self.model(input_ids=torch.tensor([feed + fast]), cache=cache, use_cache=True)
            cache = out.cache
            logits = out.logits[0, -1, :vocab].float()
            llguidance.numpy.fill_next_token_bitmask(matcher, bitmask, 0)
            allowed = numpy.unpackbits(bitmask[0].view(numpy.uint8), bitorder="little")[:vocab]
            logits[torch.from_numpy(allowed[: logits.shape[0]] == 0)] = float("-inf")
            token = int(torch.argmax(logits))
            self._consume(matcher, [token])
            written.append(token)
            feed = [token]
            if matcher.is_accepting():
                return written, forced
        raise DecodingError(f"compact plan: no end after {MAX_STEPS} steps: {written!r}")

    @staticmethod
    def _consume(matcher: Any, tokens: list[int]) -> None:
        for token in tokens:
            if not matcher.consume_token(token):
                raise DecodingError(f"grammar refused token {token}: {matcher.get_error()}")
