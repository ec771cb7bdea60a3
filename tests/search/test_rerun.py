"""The re-run phase: its salted seeds, which configs it queues (the top k and one more), the
phase's own spec, and the lift over the best folklore recipe. On a real Store (a SQLite file);
search trials are added through Optuna's own API as a worker would, nothing trains (the phase
itself runs in ``tests/e2e/test_rerun.py``)."""

from __future__ import annotations

import hashlib
import statistics

import optuna
import pytest

from schedsearch.core.folklore import RECIPES, recipe_of
from schedsearch.core.records import TrialRecord
from schedsearch.core.schedules import Cosine, Exponential, ScheduleBase
from schedsearch.core.space import SampledSchedule, as_params, suggest
from schedsearch.core.spec import StudySpec
from schedsearch.search import lifecycle, rerun
from schedsearch.search.plan import centred_range
from schedsearch.search.rerun import SALT, fresh_seeds, lift, rank
from schedsearch.store import Store, StudyInfo

States = optuna.trial.TrialState


def test_fresh_seeds_are_distinct_reproducible_and_new() -> None:
    seeds = fresh_seeds(7, 5)
    assert seeds == fresh_seeds(7, 5) and len(set(seeds)) == 5 and 7 not in seeds
    assert seeds[:3] == fresh_seeds(7, 3) and fresh_seeds(8, 3) != seeds[:3]


def _sha_seeds(form: str, seed: int, count: int) -> list[int]:
    return [
        int.from_bytes(hashlib.sha256(form.format(seed=seed, i=i).encode()).digest()[:4], "little")
        % (2**31 - 1)
        for i in range(count)
    ]


@pytest.mark.parametrize("seed", [0, 1, 7, 12345])
def test_fresh_seeds_are_salted_apart_from_old_reruns_and_benchmarks(seed: int) -> None:
    seeds = fresh_seeds(seed, 10)
    assert seeds == _sha_seeds(SALT + "/{seed}/{i}", seed, 10)  # sha256 of SALT/seed/i
    assert SALT not in ("", "rerun", "bench-retrain")
    old = set(_sha_seeds("rerun/{seed}/{i}", seed, 20))  # what re-runs drew before the salt
    bench = set(_sha_seeds("bench-retrain/{seed}/{i}", seed, 20))  # bench/search_quality.py
    assert not set(seeds) & old and not set(seeds) & bench
    assert all(0 <= s < 2**31 - 1 for s in seeds)


@pytest.fixture
def store(tmp_path) -> Store:
    store = Store(f"sqlite:///{tmp_path / 'studies.db'}")
    yield store
    store.close()


NOT_A_RECIPE = Cosine(eta_min=0.05)


def _ran(
    store: Store, study: StudyInfo, schedule: ScheduleBase, base_lr: float, value: float | None
) -> int:
    """One search trial of ``schedule`` at ``base_lr``, sampled as a worker samples (the
    parameters queued first, as warm starts and prior draws are): a float completes it,
    None prunes it. Returns its number."""
    optuna_study = store.trials.optuna_study(study)
    space = study.spec.search_space()
    optuna_study.enqueue_trial(as_params(space, SampledSchedule(schedule, base_lr)))
    trial = optuna_study.ask()
    sampled = suggest(trial, space)
    assert recipe_of(sampled.schedule) == recipe_of(schedule)  # what the test means it to be
    TrialRecord(schedule=sampled.schedule.model_dump(mode="json"), base_lr=sampled.base_lr).write(
        trial
    )
    if value is None:
        optuna_study.tell(trial, state=States.PRUNED)
    else:
        optuna_study.tell(trial, value)
    return trial.number


def _submit(store: Store, name: str, **fields: object) -> StudyInfo:
    base = {"epochs": 3, "n_trials": 8, "rerun_top_k": 2, "rerun_seeds": 2, "seed": 4}
    return lifecycle.submit(store, StudySpec(name=name, **(base | fields)))


def _queued(store: Store, phase: StudyInfo) -> list[TrialRecord]:
    waiting = store.trials.optuna_study(phase).get_trials(states=(States.WAITING,))
    return [TrialRecord.of(t.user_attrs) for t in waiting]


def _started(store: Store, study: StudyInfo) -> StudyInfo:
    assert rerun.start(store, store.studies.get(study.id))
    [phase] = store.studies.children(study.id)
    return phase


