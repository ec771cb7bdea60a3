"""The conditional search space over schedule families (Optuna define-by-run).

A trial first samples the family, then only that family's parameters, each named
``"{family}.{param}"`` so that TPE (``group=True``) models every family as its own joint space.
Each family also samples its own base LR: the best LR depends on the shape around it.

Defaults come from the literature (Smith's CLR and 1cycle, SGDR, the ResNet step recipe), and a
user narrows or widens them per family. An override is a fixed value (``0.0``), a list of
choices (``[1, 2]``), or a range (``{"low": 0.01, "high": 0.3, "log": true}``). Its bounds are
checked against the schedule config's own field constraints, so the hard limits live in one place
(``schedsearch.core.schedules``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from schedsearch.core.domains import (
    MIN_WARMUP,
    Choice,
    Domain,
    Fixed,
    Float,
    Int,
    SpaceError,
    Suggests,
    Warmup,
    domain_json,
    parse_domain,
)
from schedsearch.core.schedules import FAMILIES, ScheduleBase

__all__ = [  # the domains are part of this module's interface (specs and tests use them)
    "DEFAULTS",
    "DEFAULT_BASE_LR",
    "MIN_WARMUP",
    "Choice",
    "Domain",
    "Fixed",
    "Float",
    "Int",
    "SampledSchedule",
    "SearchSpace",
    "SpaceError",
    "Suggests",
    "Warmup",
    "as_params",
    "describe",
    "domain_json",
    "known",
    "param_name",
    "parse_domain",
    "resolve",
    "suggest",
]

# SGD below 0.01 (Nesterov momentum 0.9, BatchNorm nets) almost never wins a short run, and a
# third of a 1e-3..1 range sat there (bench/search_quality.py): 0.01..1 spends trials where
# winners are.
DEFAULT_BASE_LR: dict[str, Float] = {
    "sgd": Float(1e-2, 1.0, log=True),
    "adamw": Float(1e-5, 1e-1, log=True),
}
# A warm-up is none or at least 1% of the run (``Warmup``): draws below 0.01 mean none.
_WARMUP = Warmup(0.0, 0.1)
_NO_WARMUP = Fixed(0.0)  # one-cycle and cyclical begin low already: their rise is a warm-up

DEFAULTS: dict[str, dict[str, Domain]] = {
    "constant": {"warmup": _WARMUP},
    "step": {"warmup": _WARMUP, "step_size": Float(0.15, 0.5), "gamma": Float(0.05, 0.5, log=True)},
    "multistep": {
        "warmup": _WARMUP,
        "start": Float(0.3, 0.8),
        "count": Int(1, 3),
        "gamma": Float(0.05, 0.5, log=True),
    },
    "exponential": {"warmup": _WARMUP, "final_factor": Float(1e-3, 0.3, log=True)},
    "linear": {"warmup": _WARMUP, "end_factor": Float(0.0, 0.1)},
    "polynomial": {"warmup": _WARMUP, "power": Float(0.5, 3.0), "end_factor": Float(0.0, 0.1)},
    "cosine": {"warmup": _WARMUP, "eta_min": Float(0.0, 0.1)},
    "cosine_restarts": {
        "warmup": _WARMUP,
        "first_period": Float(0.1, 0.5),
        "t_mult": Int(1, 2),
        "eta_min": Float(0.0, 0.1),
        "m_mul": Float(0.3, 1.0),  # 1: SGDR's equal cycles; 0.3: each 30% as high as the last
    },
    "cyclic": {
        "warmup": _NO_WARMUP,
        "mode": Choice(("triangular", "triangular2", "exp_range")),
        "min_factor": Float(0.02, 0.5, log=True),
        "half_cycle": Float(0.05, 0.25),
        "amplitude_decay": Float(0.01, 1.0, log=True),
    },
    "one_cycle": {
        "warmup": _NO_WARMUP,
        "pct_start": Float(0.1, 0.5),
        "anneal": Choice(("cos", "linear")),
        "div_factor": Float(5.0, 50.0, log=True),
        "final_div_factor": Float(10.0, 1e4, log=True),
    },
    "plateau": {
        "warmup": _WARMUP,
        "factor": Float(0.1, 0.7),
        "patience": Int(0, 3),
        "threshold": Float(1e-4, 1e-2, log=True),
        "min_factor": Fixed(0.0),
        "mode": Fixed("max"),  # "min" where the study minimises its metric (StudySpec)
    },
    # Hägele et al. cool down to zero over about a fifth of the run; a short trial may want a
    # longer cool-down, hence up to half.
    "wsd": {
        "warmup": _WARMUP,
        "decay": Float(0.1, 0.5),
        "shape": Choice(("linear", "cosine", "1-sqrt")),
        "end_factor": Fixed(0.0),
    },
    # Defazio et al. warm up over about 5% of the run; no decay to choose.
    "schedule_free": {"warmup": Warmup(0.01, 0.1)},
}

# Sampled parameters that are not config fields: their types (and so their hard bounds).
_SEARCH_ONLY_TYPES: dict[tuple[str, str], Any] = {
    ("multistep", "start"): Annotated[float, Field(gt=0.0, lt=1.0)],
    ("multistep", "count"): Annotated[int, Field(ge=1, le=8)],
}
_BASE_LR_TYPE = Annotated[float, Field(gt=0.0, le=100.0)]

# Parameters that exist only when another parameter has a given value.
_CONDITIONS: dict[tuple[str, str], tuple[str, Any]] = {
    ("cyclic", "amplitude_decay"): ("mode", "exp_range"),
}


def _multistep_milestones(values: dict[str, Any]) -> dict[str, Any]:
    """``count`` milestones evenly spaced from ``start`` to the end: (0.5, 2) -> (0.5, 0.75)."""
    start, count = values.pop("start"), values.pop("count")
    values["milestones"] = tuple(start + i * (1.0 - start) / count for i in range(count))
    return values


def _multistep_start_count(values: dict[str, Any]) -> dict[str, Any]:
    """The inverse: milestones as ``start`` and ``count`` (exact for evenly spaced ones)."""
    milestones = values.pop("milestones")
    values["start"], values["count"] = milestones[0], len(milestones)
    return values


_TO_CONFIG: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "multistep": _multistep_milestones,
}
_FROM_CONFIG: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "multistep": _multistep_start_count,
}


def _value_type(family: str, param: str) -> Any:
    """The pydantic type a value of this parameter must satisfy."""
    if param == "base_lr":
        return _BASE_LR_TYPE
    if (family, param) in _SEARCH_ONLY_TYPES:
        return _SEARCH_ONLY_TYPES[(family, param)]
    info = FAMILIES[family].model_fields[param]
    return Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation


@dataclass(frozen=True)
class SampledSchedule:
    """What one trial tries: a schedule config and the base LR it runs from."""

    schedule: ScheduleBase
    base_lr: float


class SearchSpace(BaseModel):
    """Which families to search and any per-family range overrides (JSON-serialisable)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    families: tuple[str, ...] = Field(default_factory=lambda: tuple(FAMILIES))
    base_lr: Any = Field(
        default_factory=lambda: domain_json(DEFAULT_BASE_LR["sgd"]),
        description="base LR range for every family (a family may override it in params)",
    )
    params: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="per-family overrides: {family: {param: override}}"
    )

    _domains: dict[str, dict[str, Domain]] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _resolve(self) -> SearchSpace:
        self._domains = resolve(self)
        return self

    def domains(self, family: str) -> dict[str, Domain]:
        """Every parameter of ``family`` (``base_lr`` first) and where it may lie."""
        return self._domains[family]


