"""A pruner that corrects for short-horizon bias in schedule search.

Mid-run, a schedule that decays late (step at 50%/75%, cosine, one-cycle's long anneal) still
trains at its peak LR, so it looks worse than one that decayed early, though it may finish best.
A plain pruner compares both at the same epoch and can kill the eventual winner.
``DecayAwarePruner`` holds back another pruner's verdict while the trial is in that state: its LR
is still above ``ratio`` x the highest it has been, and the schedule will cut it below ``ratio`` x
its current value before the end. Schedules with no decay ahead (constant, plateau, whose future
is unknown) are judged as usual; a decaying one is judged once its decay is under way, and then
against the base pruner's usual rungs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import optuna

from schedsearch.core.curves import lr_curve
from schedsearch.core.records import TrialRecord
from schedsearch.core.schedules import Plateau

SAMPLES_PER_EPOCH = 8  # the LR curve's resolution: enough to place decays within an epoch


class DecayAwarePruner(optuna.pruners.BasePruner):
    def __init__(self, base: optuna.pruners.BasePruner, epochs: int, ratio: float = 0.5) -> None:
        self.base = base
        self.epochs = epochs
        self.ratio = ratio
        self._curves: dict[int, list[float]] = {}

    def prune(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
        step = trial.last_step
        if step is None or (step < self.epochs and self.peak_ahead_of_decay(trial, step)):
            return False
        return self.base.prune(study, trial)

    def peak_ahead_of_decay(self, trial: optuna.trial.FrozenTrial, epoch: int) -> bool:
        """Whether, after ``epoch`` epochs, the trial still runs near its peak LR with a decay
        ahead (a trial with no schedule recorded is never held back)."""
        curve = self._curve(trial)
        if curve is None:
            return False
        now = min(epoch * SAMPLES_PER_EPOCH, len(curve)) - 1
        current = curve[now]
        return current > self.ratio * max(curve[: now + 1]) and (
            min(curve[now:]) < self.ratio * current
        )

    def _curve(self, trial: optuna.trial.FrozenTrial) -> list[float] | None:
        """The trial's LR shape over the whole run (its base LR does not matter)."""
        if trial.number in self._curves:
            return self._curves[trial.number]
        record = TrialRecord.of(trial.user_attrs)
        if record.schedule is None:
            return None
        schedule = record.config()
        curve = lr_curve(schedule, self.epochs * SAMPLES_PER_EPOCH, 1.0)
        if not isinstance(schedule, Plateau):  # plateau's LR follows the metric: never cached,
            self._curves[trial.number] = curve  # and flat ahead, so judged as usual
        return curve


@dataclass(frozen=True)
class Curve:
    """A finished trial's learning curve: its schedule (JSON), validation accuracy per epoch,
    and its final value (None when it did not complete, e.g. it diverged)."""

    schedule: dict[str, Any]
    values: dict[int, float]
    final: float | None


def replay(
    pruner: optuna.pruners.BasePruner, curves: Sequence[Curve], epochs: int
) -> tuple[set[int], int]:
    """What ``pruner`` would have done to these curves, run in order as one sequential study,
    without training: the indices of the curves it prunes, and the epochs it lets run.

    The study has a fixed name: Hyperband assigns brackets by a hash of the study's name and
    the trial number, so an unnamed (randomly named) study replayed the same curves differently
    from run to run."""
    study = optuna.create_study(study_name="replay", direction="maximize", pruner=pruner)
    killed: set[int] = set()
    spent = 0
    for index, curve in enumerate(curves):
        trial = study.ask()
        TrialRecord(schedule=curve.schedule).write(trial)
        for step, value in sorted(curve.values.items()):
            trial.report(value, step)
            spent += 1
            if step < epochs and trial.should_prune():
                killed.add(index)
                break
        if index in killed or curve.final is None:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        else:  # a median pruner compares against COMPLETE trials only
            study.tell(trial, curve.final)
    return killed, spent
