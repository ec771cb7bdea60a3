"""What a study's status and best-config answers say, read from a real store (SQLite, and
PostgreSQL for the counts): trials are added through Optuna's own API, nothing trains."""

from __future__ import annotations

import time

import optuna
import pytest
import torch

from schedsearch.core.formatting import format_best
from schedsearch.core.records import TrialRecord
from schedsearch.core.schedules import (
    Constant,
    Cosine,
    OneCycle,
    ScheduleBase,
    ScheduleFree,
    Step,
)
from schedsearch.core.spec import StudySpec
from schedsearch.core.states import StudyStatus
from schedsearch.reports.results import best_config, study_status
from schedsearch.search import lifecycle
from schedsearch.store import Store, StudyInfo

States = optuna.trial.TrialState


@pytest.fixture
def store(tmp_path) -> Store:
    store = Store(f"sqlite:///{tmp_path / 'studies.db'}")
    yield store
    store.close()


def add(
    store: Store,
    study: StudyInfo,
    schedule: ScheduleBase,
    value: float | None,
    base_lr: float = 0.1,
    state: States = States.COMPLETE,
    seconds: float = 0.0,
) -> optuna.trial.FrozenTrial:
    """One trial as a worker leaves it: its schedule recorded, then its outcome."""
    optuna_study = store.trials.optuna_study(study)
    trial = optuna_study.ask()
    TrialRecord(schedule=schedule.model_dump(mode="json"), base_lr=base_lr).write(trial)
    if value is not None:
        trial.report(value, 1)
    time.sleep(seconds)
    if state == States.COMPLETE:
        optuna_study.tell(trial, value)
    elif state != States.RUNNING:
        optuna_study.tell(trial, state=state)
    return optuna_study.trials[trial.number]


def test_counts_progress_and_best_value(db_url: str) -> None:
    store = Store(db_url)
    study = lifecycle.submit(store, StudySpec(name="counted", n_trials=7))
    status = study_status(store, study.id)
    assert status["trials"] == {"complete": 0, "pruned": 0, "running": 0, "failed": 0, "waiting": 0}
    assert status["progress"] == {"finished": 0, "n_trials": 7, "fraction": 0.0}
    assert status["best_value"] is None and status["status"] == StudyStatus.QUEUED
    add(store, study, Cosine(), 0.9)
    add(store, study, Step(), 0.6)
    add(store, study, Constant(), 0.3, state=States.PRUNED)
    add(store, study, Constant(), None, state=States.FAIL)
    add(store, study, Cosine(), None, state=States.RUNNING)
    store.trials.optuna_study(study).enqueue_trial({})
    store.slots.finished(study.id, 0.0, 0.9)  # what a worker does as a trial completes
    store.slots.finished(study.id, 0.0, 0.6)
    status = study_status(store, "counted")  # by name too
    assert status["trials"] == {"complete": 2, "pruned": 1, "running": 1, "failed": 1, "waiting": 1}
    assert status["progress"] == {"finished": 3, "n_trials": 7, "fraction": round(3 / 7, 4)}
    assert status["progress"]["fraction"] == 0.4286
    assert status["best_value"] == 0.9 and status["rerun"] is None
    assert (status["id"], status["name"], status["n_trials"]) == (study.id, "counted", 7)
    assert status["spec"] == study.spec and status["live_workers"] == 0
    store.close()


def test_eta_is_the_mean_trial_time_times_trials_left_over_live_workers(store: Store) -> None:
    study = lifecycle.submit(store, StudySpec(name="eta", n_trials=10))
    assert study_status(store, study.id)["eta_seconds"] is None  # no finished trial to time
    add(store, study, Constant(), None, state=States.RUNNING)  # running: not timed
    assert study_status(store, study.id)["eta_seconds"] is None
    finished = [
        add(store, study, Cosine(), 0.8, seconds=0.3),
        add(store, study, Step(), 0.5, state=States.PRUNED, seconds=0.2),
    ]
    mean = sum((t.datetime_complete - t.datetime_start).total_seconds() for t in finished) / 2
    assert mean >= 0.25
    status = study_status(store, study.id)
    assert status["eta_seconds"] == round(8 * mean, 1) and status["live_workers"] == 0
    for worker in ("w1", "w2"):  # two live workers on it: half the time
        store.workers.seen(worker, "host", 1, "cpu", study_id=study.id)
    store.workers.seen("w3", "host", 1, "cpu", study_id=None)  # idle: not this study's
    status = study_status(store, study.id)
    assert status["live_workers"] == 2 and status["eta_seconds"] == round(8 * mean / 2, 1)


def test_eta_is_zero_once_completed_and_none_when_stopped(store: Store) -> None:
    done = lifecycle.submit(store, StudySpec(name="done", n_trials=2, rerun_top_k=0))
    add(store, done, Cosine(), 0.8, seconds=0.05)
    stopped = lifecycle.submit(store, StudySpec(name="stopped", n_trials=2))
    add(store, stopped, Cosine(), 0.8, seconds=0.05)
    assert study_status(store, stopped.id)["eta_seconds"] > 0
    lifecycle.cancel(store, stopped)
    status = study_status(store, stopped.id)
    assert status["status"] == StudyStatus.CANCELLED and status["eta_seconds"] is None
    add(store, done, Step(), 0.7)
    status = study_status(store, done.id)  # every trial finished, not yet concluded
    assert status["status"] == StudyStatus.QUEUED and status["eta_seconds"] is None
    lifecycle.conclude(store, store.studies.get(done.id))
    status = study_status(store, done.id)
    assert status["status"] == StudyStatus.COMPLETED and status["eta_seconds"] == 0.0
    assert status["progress"]["fraction"] == 1.0
    # a finished study's clock stopped when it finished
    assert study_status(store, done.id)["elapsed_seconds"] == status["elapsed_seconds"]


