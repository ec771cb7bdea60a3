"""Persistence: our tables beside Optuna's RDB tables, on one database URL.

In the manner of ``optuna/storages/_rdb``: one module per concern (``tables``, ``studies``,
``slots``, ``trials``, ``heartbeats``, ``workers``, ``range_tests``, ``figures``, ``schema``
and its Alembic ``migrations``), composed here by ``Store``, a small facade that owns the
connections and hands each part what it needs. Built on ``core``; knows nothing of training
or sampling.
"""

from __future__ import annotations

import optuna
import sqlalchemy as sa

from schedsearch.core.errors import (
    BadDatabaseUrl,
    DatabaseUnavailable,
    SchemaError,
    StudyExists,
    StudyNotFound,
)
from schedsearch.settings import Settings
from schedsearch.store import schema
from schedsearch.store.database import Database, engine_kwargs, quiet_experimental, safe_url
from schedsearch.store.figures import Figures
from schedsearch.store.heartbeats import Heartbeats
from schedsearch.store.leases import Lease, Leases
from schedsearch.store.one_trial import OneTrial
from schedsearch.store.outages import caused_by_outage
from schedsearch.store.peers import Peers
from schedsearch.store.range_tests import RangeTests
from schedsearch.store.slots import Slots
from schedsearch.store.studies import Enqueued, Studies, StudyInfo
from schedsearch.store.trials import Snapshot, Trials
from schedsearch.store.workers import Workers

__all__ = [
    "DatabaseUnavailable",
    "Enqueued",
    "Lease",
    "SchemaError",
    "Snapshot",
    "Store",
    "StudyExists",
    "StudyInfo",
    "StudyNotFound",
    "caused_by_outage",
]


class Store:
    """Every read and write of the study database that workers, CLI and API share.

    Opening one checks the schema (creating it on an empty database) and refuses an outdated
    one with ``SchemaError``. ``heartbeat_interval`` and ``grace_period`` say how often a lease
    holder renews and how long a lease lasts (``store.heartbeats``).
    """

    def __init__(
        self,
        url: str,
        *,
        heartbeat_interval: int | None = None,
        grace_period: int | None = None,
        max_retry: int = 3,
        pool_size: int = 2,
    ) -> None:
        self.url = url
        try:
            self.db = Database(self.url, pool_size)
        except sa.exc.ArgumentError as exc:  # a scheme or driver that does not exist, ...
            raise BadDatabaseUrl(f"not a usable database URL {safe_url(url)}: {exc}") from None
        try:
            schema.ensure(self.db)
            with quiet_experimental():  # heartbeats are "experimental", and what we need
                self.optuna = optuna.storages.RDBStorage(
                    self.url,
                    engine_kwargs=engine_kwargs(self.url),
                    skip_table_creation=True,
                )
        except BaseException as exc:
            self.db.close()  # no engine left behind, whatever went wrong
            if caused_by_outage(exc):
                reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
                raise DatabaseUnavailable(
                    f"cannot reach the database {safe_url(url)}: {reason}"
                ) from None
            if type(exc) is RuntimeError:  # Optuna's own schema check
                raise SchemaError(
                    f"{exc} With schedsearch, run `{schema.UPGRADE}` instead: it upgrades both."
                ) from None
            raise
        self.studies = Studies(self.db, self.optuna)
        self.slots = Slots(self.db)
        self.trials = Trials(self.db, self.optuna)
        self.workers = Workers(self.db)
        self.figures = Figures(self.db)
        self.range_tests = RangeTests(self.db, self.slots)
        self.leases = Leases(self.db)
        self.peers = Peers(self.db)
        self.one_trial = OneTrial(self.db)
        self.heartbeats = Heartbeats(self.optuna, heartbeat_interval, grace_period, max_retry)

    @classmethod
    def from_settings(cls, settings: Settings, pool_size: int = 2) -> Store:
        """The store a long-lived process (the API, its sampling processes) opens: the
        settings' database, lease length and retries."""
        return cls(
            settings.database_url,
            heartbeat_interval=settings.heartbeat_interval,  # how long leases last
            grace_period=settings.grace_period,
            max_retry=settings.max_retry,
            pool_size=pool_size,
        )

    def ping(self) -> None:
        self.db.ping()

    def close(self) -> None:
        self.db.close()
        self.optuna.engine.dispose()
