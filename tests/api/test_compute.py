"""What the API says of a study's compute and its LR range test: the real app (TestClient,
with a token) on a real SQLite file, served by a real Worker training on digits."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import optuna
import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.schemas import BestOut, StudyOut
from schedsearch.core.range_test import RangeTest
from schedsearch.search.plan import centred_range
from schedsearch.settings import Settings
from schedsearch.store import Store
from schedsearch.worker.loop import Worker, WorkerOptions
from tests.processes import TOKEN

optuna.logging.set_verbosity(optuna.logging.WARNING)
SPEC = {
    "name": "computed",
    "epochs": 1,
    "n_trials": 4,
    "budget_epochs": 30,
    "rerun_top_k": 2,
    "rerun_seeds": 2,
}


@dataclass
class Service:
    api: TestClient  # with the bearer token
    url: str  # the database


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    url = f"sqlite:///{tmp_path / 'studies.db'}"
    # status_ttl=0: each GET reads the database, as a worker changes it between requests
    app = create_app(Settings(database_url=url, api_token=TOKEN, status_ttl=0))
    with TestClient(app, headers={"Authorization": f"Bearer {TOKEN}"}) as api:
        yield Service(api, url)


def serve_study(url: str, name: str) -> Worker:
    """One worker, in this process, until the study (and its re-runs) is over."""
    store = Store(url)
    try:
        worker = Worker(store, WorkerOptions(study=name, device="cpu", poll=0.05, seed_index=0))
        worker.run()
    finally:
        store.close()
    return worker


def test_before_any_range_test(service: Service) -> None:
    api = service.api
    created = api.post("/studies", json=SPEC)
    assert created.status_code == 201, created.text
    study = created.json()
    assert study["range_test"] is None
    assert study["compute"] == {"budget_epochs": 30, "spent_epochs": 0.0, "left_epochs": 30.0}
    for key in (study["id"], "computed"):
        png = api.get(f"/studies/{key}/range-test.png")
        assert png.status_code == 404
        assert png.headers["content-type"] == "application/json"
        assert f"study '{key}'" in png.json()["detail"]
        assert "range test" in png.json()["detail"]
    page = api.get(f"/ui/studies/{study['id']}")
    assert page.status_code == 200
    assert "0.0 epochs spent of 30 (30.0 left)" in page.text
    assert "LR range test" not in page.text
    # a study nobody knows, and the token
    assert api.get("/studies/nope/range-test.png").status_code == 404
    bare = TestClient(api.app)
    assert bare.get(f"/studies/{study['id']}/range-test.png").status_code == 401
    assert bare.get(f"/studies/{study['id']}").status_code == 401


def test_a_range_test_under_way(service: Service) -> None:
    api = service.api
    study = api.post("/studies", json=SPEC).json()
    store = Store(service.url)
    try:
        assert store.range_tests.claim(study["id"], "other")
    finally:
        store.close()
    shown = api.get(f"/studies/{study['id']}").json()
    assert shown["range_test"] == {
        "status": "running",
        "suggestion": None,
        "base_lr_range": None,
        "steps": None,
        "epochs": None,
        "stopped": None,
    }
    assert api.get(f"/studies/{study['id']}/range-test.png").status_code == 404
    page = api.get(f"/ui/studies/{study['id']}")
    assert page.status_code == 200 and "LR range test running" in page.text


def test_a_finished_study_shows_its_compute_range_test_and_trusted_best(
    service: Service,
) -> None:
    api = service.api
    study = api.post("/studies", json=SPEC).json()
    worker = serve_study(service.url, "computed")

    store = Store(service.url)
    try:
        claim = store.range_tests.get(study["id"])
        [phase] = store.studies.children(study["id"])
        search, rerun = store.studies.get(study["id"]), store.studies.get(phase.id)
    finally:
        store.close()
    assert claim is not None and claim.worker == worker.id and claim.result is not None
    test = RangeTest.model_validate(claim.result)

    answer = api.get(f"/studies/{study['id']}")
    assert answer.status_code == 200
    shown = answer.json()
    StudyOut.model_validate(shown)
    assert shown["status"] == "completed"
    compute = shown["compute"]
    assert compute["budget_epochs"] == 30
    assert compute["spent_epochs"] == round(search.spent + rerun.spent, 3)
    assert test.epochs < compute["spent_epochs"] <= 30
    assert compute["left_epochs"] == pytest.approx(30 - compute["spent_epochs"], abs=1e-9)
    assert shown["range_test"] == {
        "status": "done",
        "suggestion": test.suggestion,
        "base_lr_range": centred_range(test.suggestion),
        "steps": test.steps,
        "epochs": test.epochs,
        "stopped": test.stopped,
    }
    low, high = (
        shown["range_test"]["base_lr_range"]["low"],
        shown["range_test"]["base_lr_range"]["high"],
    )
    assert low < test.suggestion < high

    best = api.get(f"/studies/{study['id']}/best")
    assert best.status_code == 200
    out = BestOut.model_validate(best.json())
    assert out.rerun is not None and out.rerun.status == "completed"
    pick = out.rerun.candidates[0]
    assert out.value == pick.mean and out.trial_number == pick.trial_number
    assert out.runs.n == SPEC["rerun_seeds"] and out.runs.mean == pick.mean
    assert out.runs.std == pick.std
    assert low <= out.base_lr <= high  # found in the centred range
    recipes = [c for c in out.rerun.candidates if c.recipe is not None]
    assert recipes and out.lift is not None
    assert out.lift.recipe == recipes[0].recipe
    assert out.lift.value == pick.mean - recipes[0].mean

    png = api.get(f"/studies/{study['id']}/range-test.png")
    assert png.status_code == 200
    assert png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert api.get("/studies/computed/range-test.png").content == png.content  # by name too

    page = api.get(f"/ui/studies/{study['id']}")  # the bearer header works for pages too
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "LR range test" in page.text and "epochs spent" in page.text
    assert f"{compute['spent_epochs']:.1f} epochs spent of 30" in page.text
    assert f"steepest descent at {test.suggestion:.3g}" in page.text
    assert 'alt="range test"' in page.text  # the curve, inline
    assert "over the best folklore recipe seen" in page.text  # the lift
