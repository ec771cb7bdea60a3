"""Training throughput: schedsearch's trainer against a bare loop and a DataLoader loop.

Run as ``.venv/bin/python bench/train_throughput.py [--quick] [--json PATH]``. For each case
(same model, data, batch size, optimizer, LR schedule and augmentation setting) it times

* (a) ``schedsearch.engine.train.train`` -- the trainer itself, validation every epoch;
* (b) a bare hand-written loop over the same in-memory tensors (randperm + index slicing);
* (c) the conventional loop a user writes: a ``Dataset`` over the same normalised tensors whose
  ``__getitem__`` augments each sample with torchvision transforms (``v2.RandomCrop(size,
  padding=pad, padding_mode="reflect")``, plus ``v2.RandomHorizontalFlip()`` where the dataset
  flips), collated by ``DataLoader(shuffle=True, drop_last=True, num_workers=0)``;
* (c') a second DataLoader baseline: ``TensorDataset`` + the same ``DataLoader``, with
  schedsearch's own batched augmentation (``data.augment``) applied to each collated batch;

and prints images/s (steady state: epochs 2..E, training only, validation excluded), the
ratios a/b, a/c (the headline) and a/c', and two fixed costs per trial, each against the goal:

1. the one-off cost per trial: model build + optimizer/scheduler setup + the first optimizer
   step's excess over a steady step + ONE validation pass, each part measured directly;
2. all per-trial overhead beyond training: the wall time of a whole ``train()`` call minus the
   steady-state time per image times the images it trained (so it holds the call's setup, its
   validation pass after EVERY epoch and the first epoch's excess).

Before timing, it checks that the per-sample transforms of (c) make the same augmentation as
``data.augment``: every transformed sample must equal one of the crops (and flips) that
``data.augment`` can produce, and the draws must reach all of them.

CPU always runs with one thread (as the project runs one trial per process): ``digits`` with
cnn-small at batch 64, and 5,000 synthetic CIFAR-shaped images with cnn-small at batch 128. With
CUDA, the CIFAR-shaped case also runs on the GPU (50,000 images, resnet20, batch 512); there (c)
keeps the tensors on the host and copies each batch from pinned memory, as users usually do.
The four loops and their timing are in throughput_loops.py; this script runs and reports them.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

import schedsearch.engine.train as trainer
from schedsearch.core.schedules import ScheduleBase, parse_schedule
from schedsearch.engine.data import Augment, TensorData, load_dataset, prepare
from schedsearch.engine.models import build_model
from schedsearch.engine.schedulers import build_scheduler

from common import commit, header, machine
from throughput_loops import (
    BASE_LR,
    RUNNERS,
    SEED,
    Case,
    Run,
    bare_step,
    check_augment_match,
    precision,
    sync,
)

SCHEDULE: dict[str, Any] = {"family": "cosine", "warmup": 0.05}
GOAL_A_B = 0.95
GOAL_A_C = 1.5
GOAL_FIXED_MS = 50.0
VARIANTS = ("a", "b", "c", "c'")
LABELS = {
    "a": "(a) schedsearch train()",
    "b": "(b) bare loop, randperm + index",
    "c": "(c) DataLoader, per-sample v2 aug",
    "c'": "(c') DataLoader, batch data.augment",
}


def max_param_diff(a: nn.Module, b: nn.Module) -> float:
    """Largest absolute difference between two models' parameters and buffers."""
    diffs = [
        (x.float() - y.float()).abs().max().item() if x.numel() else 0.0
        for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True)
    ]
    return max(diffs)


