"""bench/lease_load.py and bench/lease_profile.py at toy sizes, so that they cannot rot: a real
server on a fresh PostgreSQL database, every call type answered, the figures written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _bench(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(ROOT / "bench" / script), *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_lease_load_at_toy_size(tmp_path: Path) -> None:
    out = tmp_path / "lease_load.json"
    done = _bench(
        "lease_load.py",
        *("--trials", "20", "--agents", "2", "--seconds", "2", "--warmup", "1"),
        *("--period", "0.1", "--beat", "0.5", "--concurrency", "1,2", "--server-workers", "1"),
        *("--saturation-reports", "10", "--pairs", "2", "--json", str(out)),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads(out.read_text())
    loop = results["open_loop"]
    for call in ("ask", "report", "heartbeat", "finish"):
        assert loop[call]["calls"] > 0 and loop[call]["errors"] == 0, (call, loop[call])
    assert [level["concurrency"] for level in results["saturation"]] == [1, 2]
    assert all(level["errors"] == 0 and level["per_s"] > 0 for level in results["saturation"])
    assert results["ask_vs_optuna"]["ratio"] > 0
    assert "== Goals ==" in done.stdout and "ask median / plain Optuna" in done.stdout


def test_lease_profile_at_toy_size() -> None:
    done = _bench("lease_profile.py", "--trials", "20", "--running", "2", "--cycles", "1")
    assert done.returncode == 0, done.stderr[-2000:]
    for call in ("ask", "report", "heartbeat", "finish"):
        assert f"\n{call} (" in done.stdout
    assert "pruner.prune" in done.stdout and "SQL statements per call" in done.stdout
