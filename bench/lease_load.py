"""Load on the leased-trial API (docs/leases.md): agents reporting once a second, throughput at
saturation, and the ask against plain Optuna's on the same database.

A fresh PostgreSQL database holds one external study (``"trainer": "external"``, 10 epochs,
the default sampler and pruner) prefilled with finished trials shaped like leased ones
(bench/leased_study.py). ``schedsearch serve`` runs in a subprocess; then, from the client side
(httpx, keep-alive):

1. ask vs plain Optuna: interleaved pairs of one HTTP ask and one ``study.ask()`` + the same
   ``suggest`` calls in this long-lived process (``optuna.load_study`` on the same database
   with the sampler the product builds), each trial then finished/told alike;
2. open loop: ``--agents`` agents each hold a lease and report one epoch a second
   (``--period``), on the second whatever the last answer took, renew it every ``--beat`` s,
   finish, ask again (a prune answer ends the trial as pruned, as a real agent does);
3. saturation: closed-loop reporters at each ``--concurrency``, each on its own lease (asked
   and finished outside the timed window), reporting epochs 1..10 back to back over raw
   keep-alive connections spread evenly over the uvicorn workers.

Phases 2 and 3 print the CPU the server, its sampling processes (api.asks), PostgreSQL, the load
generator and the whole machine used (a shared machine shows here). ``--split-asks`` sends asks
to a second server.

    .venv/bin/python bench/lease_load.py [--trials 1000] [--agents 16] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import statistics
import time
from collections import defaultdict
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import optuna
import psycopg

from schedsearch.core.space import suggest
from schedsearch.search.plan import plan_of
from schedsearch.search.strategy import make_sampler
from schedsearch.store import Store, StudyInfo

from api_load import TOKEN, Connection, _children, _connect, _request, serving_all
from common import commit, cpu_seconds, fresh_pg_database, header
from leased_study import EPOCHS, curve, prefill_study

GOAL_MS = 50.0  # report and finish p99, open loop
GOAL_RATIO = 1.2  # HTTP ask median / plain Optuna ask median
CALLS = ("ask", "report", "heartbeat", "finish")


@dataclass
class Calls:
    """Client-side latencies (s) and non-200 answers, per call type."""

    seconds: dict[str, list[float]] = field(default_factory=lambda: {c: [] for c in CALLS})
    errors: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CALLS, 0))
    recording: bool = True
    late: int = 0  # reports sent over 50 ms after they were due (an answer took too long)
    resent: int = 0  # calls sent again: uvicorn closed the idle keep-alive connection (5 s)

    async def call(
        self, client: httpx.AsyncClient, kind: str, path: str, body: Any = None, record: bool = True
    ) -> Any:
        sent = time.perf_counter()
        try:
            answer = await client.post(path, json=body)
        except (httpx.ReadError, httpx.RemoteProtocolError):  # closed as we sent: once more
            self.resent += 1
            answer = await client.post(path, json=body)
        if self.recording and record:
            self.seconds[kind].append(time.perf_counter() - sent)
            self.errors[kind] += answer.status_code != 200
        return answer.json() if answer.status_code == 200 else None

    def summary(self, kind: str, elapsed: float | None = None) -> dict[str, Any]:
        ordered = sorted(self.seconds[kind])
        if not ordered:
            return {"calls": 0, "errors": self.errors[kind]}

        out = {"calls": len(ordered), "errors": self.errors[kind]}
        out |= {f"p{q}_ms": 1000 * ordered[len(ordered) * q // 100] for q in (95, 99)}
        out |= {"p50_ms": 1000 * statistics.median(ordered), "max_ms": 1000 * ordered[-1]}
        return out | ({"per_s": len(ordered) / elapsed} if elapsed else {})


class Meter:
    """CPU used while started, in cores: the server's processes, PostgreSQL's backends for the
    bench database (one that opened meanwhile counts from 0; one that closed is missed), this
    process (the load generator), and the whole machine (other work on it included)."""

    def __init__(self, url: str, servers: list[int]) -> None:
        self.dsn, self.servers = url.replace("postgresql+psycopg", "postgresql"), servers
        self.used: dict[str, float] = defaultdict(float)
        self.began: dict[tuple[str, int], float] = {}

    def _now(self) -> dict[tuple[str, int], float]:
        with psycopg.connect(self.dsn, autocommit=True) as db:
            backends = db.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            ).fetchall()
        groups = {"postgres": [row[0] for row in backends], "bench": [os.getpid()]}
        workers = [p for s in self.servers for p in _children(s)]
        groups["server"] = [*self.servers, *workers]
        groups["samplers"] = [p for w in workers for p in _children(w)]  # api.asks
        out = {(name, pid): cpu_seconds(pid) for name, pids in groups.items() for pid in pids}
        ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        out[("machine", 0)] = (sum(ticks[:8]) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")
        return out | {("wall", 0): time.perf_counter()}

    def start(self) -> None:
        self.began = self._now()

    def stop(self) -> None:
        for (name, pid), value in self._now().items():
            self.used[name] += value - self.began.get((name, pid), 0.0)
            if name == "server":  # and per process: how the accept race spread the load
                self.used[f"pid {pid}"] += value - self.began.get((name, pid), 0.0)

    def cores(self) -> dict[str, float]:
        return {k: v / self.used["wall"] for k, v in self.used.items() if k != "wall"}


def client(base: str) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    limits = httpx.Limits(max_connections=2, max_keepalive_connections=2)
    return httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=120)


async def lease_of(calls: Calls, http: httpx.AsyncClient, study: int) -> str:
    while True:
        answer = await calls.call(http, "ask", f"/studies/{study}/leases")
        if answer is not None and answer["outcome"] == "trial":
            return str(answer["lease"]["id"])
        await asyncio.sleep(answer["retry_after"] if answer else 1.0)


async def agent(
    base: str, study: int, calls: Calls, index: int, stop: float, args: argparse.Namespace
) -> int:
    """Ask, report one epoch every ``--period`` s (open loop), finish, again until ``stop``;
    trials run. Heartbeats go out on their own schedule, as an agent's heartbeat thread sends
    them (the client keeps 2 connections; a lock keeps one from racing its lease's finish)."""
    rng, trials, held, lock = random.Random(index), 0, [""], asyncio.Lock()
    offset, beat = index / args.agents * args.period, args.beat
    async with client(base) as http, client(args.ask_base) as asks:

        async def heartbeats() -> None:
            await asyncio.sleep(beat * index / args.agents)
            while True:
                async with lock:
                    if held[0]:
                        await calls.call(http, "heartbeat", f"/leases/{held[0]}/heartbeat")
                await asyncio.sleep(beat)

        beating = asyncio.create_task(heartbeats())
        await asyncio.sleep(offset)
        while time.perf_counter() < stop:
            held[0] = lease = await lease_of(calls, asks, study)
            values, began, state, over = curve(rng, EPOCHS), time.perf_counter(), "complete", False
            for epoch, value in enumerate(values, 1):
                due = began + epoch * args.period
                if due > stop:  # the run is over: end the trial as pruned, unrecorded
                    state, over = "pruned", True
                    break
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                calls.late += calls.recording and time.perf_counter() - due > 0.05
                body = {"epoch": epoch, "value": value}
                answer = await calls.call(http, "report", f"/leases/{lease}/report", body)
                if answer is None or answer["prune"]:
                    state = "pruned"
                    break
            finish = {"state": state, "value": values[-1] if state == "complete" else None}
            async with lock:
                held[0] = ""
                await calls.call(http, "finish", f"/leases/{lease}/finish", finish, not over)
            trials += 1
        beating.cancel()
    return trials


async def open_loop(
    base: str, study: int, args: argparse.Namespace, meter: Meter
) -> dict[str, Any]:
    """``--agents`` agents for ``--warmup`` + ``--seconds`` s; only the last ``--seconds`` count
    (the first asks load the study into each server process's cache)."""
    calls = Calls(recording=False)
    stop = time.perf_counter() + args.warmup + args.seconds

    async def window() -> None:
        await asyncio.sleep(args.warmup)
        calls.recording = True
        meter.start()
        await asyncio.sleep(max(0.0, stop - time.perf_counter()))
        meter.stop()

    measuring = asyncio.create_task(window())
    runs = await asyncio.gather(
        *(agent(base, study, calls, i, stop, args) for i in range(args.agents))
    )
    await measuring
    out = {c: calls.summary(c, args.seconds) for c in CALLS} | {"resent": calls.resent}
    return out | {"trials": sum(runs), "late_reports": calls.late, "cores": meter.cores()}


async def saturation(
    port: int, pid: int, study: int, concurrency: int, args: argparse.Namespace, meter: Meter
) -> dict[str, Any]:
    """Closed-loop reporters, in rounds: ask ``concurrency`` leases and open as many raw
    keep-alive connections, spread evenly over the uvicorn workers (bench/api_load.py's: the
    accept race piles a burst of them on one worker; raw HTTP costs the generator little CPU)
    (untimed); report epochs 1..10 on each lease back to back, ignoring prune answers (timed);
    finish them (untimed)."""
    calls, elapsed, rng, splits = Calls(), 0.0, random.Random(concurrency), []

    async def reporter(connection: Connection, lease: str, values: list[float]) -> None:
        for epoch, value in enumerate(values, 1):
            body = json.dumps({"epoch": epoch, "value": value}).encode()
            head = f"POST /leases/{lease}/report HTTP/1.1\r\nHost: bench\r\nAuthorization: "
            head += f"Bearer {TOKEN}\r\nContent-Type: application/json\r\n"
            sent = time.perf_counter()
            status = await _request(
                connection, f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body
            )
            calls.seconds["report"].append(time.perf_counter() - sent)
            calls.errors["report"] += status != 200

    async with client(f"http://127.0.0.1:{port}") as http:
        for _ in range(max(1, math.ceil(args.saturation_reports / (10 * concurrency)))):
            leases = await asyncio.gather(
                *(lease_of(calls, http, study) for _ in range(concurrency))
            )
            values = [curve(rng, EPOCHS) for _ in leases]
            connections, split = await _connect(port, concurrency, pid, args.server_workers, True)
            splits.append("/".join(map(str, split or ["?"])))
            began = time.perf_counter()
            meter.start()
            jobs = zip(connections, leases, values, strict=True)
            await asyncio.gather(*(reporter(*job) for job in jobs))
            meter.stop()
            elapsed += time.perf_counter() - began
            for _, writer in connections:
                writer.close()
            for lease, curve_ in zip(leases, values, strict=True):
                end = {"state": "complete", "value": curve_[-1]}
                await calls.call(http, "finish", f"/leases/{lease}/finish", end, False)
    out = {"concurrency": concurrency, **calls.summary("report", elapsed), "split": splits}
    return out | {"cores": meter.cores()}


async def ask_pairs(base: str, url: str, study: StudyInfo, pairs: int, warm: int) -> dict[str, Any]:
    """Interleaved HTTP asks and plain Optuna asks (order alternating), medians of ``pairs``."""
    plan = plan_of(study.spec, None)
    sampler = make_sampler(study.spec, 1, plan.space, plan.lr_centre)
    plain = optuna.load_study(study_name=study.name, storage=url, sampler=sampler)
    calls, times, rng = Calls(), [], random.Random(1)
    async with client(base) as http:
        for i in range(warm + pairs):
            calls.recording = i >= warm
            value = curve(rng, EPOCHS)[-1]
            for side in ("http", "plain") if i % 2 else ("plain", "http"):
                if side == "http":
                    lease = await lease_of(calls, http, study.id)
                    done = {"state": "complete", "value": value}
                    await calls.call(http, "finish", f"/leases/{lease}/finish", done, False)
                    continue
                started = time.perf_counter()
                trial = plain.ask()
                suggest(trial, plan.space)
                if i >= warm:
                    times.append(time.perf_counter() - started)
                plain.tell(trial, value)
    http_ms, plain_ms = (1000 * statistics.median(x) for x in (calls.seconds["ask"], times))
    return {
        "pairs": pairs,
        "http_ask_ms": http_ms,
        "plain_ask_ms": plain_ms,
        "ratio": http_ms / plain_ms,
    }


def usage(cores: dict[str, float]) -> str:
    names = {
        "server": "server",
        "samplers": "its sampling processes",
        "postgres": "PostgreSQL",
        "bench": "load generator",
    }
    parts = [f"{label} {cores.get(key, 0.0):.2f}" for key, label in names.items()]
    split = "/".join(f"{v:.2f}" for k, v in sorted(cores.items()) if k.startswith("pid "))
    return ", ".join(parts) + f"; whole machine {cores['machine']:.2f} (server by process {split})"


def table(rows: dict[str, dict[str, Any]]) -> None:
    print(
        f"{'call':<11}{'calls':>7}{'errors':>7}{'per s':>8}{'p50 ms':>9}{'p95 ms':>9}"
        f"{'p99 ms':>9}{'max ms':>9}{'p99 / 50 ms':>13}"
    )
    for name, r in rows.items():
        if not r.get("calls"):
            print(f"{name:<11}{0:>7}{r.get('errors', 0):>7}")
            continue
        print(
            f"{name:<11}{r['calls']:>7}{r['errors']:>7}{r.get('per_s', 0):>8.1f}"
            f"{r['p50_ms']:>9.1f}{r['p95_ms']:>9.1f}{r['p99_ms']:>9.1f}{r['max_ms']:>9.1f}"
            f"{r['p99_ms'] / GOAL_MS:>12.2f}x"
        )


def measure(url: str, args: argparse.Namespace) -> dict[str, Any]:
    """Prefill, serve, and the three phases in order; their figures."""
    store, results, at = Store(url), {}, {}  # at: finished trials as each phase starts
    study, note = prefill_study(store, args.trials)
    print(note)
    with ExitStack() as stack:
        port, pid = stack.enter_context(serving_all(url, args.server_workers, {}))
        ask_port, ask_pid = (port, pid)
        if args.split_asks:
            ask_port, ask_pid = stack.enter_context(serving_all(url, 1, {}))
        base, args.ask_base = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{ask_port}"
        servers = sorted({pid, ask_pid})
        at["ask"] = store.trials.counts(study)["finished"]
        results["ask_vs_optuna"] = asyncio.run(ask_pairs(args.ask_base, url, study, args.pairs, 3))
        at["open"] = store.trials.counts(study)["finished"]
        results["open_loop"] = asyncio.run(open_loop(base, study.id, args, Meter(url, servers)))
        at["saturation"] = store.trials.counts(study)["finished"]
        results["saturation"] = [
            asyncio.run(saturation(port, pid, study.id, c, args, Meter(url, servers)))
            for c in map(int, args.concurrency.split(","))
        ]
    results |= {"finished_at_start": at, "trials_at_end": store.trials.counts(study)}
    store.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=1000, help="finished trials prefilled")
    parser.add_argument("--agents", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60.0, help="open loop, measured")
    parser.add_argument("--warmup", type=float, default=15.0, help="open loop, not measured")
    parser.add_argument("--period", type=float, default=1.0, help="seconds between reports")
    parser.add_argument("--beat", type=float, default=5.0, help="seconds between heartbeats")
    parser.add_argument("--concurrency", default="1,4,16,32", help="closed-loop reporters")
    parser.add_argument("--saturation-reports", type=int, default=300, help="at least, per level")
    parser.add_argument("--pairs", type=int, default=30, help="ask vs plain Optuna, measured")
    parser.add_argument("--server-workers", type=int, default=2, help="uvicorn processes")
    parser.add_argument(
        "--split-asks",
        action="store_true",
        help="asks go to a second server (1 uvicorn process), as a proxy could route them",
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    header("Leased trials under load: ask, report, heartbeat, finish over HTTP")
    load_before, began = os.getloadavg(), time.perf_counter()
    print(
        f"PostgreSQL on loopback, Optuna {optuna.__version__}, httpx {httpx.__version__}; "
        f"started {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    results: dict[str, Any] = {"commit": commit(), "args": vars(args).copy()}
    with fresh_pg_database() as url:
        results |= measure(url, args)
    at = results["finished_at_start"]
    o, s, a = results["open_loop"], results["saturation"], results["ask_vs_optuna"]
    print(
        f"\n== 1. ask vs plain Optuna at {at['ask']:,} finished trials: {a['pairs']} "
        "interleaved pairs after 3 untimed =="
    )
    print(
        f"HTTP ask (claim, sample, record, bind, answer) median {a['http_ask_ms']:.1f} ms; "
        f"plain study.ask() + suggest median {a['plain_ask_ms']:.1f} ms"
    )
    print(
        f"\n== 2. open loop from {at['open']:,} finished trials: {args.agents} agents, one report "
        f"every {args.period:g} s each, heartbeat every {args.beat:g} s, {args.seconds:g} s "
        f"measured after {args.warmup:g} s warm-up; {args.server_workers} uvicorn worker(s)"
        + (", asks on a second server (1 worker)" if args.split_asks else "")
        + " =="
    )
    table({c: o[c] for c in CALLS})
    print(
        f"trials run by the agents {o['trials']}; reports sent over 50 ms late "
        f"{o['late_reports']}; calls sent again (connection closed by the server) {o['resent']}"
    )
    print(f"CPU in cores of {os.cpu_count()}, measured window: {usage(o['cores'])}")
    print(
        f"\n== 3. saturation from {at['saturation']:,} finished trials: closed-loop reporters, "
        "each on its own lease, epochs 1..10 back to back =="
    )
    print(
        f"{'reporters':>10}{'reports':>9}{'errors':>8}{'reports/s':>11}{'p50 ms':>9}{'p99 ms':>9}"
        "  CPU in cores while reporting"
    )
    for r in s:
        print(
            f"{r['concurrency']:>10}{r['calls']:>9}{r['errors']:>8}{r['per_s']:>11.1f}"
            f"{r['p50_ms']:>9.1f}{r['p99_ms']:>9.1f}  {usage(r['cores'])}"
            + f"; connections per worker {', '.join(sorted(set(r['split'])))}"
        )
    print(f"study at the end: {results['trials_at_end']}")
    goals = {
        "report p99 (open loop)": (o["report"].get("p99_ms", math.inf), GOAL_MS, "ms"),
        "finish p99 (open loop)": (o["finish"].get("p99_ms", math.inf), GOAL_MS, "ms"),
        "ask median / plain Optuna": (a["ratio"], GOAL_RATIO, "x"),
    }
    print("\n== Goals ==")
    errors = sum(o[c]["errors"] for c in CALLS)
    for name, (value, goal, unit) in goals.items():
        met = value <= goal and errors == 0
        print(f"{name} = {value:.2f} {unit} (goal <= {goal:g} {unit}) {'met' if met else 'MISSED'}")
    results["goals"] = {k: {"value": v, "goal": g} for k, (v, g, _) in goals.items()}
    before, after = (" ".join(f"{x:.2f}" for x in load) for load in (load_before, os.getloadavg()))
    print(f"total {time.perf_counter() - began:.0f} s; load average before {before}, after {after}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
