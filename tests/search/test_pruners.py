"""The decay-aware pruner against short-horizon bias: which trials it holds back, and a replay
of real learning curves through it and through plain Hyperband (real Optuna pruners)."""

from __future__ import annotations

import optuna
import pytest

from schedsearch.core.records import TrialRecord
from schedsearch.core.schedules import Constant, Cosine, MultiStep, OneCycle, Plateau, ScheduleBase
from schedsearch.core.spec import StudySpec
from schedsearch.search.pruners import (
    Curve,
    DecayAwarePruner,
    FidelityPruner,
    HopelessPruner,
    replay,
)
from schedsearch.search.strategy import make_pruner

States = optuna.trial.TrialState


def _pruner(ratio: float = 0.5, epochs: int = 8) -> DecayAwarePruner:
    return DecayAwarePruner(optuna.pruners.NopPruner(), epochs, ratio)


def _held_back(schedule: ScheduleBase, epochs: int = 8) -> list[bool]:
    trial = optuna.trial.create_trial(
        state=States.RUNNING, user_attrs={"schedule": schedule.model_dump(mode="json")}
    )
    return [_pruner(epochs=epochs).peak_ahead_of_decay(trial, e) for e in range(1, epochs + 1)]


def test_decay_aware_holds_back_only_while_a_decay_lies_ahead() -> None:
    step = MultiStep(milestones=(0.5, 0.75), gamma=0.1)
    assert _held_back(step) == [True] * 4 + [False] * 4  # judged once epoch 5 ran at 0.1x
    assert _held_back(Constant()) == [False] * 8  # nothing ahead: judged as usual
    assert _held_back(Plateau()) == [False] * 8  # its future is unknown: judged as usual
    cosine = _held_back(Cosine())  # judged once its LR is below half the peak (past 50%)
    assert cosine[:3] == [True] * 3 and cosine[4:] == [False] * 4
    assert _held_back(OneCycle())[:2] == [True, True]  # rising to its peak: held back
    # a trial without a recorded schedule is judged as usual
    bare = optuna.trial.create_trial(state=States.RUNNING)
    assert not _pruner().peak_ahead_of_decay(bare, 1)


def _replay(
    pruner: optuna.pruners.BasePruner, curves: list[tuple[ScheduleBase, list[float]]]
) -> set[int]:
    """The indices of the complete 8-epoch curves the pruner kills, run in order."""
    recorded = [
        Curve(schedule.model_dump(mode="json"), dict(enumerate(values, start=1)), values[-1])
        for schedule, values in curves
    ]
    return replay(pruner, recorded, epochs=8)[0]


def test_decay_aware_spares_the_late_decaying_winner_that_hyperband_kills() -> None:
    """Short-horizon bias: x0.1 at 50%/75% trains at its peak LR until epoch 4, so it trails
    early-decaying schedules mid-run, and finishes best."""
    early = Cosine()
    late = MultiStep(milestones=(0.5, 0.75), gamma=0.1)
    curves = [(early, [0.5, 0.7, 0.8, 0.85, 0.87, 0.88, 0.88, 0.89]) for _ in range(6)]
    curves.append((late, [0.3, 0.45, 0.55, 0.6, 0.9, 0.92, 0.95, 0.96]))
    spec = StudySpec(epochs=8)
    hyperband = make_pruner(spec.model_copy(update={"pruner": "hyperband"}))
    aware = make_pruner(spec.model_copy(update={"pruner": "decay_aware"}))
    assert isinstance(aware, DecayAwarePruner)
    recorded = [Curve(s.model_dump(mode="json"), dict(enumerate(v, 1)), v[-1]) for s, v in curves]
    assert replay(optuna.pruners.NopPruner(), recorded, epochs=8) == (set(), 7 * 8)
    assert 6 in _replay(hyperband, curves)  # the eventual winner is killed
    assert 6 not in _replay(aware, curves)  # spared until its decay is under way
    # and once the decay is under way, a trial that is still behind is pruned
    curves[6] = (late, [0.3, 0.45, 0.55, 0.6, 0.62, 0.63, 0.64, 0.65])
    assert 6 in _replay(aware, curves)


def test_a_hyperband_replay_is_the_same_every_time() -> None:
    """Brackets hang on the study's name: a replay must not depend on a random one."""
    import optuna

    from schedsearch.search.pruners import Curve, replay

    curves = [
        Curve({"family": "constant"}, {e: 0.1 * e + 0.01 * (i % 5) for e in range(1, 5)}, 0.5)
        for i in range(30)
    ]

    def once() -> tuple[set[int], int]:
        pruner = optuna.pruners.HyperbandPruner(min_resource=1, max_resource=4, reduction_factor=3)
        return replay(pruner, curves, 4)

    assert all(once() == once() for _ in range(5))