def measure_components(case: Case, schedule: ScheduleBase, reps: int) -> dict[str, float]:
    """The trainer's fixed-cost parts, timed directly (median over ``reps``), in seconds."""
    data, config = case.data, case.config()
    device = data.device
    autocast, memory_format = precision(device)
    n = len(data.train_x)
    batch = min(config.batch_size, n)
    steps = n // batch
    parts: dict[str, list[float]] = {"build": [], "setup": [], "first": [], "step": [], "val": []}

    def clock() -> float:
        sync(device)
        return time.perf_counter()

    def one_step(model: nn.Module, optimizer: torch.optim.Optimizer, index: torch.Tensor) -> None:
        x, y = data.train_x[index], data.train_y[index]
        if config.augment:
            x = data.augment(x, generator)
        bare_step(model, optimizer, lr_schedule, x, y, autocast, memory_format)

    for _ in range(reps):
        t0 = clock()
        torch.manual_seed(SEED)
        model = build_model(config.model, data.shape, data.num_classes)
        model = model.to(device, memory_format=memory_format)
        t1 = clock()
        generator = torch.Generator(device=device).manual_seed(SEED)
        optimizer = trainer.make_optimizer(model, config, BASE_LR)
        lr_schedule = build_scheduler(optimizer, schedule, config.epochs * steps, steps)
        t2 = clock()
        model.train()
        order = torch.randperm(n, device=device, generator=generator)
        one_step(model, optimizer, order[:batch])
        t3 = clock()
        step_times = []
        for step in range(1, min(steps, 11)):
            started = clock()
            one_step(model, optimizer, order[step * batch : (step + 1) * batch])
            step_times.append(clock() - started)
        t4 = clock()
        trainer.evaluate(model, data.val_x, data.val_y)
        t5 = clock()
        parts["build"].append(t1 - t0)
        parts["setup"].append(t2 - t1)
        parts["first"].append(t3 - t2)
        parts["step"].append(statistics.median(step_times) if step_times else t3 - t2)
        parts["val"].append(t5 - t4)
    return {key: statistics.median(values) for key, values in parts.items()}


