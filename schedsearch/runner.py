"""Run a whole study on this machine: ``schedsearch run``.

The same parts as a distributed deployment, in one command: the study is stored, then served
by workers on this machine (the calling process for ``jobs=1``, so the dataset loads once; N
processes for ``jobs=N``, each with its own sampler seed). The slot counter keeps the study at
exactly ``n_trials`` however the trials are spread.
"""

from __future__ import annotations

import secrets
import threading
from datetime import UTC, datetime

from tqdm import tqdm

from schedsearch.data import load_dataset
from schedsearch.fleet import run_fleet
from schedsearch.spec import StudySpec
from schedsearch.store import Store, StudyInfo
from schedsearch.strategy import warm_start_trials
from schedsearch.train import resolve_device
from schedsearch.worker import Worker, WorkerOptions

HEARTBEAT = {"heartbeat_interval": 30, "grace_period": 120}


def default_name(spec: StudySpec) -> str:
    """Readable and unique enough for studies submitted in the same second."""
    stamp = f"{datetime.now(UTC):%Y%m%d-%H%M%S}"
    return f"{spec.dataset.split(':')[0]}-{spec.model}-{stamp}-{secrets.token_hex(2)}"


def submit(store: Store, spec: StudySpec) -> StudyInfo:
    """Store the study under its name (generated when absent), warm-start trials first."""
    spec = spec.model_copy(update={"name": spec.name or default_name(spec)})
    return store.create_study(spec, warm_start_trials(spec))


def _show_progress(store: Store, study: StudyInfo, bar: tqdm, done: threading.Event) -> None:
    while True:
        snap = store.snapshot(study.id)
        best = snap.best_value
        bar.n = snap.counts["finished"]
        bar.set_postfix(pruned=snap.counts["pruned"], best="-" if best is None else f"{best:.4f}")
        bar.refresh()
        if done.wait(0.5):
            return


def run_study(
    spec: StudySpec,
    url: str | None = None,
    jobs: int = 1,
    device: str = "auto",
    threads: int = 1,
    progress: bool = True,
) -> StudyInfo:
    """Store the study and serve all its trials here; returns it once it is over."""
    load_dataset(spec.dataset, resolve_device(device), spec.seed)  # fail fast, before the study
    store = Store(url, **HEARTBEAT)
    study = submit(store, spec)
    bar = tqdm(total=study.n_trials, desc=study.name, unit="trial", disable=not progress)
    done = threading.Event()
    watcher = threading.Thread(target=_show_progress, args=(store, study, bar, done), daemon=True)
    watcher.start()
    options = WorkerOptions(study=study.name, device=device, threads=threads, seed_index=0)
    try:
        if jobs == 1:
            Worker(store, options).run()
        else:
            codes = run_fleet(url, HEARTBEAT, options, [device], per_device=jobs)
            if any(codes):
                raise RuntimeError(f"worker processes failed: exit codes {codes}")
    finally:
        done.set()
        watcher.join()
        bar.close()
    return store.get(study.id)
