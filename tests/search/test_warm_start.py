"""Warm start: the folklore schedules the space can express, queued as a study's first trials
(a real Store on a SQLite file; nothing trains)."""

from __future__ import annotations

import optuna

from schedsearch.core.spec import StudySpec
from schedsearch.search.lifecycle import submit
from schedsearch.store import Store

States = optuna.trial.TrialState


def test_warm_start_only_queues_what_the_space_can_express(tmp_path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'w.db'}")
    spec = StudySpec(
        name="narrow",
        families=["cosine", "step"],
        space={"cosine": {"warmup": 0.0}},
        warm_start=True,
    )
    study = submit(store, spec)
    waiting = store.trials.optuna_study(study).get_trials(states=(States.WAITING,))
    # cosine and warm-up+cosine are one config once warm-up is fixed at 0; no "step" recipe
    # (the folklore step is x0.1 at 50% and 75%: a multistep)
    assert [t.system_attrs["fixed_params"] for t in waiting] == [
        {"family": "cosine", "base_lr": 0.1, "cosine.eta_min": 0.0}
    ]
    assert submit(store, spec.model_copy(update={"name": "cold", "warm_start": False}))
    assert store.trials.optuna_study(store.studies.get("cold")).trials == []
