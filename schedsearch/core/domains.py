"""Where a search-space parameter may lie: a range, a list of choices, or a fixed value.

Each domain samples itself through a trial (``suggest``) and maps a value back to the draw
that gives it (``nearest``), so ``space.as_params`` can invert ``space.suggest``. Overrides
arrive as JSON and are parsed here against the config field's own pydantic type.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import ConfigDict, TypeAdapter, ValidationError


class Suggests(Protocol):
    """What sampling needs of a trial: Optuna's ``Trial`` has it, and core stays free of Optuna."""

    def suggest_float(self, name: str, low: float, high: float, *, log: bool = False) -> float: ...

    def suggest_int(self, name: str, low: int, high: int, *, log: bool = False) -> int: ...

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any: ...


class SpaceError(ValueError):
    """An invalid search-space override; ``field`` is the dotted path of the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class Float:
    """A range of reals; ``log`` samples it by order of magnitude."""

    low: float
    high: float
    log: bool = False

    def suggest(self, trial: Suggests, name: str) -> float:
        return trial.suggest_float(name, self.low, self.high, log=self.log)

    def contains(self, value: Any) -> bool:
        return bool(self.low <= value <= self.high)

    def nearest(self, value: Any) -> float:
        return min(max(float(value), self.low), self.high)


class Int(Float):
    """A range of whole numbers (its bounds are whole numbers too)."""

    def suggest(self, trial: Suggests, name: str) -> int:
        return trial.suggest_int(name, int(self.low), int(self.high), log=self.log)

    def contains(self, value: Any) -> bool:
        return isinstance(value, int) and super().contains(value)

    def nearest(self, value: Any) -> int:
        return round(super().nearest(value))


@dataclass(frozen=True)
class Choice:
    choices: tuple[Any, ...]

    def suggest(self, trial: Suggests, name: str) -> Any:
        return trial.suggest_categorical(name, list(self.choices))

    def contains(self, value: Any) -> bool:
        return value in self.choices

    def nearest(self, value: Any) -> Any:
        return value if value in self.choices else None  # no order: let the sampler choose


@dataclass(frozen=True)
class Fixed:
    """A value held constant: not sampled, so it costs the sampler nothing."""

    value: Any

    def suggest(self, trial: Suggests, name: str) -> Any:
        return self.value

    def contains(self, value: Any) -> bool:
        return bool(value == self.value)

    def nearest(self, value: Any) -> Any:
        return None  # never sampled, so never given


MIN_WARMUP = 0.01


class Warmup(Float):
    """A warm-up range under the rule "no warm-up, or at least 1% of the run": a draw below
    ``MIN_WARMUP`` is no warm-up at all. A shorter ramp is a step or two of a short trial, not
    a warm-up. From ``Warmup(0.0, 0.1)`` about one draw in ten is none: a fair prior."""

    def suggest(self, trial: Suggests, name: str) -> float:
        value = super().suggest(trial, name)
        return value if value >= MIN_WARMUP else 0.0

    def nearest(self, value: Any) -> float:
        """The draw that gives ``value``; a value the rule forbids (0 < value < 1%) becomes
        the nearer of none and ``MIN_WARMUP`` first."""
        if value < MIN_WARMUP:
            value = 0.0 if value < MIN_WARMUP / 2 else MIN_WARMUP
        return super().nearest(value)


Domain = Float | Int | Choice | Fixed


_FINITE = ConfigDict(allow_inf_nan=False)


def _check_value(field: str, value_type: Any, value: Any) -> None:
    try:
        TypeAdapter(value_type, config=_FINITE).validate_python(value, strict=True)
    except ValidationError as exc:  # keep pydantic's first message, under our field's name
        raise SpaceError(field, f"{value!r} is invalid: {exc.errors()[0]['msg']}") from None


def parse_domain(field: str, override: Any, default: Domain, value_type: Any) -> Domain:
    """One override (fixed value, list of choices or range) as a checked ``Domain``."""
    if isinstance(override, Mapping):
        if isinstance(default, Choice):
            raise SpaceError(field, "takes a value or a list of choices, not a range")
        unknown = set(override) - {"low", "high", "log"}
        if unknown or not {"low", "high"} <= set(override):
            raise SpaceError(field, "a range needs 'low' and 'high' (and optionally 'log')")
        low, high, log = override["low"], override["high"], override.get("log", False)
        for bound in ("low", "high"):
            _check_value(f"{field}.{bound}", value_type, override[bound])
        if not isinstance(log, bool):
            raise SpaceError(f"{field}.log", f"{log!r} is not true or false")
        if low > high:
            raise SpaceError(field, f"low {low!r} is above high {high!r}")
        if log and low <= 0:
            raise SpaceError(field, f"a log range needs low > 0, got {low!r}")
        if isinstance(default, Int):
            if not (isinstance(low, int) and isinstance(high, int)):
                raise SpaceError(field, "takes whole numbers")
            return Int(low, high, log)
        return Float(float(low), float(high), log)
    if isinstance(override, list | tuple):
        if not override:
            raise SpaceError(field, "an empty list of choices")
        for i, value in enumerate(override):
            _check_value(f"{field}[{i}]", value_type, value)
        return Choice(tuple(dict.fromkeys(override)))
    _check_value(field, value_type, override)
    return Fixed(override)


def domain_json(domain: Domain) -> Any:
    if isinstance(domain, Fixed):
        return domain.value
    if isinstance(domain, Choice):
        return list(domain.choices)
    return {"low": domain.low, "high": domain.high, "log": domain.log}
