"""Run a whole study on this machine: ``schedsearch run``.

The same parts as a distributed deployment, in one command: the study is stored, then served
by workers on this machine (the calling process for ``jobs=1``, so the dataset loads once; N
processes for ``jobs=N``, each with its own sampler seed). The slot counter keeps the study at
exactly ``n_trials`` however the trials are spread.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from tqdm import tqdm

from schedsearch.core.spec import StudySpec
from schedsearch.engine.data import load_dataset
from schedsearch.engine.train import resolve_device
from schedsearch.search.lifecycle import submit
from schedsearch.settings import Settings
from schedsearch.store import DatabaseUnavailable, Store, StudyInfo
from schedsearch.worker.fleet import run_fleet
from schedsearch.worker.logs import log
from schedsearch.worker.loop import Worker, WorkerOptions


def connect(
    url: str, options: dict[str, Any], give_up: float | None = None, longest: float = 30.0
) -> Store:
    """The store, once the database answers: a worker started before its database (under
    compose or Kubernetes) waits with backoff and says so once per attempt; after ``give_up``
    seconds it stops with the last error (None: it waits for ever)."""
    delay, waited = 1.0, 0.0
    while True:
        try:
            return Store(url, **options)
        except DatabaseUnavailable as exc:
            if give_up is not None and waited >= give_up:
                raise
            log.warning("%s; retrying in %.0f s", exc, delay)
            time.sleep(delay)
            waited += delay
            delay = min(2 * delay, longest)


def heartbeat_options(settings: Settings) -> dict[str, Any]:
    """What a worker's store needs for dead-worker recovery."""
    return {
        "heartbeat_interval": settings.heartbeat_interval,
        "grace_period": settings.grace_period,
        "max_retry": settings.max_retry,
    }


def _show_progress(store: Store, study: StudyInfo, bar: tqdm, done: threading.Event) -> None:
    while True:
        snap = store.trials.snapshot(study.id)
        best = snap.study.best_value
        bar.n = snap.counts["finished"]
        bar.set_postfix(pruned=snap.counts["pruned"], best="-" if best is None else f"{best:.4f}")
        bar.refresh()
        if done.wait(0.5):
            return


def run_study(
    spec: StudySpec,
    url: str,
    jobs: int = 1,
    device: str = "auto",
    threads: int = 1,
    progress: bool = True,
    settings: Settings | None = None,
) -> StudyInfo:
    """Store the study and serve all its trials here; returns it once it is over."""
    settings = settings or Settings()
    # fail fast, before the study exists
    load_dataset(spec.dataset, resolve_device(device), spec.seed, root=settings.data_dir)
    store_options = heartbeat_options(settings)
    store = Store(url, **store_options)
    study = submit(store, spec)
    bar = tqdm(total=study.n_trials, desc=study.name, unit="trial", disable=not progress)
    done = threading.Event()
    watcher = threading.Thread(target=_show_progress, args=(store, study, bar, done), daemon=True)
    watcher.start()
    options = WorkerOptions(
        study=study.name, device=device, threads=threads, seed_index=0, data_dir=settings.data_dir
    )
    try:
        if jobs == 1:
            Worker(store, options).run()
        else:
            codes = run_fleet(url, store_options, options, [device], per_device=jobs)
            if any(codes):
                raise RuntimeError(f"worker processes failed: exit codes {codes}")
    finally:
        done.set()
        watcher.join()
        bar.close()
    return store.studies.get(study.id)
