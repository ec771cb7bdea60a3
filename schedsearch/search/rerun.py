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

from schedsearch.core.folklore import recipe_of
from schedsearch.core.records import TrialRecord
from schedsearch.core.schedules import parse_schedule
from schedsearch.core.spec import StudySpec
from schedsearch.search.plan import centred_range
from schedsearch.store import Enqueued, Store, StudyExists, StudyInfo

log = logging.getLogger("schedsearch.rerun")


SALT = "schedsearch.rerun"  # a benchmark that derives its own seeds from a study seed never
# meets these: theirs are salted differently (bench/search_quality.py)


def fresh_seeds(seed: int, count: int) -> list[int]:
    """``count`` training seeds derived from the study seed (salted), none equal to it."""
    seeds: list[int] = []
    index = 0
    while len(seeds) < count:
        digest = hashlib.sha256(f"{SALT}/{seed}/{index}".encode()).digest()
        candidate = int.from_bytes(digest[:4], "little") % (2**31 - 1)
        if candidate != seed and candidate not in seeds:
            seeds.append(candidate)
        index += 1
    return seeds


def start(store: Store, study: StudyInfo) -> bool:
    """Queue the top-k complete trials and one more (see below) once per fresh seed; False
    when there is none to run."""
    spec = study.spec
    ranked = sorted(
        store.trials.optuna_study(study).get_trials(
            deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)
        ),
        key=lambda t: t.value,  # type: ignore[arg-type, return-value]
        reverse=spec.maximizes(),  # best first, in the study's direction
    )
    top = ranked[: spec.rerun_top_k]
    if not top:
        return False
    # One more config, as the budget reserved: the best folklore recipe when the top k hold
    # none (the lift's baseline), else the next best.
    rest = ranked[len(top) :]
    if not any(map(_recipe, top)):
        rest = [t for t in rest if _recipe(t)]
    top += rest[:1]
    seeds = fresh_seeds(spec.seed, spec.rerun_seeds)
    space = dict(spec.space)
    test = store.range_tests.result(study.id)
    if test is not None and spec.centres_lr():
        space["base_lr"] = centred_range(test.suggestion)
    phase = spec.model_copy(
        update={
            "name": f"{study.name[:80]}.rerun-{study.id}",
            "n_trials": len(top) * len(seeds),
            "pruner": "none",
            "warm_start": False,
            "rerun_top_k": 0,
            "lr_range_test": False,
            "prior": False,
            "budget_epochs": None,
            "space": space,
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


def _recipe(trial: optuna.trial.FrozenTrial) -> str | None:
    """The folklore recipe a trial ran, if it ran one."""
    schedule = TrialRecord.of(trial.user_attrs).schedule
    return None if schedule is None else recipe_of(parse_schedule(schedule))


def phase_of(store: Store, study: StudyInfo) -> StudyInfo | None:
    """The study's re-run phase, once begun."""
    phases = store.studies.children(study.id) if study.spec.rerun_top_k else []
    return phases[0] if phases else None


def progress(store: Store, phase: StudyInfo | None) -> dict[str, Any] | None:
    """Status and trials finished of a re-run phase (``phase_of``); None before it begins."""
    if phase is None:
        return None
    finished = store.trials.counts(phase)["finished"]
    return {"status": phase.status, "finished": finished, "n_trials": phase.n_trials}


def summary(store: Store, study: StudyInfo) -> dict[str, Any] | None:
    """The re-run phase's progress, and per re-run config its search value and the fresh
    seeds' values, mean and spread (best mean first); None before the phase begins."""
    phase = phase_of(store, study)
    if phase is None:
        return None
    runs: dict[int, list[tuple[float, TrialRecord]]] = {}
    for trial in store.trials.all(phase):
        record = TrialRecord.of(trial.user_attrs)
        assert record.rerun_of is not None, "every re-run trial is queued with its origin"
        done = runs.setdefault(record.rerun_of, [])
        if trial.state == optuna.trial.TrialState.COMPLETE and trial.value is not None:
            done.append((trial.value, record))
    candidates = rank([_candidate(number, trials) for number, trials in runs.items()], study.spec)
    finished = store.trials.counts(phase)["finished"]
    return {
        "status": phase.status,
        "seeds": study.spec.rerun_seeds,
        "finished": finished,
        "n_trials": phase.n_trials,
        "candidates": candidates,
        "lift": lift(candidates, study.spec.maximizes()),
    }


def rank(candidates: list[dict[str, Any]], spec: StudySpec) -> list[dict[str, Any]]:
    """Best mean first in the study's direction; candidates without a mean yet last."""
    sign = 1.0 if spec.maximizes() else -1.0
    return sorted(
        candidates,
        key=lambda c: (c["mean"] is None, 0.0 if c["mean"] is None else -sign * c["mean"]),
    )


def lift(candidates: list[dict[str, Any]], maximize: bool = True) -> dict[str, Any] | None:
    """How much the pick beats the best folklore recipe the study ran: both means over the
    same fresh seeds, never over the search's own scores, which flatter the winner by being
    the best of many noisy ones. Positive is better in the study's direction (``maximize``:
    pick - recipe; else recipe - pick). ``candidates``: ranked (``rank``). None until both
    have a mean."""
    sign = 1.0 if maximize else -1.0
    done = [c for c in candidates if c["mean"] is not None]
    folklore = [c for c in done if c["recipe"] is not None]
    if not done or not folklore:
        return None
    pick, recipe = done[0], folklore[0]
    theirs = dict(zip(recipe["seeds"], recipe["values"], strict=True))
    paired = [
        sign * (v - theirs[seed])
        for seed, v in zip(pick["seeds"], pick["values"], strict=True)
        if seed in theirs
    ]
    return {
        "recipe": recipe["recipe"],
        "recipe_trial_number": recipe["trial_number"],
        "recipe_base_lr": recipe["base_lr"],
        "recipe_mean": recipe["mean"],
        "value": sign * (pick["mean"] - recipe["mean"]),
        "std": statistics.stdev(paired) if len(paired) > 1 else None,
        "runs": len(paired),
    }


def _candidate(number: int, runs: list[tuple[float, TrialRecord]]) -> dict[str, Any]:
    values = [value for value, _ in runs]
    tests = [r.test_accuracy for _, r in runs if r.test_accuracy is not None]
    first = runs[0][1] if runs else TrialRecord()
    recipe = None if first.schedule is None else recipe_of(parse_schedule(first.schedule))
    return {
        "trial_number": number,
        "search_value": first.search_value,
        "values": values,
        "seeds": [record.seed for _, record in runs],
        "mean": statistics.fmean(values) if values else None,
        "std": statistics.stdev(values) if len(values) > 1 else None,
        "test_mean": statistics.fmean(tests) if tests else None,
        "schedule": first.schedule,
        "base_lr": first.base_lr,
        "recipe": recipe,
    }
