"""Persistence to git: a commit after every step, a push that never loses local work.

The git command line does the work. The workspace's ``.gitignore`` keeps out
``.iterbench/`` (journals, caches, traces with their prompts), ``.env`` and
bytecode; before each commit the staged names are checked again and any
secret-looking file (``.env``, ``*.key``, ``*.pem``) is unstaged. A push that
fails (no network, rejected) is recorded in ``state.json`` (``git.push_pending``,
the error) and retried after the next step; the commits stay local meanwhile.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from pytest_iterbench.orchestrator.errors import OrchestrationError
from pytest_iterbench.orchestrator.state import Orchestration, StateFile, StepRecord
from pytest_iterbench.results.events import EventLog
from pytest_iterbench.results.records import utc_now
from pytest_iterbench.workspace.paths import STATE_DIR

IGNORED = (
    f"{STATE_DIR}/",
    ".env",
    ".env.*",
    "__pycache__/",
    "*.pyc",
    ".pytest_cache/",
    "*.key",
    "*.pem",
)
_SECRET_NAME = re.compile(r"(^|/)(\.env(\..*)?|.*\.key|.*\.pem)$")
_CREDENTIALS = re.compile(r"://[^/@\s]+@")
IDENTITY = ("-c", "user.name=iterbench", "-c", "user.email=iterbench@localhost")


def git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``git -C root args``; ``OrchestrationError`` with git's message when it fails."""
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=120
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise OrchestrationError(f"git {args[0]}: cannot run git: {exc}") from exc
    if check and done.returncode != 0:
        raise OrchestrationError(
            f"git {' '.join(args)} in {root}: {done.stderr.strip() or done.stdout.strip()}"
        )
    return done


def _scrubbed(text: str) -> str:
    return _CREDENTIALS.sub("://***@", text.strip())[-500:]


@dataclass
class GitPersistence:
    """Commits the workspace after each step; pushes to ``remote`` when one is given."""

    root: Path
    remote: str | None
    events: EventLog

    def prepare(self) -> None:
        """A repository (``git init`` when the workspace is in none) and a ``.gitignore``."""
        if git(self.root, "rev-parse", "--is-inside-work-tree", check=False).returncode != 0:
            git(self.root, "init", "-q")
        ignore = self.root / ".gitignore"
        present = ignore.read_text(encoding="utf-8").splitlines() if ignore.is_file() else []
        missing = [pattern for pattern in IGNORED if pattern not in present]
        if missing:
            ignore.write_text("\n".join([*present, *missing]) + "\n", encoding="utf-8")

    def after_step(self, orchestration: Orchestration, step: StepRecord) -> None:
        """Commit what the step changed, then push (or retry an earlier failed push)."""
        orchestration.git.remote = self.remote
        commit = self.commit(f"iterbench: {step.id} {step.status}")
        if commit is not None:
            orchestration.git.last_commit = commit
            orchestration.git.push_pending = self.remote is not None
        if self.remote is not None and orchestration.git.push_pending:
            self.push(orchestration)
        StateFile(self.root).save(orchestration)

    def commit(self, message: str) -> str | None:
        """Stage the workspace (secrets left out) and commit; the commit's id, or None if no change."""
        git(self.root, "add", "-A", "--", ".")
        staged = git(self.root, "diff", "--cached", "--name-only", "--relative").stdout.split()
        secret = [
            name for name in staged if _SECRET_NAME.search(name) or name.startswith(f"{STATE_DIR}/")
        ]
        if secret:
            git(self.root, "reset", "-q", "--", *secret)
        if git(self.root, "diff", "--cached", "--quiet", "--", ".", check=False).returncode == 0:
            return None
        # Only the workspace's paths: what a user staged elsewhere in a larger repository stays staged.
        git(self.root, *self._identity(), "commit", "-q", "-m", message, "--", ".")
        return git(self.root, "rev-parse", "HEAD").stdout.strip()

    def push(self, orchestration: Orchestration) -> bool:
        """Push HEAD to the remote's branch of the same name; a failure is recorded, not raised."""
        assert self.remote is not None
        branch = git(self.root, "rev-parse", "--abbrev-ref", "HEAD").stdout.strip()
        done = git(self.root, "push", "-q", self.remote, f"HEAD:refs/heads/{branch}", check=False)
        state = orchestration.git
        if done.returncode == 0:
            state.push_pending, state.last_push_error, state.last_push_at = False, None, utc_now()
        else:
            state.push_failures += 1
            state.last_push_error = _scrubbed(done.stderr or done.stdout)
        self.events.emit(
            "orchestration.push",
            remote=_scrubbed(self.remote),
            ok=done.returncode == 0,
            error=state.last_push_error,
        )
        return done.returncode == 0

    def _identity(self) -> tuple[str, ...]:
        """A committer for repositories with none configured (a fresh container)."""
        configured = git(self.root, "config", "user.email", check=False).stdout.strip()
        return () if configured else IDENTITY
