"""A study that minimises its metric, through the real app (TestClient, with a token) on a real
SQLite file: its status, best config and pages pick the lowest value and name the metric.
Trials are told through Optuna's own API and the best value recorded as a trial's holder does;
nothing trains."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from schedsearch.core.records import TrialRecord
from schedsearch.core.schedules import Constant, Cosine, Step
from schedsearch.settings import Settings
from schedsearch.store import Store
from tests.processes import TOKEN

SPEC = {
    "name": "loss",
    "trainer": "external",
    "dataset": "my-data",
    "model": "my-net",
    "metric": "val_loss",
    "direction": "minimize",
    "n_trials": 5,
    "epochs": 2,
}


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[TestClient, str]]:
    url = f"sqlite:///{tmp_path / 'studies.db'}"
    app = create_app(Settings(database_url=url, api_token=TOKEN, status_ttl=0))
    with TestClient(app, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        yield client, url


def test_a_minimize_study_shows_its_lowest_loss(api: tuple[TestClient, str]) -> None:
    client, url = api
    created = client.post("/studies", json=SPEC)
    assert created.status_code == 201, created.text
    study = created.json()
    assert (study["metric"], study["direction"], study["best_value"]) == (
        "val_loss",
        "minimize",
        None,
    )
    store = Store(url)
    try:
        info = store.studies.get(study["id"])
        handle = store.trials.optuna_study(info)
        for schedule, value in ((Step(), 0.5), (Cosine(), 0.2), (Constant(), 0.7)):
            trial = handle.ask()
            TrialRecord(schedule=schedule.model_dump(mode="json"), base_lr=0.1).write(trial)
            trial.report(value, 1)
            handle.tell(trial, value)
            store.slots.finished(info.id, 0.0, value)
    finally:
        store.close()
    status = client.get(f"/studies/{study['id']}").json()
    assert status["best_value"] == 0.2
    best = client.get("/studies/loss/best").json()
    assert (best["value"], best["trial_number"], best["schedule"]["family"]) == (
        0.2,
        1,
        "cosine",
    )
    assert (best["metric"], best["direction"]) == ("val_loss", "minimize")
    page = client.get(f"/ui/studies/{study['id']}")
    assert page.status_code == 200
    assert "val_loss <b>0.2000</b> (trial 1" in page.text and "val_loss (minimize)" in page.text
    listing = client.get("/ui")
    assert "0.2000 <span class='muted'>val_loss</span>" in listing.text
