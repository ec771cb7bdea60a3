"""The training loop of one trial: in-memory batches, the LR stepped per optimizer step.

Kept close to the metal (airbench-style): index a shuffled permutation of on-device tensors,
augment on the device, bf16 autocast and channels_last on CUDA. The loss is summed on the device
and checked once per epoch, so there is no host sync per step; a NaN/inf or exploded loss ends
the run with a reason instead of a crash. A schedule-free family (``ScheduleBase.swaps_optimizer``)
trains with the ``schedulefree`` optimizer and is evaluated at its averaged weights.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

from schedsearch.core.schedule_free import optimizer_class, optimizer_lr
from schedsearch.core.schedules import ScheduleBase
from schedsearch.core.spec import StudySpec
from schedsearch.engine.data import TensorData
from schedsearch.engine.models import build_model
from schedsearch.engine.schedulers import build_scheduler

EVAL_BATCH = 1024
DIVERGED_FACTOR = 10.0
# Batches of training images that re-estimate BatchNorm statistics at schedule-free's evaluation
# weights: its README's advice is "a few dozen"; digits has 10, CIFAR-10's 50 cost 1/8 epoch.
BN_BATCHES = 50


@dataclass(frozen=True)
class TrainConfig:
    """Everything about a trial's training except the schedule and its base LR; the spec is
    its only source (``of``), so the defaults live in the spec alone."""

    model: str
    epochs: int
    batch_size: int
    optimizer: Literal["sgd", "adamw"]
    weight_decay: float
    augment: bool
    seed: int
    momentum: float = 0.9

    @classmethod
    def of(cls, spec: StudySpec | None = None, **changes: Any) -> TrainConfig:
        """The spec's training setup (default: the default spec's), with ``changes``."""
        spec = spec or StudySpec()
        fields = ("model", "epochs", "batch_size", "optimizer", "weight_decay", "augment", "seed")
        return cls(**({name: getattr(spec, name) for name in fields} | changes))


@dataclass
class TrainResult:
    val_accuracy: list[float] = field(default_factory=list)  # one per finished epoch
    train_loss: list[float] = field(default_factory=list)
    diverged: str | None = None
    steps: int = 0
    images: int = 0
    seconds: float = 0.0
    model: nn.Module | None = None

    @property
    def final_accuracy(self) -> float:
        return self.val_accuracy[-1] if self.val_accuracy else 0.0


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` picks the first GPU when there is one."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} asked for, but CUDA is not available here")
    return device


def make_optimizer(
    model: nn.Module, config: TrainConfig, lr: float, schedule_free: bool = False
) -> torch.optim.Optimizer:
    """SGD with Nesterov momentum, or AdamW; no weight decay on norms and biases.
    ``schedule_free``: their schedule-free forms at the LR that matches ``lr``
    (``core.schedule_free``), with no warm-up of their own (the schedule's ramp is it)."""
    decay = [p for p in model.parameters() if p.ndim > 1]
    rest = [p for p in model.parameters() if p.ndim <= 1]
    groups = [
        {"params": decay, "weight_decay": config.weight_decay},
        {"params": rest, "weight_decay": 0.0},
    ]
    if schedule_free:
        import schedulefree  # only this family's trials need it

        lr = optimizer_lr(lr, config.optimizer, config.momentum)
        momentum = {} if config.optimizer == "adamw" else {"momentum": config.momentum}
        free: Callable[..., torch.optim.Optimizer] = getattr(
            schedulefree, optimizer_class(config.optimizer)
        )
        return free(groups, lr=lr, warmup_steps=0, **momentum)
    if config.optimizer == "adamw":
        return torch.optim.AdamW(groups, lr=lr)
    return torch.optim.SGD(groups, lr=lr, momentum=config.momentum, nesterov=True)


def _precision(
    device: torch.device,
) -> tuple[Callable[[], AbstractContextManager[Any]], torch.memory_format]:
    if device.type == "cuda":
        return (lambda: torch.autocast("cuda", dtype=torch.bfloat16)), torch.channels_last
    return nullcontext, torch.contiguous_format


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Top-1 accuracy over (x, y), in eval mode."""
    autocast, memory_format = _precision(x.device)
    model.eval()
    correct = torch.zeros((), dtype=torch.long, device=x.device)
    for start in range(0, len(x), EVAL_BATCH):
        batch = x[start : start + EVAL_BATCH].contiguous(memory_format=memory_format)
        with autocast():
            logits = model(batch)
        correct += (logits.argmax(dim=1) == y[start : start + EVAL_BATCH]).sum()
    return correct.item() / max(1, len(x))


def batch_of(data: TensorData, batch_size: int) -> int:
    """The batch a run uses: the configured size, or the whole training split if smaller."""
    return min(batch_size, len(data.train_x))


def steps_per_epoch(data: TensorData, batch_size: int) -> int:
    """Full batches only: the ragged last one is dropped, every epoch alike."""
    return len(data.train_x) // batch_of(data, batch_size)


@dataclass
class Learner:
    """A seeded model, its optimizer and the batch generator, as every run on ``data`` begins.

    ``train`` and the LR range test (``engine.range_test``) share it, so a range test measures
    the very model, optimizer, augmentation and precision that the trials then train.
    """

    data: TensorData
    config: TrainConfig
    model: nn.Module
    optimizer: torch.optim.Optimizer
    generator: torch.Generator
    autocast: Callable[[], AbstractContextManager[Any]]
    memory_format: torch.memory_format
    schedule_free: bool = False

    @classmethod
    def start(
        cls, data: TensorData, config: TrainConfig, lr: float, schedule_free: bool = False
    ) -> Learner:
        """Seed (``config.seed``), build the model on the data's device, and its optimizer."""
        device = data.device
        autocast, memory_format = _precision(device)
        torch.manual_seed(config.seed)
        generator = torch.Generator(device=device).manual_seed(config.seed)
        model = build_model(config.model, data.shape, data.num_classes)
        model = model.to(device, memory_format=memory_format)  # type: ignore[call-overload]
        optimizer = make_optimizer(model, config, lr, schedule_free)
        return cls(
            data, config, model, optimizer, generator, autocast, memory_format, schedule_free
        )

    @property
    def batch(self) -> int:
        return batch_of(self.data, self.config.batch_size)

    @property
    def steps_per_epoch(self) -> int:
        return steps_per_epoch(self.data, self.config.batch_size)

    def shuffle(self) -> torch.Tensor:
        """An epoch's order of the training examples."""
        n = len(self.data.train_x)
        return torch.randperm(n, device=self.data.device, generator=self.generator)

    def step(self, index: torch.Tensor) -> torch.Tensor:
        """One optimizer step on the examples at ``index`` (augmented when the config says so);
        the batch's loss, still on the device (reading it is the caller's sync to choose)."""
        x, y = self.data.train_x[index], self.data.train_y[index]
        if self.config.augment:
            x = self.data.augment(x, self.generator)
        with self.autocast():
            loss = F.cross_entropy(self.model(x.contiguous(memory_format=self.memory_format)), y)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return loss.detach()

    def training(self) -> None:
        """Train mode: the model's, and a schedule-free optimizer's (its training weights)."""
        self.model.train()
        if self.schedule_free:
            self.optimizer.train()  # type: ignore[attr-defined]

    def evaluating(self) -> None:
        """Before an evaluation: a schedule-free optimizer moves the weights to its average,
        whose BatchNorm statistics are then measured anew (the running ones belong to the
        training weights)."""
        if self.schedule_free:
            self.optimizer.eval()  # type: ignore[attr-defined]
            recompute_batchnorm(self)


@torch.no_grad()
def recompute_batchnorm(learner: Learner) -> None:
    """BatchNorm statistics at the current weights: up to ``BN_BATCHES`` unaugmented training
    batches in train mode, averaged (PreciseBN; schedule-free's README), not an EMA."""
    norms = [m for m in learner.model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # a cumulative average, not an EMA of the last few batches
    learner.model.train()
    x, b = learner.data.train_x, learner.batch
    for start in range(0, min(len(x) - b + 1, BN_BATCHES * b), b):
        with learner.autocast():
            learner.model(x[start : start + b].contiguous(memory_format=learner.memory_format))
    for m, momentum in zip(norms, momenta, strict=True):
        m.momentum = momentum


def train(
    data: TensorData,
    config: TrainConfig,
    schedule: ScheduleBase,
    base_lr: float,
    on_epoch: Callable[[int, float], None] | None = None,
) -> TrainResult:
    """Train one model; ``on_epoch(epoch, val_accuracy)`` runs after each epoch (and may raise,
    e.g. ``optuna.TrialPruned``, to stop the run)."""
    learner = Learner.start(data, config, base_lr, schedule.swaps_optimizer)
    model, batch, steps_per_epoch = learner.model, learner.batch, learner.steps_per_epoch
    lr_schedule = build_scheduler(
        learner.optimizer, schedule, config.epochs * steps_per_epoch, steps_per_epoch
    )
    result = TrainResult(model=model)
    # BatchNorm can keep a diverged net's loss finite (1e13 at LR 50 on digits): a mean loss
    # 10x that of uniform guessing (ln C) counts as divergence too; healthy runs stay below ln C.
    exploded = DIVERGED_FACTOR * math.log(data.num_classes)
    started = time.perf_counter()
    for epoch in range(config.epochs):
        learner.training()
        order = learner.shuffle()
        loss_sum = torch.zeros((), device=data.device)
        for step in range(steps_per_epoch):
            loss_sum += learner.step(order[step * batch : (step + 1) * batch])
            lr_schedule.step()
        result.steps += steps_per_epoch
        result.images += steps_per_epoch * batch
        mean_loss = loss_sum.item() / steps_per_epoch
        result.train_loss.append(mean_loss)
        if not math.isfinite(mean_loss) or mean_loss > exploded:
            result.diverged = (
                f"training loss became {mean_loss:.4g} in epoch {epoch + 1} (base LR {base_lr:.4g})"
            )
            break
        learner.evaluating()
        accuracy = evaluate(model, data.val_x, data.val_y)
        result.val_accuracy.append(accuracy)
        lr_schedule.epoch_end(accuracy)
        result.seconds = time.perf_counter() - started
        if on_epoch is not None:
            on_epoch(epoch, accuracy)
    result.seconds = time.perf_counter() - started
    return result
