"""Learning-rate schedule families: typed configs that rebuild the same schedule anywhere.

Every family is one pydantic model that knows three things about itself:

* ``make(optimizer, steps, base)`` -- the ``torch.optim.lr_scheduler`` object that
  runs the family's main phase for ``steps`` optimizer steps;
* ``multiplier(u, steps)`` -- the closed form: the LR at main-phase step ``u`` as a multiple of the
  base LR (what ``lr_curve`` plots without training);
* ``code()`` -- the source of the same ``make`` call, for ``to_code``.

Time parameters are fractions of the run, so a config found with 5-epoch trials keeps its shape
in a 200-epoch training. ``warmup`` (a fraction of the run, shared by every family) prepends a
linear ramp over ``W`` steps up to the LR the family starts at (the base LR, except one-cycle
and cyclical, which start low), so the curve never jumps; the family then runs over the
remaining ``total - W`` steps. The base LR is the optimizer's LR: it is the highest LR every
family reaches (one-cycle's and cyclical's peak, the start of every decay).
"""

from __future__ import annotations

import json
import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator
from torch.optim import Optimizer, lr_scheduler

Fraction = Annotated[float, Field(gt=0.0, lt=1.0)]


def span(fraction: float, steps: int) -> int:
    """A fraction of the run in whole steps, never less than one."""
    return max(1, round(fraction * steps))


def warmup_steps(warmup: float, total_steps: int) -> int:
    """Warm-up length in steps; the family always keeps at least one step of its own."""
    return min(round(warmup * total_steps), total_steps - 1)


class ScheduleBase(BaseModel, ABC):
    """What every family shares: a frozen JSON-able config plus an optional linear warm-up."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    family: str
    warmup: float = Field(
        0.0, ge=0.0, lt=1.0, description="linear warm-up length, as a fraction of the run"
    )

    per_epoch: ClassVar[bool] = False  # True: the LR reacts to the validation metric

    @abstractmethod
    def make(self, optimizer: Optimizer, steps: int, base: float) -> Any:
        """The torch scheduler for the main phase: ``steps`` optimizer steps from LR ``base``."""

    @abstractmethod
    def multiplier(self, u: int, steps: int) -> float:
        """LR at main-phase step ``u`` divided by the base LR (closed form)."""

    @abstractmethod
    def code(self) -> str:
        """Source of ``make``'s scheduler as an expression over ``optimizer``, ``steps``,
        ``base`` (the base LR) and ``span`` (see ``span``)."""

    def params(self) -> dict[str, Any]:
        """The family's parameters without the family name (what the API calls ``params``)."""
        return self.model_dump(mode="json", exclude={"family"})


class Constant(ScheduleBase):
    """The base LR throughout: the baseline every other family must beat."""

    family: Literal["constant"] = "constant"

    def make(self, optimizer: Optimizer, steps: int, base: float) -> Any:
        return lr_scheduler.ConstantLR(optimizer, factor=1.0, total_iters=0)

    def multiplier(self, u: int, steps: int) -> float:
        return 1.0

    def code(self) -> str:
        return "lr_scheduler.ConstantLR(optimizer, factor=1.0, total_iters=0)"


