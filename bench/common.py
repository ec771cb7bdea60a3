"""What the benchmarks share: the machine and commit they report, a fresh PostgreSQL database,
a free port, a live ``schedsearch serve``, medians and ratios. Setup and reporting only: each
benchmark's measured code stays its own (``train_throughput.py``'s bare loop is an independent
copy on purpose: it is the baseline)."""

from __future__ import annotations

import os
import platform
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PG = os.environ.get("SCHEDSEARCH_TEST_PG", "host=127.0.0.1 port=5432 user=postgres")
EXE = shutil.which("schedsearch", path=str(Path(sys.executable).parent)) or "schedsearch"


def commit() -> str:
    """The commit measured, with ``+dirty`` when the tree has uncommitted changes."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip()

    return git("rev-parse", "--short", "HEAD") + ("+dirty" if git("status", "--porcelain") else "")


def machine() -> dict[str, Any]:
    """CPU model, cores and Python, for the report (torch facts come from those that load it)."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version()}


def header(title: str) -> None:
    """The first lines of every report: what, where, which commit."""
    facts = machine()
    print(f"# {title}")
    print(f"commit {commit()}; {facts['cpu']}, {facts['cores']} cores; Python {facts['python']}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pg_url(name: str) -> str:
    params = dict(part.split("=", 1) for part in PG.split())
    return (
        f"postgresql+psycopg://{params.get('user', 'postgres')}@{params.get('host', '127.0.0.1')}:"
        f"{params.get('port', '5432')}/{name}"
    )


@contextmanager
def fresh_pg_database() -> Iterator[str]:
    """A new, empty database on the local PostgreSQL, dropped afterwards."""
    import psycopg

    name = f"schedsearch_bench_{secrets.token_hex(4)}"
    with psycopg.connect(f"{PG} dbname=postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield pg_url(name)
    finally:
        with psycopg.connect(f"{PG} dbname=postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def wait_until(ready: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.2)


@contextmanager
def serving(
    url: str, env: dict[str, str] | None = None, workers: int = 1, log: Path | None = None
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """``schedsearch serve`` in a subprocess; yields its port and process once it accepts
    (``log``: its output goes there)."""
    port = free_port()
    output = log.open("wb") if log is not None else subprocess.DEVNULL
    server = subprocess.Popen(
        [EXE, "serve", "--port", str(port), "--database-url", url, "--workers", str(workers)],
        env={**os.environ, **(env or {})},
        stdout=output,
        stderr=subprocess.STDOUT if log is not None else subprocess.DEVNULL,
    )
    if not isinstance(output, int):
        output.close()  # the server writes to its own copy

    def accepts() -> bool:
        if server.poll() is not None:
            raise SystemExit("the server exited before it accepted connections")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            return False

    try:
        wait_until(accepts, 60, "the server")
        yield port, server
    finally:
        server.terminate()
        server.wait(timeout=30)


def median_seconds(command: list[str], repeats: int, env: dict[str, str] | None = None) -> float:
    """Median wall time of a command run ``repeats`` times (each must exit 0)."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        done = subprocess.run(command, env={**os.environ, **(env or {})}, capture_output=True)
        times.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise SystemExit(f"{command} failed: {done.stderr.decode()[-500:]}")
    return statistics.median(times)


def rss_mb(pid: int) -> float:
    """Resident memory of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise SystemExit(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far, from /proc; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ratio(value: float, baseline: float) -> str:
    return f"{value / baseline:.2f}x"
