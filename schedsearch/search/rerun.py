"""Trust in the winner: the top-k configs trained again with fresh seeds, mean and spread.

The best of many noisy trials is partly a lucky seed. With ``rerun_top_k`` set, a study that has
run its ``n_trials`` goes on to a re-run phase: a study of its own (``parent_id`` is the search
study), whose trials are the k best configs, each queued once per fresh seed, never pruned. It
uses every part of a search (slots, heartbeats, retries of dead workers' trials), and the search
study completes when its re-run phase is over. The best config is then the one with the best
mean over the fresh seeds.
"""

from __future__ import annotations

import hashlib
import logging
import statistics
from typing import Any

import optuna

from schedsearch.core.records import TrialRecord
from schedsearch.store import Enqueued, Store, StudyExists, StudyInfo

log = logging.getLogger("schedsearch.rerun")


def fresh_seeds(seed: int, count: int) -> list[int]:
    """``count`` training seeds derived from the study seed, none equal to it."""
    seeds: list[int] = []
    index = 0
    while len(seeds) < count:
        digest = hashlib.sha256(f"rerun/{seed}/{index}".encode()).digest()
        candidate = int.from_bytes(digest[:4], "little") % (2**31 - 1)
        if candidate != seed and candidate not in seeds:
            seeds.append(candidate)
        index += 1
    return seeds


def start(store: Store, study: StudyInfo) -> bool:
    """Queue the top-k complete trials once per fresh seed; False when there is none to run."""
    spec = study.spec
    top = sorted(
        store.trials.optuna_study(study).get_trials(
            deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)
        ),
        key=lambda t: t.value,  # type: ignore[arg-type, return-value]
        reverse=True,
    )[: spec.rerun_top_k]
    if not top:
        return False
    seeds = fresh_seeds(spec.seed, spec.rerun_seeds)
    phase = spec.model_copy(
        update={
            "name": f"{study.name[:80]}.rerun-{study.id}",
            "n_trials": len(top) * len(seeds),
            "pruner": "none",
            "warm_start": False,
            "rerun_top_k": 0,
        }
    )
    queued = [
        Enqueued(t.params, TrialRecord(rerun_of=t.number, seed=seed, search_value=t.value).attrs())
        for t in top
        for seed in seeds
    ]
    try:
        store.studies.create(phase, queued, parent_id=study.id)
    except StudyExists:  # another worker started it first; or a stranger holds the name
        if not store.studies.children(study.id):
            log.error("study=%s: the name %s is taken; no re-run", study.name, phase.name)
            return False
    return True


def _phase(store: Store, study: StudyInfo) -> StudyInfo | None:
    """The study's re-run phase, once begun."""
    phases = store.studies.children(study.id) if study.spec.rerun_top_k else []
    return phases[0] if phases else None


def progress(store: Store, study: StudyInfo) -> dict[str, Any] | None:
    """Status and trials finished of the study's re-run phase; None before it begins."""
    phase = _phase(store, study)
    if phase is None:
        return None
    finished = store.trials.counts(phase)["finished"]
    return {"status": phase.status, "finished": finished, "n_trials": phase.n_trials}


def summary(store: Store, study: StudyInfo) -> dict[str, Any] | None:
    """The re-run phase's progress, and per re-run config its search value and the fresh
    seeds' values, mean and spread (best mean first); None before the phase begins."""
    phase = _phase(store, study)
    if phase is None:
        return None
    runs: dict[int, list[tuple[float, TrialRecord]]] = {}
    for trial in store.trials.all(phase):
        record = TrialRecord.of(trial.user_attrs)
        assert record.rerun_of is not None, "every re-run trial is queued with its origin"
        done = runs.setdefault(record.rerun_of, [])
        if trial.state == optuna.trial.TrialState.COMPLETE and trial.value is not None:
            done.append((trial.value, record))
    candidates = [_candidate(number, trials) for number, trials in runs.items()]
    candidates.sort(key=lambda c: -1.0 if c["mean"] is None else c["mean"], reverse=True)
    finished = store.trials.counts(phase)["finished"]
    return {
        "status": phase.status,
        "seeds": study.spec.rerun_seeds,
        "finished": finished,
        "n_trials": phase.n_trials,
        "candidates": candidates,
    }


def _candidate(number: int, runs: list[tuple[float, TrialRecord]]) -> dict[str, Any]:
    values = [value for value, _ in runs]
    tests = [r.test_accuracy for _, r in runs if r.test_accuracy is not None]
    first = runs[0][1] if runs else TrialRecord()
    return {
        "trial_number": number,
        "search_value": first.search_value,
        "values": values,
        "mean": statistics.fmean(values) if values else None,
        "std": statistics.stdev(values) if len(values) > 1 else None,
        "test_mean": statistics.fmean(tests) if tests else None,
        "schedule": first.schedule,
        "base_lr": first.base_lr,
    }
