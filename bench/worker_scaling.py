"""Worker scaling and storage time per trial, on PostgreSQL and on SQLite.

Run as ``.venv/bin/python bench/worker_scaling.py [--quick] [--sleep S] [--json PATH]``.

1. **Scaling.** 1, 2, 4 and 8 real worker processes (multiprocessing, spawn) serve one shared
   study on each backend. Each process builds its own ``Store`` (heartbeat 30 s, grace 120 s,
   the CLI worker's defaults) and runs ``Worker(store, WorkerOptions(study=name, poll=0.05,
   seed_index=i)).run()`` with a trivial objective: suggest one float, sleep ``--sleep`` seconds
   (1.0 s by default), report one intermediate value, check ``should_prune``, return the float.
   The study uses the random sampler and no pruner, so neither costs anything that is not
   storage. Each configuration runs 6 trials per worker. The processes import everything and
   build their Store and Worker first, then start together once all are ready, so start-up
   (torch import: seconds on 2 cores) is kept out of the throughput. Throughput is trials / (last
   ``datetime_complete`` - first ``datetime_start``) as the storage recorded them; wall time
   with start-up is shown beside it. Efficiency is throughput_N / (N x throughput_1). Every
   study must end with exactly ``n_trials`` COMPLETE trials and nothing else, or the script
   fails.
2. **Storage time per trial.** In one process, on a study pre-filled with 1,000, then 5,000,
   then 20,000 finished trials, 50 timed iterations (after 3 untimed ones) of the storage operations
   ``Worker._turn`` (schedsearch/worker/loop.py) performs per trial when it serves one study,
   each timed on its own, in its order: ``store.studies.get`` (``_serving``),
   ``store.leases.claim`` (the slot and its lease; it returns the claimed study), then what
   ``_run_trial`` does on the study handle the worker builds (``search.strategy.study_handle``):
   ``study.ask``, the lease bound to the trial when it starts, the objective's
   ``suggest_float``, ``report`` and ``should_prune``, the tell (``search.tell.tell``, from the
   trial the worker holds: no read of it); and last
   ``search.accounting.settle``'s lease end and ``store.slots.finished`` (one UPDATE: the
   refund, the study's best value, and the study as it is then; ``lifecycle.conclude`` follows
   only once ``claimed >= n_trials``). The headline figure is the core sequence claim + ask +
   suggest + report + should_prune + tell; the sum of all of the above is printed beside it.
   Two operations are not per trial and are timed on their own (50 calls after 3 untimed):
   ``search.accounting.reap``, which the worker runs at most once per heartbeat interval
   (30 s) per study, and ``lifecycle.conclude`` (on an unfinished study: one
   ``store.trials.counts`` query), which it runs when a study's slots are all claimed. Then, as
   a check on the sum, 50 calls of ``Worker._turn`` itself with an objective that does no work
   (its first, untimed turn runs ``reap``; the timed ones fall inside the 30 s interval,
   as in production). The first 100 trials go in through ``study.add_trials``; the rest in
   bulk through Optuna's ORM models (bench/prefill.py, which reads every trial back and checks
   it), since ``add_trials`` takes ~12-25 ms per trial on PostgreSQL; then ``VACUUM ANALYZE``,
   as autovacuum would have run by the time a study holds that many trials. It also prints the
   process CPU time and the SQL statements and connection checkouts per trial.

``--quick``: 0.3 s trials, 1/2/4 workers, 100 and 1,000 trials (about 70-90 s on 2 cores).

Goals: scaling efficiency >= 0.95 at 8 workers with 1 s trials on PostgreSQL; storage time per
trial (claim + ask + suggest + report + should_prune + tell) <= 20 ms at 5,000 trials on
PostgreSQL, and at 20,000 trials no more than 2x the figure at 1,000.

The PostgreSQL database (on 127.0.0.1:5432, user postgres, or ``SCHEDSEARCH_TEST_PG``) and the
SQLite file (in a temporary folder) are created fresh and removed at the end, also on failure.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import optuna
import psycopg
import sqlalchemy as sa
from optuna.distributions import FloatDistribution

from schedsearch.core.spec import StudySpec
from schedsearch.core.states import LeaseState
from schedsearch.search import accounting, lifecycle
from schedsearch.search.plan import plan_of
from schedsearch.search.strategy import study_handle
from schedsearch.search.tell import held, tell
from schedsearch.store import Store, StudyInfo
from schedsearch.worker.loop import Worker, WorkerOptions

from common import PG, commit, fresh_pg_database, header, machine
from prefill import fill, settle, trial_count

HEARTBEAT = {"heartbeat_interval": 30, "grace_period": 120}  # `schedsearch worker` defaults
POLL = 0.05
TRIALS_PER_WORKER = 6
WARMUP_ITERATIONS = 3
GOAL_EFFICIENCY = 0.95  # the coordination issue's (0.9 before it)
GOAL_STORAGE_MS = 20.0
GOAL_GROWTH = 2.0  # storage time per trial at 20,000 trials / at 1,000
DISTRIBUTION = FloatDistribution(0.0, 1.0)
T = TypeVar("T")

# Per-trial storage operations, in the order Worker._turn performs them (serving one study).
OPS = (
    "get",
    "claim",
    "ask",
    "bind",
    "suggest_float",
    "report",
    "should_prune",
    "tell",
    "lease_end",
    "finished",
)
CORE = ("claim", "ask", "suggest_float", "report", "should_prune", "tell")  # the goal figure
# Not per trial: reap once per heartbeat interval per study, conclude once a study's slots
# are all claimed. Timed on their own.
AMORTISED = ("reap", "conclude")
LABELS = {
    "get": "store.studies.get (serving)",
    "claim": "store.leases.claim",
    "ask": "study.ask",
    "bind": "store.leases.bind at trial start",
    "suggest_float": "trial.suggest_float",
    "report": "trial.report",
    "should_prune": "trial.should_prune",
    "tell": "search.tell.tell",
    "lease_end": "store.leases.end (settle)",
    "finished": "store.slots.finished (settle)",
    "reap": "search.accounting.reap",
    "conclude": "lifecycle.conclude",
}
AMORTISED_NOTE = {
    "reap": "per heartbeat interval (30 s) per study, not per trial",
    "conclude": "store.trials.counts on an unfinished study: once claimed >= n_trials, "
    "not per trial",
}


@dataclass(frozen=True)
class Settings:
    """What one run measures."""

    quick: bool
    sleep: float
    workers: tuple[int, ...]
    sizes: tuple[int, ...]
    iterations: int


# -- databases ----------------------------------------------------------------------------


@contextmanager
def databases() -> Iterator[dict[str, str]]:
    """A fresh PostgreSQL database (bench/common.py) and a fresh SQLite file; both removed
    afterwards."""
    with fresh_pg_database() as url, tempfile.TemporaryDirectory(prefix="worker_scaling_") as tmp:
        yield {"postgresql": url, "sqlite": f"sqlite:///{Path(tmp) / 'studies.db'}"}


def server_version() -> str:
    with psycopg.connect(f"{PG} dbname=postgres", autocommit=True) as admin:
        row = admin.execute("SHOW server_version").fetchone()
        assert row is not None
        return str(row[0]).split()[0]


# -- 1. scaling ---------------------------------------------------------------------------


def trivial_objective(sleep: float) -> Callable[[StudyInfo, Callable[[], bool]], Any]:
    """An objective factory whose trials only touch storage and then sleep."""

    def factory(study: StudyInfo, should_stop: Callable[[], bool]) -> Any:
        def objective(trial: optuna.Trial) -> float:
            x = trial.suggest_float("x", 0.0, 1.0)
            time.sleep(sleep)
            trial.report(x, 1)
            trial.should_prune()
            return x

        return objective

    return factory


def worker_process(
    url: str, study: str, index: int, sleep: float, ready: Any, go: Any, ran: Any
) -> None:
    """One worker process: build everything, wait for the others, then serve the study."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # as `schedsearch worker` does
    store = Store(url, **HEARTBEAT)
    worker = Worker(
        store,
        WorkerOptions(study=study, poll=POLL, seed_index=index),
        objective_factory=trivial_objective(sleep),
    )
    with ready.get_lock():
        ready.value += 1
    if not go.wait(timeout=600):
        raise SystemExit(f"worker {index}: never told to start")
    try:
        ran[index] = worker.run()  # trials this worker ran
    finally:
        store.close()


