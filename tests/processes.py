"""Real processes for the tests: the installed ``schedsearch`` command as a CLI, a worker and
the HTTP service, and a patient wait for what they do."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

# The cores are shared with pytest-xdist's other processes: a bound on how long something may
# take stretches by their number (1 without xdist), so that it catches a regression, not load.
SHARING = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
EXE = shutil.which("schedsearch", path=str(Path(sys.executable).parent)) or "schedsearch"
TOKEN = "s3cret-token"


def cli(
    *args: str, cwd: Path, env: dict | None = None, timeout: int = 300
) -> subprocess.CompletedProcess:
    """The installed command, run in ``cwd`` with its datasets under ``cwd/data``."""
    return subprocess.run(
        [EXE, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "SCHEDSEARCH_DATA_DIR": str(cwd / "data"), **(env or {})},
    )


def start_worker(url: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """A worker process; ``env``: variables on top of ours (e.g. a fault-injection pause)."""
    return subprocess.Popen(
        [EXE, "worker", "--database-url", url, "--poll", "0.2", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )


def finish(workers: list[subprocess.Popen], timeout: float = 240) -> list[str]:
    logs = []
    for worker in workers:
        out, _ = worker.communicate(timeout=timeout)
        assert worker.returncode == 0, out
        logs.append(out)
    return logs


def wait_for(condition, timeout: float = 120, every: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(every)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(
    db_url: str, token: str | None, env_extra: dict[str, str] | None = None
) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "SCHEDSEARCH_API_TOKEN"}
    env.update(env_extra or {})  # e.g. short heartbeats and grace periods
    if token:
        env["SCHEDSEARCH_API_TOKEN"] = token
    # A file, not a pipe: nobody reads the server's log while it runs, and a full pipe would
    # block it. Closing our copy of the file on return leaves the server's open.
    with tempfile.TemporaryFile("w+") as log:
        server = subprocess.Popen(
            [EXE, "serve", "--port", str(port), "--database-url", db_url],
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    return server, url
            except httpx.HTTPError:
                pass
            if server.poll() is not None:
                log.seek(0)
                pytest.fail(f"the server exited: {log.read()}")
            assert time.monotonic() < deadline, "the server did not come up"
            time.sleep(0.2)
