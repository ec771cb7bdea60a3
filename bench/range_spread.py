"""How steady is the LR range test's reading across seeds of one task?

A study's whole base-LR range is centred on one range test (search/plan.py: a decade either
side of its suggestion), so a reading that jumps between seeds of the same task moves the
search off the task's good LRs. Per task and seed this runs the product's range test (the
worker's call: ``lr_range_test(data, TrainConfig.of(spec))``) and reads each curve two ways:
the product's ``steepest`` (central slopes only, since c5fc18f) and the reading before it
(slopes clipped at the ends of the descent, so the last one ends at the loss minimum), kept
below as the baseline. Per task and reading: the median suggestion, the seed-to-seed spread
in decades (sd of log10) and the farthest reading from the median.

    .venv/bin/python bench/range_spread.py [--seeds 16] [--jobs 2] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import torch

from schedsearch.core import range_test as reading
from schedsearch.engine.range_test import lr_range_test

from common import commit, header, machine
from lr_placement import TASKS as UNSEEN
from quality_tasks import PRESETS, Task

TASKS: tuple[Task, ...] = (PRESETS["T1"], PRESETS["T2"], *UNSEEN)


def clipped(lrs: Sequence[float], losses: Sequence[float]) -> float:
    """The reading before c5fc18f: as ``reading.steepest``, except that a slope near either end
    of the descent is clipped to it (one-sided), so the last one ends at the loss minimum."""
    n = len(losses)
    first = int(n * reading.WARM_IN_FRACTION)
    lowest = min(range(first, n), key=lambda i: losses[i])
    drop = losses[first] - losses[lowest]
    if lowest - first < 2 or drop <= reading.MIN_DROP * abs(losses[first]):
        return lrs[lowest] / 10.0
    span = max(1, round(n * reading.SPAN_FRACTION))
    best, best_slope = lowest, 0.0
    for i in range(first, lowest + 1):
        left, right = max(first, i - span), min(lowest, i + span)
        run = math.log(lrs[right]) - math.log(lrs[left])
        slope = (losses[right] - losses[left]) / run if run > 0.0 else 0.0
        if slope < best_slope:
            best, best_slope = i, slope
    return lrs[best] if best_slope < 0.0 else lrs[lowest] / 10.0


READINGS: dict[str, Callable[[Sequence[float], Sequence[float]], float]] = {
    "central": reading.steepest,
    "clipped": clipped,
}


def job(task: Task, seed: int) -> dict[str, float]:
    """One task and seed: the suggestion under each reading."""
    torch.set_num_threads(1)
    test = lr_range_test(task.data(seed), task.config(seed))
    return {name: read(test.lrs, test.losses) for name, read in READINGS.items()}


def spread(suggestions: list[float]) -> dict[str, Any]:
    """One task's readings, summarised in log space (where the search range is centred)."""
    logs = [math.log10(s) for s in suggestions]
    middle = statistics.median(logs)
    return {
        "median": 10**middle,
        "sd_decades": statistics.stdev(logs),
        "farthest_decades": max(abs(x - middle) for x in logs),
        "suggestions": suggestions,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=16)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--json", type=Path, default=Path("bench/results/range_spread.json"))
    args = parser.parse_args()
    header("LR range test: the reading's spread across seeds")
    start = time.perf_counter()
    with ProcessPoolExecutor(args.jobs) as pool:
        futures = {(t.name, s): pool.submit(job, t, s) for t in TASKS for s in range(args.seeds)}
        runs = {key: future.result() for key, future in futures.items()}
    report: dict[str, Any] = {}
    print(f"\n{'task':24s} {'reading':8s} {'median':>8s} {'sd (dec)':>9s} {'farthest':>9s}")
    for task in TASKS:
        report[task.name] = {}
        for name in READINGS:
            out = spread([runs[(task.name, s)][name] for s in range(args.seeds)])
            report[task.name][name] = out
            print(
                f"{task.name:24s} {name:8s} {out['median']:8.3g} {out['sd_decades']:9.2f} "
                f"{out['farthest_decades']:9.2f}   "
                + " ".join(f"{s:.2g}" for s in out["suggestions"])
            )
    elapsed = time.perf_counter() - start
    print(f"elapsed {elapsed:.0f} s")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    payload = {"commit": commit(), "machine": machine(), "seeds": args.seeds}
    payload |= {"tasks": report, "elapsed_s": elapsed}
    args.json.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
