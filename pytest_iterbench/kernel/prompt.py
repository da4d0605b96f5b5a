"""The kernel's prompt: the same text at training and at inference.

The task is cut to ``MAX_TASK_CHARS`` (prompt tokens cost latency on a CPU)
and anonymised: e-mail addresses, URLs, file paths and long numbers become
placeholders, so traces carry no personal data into the training set.

>>> anonymise("mail bob@example.org, see /home/bob/data.csv")
'mail <email>, see <path>'
"""

from __future__ import annotations

import re

MAX_TASK_CHARS = 600
SYSTEM = "Write the compact ML experiment plan for the task."
_PATTERNS = (
    (re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"), "<email>"),
    (re.compile(r"https?://\S+"), "<url>"),
    (re.compile(r"(?:[A-Za-z]:)?(?:[/\\][\w.-]+){2,}"), "<path>"),
    (re.compile(r"\b\d{7,}\b"), "<number>"),
)


def anonymise(text: str) -> str:
    """``text`` without e-mail addresses, URLs, paths and long numbers (ids, phone numbers)."""
    for pattern, placeholder in _PATTERNS:
        text = pattern.sub(placeholder, text)
    return text


def task_text(text: str) -> str:
    """The task as the model reads it: anonymised, whitespace folded, cut."""
    return re.sub(r"\s+", " ", anonymise(text)).strip()[:MAX_TASK_CHARS]


def messages(text: str) -> list[dict[str, str]]:
    """The chat messages for a task (the answer is the compact plan)."""
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": task_text(text)}]
