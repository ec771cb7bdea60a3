"""Do early epochs predict the end? The measurement behind the ``auto`` pruner's threshold.

For a task (dataset, model, optimizer, epochs per trial, label noise, augmentation), draw
configs at random from the product's default search space, train each to the end, and report
per epoch the rank correlation (Spearman) between the validation accuracy so far and the final
one, and how often the final top 3 are still in the top third at that epoch (what a pruner
that keeps a third, like Hyperband with factor 3, would spare).

    .venv/bin/python bench/fidelity.py --epochs 4 --augment --seeds 3 --configs 24
    .venv/bin/python bench/fidelity.py --epochs 25 --noise 0.4 --seeds 3 --configs 24
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import optuna
import scipy.stats
import torch

from schedsearch.core.space import suggest
from schedsearch.engine.train import TrainConfig, train

from common import header
from quality_tasks import Task


def curves(args: argparse.Namespace, seed: int) -> list[list[float]]:
    """Full validation curves of ``args.configs`` random configs on the seed's split."""
    torch.set_num_threads(1)
    task = Task(
        "fidelity",
        dataset=args.dataset,
        model=args.model,
        optimizer=args.optimizer,
        epochs=args.epochs,
        label_noise=args.noise,
        augment=args.augment,
    )
    spec, data = task.spec(seed), task.data(seed)
    sampler = optuna.samplers.RandomSampler(seed=seed)
    study = optuna.create_study(sampler=sampler, direction="maximize")
    out = []
    for _ in range(args.configs):
        trial = study.ask()
        sampled = suggest(trial, spec.search_space())
        result = train(data, TrainConfig.of(spec), sampled.schedule, sampled.base_lr)
        curve = result.val_accuracy + [0.0] * (args.epochs - len(result.val_accuracy))
        study.tell(trial, curve[-1])
        out.append(curve)
    return out


def spearman(a: list[float], b: list[float]) -> float:
    """Rank correlation (ties averaged), as the ``auto`` pruner computes it; 0 when either
    side is constant."""
    if len(set(a)) < 2 or len(set(b)) < 2:
        return 0.0
    return float(scipy.stats.spearmanr(a, b).statistic)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--model", default="cnn-small")
    parser.add_argument("--optimizer", default="sgd")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--noise", type=float, default=0.0)
    parser.add_argument("--augment", action="store_true")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--configs", type=int, default=24)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", default=None, help="JSON file for the figures")
    args = parser.parse_args()
    started = time.perf_counter()
    with ProcessPoolExecutor(args.jobs) as pool:
        runs = list(pool.map(curves, [args] * args.seeds, range(args.seeds)))
    header(f"fidelity: {vars(args)}")
    print("| epoch | fraction of run | Spearman to final | final top 3 in top third |")
    print("| --- | --- | --- | --- |")
    rows = []
    for epoch in range(1, args.epochs + 1):
        rhos, kept = [], []
        for run in runs:
            at = [c[epoch - 1] for c in run]
            final = [c[-1] for c in run]
            rhos.append(spearman(at, final))
            top3 = sorted(range(len(run)), key=lambda i: -final[i])[:3]
            third = set(sorted(range(len(run)), key=lambda i: -at[i])[: max(1, len(run) // 3)])
            kept.append(sum(i in third for i in top3) / 3)
        rho, share = statistics.fmean(rhos), statistics.fmean(kept)
        rows.append(
            {"epoch": epoch, "fraction": epoch / args.epochs, "spearman": rho, "kept": share}
        )
        print(f"| {epoch} | {epoch / args.epochs:.2f} | {rho:.2f} | {share:.2f} |")
    print(f"elapsed {time.perf_counter() - started:.0f} s")
    if args.out:
        Path(args.out).write_text(json.dumps({"args": vars(args), "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
