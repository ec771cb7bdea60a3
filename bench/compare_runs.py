"""Before and after a product change: one method of two search_quality.py runs, seed by seed.

Both runs must use the same task, seeds and machine (each seed draws its own split, so the
pairs are paired); usually the "before" run is the previous commit's checkout run with
``PYTHONPATH`` pointing at it. Prints after - before with its 95% interval, the Wilcoxon p and
the wins, by ``stats.paired`` (the benchmark's own statistics).

    python bench/compare_runs.py BEFORE.json AFTER.json [--task T1] [--method default]

Runs over other seeds of the same task pool: ``BEFORE1.json,BEFORE2.json AFTER1.json,AFTER2.json``
(a seed in two runs of one side is refused).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from stats import paired


def compare(before: dict, after: dict, task: str, method: str) -> str:
    for run in (before, after):
        if task not in run or method not in run[task]["methods"]:
            raise SystemExit(f"compare_runs: no {task}/{method} in one of the runs")
    if before["seeds"] != after["seeds"]:
        raise SystemExit("compare_runs: the runs used different seeds; pairs would not pair")
    setups = [
        {k: v for k, v in run["tasks"][task].items() if k != "methods"} for run in (before, after)
    ]
    if setups[0] != setups[1]:
        raise SystemExit(f"compare_runs: {task} differs between the runs: {setups}")
    b = before[task]["methods"][method]["per_seed"]
    a = after[task]["methods"][method]["per_seed"]
    r = paired(a, b)
    low, high = r["ci95"]
    return (
        f"{task} {method}: before {sum(b) / len(b):.4f} ({before['commit']}), after "
        f"{sum(a) / len(a):.4f} ({after['commit']}); after - before {r['mean']:+.4f} "
        f"[{low:+.4f}, {high:+.4f}], Wilcoxon p {r['wilcoxon_p']:.3f}, wins/ties/losses "
        f"{r['wins']}/{r['ties']}/{r['losses']}, {len(a)} seeds"
    )


def pooled(paths: list[Path]) -> dict:
    """Several runs of one side as one: seeds and per-seed figures concatenated per task and
    method (a task's setup and the commit must agree; a seed may appear once)."""
    runs = [json.loads(path.read_text()) for path in paths]
    first = runs[0]
    seeds = [seed for run in runs for seed in run["seeds"]]
    if len(set(seeds)) != len(seeds):
        raise SystemExit("compare_runs: a seed appears in two runs of one side")
    if any(run["commit"] != first["commit"] for run in runs):
        raise SystemExit("compare_runs: the runs of one side are of different commits")
    merged = {**first, "seeds": seeds}
    for task in first["tasks"]:
        for run in runs[1:]:
            if task not in run:
                raise SystemExit(f"compare_runs: {task} is not in every run of one side")
            if run["tasks"][task] != first["tasks"][task]:
                raise SystemExit(f"compare_runs: {task} differs between the runs of one side")
        merged[task] = {
            "methods": {
                method: {
                    "per_seed": [
                        x for run in runs for x in run[task]["methods"][method]["per_seed"]
                    ]
                }
                for method in first[task]["methods"]
                if all(method in run[task]["methods"] for run in runs)
            }
        }
    return merged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", help="a run's JSON, or several (comma-separated) to pool")
    parser.add_argument("after", help="the same, after the change")
    parser.add_argument("--task", help="default: every task in both runs")
    parser.add_argument("--method", default="default")
    args = parser.parse_args()
    before, after = (
        pooled([Path(p) for p in side.split(",")]) for side in (args.before, args.after)
    )
    tasks = [args.task] if args.task else [t for t in after["tasks"] if t in before["tasks"]]
    for task in tasks:
        print(compare(before, after, task, args.method))


if __name__ == "__main__":
    main()