def run_scaling(url: str, backend: str, n_workers: int, sleep: float) -> dict[str, Any]:
    """Run one configuration; fails unless the study ends with exactly n_trials COMPLETE."""
    n_trials = TRIALS_PER_WORKER * n_workers
    name = f"scaling-{backend}-{n_workers}"
    store = Store(url)
    try:
        study = store.studies.create(
            StudySpec(  # no re-run phase: each worker runs its 6 trials and stops
                name=name, sampler="random", pruner="none", n_trials=n_trials, rerun_top_k=0
            )
        )
        context = mp.get_context("spawn")
        ready, go, ran = context.Value("i", 0), context.Event(), context.Array("i", n_workers)
        processes = [
            context.Process(
                target=worker_process,
                args=(url, name, i, sleep, ready, go, ran),
                name=f"worker-{i}",
            )
            for i in range(n_workers)
        ]
        spawned = time.perf_counter()
        try:
            for process in processes:
                process.start()
            while ready.value < n_workers:  # every worker imported torch and built its Store
                if any(p.exitcode is not None for p in processes):
                    raise SystemExit(f"FAILED: {name}: a worker exited before it was ready")
                if time.perf_counter() - spawned > 300:
                    raise SystemExit(f"FAILED: {name}: workers not ready after 300 s")
                time.sleep(0.01)
            go.set()
            released = time.perf_counter()
            deadline = released + 3 * TRIALS_PER_WORKER * (sleep + 0.5) + 120
            for process in processes:
                process.join(timeout=max(0.0, deadline - time.perf_counter()))
            ended = time.perf_counter()
            bad = [(p.name, p.exitcode) for p in processes if p.exitcode != 0]
            if bad:
                raise SystemExit(f"FAILED: {name}: worker exit codes {bad}")
        finally:
            for process in processes:
                if process.is_alive():
                    process.terminate()
                    process.join(timeout=10)
        info = store.studies.get(study.id)
        trials = store.trials.all(info)
        states = Counter(t.state.name for t in trials)
        numbers = {t.number for t in trials}
        check = (
            states == Counter({"COMPLETE": n_trials})
            and numbers == set(range(n_trials))
            and info.status == "completed"
            and info.claimed == n_trials
        )
        if not check:
            raise SystemExit(
                f"FAILED: {name}: states {dict(states)}, status {info.status}, "
                f"claimed {info.claimed}, expected exactly {n_trials} COMPLETE trials"
            )
        first = min(t.datetime_start for t in trials)
        last = max(t.datetime_complete for t in trials)
        span = (last - first).total_seconds()
        durations = [(t.datetime_complete - t.datetime_start).total_seconds() for t in trials]
        per_worker = sorted(ran[:], reverse=True)  # Worker.run() returns the trials it ran
        return {
            "backend": backend,
            "workers": n_workers,
            "trials": n_trials,
            "startup_s": released - spawned,
            "span_s": span,
            "wall_s": ended - spawned,
            "trial_s": statistics.mean(durations),
            "throughput": n_trials / span,
            "ideal_throughput": n_workers / sleep,
            "per_worker": per_worker,
            "check": f"{states['COMPLETE']}/{n_trials} COMPLETE",
        }
    finally:
        store.close()


