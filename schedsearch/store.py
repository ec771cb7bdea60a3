"""The study database: our tables beside Optuna's RDB tables, on one URL.

Our tables hold what Optuna does not: each study's spec, status and trial-slot counter, and the
live workers. The slot counter is what keeps a study at exactly ``n_trials``: a worker claims a
slot with one conditional UPDATE before it asks Optuna for a trial, and gives it back only when
its trial fails (a stale heartbeat, a crash, a clean shutdown), so the slot is run again.

Engine settings per backend: SQLite gets WAL (readers never block the writer) and a busy
timeout instead of "database is locked"; PostgreSQL gets pre-ping (a restarted server costs a
retry, not a crash) and a small pool per process.
"""

from __future__ import annotations

import functools
import json
import os
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import optuna
import sqlalchemy as sa
from sqlalchemy import orm

from schedsearch.spec import StudySpec

DEFAULT_URL = "sqlite:///./schedsearch.db"
SCHEMA_VERSION = 2  # 2: schedsearch_studies.parent_id (a study's re-run phase)
_SCHEMA_LOCK = 0x5C4ED5EA  # pg advisory lock key for schema creation
ACTIVE = ("queued", "running")
TERMINAL = ("completed", "cancelled", "failed")


def database_url(url: str | None = None) -> str:
    return url or os.environ.get("SCHEDSEARCH_DATABASE_URL") or DEFAULT_URL


def engine_kwargs(url: str, pool_size: int = 2) -> dict[str, Any]:
    """A worker needs a small pool (about 3 connections are in use); the API a larger one."""
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 60}}
    return {"pool_size": pool_size, "max_overflow": pool_size, "pool_pre_ping": True}


@contextmanager
def _quiet_experimental() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        yield


def _now() -> datetime:
    return datetime.now(UTC)


class Base(orm.DeclarativeBase):
    pass


class StudyRow(Base):
    __tablename__ = "schedsearch_studies"

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True, autoincrement=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(128), unique=True)
    optuna_study_id: orm.Mapped[int]
    status: orm.Mapped[str] = orm.mapped_column(sa.String(16), index=True)
    spec: orm.Mapped[dict[str, Any]] = orm.mapped_column(sa.JSON)
    n_trials: orm.Mapped[int]
    claimed: orm.Mapped[int] = orm.mapped_column(default=0)
    failures: orm.Mapped[int] = orm.mapped_column(default=0)
    error: orm.Mapped[str | None] = orm.mapped_column(sa.Text, default=None)
    # Kept here by the workers so status reads need no join over every trial's value.
    best_value: orm.Mapped[float | None] = orm.mapped_column(sa.Float, default=None)
    created_at: orm.Mapped[datetime] = orm.mapped_column(sa.DateTime(timezone=True))
    updated_at: orm.Mapped[datetime] = orm.mapped_column(sa.DateTime(timezone=True))
    # A study's re-run phase (top-k configs, fresh seeds) is a study of its own, under it.
    parent_id: orm.Mapped[int | None] = orm.mapped_column(default=None, index=True)


class WorkerRow(Base):
    __tablename__ = "schedsearch_workers"

    id: orm.Mapped[str] = orm.mapped_column(sa.String(64), primary_key=True)
    host: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    pid: orm.Mapped[int]
    device: orm.Mapped[str] = orm.mapped_column(sa.String(32))
    study_id: orm.Mapped[int | None]
    trial_number: orm.Mapped[int | None]
    started_at: orm.Mapped[datetime] = orm.mapped_column(sa.DateTime(timezone=True))
    last_seen: orm.Mapped[datetime] = orm.mapped_column(sa.DateTime(timezone=True), index=True)


class MetaRow(Base):
    __tablename__ = "schedsearch_meta"

    key: orm.Mapped[str] = orm.mapped_column(sa.String(64), primary_key=True)
    value: orm.Mapped[str] = orm.mapped_column(sa.String(255))


@dataclass(frozen=True)
class StudyInfo:
    """A study as our tables hold it (a plain snapshot, safe to pass between threads)."""

    id: int
    name: str
    optuna_study_id: int
    status: str
    spec: StudySpec
    n_trials: int
    claimed: int
    failures: int
    error: str | None
    best_value: float | None
    created_at: datetime
    updated_at: datetime
    parent_id: int | None = None

    @classmethod
    def of(cls, row: StudyRow) -> StudyInfo:
        return cls(
            row.id,
            row.name,
            row.optuna_study_id,
            row.status,
            _spec(row.id, row.name, row.spec),
            row.n_trials,
            row.claimed,
            row.failures,
            row.error,
            row.best_value,
            _aware(row.created_at),
            _aware(row.updated_at),
            row.parent_id,
        )


