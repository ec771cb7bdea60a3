"""Fuzz the whole API of a real server with an admin token (issue 14): how many cases, the
answers by status class, how many 5xx, and the slowest and 99th-percentile answer times.

``schedsearch serve`` (uvicorn, one worker) runs in a subprocess on a fresh SQLite file in a
temporary folder, with one admin token (``SCHEDSEARCH_API_TOKENS``). Four studies are created
through the API first, three built-in and one external with a lease taken, so that paths naming
a study or a lease find one. Then, one request at a time:

1. schemathesis's engine (what ``st run`` runs) over ``/openapi.json`` as served: the examples,
   coverage, fuzzing and stateful phases, positive and negative data, ``--max-examples`` per
   operation and phase, the token on every request. ``tests/api/fuzz_cases.add_non_finite``
   hooks into the fuzzing phase: half the JSON bodies and query strings it draws get a NaN,
   Infinity or -Infinity. Every answer is recorded by a pair of call hooks, with the wall time
   from just before the request is built to the answer read whole.
2. ``tests/api/fuzz_cases.hostile``: every non-finite token in every query and path parameter
   and at every place of each JSON body, each number field at its bounds and far past them, and
   the large bodies to every POST (5 MB declared, 2 MB streamed, ~1 MB of strings, keys, items
   and nesting), timed the same way around httpx; a large body must get a small 4xx that does
   not quote it.

A case is one request. The figures cover both parts; the engine's own check failures (a 5xx, or
an answer over 2 s), the hostile cases' problems and the server's tracebacks are listed at the
end. RESULTS.md ran ``--max-examples 500`` (about 3.5 min on 2 cores).

    .venv/bin/python bench/fuzz_api.py [--max-examples 100] [--seed 0]
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import schemathesis
from schemathesis.engine import events

from common import ROOT, header, serving

sys.path.insert(0, str(ROOT))
from tests.api.fuzz_cases import (
    LIMIT,
    add_non_finite,
    has_non_finite,
    hostile,
    problems,
    send,
)

TOKEN = "bench-fuzz-admin"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class Record:
    """Every answer: its source, status and seconds."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, int, float, str]] = []
        self.non_finite_bodies = 0  # schemathesis's bodies with a NaN or an infinity

    def add(self, source: str, status: int, seconds: float, what: str) -> None:
        self.rows.append((source, status, seconds, what))


def seed_studies(client: httpx.Client) -> dict[str, str]:
    """Studies to find by name and id, and a lease when the API hands them out."""
    for name in ("s1", "fuzzed", "other"):
        spec = {"name": name, "n_trials": 3, "epochs": 1}
        client.post("/studies", json=spec, headers=AUTH).raise_for_status()
    known = {"study": "s1", "kind": "history"}
    openapi = client.get("/openapi.json", headers=AUTH).json()
    if "/studies/{study}/leases" in openapi["paths"]:
        spec = {"name": "ext", "trainer": "external", "n_trials": 5, "epochs": 2}
        client.post("/studies", json=spec, headers=AUTH).raise_for_status()
        asked = client.post("/studies/ext/leases", headers=AUTH).json()
        known["lease"] = asked["lease"]["id"]
    return known


def run_schemathesis(base: str, max_examples: int, seed: int, record: Record) -> list[str]:
    """The engine over the served description; the failures it reports, one line each."""
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json", headers=AUTH)
    schema.config.update(headers=AUTH, base_url=base, continue_on_failure=True)
    schema.config.generation.update(
        max_examples=max_examples, with_security_parameters=False, deterministic=False
    )
    schema.config.seed = seed
    schema.config.checks.update(
        included_check_names=["not_a_server_error", "max_response_time"], max_response_time=LIMIT
    )
    add_non_finite(schema)
    started: dict[int, float] = {}

    @schemathesis.hook  # global: schemathesis calls before_call hooks from there only
    def before_call(context: Any, case: Any, kwargs: Any) -> None:
        started[id(case)] = time.perf_counter()

    @schema.hook
    def after_call(context: Any, case: Any, response: Any) -> None:
        seconds = time.perf_counter() - started.pop(id(case), math.nan)
        what = f"{case.method} {case.path}"
        if response.status_code >= 500:
            what = f"{case.method} {case.formatted_path} {case.query or ''} {case.body!r:.500}"
        record.add("schemathesis", response.status_code, seconds, what)
        record.non_finite_bodies += has_non_finite(case.body)

    failures = []
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            for check in event.recorder.checks.values():
                failures += [
                    f"{event.label}: {c.name}: {c.failure_info.failure.title}\n"
                    f"    {c.failure_info.code_sample}"
                    for c in check
                    if c.failure_info is not None
                ]
        elif isinstance(event, events.NonFatalError | events.FatalError):
            failures.append(f"engine error: {event.info.title}: {str(event.info)[:300]}")
    return failures


