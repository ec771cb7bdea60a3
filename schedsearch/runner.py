"""Run a whole study on this machine: ``schedsearch run``.

One process by default: the dataset is loaded once and every trial reuses it. ``jobs=N`` starts
N trial processes on the same database, each with its share of the trials (so the study ends
with exactly ``n_trials``) and its own sampler seed.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import optuna
import torch
from tqdm import tqdm

from schedsearch.data import load_dataset
from schedsearch.objective import Objective
from schedsearch.results import state_counts
from schedsearch.spec import StudySpec
from schedsearch.store import optuna_storage
from schedsearch.strategy import make_pruner, make_sampler
from schedsearch.train import resolve_device

FINISHED = (
    optuna.trial.TrialState.COMPLETE,
    optuna.trial.TrialState.PRUNED,
    optuna.trial.TrialState.FAIL,
)


class StudyExists(ValueError):
    pass


def default_name(spec: StudySpec) -> str:
    return f"{spec.dataset.split(':')[0]}-{spec.model}-{datetime.now(UTC):%Y%m%d-%H%M%S}"


def create_study(spec: StudySpec, url: str | None) -> optuna.Study:
    """A new study holding its spec; refuses a name that exists."""
    storage = optuna_storage(url)
    name = spec.name or default_name(spec)
    if name in {s.study_name for s in optuna.get_all_study_summaries(storage)}:
        raise StudyExists(f"a study named {name!r} exists already (choose another --name)")
    study = optuna.create_study(storage=storage, study_name=name, direction="maximize")
    study.set_user_attr("spec", spec.model_copy(update={"name": name}).model_dump(mode="json"))
    return study


def optimize_share(
    spec_json: str,
    url: str | None,
    n_trials: int,
    worker: int,
    device: str,
    threads: int,
    callbacks: Sequence[Callable] = (),
) -> None:
    """One process's part of a study: load the data once, run ``n_trials`` trials."""
    torch.set_num_threads(threads)
    spec = StudySpec.model_validate_json(spec_json)
    study = optuna.load_study(
        study_name=spec.name,
        storage=optuna_storage(url),
        sampler=make_sampler(spec, worker),
        pruner=make_pruner(spec),
    )
    data = load_dataset(spec.dataset, resolve_device(device), spec.seed)
    study.optimize(Objective(spec, data), n_trials=n_trials, callbacks=list(callbacks))


def _refresh(bar: tqdm, study: optuna.Study) -> None:
    counts = state_counts(study)
    best = max(
        (t.value for t in study.get_trials(deepcopy=False, states=FINISHED[:1])), default=None
    )
    bar.n = counts["complete"] + counts["pruned"] + counts["failed"]
    bar.set_postfix(pruned=counts["pruned"], best="-" if best is None else f"{best:.4f}")
    bar.refresh()


def run_study(
    spec: StudySpec,
    url: str | None = None,
    jobs: int = 1,
    device: str = "auto",
    threads: int = 1,
    progress: bool = True,
) -> optuna.Study:
    """Create the study and run all its trials here; returns the finished study."""
    load_dataset(spec.dataset, resolve_device(device), spec.seed)  # fail fast, before the study
    study = create_study(spec, url)
    spec_json = spec.model_copy(update={"name": study.study_name}).model_dump_json()
    bar = tqdm(total=spec.n_trials, desc=study.study_name, unit="trial", disable=not progress)
    if jobs == 1:
        optimize_share(
            spec_json,
            url,
            spec.n_trials,
            0,
            device,
            threads,
            callbacks=[lambda s, _: _refresh(bar, s)],
        )
    else:
        context = multiprocessing.get_context("spawn")
        shares = [spec.n_trials // jobs + (i < spec.n_trials % jobs) for i in range(jobs)]
        workers = [
            context.Process(target=optimize_share, args=(spec_json, url, n, i, device, threads))
            for i, n in enumerate(shares)
            if n
        ]
        for worker in workers:
            worker.start()
        while any(w.is_alive() for w in workers):
            _refresh(bar, study)
            time.sleep(0.5)
        failed = [w.exitcode for w in workers if w.exitcode]
        if failed:
            raise RuntimeError(f"{len(failed)} trial process(es) failed (exit codes {failed})")
    _refresh(bar, study)
    bar.close()
    return study