class Step(ScheduleBase):
    """Multiply by ``gamma`` every ``step_size`` of the run (He et al.'s ResNet recipe)."""

    family: Literal["step"] = "step"
    step_size: float = Field(1 / 3, gt=0.0, le=1.0, description="fraction of the run")
    gamma: float = Field(0.1, gt=0.0, le=1.0)

    def make(self, optimizer: Optimizer, steps: int, base: float) -> Any:
        return lr_scheduler.StepLR(
            optimizer, step_size=span(self.step_size, steps), gamma=self.gamma
        )

    def multiplier(self, u: int, steps: int) -> float:
        return self.gamma ** (u // span(self.step_size, steps))

    def code(self) -> str:
        return (
            f"lr_scheduler.StepLR(optimizer, step_size=span({self.step_size!r}, steps), "
            f"gamma={self.gamma!r})"
        )


class MultiStep(ScheduleBase):
    """Multiply by ``gamma`` at each milestone (e.g. x0.1 at 50% and 75% of the run)."""

    family: Literal["multistep"] = "multistep"
    milestones: tuple[Fraction, ...] = Field((0.5, 0.75), min_length=1)
    gamma: float = Field(0.1, gt=0.0, le=1.0)

    @field_validator("milestones")
    @classmethod
    def _sorted(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if list(value) != sorted(value):
            raise ValueError("milestones must be in increasing order")
        return value

    def make(self, optimizer: Optimizer, steps: int, base: float) -> Any:
        milestones = [span(m, steps) for m in self.milestones]
        return lr_scheduler.MultiStepLR(optimizer, milestones=milestones, gamma=self.gamma)

    def multiplier(self, u: int, steps: int) -> float:
        return self.gamma ** sum(u >= span(m, steps) for m in self.milestones)

    def code(self) -> str:
        return (
            f"lr_scheduler.MultiStepLR(optimizer, milestones=[span(m, steps) for m in "
            f"{list(self.milestones)!r}], gamma={self.gamma!r})"
        )


class Exponential(ScheduleBase):
    """Geometric decay that reaches ``final_factor`` x base LR at the end of the run."""

    family: Literal["exponential"] = "exponential"
    final_factor: float = Field(0.01, gt=0.0, le=1.0)

    def make(self, optimizer: Optimizer, steps: int, base: float) -> Any:
        return lr_scheduler.ExponentialLR(optimizer, gamma=self.final_factor ** (1 / steps))

    def multiplier(self, u: int, steps: int) -> float:
        return self.final_factor ** (u / steps)

    def code(self) -> str:
        return f"lr_scheduler.ExponentialLR(optimizer, gamma={self.final_factor!r} ** (1 / steps))"


class Linear(ScheduleBase):
    """Straight-line decay to ``end_factor`` x base LR at the end of the run."""

    family: Literal["linear"] = "linear"
    end_factor: float = Field(0.0, ge=0.0, le=1.0)

    def make(self, optimizer: Optimizer, steps: int, base: float) -> Any:
        return lr_scheduler.LinearLR(
            optimizer, start_factor=1.0, end_factor=self.end_factor, total_iters=steps
        )

    def multiplier(self, u: int, steps: int) -> float:
        return 1.0 + (self.end_factor - 1.0) * min(u, steps) / steps

    def code(self) -> str:
        return (
            "lr_scheduler.LinearLR(optimizer, start_factor=1.0, "
            f"end_factor={self.end_factor!r}, total_iters=steps)"
        )


class Polynomial(ScheduleBase):
    """``(1 - t)^power`` decay to a floor of ``end_factor`` x base LR.

    torch's ``PolynomialLR`` has no floor, so this one is a ``LambdaLR`` over the same formula.
    """

    family: Literal["polynomial"] = "polynomial"
    power: float = Field(2.0, gt=0.0, le=10.0)
    end_factor: float = Field(0.0, ge=0.0, le=1.0)

    def make(self, optimizer: Optimizer, steps: int, base: float) -> Any:
        return lr_scheduler.LambdaLR(optimizer, lambda u: self.multiplier(u, steps))

    def multiplier(self, u: int, steps: int) -> float:
        return (
            self.end_factor + (1.0 - self.end_factor) * (1.0 - min(u, steps) / steps) ** self.power
        )

    def code(self) -> str:
        e, p = self.end_factor, self.power
        return (
            f"lr_scheduler.LambdaLR(optimizer, lambda u: {e!r} + (1 - {e!r}) * "
            f"(1 - min(u, steps) / steps) ** {p!r})"
        )


class Cosine(ScheduleBase):
    """Half a cosine from the base LR down to ``eta_min`` x base LR (Loshchilov & Hutter)."""

    family: Literal["cosine"] = "cosine"
    eta_min: float = Field(0.0, ge=0.0, le=1.0, description="floor, as a fraction of base LR")

    def make(self, optimizer: Optimizer, steps: int, base: float) -> Any:
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps, eta_min=self.eta_min * base)

    def multiplier(self, u: int, steps: int) -> float:
        return self.eta_min + (1.0 - self.eta_min) * (1.0 + math.cos(math.pi * u / steps)) / 2.0

    def code(self) -> str:
        return (
            "lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps, "
            f"eta_min={self.eta_min!r} * base)"
        )


class CosineRestarts(ScheduleBase):
    """SGDR: cosine cycles restarting at the base LR, each ``t_mult`` times the last."""

    family: Literal["cosine_restarts"] = "cosine_restarts"
    first_period: float = Field(0.25, gt=0.0, le=1.0, description="fraction of the run")
    t_mult: int = Field(1, ge=1, le=4)
    eta_min: float = Field(0.0, ge=0.0, le=1.0, description="floor, as a fraction of base LR")

    def make(self, optimizer: Optimizer, steps: int, base: float) -> Any:
        return lr_scheduler.CosineAnnealingWarmRestarts(
            optimizer,
            T_0=span(self.first_period, steps),
            T_mult=self.t_mult,
            eta_min=self.eta_min * base,
        )

    def multiplier(self, u: int, steps: int) -> float:
        period = span(self.first_period, steps)
        while u >= period:
            u -= period
            period *= self.t_mult
        return self.eta_min + (1.0 - self.eta_min) * (1.0 + math.cos(math.pi * u / period)) / 2.0

    def code(self) -> str:
        return (
            "lr_scheduler.CosineAnnealingWarmRestarts(optimizer, "
            f"T_0=span({self.first_period!r}, steps), T_mult={self.t_mult!r}, "
            f"eta_min={self.eta_min!r} * base)"
        )


class Cyclic(ScheduleBase):
    """Smith's cyclical LR between ``min_factor`` x base LR and the base LR.

    ``triangular`` keeps the amplitude, ``triangular2`` halves it every cycle, ``exp_range``
    shrinks it geometrically to ``amplitude_decay`` of its start by the end of the run.
    """

    family: Literal["cyclic"] = "cyclic"
    mode: Literal["triangular", "triangular2", "exp_range"] = "triangular"
    min_factor: float = Field(0.1, gt=0.0, le=1.0, description="lower bound, fraction of base LR")
    half_cycle: float = Field(0.1, gt=0.0, le=0.5, description="fraction of the run")
    amplitude_decay: float = Field(1.0, gt=0.0, le=1.0, description="exp_range only")

    def make(self, optimizer: Optimizer, steps: int, base: float) -> Any:
        return lr_scheduler.CyclicLR(
            optimizer,
            base_lr=self.min_factor * base,
            max_lr=base,
            step_size_up=span(self.half_cycle, steps),
            mode=self.mode,
            gamma=self.amplitude_decay ** (1 / steps),
            cycle_momentum=False,
        )

    def multiplier(self, u: int, steps: int) -> float:
        half = span(self.half_cycle, steps)
        cycle = math.floor(1 + u / (2 * half))
        x = abs(u / half - 2 * cycle + 1)
        scale = {
            "triangular": 1.0,
            "triangular2": 1 / 2 ** (cycle - 1),
            "exp_range": (self.amplitude_decay ** (1 / steps)) ** u,
        }[self.mode]
        return self.min_factor + (1.0 - self.min_factor) * max(0.0, 1.0 - x) * scale

    def code(self) -> str:
        return (
            f"lr_scheduler.CyclicLR(optimizer, base_lr={self.min_factor!r} * base, max_lr=base, "
            f"step_size_up=span({self.half_cycle!r}, steps), mode={self.mode!r}, "
            f"gamma={self.amplitude_decay!r} ** (1 / steps), cycle_momentum=False)"
        )


class OneCycle(ScheduleBase):
    """Smith's 1cycle: up from base/div_factor to the base LR, then down far below it.

    Momentum is left alone (``cycle_momentum=False``) so that studies compare LR shapes only.
    """

    family: Literal["one_cycle"] = "one_cycle"
    pct_start: float = Field(0.3, gt=0.0, lt=1.0)
    anneal: Literal["cos", "linear"] = "cos"
    div_factor: float = Field(25.0, ge=1.0)
    final_div_factor: float = Field(1e4, ge=1.0)

    def rise(self, steps: int) -> float:
        """``pct_start``, nudged where the rise would be exactly one step: torch's OneCycleLR
        divides by zero there (``pct_start * total_steps == 1``)."""
        return self.pct_start * (1 + 1e-9) if self.pct_start * steps == 1 else self.pct_start

    def rise_code(self) -> str:
        p = self.pct_start
        return f"({p!r} * (1 + 1e-9) if {p!r} * steps == 1 else {p!r})"

    def make(self, optimizer: Optimizer, steps: int, base: float) -> Any:
        return lr_scheduler.OneCycleLR(
            optimizer,
            max_lr=base,
            total_steps=steps,
            pct_start=self.rise(steps),
            anneal_strategy=self.anneal,
            div_factor=self.div_factor,
            final_div_factor=self.final_div_factor,
            cycle_momentum=False,
        )

    def multiplier(self, u: int, steps: int) -> float:
        """torch's two-phase formula: rise to the base LR, then fall to initial/final_div."""
        initial = 1.0 / self.div_factor
        rise_end = self.rise(steps) * steps - 1
        if u <= rise_end:
            begin, stop, a, b = 0.0, rise_end, initial, 1.0
        else:
            begin, stop, a, b = rise_end, steps - 1, 1.0, initial / self.final_div_factor
        pct = (u - begin) / (stop - begin)
        if self.anneal == "cos":
            return b + (a - b) / 2.0 * (math.cos(math.pi * pct) + 1.0)
        return (b - a) * pct + a

    def code(self) -> str:
        return (
            "lr_scheduler.OneCycleLR(optimizer, max_lr=base, total_steps=steps, "
            f"pct_start={self.rise_code()}, anneal_strategy={self.anneal!r}, "
            f"div_factor={self.div_factor!r}, final_div_factor={self.final_div_factor!r}, "
            "cycle_momentum=False)"
        )


class Plateau(ScheduleBase):
    """Reduce-on-plateau: multiply by ``factor`` after ``patience`` epochs without progress.

    The only family driven by the validation metric; it acts at epoch ends, after warm-up.
    """

    family: Literal["plateau"] = "plateau"
    factor: float = Field(0.1, gt=0.0, lt=1.0)
    patience: int = Field(2, ge=0, description="epochs")
    threshold: float = Field(1e-3, ge=0.0, lt=1.0)
    min_factor: float = Field(0.0, ge=0.0, le=1.0, description="LR floor, fraction of base LR")
    mode: Literal["max", "min"] = "max"

    per_epoch: ClassVar[bool] = True

    def make(self, optimizer: Optimizer, steps: int, base: float) -> Any:
        return lr_scheduler.ReduceLROnPlateau(
            optimizer,
            mode=self.mode,
            factor=self.factor,
            patience=self.patience,
            threshold=self.threshold,
            min_lr=self.min_factor * base,
        )

    def multiplier(self, u: int, steps: int) -> float:
        return 1.0  # without metrics the LR stays put; see ``lr_curve(metrics=...)``

    def code(self) -> str:
        return (
            f"lr_scheduler.ReduceLROnPlateau(optimizer, mode={self.mode!r}, "
            f"factor={self.factor!r}, patience={self.patience!r}, "
            f"threshold={self.threshold!r}, min_lr={self.min_factor!r} * base)"
        )

    def reductions(self, metrics: Sequence[float]) -> list[int]:
        """How many times the LR has been cut after each epoch's metric (torch's rule, 'rel')."""
        best = -math.inf if self.mode == "max" else math.inf
        bad, cuts, out = 0, 0, []
        for metric in metrics:
            better = (
                metric > best * (1 + self.threshold)
                if self.mode == "max"
                else metric < best * (1 - self.threshold)
            )
            best, bad = (metric, 0) if better else (best, bad + 1)
            if bad > self.patience:
                cuts, bad = cuts + 1, 0
            out.append(cuts)
        return out


FAMILIES: dict[str, type[ScheduleBase]] = {
    cls.model_fields["family"].default: cls
    for cls in (
        Constant,
        Step,
        MultiStep,
        Exponential,
        Linear,
        Polynomial,
        Cosine,
        CosineRestarts,
        Cyclic,
        OneCycle,
        Plateau,
    )
}

ScheduleConfig = Annotated[
    Constant
    | Step
    | MultiStep
    | Exponential
    | Linear
    | Polynomial
    | Cosine
    | CosineRestarts
    | Cyclic
    | OneCycle
    | Plateau,
    Field(discriminator="family"),
]
_ADAPTER: TypeAdapter[ScheduleConfig] = TypeAdapter(ScheduleConfig)


def parse_schedule(data: dict[str, Any] | str) -> ScheduleBase:
    """A config from its JSON form (dict or string); raises pydantic's ValidationError."""
    if isinstance(data, str):
        return _ADAPTER.validate_json(data)
    return _ADAPTER.validate_python(data)


def _compose(optimizer: Optimizer, config: ScheduleBase, total_steps: int) -> tuple[Any, Any, int]:
    """(ramp or None, family scheduler, warm-up steps), wired the way ``to_code`` writes it.

    The family is built first so that the optimizer's LR is the family's own starting LR; that
    LR becomes ``initial_lr``, the target which SequentialLR's reset hands to the ramp.
    """
    warm = warmup_steps(config.warmup, total_steps)
    main = config.make(optimizer, total_steps - warm, optimizer.param_groups[0]["lr"])
    if not warm:
        return None, main, 0
    for group in optimizer.param_groups:
        group["initial_lr"] = group["lr"]
    ramp = lr_scheduler.LinearLR(optimizer, start_factor=1 / (warm + 1), total_iters=warm)
    return ramp, main, warm


class LRSchedule:
    """One interface for every family: ``step()`` after each optimizer step, ``epoch_end(metric)``
    after each validation. Wraps the plain torch schedulers that ``to_code`` also writes."""

    def __init__(
        self, optimizer: Optimizer, config: ScheduleBase, total_steps: int, steps_per_epoch: int
    ) -> None:
        if total_steps < 1 or steps_per_epoch < 1:
            raise ValueError("total_steps and steps_per_epoch must be at least 1")
        self.optimizer = optimizer
        self.config = config
        self.steps_per_epoch = steps_per_epoch
        self.ramp, main, self.warmup_steps = _compose(optimizer, config, total_steps)
        self.plateau = main if config.per_epoch else None
        if config.per_epoch:
            self.scheduler = self.ramp
        elif self.ramp is not None:
            self.scheduler = lr_scheduler.SequentialLR(
                optimizer, [self.ramp, main], milestones=[self.warmup_steps]
            )
        else:
            self.scheduler = main
        self._done = 0

    def step(self) -> None:
        """Advance one optimizer step."""
        self._done += 1
        if self.plateau is None:
            self.scheduler.step()
        elif self.ramp is not None and self._done <= self.warmup_steps:
            self.ramp.step()

    def epoch_end(self, metric: float) -> None:
        """Feed the epoch's validation metric (acts only for plateau, once warm-up is over)."""
        if self._done % self.steps_per_epoch:
            raise RuntimeError(
                f"epoch_end() after {self._done} steps, mid-epoch of {self.steps_per_epoch} steps"
            )
        if self.plateau is not None and self._done >= self.warmup_steps:
            self.plateau.step(metric)

    def get_last_lr(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]


def build_scheduler(
    optimizer: Optimizer,
    config: ScheduleBase | dict[str, Any],
    total_steps: int,
    steps_per_epoch: int,
) -> LRSchedule:
    """The scheduler for ``config`` over a run of ``total_steps`` optimizer steps."""
    if isinstance(config, dict):
        config = parse_schedule(config)
    return LRSchedule(optimizer, config, total_steps, steps_per_epoch)


def _plateau_cuts(
    config: Plateau, metrics: Sequence[float], steps_per_epoch: int, warm: int, total_steps: int
) -> list[int]:
    """LR cuts in force at each step: epoch e's metric is heard after its last step, once
    warm-up is over, and a cut applies from the next step on."""
    heard = [(e, m) for e, m in enumerate(metrics) if (e + 1) * steps_per_epoch >= warm]
    cuts = [0] * total_steps
    for (epoch, _), n_cuts in zip(heard, config.reductions([m for _, m in heard]), strict=True):
        for t in range((epoch + 1) * steps_per_epoch, total_steps):
            cuts[t] = n_cuts
    return cuts


def lr_curve(
    config: ScheduleBase | dict[str, Any],
    total_steps: int,
    base_lr: float,
    steps_per_epoch: int | None = None,
    metrics: Sequence[float] | None = None,
) -> list[float]:
    """The LR of every optimizer step, from the closed form, without torch or training.

    ``metrics`` (one per epoch, needs ``steps_per_epoch``) drives reduce-on-plateau; without them
    its LR stays at the base LR after warm-up.
    """
    if isinstance(config, dict):
        config = parse_schedule(config)
    if total_steps < 1:
        raise ValueError("total_steps must be at least 1")
    warm = warmup_steps(config.warmup, total_steps)
    steps = total_steps - warm
    start = base_lr * config.multiplier(0, steps)
    cuts = [0] * total_steps
    if isinstance(config, Plateau) and metrics is not None:
        if not steps_per_epoch:
            raise ValueError("metrics need steps_per_epoch")
        cuts = _plateau_cuts(config, metrics, steps_per_epoch, warm, total_steps)
    curve = []
    for t in range(total_steps):
        if t < warm:
            curve.append(start * (t + 1) / (warm + 1))
        elif isinstance(config, Plateau):
            curve.append(max(base_lr * config.factor ** cuts[t], base_lr * config.min_factor))
        else:
            curve.append(base_lr * config.multiplier(t - warm, steps))
    return curve


_CODE = '''\
import torch
from torch.optim import lr_scheduler


def make_scheduler(optimizer: torch.optim.Optimizer, total_steps: int):
    """{summary}

    {usage}
    """
    base = optimizer.param_groups[0]["lr"]
    span = lambda fraction, steps: max(1, round(fraction * steps))  # noqa: E731
    warmup = min(round({warmup!r} * total_steps), total_steps - 1)
    steps = total_steps - warmup
    main = {main}
    if warmup == 0:
        return {no_warmup}
    for group in optimizer.param_groups:  # the ramp climbs to the schedule's first LR
        group["initial_lr"] = group["lr"]
    ramp = lr_scheduler.LinearLR(optimizer, start_factor=1 / (warmup + 1), total_iters=warmup)
    return {with_warmup}
'''
_USAGE_PER_STEP = "Call scheduler.step() after every optimizer.step()."
_USAGE_PER_EPOCH = (
    "Returns (ramp, plateau): call ramp.step() after each of the first warm-up optimizer "
    "steps\n    (ramp is None without warm-up), then plateau.step(val_metric) at each epoch end."
)


def to_code(
    config: ScheduleBase | dict[str, Any],
    base_lr: float | None = None,
    optimizer: str | None = None,
) -> str:
    """A self-contained PyTorch snippet, ``make_scheduler(optimizer, total_steps)``, that
    rebuilds this schedule at any run length."""
    if isinstance(config, dict):
        config = parse_schedule(config)
    summary = f"schedsearch schedule {config.family}: {json.dumps(config.params())}"
    if base_lr is not None:
        found_with = f" and {optimizer}" if optimizer else ""
        summary += f"\n    Found with base LR {base_lr!r}{found_with}."
    per_epoch = config.per_epoch
    return _CODE.format(
        summary=summary,
        usage=_USAGE_PER_EPOCH if per_epoch else _USAGE_PER_STEP,
        warmup=config.warmup,
        main=config.code(),
        no_warmup="None, main" if per_epoch else "main",
        with_warmup=(
            "ramp, main"
            if per_epoch
            else "lr_scheduler.SequentialLR(optimizer, [ramp, main], milestones=[warmup])"
        ),
    )
