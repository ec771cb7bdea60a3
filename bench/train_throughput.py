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
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset
from torchvision.transforms import v2

import schedsearch.engine.train as trainer
from schedsearch.core.schedules import ScheduleBase, parse_schedule
from schedsearch.engine.data import Augment, TensorData, load_dataset, prepare
from schedsearch.engine.models import build_model
from schedsearch.engine.schedulers import build_scheduler

from common import commit, header, machine

SCHEDULE: dict[str, Any] = {"family": "cosine", "warmup": 0.05}
BASE_LR = 0.05
SEED = 0
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


@dataclass
class Case:
    """One benchmark setting: the three variants run on exactly this."""

    name: str
    data: TensorData
    model: str
    batch: int
    epochs: int
    reps: int
    warm_epochs: int = 1  # the untimed warm-up run of each variant

    def config(self, epochs: int | None = None) -> trainer.TrainConfig:
        """The trainer's config for this case (the spec's defaults: SGD + Nesterov, weight
        decay 5e-4, augmentation on)."""
        return trainer.TrainConfig.of(
            None, model=self.model, epochs=epochs or self.epochs, batch_size=self.batch, seed=SEED
        )


@dataclass
class Run:
    """One timed run of one variant."""

    epoch_s: list[float]  # training time of each epoch, validation excluded
    images_per_epoch: int
    total_s: float = 0.0  # (a) only: wall time of the whole train() call
    images: int = 0  # (a) only: images the train() call reports
    eval_s: list[float] = field(default_factory=list)  # (a) only: each validation pass
    before_loop_s: float = 0.0  # (a) only: the call's time outside its epoch loop
    model: nn.Module | None = None

    @property
    def steady_s_per_image(self) -> float:
        """Seconds per image over epochs 2..E (the first epoch pays the warm-up costs)."""
        tail = self.epoch_s[1:] or self.epoch_s
        return sum(tail) / (len(tail) * self.images_per_epoch)

    @property
    def whole_images_per_s(self) -> float:
        """Images per second over all epochs, validation excluded."""
        return len(self.epoch_s) * self.images_per_epoch / sum(self.epoch_s)


def sync(device: torch.device) -> None:
    """Wait for the device, so that a perf_counter reading covers the work queued before it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def precision(
    device: torch.device,
) -> tuple[Callable[[], AbstractContextManager], torch.memory_format]:
    """The trainer's settings, restated: bf16 autocast and channels_last on CUDA only."""
    if device.type == "cuda":
        return (lambda: torch.autocast("cuda", dtype=torch.bfloat16)), torch.channels_last
    return nullcontext, torch.contiguous_format


def bare_sgd(model: nn.Module, config: trainer.TrainConfig, lr: float) -> torch.optim.SGD:
    """SGD + Nesterov momentum, weight decay on weights only (the trainer's groups)."""
    params = list(model.parameters())
    return torch.optim.SGD(
        [
            {"params": [p for p in params if p.ndim > 1], "weight_decay": config.weight_decay},
            {"params": [p for p in params if p.ndim <= 1], "weight_decay": 0.0},
        ],
        lr=lr,
        momentum=config.momentum,
        nesterov=True,
    )


def bare_setup(
    data: TensorData, config: trainer.TrainConfig
) -> tuple[nn.Module, torch.optim.SGD, torch.Generator]:
    """What a hand-written loop makes before its first step, in the trainer's order (so that
    (a) and (b) do the same work): the seeded model on the device, SGD, a seeded generator."""
    torch.manual_seed(SEED)
    generator = torch.Generator(device=data.device).manual_seed(SEED)
    model = build_model(config.model, data.shape, data.num_classes)
    model = model.to(data.device, memory_format=precision(data.device)[1])
    return model, bare_sgd(model, config, BASE_LR), generator


