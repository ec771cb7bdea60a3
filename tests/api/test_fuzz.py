"""Fuzz the API from its own OpenAPI schema: no input may produce a 5xx or an off-schema answer."""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.main import create_app
from schedsearch.core.spec import StudySpec
from schedsearch.settings import Settings
from schedsearch.store import Store

CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]


def _app_with_studies() -> object:
    """The real app on a fresh SQLite file holding studies the fuzzer can find by id or name."""
    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='schedsearch-fuzz-')) / 'fuzz.db'}"
    store = Store(url)
    for name in ("s1", "fuzzed", "other"):
        store.studies.create(StudySpec(name=name, n_trials=3, epochs=1))
    return create_app(Settings(database_url=url, api_token=None))


schema = schemathesis.openapi.from_asgi("/openapi.json", _app_with_studies())


@schema.parametrize()
@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_input_breaks_the_api(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS)
