"""How much better than the folklore grid's pick can a pick be? The headroom behind the
search-quality goals, measured on the benchmark's own tasks, splits and retrain seeds.

The goals ask the default search to beat baselines by a lower 95% bound above 0. That needs
better configs to exist and to be found reliably: where the grid's pick is about as good as the
best config there is, the goals cannot be met by a margin the seeds resolve. So per seed, every
folklore recipe at every LR of the three grid placements (6 recipes x 6 LRs, the grid job of
``search_quality.py``) is trained once on the study seed (its validation score: what the grids
pick by) and three times with the benchmark's salted retrain seeds (its test score: what the
benchmark scores a pick by). From that table, with no further training:

- ``grid-low/mid/high``: the placements' picks, scored as the benchmark scores them;
- ``hindsight``: the config with the best test score on that very seed; an upper bound for
  any pick among these configs, flattered by choosing on the scores it reports;
- ``best-fixed``: the one config with the best mean test score over the *other* seeds, scored
  on this one (leave one seed out): an oracle for the task (it knows the test scores of other
  splits), not for the seed, so not flattered by the seed's own luck. Its leave-one-out picks
  share seeds, so the paired intervals against it are approximate.

These are configs of the grid only; a search also samples other families, parameters and LRs
between the grid's. So a goal that even ``hindsight`` misses is one no pick *among the grid's
configs* meets at this number of seeds; whether the rest of the space holds better configs is
told by the searching methods paired with it.

``--against [LABEL=]RESULTS.json`` pairs these, seed by seed, with the methods of a
``search_quality.py`` run on the same machine (the same pick retrains to the same score only on
one machine). Unlabelled (one run), it also states the goals as ``hindsight`` and
``best-fixed`` would meet them in the default's place, and checks that the grids' scores here
equal the run's (``grid_check``); a LABEL only adds that run's methods as METHOD@LABEL.
``--table`` re-summarises a run's JSON without training.

    .venv/bin/python bench/headroom.py --task T2 [--seeds 16] [--jobs 2] [--against J] [--table J]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import stats

from common import ROOT, commit, header, machine
from quality_methods import folklore_outcomes, retrain_job, runs_job
from quality_tasks import GRIDS, PRESETS, Config, Task, quiet

DERIVED = ("hindsight", "best-fixed")


def job(task: Task, seed: int) -> dict[str, Any]:
    """One seed: each grid config's validation score and test scores, and the grids' picks."""
    quiet()
    runs = runs_job(task, seed, "grid")
    picks = {grid: o.pick for grid, o in folklore_outcomes(task, seed, runs).items()}
    table: dict[str, dict[str, Any]] = {}
    for _, step in sorted(runs.items()):
        config = step.config
        assert config is not None, "every grid run offers its config"
        tests = retrain_job(task, seed, config)
        table[_key(config)] = {"label": config.label(), "val": step.value, "tests": tests}
    chosen = {grid: _key(pick) for grid, pick in picks.items() if grid in GRIDS}
    return {"seed": seed, "configs": table, "picks": chosen}


def _key(config: Config) -> str:
    return f"{config.schedule}@{config.base_lr!r}"


def summarise(runs: list[dict[str, Any]], against: dict[str, dict[int, float]]) -> dict[str, Any]:
    """Per method, the test score on each seed; derived picks; paired differences."""
    runs = sorted(runs, key=lambda r: r["seed"])
    mean = {  # rounded: equal sums of k/1077 scores may differ in the last bit
        r["seed"]: {k: round(statistics.fmean(c["tests"]), 12) for k, c in r["configs"].items()}
        for r in runs
    }
    per_seed: dict[str, list[float]] = {grid: [] for grid in GRIDS}
    per_seed |= {name: [] for name in DERIVED}
    chosen: dict[str, list[str]] = {name: [] for name in DERIVED}
    for r in runs:
        seed, scores = r["seed"], mean[r["seed"]]
        for grid in GRIDS:
            per_seed[grid].append(scores[r["picks"][grid]])
        top = max(scores, key=lambda k: scores[k])
        others = [mean[s] for s in mean if s != seed]
        assert others, "best-fixed needs another seed to choose on"
        fixed = max(scores, key=lambda k: statistics.fmean(o[k] for o in others))
        for name, key in (("hindsight", top), ("best-fixed", fixed)):
            per_seed[name].append(scores[key])
            chosen[name].append(r["configs"][key]["label"])
    seeds = [r["seed"] for r in runs]
    for method, values in against.items():  # by seed
        if all(s in values for s in seeds) and method not in per_seed:
            per_seed[method] = [values[s] for s in seeds]
    best_grid = stats.best_placement(per_seed)
    assert best_grid is not None, "every seed scores the three placements"
    methods = {
        m: dict(zip(("mean", "sd"), stats.mean_sd(v), strict=True)) for m, v in per_seed.items()
    }
    searched = [m for m in per_seed if m not in (*GRIDS, *DERIVED)]
    vs = {
        f"{m} - {b}": stats.paired(per_seed[m], per_seed[b])
        for m in searched
        for b in (best_grid, "best-fixed")
    }
    # The goals as the derived picks would meet them in the default's place (the half-compute
    # goal is about another run, so it is left out).
    rivals = {m: v for m, v in per_seed.items() if m != "default-half"}
    goals = {}
    for name in DERIVED:
        vs_name = {m: stats.paired(per_seed[name], v) for m, v in rivals.items() if m != name}
        vs |= {f"{name} - {m}": p for m, p in vs_name.items()}
        goals[name] = [
            g | {"goal": g["goal"].replace("of default - ", f"of {name} - ")}
            for g in stats.goals(rivals, vs_name, best_grid)
        ]
    # The same grid pick retrains to the same score here as in the run paired with (one
    # machine): the largest difference, per placement (0 when both agree throughout).
    check = {
        g: max(round(abs(a - against[g][s]), 9) for a, s in zip(per_seed[g], seeds, strict=True))
        for g in GRIDS
        if g in against and all(s in against[g] for s in seeds)
    }
    return {
        "seeds": seeds,
        "best_grid": best_grid,
        "methods": methods,
        "per_seed": per_seed,
        "picks": chosen,
        "paired": vs,
        "goals": goals,
        "grid_check": check,
    }


def report(task: Task, summary: dict[str, Any]) -> None:
    print(
        f"\n### {task.name}: {len(summary['seeds'])} seeds; best placement {summary['best_grid']}"
    )
    print("\n| method | test acc, mean | sd |\n| --- | ---: | ---: |")
    for method, figures in summary["methods"].items():
        print(f"| {method} | {figures['mean']:.4f} | {figures['sd']:.4f} |")
    print("\n| difference | mean | 95% CI | wins/ties/losses |\n| --- | ---: | --- | --- |")
    for name, p in summary["paired"].items():
        low, high = p["ci95"]
        print(
            f"| {name} | {p['mean']:+.4f} | [{low:+.4f}, {high:+.4f}] | "
            f"{p['wins']}/{p['ties']}/{p['losses']} |"
        )
    for name, goals in summary["goals"].items():
        print(f"\nGoals, were {name} the default's pick:\n\n| goal | value | target | met |")
        print("| --- | ---: | ---: | --- |")
        for g in goals:
            met = "yes" if g["met"] else "**no**"
            print(f"| {g['goal']} | {g['value']:+.4f} | {g['target']:+.3f} | {met} |")
    if summary["grid_check"]:
        worst = max(summary["grid_check"].values())
        print(f"\ngrid picks against the paired run: largest difference {worst:.4f}")
    for name, labels in summary["picks"].items():
        counts = statistics.multimode(labels)
        print(f"- {name} picked: {', '.join(labels)} (most often: {', '.join(counts)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="T2", choices=sorted(PRESETS))
    parser.add_argument("--seeds", type=int, default=16)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument(
        "--against",
        action="append",
        default=[],
        metavar="[LABEL=]JSON",
        help="a search_quality.py JSON whose methods to pair with (LABEL names them); repeat",
    )
    parser.add_argument("--table", type=Path, help="summarise this run's JSON; train nothing")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    task = PRESETS[args.task]
    header(f"headroom: the grid's configs, scored as the benchmark scores them ({task.name})")
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    if len(seeds) < 2 and not args.table:
        parser.error("--seeds: at least 2 (best-fixed leaves one out)")
    started = time.perf_counter()
    measured = commit()
    if args.table:  # the training was done: its commit and time are the figures' own
        table = json.loads(args.table.read_text())
        runs, elapsed, measured = table["runs"], table["elapsed_s"], table["commit"]
    else:
        with ProcessPoolExecutor(args.jobs) as pool:
            runs = list(pool.map(job, [task] * len(seeds), seeds))
        elapsed = time.perf_counter() - started
    against: dict[str, dict[int, float]] = {}
    for given in args.against:
        label, _, path = given.rpartition("=")
        results = json.loads(Path(path).read_text())
        if task.name not in results:
            parser.error(f"--against {path}: no {task.name} in it")
        for method, figures in results[task.name]["methods"].items():
            name = f"{method}@{label}" if label else method
            if name in against:
                parser.error(f"--against {path}: {name} is in two runs; label one (LABEL=path)")
            against[name] = dict(zip(results["seeds"], figures["per_seed"], strict=True))
    summary = summarise(runs, against)
    report(task, summary)
    print(f"\nelapsed {elapsed:.0f} s")
    out = args.out or ROOT / "bench" / "results" / f"headroom_{task.name}.json"
    payload = {
        "commit": measured,
        "machine": machine(),
        "task": task.name,
        "elapsed_s": elapsed,
        "against": args.against,
        **summary,
        "runs": runs,
    }
    out.write_text(json.dumps(payload, indent=1) + "\n")
    print(f"JSON: {out}")


if __name__ == "__main__":
    main()