# --- the hopeless rule and the fidelity (budget) policy, on synthetic in-memory studies -------


def _study(pruner: optuna.pruners.BasePruner, direction: str = "maximize") -> optuna.Study:
    return optuna.create_study(direction=direction, pruner=pruner)


def _finished(
    study: optuna.Study, values: dict[int, float], final: float | None, state=States.COMPLETE
) -> None:
    """A trial that ran before: its report per epoch, its final value (None when pruned)."""
    study.add_trial(
        optuna.trial.create_trial(
            state=state,
            value=final if state == States.COMPLETE else None,
            intermediate_values=values,
        )
    )


def _running(
    study: optuna.Study, values: dict[int, float], schedule: ScheduleBase | None = None
) -> bool:
    """A trial being trained that has reported ``values``: whether the study's pruner kills it."""
    trial = study.ask()
    if schedule is not None:
        TrialRecord(schedule=schedule.model_dump(mode="json")).write(trial)
    for step, value in sorted(values.items()):
        trial.report(value, step)
    return trial.should_prune()


def test_hopeless_prunes_a_trial_below_share_of_the_best_after_warmup() -> None:
    study = _study(HopelessPruner(warmup=2, share=0.5))
    _finished(study, {1: 0.6, 2: 0.8, 3: 0.9}, 0.9)
    assert not _running(study, {1: 0.1})  # before warmup: spared, however bad
    assert _running(study, {1: 0.1, 2: 0.1})  # 0.1 < 0.5 x 0.8 at epoch 2
    assert _running(study, {1: 0.1, 2: 0.0})  # a divergence reports 0
    assert not _running(study, {1: 0.1, 2: 0.41})  # learning: above half the best
    assert not _running(study, {1: 0.1, 2: 0.4})  # exactly half: not below it


def test_hopeless_compares_with_the_best_reached_by_the_same_epoch() -> None:
    study = _study(HopelessPruner(warmup=1, share=0.5))
    _finished(study, {1: 0.2, 2: 0.3, 5: 0.99}, 0.99)
    assert not _running(study, {1: 0.15, 2: 0.16})  # the best by epoch 2 is 0.3, not 0.99
    assert _running(study, {1: 0.15, 2: 0.14})
    # a pruned or running trial's reports count as well as a complete one's
    other = _study(HopelessPruner(warmup=1, share=0.5))
    _finished(other, {1: 0.8}, None, state=States.PRUNED)
    assert _running(other, {1: 0.3})


def test_hopeless_bar_kept_between_calls_is_a_full_scan() -> None:
    """Finished trials are folded into the bar once; running ones are read every call. Over
    trials that report, finish and fail in turn, the bar always equals a scan of every value."""
    import math
    import random

    rng = random.Random(0)
    pruner = HopelessPruner(warmup=1, share=0.5)
    study = optuna.create_study(direction="maximize")
    live: list[optuna.trial.Trial] = []
    for _ in range(150):
        if len(live) < 4 or rng.random() < 0.3:
            live.append(study.ask())
        trial = rng.choice(live)
        step = len(study._storage.get_trial(trial._trial_id).intermediate_values) + 1
        trial.report(rng.choice([rng.random(), rng.random(), math.nan, -math.inf]), step)
        if rng.random() < 0.25:
            live.remove(trial)
            state = rng.choice([States.COMPLETE, States.PRUNED, States.FAIL])
            study.tell(trial, 0.5 if state == States.COMPLETE else None, state=state)
        for other in study.get_trials(deepcopy=False):
            if other.state != States.RUNNING:
                continue
            for at in range(1, 6):
                scan = [
                    v
                    for t in study.get_trials(deepcopy=False)
                    if t.number != other.number
                    for s, v in t.intermediate_values.items()
                    if s <= at and math.isfinite(v)
                ]
                bar = pruner._best_by(study.get_trials(deepcopy=False), other.number, at)
                assert bar == max(scan, default=None)


def test_hopeless_spares_everyone_with_nothing_to_compare() -> None:
    study = _study(HopelessPruner(warmup=1, share=0.5))
    assert not _running(study, {1: 0.0, 2: 0.0})  # the first trial: no best to fall short of
    assert not HopelessPruner().prune(study, optuna.trial.create_trial(state=States.RUNNING))


