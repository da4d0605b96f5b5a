"""The kernel: a local planner model (SmolLM2-135M + a LoRA adapter) that plans offline.

Bottom to top: ``catalogue`` (what may be chosen), ``compact`` (the compact
plan and its grammar), ``expander`` (compact plan to ``plan.json``),
``synthetic`` and ``dataset`` (the supervised set), ``recognise`` and
``score`` (the Sullivan score), ``baseline`` (the rule-based planner),
``prompt``, ``model`` (offline loading, conversion cache), ``decode``
(constrained decoding), ``train`` (LoRA), ``planner`` (``--planner kernel``),
``evaluate`` and ``commands`` (``iterbench kernel ...``). Importing this
package loads no model and imports no torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_iterbench import lazy

if TYPE_CHECKING:
    from pytest_iterbench.kernel.compact import CompactPlan, grammar, parse_compact
    from pytest_iterbench.kernel.expander import expand
    from pytest_iterbench.kernel.score import sullivan_score

#: Each public name and the module that owns it, imported on first use.
_OWNERS = {
    "CompactPlan": "pytest_iterbench.kernel.compact",
    "expand": "pytest_iterbench.kernel.expander",
    "grammar": "pytest_iterbench.kernel.compact",
    "parse_compact": "pytest_iterbench.kernel.compact",
    "sullivan_score": "pytest_iterbench.kernel.score",
}

__all__ = [
    "CompactPlan",
    "expand",
    "grammar",
    "parse_compact",
    "sullivan_score",
]


__getattr__, __dir__ = lazy.exports(__name__, _OWNERS)
