"""TPE that reads the study once per trial it samples, not once per parameter group.

With ``constant_liar`` (each worker sees the others' running trials), Optuna 5.0's TPESampler
reads the study's trials afresh in every group's ``_sample`` (``use_cache = not
self._constant_liar``): the default space has 12 groups, so a trial's first suggest listed the
study 13 times, and Optuna's cached storage re-reads every RUNNING trial in full on each list
(bench/RESULTS.md, "Leased trials under load": 318 of an ask's 557 ms with 16 agents).

Here every group reads the list Optuna's own per-trial cache holds (``Study._get_trials(...,
use_cache=True)``: reset by each ``ask`` and ``tell``, filled by this trial's first sampling
read, which the group decomposition makes). The snapshot is taken at sampling time, not at ask
time (Optuna #6505 reverted a cache taken at ask time because it hid trials started between
the ask and the sampling). What differs from stock TPE: the later groups see the running
trials as they were when this trial's sampling began, not a few milliseconds later. In a
sequential study the proposals are stock TPE's, parameter for parameter
(tests/search/test_tpe.py).
"""

from __future__ import annotations

from collections.abc import Container
from typing import Any

import optuna
from optuna.distributions import BaseDistribution
from optuna.trial import FrozenTrial, TrialState


class _SamplingView:
    """The study as one trial's sampling sees it: every trial list from the per-trial cache."""

    def __init__(self, study: optuna.Study) -> None:
        self._study = study

    def _get_trials(
        self,
        deepcopy: bool = True,
        states: Container[TrialState] | None = None,
        use_cache: bool = False,
    ) -> list[FrozenTrial]:
        return self._study._get_trials(deepcopy=deepcopy, states=states, use_cache=True)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._study, name)


class SnapshotTPESampler(optuna.samplers.TPESampler):
    """``TPESampler`` whose groups share one trial list per sampled trial."""

    def _sample(
        self,
        study: optuna.Study,
        trial: FrozenTrial,
        search_space: dict[str, BaseDistribution],
    ) -> dict[str, Any]:
        view: Any = _SamplingView(study)  # duck-typed: TPE only lists trials and reads fields
        return super()._sample(view, trial, search_space)
