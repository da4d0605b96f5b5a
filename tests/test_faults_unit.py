"""The pure parts of the fault handling: the scrubber, bounded logs, pruning old sessions."""

from __future__ import annotations

import os

from hypothesis import given
from hypothesis import strategies as st

from pytest_iterbench.execution.logs import bound_log, prune_sessions, read_tail
from pytest_iterbench.secrets import REDACTED, Scrubber, child_environment, is_secret_name

SECRET = "sk-ant-unit-0123456789"


def test_secret_names_and_the_filtered_environment():
    environ = {
        "ANTHROPIC_API_KEY": SECRET,
        "GITHUB_TOKEN": "ghp_0123456789",
        "AWS_SECRET": "x" * 10,
        "DB_PASSWORD": "hunter2hunter2",
        "PATH": "/usr/bin",
        "TOKENIZERS_PARALLELISM": "false",
    }
    assert child_environment(environ) == {"PATH": "/usr/bin", "TOKENIZERS_PARALLELISM": "false"}
    assert not is_secret_name("KEYBOARD")


def test_the_scrubber_knows_values_not_names_and_hides_them_in_its_repr():
    scrubber = Scrubber.from_environment({"MY_API_KEY": SECRET, "SHORT_TOKEN": "abc", "HOME": "/r"})
    assert scrubber.scrub(f"key={SECRET}; home=/r; abc") == f"key={REDACTED}; home=/r; abc"
    assert SECRET not in repr(scrubber)
    assert not Scrubber.from_environment({"HOME": "/r"})


@given(st.text(), st.text())
def test_no_scrubbed_text_holds_the_secret(before, after):
    scrubber = Scrubber.from_values([SECRET])
    assert SECRET not in scrubber.scrub(before + SECRET + after + SECRET)
    assert SECRET.encode() not in scrubber.scrub_bytes((before + SECRET + after).encode())


def test_a_large_log_keeps_its_head_and_tail_with_a_marker(tmp_path):
    log = tmp_path / "v1.log"
    log.write_bytes(b"first line\n" + b"x" * 10_000 + b"\n" + f"{SECRET}\nlast line\n".encode())
    bound_log(log, Scrubber.from_values([SECRET]), limit=2_000)
    kept = log.read_bytes()
    assert len(kept) <= 2_100
    assert kept.startswith(b"first line\n")
    assert kept.endswith(f"{REDACTED}\nlast line\n".encode())
    assert b"bytes dropped from the middle of this log]" in kept
    assert read_tail(log, 1) == ["last line"]


def test_a_small_log_is_only_scrubbed(tmp_path):
    log = tmp_path / "v1.log"
    log.write_text(f"using {SECRET}\n")
    bound_log(log, Scrubber.from_values([SECRET]))
    assert log.read_text() == f"using {REDACTED}\n"


def test_read_tail_reads_the_end_and_clips_long_lines(tmp_path):
    log = tmp_path / "v1.log"
    log.write_text("a\n" + "y" * 5000 + "\nz\n")
    first, last = read_tail(log, 2)
    assert first.endswith("characters cut]")
    assert len(first) < 500
    assert last == "z"
    assert read_tail(tmp_path / "missing.log", 3) == []


def test_pruning_keeps_the_newest_finished_sessions_and_every_running_one(tmp_path):
    for number in range(5):
        folder = tmp_path / f"s{number}"
        folder.mkdir()
        (folder / "v1.log").write_text("log")
        os.utime(folder, (1_000 + number, 1_000 + number))
    running = tmp_path / "s-running"
    running.mkdir()
    (running / "v1.lock").write_text("")
    os.utime(running, (1, 1))
    prune_sessions(tmp_path, keep=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s-running", "s3", "s4"]
