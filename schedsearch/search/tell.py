"""Telling Optuna how a trial ended, without reading the trial back.

``Study.tell`` reads the trial (six statements through Optuna's ORM) to check that it runs and
to take a pruned trial's last report as its value, writes its state, and reads it again to
return it; ``optimize`` reads it a third time for its callbacks: 16 of a worker's ~50
statements per trial (bench/worker_scaling.py). The holder of a trial has it in hand already:
the ``optuna.Trial`` keeps its own copy up to date with every suggest, report and attribute it
writes (``held``), and a lease holder reads it once. So this is ``_tell_with_warning`` step for
step (the same state, values and sampler hook), minus the reads.

A copy never makes a trial end twice: the write checks, in the database, that the trial still
runs (``UpdateFinishedTrialError`` otherwise), so a reaper that failed it meanwhile wins.
"""

from __future__ import annotations

import math
from datetime import datetime

import optuna
from optuna import pruners
from optuna.trial import FrozenTrial, TrialState


def held(trial: optuna.Trial) -> FrozenTrial:
    """The trial as its holder wrote it (Optuna's ``Trial`` keeps this copy for its own reads:
    params, distributions, reports, user attributes; system attributes as of the ask, since
    samplers write theirs through the storage). tests/search/test_tell.py compares it with the
    stored trial, so an Optuna that stopped keeping it would be caught."""
    return trial._cached_frozen_trial


def feasible(value: object) -> bool:
    """Optuna's test of a value it can store (a float, not NaN)."""
    try:
        return not math.isnan(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def tell(
    study: optuna.Study,
    trial: FrozenTrial,
    value: float | None = None,
    state: TrialState | None = None,
) -> FrozenTrial:
    """End ``trial`` (RUNNING, as its holder has it) and return it as it ended.

    ``state`` None: COMPLETE with ``value``, or FAIL if the value is not a number (as
    ``optimize`` treats an objective's return). PRUNED takes the last report as its value.
    """
    if trial.state != TrialState.RUNNING:
        raise ValueError(f"Cannot tell a {trial.state.name} trial.")
    if state is None:
        state = TrialState.COMPLETE if feasible(value) else TrialState.FAIL
    if state == TrialState.COMPLETE:
        if value is None or not feasible(value):
            raise ValueError(f"a complete trial needs a number as its value, not {value!r}")
        values: list[float] | None = [float(value)]
    elif state == TrialState.PRUNED:
        last = trial.last_step
        reported = None if last is None else trial.intermediate_values[last]
        values = [float(reported)] if reported is not None and feasible(reported) else None
    elif state == TrialState.FAIL:
        values = None
    else:
        raise ValueError(f"Cannot tell with state {state}.")
    study._thread_local.cached_all_trials = None  # as Study.tell: the next list is fresh
    try:
        study.sampler.after_trial(pruners._filter_study(study, trial), trial, state, values)
    finally:
        study._storage.set_trial_state_values(trial._trial_id, state, values)
    return FrozenTrial(
        number=trial.number,
        state=state,
        value=None,
        values=values,
        datetime_start=trial.datetime_start,
        datetime_complete=datetime.now(),  # within milliseconds of the stored one
        params=dict(trial.params),
        distributions=dict(trial.distributions),
        user_attrs=dict(trial.user_attrs),
        system_attrs=dict(trial.system_attrs),
        intermediate_values=dict(trial.intermediate_values),
        trial_id=trial._trial_id,
    )
