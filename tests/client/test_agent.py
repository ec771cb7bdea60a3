"""``schedsearch agent`` without a service: its input errors, an unreachable service, and how it
stops a COMMAND's process group (the scenarios with a live service: tests/e2e/test_agent.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from schedsearch.client.agent import stop_group
from tests.processes import EXE, free_port


def alive(pid: int) -> bool:
    """Running, not a zombie that nobody reaped yet (in a container PID 1 may never)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def test_the_agent_needs_a_command() -> None:
    done = subprocess.run([EXE, "agent", "study"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.startswith("schedsearch: error: Missing argument 'COMMAND'")
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_bad_study_name_is_one_line() -> None:
    done = subprocess.run(
        [EXE, "agent", "a/b", "--", "true"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr.strip() == "schedsearch: error: 'a/b' is not a study id or name"


def test_an_unreachable_service_is_given_up_on() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    done = subprocess.run(
        [EXE, "agent", "study", "--url", url, "--give-up", "1", "--", "true"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1 and time.monotonic() - started < 30
    errors = [line for line in done.stderr.splitlines() if line.startswith("schedsearch: error")]
    assert len(errors) == 1 and "gave up after 1 s: cannot reach" in errors[0], done.stderr
    assert "trying again in 1 s" in done.stderr


def test_stopping_a_group_that_ignores_sigterm_kills_all_of_it(tmp_path: Path) -> None:
    """SIGTERM first; what ignores it is SIGKILLed after the wait, grandchildren included."""
    pids = tmp_path / "pids"
    script = (
        "import signal, subprocess, time, os\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "child = subprocess.Popen(['sleep', '600'])\n"
        f"open({str(pids)!r}, 'w').write(f'{{os.getpid()}} {{child.pid}}')\n"
        "time.sleep(600)\n"
    )
    process = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    deadline = time.monotonic() + 30
    while not (pids.exists() and pids.read_text()):
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)
    leader, grandchild = map(int, pids.read_text().split())
    started = time.monotonic()
    stop_group(process, wait=0.5)
    assert 0.5 <= time.monotonic() - started < 10
    assert process.returncode == -signal.SIGKILL
    deadline = time.monotonic() + 10
    while alive(grandchild):  # reparented: whoever reaps it, it is dead
        assert time.monotonic() < deadline, "the grandchild outlived its group"
        time.sleep(0.05)
    assert not alive(leader)
    assert os.getpgid(os.getpid()) != leader  # the group was its own, never the test's
