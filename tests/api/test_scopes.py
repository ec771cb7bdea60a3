"""Scoped tokens (hardening item 14): read, write and admin, from the environment or a file;
401 for a missing or unknown token, 403 for a valid one without the scope."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from api.main import create_app
from schedsearch.core.spec import error_line
from schedsearch.settings import Settings, variable

READER, WRITER, ADMIN = "reader-secret-1", "writer-secret-2", "admin-secret-3"


@pytest.fixture
def api(tmp_path: Path) -> TestClient:
    tokens = tmp_path / "tokens"
    tokens.write_text(f"# rotated 2026-11\nci:write:{WRITER}\n\nops:admin:{ADMIN}  # on call\n")
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'scopes.db'}",
        api_token=None,
        api_tokens=f"dash:read:{READER}",
        api_tokens_file=tokens,
    )
    return TestClient(create_app(settings))


def _as(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_each_scope_allows_what_it_names(api: TestClient) -> None:
    assert api.get("/studies").status_code == 401
    assert api.get("/studies", headers=_as("nope-nope-nope")).status_code == 401
    denied = api.post("/studies", json={"name": "s", "n_trials": 2}, headers=_as(READER))
    assert denied.status_code == 403
    assert denied.json()["detail"] == "token 'dash' has scope read; this needs write"
    created = api.post("/studies", json={"name": "s", "n_trials": 2}, headers=_as(WRITER))
    assert created.status_code == 201
    for token in (READER, WRITER, ADMIN):  # reading: every scope
        assert api.get("/studies/s", headers=_as(token)).status_code == 200
        assert api.get("/metrics", headers=_as(token)).status_code == 200
        assert api.get("/openapi.json", headers=_as(token)).status_code == 200
    for token in (READER, WRITER):  # cancel and delete: admin only
        answer = api.post("/studies/s/cancel", headers=_as(token))
        assert answer.status_code == 403 and "this needs admin" in answer.json()["detail"]
        assert api.delete("/studies/s", headers=_as(token)).status_code == 403
    assert api.get("/studies/s", headers=_as(READER)).json()["status"] == "queued"  # untouched
    assert api.post("/studies/s/cancel", headers=_as(ADMIN)).status_code == 200
    assert api.delete("/studies/s", headers=_as(ADMIN)).status_code == 204


def test_the_single_token_is_an_admin_token(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'one.db'}", api_token="only-one-1")
    api = TestClient(create_app(settings))
    assert api.post("/studies", json={"name": "s"}, headers=_as("only-one-1")).status_code == 201
    assert api.delete("/studies/s", headers=_as("only-one-1")).status_code == 204


@pytest.mark.parametrize(
    "fields",
    [
        {"api_tokens": "dash:reader:0123456789"},  # no such scope
        {"api_tokens": "dash:read:short"},  # a guessable secret
        {"api_tokens": "no-colons-at-all"},
        {"api_tokens_file": Path("/nonexistent/tokens")},
    ],
)
def test_bad_token_settings_say_which_variable(fields: dict) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(**fields)
    line = error_line(caught.value, variable)
    assert line.startswith("api_tokens") and "\n" not in line
    assert "0123456789" not in line  # never echo a secret
