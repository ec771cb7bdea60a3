"""What every schedule family shares: the config base class and the step arithmetic.

Its own module so that families can live in several modules (``schedules``, ``decays``) and
still meet in one registry (``schedules.FAMILIES``) without an import cycle.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

Fraction = Annotated[float, Field(gt=0.0, lt=1.0)]


def span(fraction: float, steps: int) -> int:
    """A fraction of the run in whole steps, never less than one."""
    return max(1, round(fraction * steps))


def scheduler_call(name: str, *args: str, **kwargs: str) -> str:
    """``lr_scheduler.NAME(optimizer, *args, k=v, ...)``: arguments already written as code."""
    rendered = ", ".join(["optimizer", *args, *(f"{k}={v}" for k, v in kwargs.items())])
    return f"lr_scheduler.{name}({rendered})"


def warmup_steps(warmup: float, total_steps: int) -> int:
    """Warm-up length in steps; the family always keeps at least one step of its own."""
    return min(round(warmup * total_steps), total_steps - 1)


class ScheduleBase(BaseModel, ABC):
    """What every family shares: a frozen JSON-able config plus an optional linear warm-up."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    family: str
    warmup: float = Field(
        0.0, ge=0.0, lt=1.0, description="linear warm-up length, as a fraction of the run"
    )

    per_epoch: ClassVar[bool] = False  # True: the LR reacts to the validation metric
    swaps_optimizer: ClassVar[bool] = False  # True: trained by a schedule-free optimizer

    @abstractmethod
    def multiplier(self, u: int, steps: int) -> float:
        """LR at main-phase step ``u`` divided by the base LR (closed form)."""

    @abstractmethod
    def code(self) -> str:
        """The main phase's torch scheduler as an expression over ``optimizer``, ``steps``,
        ``base`` (the base LR), ``span`` (see ``span``), ``lr_scheduler`` and ``math``."""

    def params(self) -> dict[str, Any]:
        """The family's parameters without the family name (what the API calls ``params``)."""
        return self.model_dump(mode="json", exclude={"family"})
