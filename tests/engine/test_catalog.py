"""The engine's tables of datasets and models are exactly the names a spec may use
(``core.catalog``, which validates specs without loading torch)."""

from __future__ import annotations

import pytest

from schedsearch.core import catalog
from schedsearch.core.spec import StudySpec
from schedsearch.engine.data import LOADERS
from schedsearch.engine.models import MODELS, build_model


def test_dataset_loaders_are_the_catalogs_datasets() -> None:
    assert set(LOADERS) == set(catalog.DATASETS)
    assert len(LOADERS) == len(catalog.DATASETS)


def test_models_are_the_catalogs_models() -> None:
    assert set(MODELS) == set(catalog.MODELS)
    assert len(MODELS) == len(catalog.MODELS)


@pytest.mark.parametrize("name", catalog.MODELS)
def test_every_model_a_spec_accepts_builds(name: str) -> None:
    spec = StudySpec(model=name)
    model = build_model(spec.model, (1, 8, 8), 10)
    assert sum(p.numel() for p in model.parameters()) > 0