def test_start_queues_the_top_k_and_the_best_recipe_once_per_fresh_seed(store: Store) -> None:
    study = _submit(store, "lift")
    first = _ran(store, study, NOT_A_RECIPE, 0.05, 0.90)
    second = _ran(store, study, NOT_A_RECIPE, 0.2, 0.85)
    _ran(store, study, Exponential(), 0.1, 0.80)  # better than any recipe, but not one
    step = _ran(store, study, RECIPES["step"], 0.1, 0.70)  # the best recipe
    _ran(store, study, RECIPES["constant"], 0.1, 0.60)
    _ran(store, study, RECIPES["cosine"], 0.1, None)  # pruned: never re-run
    phase = _started(store, study)
    seeds = fresh_seeds(4, 2)
    assert phase.n_trials == 3 * 2 and phase.parent_id == study.id
    queued = _queued(store, phase)
    assert [(r.rerun_of, r.seed) for r in queued] == [
        (number, seed) for number in (first, second, step) for seed in seeds
    ]
    assert [r.search_value for r in queued] == [0.90] * 2 + [0.85] * 2 + [0.70] * 2
    search = {t.number: t for t in store.trials.optuna_study(study).trials}
    for trial in store.trials.optuna_study(phase).get_trials(states=(States.WAITING,)):
        origin = search[TrialRecord.of(trial.user_attrs).rerun_of]
        assert trial.system_attrs["fixed_params"] == origin.params  # the config exactly


def test_with_a_recipe_in_the_top_k_the_one_more_is_the_next_best(store: Store) -> None:
    study = _submit(store, "recipe-on-top")
    best = _ran(store, study, RECIPES["one_cycle"], 0.1, 0.95)  # a recipe won the search
    second = _ran(store, study, NOT_A_RECIPE, 0.05, 0.90)
    third = _ran(store, study, Exponential(), 0.1, 0.85)  # the next best, not a recipe
    _ran(store, study, RECIPES["step"], 0.1, 0.70)
    phase = _started(store, study)
    assert phase.n_trials == 6
    assert [r.rerun_of for r in _queued(store, phase)][::2] == [best, second, third]


def test_without_any_recipe_only_the_top_k_are_queued(store: Store) -> None:
    study = _submit(store, "no-recipe")
    numbers = [_ran(store, study, NOT_A_RECIPE, lr, v) for lr, v in [(0.05, 0.8), (0.2, 0.9)]]
    _ran(store, study, Exponential(), 0.1, 0.7)
    phase = _started(store, study)
    assert phase.n_trials == 4
    assert [r.rerun_of for r in _queued(store, phase)][::2] == numbers[::-1]


def test_start_without_a_complete_trial_queues_nothing(store: Store) -> None:
    study = _submit(store, "empty")
    assert not rerun.start(store, study)
    _ran(store, study, NOT_A_RECIPE, 0.1, None)  # only pruned trials
    assert not rerun.start(store, store.studies.get(study.id))
    assert store.studies.children(study.id) == []


def test_the_phase_has_no_range_test_no_prior_and_no_budget(store: Store) -> None:
    study = _submit(store, "budgeted", budget_epochs=200, n_trials=8)
    study = store.studies.get(study.id)
    assert study.budget is not None and study.spec.prior and study.spec.lr_range_test
    _ran(store, study, NOT_A_RECIPE, 0.1, 0.9)
    _ran(store, study, RECIPES["linear"], 0.1, 0.8)
    phase = _started(store, study)
    spec = phase.spec  # as read back from the database
    assert spec.name == f"budgeted.rerun-{study.id}" and phase.name == spec.name
    assert (spec.lr_range_test, spec.prior, spec.budget_epochs, phase.budget) == (
        False,
        False,
        None,
        None,
    )
    assert (spec.pruner, spec.warm_start, spec.rerun_top_k) == ("none", False, 0)
    assert spec.n_trials == phase.n_trials == 4
    assert (spec.epochs, spec.seed, spec.dataset) == (3, 4, "digits")
    assert "base_lr" not in spec.space  # no range test ran: the space as it was
    assert spec.search_space().families == study.spec.search_space().families


def test_the_phase_searches_the_range_its_study_was_centred_on(store: Store) -> None:
    study = _submit(store, "centred")
    assert store.range_tests.claim(study.id, "w1")
    result = {"lrs": [0.01, 0.1], "losses": [2.0, 1.0], "suggestion": 0.03, "steps": 2}
    store.range_tests.finish(study.id, "w1", result | {"epochs": 0.5}, epochs=0.5)
    _ran(store, study, NOT_A_RECIPE, 0.05, 0.9)
    phase = _started(store, study)
    assert phase.spec.space["base_lr"] == centred_range(0.03)
    assert not phase.spec.lr_range_test


def test_start_twice_makes_one_phase(store: Store) -> None:
    study = _submit(store, "twice")
    _ran(store, study, NOT_A_RECIPE, 0.05, 0.9)
    phase = _started(store, study)
    assert rerun.start(store, store.studies.get(study.id))  # another worker: already begun
    assert store.studies.children(study.id) == [phase]


def _candidate(
    seeds: list[int], values: list[float], recipe: str | None = None, number: int = 0
) -> dict[str, object]:
    return {
        "trial_number": number,
        "search_value": None,
        "values": values,
        "seeds": seeds,
        "mean": statistics.fmean(values) if values else None,
        "std": None,
        "test_mean": None,
        "schedule": None,
        "base_lr": 0.1,
        "recipe": recipe,
    }


