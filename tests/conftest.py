"""Shared fixtures: a study database on each real backend."""

from __future__ import annotations

import fcntl
import os
import secrets
from collections.abc import Iterator

import psycopg
import pytest

PG_ADMIN = os.environ.get("SCHEDSEARCH_TEST_PG", "host=127.0.0.1 port=5432 user=postgres")


def _pg_admin() -> psycopg.Connection:
    """The admin connection; with PostgreSQL down the run stops at once, with one line that
    says how to start it (rather than one driver traceback per PostgreSQL test)."""
    try:
        return psycopg.connect(f"{PG_ADMIN} dbname=postgres", autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[0]
        pytest.exit(
            f"PostgreSQL is not reachable at '{PG_ADMIN}' ({reason}): start it "
            "(`.ci/run` does, or `pg_ctlcluster 15 main start`), or point SCHEDSEARCH_TEST_PG "
            "at one",
            returncode=2,
        )


@pytest.fixture(autouse=True)
def _server_alone(
    request: pytest.FixtureRequest, worker_id: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """A test marked ``alone`` (it restarts the PostgreSQL server every test shares) runs while
    no other xdist process is inside a test; the others wait for it. A readers-writer lock over
    two files (flock): the gate keeps new tests out while the ``alone`` test waits for the test
    in progress to end, so it is never starved."""
    if worker_id == "master":  # one process: nothing runs beside it
        yield
        return
    root = tmp_path_factory.getbasetemp().parent  # shared by every xdist process
    alone = request.node.get_closest_marker("alone") is not None
    with open(root / "alone.gate", "a") as gate, open(root / "alone.lock", "a") as lock:
        fcntl.flock(gate, fcntl.LOCK_EX)
        fcntl.flock(lock, fcntl.LOCK_EX if alone else fcntl.LOCK_SH)
        if not alone:
            fcntl.flock(gate, fcntl.LOCK_UN)
        yield  # the files close (and unlock) when the test is over


def pytest_sessionstart(session: pytest.Session) -> None:
    """Under xdist (``addopts``) the controller checks PostgreSQL once, before any worker
    starts: a worker that calls ``pytest.exit`` only crashes itself ("node down"), and its
    reason is lost. Without xdist (``-n0``) the check waits for the first PostgreSQL test."""
    config = session.config
    if hasattr(config, "workerinput") or not getattr(config.option, "numprocesses", None):
        return
    _pg_admin().close()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty database on the real PostgreSQL server, dropped afterwards."""
    name = f"schedsearch_test_{secrets.token_hex(4)}"
    with _pg_admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    params = dict(part.split("=", 1) for part in PG_ADMIN.split())
    yield (
        f"postgresql+psycopg://{params.get('user', 'postgres')}@{params.get('host')}:"
        f"{params.get('port', '5432')}/{name}"
    )
    with _pg_admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """The same test on a SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'studies.db'}"
    return request.getfixturevalue("pg_url")
