"""A compute budget end to end: ``run_study`` on a real SQLite file, real training on digits,
the range test, the search and its re-run phase, all counted against ``budget_epochs``; and the
best config the re-runs back (``reports.results.best_config``)."""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from dataclasses import dataclass

import optuna
import pytest

from schedsearch.core.folklore import recipe_of
from schedsearch.core.range_test import RangeTest
from schedsearch.core.schedules import parse_schedule
from schedsearch.core.spec import StudySpec
from schedsearch.core.states import StudyStatus
from schedsearch.reports.results import best_config, study_status
from schedsearch.store import Store, StudyInfo
from schedsearch.worker.runner import run_study

optuna.logging.set_verbosity(optuna.logging.WARNING)
States = optuna.trial.TrialState
BUDGET = 40
SEEDS = 2
TOP_K = 2


@dataclass
class Ran:
    store: Store
    study: StudyInfo  # as run_study returned it
    phase: StudyInfo


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ran]:
    """One budgeted study, run to the end (about 7 s on one CPU core)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('budget') / 'studies.db'}"
    spec = StudySpec(
        name="budgeted",
        epochs=2,
        budget_epochs=BUDGET,
        rerun_top_k=TOP_K,
        rerun_seeds=SEEDS,
        seed=0,
    )
    study = run_study(spec, url, progress=False)
    store = Store(url)
    [phase] = store.studies.children(study.id)
    yield Ran(store, study, phase)
    store.close()


def trained(store: Store, study: StudyInfo) -> float:
    """Epochs the study's trials trained: one report per epoch, a pruned trial's included."""
    return float(sum(t.last_step or 0 for t in store.trials.all(study)))


def test_the_study_completes_within_its_budget(ran: Ran) -> None:
    store, study = ran.store, ran.study
    assert study.status == StudyStatus.COMPLETED  # run_study returns once it is over
    assert study.spec.budget_epochs == BUDGET
    # without n_trials, the budget decides the count: what is left after the re-runs' share
    assert study.n_trials == BUDGET - (TOP_K + 1) * SEEDS * 2
    status = study_status(store, study.id)
    assert status["status"] == StudyStatus.COMPLETED and status["eta_seconds"] == 0.0
    compute = status["compute"]
    assert compute["budget_epochs"] == BUDGET
    assert 0.0 < compute["spent_epochs"] <= BUDGET
    assert compute["left_epochs"] == pytest.approx(BUDGET - compute["spent_epochs"], abs=1e-9)
    assert compute["left_epochs"] >= 0.0
    counts = store.trials.counts(study)
    assert counts["running"] == counts["waiting"] == 0
    # the search stopped for lack of budget, not of slots: one more trial would not fit
    fresh = store.studies.get(study.id)
    assert fresh.budget == BUDGET - (TOP_K + 1) * SEEDS * 2
    assert fresh.spent <= fresh.budget + 1e-9 and fresh.spent + 2 > fresh.budget


def test_every_epoch_trained_is_counted_once(ran: Ran) -> None:
    store, study, phase = ran.store, ran.study, ran.phase
    claim = store.range_tests.get(study.id)
    assert claim is not None and claim.result is not None
    test = RangeTest.model_validate(claim.result)
    assert store.range_tests.get(phase.id) is None  # the re-runs reuse the search's test
    search = store.trials.all(study)
    assert all(t.state in (States.COMPLETE, States.PRUNED) for t in search)
    for trial in search:  # a pruned trial is charged what it trained, up to a full run
        assert trial.last_step is not None and 1 <= trial.last_step <= 2
        assert trial.state == States.PRUNED or trial.last_step == 2
    total = test.epochs + trained(store, study) + trained(store, phase)
    fresh, fresh_phase = store.studies.get(study.id), store.studies.get(phase.id)
    assert fresh.spent + fresh_phase.spent == pytest.approx(total, abs=1e-6)
    assert fresh.spent == pytest.approx(test.epochs + trained(store, study), abs=1e-6)
    spent = study_status(store, study.id)["compute"]["spent_epochs"]
    assert spent == round(fresh.spent + fresh_phase.spent, 3)
    assert spent == pytest.approx(total, abs=1e-3)


def test_the_rerun_phase_runs_top_k_and_one_more_on_each_seed(ran: Ran) -> None:
    store, study, phase = ran.store, ran.study, ran.phase
    assert phase.parent_id == study.id
    assert store.studies.get(phase.id).status == StudyStatus.COMPLETED
    assert phase.n_trials == (TOP_K + 1) * SEEDS
    runs = store.trials.all(phase)
    assert len(runs) == (TOP_K + 1) * SEEDS
    assert all(t.state == States.COMPLETE and t.last_step == 2 for t in runs)  # never pruned
    assert len({t.user_attrs["rerun_of"] for t in runs}) == TOP_K + 1
    assert study_status(store, study.id)["rerun"] == {
        "status": StudyStatus.COMPLETED,
        "finished": (TOP_K + 1) * SEEDS,
        "n_trials": (TOP_K + 1) * SEEDS,
    }


def test_the_best_config_stands_on_its_reruns(ran: Ran) -> None:
    best = best_config(ran.store, ran.study)
    assert best is not None
    rerun = best["rerun"]
    assert rerun is not None and rerun["status"] == StudyStatus.COMPLETED
    assert rerun["seeds"] == SEEDS
    candidates = rerun["candidates"]
    assert len(candidates) == TOP_K + 1
    means = [c["mean"] for c in candidates]
    assert means == sorted(means, reverse=True)
    pick = candidates[0]
    assert best["value"] == pick["mean"] and best["trial_number"] == pick["trial_number"]
    assert best["runs"] == {"mean": pick["mean"], "std": pick["std"], "n": SEEDS}
    assert pick["mean"] == statistics.fmean(pick["values"])
    assert pick["std"] == statistics.stdev(pick["values"])
    for candidate in candidates:  # each says which folklore recipe it is, if one
        assert len(candidate["values"]) == SEEDS
        assert candidate["recipe"] == recipe_of(parse_schedule(candidate["schedule"]))
    # the prior's first draws are recipes, so one is among the re-runs: the lift's baseline
    recipes = [c for c in candidates if c["recipe"] is not None]
    assert recipes
    lift = best["lift"]
    assert lift is not None and lift == rerun["lift"]
    baseline = recipes[0]  # the best re-run recipe
    assert lift["recipe"] == baseline["recipe"]
    assert lift["recipe_trial_number"] == baseline["trial_number"]
    assert lift["recipe_mean"] == baseline["mean"]
    assert lift["value"] == pick["mean"] - baseline["mean"]
    assert lift["runs"] == SEEDS
    assert lift["value"] >= 0.0  # the pick has the best mean


def test_a_budget_smaller_than_the_range_test_is_not_overspent(tmp_path) -> None:
    """The range test counts against the budget like the trials do; a budget it does not fit
    in must not be overspent by it (README: budget_epochs "caps the study's compute in epochs
    trained: the range test, the trials ... and the re-runs")."""
    url = f"sqlite:///{tmp_path / 'studies.db'}"
    spec = StudySpec(name="tight", epochs=2, budget_epochs=4, rerun_top_k=0)
    study = run_study(spec, url, progress=False)
    store = Store(url)
    try:
        assert study.status == StudyStatus.COMPLETED
        compute = study_status(store, study.id)["compute"]
        claim = store.range_tests.get(study.id)
        ran = "none" if claim is None or claim.result is None else claim.result["epochs"]
        assert compute["spent_epochs"] <= 4, (compute, f"range test epochs: {ran}")
        assert compute["left_epochs"] >= 0.0, compute
    finally:
        store.close()