def test_hopeless_spares_every_finite_loss_of_a_minimised_metric() -> None:
    """A loss has no zero for "learned nothing": only a broken run is hopeless."""
    study = _study(HopelessPruner(warmup=2, share=0.5), direction="minimize")
    _finished(study, {1: 0.3, 2: 0.1}, 0.1)
    assert not _running(study, {1: 2.0, 2: 1.5})  # 15x the best loss: slow, not hopeless
    assert not _running(study, {1: 0.05, 2: 0.01})  # below the best: the best so far
    assert _running(study, {1: float("nan")})  # broken: at once, warm-up or not
    assert _running(study, {1: 0.5, 2: float("inf")})
    schedule = Constant().model_dump(mode="json")
    curves = [
        Curve(schedule, {1: 0.5, 2: 0.3}, 0.3),
        Curve(schedule, {1: 0.9, 2: float("nan")}, None),
        Curve(schedule, {1: 3.0, 2: 2.0}, 2.0),
    ]
    assert replay(HopelessPruner(), curves, epochs=3, direction="minimize") == ({1}, 6)


def test_hopeless_ratio_needs_a_positive_best() -> None:
    """Maximising a negative metric (a negated loss): half the best is no bar."""
    study = _study(HopelessPruner(warmup=1, share=0.5))
    _finished(study, {1: -1.0}, -1.0)
    assert not _running(study, {1: -1.0}) and not _running(study, {1: -3.0})