def print_scaling(rows: list[dict[str, Any]]) -> None:
    columns = (
        f"{'backend':<11}{'workers':>8}{'trials':>7}{'start-up s':>11}{'span s':>8}"
        f"{'wall s':>8}{'trial s':>8}{'trials/s':>9}{'of ideal':>9}{'efficiency':>11}  "
        f"{'trials per worker':<26}check"
    )
    print(columns)
    print("-" * len(columns))
    for row in rows:
        print(
            f"{row['backend']:<11}{row['workers']:>8}{row['trials']:>7}{row['startup_s']:>11.1f}"
            f"{row['span_s']:>8.2f}{row['wall_s']:>8.1f}{row['trial_s']:>8.3f}"
            f"{row['throughput']:>9.3f}"
            f"{row['throughput'] / row['ideal_throughput']:>9.3f}{row['efficiency']:>11.3f}  "
            f"{','.join(map(str, row['per_worker'])):<26}\u2713 {row['check']}"
        )
    print(
        "(span: first trial start to last trial end, from storage; start-up: spawn until every "
        "worker had imported torch and built its Store; wall: spawn until all exited; trial s: "
        "mean trial duration, ask to tell; "
        "of ideal: trials/s / (workers / sleep); efficiency: trials/s / (N x trials/s at N=1))"
    )


