"""Where the leased-trial calls spend their time: ``search.leased.Leasing``'s ask, report,
heartbeat and finish in this process (no HTTP, no other load), on a study prefilled as
bench/leased_study.py does, with ``--running`` other leases held open (an agent fleet's RUNNING
trials, which Optuna's cached storage re-reads on every trial list). Each call's wall time is
split over the store and Optuna steps it makes, and its SQL statements are counted.

    .venv/bin/python bench/lease_profile.py [--trials 1000] [--running 16] [--cycles 12]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import optuna
import sqlalchemy as sa

import schedsearch.search.leased as leased
from schedsearch.store import Store

from common import fresh_pg_database, header
from leased_study import curve, prefill_study

OWNER = "profile"


class Split:
    """Wall time per step and SQL statements, for the call under way."""

    def __init__(self) -> None:
        self.steps: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        self.call: str | None = None
        self.current: dict[str, float] = defaultdict(float)
        self.statements = 0

    def wrap(self, owner: Any, name: str, label: str) -> None:
        original: Callable[..., Any] = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.current[label] += time.perf_counter() - started

        setattr(owner, name, timed)

    def count(self, *engines: sa.Engine) -> None:
        def one(*_: Any) -> None:
            self.statements += 1

        for engine in engines:
            sa.event.listen(engine, "before_cursor_execute", one)

    @contextmanager
    def measure(self, call: str) -> Iterator[None]:
        self.current.clear()
        self.statements = 0
        started = time.perf_counter()
        yield
        steps = self.steps[call]
        steps["= whole call"].append(time.perf_counter() - started)
        steps["SQL statements"].append(self.statements)
        for label, seconds in self.current.items():
            steps[label].append(seconds)

    def report(self) -> None:
        for call, steps in self.steps.items():
            whole = steps["= whole call"]
            print(
                f"\n{call} ({len(whole)} calls; ms, median / p90 over the calls that made the step)"
            )
            for label, values in sorted(steps.items(), key=lambda kv: -statistics.median(kv[1])):
                if label == "SQL statements":
                    continue
                ordered = sorted(values)
                p90 = ordered[int(0.9 * (len(ordered) - 1))]
                print(f"  {label:<46}{1000 * statistics.median(values):>8.2f}{1000 * p90:>8.2f}")
            statements = statistics.median(steps["SQL statements"])
            print(f"  {'SQL statements per call (median)':<46}{statements:>8.0f}")


def instrument(split: Split, store: Store, leasing: leased.Leasing, handle: optuna.Study) -> None:
    for owner, names in (
        (store.studies, ("get",)),
        (store.leases, ("get", "claim", "bind", "renew", "end", "mark_prune")),
        (store.slots, ("spend", "finished")),
        (store.optuna, ("get_trial", "set_trial_intermediate_value", "set_trial_user_attr")),
    ):
        for name in names:
            split.wrap(owner, name, f"{type(owner).__name__.lower()}.{name}")
    split.wrap(handle, "ask", "optuna study.ask (sampler's before_trial)")
    split.wrap(handle, "tell", "optuna study.tell")
    split.wrap(handle.pruner, "prune", "pruner.prune (auto: FidelityPruner)")
    split.wrap(handle._storage, "get_all_trials", "  cached storage get_all_trials (all uses)")
    split.wrap(leased, "suggest", "core.space.suggest (the sampling)")
    split.wrap(leasing.reaper, "reap", "leasing.reaper.reap (once per heartbeat interval)")
    split.count(store.db.engine, store.optuna.engine)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--running", type=int, default=16, help="other leases held open")
    parser.add_argument("--cycles", type=int, default=12, help="ask, 10 reports, finish")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    header("Leased trials: where ask, report, heartbeat and finish spend their time")
    with fresh_pg_database() as url:
        store = Store(url, pool_size=10)
        study, note = prefill_study(store, args.trials)
        print(note)
        leasing = leased.Leasing(store, seed_index=1)
        held = [leasing.ask(study.id, OWNER) for _ in range(args.running)]
        for asked in held:  # each at epoch 1, as a fleet mid-trial
            assert asked.lease is not None
            leasing.report(asked.lease.id, OWNER, 1, 0.5)
        split, rng = Split(), random.Random(0)
        instrument(split, store, leasing, leasing.handle(study))
        for cycle in range(args.cycles + 2):  # the first two warm the caches, unrecorded
            with split.measure("ask" if cycle >= 2 else "warm-up"):
                asked = leasing.ask(study.id, OWNER)
            assert asked.lease is not None
            values = curve(rng, study.spec.epochs)
            for epoch, value in enumerate(values, 1):
                with split.measure("report" if cycle >= 2 else "warm-up"):
                    leasing.report(asked.lease.id, OWNER, epoch, value)
            with split.measure("heartbeat" if cycle >= 2 else "warm-up"):
                leasing.heartbeat(asked.lease.id, OWNER)
            with split.measure("finish" if cycle >= 2 else "warm-up"):
                leasing.finish(asked.lease.id, OWNER, "complete", values[-1], None)
        del split.steps["warm-up"]
        print(
            f"{args.cycles} cycles (ask, {study.spec.epochs} reports, heartbeat, finish) with "
            f"{args.running} other leases open, after 2 untimed; one process, nothing else"
        )
        split.report()
        store.close()


if __name__ == "__main__":
    main()
