"""The study spec: validated once where it enters, every error one line naming its field; the
search space resolved from it once."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from schedsearch.core.catalog import DATASETS, MODELS
from schedsearch.core.space import DEFAULT_BASE_LR, Fixed, SearchSpace
from schedsearch.core.spec import StudySpec, error_line


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
    assert StudySpec(dataset="imagefolder:/data/pets").dataset == "imagefolder:/data/pets"


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
