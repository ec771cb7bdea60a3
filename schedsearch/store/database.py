"""One database URL as the engines, sessions and Optuna storage every store module shares.

Engine settings per backend: SQLite gets a busy timeout instead of "database is locked" (and
WAL, set on the file once by ``schema``: readers never block the writer); PostgreSQL gets
pre-ping (a restarted server costs a retry, not a crash) and a small pool per process.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import optuna
import sqlalchemy as sa
from sqlalchemy import orm


def engine_kwargs(url: str, pool_size: int = 2) -> dict[str, Any]:
    """A worker needs a small pool (about 3 connections are in use); the API a larger one."""
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 60}}
    return {"pool_size": pool_size, "max_overflow": pool_size, "pool_pre_ping": True}


def safe_url(url: str) -> str:
    """The URL with its password hidden, for messages and logs."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<not a database URL>"


@contextmanager
def quiet_experimental() -> Iterator[None]:
    """Optuna calls heartbeats, retries and some sampler options experimental; we rely on them."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        yield


def now() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Database:
    """Engines and sessions on one URL: ``engine.begin()`` for transactions of several
    statements, ``reads`` for reads and ``single`` for writes of one statement."""

    def __init__(self, url: str, pool_size: int = 2) -> None:
        self.url = url
        self.engine = sa.create_engine(url, **engine_kwargs(url, pool_size))
        # Reads need no transaction, and a single statement is atomic on its own: autocommit
        # saves the BEGIN and ROLLBACK (or COMMIT) round trips, two of a one-statement write's
        # three (bench/lease_profile.py).
        self.reads = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self.single = self.reads
        self._sessions = orm.sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[orm.Session]:
        with self._sessions() as session, session.begin():
            yield session

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))

    def close(self) -> None:
        self.engine.dispose()