@functools.lru_cache(maxsize=1024)
def _spec_cached(study_id: int, name: str, spec_json: str) -> StudySpec:
    return StudySpec.model_validate_json(spec_json)


def _spec(study_id: int, name: str, spec: dict[str, Any]) -> StudySpec:
    """A study's spec never changes: validate it once per process, not once per request."""
    return _spec_cached(study_id, name, json.dumps(spec, sort_keys=True))


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Snapshot:
    """A study and its live figures, read together."""

    study: StudyInfo
    counts: dict[str, int]
    best_value: float | None
    durations: list[float]  # seconds, latest finished trials first
    live_workers: int


LIVE_WITHIN = 60.0  # seconds: a worker seen since then is live
_STATES = ("COMPLETE", "PRUNED", "RUNNING", "FAIL", "WAITING")
_COUNTS = sa.text(  # reads only the (study_id, state) index: no join over trial values
    "SELECT "
    + ", ".join(f"sum(CASE WHEN t.state = '{s}' THEN 1 ELSE 0 END)" for s in _STATES)
    + ", (SELECT count(*) FROM schedsearch_workers w WHERE w.study_id = :id "
    "AND w.last_seen >= :since) FROM trials t WHERE t.study_id = :s"
).bindparams(sa.bindparam("since", type_=sa.DateTime(timezone=True)))
_DURATIONS = sa.text(
    "SELECT datetime_start, datetime_complete FROM trials WHERE study_id = :s "
    "AND state IN ('COMPLETE', 'PRUNED') AND datetime_start IS NOT NULL "
    "AND datetime_complete IS NOT NULL ORDER BY trial_id DESC LIMIT 50"
).columns(datetime_start=sa.DateTime, datetime_complete=sa.DateTime)


def _tally(connection: sa.Connection, study: StudyInfo) -> tuple[dict[str, int], int]:
    """Counts by state and the live workers, in one query."""
    since = _now() - timedelta(seconds=LIVE_WITHIN)
    row = connection.execute(
        _COUNTS, {"s": study.optuna_study_id, "id": study.id, "since": since}
    ).one()
    complete, pruned, running, failed, waiting = (int(n or 0) for n in row[:5])
    counts = {
        "complete": complete,
        "pruned": pruned,
        "running": running,
        "failed": failed,
        "waiting": waiting,
        "finished": complete + pruned,
    }
    return counts, int(row[5] or 0)


class StudyExists(ValueError):
    pass


@dataclass(frozen=True)
class Enqueued:
    """A trial queued at creation with fixed parameters (Optuna's ``enqueue_trial``)."""

    params: dict[str, Any]
    user_attrs: dict[str, Any] | None = None


class StudyNotFound(LookupError):
    pass


