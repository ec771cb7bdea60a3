"""An external study looks like a built-in one everywhere a user reads a study: status,
/best, /trials, plots, /metrics and optuna-dashboard show the same fields (issue 15). The
built-in study is trained by a real worker; the external one through the leased-trial API."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from schedsearch.settings import Settings
from schedsearch.store import Store
from schedsearch.worker.loop import Worker, WorkerOptions
from tests.processes import free_port, wait_for

pytestmark = pytest.mark.slow
DASHBOARD = str(Path(sys.executable).parent / "optuna-dashboard")
COMMON = {"epochs": 2, "n_trials": 3, "families": ["cosine", "step"], "pruner": "none"}


def _external_trials(api: TestClient) -> None:
    """Three trials as a training loop would run them: a report per epoch, then a finish."""
    for number in range(3):
        lease = api.post("/studies/theirs/leases").json()["lease"]["id"]
        for epoch in (1, 2):
            api.post(f"/leases/{lease}/report", json={"epoch": epoch, "value": 0.3 * epoch})
        api.post(f"/leases/{lease}/finish", json={"state": "complete", "value": 0.5 + number})


def _keys(value: Any) -> Any:
    """The shape of a JSON answer: its keys, recursively (lists by their first item)."""
    if isinstance(value, dict):
        return {k: _keys(v) for k, v in value.items() if k != "spec"}
    if isinstance(value, list) and value:
        return [_keys(value[0])]
    return type(value).__name__ if value is not None else "null"


def test_status_best_trials_plots_metrics_and_dashboard_match(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'parity.db'}"
    api = TestClient(create_app(Settings(database_url=url, api_token=None)))
    ours = {"name": "ours", "lr_range_test": False, "rerun_top_k": 0, **COMMON}
    theirs = {"name": "theirs", "trainer": "external", "dataset": "x", "model": "y", **COMMON}
    for spec in (ours, theirs):
        assert api.post("/studies", json=spec).status_code == 201
    Worker(Store(url), WorkerOptions(study="ours", idle_exit=5, poll=0.1)).run()
    _external_trials(api)

    status = {name: api.get(f"/studies/{name}").json() for name in ("ours", "theirs")}
    assert status["ours"]["status"] == status["theirs"]["status"] == "completed"
    assert _keys(status["ours"]) == _keys(status["theirs"])
    assert status["theirs"]["best_value"] == 2.5 and status["theirs"]["trials"]["complete"] == 3
    best = {name: api.get(f"/studies/{name}/best").json() for name in ("ours", "theirs")}
    assert _keys(best["ours"]) == _keys(best["theirs"])
    assert "make_scheduler" in best["theirs"]["code"] and best["theirs"]["value"] == 2.5
    trials = {name: api.get(f"/studies/{name}/trials").json() for name in ("ours", "theirs")}
    assert _keys(trials["ours"]["items"][0]) == _keys(trials["theirs"]["items"][0])
    for item in trials["theirs"]["items"]:
        assert item["intermediate_values"] == {"1": 0.3, "2": 0.6} and item["schedule"]
    for kind in ("history", "lr", "curves", "importance"):
        for name in ("ours", "theirs"):
            plot = api.get(f"/studies/{name}/plots/{kind}")
            assert plot.status_code == 200 and plot.content.startswith(b"\x89PNG"), (name, kind)
    metrics = api.get("/metrics").text
    assert 'schedsearch_trials{state="complete"} 6.0' in metrics  # both studies' trials
    assert "schedsearch_trial_duration_seconds_count 6.0" in metrics  # both have durations
    _dashboard_shows_both(url)


def _dashboard_shows_both(url: str) -> None:
    """optuna-dashboard, as compose runs it, on the same database: both studies, with params,
    learning curves and user attributes of the same names."""
    port = free_port()
    server = subprocess.Popen(
        [DASHBOARD, url, "--port", str(port), "--host", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(f"{base}/api/studies"), timeout=60)
        studies = {
            s["study_name"]: s for s in httpx.get(f"{base}/api/studies").json()["study_summaries"]
        }
        shown = {}
        for name in ("ours", "theirs"):
            detail = httpx.get(f"{base}/api/studies/{studies[name]['study_id']}?after=0").json()
            trial = detail["trials"][0]
            shown[name] = (
                sorted(p["name"] for p in trial["params"]),
                len(trial["intermediate_values"]),
                {a["key"] for a in trial["user_attrs"]} >= {"base_lr", "schedule"},
                detail["directions"],
            )
        assert shown["ours"][1:] == shown["theirs"][1:] == (2, True, ["maximize"])
        assert shown["ours"][0] and shown["theirs"][0]
    finally:
        server.kill()
        server.wait()


def _answers(address: str) -> bool:
    try:
        return httpx.get(address, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
