"""Answers read from a study's trials: counts by state and the best schedule config."""

from __future__ import annotations

from typing import Any

import optuna

from schedsearch.schedules import parse_schedule, to_code
from schedsearch.spec import StudySpec

TrialState = optuna.trial.TrialState


def state_counts(study: optuna.Study) -> dict[str, int]:
    counts = dict.fromkeys(("complete", "pruned", "running", "failed", "waiting"), 0)
    names = {TrialState.FAIL: "failed"}
    for trial in study.get_trials(deepcopy=False):
        counts[names.get(trial.state, trial.state.name.lower())] += 1
    return counts


def best_config(study: optuna.Study, spec: StudySpec) -> dict[str, Any] | None:
    """The best finished trial as a rebuildable config and a code snippet; None before any."""
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not complete:
        return None
    best = max(complete, key=lambda t: (t.value, -t.number))
    schedule = parse_schedule(best.user_attrs["schedule"])
    base_lr = best.user_attrs["base_lr"]
    return {
        "value": best.value,
        "trial_number": best.number,
        "schedule": {"family": schedule.family, "params": schedule.params()},
        "base_lr": base_lr,
        "optimizer": {
            "name": spec.optimizer,
            "weight_decay": spec.weight_decay,
            **({"momentum": 0.9, "nesterov": True} if spec.optimizer == "sgd" else {}),
        },
        "epochs": spec.epochs,
        "batch_size": spec.batch_size,
        "code": to_code(schedule, base_lr=base_lr, optimizer=spec.optimizer),
    }


def format_best(best: dict[str, Any]) -> str:
    """The best config as a person reads it on a terminal."""
    params = ", ".join(
        f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
        for k, v in best["schedule"]["params"].items()
    )
    return (
        f"best: trial {best['trial_number']}, val_accuracy {best['value']:.4f}\n"
        f"schedule: {best['schedule']['family']} ({params})\n"
        f"base LR {best['base_lr']:.4g} with {best['optimizer']['name']}, found at "
        f"{best['epochs']} epochs\n\n{best['code']}"
    )
