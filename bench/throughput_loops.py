"""The four loops bench/train_throughput.py times, on one ``Case``: (a) schedsearch's trainer,
(b) a bare loop over the same tensors, (c) the DataLoader loop a user writes (per-sample
torchvision augmentation) and (c') a DataLoader with the trainer's batched augmentation; and the
timing they share (device syncs, epoch marks, validation passes timed apart). The baselines are
independent copies on purpose: they are what the trainer is measured against.
"""

from __future__ import annotations

import functools
import itertools
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset
from torchvision.transforms import v2

import schedsearch.engine.train as trainer
from schedsearch.core.schedules import ScheduleBase
from schedsearch.engine.data import Augment, TensorData
from schedsearch.engine.models import build_model
from schedsearch.engine.schedulers import build_scheduler

SEED = 0
BASE_LR = 0.05


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