# -- 2. storage time per trial ------------------------------------------------------------


def _timed(times: dict[str, list[float]], op: str, action: Callable[..., T], *args: Any) -> T:
    started = time.perf_counter()
    result = action(*args)
    times[op].append((time.perf_counter() - started) * 1000.0)
    return result


def value_of(number: int) -> float:
    """A deterministic objective value per trial number, so fills can be compared."""
    return (number * 0.6180339887498949) % 1.0


def finished_trials(numbers: range) -> list[optuna.trial.FrozenTrial]:
    """Trials like the trivial objective's: one float, its value, one intermediate value."""
    return [
        optuna.trial.create_trial(
            params={"x": value_of(n)},
            distributions={"x": DISTRIBUTION},
            value=value_of(n),
            intermediate_values={1: value_of(n)},
        )
        for n in numbers
    ]


def zero_work(study: StudyInfo, should_stop: Callable[[], bool]) -> Any:
    """The trivial objective without the sleep."""

    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", 0.0, 1.0)
        trial.report(x, 1)
        trial.should_prune()
        return x

    return objective


@contextmanager
def counting(store: Store) -> Iterator[Counter]:
    """Count SQL statements and connection checkouts on both of the Store's engines."""
    counts: Counter = Counter()

    def statement(*_: Any) -> None:
        counts["statements"] += 1

    def checkout(*_: Any) -> None:
        counts["checkouts"] += 1

    engines = (store.db.engine, store.optuna.engine)
    for engine in engines:
        sa.event.listen(engine, "before_cursor_execute", statement)
        sa.event.listen(engine.pool, "checkout", checkout)
    try:
        yield counts
    finally:
        for engine in engines:
            sa.event.remove(engine, "before_cursor_execute", statement)
            sa.event.remove(engine.pool, "checkout", checkout)


