"""Leased trials over HTTP (docs/leases.md), through the real app on a real SQLite file: ask,
wait, over; reports that record once and answer the same; finishes that are idempotent;
expired leases retried under another; bad calls answered with a clear 4xx."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from schedsearch.settings import Settings

WRITER, OTHER, READER = "writer-secret-1", "other-secret-2", "reader-secret-3"
SPEC = {
    "name": "ext",
    "trainer": "external",
    "dataset": "my-images",
    "model": "my-resnet",
    "epochs": 3,
    "n_trials": 2,
    "metric": "val_loss",
    "direction": "minimize",
    "pruner": "none",
}


@pytest.fixture
def api(tmp_path: Path) -> TestClient:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'leases.db'}",
        api_token=None,
        api_tokens=f"ci:write:{WRITER},b:write:{OTHER},dash:read:{READER}",
        heartbeat_interval=1,
        grace_period=2,
        # Asks sampled in the request thread: sampling processes are tests/api/test_asks.py's
        # and the real servers' of tests/e2e (one spawn per app here cost ~1.5 s a test).
        ask_processes=0,
    )
    return TestClient(create_app(settings), headers=_as(WRITER))


def _as(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _submit(api: TestClient, **fields: Any) -> None:
    assert api.post("/studies", json={**SPEC, **fields}).status_code == 201


def _ask(api: TestClient, study: str = "ext") -> dict[str, Any]:
    answer = api.post(f"/studies/{study}/leases")
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_study_hands_out_n_trials_then_says_wait_then_over(api: TestClient) -> None:
    _submit(api)
    first, second = _ask(api), _ask(api)
    assert first["outcome"] == second["outcome"] == "trial"
    trial = first["trial"]
    assert trial["metric"] == "val_loss" and trial["direction"] == "minimize"
    assert trial["epochs"] == 3 and "def make_scheduler" in trial["code"]
    assert trial["schedule"]["family"] and trial["base_lr"] > 0
    waiting = api.post("/studies/ext/leases")
    assert waiting.json()["outcome"] == "wait" and int(waiting.headers["Retry-After"]) >= 1
    for answer, value in ((first, 0.3), (second, 0.2)):
        done = api.post(
            f"/leases/{answer['lease']['id']}/finish", json={"state": "complete", "value": value}
        )
        assert done.json()["state"] == "complete"
    over = _ask(api)
    assert over["outcome"] == "over" and over["status"] == "completed"
    status = api.get("/studies/ext").json()
    assert status["trials"]["complete"] == 2 and status["best_value"] == 0.2  # minimised


def test_reports_record_once_and_finishes_are_idempotent(api: TestClient) -> None:
    _submit(api, n_trials=1)
    lease = _ask(api)["lease"]["id"]
    for _ in range(2):
        answer = api.post(f"/leases/{lease}/report", json={"epoch": 1, "value": 0.9})
        assert answer.json() == {"prune": False, "state": "running"}
    past = api.post(f"/leases/{lease}/report", json={"epoch": 4, "value": 0.9})
    assert past.status_code == 422 and "epoch" in past.json()["detail"]
    finish = {"state": "complete", "value": 0.5}
    first = api.post(f"/leases/{lease}/finish", json=finish).json()
    assert api.post(f"/leases/{lease}/finish", json=finish).json() == first
    other = api.post(f"/leases/{lease}/finish", json={"state": "complete", "value": 0.4})
    assert other.status_code == 409 and "0.5" in other.json()["detail"]
    late = api.post(f"/leases/{lease}/report", json={"epoch": 2, "value": 0.8})
    assert late.status_code == 409
    trials = api.get("/studies/ext/trials").json()["items"]
    assert len(trials) == 1 and trials[0]["intermediate_values"] == {"1": 0.9}
    assert trials[0]["value"] == 0.5


def test_a_report_on_a_trial_ended_behind_its_lease_is_409(api: TestClient, tmp_path: Path) -> None:
    """A reaper (or anyone) ended the trial while the lease still looked live: the report is
    refused and records nothing (it used to reach Optuna's "cannot update" error)."""
    from optuna.trial import TrialState

    from schedsearch.store import Store

    _submit(api, n_trials=1)
    lease = _ask(api)["lease"]["id"]
    assert api.post(f"/leases/{lease}/report", json={"epoch": 1, "value": 0.9}).status_code == 200
    store = Store(f"sqlite:///{tmp_path / 'leases.db'}")
    (trial,) = store.trials.all(store.studies.get("ext"))
    store.optuna.set_trial_state_values(trial._trial_id, TrialState.FAIL)
    late = api.post(f"/leases/{lease}/report", json={"epoch": 2, "value": 0.8})
    assert late.status_code == 409 and "ended" in late.json()["detail"]
    assert store.optuna.get_trial(trial._trial_id).intermediate_values == {1: 0.9}
    store.close()


def test_a_non_finite_value_fails_the_trial_and_its_slot_is_run_again(api: TestClient) -> None:
    _submit(api, n_trials=1)
    lease = _ask(api)["lease"]["id"]
    diverged = api.post(
        f"/leases/{lease}/report",
        content=b'{"epoch": 1, "value": NaN}',
        headers={"Content-Type": "application/json"},
    )
    assert diverged.json() == {"prune": True, "state": "failed"}
    ended = api.get(f"/leases/{lease}").json()
    assert ended["state"] == "failed" and ended["reason"].startswith("diverged")
    again = _ask(api)  # a diverged trial does not count: its slot is handed out again
    assert again["outcome"] == "trial"
    final = api.post(
        f"/leases/{again['lease']['id']}/finish",
        content=b'{"state": "complete", "value": Infinity}',
        headers={"Content-Type": "application/json"},
    )
    assert final.json()["state"] == "failed"
    assert api.get("/studies/ext").json()["status"] == "running"  # diverging is no failure


def test_a_released_trial_is_run_again_with_its_parameters(api: TestClient) -> None:
    _submit(api, n_trials=1)
    first = _ask(api)
    api.post(f"/leases/{first['lease']['id']}/finish", json={"state": "released"})
    retry = _ask(api)
    assert retry["outcome"] == "trial"
    assert retry["trial"]["schedule"] == first["trial"]["schedule"]
    assert retry["trial"]["base_lr"] == first["trial"]["base_lr"]


def test_an_expired_lease_is_dead_and_its_trial_goes_to_another(api: TestClient) -> None:
    _submit(api, n_trials=1)
    dead = _ask(api)
    api.post(f"/leases/{dead['lease']['id']}/report", json={"epoch": 1, "value": 0.7})
    assert _ask(api)["outcome"] == "wait"
    time.sleep(2.3)  # the lease (2 s) runs out
    heir = _ask(api)
    assert heir["outcome"] == "trial" and heir["trial"]["number"] != dead["trial"]["number"]
    assert heir["trial"]["schedule"] == dead["trial"]["schedule"]  # retried, same config
    for call, body in (("report", {"epoch": 2, "value": 0.6}), ("heartbeat", None)):
        late = api.post(f"/leases/{dead['lease']['id']}/{call}", json=body)
        assert late.status_code == 409 and "expired" in late.json()["detail"]
    late = api.post(f"/leases/{dead['lease']['id']}/finish", json={"state": "complete", "value": 1})
    assert late.status_code == 409
    api.post(f"/leases/{heir['lease']['id']}/finish", json={"state": "complete", "value": 0.1})
    status = api.get("/studies/ext").json()
    assert status["trials"]["complete"] == 1 and status["status"] == "completed"


def test_a_heartbeat_keeps_a_lease_past_its_length(api: TestClient) -> None:
    _submit(api, n_trials=1)
    lease = _ask(api)["lease"]["id"]
    for _ in range(4):
        time.sleep(0.8)
        assert api.post(f"/leases/{lease}/heartbeat").status_code == 200
    ok = api.post(f"/leases/{lease}/finish", json={"state": "complete", "value": 0.3})
    assert ok.status_code == 200


def test_bad_lease_calls_get_a_clear_4xx(api: TestClient) -> None:
    _submit(api, n_trials=1)
    lease = _ask(api)["lease"]["id"]
    assert api.post("/leases/nope/report", json={"epoch": 1, "value": 1}).status_code == 404
    theirs = api.post(f"/leases/{lease}/report", json={"epoch": 1, "value": 1}, headers=_as(OTHER))
    assert theirs.status_code == 403 and "another token" in theirs.json()["detail"]
    read_only = api.post("/studies/ext/leases", headers=_as(READER))
    assert read_only.status_code == 403
    incomplete = api.post(f"/leases/{lease}/finish", json={"state": "complete"})
    assert incomplete.status_code == 422 and "value" in incomplete.json()["detail"]
    assert api.post(f"/leases/{lease}/report", json={"epoch": 0, "value": 1}).status_code == 422
    builtin = api.post("/studies", json={"name": "ours", "epochs": 1, "n_trials": 1})
    assert builtin.status_code == 201
    refused = api.post("/studies/ours/leases")
    assert refused.status_code == 409 and "built-in" in refused.json()["detail"]
    assert api.post("/studies/nope/leases").status_code == 404
    trials = api.get("/studies/ext/trials").json()["items"]
    assert trials[0]["intermediate_values"] == {}  # nothing a refused call sent was recorded
