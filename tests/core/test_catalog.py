"""The dataset and model names a spec may use, checked without torch."""

from __future__ import annotations

import pytest

from schedsearch.core.catalog import DATASETS, MODELS, check_dataset, check_model


def test_unknown_dataset_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown dataset 'imagenet'.*digits.*cifar10"):
        check_dataset("imagenet")


@pytest.mark.parametrize("name", [*DATASETS, "imagefolder:data/pets", "imagefolder:x"])
def test_known_datasets_and_image_folders_pass(name: str) -> None:
    assert check_dataset(name) == name


@pytest.mark.parametrize("name", ["imagefolder:", "Digits", "", "mnist "])
def test_near_misses_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="unknown dataset"):
        check_dataset(name)


def test_unknown_model_names_the_known_ones() -> None:
    assert [check_model(m) for m in MODELS] == list(MODELS)
    with pytest.raises(
        ValueError, match=r"unknown model 'resnet50' \(known: cnn-small, .*resnet20"
    ):
        check_model("resnet50")
