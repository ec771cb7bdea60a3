"""An unreachable database or a wrong URL (hardening item 3): ``serve`` answers one line that
names the URL without its password, exit code 2; a worker waits with backoff, says so once per
attempt, and gives up after ``--give-up`` seconds; a worker started before its database works
once it appears. The test suite itself stops at once, in one line, without PostgreSQL."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

from schedsearch.core.spec import StudySpec
from schedsearch.store import Store
from tests.conftest import _pg_admin
from tests.processes import EXE, cli, free_port

DOWN = f"postgresql+psycopg://someone:s3cret@127.0.0.1:{free_port()}/studies"


def _one_error_line(stderr: str) -> str:
    assert "Traceback" not in stderr and "s3cret" not in stderr, stderr
    [line] = [x for x in stderr.splitlines() if x.startswith("schedsearch: error:")]
    return line


def test_serve_with_the_database_down_says_so_in_one_line(tmp_path: Path) -> None:
    done = cli("serve", "--database-url", DOWN, "--port", str(free_port()), cwd=tmp_path)
    assert done.returncode == 2
    line = _one_error_line(done.stderr)
    assert "cannot reach the database postgresql+psycopg://someone:***@127.0.0.1" in line
    assert done.stderr.strip() == line


def test_serve_with_a_wrong_url_says_so_in_one_line(tmp_path: Path) -> None:
    done = cli("serve", "--database-url", "nosuchdb://x/y", cwd=tmp_path)
    assert done.returncode == 2
    assert "not a usable database URL nosuchdb://x/y" in _one_error_line(done.stderr)


def test_a_worker_waits_with_backoff_then_gives_up(tmp_path: Path) -> None:
    started = time.monotonic()
    done = cli("worker", "--database-url", DOWN, "--give-up", "2", cwd=tmp_path, timeout=60)
    assert done.returncode == 2
    retries = [x for x in done.stderr.splitlines() if "retrying in" in x]
    assert [x.rsplit("retrying in ", 1)[1] for x in retries] == ["1 s", "2 s"]  # backoff
    assert all("someone:***@" in x for x in retries)
    assert "cannot reach the database" in _one_error_line(done.stderr)
    assert time.monotonic() - started < 30


def test_a_worker_started_before_its_database_serves_it_once_it_appears() -> None:
    name = f"schedsearch_late_{secrets.token_hex(4)}"
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"  # not created yet
    worker = subprocess.Popen(
        [EXE, "worker", "--database-url", url, "--poll", "0.2", "--idle-exit", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        # The database appears only once the worker has found it missing and said it retries
        # (a fixed sleep raced a worker slow to start on a loaded machine).
        seen: list[str] = []
        assert worker.stdout is not None
        while not any("retrying in" in line for line in seen):
            line = worker.stdout.readline()
            assert line, "the worker exited before retrying:\n" + "".join(seen)
            seen.append(line)
        with _pg_admin() as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        spec = StudySpec(name="late", epochs=1, n_trials=2, lr_range_test=False, rerun_top_k=0)
        store = Store(url)
        store.studies.create(spec)
        rest, _ = worker.communicate(timeout=120)
        out = "".join(seen) + rest
        assert worker.returncode == 0, out
        assert "Traceback" not in out
        assert store.studies.get("late").status == "completed"
        store.close()
    finally:
        worker.kill()
        with _pg_admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_suite_stops_at_once_without_postgresql(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/store"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).parents[2],
        env={
            **os.environ,
            "SCHEDSEARCH_TEST_PG": f"host=127.0.0.1 port={free_port()} user=postgres",
        },
    )
    assert done.returncode != 0, done.stdout[-2000:]
    assert "PostgreSQL is not reachable" in done.stdout
    assert done.stdout.count("psycopg.OperationalError") == 0
