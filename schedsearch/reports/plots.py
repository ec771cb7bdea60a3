"""A study as pictures (PNG): optimisation history, LR curves of the top trials, learning curves,
which parameters mattered, and an LR range test's loss curve. Used by the status page, the API
and ``schedsearch report``.

Matplotlib's object API with the Agg canvas only (no pyplot state), so renders are safe in the
API's worker threads.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

import optuna

from schedsearch.core.curves import lr_curve
from schedsearch.core.range_test import RangeTest
from schedsearch.core.records import TrialRecord
from schedsearch.core.spec import StudySpec

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

PlotKind = Literal["history", "lr", "curves", "importance"]
KINDS: tuple[PlotKind, ...] = ("history", "lr", "curves", "importance")
TOP = 5
States = optuna.trial.TrialState


def _figure() -> tuple[Figure, Axes]:
    from matplotlib.figure import Figure  # only when drawing: the API starts without it

    figure = Figure(figsize=(7.0, 4.0), dpi=100, layout="constrained")
    return figure, figure.add_subplot()


def _finished(trials: list[optuna.trial.FrozenTrial]) -> list[optuna.trial.FrozenTrial]:
    return [t for t in trials if t.state in (States.COMPLETE, States.PRUNED)]


def _value(trial: optuna.trial.FrozenTrial) -> float:
    """A complete trial's value (Optuna types it optional for the other states)."""
    assert trial.value is not None, "a complete trial has its value"
    return trial.value


def _top(
    trials: list[optuna.trial.FrozenTrial], spec: StudySpec, k: int = TOP
) -> list[optuna.trial.FrozenTrial]:
    """The ``k`` best complete trials in the study's direction (ties: the earlier first)."""
    sign = -1.0 if spec.maximizes() else 1.0
    complete = [t for t in trials if t.state == States.COMPLETE and t.value is not None]
    return sorted(complete, key=lambda t: (sign * _value(t), t.number))[:k]


def history(trials: list[optuna.trial.FrozenTrial], spec: StudySpec, ax: Axes) -> None:
    """Each trial's value by trial number, pruned trials at their last report, and the best."""
    complete = [t for t in trials if t.state == States.COMPLETE]
    pruned = [t for t in trials if t.state == States.PRUNED and t.intermediate_values]
    ax.scatter(
        [t.number for t in complete],
        [_value(t) for t in complete],
        s=18,
        label="complete",
        color="tab:blue",
    )
    ax.scatter(
        [t.number for t in pruned],
        [list(t.intermediate_values.values())[-1] for t in pruned],
        s=18,
        marker="x",
        label="pruned (last report)",
        color="tab:gray",
    )
    best, xs, ys = -math.inf if spec.maximizes() else math.inf, [], []
    for trial in sorted(complete, key=lambda t: t.number):
        if spec.better(_value(trial), best):
            best = _value(trial)
        xs.append(trial.number)
        ys.append(best)
    ax.step(xs, ys, where="post", color="tab:red", label="best so far")
    ax.set(title="Optimisation history", xlabel="trial", ylabel=_label(spec))


def lr_curves(trials: list[optuna.trial.FrozenTrial], spec: StudySpec, ax: Axes) -> None:
    """The LR over the run of the best trials' schedules."""
    steps = 500
    for trial in _top(trials, spec):
        record = TrialRecord.of(trial.user_attrs)
        schedule = record.config()
        curve = lr_curve(schedule, steps, record.base_lr or 1.0)
        ax.plot(
            [spec.epochs * i / steps for i in range(steps)],
            curve,
            label=f"#{trial.number} {schedule.family} ({trial.value:.3f})",
        )
    ax.set(title=f"LR schedules of the top {TOP} trials", xlabel="epoch", ylabel="learning rate")


