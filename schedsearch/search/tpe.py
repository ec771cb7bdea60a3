"""TPE that does each trial's sampling work once, not once per parameter group.

With ``group=True`` and ``constant_liar`` (each worker sees the others' running trials),
Optuna 5.0's TPESampler samples every group of the space on its own: the default space has 12
groups, and for each it read the study's trials afresh (``use_cache = not
self._constant_liar``), re-read every RUNNING trial in full through the cached storage, and
split all trials into good and bad again; before that, the group decomposition walked every
finished trial, every ask (bench/RESULTS.md: 318 of a leased ask's 557 ms with 16 agents were
the re-reads alone). Here, per sampled trial:

- every group reads the list Optuna's own per-trial cache holds (``Study._get_trials(...,
  use_cache=True)``: reset by each ``ask`` and ``tell``, filled by this trial's first sampling
  read). It is taken at sampling time, not at ask time (Optuna #6505 reverted a cache taken at
  ask time because it hid trials started between the ask and the sampling);
- the good/bad split of those trials is made once and shared by the groups (it depends on the
  trials and their number only, not on the group);
- each group's observations come from an index of the split's trials by parameter name
  (built once per sampled trial), so a group whose parameters belong to one family visits that
  family's trials, in the same order, instead of every trial;
- the group decomposition adds only the finished trials it has not seen: a finished trial's
  distributions never change, and adding a set it already holds leaves it as it was.

What differs from stock TPE: the later groups see the running trials as they were when this
trial's sampling began, not a few milliseconds later. In a sequential study the proposals are
stock TPE's, parameter for parameter (tests/search/test_tpe.py).
"""

from __future__ import annotations

import copy
import threading
from collections import defaultdict
from collections.abc import Container
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.samplers._tpe.sampler import (
    _split_trials,
    default_gamma,
    default_gamma_multiobjective,
)
from optuna.search_space.group_decomposed import _GroupDecomposedSearchSpace, _SearchSpaceGroup
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


class _IncrementalGroups(_GroupDecomposedSearchSpace):
    """The group decomposition, fed each finished trial once."""

    def __init__(self, include_pruned: bool) -> None:
        super().__init__(include_pruned)
        self._added: set[int] = set()
        self._lock = threading.Lock()

    def calculate(self, study: optuna.Study, use_cache: bool = False) -> _SearchSpaceGroup:
        if self._study_id is None:
            self._study_id = study._study_id
        elif self._study_id != study._study_id:
            raise ValueError("`_GroupDecomposedSearchSpace` cannot handle multiple studies.")
        states = (TrialState.COMPLETE, TrialState.PRUNED)
        trials = study._get_trials(
            deepcopy=False, states=states if self._include_pruned else states[:1], use_cache=True
        )
        with self._lock:  # threads sharing a sampler (asks in request threads) add once
            for trial in trials:
                if trial._trial_id not in self._added:
                    self._search_space.add_distributions(trial.distributions)
                    self._added.add(trial._trial_id)
            return copy.deepcopy(self._search_space)


