"""What do the re-runs buy? The measurement behind the re-run phase's default size.

The default search ends with a re-run phase (``rerun_top_k`` 2: the top 2 configs and one more,
each trained again on 2 fresh seeds, the pick being the best mean) that takes a quarter of a
budget of 24 runs. On a noisy task those 6 runs are 6 trials the search does not get. This
script asks whether re-running more configs picks better ones, on tasks the search-quality
benchmark does not use (seeds 100 and up): per task and seed it runs the default study as a
user submits it (``budget_epochs`` = 24 runs), and scores on the test split (held out from
every choice; the re-runs record it) three picks from the same re-run candidates:

  k2  what the study picked (best re-run mean over the top 2 and one more)
  k1  what ``rerun_top_k`` 1 would have picked: the top config and the one more its rule
      adds (the best folklore recipe when the top config is none, else the next best); both
      are always among k2's candidates, so the counterfactual is exact for the selection
  k0  the search's own top config, no re-runs

The test means are over the candidates' 2 re-run seeds, the same seeds that chose among them,
which favours k2 and k1 over k0 (a lucky seed is lucky on both splits). What it cannot say:
how much the epochs the re-runs take would have bought as more search trials.

    .venv/bin/python bench/rerun_value.py [--tasks noise30-15,noise20-8,clean-4] [--seeds 16]
        [--first-seed 100] [--jobs 2] [--out bench/results/rerun_value.json]
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import tempfile
import time
from pathlib import Path
from typing import Any

import stats

from common import ROOT, commit, header, machine
from quality_tasks import Task

# Tasks the search-quality benchmark does not run: label noise and horizons between and beside
# its T1 (clean, 4 epochs) and T2 (40% noise, 25 epochs).
TASKS = {
    "noise30-15": Task("noise30-15", epochs=15, label_noise=0.3, augment=False),
    "noise20-8": Task("noise20-8", epochs=8, label_noise=0.2, augment=False),
    "clean-4": Task("clean-4", epochs=4, augment=True),
}
PICKS = ("k2", "k1", "k0")


def study(job: tuple[str, int, str]) -> tuple[str, int, list[dict[str, Any]]]:
    """One default study (in its own spawned process, one thread); its re-run candidates."""
    name, seed, folder = job
    import torch

    torch.set_num_threads(1)
    logging.disable(logging.WARNING)
    from schedsearch.reports.results import best_config
    from schedsearch.store import Store
    from schedsearch.worker.runner import run_study

    task = TASKS[name]
    spec = task.spec(seed, f"rerun-value-{name}-{seed}", budget_epochs=task.budget)
    url = f"sqlite:///{folder}/{spec.name}.db"
    info = run_study(spec, url, device="cpu", progress=False)
    store = Store(url)  # a pool process runs many studies: each store is closed after
    try:
        choice = best_config(store, info)
    finally:
        store.close()
    assert choice is not None and choice["rerun"] is not None, f"{spec.name}: no re-run phase"
    return name, seed, choice["rerun"]["candidates"]


def picks(candidates: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The k2, k1 and k0 picks among one study's candidates (see the module docstring), in a
    maximising study whose re-runs all finished (as every study here is)."""
    assert all(c["mean"] is not None for c in candidates), "a re-run did not finish"
    # The study's order: search value, ties to the lower trial number (``rerun.start``).
    ranked = sorted(candidates, key=lambda c: (-c["search_value"], c["trial_number"]))
    top, rest = ranked[0], ranked[1:]
    # The one more: the next best when the top is a recipe, else the best recipe (none if the
    # study ran none: then k1 re-runs the top config alone).
    more = rest[0] if top["recipe"] and rest else next((c for c in rest if c["recipe"]), None)
    better = more is not None and more["mean"] > top["mean"]  # ties: the top, queued first
    return {
        "k2": candidates[0],  # ranked by the product (``rerun.rank``): its pick
        "k1": more if better else top,
        "k0": top,
    }


def report(found: dict[str, dict[int, list[dict[str, Any]]]]) -> dict[str, Any]:
    """Per task: the picks' mean test accuracy, and k2 - k1, k2 - k0, k1 - k0 seed by seed."""
    out: dict[str, Any] = {}
    for name, by_seed in found.items():
        seeds = sorted(by_seed)
        chosen = [picks(by_seed[s]) for s in seeds]  # once per seed
        tests = {p: [c[p]["test_mean"] for c in chosen] for p in PICKS}
        within = [c["std"] for s in seeds for c in by_seed[s] if c["std"] is not None]
        out[name] = {
            "seeds": seeds,
            "mean": {p: stats.mean_sd(tests[p])[0] for p in PICKS},
            "within_config_val_sd": stats.mean_sd(within)[0],
            "paired": {
                f"{a} - {b}": stats.paired(tests[a], tests[b])
                for a, b in (("k2", "k1"), ("k2", "k0"), ("k1", "k0"))
            },
            "candidates": {str(s): by_seed[s] for s in seeds},
        }
    return out


def markdown(figures: dict[str, Any]) -> str:
    lines = [
        "| task | seeds | k2 (top 2 + 1) | k1 (top 1 + 1) | k0 (no re-runs) | pair | "
        "difference | 95% CI | w/t/l | largest |",
        "| --- | ---: | ---: | ---: | ---: | --- | ---: | --- | --- | ---: |",
    ]
    for name, task in figures.items():
        mean = task["mean"]
        for pair, p in task["paired"].items():
            low, high = p["ci95"]
            interval = "n/a (one seed)" if low is None else f"[{low:+.4f}, {high:+.4f}]"
            largest = max(p["per_seed"], key=abs)
            lines.append(
                f"| {name} | {p['n']} | {mean['k2']:.4f} | {mean['k1']:.4f} | {mean['k0']:.4f} "
                f"| {pair} | {p['mean']:+.4f} | {interval} "
                f"| {p['wins']}/{p['ties']}/{p['losses']} | {largest:+.4f} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", default=",".join(TASKS), help=f"of {', '.join(TASKS)}")
    parser.add_argument("--seeds", type=int, default=16)
    parser.add_argument("--first-seed", type=int, default=100, help="100+: unseen by T1/T2")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "rerun_value.json"))
    args = parser.parse_args()
    names = args.tasks.split(",")
    unknown = sorted(set(names) - set(TASKS))
    if unknown:
        parser.error(f"--tasks: unknown {', '.join(unknown)} (known: {', '.join(TASKS)})")
    header("what the re-runs buy: picks by re-run mean against the search's own top config")
    out = Path(args.out)
    folder = tempfile.mkdtemp(prefix="rerun_value-")  # the studies' SQLite files
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    jobs = [(n, s, folder) for n in names for s in seeds]
    found: dict[str, dict[int, list[dict[str, Any]]]] = {n: {} for n in names}
    started = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(args.jobs) as pool:
        for name, seed, candidates in pool.imap_unordered(study, jobs):
            found[name][seed] = candidates
    elapsed = time.perf_counter() - started
    figures = report(found)
    print(markdown(figures))
    print(f"\nelapsed {elapsed:.0f} s; studies in {folder}")
    facts = {"commit": commit(), "machine": machine(), "seconds": elapsed, "args": vars(args)}
    out.write_text(json.dumps({**facts, "tasks": figures}, indent=1))


if __name__ == "__main__":
    main()
