"""The studio refuses strangers: no token, a foreign origin, a path out of its folders; no secret leaks."""

from __future__ import annotations

import json

import pytest
from studio_helpers import TOKEN, get_json, http, live, post_json, receive_until, studio
from websockets.exceptions import InvalidStatus

from pytest_iterbench.studio.app import create_app

SECRET = "sk-ant-api03-" + "S" * 40
LEAKY_MAIN = f"""
# an API key pasted into the code by mistake: {SECRET}
import os
def run(parameters):
    raise RuntimeError("the key is " + os.environ["ANTHROPIC_API_KEY"])
"""


def concrete(path):
    """A request path for a route's pattern (path parameters filled in)."""
    return path.replace("{name:path}", "comparison_report.html") or "/"


@pytest.fixture
def small(workspace):
    workspace.iteration("good").builtin_metrics().run("run-001").write()
    return workspace


def test_every_route_and_the_websocket_refuse_a_request_without_the_right_token(small):
    app = create_app(small.root, TOKEN)
    paths = sorted({concrete(getattr(route, "path", "")) for route in app.routes})
    assert {
        "/",
        "/health",
        "/execute",
        "/api/results",
        "/api/orchestration",
        "/ws",
        "/static",
    } <= set(paths)
    with studio(small.root) as server:
        for path in paths:
            if path == "/ws":
                continue
            target = path + "/studio.js" if path == "/static" else path
            for method in ("GET", "POST"):
                for token in (None, "wrong-token", TOKEN[:-1]):
                    status, body = http(server, target, token=token, method=method, body=b"{}")
                    assert status == 403, f"{method} {target} with {token!r}: {status}"
                    assert "forbidden" in body
        for token in ("", "wrong-token"):
            with pytest.raises(InvalidStatus) as refused, live(server, token=token):
                pass
            assert refused.value.response.status_code == 403
        assert get_json(server, "/health")["workspace"] == str(small.root)


def test_the_token_is_accepted_from_the_query_and_the_cookie_the_page_sets(small):
    with studio(small.root) as server:
        status, page = http(server, f"/?token={TOKEN}", token=None)
        assert status == 200
        assert "studio.js" in page
        assert (
            http(
                server, "/health", token=None, headers={"Cookie": f"iterbench_studio_token={TOKEN}"}
            )[0]
            == 200
        )


def test_a_foreign_origin_is_refused_on_http_and_on_the_websocket(small):
    with studio(small.root) as server:
        evil = {"Origin": "http://evil.example"}
        assert http(server, "/health", headers=evil)[0] == 403
        assert (
            http(server, "/execute", method="POST", body=b'{"target": "run-001"}', headers=evil)[0]
            == 403
        )
        with pytest.raises(InvalidStatus) as refused, live(server, origin="http://evil.example"):
            pass
        assert refused.value.response.status_code == 403
        own = f"http://127.0.0.1:{server.port}"
        assert http(server, "/health", headers={"Origin": own})[0] == 200
        with live(server, origin=own) as socket:
            first = receive_until(socket, lambda m: len(m) >= 1)
        assert first[0]["type"] == "snapshot"


def test_no_file_outside_the_iteration_or_the_reports_folder_is_served(small):
    (small.root / "reports").mkdir()
    (small.root / "reports" / "comparison_report.html").write_text("<p>report</p>")
    (small.root / "outside.txt").write_text("PRIVATE-CONTENT")
    folder = small.root / "iterations" / "good"
    (folder / "link.py").symlink_to(small.root / "outside.txt")
    (small.root / "reports" / "link.html").symlink_to(small.root / "outside.txt")
    attempts = [
        "/api/code?iteration=good&file=../../outside.txt",
        "/api/code?iteration=good&file=..%2F..%2Foutside.txt",
        f"/api/code?iteration=good&file={small.root / 'outside.txt'}",
        "/api/code?iteration=good&file=link.py",
        "/api/code?iteration=good&file=/etc/passwd",
        "/report/../outside.txt",
        "/report/..%2Foutside.txt",
        "/report/%2e%2e/outside.txt",
        "/report/link.html",
        "/static/..%2F..%2Foutside.txt",
        "/static/%2e%2e/app.py",
    ]
    with studio(small.root) as server:
        for path in attempts:
            status, body = http(server, path)
            assert status in (400, 403, 404), f"{path}: {status}"
            assert "PRIVATE-CONTENT" not in body, path
            assert "import" not in body, path
        assert get_json(server, "/api/code?iteration=good")["file"] == "main.py"
        status, report = http(server, "/report")
        assert (status, report) == (200, "<p>report</p>")


def test_the_api_key_never_reaches_the_page(workspace, pytester, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    workspace.iteration("leaky", LEAKY_MAIN).builtin_metrics().run("run-001").write()
    pytester.runpytest("--iterbench", "run-001", "-p", "no:cacheprovider")
    results = json.loads((workspace.root / "results.json").read_text())["results"]
    session = results[0]["session_id"]
    nodeid = results[0]["nodeid"]
    (workspace.root / "reports" / "notes.md").write_text(f"pasted: {SECRET}\n")
    plan = json.dumps({"description": SECRET, "iterations": []})
    with studio(workspace.root) as server:
        answers = [
            http(server, path)[1]
            for path in (
                "/",
                "/health",
                "/api/workspace",
                "/api/session",
                "/api/live",
                "/api/results?run=run-001",
                "/api/history?run=run-001&iteration=leaky&metric=accuracy",
                "/api/pareto?run=run-001&x=accuracy&y=f1_macro",
                "/api/code?iteration=leaky",
                f"/api/item?run=run-001&session={session}&nodeid={nodeid}",
                "/api/costs",
                "/report",
                "/report/notes.md",
                "/static/studio.js",
                "/code.css",
            )
        ]
        answers.append(http(server, "/api/plan/validate", method="POST", body=plan)[1])
        answers.append(post_json(server, "/execute", {"target": SECRET})[1]["error"])
        with live(server) as socket:
            answers += [json.dumps(m) for m in receive_until(socket, lambda m: len(m) >= 2)]
    text = "\n".join(answers)
    assert "[redacted]" in text  # the code view and the notes did hold it
    assert "the key is" in text
    assert SECRET not in text
    assert SECRET[13:33] not in text


def test_the_command_prints_the_url_with_its_token_and_serves_only_loopback(small, capsys):
    import os
    import re
    import signal
    import subprocess
    import sys
    import urllib.request

    from pytest_iterbench import cli

    assert cli.main(["studio", str(small.root), "--host", "0.0.0.0", "--no-browser"]) == 1
    assert "the studio serves only 127.0.0.1 unless --allow-remote" in capsys.readouterr().err
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest_iterbench", "studio", str(small.root), "--no-browser"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        assert process.stdout is not None
        process.stdout.readline()
        url = process.stdout.readline().rstrip("\n")
        match = re.fullmatch(r"http://127\.0\.0\.1:(\d+)/\?token=([\w-]{32})", url)
        assert match, url
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        base = f"http://127.0.0.1:{match[1]}"
        with opener.open(f"{base}/health?token={match[2]}", timeout=30) as response:
            assert json.loads(response.read())["workspace"] == str(small.root)
    finally:
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    assert out.strip().endswith("iterbench studio stopped")
