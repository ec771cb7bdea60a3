"""Answers read from a study: its status and its best schedule config (CLI and API)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from schedsearch.core.range_test import RangeTest
from schedsearch.core.records import TrialRecord
from schedsearch.core.schedule_free import MOMENTUM, optimizer_class, optimizer_lr
from schedsearch.core.schedules import ScheduleBase, parse_schedule
from schedsearch.core.snippet import to_code
from schedsearch.core.spec import StudySpec
from schedsearch.core.states import StudyStatus
from schedsearch.search import rerun
from schedsearch.search.plan import centred_range
from schedsearch.store import Store, StudyInfo


def study_status(store: Store, key: int | str) -> dict[str, Any]:
    """Progress, counts, best value, elapsed time, ETA and live workers of one study."""
    snap = store.trials.snapshot(key)
    study, counts = snap.study, dict(snap.counts)
    finished = counts.pop("finished")
    end = datetime.now(UTC) if study.status.active else study.updated_at
    remaining = study.n_trials - finished
    eta = 0.0 if study.status == StudyStatus.COMPLETED else None
    if study.status.active and remaining > 0 and snap.durations:
        # mean trial time x trials left, spread over the live workers
        mean = sum(snap.durations) / len(snap.durations)
        eta = remaining * mean / max(1, snap.live_workers)
    phase = rerun.phase_of(store, study)  # read once: its progress and its compute
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
        "metric": study.spec.metric,
        "direction": study.spec.direction,
        "best_value": study.best_value,
        "created_at": study.created_at,
        "updated_at": study.updated_at,
        "elapsed_seconds": round((end - study.created_at).total_seconds(), 3),
        "eta_seconds": None if eta is None else round(eta, 1),
        "live_workers": snap.live_workers,
        "lost_workers": snap.lost_workers,
        "error": study.error,
        "rerun": rerun.progress(store, phase),
        "compute": compute(study, phase),
        "range_test": range_test(store, study),
        "spec": study.spec,
    }


def compute(study: StudyInfo, phase: StudyInfo | None) -> dict[str, Any]:
    """Epochs spent (range test, trials, the re-run ``phase``) and left of the budget."""
    spent = study.spent + (phase.spent if phase is not None else 0.0)
    budget = study.spec.budget_epochs
    return {
        "budget_epochs": budget,
        "spent_epochs": round(spent, 3),
        "left_epochs": None if budget is None else round(budget - spent, 3),
    }


def range_test(store: Store, study: StudyInfo) -> dict[str, Any] | None:
    """The study's LR range test: running, or its suggestion and the range it centred."""
    if not study.spec.centres_lr():
        return None
    claim = store.range_tests.get(study.id)
    if claim is None:
        return None
    if claim.result is None:
        return dict.fromkeys(["suggestion", "base_lr_range", "steps", "epochs", "stopped"]) | {
            "status": "running"
        }
    test = RangeTest.model_validate(claim.result)
    return {
        "status": "done",
        "suggestion": test.suggestion,
        "base_lr_range": centred_range(test.suggestion),
        "steps": test.steps,
        "epochs": test.epochs,
        "stopped": test.stopped,
    }


def best_config(store: Store, study: StudyInfo) -> dict[str, Any] | None:
    """The best config as JSON that rebuilds it, with a code snippet; None before any trial
    completes. Best is in the spec's direction (its Optuna study was created with it). After
    a re-run phase, the best is the config with the best mean over fresh seeds (``value`` is
    that mean, ``runs`` its mean, spread and number of runs; ``lift`` its margin over the best
    folklore recipe on the same seeds; ``rerun`` every candidate)."""
    reruns = rerun.summary(store, study)
    rerun_done = [c for c in reruns["candidates"] if c["mean"] is not None] if reruns else []
    if rerun_done:
        top = rerun_done[0]
        value, number = top["mean"], top["trial_number"]
        schedule, base_lr = parse_schedule(top["schedule"]), top["base_lr"]
        runs = {"mean": top["mean"], "std": top["std"], "n": len(top["values"])}
    else:
        try:
            best = store.trials.optuna_study(study).best_trial  # one query (sorted in SQL)
        except ValueError:
            return None
        record = TrialRecord.of(best.user_attrs)
        value, number, schedule, base_lr = best.value, best.number, record.config(), record.base_lr
        runs = {"mean": value, "std": None, "n": 1}
    lift = reruns["lift"] if reruns else None
    return _config(study.spec, value, number, schedule, base_lr) | {
        "runs": runs,
        "lift": lift,
        "rerun": reruns,
    }


def _config(
    spec: StudySpec, value: float, number: int, schedule: ScheduleBase, base_lr: float
) -> dict[str, Any]:
    return {"value": value, "trial_number": number, **config_of(spec, schedule, base_lr)}


def config_of(spec: StudySpec, schedule: ScheduleBase, base_lr: float) -> dict[str, Any]:
    """What rebuilds a trial's training setup: schedule, base LR, optimizer, length, and a
    PyTorch snippet (a best config, and the trial an external trainer leases)."""
    return {
        "metric": spec.metric,
        "direction": spec.direction,
        "schedule": {"family": schedule.family, "params": schedule.params()},
        "base_lr": base_lr,
        "optimizer": optimizer_of(spec, schedule, base_lr),
        "epochs": spec.epochs,
        "batch_size": spec.batch_size,
        "code": to_code(schedule, base_lr, spec.optimizer, spec.weight_decay),
    }


def optimizer_of(spec: StudySpec, schedule: ScheduleBase, base_lr: float) -> dict[str, Any]:
    """The optimizer the trial trained with: the spec's, or its schedule-free form (its own
    class and LR) for a family that swaps it."""
    sgd = spec.optimizer == "sgd"
    if not schedule.swaps_optimizer:
        momentum = {"momentum": MOMENTUM, "nesterov": True} if sgd else {}
        return {"name": spec.optimizer, "weight_decay": spec.weight_decay, **momentum}
    return {
        "name": spec.optimizer,
        "class": f"schedulefree.{optimizer_class(spec.optimizer)}",
        "lr": optimizer_lr(base_lr, spec.optimizer),
        "weight_decay": spec.weight_decay,
        **({"momentum": MOMENTUM} if sgd else {}),
        "warmup_steps": 0,
    }