def run_hostile(base: str, known: dict[str, str], record: Record) -> list[str]:
    found = []
    with httpx.Client(base_url=base, timeout=30) as client:
        openapi = client.get("/openapi.json", headers=AUTH).json()
        for case in hostile(openapi, known):
            status, text, seconds = send(client, case, AUTH)
            record.add(case.kind, status, seconds, case.what)
            found += problems(case, status, text, seconds)
    return found


def tracebacks(log: str) -> list[str]:
    """Each traceback in the server's output: its last frames and its exception's lines."""
    blocks: list[list[str]] = []
    for line in log.splitlines():
        if line.startswith("Traceback"):
            blocks.append([])
        elif line.startswith(("INFO:", "WARNING:", "ERROR:", "During handling")):
            continue
        if blocks:
            blocks[-1].append(line)
    return ["\n".join(block[-12:]) for block in blocks]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def summary(label: str, rows: list[Any]) -> tuple[Counter[str], list[float]]:
    """One line: cases, answers by status class, slowest and p99; the classes and times."""
    classes = Counter(f"{status // 100}xx" for _, status, _, _ in rows)
    seconds = [s for _, _, s, _ in rows]
    print(
        f"{label:13s} {len(rows):6d} cases  "
        + "  ".join(f"{k} {classes[k]}" for k in sorted(classes))
        + f"  max {max(seconds) * 1000:.0f} ms  p99 {percentile(seconds, 0.99) * 1000:.0f} ms"
    )
    return classes, seconds


def report(record: Record, wall: float) -> None:
    rows = record.rows
    print(f"\n{len(rows)} cases in {wall:.0f} s")
    for source in ("schemathesis", "non-finite", "bounds", "large"):
        if mine := [r for r in rows if r[0] == source]:
            summary(source, mine)
    classes, seconds = summary("all", rows)
    print(f"5xx: {classes['5xx']}; over {LIMIT:.0f} s: {sum(s >= LIMIT for s in seconds)}")
    print(f"schemathesis bodies with a non-finite number: {record.non_finite_bodies}")
    errors = [r for r in rows if r[1] >= 500]
    if errors:
        print("5xx (first 5):")
        for source, status, _, what in errors[:5]:
            print(f"  {status}  {source}: {what}")
    print("slowest:")
    for source, status, s, what in sorted(rows, key=lambda r: -r[2])[:5]:
        print(f"  {s * 1000:7.0f} ms  {status}  {source}: {what}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-examples", type=int, default=100, help="per operation and phase")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    header("API fuzz (bench/fuzz_api.py)")
    print(f"schemathesis {schemathesis.__version__}, max examples {args.max_examples}")
    record = Record()
    with tempfile.TemporaryDirectory(prefix="schedsearch-fuzz-") as folder:
        url = f"sqlite:///{Path(folder) / 'fuzz.db'}"
        env = {"SCHEDSEARCH_API_TOKENS": f"fuzzer:admin:{TOKEN}"}
        log = Path(folder) / "server.log"
        with serving(url, env=env, log=log) as (port, _):
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=base, timeout=30) as client:
                known = seed_studies(client)
            started = time.perf_counter()
            failures = run_schemathesis(base, args.max_examples, args.seed, record)
            failures += run_hostile(base, known, record)
            wall = time.perf_counter() - started
        errors = tracebacks(log.read_text())
    report(record, wall)
    print(f"failures: {len(failures)}")
    for line in failures[:40]:
        print(f"  {line}")
    print(f"tracebacks in the server's log: {len(errors)}")
    for block in errors[:3]:
        print(block)


if __name__ == "__main__":
    main()
