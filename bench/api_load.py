"""Load on ``GET /studies/{id}``: p50/p99 latency and requests/s from concurrent clients.

A fresh PostgreSQL database holds a study of 10,000 finished trials (and a 100-trial one as a
baseline); ``schedsearch serve`` runs in a subprocess; 16 concurrent keep-alive clients (raw
asyncio HTTP/1.1, so the load generator costs little CPU) hit it for 10 s. Printed against two
baselines measured in the same run: ``/healthz`` (the framework's floor) and the same route on
the 100-trial study (does latency grow with trials?).

    .venv/bin/python bench/api_load.py [--trials 10000] [--seconds 10] [--clients 16]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import optuna
import psycopg
from prefill import Filled, fill

from schedsearch.spec import StudySpec
from schedsearch.store import Store

PG = os.environ.get("SCHEDSEARCH_TEST_PG", "host=127.0.0.1 port=5432 user=postgres")
TOKEN = "bench-token"


@contextmanager
def fresh_pg_database() -> Iterator[str]:
    name = f"schedsearch_bench_{secrets.token_hex(4)}"
    params = dict(part.split("=", 1) for part in PG.split())
    with psycopg.connect(f"{PG} dbname=postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield (
            f"postgresql+psycopg://{params.get('user', 'postgres')}@{params['host']}:"
            f"{params.get('port', '5432')}/{name}"
        )
    finally:
        with psycopg.connect(f"{PG} dbname=postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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
    """A study (our table and Optuna's, via ``Store.create_study``) holding ``n_trials``
    finished trials, written in bulk (bench/prefill.py); returns its id. One slot is then
    claimed, so the study is "running" and its status needs the ETA query too."""
    study = store.create_study(StudySpec(name=name, n_trials=n_trials, families=["cosine"]))
    filled = fill(store, study, templates(n_trials))
    store.claim(study.id)
    return study.id, filled


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _client(
    port: int, path: str, until: float, latencies: list[float], errors: list[int]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = (
        f"GET {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {TOKEN}\r\n\r\n"
    ).encode()
    while time.perf_counter() < until:
        sent = time.perf_counter()
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        )
        await reader.readexactly(length)
        latencies.append(time.perf_counter() - sent)
        if status != 200:
            errors.append(status)
    writer.close()


def load(port: int, path: str, seconds: float, clients: int) -> dict[str, float]:
    latencies: list[float] = []
    errors: list[int] = []

    async def run() -> None:
        until = time.perf_counter() + seconds
        await asyncio.gather(
            *(_client(port, path, until, latencies, errors) for _ in range(clients))
        )

    started = time.perf_counter()
    asyncio.run(run())
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "errors": len(errors),
        "rps": len(ordered) / elapsed,
        "p50_ms": 1000 * statistics.median(ordered),
        "p99_ms": 1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--server-workers", type=int, default=2, help="uvicorn processes")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    print(
        f"machine: {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"PostgreSQL on loopback, Optuna {optuna.__version__}"
    )
    exe = shutil.which("schedsearch", path=str(Path(sys.executable).parent)) or "schedsearch"
    with fresh_pg_database() as url:
        store = Store(url)
        filled = time.perf_counter()
        big, big_fill = fill_study(store, "big", args.trials)
        small, small_fill = fill_study(store, "small", 100)
        print(
            f"filled {args.trials:,} + 100 trials in {time.perf_counter() - filled:.1f} s "
            f"({big_fill.through_optuna + small_fill.through_optuna} with study.add_trials, "
            f"{big_fill.in_bulk + small_fill.in_bulk:,} in bulk; all read back and checked)"
        )
        store.close()
        port = free_port()
        server = subprocess.Popen(
            [
                exe,
                "serve",
                "--port",
                str(port),
                "--database-url",
                url,
                "--workers",
                str(args.server_workers),
            ],
            env={**os.environ, "SCHEDSEARCH_API_TOKEN": TOKEN},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=1):
                        break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise SystemExit("the server did not start") from None
                    time.sleep(0.3)
            load(port, f"/studies/{big}", 2.0, args.clients)  # warm-up: pools, spec cache
            results = {
                "healthz": load(port, "/healthz", args.seconds, args.clients),
                f"study_{args.trials}": load(port, f"/studies/{big}", args.seconds, args.clients),
                "study_100": load(port, f"/studies/{small}", args.seconds, args.clients),
            }
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(
        f"\n{args.clients} concurrent clients, {args.seconds:.0f} s each, "
        f"{args.server_workers} uvicorn worker(s)\n"
    )
    print(f"{'route':<28}{'requests':>10}{'errors':>8}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}")
    for name, r in results.items():
        print(
            f"{name:<28}{r['requests']:>10}{r['errors']:>8}{r['rps']:>10.0f}"
            f"{r['p50_ms']:>9.1f}{r['p99_ms']:>9.1f}"
        )
    big_r, small_r, floor = (
        results[f"study_{args.trials}"],
        results["study_100"],
        results["healthz"],
    )
    print(
        f"\nGET /studies/{{id}} at {args.trials} trials: p99 {big_r['p99_ms']:.1f} ms "
        f"(goal <= 100), {big_r['rps']:.0f} req/s (goal >= 300)"
    )
    print(
        f"ratio p50 {args.trials} trials / 100 trials = "
        f"{big_r['p50_ms'] / small_r['p50_ms']:.2f} (1.0: independent of study size)"
    )
    print(
        f"ratio req/s study / healthz = {big_r['rps'] / floor['rps']:.2f} "
        "(the share of the framework's floor that the status queries leave)"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
