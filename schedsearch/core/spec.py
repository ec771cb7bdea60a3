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
from schedsearch.core.schedules import FAMILIES
from schedsearch.core.space import DEFAULT_BASE_LR, SearchSpace, SpaceError, domain_json

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"
STORED = {"stored": True}  # validation context: a spec read back from the database
# What a stored spec that does not name these fields was submitted with (before they existed).
OLD_DEFAULTS: dict[str, Any] = {
    "pruner": "hyperband",
    "lr_range_test": False,
    "prior": False,
    "rerun_top_k": 0,
    "rerun_seeds": 3,
}
MAX_TRIALS = 100_000
RERUN_SHARE = 0.25  # of a budget, at most, for the re-runs when the spec leaves top k to it
# "All families" of a spec stored before a family was added: a study's categorical choice of
# family cannot grow mid-study (Optuna refuses a dynamic value space). Specs stored since
# name their families (``stored_form``).
FIRST_FAMILIES = (
    "constant",
    "step",
    "multistep",
    "exponential",
    "linear",
    "polynomial",
    "cosine",
    "cosine_restarts",
    "cyclic",
    "one_cycle",
    "plateau",
)


class StudySpec(BaseModel):
    """What to search, on what, for how long."""

    # Finite numbers only (a NaN is no setting), and whole numbers that are not booleans.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    name: str | None = Field(None, pattern=NAME_PATTERN, description="unique study name")
    trainer: Literal["builtin", "external"] = Field(
        "builtin",
        description="builtin: schedsearch workers train the trials; external: the caller's own "
        "training loop leases them over HTTP (dataset and model are then free labels)",
    )
    dataset: str = Field(
        "digits", max_length=200, description=", ".join(dataset_names()) + " (builtin)"
    )
    model: str = Field("cnn-small", max_length=200, description=", ".join(MODELS) + " (builtin)")
    metric: str = Field(
        "val_accuracy",
        pattern=r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$",
        description="what each epoch reports (the built-in trainer reports val_accuracy)",
    )
    direction: Literal["maximize", "minimize"] = Field(
        "maximize", description="whether a larger metric is better (e.g. minimize val_loss)"
    )
    epochs: int = Field(10, ge=1, le=1000, strict=True, description="epochs per trial")
    n_trials: int = Field(30, ge=1, le=MAX_TRIALS, strict=True, description="number of trials")
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
    label_noise: float = Field(
        0.0,
        ge=0.0,
        lt=1.0,
        description="share of training labels replaced by a uniformly drawn class (robustness "
        "studies; validation and test labels stay clean)",
    )
    pruner: Literal[
        "auto", "hyperband", "decay_aware", "median", "successive_halving", "hopeless", "none"
    ] = Field(
        "auto",
        description="auto (Hyperband where early epochs predict the end, else hopeless), "
        "hyperband, decay_aware (Hyperband that holds back its verdict on a trial still at its "
        "peak LR with a decay ahead), median, successive_halving, hopeless (only trials that "
        "learn nothing) or none",
    )
    budget_epochs: int | None = Field(
        None,
        ge=1,
        le=10_000_000,
        strict=True,
        description="compute budget in epochs trained: range test, trials and re-runs; the "
        "search stops when it is spent (n_trials then only caps the count)",
    )
    lr_range_test: bool = Field(
        True,
        description="a short LR sweep before the first trial centres the base-LR range "
        "(skipped when space.base_lr is given)",
    )
    prior: bool = Field(
        True,
        description="draw trials from the folklore recipes with a probability that decays "
        "as evidence accumulates; TPE (or random) otherwise",
    )
    sampler: Literal["tpe", "random"] = Field("tpe", description="tpe or random")
    seed: int = Field(
        0, ge=0, le=2**31 - 1, strict=True, description="the split, training and sampler seed"
    )
    warm_start: bool = Field(
        False, description="run the folklore schedules first (see schedsearch.core.folklore)"
    )
    rerun_top_k: int = Field(
        2,
        ge=0,
        le=20,
        strict=True,
        description="at the end, train the k best configs (and the best folklore recipe, for "
        "the lift) again with fresh seeds; the pick is the best mean",
    )
    rerun_seeds: int = Field(
        2, ge=2, le=10, strict=True, description="fresh seeds per re-run config"
    )

    _space: SearchSpace = PrivateAttr()

    @model_validator(mode="before")
    @classmethod
    def _stored_keep_their_search(cls, data: Any, info: ValidationInfo) -> Any:
        """A spec stored before a default changed keeps the search it was submitted with."""
        if _stored(info) and isinstance(data, dict):
            data = {**OLD_DEFAULTS, **data}
            if data.get("families") is None:  # "all" meant the families there were then
                data["families"] = list(FIRST_FAMILIES)
        return data

    @field_validator("name")
    @classmethod
    def _not_an_id(cls, value: str | None, info: ValidationInfo) -> str | None:
        """An all-digit name would share its path segment with a study id (and lose to it).
        Studies stored before this rule are read back (``STORED``) and reached by their id."""
        if value is not None and value.isdigit() and not _stored(info):
            raise ValueError("a study name must not be all digits: those are study ids")
        return value

    @field_validator("dataset")
    @classmethod
    def _known_dataset(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("trainer") == "external":
            return value  # a label: the caller's own data
        return check_dataset(value, stored=_stored(info))

    @field_validator("model")
    @classmethod
    def _known_model(cls, value: str, info: ValidationInfo) -> str:
        return value if info.data.get("trainer") == "external" else check_model(value)

    @model_validator(mode="after")
    def _external_is_trained_elsewhere(self) -> StudySpec:
        return _trained_elsewhere(self)

    def maximizes(self) -> bool:
        return self.direction == "maximize"

    def better(self, a: float, b: float) -> bool:
        """Whether value ``a`` beats ``b`` in the study's direction."""
        return a > b if self.maximizes() else a < b

    @model_validator(mode="after")
    def _space_is_valid(self) -> StudySpec:
        self._space = self._resolve_space()
        if self.budget_epochs is not None:
            if "rerun_top_k" not in self.model_fields_set:
                object.__setattr__(self, "rerun_top_k", _rerun_top_k_within_budget(self))
            least = self.epochs + self.rerun_epochs()
            if self.budget_epochs < least:
                raise ValueError(
                    f"budget_epochs ({self.budget_epochs}) is less than one trial and the "
                    f"re-runs ({least} epochs)"
                )
            self._budget_sets_n_trials()
        if self.rerun_top_k > self.n_trials:
            if "rerun_top_k" in self.model_fields_set:
                raise ValueError(
                    f"rerun_top_k ({self.rerun_top_k}) is more than n_trials ({self.n_trials})"
                )
            object.__setattr__(self, "rerun_top_k", self.n_trials)  # a default fits itself
            self._budget_sets_n_trials()  # fewer re-runs leave the search more
        return self

    def _budget_sets_n_trials(self) -> None:
        """Without n_trials, the budget decides the count (at most one trial per epoch, and no
        more than n_trials may be: a budget can outlast them)."""
        if self.budget_epochs is not None and "n_trials" not in self.model_fields_set:
            object.__setattr__(self, "n_trials", min(self.search_budget(), MAX_TRIALS))

    def stored_form(self) -> dict[str, Any]:
        """The spec as the database keeps it: JSON, with "all families" spelled out, so that
        a family added later never changes a running study's search space."""
        return self.model_dump(mode="json") | {"families": list(self._space.families)}

    def rerun_epochs(self) -> int:
        """Epochs the re-run phase reserves: the top k and the best folklore recipe, each
        trained once per fresh seed."""
        return (self.rerun_top_k + 1) * self.rerun_seeds * self.epochs if self.rerun_top_k else 0

    def search_budget(self) -> int:
        """Epochs the search (range test and trials) may spend: the budget less the re-runs."""
        assert self.budget_epochs is not None
        return self.budget_epochs - self.rerun_epochs()

    def centres_lr(self) -> bool:
        """Whether a range test centres the base LR: asked for, and the range left to us."""
        return self.lr_range_test and "base_lr" not in self.space

    def search_space(self) -> SearchSpace:
        """The spec's search space, resolved once when the spec was validated."""
        return self._space

    def _resolve_space(self) -> SearchSpace:
        """The search space; a bad override raises ValueError naming its spec field."""
        overrides = _with_plateau_mode(self)
        base_lr = overrides.pop("base_lr", domain_json(DEFAULT_BASE_LR[self.optimizer]))
        raw = {"base_lr": base_lr, "params": overrides}
        families = _families(self)
        if families is not None:
            raw["families"] = families
        try:
            return SearchSpace.model_validate(raw)
        except ValidationError as exc:
            raise ValueError(_space_error(exc)) from None


def _rerun_top_k_within_budget(spec: StudySpec) -> int:
    """The default top k under a budget: as many as let the re-runs (k + 1 configs, each
    ``rerun_seeds`` times) take at most RERUN_SHARE of it, up to the default; 0 (no re-runs)
    when not even one fits. A small budget is better spent searching."""
    assert spec.budget_epochs is not None
    if spec.trainer == "external":
        return 0
    configs = int(RERUN_SHARE * spec.budget_epochs / (spec.rerun_seeds * spec.epochs))
    return max(0, min(spec.rerun_top_k, configs - 1))


def _with_plateau_mode(spec: StudySpec) -> dict[str, Any]:
    """The space overrides; where the study minimises its metric, the plateau scheduler waits
    for it to stop falling, not rising (unless the spec says otherwise)."""
    overrides = dict(spec.space)
    if spec.direction == "minimize" and (spec.families is None or "plateau" in spec.families):
        plateau = overrides.get("plateau", {})
        if isinstance(plateau, dict):  # anything else is refused as it is
            overrides["plateau"] = {"mode": "min", **plateau}
    return overrides


def _families(spec: StudySpec) -> list[str] | None:
    """The families to search (None: all). A study trained in the caller's loop cannot run one
    that swaps the optimizer (the optimizer is the caller's): "all" leaves those out there, and
    naming one is refused with its field."""
    if spec.trainer != "external":
        return spec.families
    if spec.families is None:
        return [name for name, cls in FAMILIES.items() if not cls.swaps_optimizer]
    for i, name in enumerate(spec.families):
        if name in FAMILIES and FAMILIES[name].swaps_optimizer:
            raise ValueError(
                f"families[{i}]: {name} trains with its own optimizer, which only the built-in "
                "trainer sets up (trainer: builtin)"
            )
    return spec.families


def _trained_elsewhere(spec: StudySpec) -> StudySpec:
    """An external study's trials run in the caller's loop: built-in-only steps are off (the
    range test needs our trainer; a re-run needs seeds we cannot set there)."""
    if spec.trainer == "builtin":
        if spec.metric != "val_accuracy" or spec.direction != "maximize":
            raise ValueError(
                "metric and direction are set by the built-in trainer (val_accuracy, "
                "maximize); choose them with trainer: external"
            )
        return spec
    if "rerun_top_k" in spec.model_fields_set and spec.rerun_top_k:
        raise ValueError("rerun_top_k: re-runs need the built-in trainer (trainer: builtin)")
    if spec.label_noise:
        raise ValueError("label_noise: applies to the built-in trainer's data only")
    for field in ("lr_range_test", "rerun_top_k"):
        object.__setattr__(spec, field, type(getattr(spec, field))(0))
    return spec


def _stored(info: ValidationInfo) -> bool:
    """Whether the spec is read back from the database (validation context ``STORED``)."""
    return bool((info.context or {}).get("stored"))


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