def test_lift_pairs_the_pick_and_the_recipe_by_seed() -> None:
    pick = _candidate([1, 2, 3], [0.9, 0.8, 0.7], number=5)
    recipe = _candidate([3, 1], [0.6, 0.5], recipe="step", number=2)  # seed 2 not run yet
    out = lift([pick, recipe])
    assert out is not None
    assert (out["recipe"], out["recipe_trial_number"], out["recipe_base_lr"]) == ("step", 2, 0.1)
    assert out["recipe_mean"] == pytest.approx(0.55)
    assert out["value"] == pytest.approx(0.8 - 0.55)  # the means' difference
    assert out["runs"] == 2  # seeds 1 and 3 paired: 0.9 - 0.5 and 0.7 - 0.6
    assert out["std"] == pytest.approx(statistics.stdev([0.4, 0.1]))


def test_rank_puts_the_best_mean_first_in_the_study_direction() -> None:
    """Candidates without a mean yet come last either way."""
    high, low = _candidate([1], [0.9], number=1), _candidate([1], [0.2], number=2)
    pending = _candidate([], [], number=3)
    accuracy = StudySpec()
    loss = StudySpec(trainer="external", metric="val_loss", direction="minimize")
    assert [c["trial_number"] for c in rank([pending, low, high], accuracy)] == [1, 2, 3]
    assert [c["trial_number"] for c in rank([pending, high, low], loss)] == [2, 1, 3]


def test_lift_of_a_minimised_metric_is_positive_when_the_pick_is_lower() -> None:
    pick = _candidate([1, 2], [0.2, 0.4], number=5)
    recipe = _candidate([1, 2], [0.5, 0.6], recipe="step", number=2)
    out = lift([pick, recipe], maximize=False)
    assert out is not None and out["recipe_mean"] == pytest.approx(0.55)
    assert out["value"] == pytest.approx(0.55 - 0.3)  # the recipe's mean less the pick's
    assert out["std"] == pytest.approx(statistics.stdev([0.3, 0.2])) and out["runs"] == 2


def test_lift_is_none_without_a_folklore_candidate_with_a_mean() -> None:
    pick = _candidate([1, 2], [0.9, 0.8])
    assert lift([pick]) is None
    assert lift([pick, _candidate([1, 2], [0.7, 0.6])]) is None  # no recipe among them
    assert lift([pick, _candidate([], [], recipe="cosine")]) is None  # the recipe: no mean yet
    assert lift([]) is None


def test_lift_of_a_recipe_that_won_is_zero_against_itself() -> None:
    won = _candidate([1, 2], [0.9, 0.8], recipe="one_cycle")
    out = lift([won, _candidate([1, 2], [0.7, 0.6], recipe="step")])
    assert out["recipe"] == "one_cycle" and out["value"] == 0.0 and out["std"] == 0.0
    single = lift([_candidate([1], [0.9]), _candidate([1], [0.8], recipe="step")])
    assert single["runs"] == 1 and single["std"] is None


def test_summary_reports_the_lift_of_the_finished_phase(store: Store) -> None:
    study = _submit(store, "summary")
    _ran(store, study, NOT_A_RECIPE, 0.05, 0.90)
    _ran(store, study, Exponential(), 0.1, 0.85)
    step = _ran(store, study, RECIPES["step"], 0.1, 0.70)
    phase = _started(store, study)
    optuna_phase = store.trials.optuna_study(phase)
    seeds = fresh_seeds(4, 2)
    scores = {0: [0.91, 0.89], 1: [0.80, 0.84], step: [0.70, 0.72]}
    for _ in range(phase.n_trials):  # the queued trials, in order, as workers run them
        trial = optuna_phase.ask()
        record = TrialRecord.of(trial.user_attrs)
        sampled = suggest(trial, phase.spec.search_space())
        TrialRecord(
            schedule=sampled.schedule.model_dump(mode="json"), base_lr=sampled.base_lr
        ).write(trial)
        optuna_phase.tell(trial, scores[record.rerun_of][seeds.index(record.seed)])
    summary = rerun.summary(store, store.studies.get(study.id))
    assert summary is not None and summary["finished"] == 6 and summary["seeds"] == 2
    assert [c["trial_number"] for c in summary["candidates"]] == [0, 1, step]
    assert [c["recipe"] for c in summary["candidates"]] == [None, None, "step"]
    lifted = summary["lift"]
    assert lifted["recipe"] == "step" and lifted["recipe_trial_number"] == step
    assert lifted["value"] == pytest.approx(0.90 - 0.71) and lifted["runs"] == 2
    assert lifted["std"] == pytest.approx(statistics.stdev([0.91 - 0.70, 0.89 - 0.72]))
