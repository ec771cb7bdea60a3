"""The HTTP commands stay light: ``schedsearch status``, ``best`` and ``submit``, run as real
processes against a real service, import no torch, Optuna or SQLAlchemy (``python -X
importtime`` lists every module a process imports)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.processes import finish, serve, start_worker

pytestmark = pytest.mark.slow

HEAVY = {"torch", "optuna", "sqlalchemy"}
# ``import time: self [us] | cumulative | imported package``, then one line per module:
# ``import time:       145 |        145 |   package.module`` (indented by nesting depth).
IMPORT_LINE = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|\s*(\S+)\s*$")
CLI = "from schedsearch.cli import main; main()"


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str  # what the process said on stderr, without the import-time lines
    modules: list[str]  # every module it imported, in order

    def heavy(self) -> list[str]:
        return sorted(m for m in self.modules if m.split(".")[0] in HEAVY)


def with_importtime(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> Run:
    """``python -X importtime`` on ``args``; its import lines parsed off stderr."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    modules, other = [], []
    for line in done.stderr.splitlines():
        if match := IMPORT_LINE.match(line):
            modules.append(match.group(3))
        elif not line.startswith("import time:"):  # the header line
            other.append(line)
    return Run(done.returncode, done.stdout, "\n".join(other), modules)


@dataclass
class Service:
    url: str
    env: dict[str, str]  # what the CLI needs to reach the service
    folder: Path


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """An open service on a SQLite file, holding the study ``light`` with one finished trial."""
    folder = tmp_path_factory.mktemp("light")
    db_url = f"sqlite:///{folder / 'studies.db'}"
    server, url = serve(db_url, None)
    try:
        created = httpx.post(
            f"{url}/studies",
            json={
                "name": "light",
                "epochs": 1,
                "n_trials": 1,
                "pruner": "none",
                "families": ["cosine"],
            },
        )
        assert created.status_code == 201, created.text
        finish([start_worker(db_url, "--study", "light")])  # exits once the study is over
        assert httpx.get(f"{url}/studies/light").json()["status"] == "completed"
        env = {k: v for k, v in os.environ.items() if k != "SCHEDSEARCH_API_TOKEN"}
        yield Service(url, {**env, "SCHEDSEARCH_API_URL": url}, folder)
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_status_imports_no_torch_optuna_or_sqlalchemy(service: Service) -> None:
    run = with_importtime(["-c", CLI, "status", "light"], service.folder, service.env)
    assert run.returncode == 0, run.stderr
    assert "(light): completed, 1/1 finished" in run.stdout
    assert "schedsearch.cli" in run.modules and "httpx" in run.modules  # the lines were read
    assert run.heavy() == []


def test_best_imports_no_torch_optuna_or_sqlalchemy(service: Service) -> None:
    run = with_importtime(["-c", CLI, "best", "light"], service.folder, service.env)
    assert run.returncode == 0, run.stderr
    best = httpx.get(f"{service.url}/studies/light/best").json()
    assert run.stdout.startswith(f"best: trial {best['trial_number']}, val_accuracy")
    assert best["code"].strip() in run.stdout
    assert "schedsearch.cli" in run.modules and "httpx" in run.modules
    assert run.heavy() == []


def test_submit_imports_no_torch_optuna_or_sqlalchemy(service: Service) -> None:
    spec = service.folder / "submitted.json"
    spec.write_text(json.dumps({"name": "submitted", "epochs": 1, "n_trials": 2}))
    run = with_importtime(["-c", CLI, "submit", str(spec)], service.folder, service.env)
    assert run.returncode == 0, run.stderr
    stored = httpx.get(f"{service.url}/studies/submitted")
    assert stored.status_code == 200 and stored.json()["status"] == "queued"
    assert run.stdout.strip() == f"submitted study {stored.json()['id']} (submitted): 2 trials"
    assert "schedsearch.cli" in run.modules and "httpx" in run.modules
    assert run.heavy() == []


def test_the_import_lines_show_a_heavy_import(tmp_path: Path) -> None:
    """The same reading of the same lines, on a process that does import one: it is seen."""
    run = with_importtime(["-c", "import sqlalchemy"], tmp_path)
    assert run.returncode == 0, run.stderr
    assert "sqlalchemy" in run.heavy() and run.stderr == ""