class Store:
    """Every read and write of the study database that workers, CLI and API share."""

    def __init__(
        self,
        url: str | None = None,
        *,
        heartbeat_interval: int | None = None,
        grace_period: int | None = None,
        max_retry: int = 3,
        pool_size: int = 2,
    ) -> None:
        self.url = database_url(url)
        self.engine = sa.create_engine(self.url, **engine_kwargs(self.url, pool_size))
        # Reads need no transaction: autocommit saves the BEGIN and ROLLBACK round trips.
        self._reads = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self.max_retry = max_retry
        self._init_schema()
        with _quiet_experimental():  # heartbeats are "experimental" and exactly what we need
            self.optuna = optuna.storages.RDBStorage(
                self.url,
                engine_kwargs=engine_kwargs(self.url),
                heartbeat_interval=heartbeat_interval,
                grace_period=grace_period,
                heartbeat_stale_trial_callback=self.on_stale_trial if heartbeat_interval else None,
                skip_table_creation=True,
            )
        self._sessions = orm.sessionmaker(self.engine, expire_on_commit=False)
        self._handles: dict[str, optuna.Study] = {}

    # -- schema ---------------------------------------------------------------------------

    def _init_schema(self) -> None:
        """Create our tables and Optuna's once, even when many processes start together."""
        for attempt in range(5):
            try:
                with self.engine.connect() as connection:
                    if self.engine.dialect.name == "postgresql":
                        connection.execute(
                            sa.text("SELECT pg_advisory_lock(:k)"), {"k": _SCHEMA_LOCK}
                        )
                    elif self.engine.dialect.name == "sqlite":
                        connection.exec_driver_sql("PRAGMA journal_mode=WAL")
                    try:
                        self._create_tables(connection)
                    finally:
                        if self.engine.dialect.name == "postgresql":
                            connection.execute(
                                sa.text("SELECT pg_advisory_unlock(:k)"), {"k": _SCHEMA_LOCK}
                            )
                            connection.commit()
                return
            except sa.exc.OperationalError:  # SQLite: a racing creator; try again
                if attempt == 4:
                    raise
                time.sleep(0.2 * (attempt + 1))

    def _create_tables(self, connection: sa.Connection) -> None:
        inspector = sa.inspect(connection)
        if not inspector.has_table("version_info"):
            optuna.storages.RDBStorage(
                self.url, engine_kwargs=engine_kwargs(self.url)
            ).engine.dispose()
        Base.metadata.create_all(connection)
        _migrate(connection)
        # The best-trial and count queries filter trials by study and state (optuna#5537).
        connection.exec_driver_sql(
            "CREATE INDEX IF NOT EXISTS ix_trials_study_id_state ON trials (study_id, state)"
        )
        # The ETA reads a study's latest trials: without this, an older study walks every
        # trial of the newer ones.
        connection.exec_driver_sql(
            "CREATE INDEX IF NOT EXISTS ix_trials_study_id_trial_id ON trials (study_id, trial_id)"
        )
        connection.commit()

    def schema_version(self) -> int:
        with self._session() as session:
            return int(session.get(MetaRow, "schema_version").value)

    @contextmanager
    def _session(self) -> Iterator[orm.Session]:
        with self._sessions() as session, session.begin():
            yield session

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))

    # -- studies --------------------------------------------------------------------------

    def create_study(
        self,
        spec: StudySpec,
        enqueue: Sequence[Enqueued] = (),
        parent_id: int | None = None,
    ) -> StudyInfo:
        """Register the study and create its Optuna study; a taken name raises StudyExists.

        ``enqueue``'s trials are queued before our row exists, so no worker can ask for a
        trial before they are there: they run first, in order.
        """
        assert spec.name, "a study needs its name before it is stored"
        try:
            optuna_study = optuna.create_study(
                storage=self.optuna, study_name=spec.name, direction="maximize"
            )
        except optuna.exceptions.DuplicatedStudyError:
            raise StudyExists(f"a study named {spec.name!r} exists already") from None
        optuna_study.set_user_attr("spec", spec.model_dump(mode="json"))
        for trial in enqueue:
            optuna_study.enqueue_trial(trial.params, user_attrs=trial.user_attrs)
        now = _now()
        row = StudyRow(
            name=spec.name,
            optuna_study_id=optuna_study._study_id,
            status="queued",
            spec=spec.model_dump(mode="json"),
            n_trials=spec.n_trials,
            claimed=0,
            failures=0,
            created_at=now,
            updated_at=now,
            parent_id=parent_id,
        )
        try:
            with self._session() as session:
                session.add(row)
        except sa.exc.IntegrityError:
            optuna.delete_study(study_name=spec.name, storage=self.optuna)
            raise StudyExists(f"a study named {spec.name!r} exists already") from None
        return StudyInfo.of(row)

    def get(self, key: int | str) -> StudyInfo:
        """A study by id (int or digits) or by name."""
        with self._reads.connect() as connection:
            return self._get(connection, key)

    @staticmethod
    def _get(connection: sa.Connection, key: int | str) -> StudyInfo:
        table = StudyRow.__table__
        row = None
        if isinstance(key, int) or (key.isdigit() and len(key) < 10):  # ids fit in int4
            row = connection.execute(sa.select(table).where(table.c.id == int(key))).first()
        if row is None and isinstance(key, str):
            row = connection.execute(sa.select(table).where(table.c.name == key)).first()
        if row is None:
            raise StudyNotFound(f"no study {key!r}")
        return StudyInfo.of(row)  # type: ignore[arg-type]

    def list(self, limit: int = 50, offset: int = 0) -> tuple[list[StudyInfo], int]:
        """Newest first, one page, and the total count (re-run phases are shown with their
        study, not on their own)."""
        top = StudyRow.parent_id.is_(None)
        with self._session() as session:
            total = session.scalar(sa.select(sa.func.count()).select_from(StudyRow).where(top))
            rows = session.scalars(
                sa.select(StudyRow)
                .where(top)
                .order_by(StudyRow.created_at.desc(), StudyRow.id.desc())
                .limit(limit)
                .offset(offset)
            )
            return [StudyInfo.of(r) for r in rows], int(total or 0)

    def cancel(self, key: int | str) -> StudyInfo:
        """Stop handing out trials (of its re-run phase too); trials already running finish."""
        study = self.get(key)
        for phase in (study, *self.children(study.id)):
            self._set_status(phase.id, "cancelled", only_from=ACTIVE)
        return self.get(study.id)

    def delete(self, key: int | str) -> None:
        study = self.get(key)
        for phase in (*self.children(study.id), study):
            optuna.delete_study(study_name=phase.name, storage=self.optuna)
            with self._session() as session:
                session.execute(sa.delete(StudyRow).where(StudyRow.id == phase.id))

    def children(self, study_id: int) -> list[StudyInfo]:
        """The study's re-run phase, if it has begun (a list: empty, or one study)."""
        table = StudyRow.__table__
        with self._reads.connect() as connection:
            rows = connection.execute(
                sa.select(table).where(table.c.parent_id == study_id).order_by(table.c.id)
            ).all()
        return [StudyInfo.of(row) for row in rows]  # type: ignore[arg-type]

    def _set_status(self, study_id: int, status: str, only_from: tuple[str, ...]) -> bool:
        with self._session() as session:
            result = session.execute(
                sa.update(StudyRow)
                .where(StudyRow.id == study_id, StudyRow.status.in_(only_from))
                .values(status=status, updated_at=_now())
            )
            return result.rowcount == 1

    # -- trial slots ----------------------------------------------------------------------

    def active(self) -> list[StudyInfo]:
        """Queued and running studies, least progress first (so idle workers spread out)."""
        with self._session() as session:
            rows = session.scalars(
                sa.select(StudyRow)
                .where(StudyRow.status.in_(ACTIVE))
                .order_by((StudyRow.claimed * 1.0 / StudyRow.n_trials), StudyRow.created_at)
            )
            return [StudyInfo.of(r) for r in rows]

    def claim(self, study_id: int) -> StudyInfo | None:
        """Take one trial slot, atomically: never more than ``n_trials`` slots are out.
        Returns the study as the claim left it, or None when no slot was free."""
        table = StudyRow.__table__
        with self.engine.begin() as connection:
            row = connection.execute(
                sa.update(table)
                .where(
                    table.c.id == study_id,
                    table.c.status.in_(ACTIVE),
                    table.c.claimed < table.c.n_trials,
                )
                .values(claimed=table.c.claimed + 1, status="running", updated_at=_now())
                .returning(*table.c)
            ).first()
        return None if row is None else StudyInfo.of(row)  # type: ignore[arg-type]

    def record_value(self, study_id: int, value: float) -> None:
        """Keep the study's best COMPLETE value (studies maximise), atomically."""
        table = StudyRow.__table__
        with self.engine.begin() as connection:
            connection.execute(
                sa.update(table)
                .where(table.c.id == study_id)
                .values(
                    best_value=sa.case(
                        (sa.or_(table.c.best_value.is_(None), table.c.best_value < value), value),
                        else_=table.c.best_value,
                    )
                )
            )

    def release(self, study_id: int) -> None:
        """Give a slot back: its trial failed and will not count."""
        with self._session() as session:
            session.execute(
                sa.update(StudyRow)
                .where(StudyRow.id == study_id, StudyRow.claimed > 0)
                .values(claimed=StudyRow.claimed - 1, updated_at=_now())
            )

    def fail_study(self, study_id: int, reason: str) -> None:
        """A study that cannot run at all (e.g. its dataset cannot be loaded)."""
        with self._session() as session:
            session.execute(
                sa.update(StudyRow)
                .where(StudyRow.id == study_id, StudyRow.status.in_(ACTIVE))
                .values(status="failed", error=reason[:2000], updated_at=_now())
            )

    def record_failure(self, study_id: int, max_failures: int) -> None:
        """Count a trial that raised; a study that keeps failing is marked failed."""
        with self._session() as session:
            session.execute(
                sa.update(StudyRow)
                .where(StudyRow.id == study_id)
                .values(failures=StudyRow.failures + 1, updated_at=_now())
            )
            session.execute(
                sa.update(StudyRow)
                .where(
                    StudyRow.id == study_id,
                    StudyRow.failures >= max_failures,
                    StudyRow.status.in_(ACTIVE),
                )
                .values(status="failed")
            )

    def all_trials_done(self, study: StudyInfo) -> bool:
        """Whether ``n_trials`` trials are COMPLETE or PRUNED."""
        return self.trial_counts(study)["finished"] >= study.n_trials

    def complete(self, study: StudyInfo) -> bool:
        """Mark the study completed; a re-run phase completes the study it belongs to too."""
        done = self._set_status(study.id, "completed", only_from=ACTIVE)
        if study.parent_id is not None:
            self._set_status(study.parent_id, "completed", only_from=ACTIVE)
        return done

    def on_stale_trial(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        """Heartbeat-stale trial (its worker died): free its slot and queue a retry.

        Optuna calls this only in the process whose UPDATE failed the trial, so once per trial.
        """
        info = self.get(study.study_name)
        self.requeue(study, trial)
        self.release(info.id)

    def requeue(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        """Queue the same parameters again (up to ``max_retry`` times per original trial)."""
        with _quiet_experimental():
            retry = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=self.max_retry)
            retry(study, trial)

    def fail_stale(self, study: StudyInfo) -> None:
        """Fail the study's trials whose heartbeat stopped (runs ``on_stale_trial`` for each)."""
        if self.optuna.get_heartbeat_interval() is None:
            return
        if study.name not in self._handles:  # loading a study costs 5 statements: once
            self._handles[study.name] = optuna.load_study(
                study_name=study.name, storage=self.optuna
            )
        with _quiet_experimental():
            optuna.storages.fail_stale_trials(self._handles[study.name])

    # -- reads for status -----------------------------------------------------------------

    def trial_counts(self, study: StudyInfo) -> dict[str, int]:
        """Trials by state, and ``finished`` (COMPLETE + PRUNED), in one query."""
        with self._reads.connect() as connection:
            return _tally(connection, study)[0]

    def snapshot(self, key: int | str) -> Snapshot:
        """Everything a status page shows: one connection, three round trips at most."""
        with self._reads.connect() as connection:
            study = self._get(connection, key)
            counts, workers = _tally(connection, study)
            durations = []
            if study.status in ACTIVE:  # only an unfinished study needs an ETA
                durations = connection.execute(_DURATIONS, {"s": study.optuna_study_id}).all()
        seconds = [(_aware(end) - _aware(start)).total_seconds() for start, end in durations]
        return Snapshot(study, counts, study.best_value, seconds, workers)

    def trials(self, study: StudyInfo, limit: int, offset: int) -> tuple[list[Any], int]:
        """One page of the study's trials, by number, and how many there are."""
        with self._session() as session:
            total = session.execute(
                sa.text("SELECT count(*) FROM trials WHERE study_id = :s"),
                {"s": study.optuna_study_id},
            ).scalar()
            ids = (
                session.execute(
                    sa.text(
                        "SELECT trial_id FROM trials WHERE study_id = :s ORDER BY number "
                        "LIMIT :n OFFSET :o"
                    ),
                    {"s": study.optuna_study_id, "n": limit, "o": offset},
                )
                .scalars()
                .all()
            )
        return [self.optuna.get_trial(i) for i in ids], int(total or 0)

    def optuna_study(
        self,
        study: StudyInfo,
        sampler: optuna.samplers.BaseSampler | None = None,
        pruner: optuna.pruners.BasePruner | None = None,
    ) -> optuna.Study:
        return optuna.load_study(
            study_name=study.name, storage=self.optuna, sampler=sampler, pruner=pruner
        )

    # -- workers --------------------------------------------------------------------------

    def worker_seen(
        self,
        worker_id: str,
        host: str,
        pid: int,
        device: str,
        study_id: int | None = None,
        trial_number: int | None = None,
    ) -> None:
        now = _now()
        with self._session() as session:
            row = session.get(WorkerRow, worker_id)
            if row is None:
                session.add(
                    WorkerRow(
                        id=worker_id,
                        host=host,
                        pid=pid,
                        device=device,
                        study_id=study_id,
                        trial_number=trial_number,
                        started_at=now,
                        last_seen=now,
                    )
                )
            else:
                row.study_id, row.trial_number, row.last_seen = study_id, trial_number, now

    def worker_gone(self, worker_id: str) -> None:
        with self._session() as session:
            session.execute(sa.delete(WorkerRow).where(WorkerRow.id == worker_id))

    def live_workers(
        self, within: float = LIVE_WITHIN, study_id: int | None = None
    ) -> list[WorkerRow]:
        since = _now() - timedelta(seconds=within)
        with self._session() as session:
            query = sa.select(WorkerRow).where(WorkerRow.last_seen >= since)
            if study_id is not None:
                query = query.where(WorkerRow.study_id == study_id)
            return list(session.scalars(query))

    # -- fleet-wide figures (what /metrics exports) -----------------------------------------

    def studies_by_status(self) -> dict[str, int]:
        with self._reads.connect() as connection:
            rows = connection.execute(
                sa.select(StudyRow.status, sa.func.count()).group_by(StudyRow.status)
            ).all()
        return {status: 0 for status in (*ACTIVE, *TERMINAL)} | dict(rows)  # type: ignore[arg-type]

    def trials_by_state(self) -> dict[str, int]:
        """Trials of our studies by Optuna state, over every study."""
        with self._reads.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT t.state, count(*) FROM trials t JOIN schedsearch_studies s "
                    "ON s.optuna_study_id = t.study_id GROUP BY t.state"
                )
            ).all()
        found = {str(state).rsplit(".", 1)[-1].upper(): n for state, n in rows}
        return {state: found.get(state, 0) for state in _STATES}

    def duration_histogram(self, bounds: tuple[float, ...]) -> tuple[list[int], float, int]:
        """Finished trials' durations: cumulative counts at each bound, their sum and count."""
        if self.engine.dialect.name == "sqlite":
            seconds = "(julianday(t.datetime_complete) - julianday(t.datetime_start)) * 86400.0"
        else:
            seconds = "EXTRACT(EPOCH FROM (t.datetime_complete - t.datetime_start))"
        buckets = ", ".join(
            f"sum(CASE WHEN {seconds} <= {float(b)!r} THEN 1 ELSE 0 END)" for b in bounds
        )
        query = sa.text(
            f"SELECT {buckets}, sum({seconds}), count(*) FROM trials t "
            "JOIN schedsearch_studies s ON s.optuna_study_id = t.study_id "
            "WHERE t.state IN ('COMPLETE', 'PRUNED') AND t.datetime_start IS NOT NULL "
            "AND t.datetime_complete IS NOT NULL"
        )
        with self._reads.connect() as connection:
            row = connection.execute(query).one()
        return [int(n or 0) for n in row[: len(bounds)]], float(row[-2] or 0.0), int(row[-1])

    def close(self) -> None:
        self.engine.dispose()
        self.optuna.engine.dispose()


def _migrate(connection: sa.Connection) -> None:
    """Bring a database made by an older schedsearch up to ``SCHEMA_VERSION``, in place."""
    columns = {c["name"] for c in sa.inspect(connection).get_columns("schedsearch_studies")}
    if "parent_id" not in columns:  # version 1
        connection.exec_driver_sql("ALTER TABLE schedsearch_studies ADD COLUMN parent_id INTEGER")
        connection.exec_driver_sql(
            "CREATE INDEX IF NOT EXISTS ix_schedsearch_studies_parent_id "
            "ON schedsearch_studies (parent_id)"
        )
    meta = MetaRow.__table__
    version = str(SCHEMA_VERSION)
    found = connection.execute(
        sa.select(meta.c.value).where(meta.c.key == "schema_version")
    ).scalar()
    if found is None:
        connection.execute(sa.insert(meta).values(key="schema_version", value=version))
    elif found != version:
        connection.execute(
            sa.update(meta).where(meta.c.key == "schema_version").values(value=version)
        )


def optuna_storage(url: str | None = None) -> optuna.storages.RDBStorage:
    """Optuna's storage on the study database (schema created if missing)."""
    return Store(url).optuna
