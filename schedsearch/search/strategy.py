"""The spec's search strategy as Optuna objects: sampler and pruner.

Optuna stores neither, so every worker rebuilds them from the spec. Samplers get a per-worker
seed derived from the study seed: workers with one seed would propose identical trials.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import optuna
from optuna.trial import FrozenTrial

from schedsearch.core.space import SearchSpace
from schedsearch.core.spec import StudySpec
from schedsearch.search.plan import Plan
from schedsearch.search.prior import PriorSampler, best_trial, folklore_prior
from schedsearch.search.pruners import (
    DecayAwarePruner,
    FidelityPruner,
    HopelessPruner,
    PeersOf,
    listed,
)
from schedsearch.search.tpe import SnapshotTPESampler
from schedsearch.store import Store, StudyInfo
from schedsearch.store.database import quiet_experimental


def worker_seed(study_seed: int, worker: int) -> int:
    """A distinct, reproducible seed per worker (worker 0 keeps the study seed)."""
    if worker == 0:
        return study_seed
    digest = hashlib.sha256(f"{study_seed}/{worker}".encode()).digest()
    return int.from_bytes(digest[:4], "little")


def make_sampler(
    spec: StudySpec,
    worker: int = 0,
    space: SearchSpace | None = None,
    lr_centre: float | None = None,
    finished: Callable[[optuna.Study], int] | None = None,
    incumbent: Callable[[optuna.Study], FrozenTrial | None] = best_trial,
) -> optuna.samplers.BaseSampler:
    """TPE (or random), under the folklore prior when the spec asks for it. ``space``: the
    space the trials sample (the range test may have centred its base LR on ``lr_centre``);
    ``finished`` and ``incumbent``: how the prior counts the finished trials and finds the
    best one (``store.peers.finished`` and ``.best``)."""
    base = _base_sampler(spec, worker)
    if not spec.prior:
        return base
    try:
        draw = folklore_prior(space or spec.search_space(), lr_centre, spec.optimizer)
    except ValueError:  # no recipe's family is searched: the prior has nothing to say
        return base
    return PriorSampler(base, draw, seed=spec.seed, finished=finished, incumbent=incumbent)


def study_handle(store: Store, study: StudyInfo, worker: int, plan: Plan) -> optuna.Study:
    """The study as this process samples and prunes it: the spec's sampler (with the worker's
    seed, over the plan's space) and pruner, both reading the study through ``store.peers``
    where they only need trial values (a list through Optuna re-reads every running trial)."""
    peers = store.peers
    sampler = make_sampler(
        study.spec, worker, plan.space, plan.lr_centre, peers.finished, peers.best
    )
    pruner = make_pruner(study.spec, peers.of)
    return store.trials.optuna_study(study, sampler=sampler, pruner=pruner)


def _base_sampler(spec: StudySpec, worker: int) -> optuna.samplers.BaseSampler:
    seed = worker_seed(spec.seed, worker)
    if spec.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    with quiet_experimental():  # group and constant_liar are "experimental"
        return SnapshotTPESampler(
            seed=seed,
            multivariate=True,
            group=True,
            constant_liar=True,
            n_startup_trials=min(10, max(3, spec.n_trials // 3)),
        )


def make_pruner(spec: StudySpec, peers: PeersOf = listed) -> optuna.pruners.BasePruner:
    """Reports are per epoch (step = epochs done), so the resource is epochs. ``peers``: how
    the schedule pruners read the study's trials (``store.peers``, or Optuna's list)."""
    if spec.pruner == "auto":  # the budget policy: see FidelityPruner
        decay = DecayAwarePruner(optuna.pruners.NopPruner(), spec.epochs)
        return FidelityPruner(spec.epochs, hold=decay.peak_ahead_of_decay, peers=peers)
    if spec.pruner == "hopeless":
        return HopelessPruner.for_run(spec.epochs, peers)
    if spec.pruner in ("hyperband", "decay_aware"):
        hyperband = optuna.pruners.HyperbandPruner(
            min_resource=1, max_resource=spec.epochs, reduction_factor=3
        )
        if spec.pruner == "decay_aware":
            return DecayAwarePruner(hyperband, spec.epochs)
        return hyperband
    if spec.pruner == "successive_halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)
    if spec.pruner == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1)
    return optuna.pruners.NopPruner()
