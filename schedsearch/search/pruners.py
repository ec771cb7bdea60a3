"""Pruners for schedule search: one that corrects for short-horizon bias, and one that kills
only hopeless trials, for runs too short for early epochs to predict the end.

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

import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import optuna

from schedsearch.core.curves import lr_curve
from schedsearch.core.records import TrialRecord
from schedsearch.core.schedules import Plateau

SAMPLES_PER_EPOCH = 8  # the LR curve's resolution: enough to place decays within an epoch


def _maximizes(study: optuna.Study) -> bool:
    return study.direction == optuna.study.StudyDirection.MAXIMIZE


class Peer(Protocol):
    """What the pruners read of a trial: a FrozenTrial, or the store's lighter ``Peer``."""

    @property
    def number(self) -> int: ...
    @property
    def state(self) -> optuna.trial.TrialState: ...
    @property
    def value(self) -> float | None: ...
    @property
    def intermediate_values(self) -> Mapping[int, float]: ...


# The study's trials for a pruner. Default: Optuna's list; the product passes the store's
# ``Peers``, which reads what changed instead of every running trial in full.
PeersOf = Callable[[optuna.Study], Sequence[Peer]]


def listed(study: optuna.Study) -> Sequence[Peer]:
    return study.get_trials(deepcopy=False)


