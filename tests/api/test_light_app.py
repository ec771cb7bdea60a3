"""The API process stays light: importing the app loads no torch, torchvision or matplotlib
(plots import matplotlib when one is drawn; training is the workers' business)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = {"torch", "torchvision", "matplotlib"}


def loaded_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``code``."""
    done = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport json, sys; print(json.dumps(sorted(sys.modules)))"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY)


def test_importing_the_app_loads_no_torch_or_matplotlib() -> None:
    modules = loaded_after("import api.main")
    assert {"api.main", "api.routes.plots", "fastapi"} <= modules  # the app really was imported
    assert heavy(modules) == []


def test_the_check_sees_a_heavy_import() -> None:
    """The same check on a module that does load torch: there, it fails."""
    assert "torch" in heavy(loaded_after("import schedsearch.engine.schedulers"))
