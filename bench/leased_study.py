"""An external study prefilled with finished trials shaped like leased ones, for
bench/lease_load.py and bench/lease_profile.py.

Params, distributions and user attributes come from the product's own ``suggest`` and
``TrialRecord`` under its prior (with a random base sampler: 1,000 trials take 2 s, where TPE's
own draws would take 100 s; TPE's relative-params system attribute is therefore missing from
them, which only the first, cached read of each finished trial sees). The learning curves are
synthetic (``curve``). bench/prefill.py writes the trials (read back and checked); each then
gets its lease claimed, bound and settled through the product's store and
``accounting.settle``, so the slot counters, best value and lease rows are as the agents'
finishes would have left them.
"""

from __future__ import annotations

import math
import random
import time
from datetime import UTC, datetime, timedelta

import optuna
from optuna.trial import FrozenTrial, TrialState

from schedsearch.core.records import TrialRecord
from schedsearch.core.space import suggest
from schedsearch.core.spec import StudySpec
from schedsearch.search import accounting
from schedsearch.search.plan import plan_of
from schedsearch.search.pruners import HopelessPruner
from schedsearch.search.strategy import make_sampler
from schedsearch.store import Store, StudyInfo

from prefill import fill, settle

# 10 epochs, n_trials far above what a run adds; the default sampler (TPE + prior), pruner (auto)
SPEC = {"name": "leased", "trainer": "external", "dataset": "my-images", "model": "my-net"}
EPOCHS = 10


def curve(rng: random.Random, epochs: int) -> list[float]:
    """Validation accuracy per epoch: rising to a final level at a speed of its own (so epoch 1
    ranks the finals with Spearman ~0.8, epoch 3 ~0.86: under the auto pruner's 0.9), or, one
    in ten, stalled near 0.1 (a bad LR: the hopeless rule prunes it)."""
    if rng.random() < 0.1:
        return [0.1 + rng.gauss(0, 0.01) for _ in range(epochs)]
    level, speed = rng.uniform(0.6, 0.95), rng.uniform(1.0, 4.0)
    return [
        level * (1 - 0.6 * math.exp(-e / speed)) + rng.gauss(0, 0.02) for e in range(1, epochs + 1)
    ]


def templates(spec: StudySpec, n: int) -> list[FrozenTrial]:
    """``n`` finished trials as the product samples and records them, one agent-second apart."""
    plan = plan_of(spec, None)
    random_spec = spec.model_copy(update={"sampler": "random"})
    sampler = make_sampler(random_spec, 0, plan.space, plan.lr_centre)
    study = optuna.create_study(direction=spec.direction, sampler=sampler)
    rng, warmup = random.Random(0), HopelessPruner.for_run(spec.epochs).warmup
    for _ in range(n):
        trial = study.ask()
        sampled = suggest(trial, plan.space)
        record = TrialRecord(
            schedule=sampled.schedule.model_dump(mode="json"), base_lr=sampled.base_lr
        )
        record.write(trial)
        values = curve(rng, spec.epochs)
        stalled = values[-1] < 0.2
        for epoch, value in enumerate(values[:warmup] if stalled else values, 1):
            trial.report(value, epoch)
        if stalled:
            study.tell(trial, state=TrialState.PRUNED)  # its last report becomes its value
        else:
            study.tell(trial, values[-1])
    start = datetime.now(UTC) - timedelta(seconds=n * spec.epochs)
    trials = study.get_trials()
    for i, trial in enumerate(trials):
        trial.datetime_start = start + timedelta(seconds=i * spec.epochs)
        trial.datetime_complete = trial.datetime_start + timedelta(seconds=trial.last_step or 0)
    return trials


def prefill_study(store: Store, n: int) -> tuple[StudyInfo, str]:
    """The external study with ``n`` finished trials, each behind a settled lease."""
    created = store.studies.create(StudySpec(**SPEC, epochs=EPOCHS, n_trials=100_000))
    study = store.studies.get(created.id)  # the spec as stored, as the server reads it
    started = time.perf_counter()
    filled = fill(store, study, templates(study.spec, n))
    handle = store.trials.optuna_study(study)
    trials = store.optuna.get_all_trials(study.optuna_study_id, deepcopy=False)
    for trial in sorted(trials, key=lambda t: t.number):
        claimed = store.leases.claim(study.id, "prefill", 60, study.spec.epochs)
        assert claimed is not None
        study, lease = claimed
        store.leases.bind(lease.id, trial._trial_id, trial.number)
        accounting.settle(store, study, handle, trial, lease)
    counts = store.trials.counts(study)
    seconds = time.perf_counter() - started
    return study, (
        f"prefilled {n:,} trials in {seconds:.1f} s ({filled.through_optuna} with "
        f"study.add_trials, {filled.in_bulk:,} in bulk, read back and checked; each with its "
        f"lease claimed, bound and settled): {counts['complete']} complete, "
        f"{counts['pruned']} pruned; VACUUM ANALYZE {settle(store):.1f} s"
    )