def learning_curves(trials: list[optuna.trial.FrozenTrial], spec: StudySpec, ax: Axes) -> None:
    """The metric per epoch; pruned trials dashed, the best one bold."""
    top = _top(trials, spec, 1)
    best = top[0].number if top else None
    for trial in _finished(trials):
        if not trial.intermediate_values:
            continue
        epochs, values = zip(*sorted(trial.intermediate_values.items()), strict=True)
        if trial.number == best:
            ax.plot(epochs, values, color="tab:red", linewidth=2.5, label=f"best #{best}", zorder=3)
        elif trial.state == States.PRUNED:
            ax.plot(epochs, values, color="tab:gray", linestyle="--", linewidth=0.8, alpha=0.6)
        else:
            ax.plot(epochs, values, color="tab:blue", linewidth=0.8, alpha=0.6)
    ax.plot([], [], color="tab:gray", linestyle="--", label="pruned")
    ax.set(title="Learning curves", xlabel="epoch", ylabel=_label(spec))


def importance(trials: list[optuna.trial.FrozenTrial], spec: StudySpec, ax: Axes) -> None:
    """fANOVA importances of the best family's parameters, over that family's trials."""
    top = _top(trials, spec, 1)
    family = TrialRecord.of(top[0].user_attrs).family if top else None
    same = [
        t
        for t in trials
        if t.state == States.COMPLETE and TrialRecord.of(t.user_attrs).family == family
    ]
    names = sorted({p for t in same for p in t.params if p != "family"})
    if len(same) < 3 or not names:
        ax.text(
            0.5,
            0.5,
            "not enough completed trials of one family yet",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
        ax.set_axis_off()
        return
    study = optuna.create_study(direction=spec.direction)
    study.add_trials([t for t in same if set(names) <= set(t.params)])
    scores = optuna.importance.get_param_importances(study, params=names)
    labels = list(scores)[::-1]
    ax.barh(labels, [scores[name] for name in labels], color="tab:green")
    ax.set(title=f"Parameter importance ({family}, {len(same)} trials)", xlabel="importance")


def _label(spec: StudySpec) -> str:
    """The y axis: the built-in trainer's metric in words, an external one by its name."""
    return "validation accuracy" if spec.metric == "val_accuracy" else spec.metric


DRAW: dict[str, Callable[[list[optuna.trial.FrozenTrial], StudySpec, Axes], None]] = {
    "history": history,
    "lr": lr_curves,
    "curves": learning_curves,
    "importance": importance,
}


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def range_test_png(result: RangeTest) -> bytes:
    """An LR range test as PNG: the smoothed loss against the LR (log axis), the suggestion
    marked, so a user sees whether the curve had a clear descent to read."""
    figure, ax = _figure()
    ax.plot(result.lrs, result.losses, color="tab:blue", label="smoothed training loss")
    ax.set_xscale("log")
    ax.axvline(
        result.suggestion,
        color="tab:red",
        linestyle="--",
        label=f"suggested LR {result.suggestion:.3g}",
    )
    if result.suggestion in result.lrs:  # the fallback (min / 10) may lie off the curve
        at = result.lrs.index(result.suggestion)
        ax.plot([result.suggestion], [result.losses[at]], "o", color="tab:red")
    ended = "stopped early: divergence" if result.stopped else "full sweep"
    ax.set(
        title=f"LR range test ({result.steps} steps, {result.epochs:.2g} epochs, {ended})",
        xlabel="learning rate",
        ylabel="loss",
    )
    ax.legend(fontsize=7, loc="best")
    ax.grid(alpha=0.3)
    return _png(figure)


def render(kind: PlotKind, trials: list[optuna.trial.FrozenTrial], spec: StudySpec) -> bytes:
    """One plot as PNG bytes."""
    figure, ax = _figure()
    if not _finished(trials):
        ax.text(0.5, 0.5, "no finished trial yet", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
    else:
        DRAW[kind](trials, spec, ax)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7, loc="best")
        ax.grid(alpha=0.3)
    return _png(figure)