@pytest.mark.parametrize(("epochs", "rungs"), [(4, [1]), (9, [1, 3]), (25, [3, 8]), (1, [])])
def test_fidelity_rungs_sit_where_hyperband_places_them(epochs: int, rungs: list[int]) -> None:
    pruner = FidelityPruner(epochs)
    assert pruner.rungs == rungs
    assert isinstance(pruner.hopeless, HopelessPruner)
    assert pruner.hopeless.warmup == max(1, epochs // 4)


EPOCHS = 9  # rungs 1 and 3; the hopeless rule from epoch 2 on
FINALS = [0.5 + 0.04 * i for i in range(12)]  # 0.50 .. 0.94


def _early(rank: int) -> float:
    """A trial's accuracy at every early epoch, from its rank among the 12 (0: the worst)."""
    return 0.3 + 0.02 * rank


def _fidelity_study(ranks: list[int], **options: object) -> optuna.Study:
    """12 complete trials: early values in the order ``ranks``, finals in increasing order."""
    study = _study(FidelityPruner(EPOCHS, **options))
    for rank, final in zip(ranks, FINALS, strict=True):
        curve = {s: _early(rank) for s in range(1, 4)} | {s: final for s in range(4, EPOCHS + 1)}
        _finished(study, curve, final)
    return study


MONOTONE = list(range(12))  # early values rank the trials exactly as their finals do
SLOW = 0.3  # a running trial's early accuracy: last of the 12, yet above half the best (0.52)


def test_fidelity_cuts_outside_the_top_third_at_a_rung_when_early_predicts_the_end() -> None:
    study = _fidelity_study(MONOTONE)
    pruner = study.pruner
    assert isinstance(pruner, FidelityPruner)
    assert pruner.predictive(study.get_trials(), 3) and pruner.predictive(study.get_trials(), 1)
    assert _running(study, {1: SLOW, 2: SLOW, 3: SLOW})  # rung 3: below the 4th best
    assert _running(study, {1: SLOW})  # rung 1 too
    assert not _running(study, {1: SLOW, 2: SLOW})  # epoch 2 is no rung
    top_third = _early(8)  # 12 peers: the best 4 stay
    assert not _running(study, {1: SLOW, 2: SLOW, 3: top_third})
    assert _running(study, {1: SLOW, 2: SLOW, 3: _early(7)})
    assert not _running(study, {1: 0.5, 2: 0.5, 3: 0.6})  # the best so far


def test_fidelity_never_cuts_by_rank_before_min_trials_completed() -> None:
    study = _study(FidelityPruner(EPOCHS))
    for rank in range(9):
        final = FINALS[rank]
        _finished(study, {s: _early(rank) for s in range(1, 4)} | {EPOCHS: final}, final)
    for rank in range(9, 12):  # pruned trials are peers, not evidence of prediction
        _finished(study, {s: _early(rank) for s in range(1, 4)}, None, state=States.PRUNED)
    assert not study.pruner.predictive(study.get_trials(), 3)
    assert not _running(study, {1: SLOW, 2: SLOW, 3: SLOW})
    _finished(study, {s: _early(11) for s in range(1, 4)} | {EPOCHS: 0.99}, 0.99)  # the 10th
    assert study.pruner.predictive(study.get_trials(), 3)
    assert _running(study, {1: SLOW, 2: SLOW, 3: SLOW})
    fewer = _fidelity_study(MONOTONE, min_trials=13)
    assert not _running(fewer, {1: SLOW, 2: SLOW, 3: SLOW})


def test_fidelity_keeps_the_lowest_third_of_a_minimised_metric() -> None:
    """The same study as a loss (1 - accuracy): the rank cut keeps the lowest values."""
    study = _study(FidelityPruner(EPOCHS), direction="minimize")
    for rank, final in zip(MONOTONE, FINALS, strict=True):
        early = {s: 1 - _early(rank) for s in range(1, 4)}
        _finished(study, early | {s: 1 - final for s in range(4, EPOCHS + 1)}, 1 - final)
    assert study.pruner.predictive(study.get_trials(), 3)
    slow = 1 - SLOW  # last of the 12
    assert _running(study, {1: slow, 2: slow, 3: slow})
    assert not _running(study, {1: slow, 2: slow, 3: 1 - _early(8)})  # 4th lowest: kept
    assert _running(study, {1: slow, 2: slow, 3: 1 - _early(7)})
    assert not _running(study, {1: 0.5, 2: 0.5, 3: 0.4})  # the best so far


@pytest.mark.parametrize(
    "ranks",
    [
        MONOTONE[::-1],  # early epochs rank the trials backwards (rho -1)
        [0, 1, 2, 8, 4, 5, 6, 7, 3, 9, 10, 11],  # rho 0.83: related, but below rho_min 0.9
        [5] * 12,  # every trial alike early: no ranking at all
    ],
)
def test_fidelity_never_cuts_by_rank_where_early_epochs_do_not_predict(ranks: list[int]) -> None:
    study = _fidelity_study(ranks)
    assert not study.pruner.predictive(study.get_trials(), 3)
    assert not _running(study, {1: SLOW, 2: SLOW, 3: SLOW})
    assert not _running(study, {1: SLOW})
    assert _running(study, {1: SLOW, 2: 0.0, 3: 0.0})  # the hopeless rule still acts


def test_fidelity_rho_min_is_the_bar() -> None:
    ranks = [0, 1, 2, 8, 4, 5, 6, 7, 3, 9, 10, 11]  # rho 0.825
    assert _running(_fidelity_study(ranks, rho_min=0.8), {1: SLOW, 2: SLOW, 3: SLOW})
    assert not _running(_fidelity_study(ranks, rho_min=0.85), {1: SLOW, 2: SLOW, 3: SLOW})


def test_hold_spares_from_the_rank_cut_not_from_the_hopeless_rule() -> None:
    asked: list[int] = []

    def hold(trial: optuna.trial.FrozenTrial, step: int) -> bool:
        asked.append(step)
        return True

    study = _fidelity_study(MONOTONE, hold=hold)
    assert not _running(study, {1: SLOW, 2: SLOW, 3: SLOW})
    assert asked == [3]  # asked at the rung, with the epoch
    assert _running(study, {1: SLOW, 2: 0.0, 3: 0.0})  # not learning: killed all the same
    released = _fidelity_study(MONOTONE, hold=lambda trial, step: False)
    assert _running(released, {1: SLOW, 2: SLOW, 3: SLOW})


def test_make_pruner_auto_is_the_fidelity_policy_with_the_decay_hold() -> None:
    pruner = make_pruner(StudySpec(epochs=EPOCHS, pruner="auto"))
    assert isinstance(pruner, FidelityPruner) and pruner.rungs == [1, 3]
    assert pruner.hold is not None and pruner.hopeless.warmup == 2
    assert isinstance(make_pruner(StudySpec(epochs=EPOCHS)), FidelityPruner)  # the default
    study = _fidelity_study(MONOTONE)
    study.pruner = pruner
    late = MultiStep(milestones=(0.5, 0.75), gamma=0.1)  # at its peak LR at epoch 3 of 9
    assert not _running(study, {1: SLOW, 2: SLOW, 3: SLOW}, schedule=late)
    assert _running(study, {1: SLOW, 2: SLOW, 3: SLOW}, schedule=Constant())
    assert _running(study, {1: SLOW, 2: SLOW, 3: SLOW})  # no schedule recorded: judged
    assert _running(study, {1: SLOW, 2: 0.0, 3: 0.0}, schedule=late)  # hopeless all the same


@pytest.mark.parametrize(("epochs", "warmup"), [(8, 2), (3, 1), (25, 6)])
def test_make_pruner_hopeless(epochs: int, warmup: int) -> None:
    pruner = make_pruner(StudySpec(epochs=epochs, pruner="hopeless"))
    assert type(pruner) is HopelessPruner
    assert (pruner.warmup, pruner.share) == (warmup, 0.5)
