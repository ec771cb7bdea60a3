"""Asks are sampled in a process of their own, so that sampling never holds up reports.

An ask runs TPE over the whole study: tens to hundreds of milliseconds of pure-Python CPU at
1,000 trials. In a request thread it holds the GIL, and every report in the same API process
waits behind it (report p99 180 ms at 16 agents, 20 ms for a reporter alone: bench/RESULTS.md,
"Leased trials under load"). Each API process therefore hands its asks to
``settings.ask_processes`` sampling processes (spawned at the first ask; each keeps its own
store and Optuna handles, with its own sampler seed, as any API process does), and the
operating system, not the GIL, shares the CPU between sampling and the other calls. Reports,
heartbeats and finishes stay in the request threads: they are short, and the pruner they ask
reads the study as the sampling processes write it, through the database.

A sampling process exits within a second of its API process, even one killed with -9. If one
dies on its own, the pool is rebuilt and the ask tried once more; the dead ask's lease, if it took
one, expires and its slot is reaped like any dead holder's.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from api.heap import settle_heap
from schedsearch.search.leased import Asked, Leasing
from schedsearch.settings import Settings
from schedsearch.store import Store

# Sampling yields the CPU to the API process's own calls: an ask already takes 100 ms or more,
# while a report or finish waiting for a core behind two samplers misses its 50 ms.
NICENESS = 10
ORPHAN_CHECK = 1.0  # seconds between a sampling process's checks that its API process lives


class AskPool:
    """One API process's sampling processes (none when ``ask_processes`` is 0: asks are
    then sampled in the request thread)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def ask(self, leasing: Leasing, study: str, owner: str) -> Asked:
        if self.settings.ask_processes == 0:
            return leasing.ask(study, owner)
        try:
            return self._submit(study, owner)
        except BrokenProcessPool:  # a sampling process died: once more, on a fresh pool
            return self._submit(study, owner)

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def _submit(self, study: str, owner: str) -> Asked:
        pool = self._started()
        try:
            return pool.submit(_ask, study, owner).result()
        except BrokenProcessPool:
            self._drop(pool)  # the next ask builds a fresh one
            raise

    def _started(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=self.settings.ask_processes,
                    mp_context=multiprocessing.get_context("spawn"),  # no threads forked
                    initializer=_start,
                    initargs=(self.settings,),
                )
            return self._pool

    def _drop(self, pool: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)


_settings: Settings | None = None  # in a sampling process: its settings,
_leasing: Leasing | None = None  # and its store and Optuna handles, built at the first ask


def _start(settings: Settings) -> None:
    """The initializer: nothing here may fail (a failing initializer breaks the whole pool), so
    the store is opened by the first ask, whose error (the database down, say) is then that
    ask's answer."""
    global _settings
    _settings = settings
    threading.Thread(target=_orphan_watch, args=(os.getppid(),), daemon=True).start()
    os.nice(NICENESS)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server, which stops us


def _orphan_watch(parent: int) -> None:
    """Exit once the API process is gone (even by kill -9): the pool's queues would keep an
    orphan waiting forever. ``PR_SET_PDEATHSIG`` cannot do it: it fires when the *thread* that
    spawned the process ends, and a request thread spawns it."""
    while os.getppid() == parent:
        time.sleep(ORPHAN_CHECK)
    os._exit(0)


def _ask(study: str, owner: str) -> Asked:
    global _leasing
    if _leasing is None:
        assert _settings is not None, "set by the pool's initializer"
        _leasing = Leasing(Store.from_settings(_settings))
        settle_heap()
    return _leasing.ask(study, owner)
