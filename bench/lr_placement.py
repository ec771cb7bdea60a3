"""Where is the best base LR, relative to the LR range test's suggestion? Measured on tasks
that are not the search-quality benchmark's, to choose the base-LR range the range test centres
(search/plan.py) without tuning it to that benchmark's tasks or seeds.

For each task and seed: the product's range test on the seed's split (the worker's call:
``lr_range_test(data, TrainConfig.of(spec))``) gives the suggestion s; then two folklore
recipes (cosine, and a late one-step decay: multistep at 0.75 of the run) train to the end at
LR = s x m for each multiplier m, and the validation accuracy at the end is kept. Per task:
the multiplier with the best mean validation accuracy, and each multiplier's mean. The tasks
vary what the range test cannot see: the horizon (epochs), label noise, model and optimizer.

    .venv/bin/python bench/lr_placement.py [--seeds 3] [--jobs 2] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import torch

from schedsearch.core.schedules import Cosine, MultiStep, ScheduleBase
from schedsearch.engine.range_test import lr_range_test
from schedsearch.engine.train import train

from common import commit, header, machine
from quality_tasks import Task

MULTIPLIERS = (1 / 100, 1 / 30, 1 / 10, 1 / 3, 1.0, 3.0, 10.0)
RECIPES: dict[str, ScheduleBase] = {
    "cosine": Cosine(eta_min=0.0),
    "late-step": MultiStep(milestones=(0.75,), gamma=0.1),
}


# None of these is a benchmark task (T1: cnn-small/sgd/4 epochs/augment; T2: cnn-small/sgd/
# 25 epochs/40% noise; T1-adamw: T1 with AdamW).
# The benchmark's Task (dataset, model, optimizer, epochs, noise, augmentation), its runs unused.
TASKS = (
    Task("small-sgd-10", epochs=10, augment=False),
    Task("small-sgd-40", epochs=40, augment=False),
    Task("small-sgd-15-noise20", epochs=15, label_noise=0.2, augment=False),
    Task("medium-sgd-8-aug", model="cnn-medium", epochs=8),
    Task("resnet8-sgd-12", model="resnet8", epochs=12, augment=False),
    Task("small-adamw-15-noise20", optimizer="adamw", epochs=15, label_noise=0.2, augment=False),
)


def job(task: Task, seed: int) -> dict[str, Any]:
    """One task and seed: the suggestion, and the final validation accuracy per recipe and
    multiplier."""
    torch.set_num_threads(1)
    data, config = task.data(seed), task.config(seed)
    suggestion = lr_range_test(data, config).suggestion
    scores: dict[str, dict[str, float]] = {}
    for recipe, schedule in RECIPES.items():
        scores[recipe] = {}
        for m in MULTIPLIERS:
            result = train(data, config, schedule, suggestion * m)
            scores[recipe][f"{m:.4g}"] = 0.0 if result.diverged else result.final_accuracy
    return {"task": task.name, "seed": seed, "suggestion": suggestion, "scores": scores}


def summarise(task: Task, runs: list[dict[str, Any]]) -> dict[str, Any]:
    keys = [f"{m:.4g}" for m in MULTIPLIERS]
    mean = {
        recipe: {k: statistics.mean(r["scores"][recipe][k] for r in runs) for k in keys}
        for recipe in RECIPES
    }
    best = {recipe: max(keys, key=lambda k, r=recipe: mean[r][k]) for recipe in RECIPES}
    return {
        "task": task.name,
        "suggestions": [r["suggestion"] for r in runs],
        "mean": mean,
        "best_multiplier": best,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--json", type=Path, default=Path("bench/results/lr_placement.json"))
    args = parser.parse_args()
    header("LR placement: the best base LR relative to the range test's suggestion")
    started = time.perf_counter()
    with ProcessPoolExecutor(args.jobs) as pool:
        futures = {
            (task, seed): pool.submit(job, task, seed)
            for task in TASKS
            for seed in range(args.seeds)
        }
        results = {key: future.result() for key, future in futures.items()}
    summaries = [summarise(t, [results[t, s] for s in range(args.seeds)]) for t in TASKS]
    columns = "".join(f"{'x' + format(m, '.3g'):>9}" for m in MULTIPLIERS)
    print(f"{'task':<24}{'recipe':<10}{'suggestion':>11}{columns}  best")
    for summary in summaries:
        for recipe in RECIPES:
            row = summary["mean"][recipe]
            median = statistics.median(summary["suggestions"])
            cells = "".join(f"{row[f'{m:.4g}']:>9.4f}" for m in MULTIPLIERS)
            best = float(summary["best_multiplier"][recipe])
            print(
                f"{summary['task']:<24}{recipe:<10}{median:>11.3g}{cells}  x{best:.3g} "
                f"({math.log10(best):+.1f} decades)"
            )
    elapsed = time.perf_counter() - started
    print(f"(mean final validation accuracy over {args.seeds} seeds; suggestion: median)")
    print(f"elapsed {elapsed:.0f} s")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    payload = {"commit": commit(), "machine": machine(), "seeds": args.seeds}
    payload |= {"multipliers": MULTIPLIERS, "tasks": summaries, "elapsed_s": elapsed}
    args.json.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