def measure_storage(
    store: Store, study: StudyInfo, iterations: int
) -> tuple[dict[str, list[float]], dict[str, float]]:
    """Time each per-trial storage operation of a worker turn, ``iterations`` times, and then
    the amortised ones (``AMORTISED``) on their own, as many times.

    Also returns, per trial over the timed per-trial iterations, this process's CPU time and the
    SQL statements and connection checkouts the per-trial ops caused.
    """
    handle = study_handle(store, study, 0, plan_of(study.spec, None))  # as the worker's

    def one_trial(times: dict[str, list[float]]) -> None:
        # Worker._turn -> _serving (serving one study); reaping is skipped inside the interval
        _timed(times, "get", store.studies.get, study.name)
        leased = _timed(times, "claim", store.leases.claim, study.id, "bench", 120)
        if leased is None:
            raise SystemExit("FAILED: claim() refused a slot during the storage benchmark")
        claimed, lease = leased
        # Worker._run_trial: ask, the objective (bind, suggest, report, should_prune), tell
        trial = _timed(times, "ask", handle.ask)
        _timed(times, "bind", store.leases.bind, lease.id, trial._trial_id, trial.number)
        x = _timed(times, "suggest_float", trial.suggest_float, "x", 0.0, 1.0)
        _timed(times, "report", trial.report, x, 1)
        _timed(times, "should_prune", trial.should_prune)
        _timed(times, "tell", tell, handle, held(trial), x)
        # search.accounting.settle: the lease ends, then the trial's figures in one UPDATE that
        # returns the study (lifecycle.conclude only once claimed >= n_trials)
        _timed(times, "lease_end", store.leases.end, lease.id, LeaseState.COMPLETE, x)
        if _timed(times, "finished", store.slots.finished, claimed.id, 0.0, x).claimed >= (
            claimed.n_trials
        ):
            raise SystemExit("FAILED: the storage benchmark's study ran out of slots")

    def amortised(times: dict[str, list[float]]) -> None:
        _timed(times, "reap", accounting.reap, store, study)
        _timed(times, "conclude", lifecycle.conclude, store, study)

    times: dict[str, list[float]] = {op: [] for op in (*OPS, *AMORTISED)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(WARMUP_ITERATIONS):
            one_trial({op: [] for op in OPS})
        with counting(store) as counts:
            cpu_started = time.process_time()
            for _ in range(iterations):
                one_trial(times)
            cpu = time.process_time() - cpu_started
        for _ in range(WARMUP_ITERATIONS):
            amortised({op: [] for op in AMORTISED})
        for _ in range(iterations):
            amortised(times)
    extra = {
        "cpu_ms": cpu * 1000.0 / iterations,
        "statements": counts["statements"] / iterations,
        "checkouts": counts["checkouts"] / iterations,
    }
    return times, extra


def measure_turns(store: Store, study: StudyInfo, iterations: int) -> list[float]:
    """Whole ``Worker._turn`` calls (the worker's private per-trial step), zero-work objective."""
    worker = Worker(
        store,
        WorkerOptions(study=study.name, poll=POLL, seed_index=1),
        objective_factory=zero_work,
    )
    times: list[float] = []
    for i in range(WARMUP_ITERATIONS + iterations):
        started = time.perf_counter()
        if worker._turn() is not True:
            raise SystemExit("FAILED: Worker._turn ran no trial during the storage benchmark")
        if i >= WARMUP_ITERATIONS:
            times.append((time.perf_counter() - started) * 1000.0)
    return times


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10, method="inclusive")[8]


def summary(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "p90": p90(values)}


def per_trial(times: dict[str, list[float]], ops: tuple[str, ...]) -> list[float]:
    """Per-iteration sums of the given operations' times."""
    return [sum(parts) for parts in zip(*(times[op] for op in ops), strict=True)]


def run_storage(url: str, backend: str, settings: Settings) -> list[dict[str, Any]]:
    """Storage time per trial at each pre-fill size, on one backend."""
    store = Store(url, **HEARTBEAT)
    results = []
    try:
        study = store.studies.create(  # n_trials: claim() must keep succeeding
            StudySpec(name=f"storage-{backend}", sampler="random", pruner="none", n_trials=100_000)
        )
        for size in settings.sizes:
            have = trial_count(store, study)  # the benchmark's own trials count too
            # up to trial 100 through Optuna's add_trials, the rest in bulk (its first through
            # add_trials too, so that prefill compares both paths)
            filled = fill(store, study, finished_trials(range(have, size)), 100 - have)
            settle(store)  # VACUUM ANALYZE, as autovacuum would have by then
            times, extra = measure_storage(store, study, settings.iterations)
            turns = measure_turns(store, study, settings.iterations)
            results.append(
                {
                    "backend": backend,
                    "size": size,
                    "fill_s": filled.seconds,
                    "fill_add_trials": filled.through_optuna,
                    "fill_bulk": filled.in_bulk,
                    "ops": {op: summary(times[op]) for op in (*OPS, *AMORTISED)},
                    "core": summary(per_trial(times, CORE)),
                    "all_ops": summary(per_trial(times, OPS)),
                    "turn": summary(turns),
                    **extra,
                    "raw_ms": {**times, "worker_turn": turns},
                }
            )
    finally:
        store.close()
    return results


