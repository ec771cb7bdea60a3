"""Load on ``GET /studies/{id}``: p50/p99 latency and requests/s from concurrent clients.

A fresh PostgreSQL database holds a study of 10,000 finished trials (and a 100-trial one as a
baseline), each created with ``store.studies.create`` and filled by bench/prefill.py (one trial
through ``study.add_trials``, the rest as bulk INSERTs through Optuna's ORM models, ~1 ms per
trial instead of ~20 ms; every trial is read back and checked). ``schedsearch serve`` runs in a
subprocess; 16 concurrent keep-alive clients (raw asyncio HTTP/1.1, so the load generator costs
little CPU) hit it for 10 s, spread evenly over the uvicorn workers (``--unbalanced``: left where
the accept race put them, often 12-14 of 16 on one worker). Printed against two baselines
measured in the same run: ``/healthz`` (the framework's floor) and the same route on the
100-trial study (does latency grow with trials?).

    .venv/bin/python bench/api_load.py [--trials 10000] [--seconds 10] [--clients 16]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import optuna

from schedsearch.core.spec import StudySpec
from schedsearch.store import Store, StudyInfo

from common import commit, fresh_pg_database, header, serving
from prefill import Filled, fill, settle

TOKEN = "bench-token"


def templates(n_trials: int) -> list[optuna.trial.FrozenTrial]:
    """Finished trials shaped like a worker's: a third PRUNED (3 intermediate values, no
    value), the rest COMPLETE (5 intermediate values and a value), one second apart."""
    dist = {
        "family": optuna.distributions.CategoricalDistribution(["cosine"]),
        "cosine.base_lr": optuna.distributions.FloatDistribution(1e-3, 1.0, log=True),
    }
    start = datetime.now(UTC) - timedelta(hours=3)
    trials = []
    for i in range(n_trials):
        value = 0.5 + 0.4 * (i % 97) / 97
        pruned = i % 3 == 0
        trial = optuna.trial.create_trial(
            state=optuna.trial.TrialState.PRUNED if pruned else optuna.trial.TrialState.COMPLETE,
            value=None if pruned else value,
            params={"family": "cosine", "cosine.base_lr": 0.01 + (i % 50) / 60},
            distributions=dist,
            intermediate_values={e: value * e / 5 for e in range(1, 4 if pruned else 6)},
            user_attrs={
                "schedule": {"family": "cosine", "warmup": 0.0, "eta_min": 0.0},
                "base_lr": 0.1,
            },
        )
        trial.datetime_start = start + timedelta(seconds=i)
        trial.datetime_complete = start + timedelta(seconds=i + 0.8)
        trials.append(trial)
    return trials


def fill_study(store: Store, name: str, n_trials: int) -> tuple[int, Filled]:
    """A study (our table and Optuna's, via ``store.studies.create``) holding ``n_trials``
    finished trials, written in bulk (bench/prefill.py); returns its id. One slot is then
    claimed, so the study is "running" and its status needs the ETA query too."""
    study = store.studies.create(StudySpec(name=name, n_trials=n_trials, families=["cosine"]))
    trials = templates(n_trials)
    filled = fill(store, study, trials)
    best = max((t.value for t in trials if t.value is not None), default=None)
    if best is not None:  # what the workers' settles (slots.finished) would have left
        store.slots.finished(study.id, 0.0, best)
    store.slots.claim(study.id)
    return study.id, filled


SNAPSHOT_CALLS = 50


def snapshot_ms(store: Store, study: StudyInfo) -> float:
    """Median wall time of ``store.trials.snapshot`` (the route's database work), in this
    process."""
    for _ in range(5):
        store.trials.snapshot(study.id)
    times = []
    for _ in range(SNAPSHOT_CALLS):
        started = time.perf_counter()
        store.trials.snapshot(study.id)
        times.append((time.perf_counter() - started) * 1000.0)
    return statistics.median(times)


Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def _request(connection: Connection, request: bytes) -> int:
    """Send one request and read its whole response; returns the status code."""
    reader, writer = connection
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length")
    )
    await reader.readexactly(length)
    return int(head.split(b" ", 2)[1])


def _get(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {TOKEN}\r\n\r\n".encode()


def _children(pid: int) -> list[int]:
    """The uvicorn worker processes (children of the ``schedsearch serve`` process)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _owners(port: int, server_pid: int) -> dict[int, int]:
    """Client port -> pid of the uvicorn worker that accepted that connection (from /proc)."""
    inodes: dict[str, int] = {}
    for pid in _children(server_pid):
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                link = os.readlink(fd)
            except OSError:
                continue
            if link.startswith("socket:["):
                inodes[link[8:-1]] = pid
    owners = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
            if state == "01" and int(local.rsplit(":", 1)[1], 16) == port and inode in inodes:
                owners[int(remote.rsplit(":", 1)[1], 16)] = inodes[inode]
    return owners


async def _connect(
    port: int, clients: int, server_pid: int, workers: int, balance: bool
) -> tuple[list[Connection], list[int] | None]:
    """``clients`` keep-alive connections, each used once (so it has been accepted).

    With several uvicorn workers, whichever worker wins the accept race takes a connection, and
    a burst of new connections often lands 12-14 of 16 on one worker, which then runs out of
    its one core while the other idles (the cause of /healthz swinging between ~500 and ~1,600
    req/s from run to run). With ``balance``, connections on an over-full worker are closed
    and reopened until no worker holds more than its share. Returns the connections and how
    many each worker holds (None if /proc did not tell).
    """

    async def open_one() -> Connection:
        connection = await asyncio.open_connection("127.0.0.1", port)
        await _request(connection, _get("/healthz"))
        return connection

    connections = [await open_one() for _ in range(clients)]
    share = -(-clients // workers)
    split = None
    for _ in range(50 * clients):
        owners = _owners(port, server_pid)
        holders = [owners.get(w.get_extra_info("sockname")[1]) for _, w in connections]
        if None in holders:
            return connections, None
        counts = Counter(holders)
        split = sorted(counts.values(), reverse=True)
        if not balance or split[0] <= share:
            break
        busiest = counts.most_common(1)[0][0]
        i = holders.index(busiest)
        connections[i][1].close()
        connections[i] = await open_one()
    for connection in connections:  # used again just now: uvicorn drops idle ones after 5 s
        await _request(connection, _get("/healthz"))
    return connections, split


def wait_for_workers(port: int, server_pid: int, workers: int, timeout: float = 120.0) -> None:
    """Until every uvicorn worker has accepted a connection (the first one up accepts them all
    while the others still import), so that connections can be spread over all of them."""

    async def probe() -> None:
        deadline = time.monotonic() + timeout
        seen: set[int | None] = set()
        while len(seen) < workers:
            if time.monotonic() > deadline:
                raise SystemExit(f"only {len(seen)} of {workers} uvicorn workers answered")
            connections = []
            for _ in range(2 * workers):
                connection = await asyncio.open_connection("127.0.0.1", port)
                await _request(connection, _get("/healthz"))
                connections.append(connection)
            owners = _owners(port, server_pid)
            ports = [w.get_extra_info("sockname")[1] for _, w in connections]
            if not owners:
                return  # /proc does not tell: nothing to wait for
            seen |= {owners.get(p) for p in ports} - {None}
            for _, writer in connections:
                writer.close()
            await asyncio.sleep(0.2)

    asyncio.run(probe())


async def _client(
    connection: Connection, path: str, until: float, latencies: list[float], errors: list[int]
) -> None:
    request = _get(path)
    while time.perf_counter() < until:
        sent = time.perf_counter()
        status = await _request(connection, request)
        latencies.append(time.perf_counter() - sent)
        if status != 200:
            errors.append(status)
    connection[1].close()


def load(
    port: int,
    path: str,
    seconds: float,
    clients: int,
    server_pid: int,
    workers: int,
    balance: bool,
) -> dict[str, Any]:
    latencies: list[float] = []
    errors: list[int] = []
    split: list[int] | None = None

    async def run() -> float:
        nonlocal split
        connections, split = await _connect(port, clients, server_pid, workers, balance)
        started = time.perf_counter()
        until = started + seconds
        await asyncio.gather(*(_client(c, path, until, latencies, errors) for c in connections))
        return time.perf_counter() - started

    elapsed = asyncio.run(run())
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "errors": len(errors),
        "rps": len(ordered) / elapsed,
        "p50_ms": 1000 * statistics.median(ordered),
        "p99_ms": 1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
        "split": split,
    }


@contextmanager
def serving_all(url: str, workers: int, env: dict[str, str]) -> Iterator[tuple[int, int]]:
    """``schedsearch serve`` with the bench token (bench/common.py), once every one of its
    uvicorn workers accepts; yields its port and pid."""
    with serving(url, {"SCHEDSEARCH_API_TOKEN": TOKEN, **env}, workers) as (port, server):
        wait_for_workers(port, server.pid, workers)
        yield port, server.pid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--server-workers", type=int, default=2, help="uvicorn processes")
    parser.add_argument(
        "--unbalanced",
        action="store_true",
        help="keep connections where the accept race put them (default: spread them evenly)",
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    header("API load: GET /studies/{id} under concurrent clients")
    print(f"PostgreSQL on loopback, Optuna {optuna.__version__}")
    load_before = os.getloadavg()
    print(
        f"started {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average "
        + " ".join(f"{x:.2f}" for x in load_before)
    )
    big_name = f"study_{args.trials}"
    results: dict[str, dict[str, Any]] = {}
    with fresh_pg_database() as url:
        store = Store(url)
        filled = time.perf_counter()
        big, big_fill = fill_study(store, "big", args.trials)
        small, small_fill = fill_study(store, "small", 100)
        settled = settle(store)
        print(
            f"filled {args.trials:,} + 100 trials in {time.perf_counter() - filled:.1f} s "
            f"({big_fill.through_optuna + small_fill.through_optuna} with study.add_trials, "
            f"{big_fill.in_bulk + small_fill.in_bulk:,} in bulk; all read back and checked; "
            f"VACUUM ANALYZE {settled:.1f} s)"
        )
        in_process = {
            "big": snapshot_ms(store, store.studies.get(big)),
            "small": snapshot_ms(store, store.studies.get(small)),
        }
        print(
            f"store.trials.snapshot in this process, no load (median of {SNAPSHOT_CALLS}): "
            f"{args.trials:,} trials {in_process['big']:.2f} ms, "
            f"100 trials {in_process['small']:.2f} ms"
        )
        store.close()
        # As deployed (the API's status cache at its default TTL), then with the cache off
        # (SCHEDSEARCH_STATUS_TTL=0): every request does the database work.
        for suffix, env in (("", {}), (" (TTL 0)", {"SCHEDSEARCH_STATUS_TTL": "0"})):
            with serving_all(url, args.server_workers, env) as (port, pid):

                def run(path: str, seconds: float, port: int = port, pid: int = pid) -> Any:
                    return load(
                        port,
                        path,
                        seconds,
                        args.clients,
                        pid,
                        args.server_workers,
                        not args.unbalanced,
                    )

                run(f"/studies/{big}", 2.0)  # warm-up: pools, spec cache
                if not suffix:
                    results["healthz"] = run("/healthz", args.seconds)
                for name, study in ((big_name, big), ("study_100", small)):
                    results[name + suffix] = run(f"/studies/{study}", args.seconds)
    print(
        f"\n{args.clients} concurrent keep-alive clients, {args.seconds:.0f} s each, "
        f"{args.server_workers} uvicorn worker(s), connections "
        f"{'as accepted' if args.unbalanced else 'spread evenly over the workers'}; "
        "(TTL 0): a second server with SCHEDSEARCH_STATUS_TTL=0, the status cache off\n"
    )
    print(
        f"{'route':<28}{'requests':>10}{'errors':>8}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
        f"  connections per worker"
    )
    for name, r in results.items():
        split = "?" if r["split"] is None else "/".join(map(str, r["split"]))
        print(
            f"{name:<28}{r['requests']:>10}{r['errors']:>8}{r['rps']:>10.0f}"
            f"{r['p50_ms']:>9.1f}{r['p99_ms']:>9.1f}  {split}"
        )
    floor = results["healthz"]
    for suffix in ("", " (TTL 0)"):
        r = results[big_name + suffix]
        met = r["p99_ms"] <= 100 and r["rps"] >= 300 and r["errors"] == 0
        print(
            f"{'' if suffix else chr(10)}GET /studies/{{id}} at {args.trials} trials{suffix}: "
            f"p99 {r['p99_ms']:.1f} ms (goal <= 100), {r['rps']:.0f} req/s (goal >= 300): "
            f"{'met' if met else 'MISSED'}"
        )
    for suffix in ("", " (TTL 0)"):
        b, s = results[big_name + suffix], results["study_100" + suffix]
        print(
            f"ratio p50 {args.trials} trials / 100 trials{suffix} = "
            f"{b['p50_ms'] / s['p50_ms']:.2f} (1.0: independent of study size)"
        )
    for suffix in ("", " (TTL 0)"):
        print(
            f"ratio req/s study / healthz{suffix} = "
            f"{results[big_name + suffix]['rps'] / floor['rps']:.2f} "
            "(the share of the framework's floor that the status queries leave)"
        )
    print(
        "load average before "
        + " ".join(f"{x:.2f}" for x in load_before)
        + ", after "
        + " ".join(f"{x:.2f}" for x in os.getloadavg())
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {"commit": commit(), "results": results, "snapshot_in_process_ms": in_process}
        args.json.write_text(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main()