def run_case(case: Case, schedule: ScheduleBase) -> dict[str, Any]:
    """Warm up, time the variants interleaved, measure the fixed-cost parts; the figures."""
    started = time.perf_counter()
    augment_check = check_augment_match(case.data)
    warm = {v: RUNNERS[v](case, schedule, case.warm_epochs) for v in VARIANTS}
    assert warm["a"].model is not None and warm["b"].model is not None
    same_work_diff = max_param_diff(warm["a"].model, warm["b"].model)
    runs: dict[str, list[Run]] = {v: [] for v in VARIANTS}
    for rep in range(case.reps):
        shift = rep % len(VARIANTS)  # rotate the order so drift hits every variant alike
        for variant in VARIANTS[shift:] + VARIANTS[:shift]:
            runs[variant].append(RUNNERS[variant](case, schedule, case.epochs))
            runs[variant][-1].model = None
    parts = measure_components(case, schedule, max(3, case.reps))

    throughput = {}
    for variant, vruns in runs.items():
        rates = [1.0 / r.steady_s_per_image for r in vruns]
        throughput[variant] = {
            "median": statistics.median(rates),
            "best": max(rates),
            "worst": min(rates),
            "whole_run": statistics.median(r.whole_images_per_s for r in vruns),
        }
    trainer_runs = runs["a"]
    fixed = [r.total_s - r.steady_s_per_image * r.images for r in trainer_runs]
    middle = sorted(range(len(fixed)), key=fixed.__getitem__)[len(fixed) // 2]
    typical = trainer_runs[middle]  # the rep with the median fixed cost, for its breakdown
    first_epoch_excess = typical.epoch_s[0] - typical.steady_s_per_image * typical.images_per_epoch
    one_off = parts["build"] + parts["setup"] + (parts["first"] - parts["step"]) + parts["val"]
    return {
        "case": case.name,
        "device": str(case.data.device),
        "model": case.model,
        "batch": case.batch,
        "epochs": case.epochs,
        "reps": case.reps,
        "train_images": len(case.data.train_x),
        "images_per_epoch": trainer_runs[0].images_per_epoch,
        "val_images": len(case.data.val_x),
        "augment": case.config().augment,
        "schedule": SCHEDULE,
        "base_lr": BASE_LR,
        "images_per_s": throughput,
        "ratio_a_b": throughput["a"]["median"] / throughput["b"]["median"],
        "ratio_a_c": throughput["a"]["median"] / throughput["c"]["median"],
        "ratio_a_c_batch_aug": throughput["a"]["median"] / throughput["c'"]["median"],
        "augment_check": augment_check,
        "a_b_max_param_diff_after_warmup": same_work_diff,
        "train_call_ms": 1e3 * statistics.median(r.total_s for r in trainer_runs),
        "trained_images": trainer_runs[0].images,
        "steady_us_per_image": 1e6 * statistics.median(r.steady_s_per_image for r in trainer_runs),
        # (1) one-off cost per trial: build + setup + first-step excess + ONE validation pass
        "one_off_cost_ms": 1e3 * one_off,
        # (2) all per-trial overhead beyond training: train() call - steady time x images
        "fixed_cost_ms": 1e3 * fixed[middle],
        "fixed_cost_ms_each_rep": [1e3 * f for f in fixed],
        "fixed_cost_in_call_ms": {  # sums to fixed_cost_ms exactly, from the median rep
            "before_epoch_loop": 1e3 * typical.before_loop_s,
            "validation_passes": 1e3 * sum(typical.eval_s),
            "first_epoch_excess": 1e3 * first_epoch_excess,
        },
        "components_ms": {
            "build_and_to_device": 1e3 * parts["build"],
            "optimizer_and_scheduler_setup": 1e3 * parts["setup"],
            "first_optimizer_step": 1e3 * parts["first"],
            "steady_optimizer_step": 1e3 * parts["step"],
            "first_step_excess": 1e3 * (parts["first"] - parts["step"]),
            "validation_pass": 1e3 * parts["val"],
        },
        "seconds": time.perf_counter() - started,
    }


def synthetic_cifar(n: int, device: torch.device, seed: int = SEED) -> TensorData:
    """``n`` random 3x32x32 uint8 images in 10 classes (plus a small test split), prepared like
    CIFAR-10: 90% train / 10% validation, crop-and-flip augmentation."""
    rng = np.random.default_rng(seed)
    n_test = max(10, n // 10)
    x = rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
    test_x = rng.integers(0, 256, (n_test, 3, 32, 32), dtype=np.uint8)
    y, test_y = rng.integers(0, 10, n), rng.integers(0, 10, n_test)
    y[:10] = np.arange(10)  # every class present
    return prepare("synthetic-cifar", (x, y, test_x, test_y), Augment(4, True), device, seed)


def torch_facts() -> dict[str, Any]:
    """The machine (bench/common.py) with the torch version, its threads and the GPU name."""
    return machine() | {
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }


def print_case(r: dict[str, Any]) -> None:
    """The table for one case, then its ratios and fixed cost."""
    print(
        f"\n== {r['case']} on {r['device']}: {r['model']}, batch {r['batch']}, "
        f"{r['epochs']} epochs x {r['images_per_epoch']:,} images (train set {r['train_images']:,},"
        f" val {r['val_images']:,}), augment on, cosine, median of {r['reps']} reps =="
    )
    columns = f"{'variant':<36}{'img/s median':>14}{'best':>10}{'worst':>10}{'whole run':>11}"
    print(columns)
    print("-" * len(columns))
    for variant in VARIANTS:
        t = r["images_per_s"][variant]
        print(
            f"{LABELS[variant]:<36}{t['median']:>14,.0f}{t['best']:>10,.0f}"
            f"{t['worst']:>10,.0f}{t['whole_run']:>11,.0f}"
        )
    print("(img/s: steady state, epochs 2..E, training only; whole run: all epochs)")

    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    ab, ac, ac2 = r["ratio_a_b"], r["ratio_a_c"], r["ratio_a_c_batch_aug"]
    one_off, fixed = r["one_off_cost_ms"], r["fixed_cost_ms"]
    goal = f"(goal <= {GOAL_FIXED_MS:.0f} ms)"
    g = r["augment_check"]
    print(
        f"augmentation match (c) vs data.augment (pad {g['pad']}, flip {g['flip']}): "
        f"{g['v2_draws_matching_an_augment_output']}/{g['draws']} per-sample draws equal a "
        f"data.augment output, {g['v2_outputs_reached']}/{g['outputs_possible']} outputs reached "
        f"(data.augment reaches {g['augment_outputs_reached']}) -> "
        f"{'matched' if g['matched'] else 'NOT MATCHED'}"
    )
    print(f"ratio a/b  = {ab:.2f} (goal >= {GOAL_A_B}) {verdict(ab >= GOAL_A_B)}")
    print(
        f"ratio a/c  = {ac:.2f} (goal >= {GOAL_A_C}) {verdict(ac >= GOAL_A_C)}"
        "  [headline: conventional per-sample-transform DataLoader loop]"
    )
    print(f"ratio a/c' = {ac2:.2f}  [DataLoader loop with schedsearch's batch augmentation]")
    c = r["components_ms"]
    print(
        f"(1) one-off cost per trial = {one_off:.1f} ms {goal} {verdict(one_off <= GOAL_FIXED_MS)}"
        f"  [model build + to(device) {c['build_and_to_device']:.1f} + optimizer/scheduler setup "
        f"{c['optimizer_and_scheduler_setup']:.1f} + first-step excess "
        f"{c['first_step_excess']:.1f} + ONE validation pass {c['validation_pass']:.1f} ms "
        f"({r['val_images']:,} images); measured directly, medians]"
    )
    print(
        f"  (first optimizer step {c['first_optimizer_step']:.1f} ms, "
        f"steady step {c['steady_optimizer_step']:.1f} ms)"
    )
    print(
        f"(2) all per-trial overhead beyond training = {fixed:.0f} ms {goal} "
        f"{verdict(fixed <= GOAL_FIXED_MS)}  [train() call {r['train_call_ms']:.0f} ms - "
        f"{r['steady_us_per_image']:.1f} us/image x {r['trained_images']:,} images; "
        f"reps {', '.join(f'{f:.0f}' for f in r['fixed_cost_ms_each_rep'])} ms; "
        f"includes a validation pass after every one of the {r['epochs']} epochs]"
    )
    k = r["fixed_cost_in_call_ms"]
    print(
        f"  in the median train() call: before the epoch loop {k['before_epoch_loop']:.1f} ms"
        f" + {r['epochs']} validation passes {k['validation_passes']:.1f} ms"
        f" + first-epoch excess {k['first_epoch_excess']:.1f} ms"
    )
    print(
        f"  same work check: max |param(a) - param(b)| after the warm-up run = "
        f"{r['a_b_max_param_diff_after_warmup']:.3g}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs and reps (~50 s on CPU)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures here")
    args = parser.parse_args()
    torch.set_num_threads(1)
    schedule = parse_schedule(SCHEDULE)
    cpu = torch.device("cpu")
    info = torch_facts()
    header("training throughput: schedsearch's trainer against a bare loop and DataLoader loops")
    print(f"torch {info['torch']} ({info['torch_threads']} thread), GPU: {info['gpu'] or 'none'}")
    print(
        f"started {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"{'quick' if args.quick else 'full'} mode, schedule {json.dumps(SCHEDULE)}, "
        f"base LR {BASE_LR}, SGD nesterov 0.9, wd 5e-4"
    )
    q = args.quick
    n_cpu, n_gpu = (2000, 20000) if q else (5000, 50000)
    digits = load_dataset("digits", cpu, SEED)
    cases = [
        Case("digits", digits, "cnn-small", 64, epochs=4 if q else 10, reps=3 if q else 7),
        Case(
            f"synthetic-cifar-{n_cpu // 1000}k",
            synthetic_cifar(n_cpu, cpu),
            "cnn-small",
            128,
            epochs=2 if q else 4,
            reps=2 if q else 3,
        ),
    ]
    if torch.cuda.is_available():
        cases.append(
            Case(
                f"synthetic-cifar-{n_gpu // 1000}k",
                synthetic_cifar(n_gpu, torch.device("cuda")),
                "resnet20",
                512,
                epochs=2 if q else 4,
                reps=2 if q else 3,
                warm_epochs=1,
            )
        )
    results = []
    for case in cases:
        result = run_case(case, schedule)
        print_case(result)
        results.append(result)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {"commit": commit(), "machine": info, "quick": q, "cases": results}
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