def resolve(space: SearchSpace) -> dict[str, dict[str, Domain]]:
    """Defaults merged with the overrides, every one checked; raises ``SpaceError``."""
    if not space.families:
        raise SpaceError("families", "at least one family is needed")
    for i, family in enumerate(space.families):
        if family not in FAMILIES:
            raise SpaceError(f"families[{i}]", f"unknown family {family!r} (known: {known()})")
    if len(set(space.families)) != len(space.families):
        raise SpaceError("families", "a family is listed twice")
    base_lr = parse_domain("base_lr", space.base_lr, DEFAULT_BASE_LR["sgd"], _BASE_LR_TYPE)
    for family in space.params:
        if family not in FAMILIES:
            raise SpaceError(f"params.{family}", f"unknown family (known: {known()})")
        if family not in space.families:
            raise SpaceError(f"params.{family}", "overrides a family that is not searched")
    domains = {}
    for family in space.families:
        defaults = {"base_lr": base_lr, **DEFAULTS[family]}
        overrides = space.params.get(family, {})
        for param in overrides:
            if param not in defaults:
                raise SpaceError(
                    f"params.{family}.{param}",
                    f"unknown parameter (known for {family}: {', '.join(defaults)})",
                )
        domains[family] = {
            param: _override(family, param, overrides[param], default)
            if param in overrides
            else default
            for param, default in defaults.items()
        }
    return domains


