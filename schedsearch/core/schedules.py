"""Learning-rate schedule families: typed configs that rebuild the same schedule anywhere.

Every family is one pydantic model that knows two things about itself, without torch:

* ``multiplier(u, steps)`` -- the closed form: the LR at main-phase step ``u`` as a multiple of the
  base LR (what ``lr_curve`` plots without training);
* ``code()`` -- the ``torch.optim.lr_scheduler`` expression that runs the family's main phase
  for ``steps`` optimizer steps. The trainer (``engine.schedulers``) evaluates this very
  expression, and ``to_code`` writes it into the snippet, so the two cannot drift apart.

Time parameters are fractions of the run, so a config found with 5-epoch trials keeps its shape
in a 200-epoch training. ``warmup`` (a fraction of the run, shared by every family) prepends a
linear ramp over ``W`` steps up to the LR the family starts at (the base LR, except one-cycle
and cyclical, which start low), so the curve never jumps; the family then runs over the
remaining ``total - W`` steps. The base LR is the optimizer's LR: it is the highest LR every
family reaches (one-cycle's and cyclical's peak, the start of every decay).

The shared base lives in ``schedule_base``, warmup-stable-decay in ``decays`` and schedule-free
training in ``schedule_free``; every family meets in ``FAMILIES`` and ``parse_schedule`` here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, TypeAdapter, field_validator

from schedsearch.core.decays import WarmupStableDecay
from schedsearch.core.schedule_base import (
    Fraction,
    ScheduleBase,
    scheduler_call,
    span,
    warmup_steps,
)
from schedsearch.core.schedule_free import ScheduleFree

__all__ = [
    "FAMILIES",
    "Constant",
    "Cosine",
    "CosineRestarts",
    "Cyclic",
    "Exponential",
    "Linear",
    "MultiStep",
    "OneCycle",
    "Plateau",
    "Polynomial",
    "ScheduleBase",
    "ScheduleConfig",
    "ScheduleFree",
    "Step",
    "WarmupStableDecay",
    "parse_schedule",
    "scheduler_call",
    "span",
    "warmup_steps",
]


class Constant(ScheduleBase):
    """The base LR throughout: the baseline every other family must beat."""

    family: Literal["constant"] = "constant"

    def multiplier(self, u: int, steps: int) -> float:
        return 1.0

    def code(self) -> str:
        return scheduler_call("ConstantLR", factor="1.0", total_iters="0")


class Step(ScheduleBase):
    """Multiply by ``gamma`` every ``step_size`` of the run (He et al.'s ResNet recipe)."""

    family: Literal["step"] = "step"
    step_size: float = Field(1 / 3, gt=0.0, le=1.0, description="fraction of the run")
    gamma: float = Field(0.1, gt=0.0, le=1.0)

    def multiplier(self, u: int, steps: int) -> float:
        return self.gamma ** (u // span(self.step_size, steps))

    def code(self) -> str:
        step_size = f"span({self.step_size!r}, steps)"
        return scheduler_call("StepLR", step_size=step_size, gamma=repr(self.gamma))


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

    def multiplier(self, u: int, steps: int) -> float:
        return self.gamma ** sum(u >= span(m, steps) for m in self.milestones)

    def code(self) -> str:
        milestones = f"[span(m, steps) for m in {list(self.milestones)!r}]"
        return scheduler_call("MultiStepLR", milestones=milestones, gamma=repr(self.gamma))


class Exponential(ScheduleBase):
    """Geometric decay that reaches ``final_factor`` x base LR at the end of the run."""

    family: Literal["exponential"] = "exponential"
    final_factor: float = Field(0.01, gt=0.0, le=1.0)

    def multiplier(self, u: int, steps: int) -> float:
        return float(self.final_factor ** (u / steps))

    def code(self) -> str:
        return scheduler_call("ExponentialLR", gamma=f"{self.final_factor!r} ** (1 / steps)")


class Linear(ScheduleBase):
    """Straight-line decay to ``end_factor`` x base LR at the end of the run."""

    family: Literal["linear"] = "linear"
    end_factor: float = Field(0.0, ge=0.0, le=1.0)

    def multiplier(self, u: int, steps: int) -> float:
        return 1.0 + (self.end_factor - 1.0) * min(u, steps) / steps

    def code(self) -> str:
        return scheduler_call(
            "LinearLR", start_factor="1.0", end_factor=repr(self.end_factor), total_iters="steps"
        )


class Polynomial(ScheduleBase):
    """``(1 - t)^power`` decay to a floor of ``end_factor`` x base LR.

    torch's ``PolynomialLR`` has no floor, so this one is a ``LambdaLR`` over the same formula.
    """

    family: Literal["polynomial"] = "polynomial"
    power: float = Field(2.0, gt=0.0, le=10.0)
    end_factor: float = Field(0.0, ge=0.0, le=1.0)

    def multiplier(self, u: int, steps: int) -> float:
        return float(
            self.end_factor + (1.0 - self.end_factor) * (1.0 - min(u, steps) / steps) ** self.power
        )

    def code(self) -> str:
        e, p = self.end_factor, self.power
        return scheduler_call(
            "LambdaLR", f"lambda u: {e!r} + (1 - {e!r}) * (1 - min(u, steps) / steps) ** {p!r}"
        )


class Cosine(ScheduleBase):
    """Half a cosine from the base LR down to ``eta_min`` x base LR (Loshchilov & Hutter)."""

    family: Literal["cosine"] = "cosine"
    eta_min: float = Field(0.0, ge=0.0, le=1.0, description="floor, as a fraction of base LR")

    def multiplier(self, u: int, steps: int) -> float:
        return self.eta_min + (1.0 - self.eta_min) * (1.0 + math.cos(math.pi * u / steps)) / 2.0

    def code(self) -> str:
        return scheduler_call(
            "CosineAnnealingLR", T_max="steps", eta_min=f"{self.eta_min!r} * base"
        )


class CosineRestarts(ScheduleBase):
    """SGDR: cosine cycles restarting at the base LR, each ``t_mult`` times the last.

    ``m_mul`` < 1 shrinks every cycle (peak and floor) to ``m_mul`` times the last, as Keras'
    ``CosineDecayRestarts``: later restarts jump less. torch's ``CosineAnnealingWarmRestarts``
    has no such factor, so those configs run as a ``LambdaLR`` over the same formula.
    """

    family: Literal["cosine_restarts"] = "cosine_restarts"
    first_period: float = Field(0.25, gt=0.0, le=1.0, description="fraction of the run")
    t_mult: int = Field(1, ge=1, le=4)
    eta_min: float = Field(0.0, ge=0.0, le=1.0, description="floor, as a fraction of base LR")
    m_mul: float = Field(1.0, gt=0.0, le=1.0, description="each cycle's height / the last one's")

    def multiplier(self, u: int, steps: int) -> float:
        period, cycle = span(self.first_period, steps), 0
        if self.t_mult == 1:  # equal cycles: one division, not one loop turn per cycle
            cycle, u = divmod(u, period)
        while u >= period:  # growing cycles: a handful (the log of the run's length)
            u -= period
            period *= self.t_mult
            cycle += 1
        cosine = self.eta_min + (1.0 - self.eta_min) * (1.0 + math.cos(math.pi * u / period)) / 2.0
        return self.m_mul**cycle * cosine

    def code(self) -> str:
        if self.m_mul == 1.0:
            return scheduler_call(
                "CosineAnnealingWarmRestarts",
                T_0=f"span({self.first_period!r}, steps)",
                T_mult=repr(self.t_mult),
                eta_min=f"{self.eta_min!r} * base",
            )
        t, e = self.t_mult, self.eta_min
        if t == 1:  # cycle n spans [n * p, (n + 1) * p)
            cycle, start, length = "u // p", "n * p", "p"
        else:  # cycle n starts at p * (t^n - 1) / (t - 1): n is the integer log_t of
            # q = u * (t - 1) // p + 1. log_t(q) can fall just short of a whole number
            # (log(243, 3) < 5); log_t(q + 0.5) lies clear of them, exact below 10^13 steps
            cycle = f"math.floor(math.log(u * {t - 1} // p + 1.5, {t}))"
            start, length = f"p * ({t} ** n - 1) // {t - 1}", f"p * {t} ** n"
        cosine = f"{e!r} + (1 - {e!r}) * (1 + math.cos(math.pi * (u - {start}) / ({length}))) / 2"
        height = f"{self.m_mul!r} ** n * ({cosine})"
        return scheduler_call(
            "LambdaLR",
            f"lambda u, p=span({self.first_period!r}, steps): (lambda n: {height})({cycle})",
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

    def multiplier(self, u: int, steps: int) -> float:
        half = span(self.half_cycle, steps)
        cycle = math.floor(1 + u / (2 * half))
        x = abs(u / half - 2 * cycle + 1)
        scale = {
            "triangular": 1.0,
            "triangular2": 1 / 2 ** (cycle - 1),
            "exp_range": (self.amplitude_decay ** (1 / steps)) ** u,
        }[self.mode]
        return float(self.min_factor + (1.0 - self.min_factor) * max(0.0, 1.0 - x) * scale)

    def code(self) -> str:
        return scheduler_call(
            "CyclicLR",
            base_lr=f"{self.min_factor!r} * base",
            max_lr="base",
            step_size_up=f"span({self.half_cycle!r}, steps)",
            mode=repr(self.mode),
            gamma=f"{self.amplitude_decay!r} ** (1 / steps)",
            cycle_momentum="False",
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
        return scheduler_call(
            "OneCycleLR",
            max_lr="base",
            total_steps="steps",
            pct_start=self.rise_code(),
            anneal_strategy=repr(self.anneal),
            div_factor=repr(self.div_factor),
            final_div_factor=repr(self.final_div_factor),
            cycle_momentum="False",
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

    def multiplier(self, u: int, steps: int) -> float:
        return 1.0  # without metrics the LR stays put; see ``lr_curve(metrics=...)``

    def code(self) -> str:
        return scheduler_call(
            "ReduceLROnPlateau",
            mode=repr(self.mode),
            factor=repr(self.factor),
            patience=repr(self.patience),
            threshold=repr(self.threshold),
            min_lr=f"{self.min_factor!r} * base",
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
        WarmupStableDecay,
        ScheduleFree,
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
    | Plateau
    | WarmupStableDecay
    | ScheduleFree,
    Field(discriminator="family"),
]
_ADAPTER: TypeAdapter[ScheduleConfig] = TypeAdapter(ScheduleConfig)


def parse_schedule(data: dict[str, Any] | str) -> ScheduleBase:
    """A config from its JSON form (dict or string); raises pydantic's ValidationError."""
    if isinstance(data, str):
        return _ADAPTER.validate_json(data)
    return _ADAPTER.validate_python(data)
