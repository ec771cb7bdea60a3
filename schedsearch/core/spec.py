"""The study spec: validated once where it enters (CLI, HTTP), then the only source from which
every worker rebuilds the same search space, sampler, pruner and training setup."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from schedsearch.core.catalog import MODELS, check_dataset, check_model, dataset_names
from schedsearch.core.space import DEFAULT_BASE_LR, SearchSpace, SpaceError, domain_json

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"
STORED = {"stored": True}  # validation context: a spec read back from the database


class StudySpec(BaseModel):
    """What to search, on what, for how long."""

    # Finite numbers only (a NaN is no setting), and whole numbers that are not booleans.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    name: str | None = Field(None, pattern=NAME_PATTERN, description="unique study name")
    dataset: str = Field("digits", description=", ".join(dataset_names()))
    model: str = Field("cnn-small", description=", ".join(MODELS))
    epochs: int = Field(10, ge=1, le=1000, strict=True, description="epochs per trial")
    n_trials: int = Field(30, ge=1, le=100_000, strict=True, description="number of trials")
    batch_size: int = Field(
        64, ge=1, le=65_536, strict=True, description="images per optimizer step"
    )
    optimizer: Literal["sgd", "adamw"] = Field(
        "sgd", description="sgd (Nesterov momentum 0.9) or adamw"
    )
    weight_decay: float = Field(5e-4, ge=0.0, le=1.0, description="on weights, not on norms")
    augment: bool = Field(True, description="random crops (and flips where the data allows)")
    families: list[str] | None = Field(None, description="schedule families to search (all)")
    space: dict[str, Any] = Field(
        default_factory=dict,
        description='overrides: {"base_lr": range, family: {param: value | [choices] | range}}',
    )
    pruner: Literal["hyperband", "decay_aware", "median", "successive_halving", "none"] = Field(
        "hyperband",
        description="hyperband, decay_aware (Hyperband that holds back its verdict on a trial "
        "still at its peak LR with a decay ahead), median, successive_halving or none",
    )
    sampler: Literal["tpe", "random"] = Field("tpe", description="tpe or random")
    seed: int = Field(
        0, ge=0, le=2**31 - 1, strict=True, description="the split, training and sampler seed"
    )
    warm_start: bool = Field(
        False, description="run the folklore schedules first (see schedsearch.core.folklore)"
    )
    rerun_top_k: int = Field(
        0,
        ge=0,
        le=20,
        strict=True,
        description="at the end, train the k best configs again with fresh seeds",
    )
    rerun_seeds: int = Field(
        3, ge=2, le=10, strict=True, description="fresh seeds per re-run config"
    )

    _space: SearchSpace = PrivateAttr()

    @field_validator("name")
    @classmethod
    def _not_an_id(cls, value: str | None, info: ValidationInfo) -> str | None:
        """An all-digit name would share its path segment with a study id (and lose to it).
        Studies stored before this rule are read back (``STORED``) and reached by their id."""
        if value is not None and value.isdigit() and not (info.context or {}).get("stored"):
            raise ValueError("a study name must not be all digits: those are study ids")
        return value

    @field_validator("dataset")
    @classmethod
    def _known_dataset(cls, value: str) -> str:
        return check_dataset(value)

    @field_validator("model")
    @classmethod
    def _known_model(cls, value: str) -> str:
        return check_model(value)

    @model_validator(mode="after")
    def _space_is_valid(self) -> StudySpec:
        self._space = self._resolve_space()
        if self.rerun_top_k > self.n_trials:
            raise ValueError(
                f"rerun_top_k ({self.rerun_top_k}) is more than n_trials ({self.n_trials})"
            )
        return self

    def search_space(self) -> SearchSpace:
        """The spec's search space, resolved once when the spec was validated."""
        return self._space

    def _resolve_space(self) -> SearchSpace:
        """The search space; a bad override raises ValueError naming its spec field."""
        overrides = dict(self.space)
        base_lr = overrides.pop("base_lr", domain_json(DEFAULT_BASE_LR[self.optimizer]))
        raw = {"base_lr": base_lr, "params": overrides}
        if self.families is not None:
            raw["families"] = self.families
        try:
            return SearchSpace.model_validate(raw)
        except ValidationError as exc:
            raise ValueError(_space_error(exc)) from None


def _space_error(exc: ValidationError) -> str:
    """A search-space error in the spec's own terms: ``space.cosine.eta_min: ...``."""
    error = exc.errors()[0]
    cause = error.get("ctx", {}).get("error")
    if isinstance(cause, SpaceError):
        field, message = cause.field, str(cause).split(": ", 1)[1]
    else:  # pydantic's own check, e.g. a family's overrides that are not an object
        field, message = ".".join(str(p) for p in error["loc"]), error["msg"]
    field = field.removeprefix("params").lstrip(".")  # families' overrides sit under space
    return f"{field if field.startswith('families') else f'space.{field}'}: {message}"


def error_line(
    exc: Exception, name: Callable[[tuple[Any, ...]], str] = lambda loc: ".".join(map(str, loc))
) -> str:
    """One readable line for a validation error: ``field: what is wrong``; ``name`` says how a
    location reads to the user (the settings name their variables)."""
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return str(exc)
    parts = []
    for error in errors():
        where = name(tuple(error["loc"]))
        message = error["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)