def test_best_config_is_none_before_any_complete_trial(store: Store) -> None:
    study = lifecycle.submit(store, StudySpec(name="early"))
    assert best_config(store, study) is None
    add(store, study, Cosine(), 0.99, state=States.PRUNED)
    add(store, study, Cosine(), None, state=States.RUNNING)
    assert best_config(store, study) is None


def test_best_config_is_the_best_complete_trial_with_its_code(store: Store) -> None:
    spec = StudySpec(name="best", optimizer="adamw", epochs=12, batch_size=128)
    study = lifecycle.submit(store, spec)
    add(store, study, Step(gamma=0.5), 0.6, base_lr=0.01)
    winner = Cosine(eta_min=0.02, warmup=0.05)
    add(store, study, winner, 0.9, base_lr=0.003)
    add(store, study, OneCycle(), 0.99, state=States.PRUNED)  # higher, but pruned
    add(store, study, Constant(), 0.8)
    best = best_config(store, study)
    assert best is not None
    assert (best["value"], best["trial_number"], best["base_lr"]) == (0.9, 1, 0.003)
    assert best["schedule"] == {"family": "cosine", "params": winner.params()}
    assert best["optimizer"] == {"name": "adamw", "weight_decay": spec.weight_decay}
    assert (best["epochs"], best["batch_size"], best["rerun"]) == (12, 128, None)
    code = best["code"]
    assert "lr_scheduler.CosineAnnealingLR(" in code and winner.code() in code
    assert "0.003" in code and "adamw" in code
    namespace: dict = {}
    exec(compile(code, "<best>", "exec"), namespace)  # it defines what it says
    assert callable(namespace["make_scheduler"])


def test_best_config_of_sgd_names_its_momentum(store: Store) -> None:
    study = lifecycle.submit(store, StudySpec(name="sgd", families=["step"]))
    add(store, study, Step(), 0.7, base_lr=0.2)
    best = best_config(store, study)
    assert best is not None and best["optimizer"] == {
        "name": "sgd",
        "weight_decay": 5e-4,
        "momentum": 0.9,
        "nesterov": True,
    }
    assert "lr_scheduler.StepLR(" in best["code"] and "CosineAnnealingLR" not in best["code"]


@pytest.mark.parametrize(("optimizer", "cls", "lr"), [("sgd", "SGD", 2.0), ("adamw", "AdamW", 0.2)])
def test_best_config_of_schedule_free_names_the_optimizer_it_trained_with(
    store: Store, optimizer: str, cls: str, lr: float
) -> None:
    """Its own class and LR (SGD's: the base LR / (1 - momentum)), and a snippet that builds
    it with the study's weight decay on weights only."""
    spec = StudySpec(
        name=optimizer, families=["schedule_free"], optimizer=optimizer, weight_decay=1e-3
    )
    study = lifecycle.submit(store, spec)
    add(store, study, ScheduleFree(), 0.9, base_lr=0.2)
    best = best_config(store, study)
    assert best is not None
    momentum = {"momentum": 0.9} if optimizer == "sgd" else {}
    assert best["optimizer"] == {
        "name": optimizer,
        "class": f"schedulefree.{cls}ScheduleFree",
        "lr": pytest.approx(lr),
        "weight_decay": 1e-3,
        **momentum,
        "warmup_steps": 0,
    }
    namespace: dict = {}
    exec(compile(best["code"], "<best>", "exec"), namespace)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    built = namespace["make_optimizer"](model)
    assert type(built).__name__ == f"{cls}ScheduleFree"
    assert [g["weight_decay"] for g in built.param_groups] == [1e-3, 0.0]  # weights, the rest
    assert [len(g["params"]) for g in built.param_groups] == [1, 3]
    assert built.param_groups[0]["lr"] == pytest.approx(lr)


def test_a_minimize_study_reports_its_lowest_value(store: Store) -> None:
    """Status, best config and the words around them follow the spec's metric and direction;
    trials are told as a worker tells them, the best value recorded as it records it."""
    spec = StudySpec(
        name="loss", trainer="external", metric="val_loss", direction="minimize", n_trials=5
    )
    study = lifecycle.submit(store, spec)
    for schedule, value in ((Step(), 0.5), (Cosine(), 0.2), (Constant(), 0.7)):
        add(store, study, schedule, value, base_lr=value)
        store.slots.finished(study.id, 0.0, value)
    add(store, study, OneCycle(), 0.01, state=States.PRUNED)  # lower, but pruned
    status = study_status(store, study.id)
    assert status["best_value"] == 0.2
    assert (status["metric"], status["direction"]) == ("val_loss", "minimize")
    best = best_config(store, study)
    assert best is not None
    assert (best["value"], best["trial_number"], best["base_lr"]) == (0.2, 1, 0.2)
    assert (best["metric"], best["direction"]) == ("val_loss", "minimize")
    assert format_best(best).startswith("best: trial 1, val_loss 0.2000")