class HopelessPruner(optuna.pruners.BasePruner):
    """Kills a trial only when it is not learning: past ``warmup`` epochs, its accuracy is below
    ``share`` of the best any other trial had reached by the same epoch.

    Where early epochs say little about the final ranking (short runs, late decays), a ranking
    pruner kills eventual winners; this one spares every trial that learns at all, so a bad LR
    that stalls or a divergence (reported as 0) costs a few epochs, not a whole run. The rule
    is relative, so it needs no knowledge of the number of classes or of the task's ceiling.

    The ratio needs a metric whose zero means "learned nothing" (accuracy), so it applies to
    maximised metrics with a positive best only. A minimised metric (a loss) has no such zero,
    and neither scale nor sign is known (a slow but sound run's loss may be many times the
    best's early on), so there only a broken run is hopeless: a non-finite report (NaN, inf),
    which is hopeless in either direction, at any epoch.
    """

    def __init__(self, warmup: int = 1, share: float = 0.5, peers: PeersOf = listed) -> None:
        self.warmup = warmup
        self.share = share
        self.peers = peers
        # Finished trials never report again: each is folded once into the best value reported
        # at each step (a report scanned every value of every trial: ~3 ms at 1,000 trials).
        self._best_at: dict[int, float] = {}
        self._folded: set[int] = set()  # their numbers
        self._fold = threading.Lock()  # threads of an API process share the pruner

    @classmethod
    def for_run(cls, epochs: int, peers: PeersOf = listed) -> HopelessPruner:
        """Judging from a quarter of the run (at least one epoch): a slow start is no verdict."""
        return cls(warmup=max(1, epochs // 4), peers=peers)

    def prune(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
        return self.hopeless(trial, lambda: self.peers(study), _maximizes(study))

    def hopeless(
        self,
        trial: optuna.trial.FrozenTrial,
        trials: Callable[[], Sequence[Peer]],
        maximize: bool,
    ) -> bool:
        """The rule, given the study's trials (listed only if the rule needs them)."""
        step = trial.last_step
        if step is None:
            return False
        value = trial.intermediate_values[step]
        if not math.isfinite(value):
            return True  # a broken run does not recover
        if step < self.warmup or not maximize:
            return False
        best = self._best_by(trials(), trial.number, step)
        return best is not None and best > 0 and value < self.share * best

    def _best_by(self, trials: Sequence[Peer], number: int, step: int) -> float | None:
        """The best finite value any other trial reported at or before ``step`` (a broken peer
        sets no bar)."""
        running: list[float] = []
        with self._fold:
            for other in trials:
                if other.number == number or other.number in self._folded:
                    continue
                if other.state.is_finished():
                    for s, v in other.intermediate_values.items():
                        if math.isfinite(v) and v > self._best_at.get(s, -math.inf):
                            self._best_at[s] = v
                    self._folded.add(other.number)
                    continue
                running += (v for s, v in other.intermediate_values.items() if s <= step)
            settled = [v for s, v in self._best_at.items() if s <= step]
        return max((v for v in (*running, *settled) if math.isfinite(v)), default=None)


class FidelityPruner(optuna.pruners.BasePruner):
    """The budget policy (``pruner="auto"``): multi-fidelity pruning only where this study's
    own early epochs predict its final scores.

    bench/fidelity.py measured how well the validation accuracy at an epoch ranks configs as
    the end does (Spearman over random configs of the default space, bench/RESULTS.md): on
    digits with 40% label noise over 25 epochs it is about 0 (even negative) until 40% of the
    run and 0.7 only past half of it; on clean digits over 4 epochs, 0.5 after epoch 1. So
    whether early epochs predict the end depends on the task, not on the number of epochs,
    and no fixed threshold can tell. This pruner measures it: at each rung (the run divided by
    ``factor`` and ``factor``^2, as Hyperband places them), once ``min_trials`` trials have
    completed, it keeps only the top 1/``factor`` of the trials seen at that rung, provided
    the rank correlation between the completed trials' values at the rung and their final
    values is at least ``rho_min``. Below that, only ``HopelessPruner`` acts. ``hold``
    (the decay-aware rule) spares a trial still at its peak LR with a decay ahead.
    """

    def __init__(
        self,
        epochs: int,
        factor: int = 3,
        rho_min: float = 0.9,
        min_trials: int = 10,
        hopeless: HopelessPruner | None = None,
        hold: Callable[[optuna.trial.FrozenTrial, int], bool] | None = None,
        peers: PeersOf = listed,
    ) -> None:
        self.rungs = sorted({max(1, round(epochs / factor**k)) for k in (1, 2)} - {epochs})
        self.factor = factor
        self.rho_min = rho_min
        self.min_trials = min_trials
        self.hopeless = hopeless or HopelessPruner.for_run(epochs, peers)
        self.peers = peers
        self.hold = hold  # spares a trial from the rank cut (not from the hopeless rule)

    def prune(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
        once: list[Sequence[Peer]] = []

        def trials() -> Sequence[Peer]:
            """The study's trials, read at most once per call."""
            if not once:
                once.append(self.peers(study))
            return once[0]

        maximize = _maximizes(study)
        if self.hopeless.hopeless(trial, trials, maximize):
            return True
        step = trial.last_step
        if step not in self.rungs or (self.hold is not None and self.hold(trial, step)):
            return False
        return self.predictive(trials(), step) and not self._in_top(trials(), trial, step, maximize)

    def predictive(self, trials: Sequence[Peer], step: int) -> bool:
        """Whether values at ``step`` have ranked this study's completed trials as the end
        did (Spearman >= ``rho_min`` over at least ``min_trials`` of them)."""
        complete = [
            t
            for t in trials
            if t.state == optuna.trial.TrialState.COMPLETE
            and step in t.intermediate_values
            and t.value is not None
        ]
        if len(complete) < self.min_trials:
            return False
        import scipy.stats  # here: it takes ~0.8 s to import, and most processes never rank

        early = [t.intermediate_values[step] for t in complete]
        final = [t.value for t in complete]
        if len(set(early)) < 2 or len(set(final)) < 2:
            return False
        rho = scipy.stats.spearmanr(early, final).statistic
        return bool(rho >= self.rho_min)

    def _in_top(
        self,
        trials: Sequence[Peer],
        trial: optuna.trial.FrozenTrial,
        step: int,
        maximize: bool,
    ) -> bool:
        """Whether the trial is among the best 1/``factor`` of the finished trials at ``step``,
        in the study's direction."""
        peers = sorted(  # best first
            (
                t.intermediate_values[step]
                for t in trials
                if t.state in (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
                and step in t.intermediate_values
                and math.isfinite(t.intermediate_values[step])
            ),
            reverse=maximize,
        )
        keep = max(1, len(peers) // self.factor)
        if len(peers) < keep:
            return True
        value, bar = trial.intermediate_values[step], peers[keep - 1]
        return value >= bar if maximize else value <= bar


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
    """A finished trial's learning curve: its schedule (JSON), the study's metric per epoch,
    and its final value (None when it did not complete, e.g. it diverged)."""

    schedule: dict[str, Any]
    values: dict[int, float]
    final: float | None


def replay(
    pruner: optuna.pruners.BasePruner,
    curves: Sequence[Curve],
    epochs: int,
    direction: Literal["maximize", "minimize"] = "maximize",
) -> tuple[set[int], int]:
    """What ``pruner`` would have done to these curves, run in order as one sequential study,
    without training: the indices of the curves it prunes, and the epochs it lets run.

    The study has a fixed name: Hyperband assigns brackets by a hash of the study's name and
    the trial number, so an unnamed (randomly named) study replayed the same curves differently
    from run to run."""
    study = optuna.create_study(study_name="replay", direction=direction, pruner=pruner)
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
