"""The study spec: validated once where it enters, every error one line naming its field; the
search space resolved from it once."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from schedsearch.core.catalog import DATASETS, MODELS
from schedsearch.core.space import DEFAULT_BASE_LR, Fixed, SearchSpace
from schedsearch.core.spec import FIRST_FAMILIES, OLD_DEFAULTS, STORED, StudySpec, error_line


def test_bad_options_are_refused_with_their_field() -> None:
    with pytest.raises(ValueError, match=r"rerun_top_k \(5\) is more than n_trials \(3\)"):
        StudySpec(n_trials=3, rerun_top_k=5)
    with pytest.raises(ValueError, match="rerun_seeds"):
        StudySpec(rerun_top_k=2, rerun_seeds=1)
    with pytest.raises(ValueError, match="pruner"):
        StudySpec(pruner="decay")


def test_rerun_top_k_may_equal_n_trials() -> None:
    assert StudySpec(n_trials=3, rerun_top_k=3).rerun_top_k == 3


def test_unknown_dataset_names_the_known_ones() -> None:
    with pytest.raises(ValueError) as caught:
        StudySpec(dataset="imagenet")
    line = error_line(caught.value)
    assert line.startswith("dataset: unknown dataset 'imagenet' (known: ")
    assert all(name in line for name in DATASETS) and "imagefolder:PATH" in line
    assert StudySpec(dataset="imagefolder:pets/v2").dataset == "imagefolder:pets/v2"
    for outside in ("/data/pets", "~/pets", "../pets", "pets/../../x", "C:/pets"):
        with pytest.raises(ValidationError, match="relative to the workers' data directory"):
            StudySpec(dataset=f"imagefolder:{outside}")
    stored = StudySpec.model_validate({"dataset": "imagefolder:/old/pets"}, context=STORED)
    assert stored.dataset == "imagefolder:/old/pets"  # read back; its worker refuses it


def test_unknown_model_names_the_known_ones() -> None:
    with pytest.raises(ValueError) as caught:
        StudySpec(model="vgg16")
    assert error_line(caught.value) == (
        f"model: unknown model 'vgg16' (known: {', '.join(MODELS)})"
    )


@pytest.mark.parametrize(
    ("fields", "line"),
    [
        (
            {"space": {"cosine": {"eta_min": {"low": 0.5, "high": 0.1}}}},
            "space.cosine.eta_min: low 0.5 is above high 0.1",
        ),
        (
            {"space": {"base_lr": {"low": 0.5, "high": 0.1}}},
            "space.base_lr: low 0.5 is above high 0.1",
        ),
        (
            {"space": {"cosine": {"eta_mn": 0.1}}},
            "space.cosine.eta_mn: unknown parameter (known for cosine: base_lr, warmup, eta_min)",
        ),
        (
            {"families": ["step"], "space": {"cosine": {"eta_min": 0.1}}},
            "space.cosine: overrides a family that is not searched",
        ),
        ({"space": {"cosine": 3}}, "space.cosine: Input should be a valid dictionary"),
        ({"families": []}, "families: at least one family is needed"),
    ],
)
def test_space_errors_name_the_spec_field(fields: dict, line: str) -> None:
    with pytest.raises(ValueError) as caught:
        StudySpec(**fields)
    assert error_line(caught.value) == line


def test_unknown_family_names_its_position_and_the_known_ones() -> None:
    with pytest.raises(ValueError) as caught:
        StudySpec(families=["cosine", "cosin"])
    assert error_line(caught.value).startswith(
        "families[1]: unknown family 'cosin' (known: constant, step,"
    )


def test_search_space_is_resolved_once_from_the_spec() -> None:
    spec = StudySpec(families=["cosine", "step"], space={"cosine": {"eta_min": 0.0}})
    space = spec.search_space()
    assert isinstance(space, SearchSpace) and spec.search_space() is space
    assert space.families == ("cosine", "step")
    assert space.domains("cosine")["eta_min"] == Fixed(0.0)
    assert space.domains("step")["base_lr"] == DEFAULT_BASE_LR["sgd"]
    adamw = StudySpec(optimizer="adamw").search_space()  # the base LR range follows the optimizer
    assert adamw.domains("cosine")["base_lr"] == DEFAULT_BASE_LR["adamw"]
    assert adamw.domains("cosine")["base_lr"] != DEFAULT_BASE_LR["sgd"]
    # a spec read back from JSON (what the store holds) resolves to an equal space
    again = StudySpec.model_validate_json(spec.model_dump_json())
    assert again == spec and again.search_space() == space


def test_error_line_is_one_line_per_field_without_pydantics_prefix() -> None:
    with pytest.raises(ValidationError) as caught:
        StudySpec(epochs=0, batch_size=0, colour="blue")
    line = error_line(caught.value)
    assert line == (
        "epochs: Input should be greater than or equal to 1; "
        "batch_size: Input should be greater than or equal to 1; "
        "colour: Extra inputs are not permitted"
    )
    with pytest.raises(ValidationError) as caught:  # a check of the whole spec has no field
        StudySpec(n_trials=3, rerun_top_k=5)
    assert error_line(caught.value) == "rerun_top_k (5) is more than n_trials (3)"
    assert "Value error" not in error_line(caught.value) and "\n" not in line
    assert error_line(ValueError("not a spec error")) == "not a spec error"


# --- compute budget, re-run reservation, robustness and calibration options -------------------


def test_budget_reserves_the_reruns_and_gives_the_rest_to_the_search() -> None:
    spec = StudySpec(epochs=5, budget_epochs=100, rerun_top_k=2)  # top 2 + 1, 2 seeds each
    assert spec.rerun_epochs() == (2 + 1) * 2 * 5 == 30
    assert spec.search_budget() == 70
    assert spec.n_trials == 70  # no n_trials given: the budget decides the count (a cap)
    given = StudySpec(epochs=5, budget_epochs=100, rerun_top_k=2, n_trials=4)
    assert given.n_trials == 4 and given.search_budget() == 70  # n_trials given: it caps
    # top k left to the budget: re-runs take at most a quarter of it (RERUN_SHARE)
    assert StudySpec(epochs=5, budget_epochs=100).rerun_top_k == 1  # 2 configs x 2 x 5 = 20
    assert StudySpec(epochs=4, budget_epochs=96).rerun_top_k == 2  # 3 x 2 x 4 = 24
    assert StudySpec(epochs=4, budget_epochs=48).rerun_top_k == 0  # not even 2 configs fit
    assert StudySpec(epochs=5, budget_epochs=100, rerun_top_k=0).rerun_epochs() == 0
    assert StudySpec(epochs=5, budget_epochs=100, rerun_top_k=0).search_budget() == 100
    assert StudySpec(epochs=3, budget_epochs=200, rerun_seeds=4).rerun_epochs() == 3 * 4 * 3
    assert StudySpec().budget_epochs is None and StudySpec().n_trials == 30


def test_a_budget_too_small_for_one_trial_and_the_reruns_names_budget_epochs() -> None:
    # one trial (5) and the re-runs (30) need 35 epochs
    assert StudySpec(epochs=5, budget_epochs=35, rerun_top_k=2).search_budget() == 5
    with pytest.raises(ValidationError) as caught:
        StudySpec(epochs=5, budget_epochs=34, rerun_top_k=2)
    assert error_line(caught.value) == (
        "budget_epochs (34) is less than one trial and the re-runs (35 epochs)"
    )
    with pytest.raises(ValueError, match=r"budget_epochs \(4\) is less than .* \(5 epochs\)"):
        StudySpec(epochs=5, budget_epochs=4, rerun_top_k=0)
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValidationError, match="budget_epochs"):
            StudySpec(budget_epochs=bad)


def test_rerun_top_k_default_fits_n_trials_but_an_explicit_one_must() -> None:
    assert StudySpec().rerun_top_k == 2
    assert StudySpec(n_trials=1).rerun_top_k == 1  # the default clamped: no error
    assert StudySpec(n_trials=1).rerun_epochs() == (1 + 1) * 2 * 10
    with pytest.raises(ValueError, match=r"rerun_top_k \(2\) is more than n_trials \(1\)"):
        StudySpec(n_trials=1, rerun_top_k=2)
    assert StudySpec(n_trials=1, rerun_top_k=0).rerun_epochs() == 0


@pytest.mark.parametrize(
    "fields",
    [
        {"epochs": 1, "budget_epochs": 7},  # search budget 1: one trial, default top 2
        {"epochs": 1, "budget_epochs": 14, "rerun_top_k": 5},  # search budget 2 < top 5
    ],
)
def test_a_budget_that_sets_n_trials_keeps_rerun_top_k_within_it(fields: dict) -> None:
    """Once the budget has set n_trials, the spec must still hold ``rerun_top_k <= n_trials``
    (or the spec refused, in one line naming the field), and its stored form must read back."""
    try:
        spec = StudySpec(**fields)
    except ValidationError as exc:  # refused: fine, if the line says which field
        line = error_line(exc)
        assert "rerun_top_k" in line or "budget_epochs" in line, line
        return
    assert spec.rerun_top_k <= spec.n_trials
    again = StudySpec.model_validate(spec.stored_form(), context=STORED)
    assert again.rerun_top_k == spec.rerun_top_k and again.n_trials == spec.n_trials


def test_label_noise_is_a_share_below_one() -> None:
    assert StudySpec().label_noise == 0.0
    assert StudySpec(label_noise=0.4).label_noise == 0.4
    assert StudySpec(label_noise=0.0).label_noise == 0.0
    for bad in (-0.1, 1.0, 1.5, float("nan"), float("inf")):
        with pytest.raises(ValidationError, match="label_noise"):
            StudySpec(label_noise=bad)


def test_new_defaults_calibrate_and_prune_by_fidelity() -> None:
    spec = StudySpec()
    assert spec.lr_range_test is True and spec.prior is True and spec.pruner == "auto"
    assert spec.rerun_top_k == 2 and spec.rerun_seeds == 2
    assert spec.centres_lr()
    assert not StudySpec(lr_range_test=False).centres_lr()
    assert not StudySpec(space={"base_lr": {"low": 0.01, "high": 0.1}}).centres_lr()
    assert not StudySpec(space={"base_lr": 0.05}).centres_lr()  # a fixed LR: nothing to centre
    assert StudySpec(space={"cosine": {"eta_min": 0.0}}).centres_lr()  # other overrides: still
    for pruner in ("auto", "hopeless", "hyperband", "decay_aware", "none"):
        assert StudySpec(pruner=pruner).pruner == pruner


def test_a_stored_spec_without_the_new_fields_keeps_its_old_search() -> None:
    old = {"name": "old", "dataset": "digits", "epochs": 4, "n_trials": 6}
    spec = StudySpec.model_validate(old, context=STORED)
    for field, value in OLD_DEFAULTS.items():
        assert getattr(spec, field) == value, field
    assert (spec.pruner, spec.lr_range_test, spec.prior) == ("hyperband", False, False)
    assert (spec.rerun_top_k, spec.rerun_seeds) == (0, 3)
    assert spec.budget_epochs is None and spec.label_noise == 0.0
    assert spec.families == list(FIRST_FAMILIES)
    assert spec.search_space().families == FIRST_FAMILIES
    assert not spec.centres_lr() and spec.rerun_epochs() == 0
    # the same dict submitted anew gets today's defaults
    fresh = StudySpec.model_validate(old)
    assert (fresh.pruner, fresh.lr_range_test, fresh.prior, fresh.rerun_top_k) == (
        "auto",
        True,
        True,
        2,
    )
    assert fresh.families is None


def test_a_stored_spec_keeps_what_it_names() -> None:
    stored = {
        "name": "named",
        "families": ["cosine"],
        "pruner": "median",
        "rerun_top_k": 1,
        "rerun_seeds": 2,
        "lr_range_test": True,
        "prior": True,
    }
    spec = StudySpec.model_validate(stored, context=STORED)
    assert spec.families == ["cosine"] and spec.pruner == "median"
    assert (spec.rerun_top_k, spec.rerun_seeds) == (1, 2) and spec.lr_range_test and spec.prior
    explicit_none = StudySpec.model_validate({"name": "x", "families": None}, context=STORED)
    assert explicit_none.families == list(FIRST_FAMILIES)


def test_stored_form_spells_out_the_families_and_reads_back_equal() -> None:
    spec = StudySpec(name="today", epochs=5, budget_epochs=100, label_noise=0.2)
    form = spec.stored_form()
    assert form["families"] == list(spec.search_space().families)
    assert set(FIRST_FAMILIES) <= set(form["families"])
    json.dumps(form)  # JSON as the database keeps it
    again = StudySpec.model_validate(form, context=STORED)
    assert again.search_space() == spec.search_space()
    assert again.model_dump(exclude={"families"}) == spec.model_dump(exclude={"families"})
    assert again.stored_form() == form  # stable: storing it again changes nothing
    chosen = StudySpec(families=["step", "cosine"]).stored_form()
    assert chosen["families"] == ["step", "cosine"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"metric": "val_loss"}, "set by the built-in trainer"),
        ({"direction": "minimize"}, "set by the built-in trainer"),
        ({"trainer": "external", "rerun_top_k": 2}, "rerun_top_k: re-runs need the built-in"),
        ({"trainer": "external", "label_noise": 0.2}, "label_noise: applies to the built-in"),
        ({"trainer": "external", "metric": "1bad"}, "metric"),
    ],
)
def test_external_only_fields_are_refused_with_their_name(fields: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        StudySpec(**fields)


def test_schedule_free_is_searched_by_built_in_studies_only() -> None:
    """It swaps the optimizer, which the caller's own loop owns: "all families" leaves it out
    there, and naming it is refused with its field."""
    assert "schedule_free" in StudySpec().search_space().families
    external = StudySpec(trainer="external", dataset="mine", model="resnet")
    families = external.search_space().families
    assert "schedule_free" not in families and "wsd" in families and len(families) == 12
    with pytest.raises(ValidationError, match=r"families\[1\]: schedule_free trains with its own"):
        StudySpec(trainer="external", dataset="d", model="m", families=["cosine", "schedule_free"])


def test_an_external_study_turns_built_in_only_steps_off() -> None:
    spec = StudySpec(trainer="external", dataset="mine", model="resnet", direction="minimize")
    assert spec.lr_range_test is False and spec.rerun_top_k == 0
    assert spec.search_space().domains("plateau")["mode"].value == "min"
