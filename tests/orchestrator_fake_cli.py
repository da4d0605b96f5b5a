"""``iterbench`` with a scripted model, in a process of its own (kill tests need one).

Usage: ``python tests/orchestrator_fake_cli.py REPLIES.json ARG...`` where the
JSON file lists ``[tool_name, tool_input]`` answers, in the order the model is asked.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pytest_iterbench.cli import main
from pytest_iterbench.llm.fake_api import FakeMessagesApi, tool_answer

if __name__ == "__main__":
    scripted = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    api = FakeMessagesApi([tool_answer(name, data) for name, data in scripted])
    sys.exit(main(sys.argv[2:], http_client=api.http_client()))