class SnapshotTPESampler(optuna.samplers.TPESampler):
    """``TPESampler`` whose groups share one trial list and one split per sampled trial."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if self._group_decomposed_search_space is not None:
            self._group_decomposed_search_space = _IncrementalGroups(True)
        # While one trial is sampled: its split (trial id, good, bad) and the lists' indexes.
        self._shared = threading.local()
        # A finished trial's parameters as one group's observation, by (trial id, group).
        self._rows: dict[tuple[int, tuple[str, ...]], tuple[float, ...]] = {}

    def sample_relative(
        self, study: optuna.Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        self._shared.split, self._shared.indexes, self._shared.finished = None, {}, None
        try:
            return super().sample_relative(study, trial, search_space)
        finally:
            self._shared.split, self._shared.indexes, self._shared.finished = None, None, None

    def _sample_relative(
        self, study: optuna.Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        """Optuna's, counting the finished trials once per sampled trial (Optuna lists them
        once per group, only to count them)."""
        if search_space == {}:
            return {}
        finished = getattr(self._shared, "finished", None)
        if finished is None:
            states = (TrialState.COMPLETE, TrialState.PRUNED)
            finished = len(study._get_trials(deepcopy=False, states=states, use_cache=True))
            if getattr(self._shared, "indexes", None) is not None:  # inside sample_relative
                self._shared.finished = finished
        if finished < self._n_startup_trials:
            return {}
        return self._sample(study, trial, search_space)

    def _get_internal_repr(
        self,
        trials: list[FrozenTrial],
        search_space: dict[str, BaseDistribution],
        study: optuna.Study,
    ) -> dict[str, np.ndarray]:
        """Optuna's, visiting only the trials that have the group's rarest parameter, and
        converting a finished trial's parameters for a group once (they never change)."""
        if not search_space:
            return {}
        params_of, where = self._index(trials, study)
        rarest = min(search_space, key=lambda name: len(where.get(name, ())))
        group = tuple(search_space)
        rows: list[tuple[float, ...]] = []
        for position in where.get(rarest, ()):  # in the list's order, as Optuna's loop
            trial = trials[position]
            finished = trial.state.is_finished()
            row = self._rows.get((trial._trial_id, group)) if finished else None
            if row is None:
                params = params_of[position]
                row = (
                    tuple(d.to_internal_repr(params[n]) for n, d in search_space.items())
                    if search_space.keys() <= params.keys()
                    else ()  # not in this group
                )
                if finished:
                    self._rows[trial._trial_id, group] = row
            if row:
                rows.append(row)
        if not rows:
            return {name: np.asarray([]) for name in search_space}
        table = np.asarray(rows, dtype=float)
        return {name: np.ascontiguousarray(table[:, i]) for i, name in enumerate(search_space)}

    def _index(
        self, trials: list[FrozenTrial], study: optuna.Study
    ) -> tuple[list[dict[str, Any]], dict[str, list[int]]]:
        """Each trial's params (as TPE reads them: a running trial's include its relative
        params) and, per parameter name, the positions of the trials that have it; built once
        per list while one trial is sampled."""
        indexes = getattr(self._shared, "indexes", None)
        if indexes is not None and id(trials) in indexes:
            return indexes[id(trials)][1:]
        params_of = [self._get_params(trial, study) for trial in trials]
        where: dict[str, list[int]] = defaultdict(list)
        for position, params in enumerate(params_of):
            for name in params:
                where[name].append(position)
        if indexes is not None:  # keeps ``trials`` alive, so its id is not reused meanwhile
            indexes[id(trials)] = (trials, params_of, where)
        return params_of, where

    def _sample(
        self,
        study: optuna.Study,
        trial: FrozenTrial,
        search_space: dict[str, BaseDistribution],
    ) -> dict[str, Any]:
        """Optuna's ``TPESampler._sample`` (5.0), with the split shared by the groups."""
        view: Any = _SamplingView(study)  # duck-typed: TPE only lists trials and reads fields
        below, above = self._split(view, trial)
        mpe_below = self._build_parzen_estimator(view, search_space, below, handle_below=True)
        mpe_above = self._build_parzen_estimator(view, search_space, above, handle_below=False)
        samples_below = mpe_below.sample(self._rng.rng, self._n_ei_candidates)
        acq_func_vals = self._compute_acquisition_func(samples_below, mpe_below, mpe_above)
        ret = optuna.samplers.TPESampler._compare(samples_below, acq_func_vals)
        for param_name, dist in search_space.items():
            ret[param_name] = dist.to_external_repr(ret[param_name])
        return ret

    def _split(self, study: Any, trial: FrozenTrial) -> tuple[list[FrozenTrial], list[FrozenTrial]]:
        shared = getattr(self._shared, "split", None)
        if shared is not None and shared[0] == trial._trial_id:
            return shared[1], shared[2]
        states = [TrialState.COMPLETE, TrialState.PRUNED]
        if self._constant_liar:
            states.append(TrialState.RUNNING)
        trials = study._get_trials(deepcopy=False, states=states, use_cache=True)
        if self._constant_liar:  # the current trial is not evidence
            trials = [t for t in trials if trial.number != t.number]
        if self._gamma is None:
            single = len(study.directions) <= 1
            self._gamma = default_gamma if single else default_gamma_multiobjective
        n = sum(t.state != TrialState.RUNNING for t in trials)  # running trials: not counted
        below, above = _split_trials(study, trials, self._gamma(n))
        self._shared.split = (trial._trial_id, below, above)
        return below, above
