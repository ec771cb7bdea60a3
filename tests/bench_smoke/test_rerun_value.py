"""bench/rerun_value.py: its k1 counterfactual is what the product would have queued.

The script scores what ``rerun_top_k`` 1 would have picked from the candidates a study with
``rerun_top_k`` 2 re-ran, and RESULTS.md calls that exact. Here the product's own
``rerun.start`` queues both phases on a real Store for the same search trials, and the
script's rule must name the k = 1 phase's two configs from the k = 2 phase's three."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from schedsearch.core.folklore import RECIPES, recipe_of
from schedsearch.core.schedules import Exponential, ScheduleBase
from schedsearch.store import Store
from tests.search.test_rerun import NOT_A_RECIPE, _queued, _ran, _started, _submit

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import rerun_value

STEP, CONSTANT = RECIPES["step"], RECIPES["constant"]
# Search trials in order: (schedule, base LR, validation score).
Trials = list[tuple[ScheduleBase, float, float]]
CASES: dict[str, Trials] = {
    "top two not recipes: the best recipe": [
        (NOT_A_RECIPE, 0.05, 0.90),
        (Exponential(), 0.1, 0.85),
        (NOT_A_RECIPE, 0.2, 0.80),
        (STEP, 0.1, 0.70),
    ],
    "top a recipe: the next best": [
        (CONSTANT, 0.6, 0.93),
        (CONSTANT, 0.5, 0.92),
        (NOT_A_RECIPE, 0.1, 0.91),
        (STEP, 0.1, 0.70),
    ],
    "second a recipe: the second": [
        (NOT_A_RECIPE, 0.05, 0.90),
        (STEP, 0.1, 0.88),
        (Exponential(), 0.1, 0.86),
    ],
    "ties: the lower number first": [
        (Exponential(), 0.1, 0.90),
        (NOT_A_RECIPE, 0.05, 0.90),
        (STEP, 0.1, 0.90),
        (CONSTANT, 0.1, 0.50),
    ],
}


def _phase(store: Store, name: str, top_k: int, trials: Trials) -> list[int]:
    """The search trials a study with ``top_k`` re-runs, in queue order."""
    study = _submit(store, name, rerun_top_k=top_k)
    for schedule, lr, value in trials:
        _ran(store, study, schedule, lr, value)
    queued = [r.rerun_of for r in _queued(store, _started(store, study))]
    return list(dict.fromkeys(n for n in queued if n is not None))


@pytest.mark.parametrize("case", CASES)
def test_k1_counterfactual_is_what_rerun_top_k_1_queues(tmp_path: Path, case: str) -> None:
    store = Store(f"sqlite:///{tmp_path / 'studies.db'}")
    try:
        trials = CASES[case]
        k2 = _phase(store, "k2", 2, trials)
        k1 = _phase(store, "k1", 1, trials)
    finally:
        store.close()
    assert len(k2) == 3 and len(k1) == 2
    # The k = 2 phase's candidates, with re-run means that make the one more the best (k1 must
    # pick it), the worst, or level with the top (k1 keeps the top: it was queued first).
    for more_mean, k1_pick in ((1.0, k1[1]), (0.0, k1[0]), (0.5, k1[0])):
        candidates = [
            {
                "trial_number": number,
                "search_value": trials[number][2],
                "recipe": recipe_of(trials[number][0]),
                "mean": more_mean if number == k1[1] else 0.5,
            }
            for number in k2
        ]
        picks = rerun_value.picks(candidates)
        assert picks["k0"]["trial_number"] == k1[0]  # the search's top config
        assert picks["k1"]["trial_number"] == k1_pick


def test_k1_without_a_recipe_re_runs_the_top_config_alone(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'studies.db'}")
    try:
        trials: Trials = [(NOT_A_RECIPE, 0.05, 0.80), (Exponential(), 0.1, 0.90)]
        assert _phase(store, "k1", 1, trials) == [1]  # no recipe ran: no one more
    finally:
        store.close()
    candidates = [
        {"trial_number": 1, "search_value": 0.90, "recipe": None, "mean": 0.5},
        {"trial_number": 0, "search_value": 0.80, "recipe": None, "mean": 0.9},
    ]
    assert rerun_value.picks(candidates)["k1"]["trial_number"] == 1
