"""The re-run phase (top-k configs, fresh seeds) and the schema migration that carries it:
real studies on a real SQLite file and PostgreSQL, real worker processes, a real ``kill -9``."""

from __future__ import annotations

import signal
import statistics

import optuna
import sqlalchemy as sa

from schedsearch.rerun import fresh_seeds
from schedsearch.results import best_config, format_best, study_status
from schedsearch.runner import run_study
from schedsearch.spec import StudySpec
from schedsearch.store import SCHEMA_VERSION, Store
from tests.test_workers import finish, start_worker, wait_for

States = optuna.trial.TrialState


def test_fresh_seeds_are_distinct_reproducible_and_new() -> None:
    seeds = fresh_seeds(7, 5)
    assert seeds == fresh_seeds(7, 5) and len(set(seeds)) == 5 and 7 not in seeds
    assert seeds[:3] == fresh_seeds(7, 3) and fresh_seeds(8, 3) != seeds[:3]


def test_top_k_are_rerun_with_fresh_seeds_and_the_best_mean_wins(db_url: str) -> None:
    spec = StudySpec(
        name="trust", epochs=2, n_trials=6, pruner="none", rerun_top_k=2, rerun_seeds=3, seed=3
    )
    study = run_study(spec, db_url, progress=False)  # returns once the re-run is over too
    store = Store(db_url)
    assert study.status == "completed"
    search = store.optuna_study(study).trials
    assert len(search) == 6  # the search itself is untouched by its re-runs
    top2 = sorted(search, key=lambda t: t.value, reverse=True)[:2]
    [phase] = store.children(study.id)
    assert phase.status == "completed" and phase.parent_id == study.id
    runs = store.optuna_study(phase).trials
    assert all(t.state == States.COMPLETE for t in runs) and len(runs) == 6
    assert [(t.user_attrs["rerun_of"], t.user_attrs["seed"]) for t in runs] == [
        (trial.number, seed) for trial in top2 for seed in fresh_seeds(3, 3)
    ]
    for run in runs:
        original = next(t for t in search if t.number == run.user_attrs["rerun_of"])
        assert run.params == original.params and run.intermediate_values.keys() == {1, 2}
        assert 0.0 <= run.user_attrs["test_accuracy"] <= 1.0
    # seeds change the training, not the split: the same config gives different values
    values = {
        n.number: [t.value for t in runs if t.user_attrs["rerun_of"] == n.number] for n in top2
    }
    assert all(len(set(v)) > 1 for v in values.values())

    best = best_config(store, study)
    assert best is not None and best["rerun"]["status"] == "completed"
    means = [c["mean"] for c in best["rerun"]["candidates"]]
    assert means == sorted(means, reverse=True) and len(means) == 2
    winner = best["rerun"]["candidates"][0]
    assert best["value"] == winner["mean"] == statistics.fmean(winner["values"])
    assert best["trial_number"] == winner["trial_number"]
    assert winner["std"] == statistics.stdev(winner["values"])
    assert "fresh seeds" in format_best(best)
    status = study_status(store, study.id)
    assert status["rerun"] == {"status": "completed", "finished": 6, "n_trials": 6}
    assert store.list()[1] == 1  # the re-run phase is listed with its study, not on its own


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
    store.create_study(spec)
    finish([start_worker(db_url, "--study", "rerun-crash", "--max-trials", "1")])  # the search
    assert store.get("rerun-crash").status == "running"  # its re-run phase is queued
    victim = start_worker(
        db_url, "--heartbeat-interval", "1", "--grace-period", "3", "--study", "rerun-crash"
    )

    def rerun_reporting() -> bool:
        phases = store.children(store.get("rerun-crash").id)
        return bool(phases) and any(
            t.state == States.RUNNING and t.intermediate_values
            for t in store.optuna_study(phases[0]).trials
        )

    wait_for(rerun_reporting)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    rescuer = start_worker(
        db_url, "--heartbeat-interval", "1", "--grace-period", "3", "--study", "rerun-crash"
    )
    finish([rescuer])
    study = store.get("rerun-crash")
    assert study.status == "completed"
    runs = store.optuna_study(store.children(study.id)[0]).trials
    dead = [t for t in runs if t.state == States.FAIL]
    assert len(dead) == 1
    [retry] = [t for t in runs if t.system_attrs.get("failed_trial") == dead[0].number]
    assert retry.state == States.COMPLETE
    assert retry.user_attrs["seed"] == dead[0].user_attrs["seed"]  # the same fresh seed
    done = [t for t in runs if t.state == States.COMPLETE]
    assert sorted(t.user_attrs["seed"] for t in done) == sorted(fresh_seeds(0, 2))


def test_a_version_1_database_is_migrated_in_place(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    Store(url).create_study(StudySpec(name="before"))
    engine = sa.create_engine(url)
    with engine.begin() as connection:  # what schedsearch 1 left: no parent_id column
        connection.exec_driver_sql("DROP INDEX ix_schedsearch_studies_parent_id")
        connection.exec_driver_sql("ALTER TABLE schedsearch_studies DROP COLUMN parent_id")
        connection.exec_driver_sql("UPDATE schedsearch_meta SET value = '1'")
    store = Store(url)
    assert store.schema_version() == SCHEMA_VERSION == 2
    old = store.get("before")
    assert old.parent_id is None and old.spec.name == "before"
    columns = {c["name"] for c in sa.inspect(engine).get_columns("schedsearch_studies")}
    assert "parent_id" in columns