def _override(family: str, param: str, override: Any, default: Domain) -> Domain:
    """One user override as a domain; a warm-up range keeps the warm-up rule (``Warmup``).
    A warm-up the user fixes or lists is theirs to choose, as in an explicit config."""
    field = f"params.{family}.{param}"
    domain = parse_domain(field, override, default, _value_type(family, param))
    if param == "warmup" and type(domain) is Float:
        return Warmup(domain.low, domain.high, domain.log)
    return domain


def known() -> str:
    return ", ".join(FAMILIES)


def _applies(family: str, param: str, values: dict[str, Any]) -> bool:
    """Whether a conditional parameter exists, given the values of the others."""
    condition = _CONDITIONS.get((family, param))
    return condition is None or values.get(condition[0]) == condition[1]


def param_name(space: SearchSpace, family: str, param: str) -> str:
    """A parameter's name in a trial: ``family.param``, except the base LR, which is one
    parameter shared by every family (so every trial teaches the sampler about the LR) unless
    a family overrides its range."""
    if param == "base_lr" and "base_lr" not in space.params.get(family, {}):
        return "base_lr"
    return f"{family}.{param}"


def suggest(trial: Suggests, space: SearchSpace) -> SampledSchedule:
    """Sample a family, then that family's parameters only; return the config they make."""
    family_domain = Choice(space.families) if len(space.families) > 1 else Fixed(space.families[0])
    family = family_domain.suggest(trial, "family")
    values: dict[str, Any] = {}
    for param, domain in space.domains(family).items():
        if _applies(family, param, values):
            values[param] = domain.suggest(trial, param_name(space, family, param))
    base_lr = values.pop("base_lr")
    values = _TO_CONFIG.get(family, dict)(values)
    return SampledSchedule(FAMILIES[family](**values), float(base_lr))


def as_params(space: SearchSpace, sampled: SampledSchedule) -> dict[str, Any] | None:
    """The trial parameters under which ``suggest`` would sample ``sampled`` (what Optuna's
    ``enqueue_trial`` takes); None when its family is not searched.

    A value outside the space's range is moved to the nearest one the space allows: the user's
    ranges win. Fixed parameters are left out (the space sets them), and so is a choice the
    space does not offer (the sampler picks one).
    """
    family = sampled.schedule.family
    if family not in space.families:
        return None
    values = _FROM_CONFIG.get(family, dict)(sampled.schedule.params())
    values["base_lr"] = sampled.base_lr
    params: dict[str, Any] = {} if len(space.families) == 1 else {"family": family}
    for param, domain in space.domains(family).items():
        value = domain.nearest(values[param]) if _applies(family, param, values) else None
        if value is not None:
            params[param_name(space, family, param)] = value
    return params


def describe() -> dict[str, dict[str, Any]]:
    """Families and their default ranges, as JSON (what ``GET /schedules`` serves)."""
    return {
        family: {param: domain_json(domain) for param, domain in params.items()}
        for family, params in DEFAULTS.items()
    }