def print_storage(results: list[dict[str, Any]]) -> None:
    columns = [f"{r['backend']} @{r['size']:,}" for r in results]
    width = max(17, *(len(c) + 2 for c in columns))
    label_width = 48
    top = f"{'operation (ms: median / p90)':<{label_width}}" + "".join(
        f"{c:>{width}}" for c in columns
    )
    print(top)
    print("-" * len(top))

    def line(label: str, cells: list[dict[str, float]]) -> None:
        text = "".join(f"{c['median']:>{width - 9}.2f} /{c['p90']:>6.2f} " for c in cells)
        print(f"{label:<{label_width}}{text}")

    for op in OPS:
        marker = "*" if op in CORE else " "
        line(f"{marker} {LABELS[op]}", [r["ops"][op] for r in results])
    print("-" * len(top))
    line("= storage time per trial (* ops) [goal]", [r["core"] for r in results])
    line("= all storage work of a worker turn (all ops)", [r["all_ops"] for r in results])
    line("Worker._turn measured whole, zero-work objective", [r["turn"] for r in results])
    print(
        f"{'client CPU per trial, all ops (ms, mean)':<{label_width}}"
        + "".join(f"{r['cpu_ms']:>{width - 9}.2f}         " for r in results)
    )
    print(
        f"{'SQL statements / checkouts per trial':<{label_width}}"
        + "".join(f"{r['statements']:>{width - 9}.1f} /{r['checkouts']:>6.1f} " for r in results)
    )
    print("-" * len(top))
    for op in AMORTISED:
        line(f"  {LABELS[op]}", [r["ops"][op] for r in results])
        print(f"    ({AMORTISED_NOTE[op]})")
    print(
        "(* core: claim, ask, suggest, report, should_prune, tell. All ops: the core plus "
        "store.studies.get before the trial, the lease bound and ended, "
        "store.slots.finished. "
        "Medians/p90 of per-trial sums. Pre-fill: "
        + ", ".join(
            f"{r['backend']} @{r['size']:,} {r['fill_s']:.1f} s "
            f"({r['fill_add_trials']} add_trials + {r['fill_bulk']:,} bulk)"
            for r in results
        )
        + ")"
    )


