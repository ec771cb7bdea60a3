"""Storage time per trial: the second half of bench/worker_scaling.py, which runs it (on
PostgreSQL and on SQLite) and prints its goals.

In one process, on a study pre-filled with 1,000, then 5,000,
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
"""

from __future__ import annotations

import statistics
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import optuna
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

from prefill import fill, settle, trial_count

HEARTBEAT = {"heartbeat_interval": 30, "grace_period": 120}  # `schedsearch worker` defaults
POLL = 0.05
WARMUP_ITERATIONS = 3
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


def run_storage(
    url: str, backend: str, sizes: tuple[int, ...], iterations: int
) -> list[dict[str, Any]]:
    """Storage time per trial at each pre-fill size, on one backend."""
    store = Store(url, **HEARTBEAT)
    results = []
    try:
        study = store.studies.create(  # n_trials: claim() must keep succeeding
            StudySpec(name=f"storage-{backend}", sampler="random", pruner="none", n_trials=100_000)
        )
        for size in sizes:
            have = trial_count(store, study)  # the benchmark's own trials count too
            # up to trial 100 through Optuna's add_trials, the rest in bulk (its first through
            # add_trials too, so that prefill compares both paths)
            filled = fill(store, study, finished_trials(range(have, size)), 100 - have)
            settle(store)  # VACUUM ANALYZE, as autovacuum would have by then
            times, extra = measure_storage(store, study, iterations)
            turns = measure_turns(store, study, iterations)
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
