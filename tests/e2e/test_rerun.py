"""The re-run phase (top-k configs, fresh seeds): real studies on a real SQLite file and
PostgreSQL, real worker processes, a real ``kill -9``."""

from __future__ import annotations

import signal
import statistics

import optuna
import pytest

from schedsearch.core.folklore import recipe_of
from schedsearch.core.formatting import format_best
from schedsearch.core.records import TrialRecord
from schedsearch.core.spec import StudySpec
from schedsearch.reports.results import best_config, study_status
from schedsearch.search.rerun import fresh_seeds
from schedsearch.store import Store
from schedsearch.worker.runner import run_study
from tests.processes import finish, start_worker, wait_for

pytestmark = pytest.mark.slow
States = optuna.trial.TrialState


def test_top_k_are_rerun_with_fresh_seeds_and_the_best_mean_wins(db_url: str) -> None:
    spec = StudySpec(
        name="trust", epochs=2, n_trials=6, pruner="none", rerun_top_k=2, rerun_seeds=3, seed=3
    )
    study = run_study(spec, db_url, progress=False)  # returns once the re-run is over too
    store = Store(db_url)
    assert study.status == "completed"
    search = store.trials.optuna_study(study).trials
    assert len(search) == 6  # the search itself is untouched by its re-runs
    ranked = sorted(search, key=lambda t: t.value, reverse=True)
    top2 = ranked[:2]
    # and one more: the best folklore recipe (a prior draw) when the top 2 hold none, else the
    # next best
    recipe = [recipe_of(TrialRecord.of(t.user_attrs).config()) is not None for t in ranked]
    more = [t for t, r in zip(ranked[2:], recipe[2:], strict=True) if any(recipe[:2]) or r]
    chosen = top2 + more[:1]
    [phase] = store.studies.children(study.id)
    assert phase.status == "completed" and phase.parent_id == study.id
    runs = store.trials.optuna_study(phase).trials
    assert all(t.state == States.COMPLETE for t in runs) and len(runs) == 3 * len(chosen)
    assert [(t.user_attrs["rerun_of"], t.user_attrs["seed"]) for t in runs] == [
        (trial.number, seed) for trial in chosen for seed in fresh_seeds(3, 3)
    ]
    for run in runs:
        original = next(t for t in search if t.number == run.user_attrs["rerun_of"])
        assert run.params == original.params and run.intermediate_values.keys() == {1, 2}
        assert 0.0 <= run.user_attrs["test_accuracy"] <= 1.0
    # seeds change the training, not the split: the same config gives different values
    values = {
        n.number: [t.value for t in runs if t.user_attrs["rerun_of"] == n.number] for n in chosen
    }
    assert all(len(set(v)) > 1 for v in values.values())

    best = best_config(store, study)
    assert best is not None and best["rerun"]["status"] == "completed"
    means = [c["mean"] for c in best["rerun"]["candidates"]]
    assert means == sorted(means, reverse=True) and len(means) == len(chosen)
    winner = best["rerun"]["candidates"][0]
    assert best["value"] == winner["mean"] == statistics.fmean(winner["values"])
    assert best["trial_number"] == winner["trial_number"]
    assert winner["std"] == statistics.stdev(winner["values"])
    assert "fresh seeds" in format_best(best)
    status = study_status(store, study.id)
    runs_n = 3 * len(chosen)
    assert status["rerun"] == {"status": "completed", "finished": runs_n, "n_trials": runs_n}
    assert store.studies.list()[1] == 1  # the re-run phase is shown with its study, not alone


def test_a_rerun_killed_mid_trial_is_retried_with_its_seed(db_url: str) -> None:
    store = Store(db_url)
    spec = StudySpec(
        name="rerun-crash",
        epochs=30,
        n_trials=1,
        pruner="none",
        families=["cosine"],
        rerun_top_k=1,
        rerun_seeds=2,
    )
    store.studies.create(spec)
    finish([start_worker(db_url, "--study", "rerun-crash", "--max-trials", "1")])  # the search
    assert store.studies.get("rerun-crash").status == "running"  # its re-run phase is queued
    victim = start_worker(
        db_url, "--heartbeat-interval", "1", "--grace-period", "3", "--study", "rerun-crash"
    )

    def rerun_reporting() -> bool:
        phases = store.studies.children(store.studies.get("rerun-crash").id)
        return bool(phases) and any(
            t.state == States.RUNNING and t.intermediate_values
            for t in store.trials.optuna_study(phases[0]).trials
        )

    wait_for(rerun_reporting)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    rescuer = start_worker(
        db_url, "--heartbeat-interval", "1", "--grace-period", "3", "--study", "rerun-crash"
    )
    finish([rescuer])
    study = store.studies.get("rerun-crash")
    assert study.status == "completed"
    runs = store.trials.optuna_study(store.studies.children(study.id)[0]).trials
    dead = [t for t in runs if t.state == States.FAIL]
    assert len(dead) == 1
    [retry] = [t for t in runs if t.system_attrs.get("failed_trial") == dead[0].number]
    assert retry.state == States.COMPLETE
    assert retry.user_attrs["seed"] == dead[0].user_attrs["seed"]  # the same fresh seed
    done = [t for t in runs if t.state == States.COMPLETE]
    assert sorted(t.user_attrs["seed"] for t in done) == sorted(fresh_seeds(0, 2))
