"""The decay-aware pruner against short-horizon bias: which trials it holds back, and a replay
of real learning curves through it and through plain Hyperband (real Optuna pruners)."""

from __future__ import annotations

import optuna

from schedsearch.core.schedules import Constant, Cosine, MultiStep, OneCycle, Plateau, ScheduleBase
from schedsearch.core.spec import StudySpec
from schedsearch.search.pruners import Curve, DecayAwarePruner, replay
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