def bare_step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    lr_schedule: Any,
    x: torch.Tensor,
    y: torch.Tensor,
    autocast: Callable[[], AbstractContextManager],
    memory_format: torch.memory_format,
) -> None:
    """One optimizer step of a hand-written loop (the trainer's step, restated)."""
    with autocast():
        loss = F.cross_entropy(model(x.contiguous(memory_format=memory_format)), y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    lr_schedule.step()


def timed_epochs(device: torch.device, epochs: int, one_epoch: Callable[[], None]) -> list[float]:
    """The wall time of each of ``epochs`` calls of ``one_epoch``, the device waited for."""
    marks = []
    sync(device)
    marks.append(time.perf_counter())
    for _ in range(epochs):
        one_epoch()
        sync(device)
        marks.append(time.perf_counter())
    return [b - a for a, b in itertools.pairwise(marks)]


@contextmanager
def timed_evaluate(device: torch.device, out: list[float]) -> Iterator[None]:
    """Time every ``evaluate`` call that ``train()`` makes (it looks the name up per call)."""
    original = trainer.evaluate

    def wrapper(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
        sync(device)
        started = time.perf_counter()
        accuracy = original(model, x, y)
        sync(device)
        out.append(time.perf_counter() - started)
        return accuracy

    trainer.evaluate = wrapper
    try:
        yield
    finally:
        trainer.evaluate = original


def run_trainer(case: Case, schedule: ScheduleBase, epochs: int) -> Run:
    """(a): one whole ``train()`` call; epoch times from ``on_epoch``, minus validation."""
    device = case.data.device
    marks: list[float] = []
    evals: list[float] = []
    with timed_evaluate(device, evals):
        sync(device)
        started = time.perf_counter()
        result = trainer.train(
            case.data,
            case.config(epochs),
            schedule,
            BASE_LR,
            lambda epoch, accuracy: marks.append(time.perf_counter()),
        )
        sync(device)
        ended = time.perf_counter()
    if result.diverged or len(marks) != epochs:
        raise RuntimeError(f"trainer run did not finish cleanly: {result.diverged}")
    loop_start = ended - result.seconds  # train() starts its clock right before epoch 1
    bounds = [loop_start, *marks]
    epoch_s = [bounds[i + 1] - bounds[i] - evals[i] for i in range(epochs)]
    return Run(
        epoch_s,
        result.images // epochs,
        total_s=ended - started,
        images=result.images,
        eval_s=evals,
        before_loop_s=ended - started - result.seconds,
        model=result.model,
    )


def run_bare(case: Case, schedule: ScheduleBase, epochs: int) -> Run:
    """(b): the loop written by hand over the same on-device tensors, no validation."""
    data, config = case.data, case.config(epochs)
    device = data.device
    autocast, memory_format = precision(device)
    model, optimizer, generator = bare_setup(data, config)
    n = len(data.train_x)
    batch = min(config.batch_size, n)
    steps = n // batch
    lr_schedule = build_scheduler(optimizer, schedule, epochs * steps, steps)
    train_x, train_y = data.train_x, data.train_y

    def one_epoch() -> None:
        model.train()
        order = torch.randperm(n, device=device, generator=generator)
        for step in range(steps):
            index = order[step * batch : (step + 1) * batch]
            x, y = train_x[index], train_y[index]
            if config.augment:
                x = data.augment(x, generator)
            bare_step(model, optimizer, lr_schedule, x, y, autocast, memory_format)

    return Run(timed_epochs(device, epochs, one_epoch), steps * batch, model=model)


def sample_transform(augment: Augment, size: tuple[int, int]) -> v2.Compose | None:
    """``augment`` written the conventional way, as torchvision transforms for one sample.

    ``data.augment`` flips first and then crops; the usual order (crop, then flip) used here makes
    the same distribution, since a flip maps the crop at offset ``d`` to the one at ``2 * pad -
    d`` of the flipped image and the offsets are uniform on ``0..2 * pad``.
    """
    transforms: list[nn.Module] = []
    if augment.pad:
        transforms.append(v2.RandomCrop(size, padding=augment.pad, padding_mode="reflect"))
    if augment.flip:
        transforms.append(v2.RandomHorizontalFlip())
    return v2.Compose(transforms) if transforms else None


class AugmentedTensors(Dataset):
    """The conventional dataset: one (image, label) per index, augmented in ``__getitem__``."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, transform: v2.Compose | None) -> None:
        self.x, self.y, self.transform = x, y, transform

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.x[index]
        if self.transform is not None:
            x = self.transform(x)
        return x, self.y[index]


def check_augment_match(data: TensorData, draws: int = 2000) -> dict[str, Any]:
    """Check that ``sample_transform`` makes exactly ``data.augment``'s augmentation.

    For one training image, build every output ``data.augment`` can give (reflect padding, then
    each crop offset in ``0..2 * pad`` squared, with and without a flip where it flips), then
    draw ``draws`` samples from the per-sample transforms and from ``data.augment`` itself: every
    draw must equal one of those outputs, and both must reach all of them.
    """
    augment = data.augment
    image = data.train_x[:1].cpu()
    transform = sample_transform(augment, tuple(image.shape[-2:]))
    p = augment.pad
    candidates = []
    for flipped in (False, True) if augment.flip else (False,):
        source = image.flip(-1) if flipped else image
        padded = F.pad(source, (p, p, p, p), mode="reflect") if p else source
        h, w = image.shape[-2:]
        for dy in range(2 * p + 1):
            for dx in range(2 * p + 1):
                candidates.append(padded[0, :, dy : dy + h, dx : dx + w])
    stack = torch.stack(candidates)

    def which(output: torch.Tensor) -> int:
        """Index of the first candidate equal to ``output``, or -1."""
        match = (stack == output).flatten(1).all(1).nonzero()
        return int(match[0]) if len(match) else -1

    # data.augment itself, drawn the same number of times, must reach the same outputs
    generator = torch.Generator().manual_seed(SEED)
    own = [which(o) for o in augment(image.expand(draws, -1, -1, -1), generator)]
    torch.manual_seed(SEED)
    hits = [which(transform(image[0]) if transform is not None else image[0]) for _ in range(draws)]
    distinct = len({which(c) for c in candidates})  # identical crops count once
    result = {
        "pad": p,
        "flip": augment.flip,
        "transforms": repr(transform),
        "draws": draws,
        "outputs_possible": distinct,
        "v2_draws_matching_an_augment_output": sum(h >= 0 for h in hits),
        "v2_outputs_reached": len({h for h in hits if h >= 0}),
        "augment_outputs_reached": len({h for h in own if h >= 0}),
    }
    result["matched"] = (
        result["v2_draws_matching_an_augment_output"] == draws
        and all(h >= 0 for h in own)
        and result["v2_outputs_reached"] == distinct
        and result["augment_outputs_reached"] == distinct
    )
    if not result["matched"]:
        raise RuntimeError(f"per-sample transforms do not match data.augment: {result}")
    return result


def run_dataloader(case: Case, schedule: ScheduleBase, epochs: int, per_sample: bool = True) -> Run:
    """(c), ``per_sample``: what a typical user writes: a Dataset that augments each sample in
    ``__getitem__`` with torchvision transforms. (c'): a TensorDataset, and schedsearch's
    batched ``data.augment`` on each batch. Both: a DataLoader collating host tensors and each
    batch copied to the device (pinned memory on CUDA)."""
    data, config = case.data, case.config(epochs)
    device = data.device
    autocast, memory_format = precision(device)
    model, optimizer, generator = bare_setup(data, config)
    x_host, y_host = data.train_x.cpu(), data.train_y.cpu()
    if per_sample:
        transform = sample_transform(data.augment, data.shape[1:]) if config.augment else None
        dataset: Dataset = AugmentedTensors(x_host, y_host, transform)
    else:
        dataset = TensorDataset(x_host, y_host)
    loader = DataLoader(
        dataset,
        batch_size=config.batch_size,
        shuffle=True,
        drop_last=True,
        num_workers=0,
        pin_memory=device.type == "cuda",
    )
    lr_schedule = build_scheduler(optimizer, schedule, epochs * len(loader), len(loader))

    def one_epoch() -> None:
        model.train()
        for x, y in loader:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            if config.augment and not per_sample:
                x = data.augment(x, generator)
            bare_step(model, optimizer, lr_schedule, x, y, autocast, memory_format)

    images = len(loader) * config.batch_size
    return Run(timed_epochs(device, epochs, one_epoch), images, model=model)


RUNNERS: dict[str, Callable[[Case, ScheduleBase, int], Run]] = {
    "a": run_trainer,
    "b": run_bare,
    "c": run_dataloader,
    "c'": functools.partial(run_dataloader, per_sample=False),
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
