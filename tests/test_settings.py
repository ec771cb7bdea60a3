"""Settings: one reader of the environment, documented where users look."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from schedsearch.settings import Settings, settings_table

ROOT = Path(__file__).resolve().parents[1]


def test_the_readme_table_is_the_settings_class() -> None:
    assert settings_table() in (ROOT / "README.md").read_text()


def test_the_environment_is_read_and_flags_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCHEDSEARCH_STATUS_TTL", "0")
    monkeypatch.setenv("SCHEDSEARCH_API_TOKEN", "secret")
    settings = Settings()
    assert settings.status_ttl == 0.0 and settings.token == "secret"
    assert "secret" not in repr(settings)  # a secret never shows in logs or tracebacks
    assert Settings(api_token=None).token is None


def test_a_bad_value_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCHEDSEARCH_HEARTBEAT_INTERVAL", "soon")
    with pytest.raises(ValueError, match="heartbeat_interval"):
        Settings()


@pytest.mark.parametrize("value", ["-1", "65", "many"])
def test_sampling_processes_are_counted_in_range(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    """``SCHEDSEARCH_ASK_PROCESSES``: 0 (asks sampled in the request thread) to 64."""
    monkeypatch.setenv("SCHEDSEARCH_ASK_PROCESSES", value)
    with pytest.raises(ValueError, match="ask_processes"):
        Settings()


def test_nothing_else_reads_the_environment() -> None:
    """``os.environ`` and ``os.getenv`` appear in settings.py only, but for two processes that
    hand an environment on: ``serve --workers N`` writes one variable for uvicorn's processes,
    and ``schedsearch agent`` passes its own environment, plus the trial, to its COMMAND."""
    readers = []
    for path in [*(ROOT / "schedsearch").rglob("*.py"), *(ROOT / "api").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv"):
                readers.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    expected = ["schedsearch/cli.py", "schedsearch/client/agent.py"]
    assert sorted(r.split(":")[0] for r in readers) == expected, readers


def test_an_empty_variable_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCHEDSEARCH_DATABASE_URL", "")
    assert Settings().database_url == "sqlite:///./schedsearch.db"


def test_the_grace_period_must_outlast_the_heartbeat() -> None:
    with pytest.raises(ValueError, match="grace_period"):
        Settings(heartbeat_interval=60, grace_period=30)


def test_the_cli_names_the_bad_variable_in_one_line() -> None:
    import os
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", "from schedsearch.cli import main; main()", "status", "x"],
        env={**os.environ, "SCHEDSEARCH_STATUS_TTL": "soon"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("schedsearch: error: SCHEDSEARCH_STATUS_TTL: ")
    assert len(done.stderr.strip().splitlines()) == 1
