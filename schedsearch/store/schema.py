"""The schema's version: created at head on an empty database, checked at every start,
upgraded only on request (``schedsearch db upgrade``).

In the manner of Optuna's ``_VersionManager``: a process that meets an older or newer schema
refuses with the command to run instead of running DDL at every start. Alembic owns our
migrations (``store/migrations``) in a version table of its own, since Optuna already stamps
``alembic_version`` in the same database. ``HEAD`` is a constant so that the check at start
needs no Alembic import; a test keeps it equal to the scripts' head.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import optuna
import sqlalchemy as sa

from schedsearch.core.errors import SchemaError
from schedsearch.store.database import Database, engine_kwargs, safe_url
from schedsearch.store.tables import TRIAL_INDEXES, VERSION_TABLE, Base

if TYPE_CHECKING:
    from alembic.config import Config

HEAD = "0004"
BASELINE = "0001"  # the schema as a9b7f7a and earlier left it (then unversioned by Alembic)
_LOCK = 0x5C4ED5EA  # pg advisory lock key for schema creation and upgrades
UPGRADE = "schedsearch db upgrade"
LEGACY_TABLE = "schedsearch_meta"  # the version table of every schedsearch before Alembic
RACE_SECONDS = 10.0  # how long racing first starts may keep colliding


def _version(connection: sa.Connection) -> str | None:
    found = connection.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
    return None if found is None else str(found)


@contextmanager
def _locked(db: Database) -> Iterator[sa.Connection]:
    """One connection, holding the schema lock on PostgreSQL (creators and upgraders queue)."""
    with db.engine.connect() as connection:
        if db.dialect == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": _LOCK})
            connection.commit()
        try:
            yield connection
        finally:
            if db.dialect == "postgresql":
                connection.rollback()
                connection.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": _LOCK})
                connection.commit()


def ensure(db: Database) -> None:
    """Create the schema at head on an empty database, else check that it is at head.

    Creation stamps the version last. A creation cut short (a process killed halfway) leaves
    our tables without a version row, which the next start finishes: every step is idempotent.
    Racing first starts on SQLite (which has no schema lock) collide on a table or the version
    row; the loser looks again and finds the schema at head. A database that cannot be reached
    raises at once (the callers' outage handling decides what to do).
    """
    deadline = time.monotonic() + RACE_SECONDS
    while True:
        with _locked(db) as connection:
            try:
                _ensure(db, connection)
                return
            except (sa.exc.IntegrityError, sa.exc.OperationalError):
                connection.rollback()
                if time.monotonic() > deadline:
                    raise
        time.sleep(0.2)


def _ensure(db: Database, connection: sa.Connection) -> None:
    tables = set(sa.inspect(connection).get_table_names())
    if VERSION_TABLE in tables:
        found = _version(connection)
        if found == HEAD:
            return
        if found is not None:
            raise _outdated(db, f"is at schema {found}")
    elif LEGACY_TABLE in tables:  # every schedsearch before Alembic wrote its version there
        raise _outdated(db, "was made by an older schedsearch")
    _create(db, connection)


def _outdated(db: Database, what: str) -> SchemaError:
    return SchemaError(
        f"the database {safe_url(db.url)} {what}; this schedsearch needs schema {HEAD}: "
        f"run `{UPGRADE}` (with the same database URL) first"
    )


def _create(db: Database, connection: sa.Connection) -> None:
    """Optuna's tables, completed and stamped by Optuna itself (a no-op where they are), then
    ours at head. Our version row comes last, so whoever finds it finds both schemas whole."""
    if db.dialect == "sqlite":
        connection.exec_driver_sql("PRAGMA journal_mode=WAL")
    optuna.storages.RDBStorage(db.url, engine_kwargs=engine_kwargs(db.url)).engine.dispose()
    Base.metadata.create_all(connection)
    _index_trials(connection)
    connection.exec_driver_sql(
        f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (version_num VARCHAR(32) NOT NULL, "
        f"CONSTRAINT {VERSION_TABLE}_pkc PRIMARY KEY (version_num))"
    )
    stamp = sa.text(f"INSERT INTO {VERSION_TABLE} (version_num) VALUES (:v)")
    connection.execute(stamp, {"v": HEAD})
    connection.commit()


def upgrade(url: str) -> list[str]:
    """Bring the database to head: Optuna's tables first (ours index them), then ours.
    Returns what was done, one line each."""
    from alembic import command  # only here: starting a process needs no Alembic

    db = Database(url)
    done: list[str] = []
    before: str | None
    try:
        with _locked(db) as connection:
            if db.dialect == "sqlite":  # readers never block the writer, as in a new database
                connection.exec_driver_sql("PRAGMA journal_mode=WAL")
            tables = set(sa.inspect(connection).get_table_names())
            if "version_info" in tables:
                done += _upgrade_optuna(url)
            legacy = VERSION_TABLE not in tables and LEGACY_TABLE in tables
            if not legacy and (VERSION_TABLE not in tables or _version(connection) is None):
                _create(db, connection)  # new, or cut short
                return [*done, f"schedsearch: created at {HEAD}"]
            config = _alembic_config(connection)
            if legacy:  # made before Alembic: the baseline, once complete
                _complete_baseline(connection)
                command.stamp(config, BASELINE)
                done.append(f"schedsearch: unversioned, made before Alembic: stamped {BASELINE}")
            before = _version(connection)
            if before != HEAD:
                command.upgrade(config, "head")
                connection.commit()
                done.append(f"schedsearch: {before or 'unversioned'} -> {HEAD}")
    finally:
        db.close()
    return done or [f"already at head (schedsearch {HEAD})"]


def _upgrade_optuna(url: str) -> list[str]:
    """Optuna's own upgrade, as ``optuna storage upgrade`` runs it."""
    storage = optuna.storages.RDBStorage(
        url,
        engine_kwargs=engine_kwargs(url),
        skip_compatibility_check=True,
        skip_table_creation=True,
    )
    try:
        before, head = storage.get_current_version(), storage.get_head_version()
        if before == head:
            return []
        storage.upgrade()
        return [f"optuna: {before} -> {head}"]
    finally:
        storage.engine.dispose()


def _complete_baseline(connection: sa.Connection) -> None:
    """What a9b7f7a did at every start, once: schema 1 lacked the re-run phase's column."""
    columns = {c["name"] for c in sa.inspect(connection).get_columns("schedsearch_studies")}
    if "parent_id" not in columns:
        connection.exec_driver_sql("ALTER TABLE schedsearch_studies ADD COLUMN parent_id INTEGER")
        connection.exec_driver_sql(
            "CREATE INDEX IF NOT EXISTS ix_schedsearch_studies_parent_id "
            "ON schedsearch_studies (parent_id)"
        )
    _index_trials(connection)
    connection.commit()


def _index_trials(connection: sa.Connection) -> None:
    """Our indexes on Optuna's ``trials`` table (``tables.TRIAL_INDEXES``), where missing."""
    for name, target in TRIAL_INDEXES.items():
        connection.exec_driver_sql(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")


def _alembic_config(connection: sa.Connection) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    config.attributes["connection"] = connection
    return config