# -- main ---------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="0.3 s trials, 1-4 workers (~90 s)")
    parser.add_argument("--sleep", type=float, help="seconds per trial (default 1.0; quick 0.3)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures here")
    args = parser.parse_args()
    settings = Settings(
        quick=args.quick,
        sleep=args.sleep if args.sleep is not None else (0.3 if args.quick else 1.0),
        workers=(1, 2, 4) if args.quick else (1, 2, 4, 8),
        sizes=(100, 1_000) if args.quick else (1_000, 5_000, 20_000),
        iterations=50,
    )
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # as `schedsearch worker` does
    started = time.perf_counter()
    load_before = os.getloadavg()
    facts = machine() | {
        "optuna": optuna.__version__,
        "sqlalchemy": sa.__version__,
        "sqlite": sqlite3.sqlite_version,
        "postgresql": server_version(),
    }
    header("worker scaling and storage time per trial, PostgreSQL and SQLite")
    print(
        f"Optuna {facts['optuna']}, SQLAlchemy {facts['sqlalchemy']}, "
        f"PostgreSQL {facts['postgresql']} (loopback), SQLite {facts['sqlite']}"
    )
    print(
        f"started {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {'quick' if args.quick else 'full'} "
        f"mode, load average {' '.join(f'{x:.2f}' for x in load_before)}"
    )
    scaling: list[dict[str, Any]] = []
    storage: list[dict[str, Any]] = []
    with databases() as urls:
        print(
            f"\n== 1. Scaling: {TRIALS_PER_WORKER} trials per worker, trial = suggest 1 float + "
            f"sleep {settings.sleep:g} s + report + should_prune; random sampler, no pruner; "
            f"poll {POLL} s, heartbeat {HEARTBEAT['heartbeat_interval']} s =="
        )
        for backend, url in urls.items():
            rows = [run_scaling(url, backend, n, settings.sleep) for n in settings.workers]
            for row in rows:
                row["efficiency"] = row["throughput"] / (row["workers"] * rows[0]["throughput"])
            scaling += rows
        print_scaling(scaling)
        print(
            f"\n== 2. Storage time per trial: one process, random sampler, heartbeat "
            f"{HEARTBEAT['heartbeat_interval']} s / grace {HEARTBEAT['grace_period']} s, "
            f"{settings.iterations} trials per size after {WARMUP_ITERATIONS} untimed =="
        )
        for backend, url in urls.items():
            storage += run_storage(url, backend, settings)
        print_storage(storage)
    load_after = os.getloadavg()

    print("\n== Goals ==")
    eight = [r for r in scaling if r["backend"] == "postgresql" and r["workers"] == 8]
    if eight and settings.sleep == 1.0:
        value = eight[0]["efficiency"]
        verdict = "met" if value >= GOAL_EFFICIENCY else "MISSED"
        print(
            f"scaling efficiency, 8 workers, 1 s trials, PostgreSQL = {value:.3f} "
            f"(goal >= {GOAL_EFFICIENCY}) {verdict}"
        )
    else:
        print("scaling efficiency at 8 workers with 1 s trials: not measured in this mode")
    for backend in ("postgresql", "sqlite"):
        big = [r for r in storage if r["backend"] == backend and r["size"] == 5_000]
        if not big:
            print(f"storage time per trial at 5,000 trials ({backend}): not measured in this mode")
            continue
        core, whole = big[0]["core"], big[0]["all_ops"]
        verdict = "met" if core["median"] <= GOAL_STORAGE_MS else "MISSED"
        goal = f" (goal <= {GOAL_STORAGE_MS:g} ms) {verdict}" if backend == "postgresql" else ""
        print(
            f"storage time per trial (claim + ask + suggest + report + should_prune + tell) at "
            f"5,000 trials, {backend} = {core['median']:.1f} ms median, p90 {core['p90']:.1f} ms"
            f"{goal}"
        )
        print(
            f"  all storage work of a worker turn at 5,000 trials, {backend} = "
            f"{whole['median']:.1f} ms median, p90 {whole['p90']:.1f} ms; Worker._turn whole "
            f"{big[0]['turn']['median']:.1f} ms"
        )
    pg = {r["size"]: r["core"]["median"] for r in storage if r["backend"] == "postgresql"}
    if 1_000 in pg and 20_000 in pg:
        growth = pg[20_000] / pg[1_000]
        print(
            f"growth of the storage time per trial, 1,000 -> 20,000 trials, postgresql = "
            f"{growth:.2f}x ({pg[1_000]:.1f} -> {pg[20_000]:.1f} ms; goal <= {GOAL_GROWTH:g}x) "
            f"{'met' if growth <= GOAL_GROWTH else 'MISSED'}"
        )
    elapsed = time.perf_counter() - started
    print(
        f"\ntotal {elapsed:.0f} s; load average before {' '.join(f'{x:.2f}' for x in load_before)}"
        f", after {' '.join(f'{x:.2f}' for x in load_after)}"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "commit": commit(),
            "machine": facts,
            "settings": settings.__dict__,
            "load_before": load_before,
            "load_after": load_after,
            "elapsed_s": elapsed,
            "scaling": scaling,
            "storage": storage,
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
        print(f"wrote {args.json}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
