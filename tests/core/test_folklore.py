"""The folklore recipes: each one is a point of the default search space, at every LR of a
grid."""

from __future__ import annotations

import optuna
import pytest

from schedsearch.core.folklore import RECIPES, USUAL_LR, folklore
from schedsearch.core.space import SampledSchedule, SearchSpace, as_params, suggest


@pytest.mark.parametrize("name", list(RECIPES))
def test_a_recipe_as_params_samples_back_to_itself(name: str) -> None:
    """``as_params`` is the inverse of ``suggest``: the trial rebuilds the exact schedule."""
    space = SearchSpace()
    sampled = SampledSchedule(RECIPES[name], 0.1)
    params = as_params(space, sampled)
    assert params is not None and params["family"] == RECIPES[name].family
    again = suggest(optuna.trial.FixedTrial(params), space)
    assert again == sampled


def test_folklore_grid_has_every_recipe_at_every_lr() -> None:
    grid = folklore("sgd", (0.03, 0.3))
    assert len(grid) == 2 * len(RECIPES)
    assert {(n, s.base_lr) for n, s in grid} == {(n, lr) for n in RECIPES for lr in (0.03, 0.3)}
    assert [s.base_lr for _, s in folklore("adamw")] == [USUAL_LR["adamw"]] * len(RECIPES)
