"""The HTTP service over real HTTP: uvicorn in a subprocess, a real worker process, the client."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator

import httpx
import pytest
import torch

from schedsearch.client import Client, ClientError
from schedsearch.engine.schedulers import build_scheduler
from tests.processes import EXE, TOKEN, serve

pytestmark = pytest.mark.slow


@pytest.fixture
def live(db_url: str) -> Iterator[tuple[str, str]]:
    """A running service (with a token) on each backend: (base URL, database URL)."""
    server, url = serve(db_url, TOKEN)
    yield url, db_url
    server.terminate()
    server.wait(timeout=30)


def test_submit_run_watch_and_fetch_the_best(live: tuple[str, str]) -> None:
    url, db_url = live
    client = Client(url, TOKEN)
    study = client.submit(
        {
            "name": "e2e",
            "epochs": 12,  # long enough (about 4 s in all) for progress to show between polls
            "n_trials": 6,
            "pruner": "none",
            "families": ["cosine", "one_cycle", "step"],
            "rerun_top_k": 0,  # the search's own best (re-runs: the next test)
        }
    )
    assert study["status"] == "queued" and study["progress"]["finished"] == 0
    with pytest.raises(ClientError) as early:
        client.best("e2e")
    assert early.value.status == 404 and "no completed trial yet" in str(early.value)
    worker = subprocess.Popen(
        [EXE, "worker", "--database-url", db_url, "--poll", "0.2", "--idle-exit", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen_progress = set()
    deadline = time.monotonic() + 180
    while (info := client.status(study["id"]))["status"] != "completed":
        seen_progress.add(info["progress"]["finished"])
        assert time.monotonic() < deadline, info
        time.sleep(0.3)
    out, _ = worker.communicate(timeout=60)
    assert worker.returncode == 0, out
    assert info["progress"] == {"finished": 6, "n_trials": 6, "fraction": 1.0}
    assert info["trials"]["complete"] + info["trials"]["pruned"] == 6
    assert info["best_value"] is not None and info["eta_seconds"] == 0.0
    assert len(seen_progress) >= 2  # progress was visible while it ran
    best = client.best("e2e")
    assert best["value"] == info["best_value"] and best["epochs"] == 12
    optimizer = torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=best["base_lr"])
    config = {"family": best["schedule"]["family"], **best["schedule"]["params"]}
    build_scheduler(optimizer, config, 100, 10)  # the config rebuilds
    namespace: dict = {}
    exec(best["code"], namespace)  # and the snippet runs
    namespace["make_scheduler"](torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=0.1), 50)
    trials = client.trials("e2e", limit=4)
    assert trials["total"] == 6 and [t["number"] for t in trials["items"]] == [0, 1, 2, 3]
    assert all(t["intermediate_values"] for t in trials["items"])
    # The CLI over the same service.
    env = {**os.environ, "SCHEDSEARCH_API_URL": url, "SCHEDSEARCH_API_TOKEN": TOKEN}
    shown = subprocess.run([EXE, "status", "e2e"], capture_output=True, text=True, env=env)
    assert shown.returncode == 0 and "completed, 6/6 finished" in shown.stdout
    code = subprocess.run([EXE, "best", "e2e", "--code"], capture_output=True, text=True, env=env)
    assert code.returncode == 0 and code.stdout.strip() == best["code"].strip()


def test_a_rerun_study_reports_its_phase_and_its_trusted_best(live: tuple[str, str]) -> None:
    url, db_url = live
    client = Client(url, TOKEN)
    spec = {"name": "trust", "epochs": 1, "n_trials": 3, "pruner": "none", "families": ["cosine"]}
    study = client.submit({**spec, "rerun_top_k": 2, "rerun_seeds": 2, "warm_start": True})
    assert study["rerun"] is None and study["spec"]["rerun_top_k"] == 2
    worker = subprocess.Popen(
        [EXE, "worker", "--database-url", db_url, "--poll", "0.2", "--study", "trust"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    out, _ = worker.communicate(timeout=180)  # exits once the study, re-runs included, is over
    assert worker.returncode == 0, out
    info = client.status("trust")
    assert info["status"] == "completed"
    # the top 2 and one more (the best folklore recipe, or the next best): 3 x 2 seeds
    assert info["rerun"] == {"status": "completed", "finished": 6, "n_trials": 6}
    assert [s["name"] for s in client.studies()["items"]] == ["trust"]  # the phase: not listed
    best = client.best("trust")
    candidates = best["rerun"]["candidates"]
    assert len(candidates) == 3 and all(len(c["values"]) == 2 for c in candidates)
    assert best["value"] == candidates[0]["mean"] >= candidates[1]["mean"]
    assert best["trial_number"] == candidates[0]["trial_number"]
    assert best["schedule"]["family"] == "cosine"
    assert 0.0 <= candidates[0]["test_mean"] <= 1.0


def test_auth(live: tuple[str, str]) -> None:
    url, _ = live
    assert httpx.get(f"{url}/healthz").status_code == 200  # open
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": TOKEN}):
        answer = httpx.get(f"{url}/studies", headers=headers)
        assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer"
        assert "token" in answer.json()["detail"]
    assert httpx.post(f"{url}/studies", json={}).status_code == 401  # nothing created
    good = {"Authorization": f"Bearer {TOKEN}"}
    assert httpx.get(f"{url}/studies", headers=good).json()["total"] == 0
    assert httpx.get(f"{url}/schedules", headers=good).status_code == 200


def test_errors_say_what_is_wrong(live: tuple[str, str]) -> None:
    url, _ = live
    api = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"})
    bad = api.post("/studies", json={"epochs": 0, "pruner": "always"})
    assert bad.status_code == 422
    fields = {tuple(e["loc"]) for e in bad.json()["detail"]}
    assert {("body", "epochs"), ("body", "pruner")} <= fields
    rerun = api.post("/studies", json={"n_trials": 2, "rerun_top_k": 3})
    assert rerun.status_code == 422 and "rerun_top_k (3) is more than n_trials (2)" in rerun.text
    space = api.post("/studies", json={"space": {"cosine": {"eta_min": {"low": 1, "high": 0}}}})
    assert space.status_code == 422 and "space.cosine.eta_min" in space.text
    assert api.post("/studies", json={"name": "one", "n_trials": 2}).status_code == 201
    taken = api.post("/studies", json={"name": "one"})
    assert taken.status_code == 409 and "exists already" in taken.json()["detail"]
    assert api.get("/studies/nope").status_code == 404
    assert api.get("/studies/99999999999999999999").status_code == 404
    assert api.post("/studies/one/cancel").json()["status"] == "cancelled"
    assert api.post("/studies/one/cancel").status_code == 409
    assert api.delete("/studies/one").status_code == 204
    assert api.get("/studies/one").status_code == 404
    preview = api.post(
        "/schedules/preview", json={"schedule": {"family": "plateau"}, "metrics": [0.5, 0.6]}
    )
    assert preview.status_code == 422 and "steps_per_epoch" in preview.text
    curve = api.post(
        "/schedules/preview",
        json={"schedule": {"family": "one_cycle"}, "total_steps": 100, "base_lr": 0.5},
    ).json()
    assert len(curve["lr"]) == 100 and max(curve["lr"]) == pytest.approx(0.5, rel=1e-3)
    # The CLI says the same in one line, exit 2.
    env = {**os.environ, "SCHEDSEARCH_API_URL": url, "SCHEDSEARCH_API_TOKEN": "wrong"}
    denied = subprocess.run([EXE, "status", "1"], capture_output=True, text=True, env=env)
    assert denied.returncode == 2 and denied.stderr.count("\n") == 1
    assert "HTTP 401" in denied.stderr
