"""Answers read from a study: its status and its best schedule config (CLI and API)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from schedsearch.rerun import rerun_progress, rerun_summary
from schedsearch.schedules import ScheduleBase, parse_schedule, to_code
from schedsearch.spec import StudySpec
from schedsearch.store import TERMINAL, Store, StudyInfo


def study_status(store: Store, key: int | str) -> dict[str, Any]:
    """Progress, counts, best value, elapsed time, ETA and live workers of one study."""
    snap = store.snapshot(key)
    study, counts = snap.study, dict(snap.counts)
    finished = counts.pop("finished")
    end = study.updated_at if study.status in TERMINAL else datetime.now(UTC)
    remaining = study.n_trials - finished
    eta = 0.0 if study.status == "completed" else None
    if study.status in ("queued", "running") and remaining > 0 and snap.durations:
        # mean trial time x trials left, spread over the live workers
        mean = sum(snap.durations) / len(snap.durations)
        eta = remaining * mean / max(1, snap.live_workers)
    return {
        "id": study.id,
        "name": study.name,
        "status": study.status,
        "n_trials": study.n_trials,
        "progress": {
            "finished": finished,
            "n_trials": study.n_trials,
            "fraction": round(finished / study.n_trials, 4),
        },
        "trials": counts,
        "best_value": snap.best_value,
        "created_at": study.created_at,
        "updated_at": study.updated_at,
        "elapsed_seconds": round((end - study.created_at).total_seconds(), 3),
        "eta_seconds": None if eta is None else round(eta, 1),
        "live_workers": snap.live_workers,
        "error": study.error,
        "rerun": rerun_progress(store, study),
        "spec": study.spec,
    }


def best_config(store: Store, study: StudyInfo) -> dict[str, Any] | None:
    """The best config as JSON that rebuilds it, with a code snippet; None before any trial
    completes. After a re-run phase, the best is the config with the best mean over fresh
    seeds (``value`` is that mean; ``rerun`` has every candidate)."""
    rerun = rerun_summary(store, study)
    rerun_done = [c for c in rerun["candidates"] if c["mean"] is not None] if rerun else []
    if rerun_done:
        top = rerun_done[0]
        value, number, attrs = top["mean"], top["trial_number"], top
    else:
        try:
            best = store.optuna_study(study).best_trial  # one indexed query, not a scan
        except ValueError:
            return None
        value, number, attrs = best.value, best.number, best.user_attrs
    schedule = parse_schedule(attrs["schedule"])
    return _config(study.spec, value, number, schedule, attrs["base_lr"]) | {"rerun": rerun}


def _config(
    spec: StudySpec, value: float, number: int, schedule: ScheduleBase, base_lr: float
) -> dict[str, Any]:
    return {
        "value": value,
        "trial_number": number,
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


def format_params(params: dict[str, Any]) -> str:
    """``name=value`` pairs with floats (and lists of them) at four significant digits."""

    def short(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:.4g}"
        if isinstance(value, list | tuple):
            return "[" + ", ".join(short(v) for v in value) + "]"
        return str(value)

    return ", ".join(f"{name}={short(value)}" for name, value in params.items())


def format_best(best: dict[str, Any]) -> str:
    """The best config as a person reads it on a terminal."""
    return (
        f"best: trial {best['trial_number']}, val_accuracy {best['value']:.4f}"
        f"{_rerun_line(best.get('rerun'))}\n"
        f"schedule: {best['schedule']['family']} ({format_params(best['schedule']['params'])})\n"
        f"base LR {best['base_lr']:.4g} with {best['optimizer']['name']}, found at "
        f"{best['epochs']} epochs\n\n{best['code']}"
    )


def _rerun_line(rerun: dict[str, Any] | None) -> str:
    """`` (mean of 3 fresh seeds, +- 0.0042; search value 0.9861)``, once re-run."""
    top = rerun["candidates"][0] if rerun and rerun["candidates"] else None
    if top is None or top["mean"] is None:
        return ""
    spread = "" if top["std"] is None else f", +- {top['std']:.4f}"
    return (
        f" (mean of {len(top['values'])} fresh seeds{spread}; "
        f"search value {top['search_value']:.4f})"
    )
