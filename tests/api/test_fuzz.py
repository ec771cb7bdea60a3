"""Fuzz the whole API from its own OpenAPI description, with an admin token (issue 14): no input
may produce a 5xx, an off-schema answer or an answer slower than 2 s.

Three sources of cases, every one counted (the count is printed after the module's tests):

- schemathesis over every operation the description holds when it runs (examples, coverage and
  fuzzing phases, positive and negative data), each request with the admin token; its fuzzing
  phase puts a NaN or an infinity into half the JSON bodies and query strings it draws
  (``fuzz_cases.add_non_finite``), as schemathesis itself draws finite numbers only;
- explicit requests (``fuzz_cases.hostile``): the non-finite tokens in every query and path
  parameter and at every place of each JSON body; each number field at its bounds and far past
  them; large bodies (5 MB declared, 2 MB streamed, ~1 MB of strings, keys, items and nesting)
  to every POST, which must get a small 4xx that does not quote them;
- then every study listed must still read back (a spec stored but refused when read broke
  every ``GET /studies`` after it).

bench/fuzz_api.py runs the same, larger, against a real server.
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
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
from tests.api.fuzz_cases import (
    LIMIT,
    Hostile,
    add_non_finite,
    bounds,
    has_non_finite,
    large,
    non_finite,
    problems,
    send,
)

# One process runs the whole module, in order: the last test reads back what the others stored,
# and the counts add up over all of them (``--dist=loadgroup``).
pytestmark = pytest.mark.xdist_group("fuzz")

ADMIN = "fuzz-admin-secret"
AUTH = {"Authorization": f"Bearer {ADMIN}"}
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]
COUNTS: Counter[str] = Counter()  # cases run, by source
SEEN = {"non-finite bodies": 0, "slowest": 0.0}  # schemathesis's bodies with a NaN or an inf;
# the slowest answer, in seconds


def _app(studies: tuple[str, ...] = ("s1", "fuzzed", "other")) -> Any:
    """The real app, with an admin token, on a fresh SQLite file holding studies the fuzzer
    can find by id or name."""
    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='schedsearch-fuzz-')) / 'fuzz.db'}"
    store = Store(url)
    for name in studies:
        store.studies.create(StudySpec(name=name, n_trials=3, epochs=1))
    return create_app(Settings(database_url=url, api_tokens=f"fuzzer:admin:{ADMIN}"))


schema = schemathesis.openapi.from_asgi("/openapi.json", _app(), headers=AUTH)
schema.config.update(headers=AUTH)
schema.config.generation.update(with_security_parameters=False)  # the token is ours, not drawn
add_non_finite(schema)


@pytest.fixture(scope="module", autouse=True)
def _count(request: pytest.FixtureRequest) -> Iterator[None]:
    """Print how many cases the module ran, after its last test."""
    yield
    line = (
        f"API fuzz: {sum(COUNTS.values())} cases ({COUNTS['schemathesis']} schemathesis, of "
        f"which {SEEN['non-finite bodies']} with a non-finite number in the body; "
        f"{COUNTS['non-finite']} explicit non-finite; {COUNTS['bounds']} numbers at their bounds; "
        f"{COUNTS['large']} large bodies; {COUNTS['read back']} reads after them), "
        f"slowest answer {SEEN['slowest']:.2f} s"
    )
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(f"\n{line}")


def _timed(seconds: float) -> None:
    SEEN["slowest"] = max(SEEN["slowest"], seconds)


@schema.parametrize()
@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_input_breaks_the_api(case: schemathesis.Case) -> None:
    started = time.perf_counter()
    response = case.call()
    seconds = time.perf_counter() - started
    COUNTS["schemathesis"] += 1
    SEEN["non-finite bodies"] += has_non_finite(case.body)
    _timed(seconds)
    assert seconds < LIMIT, f"{case.method} {case.formatted_path}: {seconds:.2f} s"
    if case.path != "/login":  # (a wrong token in the form is a 401 there)
        assert response.status_code != 401, "the admin token was not sent"
    case.validate_response(response, checks=CHECKS)


@pytest.fixture(scope="module")
def api() -> Iterator[tuple[TestClient, dict[str, Any], dict[str, str]]]:
    """A fresh app (the fuzz above deletes and cancels studies), its OpenAPI description and
    the values path parameters take: a study, and a lease on an external study when the API
    hands them out."""
    with TestClient(_app(("s1",)), raise_server_exceptions=False) as client:
        openapi = client.get("/openapi.json", headers=AUTH).json()
        known = {"study": "s1", "kind": "history"}
        if "/studies/{study}/leases" in openapi["paths"]:
            spec = {"name": "ext", "trainer": "external", "n_trials": 5, "epochs": 2}
            assert client.post("/studies", json=spec, headers=AUTH).status_code == 201
            asked = client.post("/studies/ext/leases", headers=AUTH).json()
            known["lease"] = asked["lease"]["id"]
        yield client, openapi, known


def _run(client: TestClient, cases: list[Hostile], source: str) -> None:
    found = []
    for case in cases:
        status, text, seconds = send(client, case, AUTH)
        COUNTS[source] += 1
        _timed(seconds)
        found += problems(case, status, text, seconds)
    assert not found, f"{len(found)} of {len(cases)}:\n" + "\n".join(found[:40])


def _operations(openapi: dict[str, Any], which: Callable[[str, dict], bool]) -> set[str]:
    return {
        f"{method.upper()} {path}"
        for path, item in openapi["paths"].items()
        for method, operation in item.items()
        if which(method, operation)
    }


def test_non_finite_numbers_anywhere(api: tuple[TestClient, dict[str, Any], dict]) -> None:
    client, openapi, known = api
    cases = list(non_finite(openapi, known))
    # every operation with a parameter or a body, so a new route is covered the day it appears
    wanted = _operations(openapi, lambda _, op: bool(op.get("parameters") or op.get("requestBody")))
    assert wanted <= {case.what.split(":")[0] for case in cases}
    _run(client, cases, "non-finite")


def test_numbers_at_their_bounds(api: tuple[TestClient, dict[str, Any], dict]) -> None:
    client, openapi, known = api
    cases = list(bounds(openapi, known))
    assert "POST /studies: budget_epochs=10000000" in {case.what for case in cases}
    _run(client, cases, "bounds")


def test_large_bodies_get_a_small_4xx(api: tuple[TestClient, dict[str, Any], dict]) -> None:
    client, openapi, known = api
    cases = list(large(openapi, known))
    wanted = _operations(openapi, lambda method, _: method == "post")
    assert wanted <= {case.what.split(":")[0] for case in cases}
    _run(client, cases, "large")


def test_every_study_still_reads(api: tuple[TestClient, dict[str, Any], dict]) -> None:
    """After all of the above (and the fuzz's own app after its cases): every study listed
    reads back. A spec stored but refused when read failed every GET /studies after it."""
    client, _, _ = api
    with TestClient(schema.app, raise_server_exceptions=False) as fuzzed:
        for app in (client, fuzzed):
            listed = app.get("/studies", params={"limit": 500}, headers=AUTH)
            assert listed.status_code == 200, listed.text[:300]
            for study in listed.json()["items"]:
                for path in (f"/studies/{study['id']}", f"/studies/{study['id']}/trials"):
                    COUNTS["read back"] += 1
                    assert app.get(path, headers=AUTH).status_code == 200, path
