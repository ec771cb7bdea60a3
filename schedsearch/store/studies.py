"""Study rows: create, read, list, change status, delete (with their Optuna studies).

Which status may follow which is the lifecycle's decision (``search.lifecycle``); this module
only applies a transition atomically, from the statuses it is given.
"""

from __future__ import annotations

import builtins
import functools
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import optuna
import sqlalchemy as sa

from schedsearch.core.errors import StudyExists, StudyNotFound
from schedsearch.core.spec import STORED, StudySpec
from schedsearch.core.states import StudyStatus
from schedsearch.store.database import Database, aware, now
from schedsearch.store.tables import LeaseRow, RangeTestRow, StudyRow

SLACK = 1e-9  # epochs: float sums of refunds must not refuse a trial that fits exactly
DELETE_TRIES = 20  # of Optuna's delete_study, which can roll back quietly (``Studies.delete``)


@dataclass(frozen=True)
class StudyInfo:
    """A study as our tables hold it (a plain snapshot, safe to pass between threads)."""

    id: int
    name: str
    optuna_study_id: int
    status: StudyStatus
    spec: StudySpec
    n_trials: int
    claimed: int
    failures: int
    error: str | None
    best_value: float | None
    created_at: datetime
    updated_at: datetime
    parent_id: int | None = None
    budget: float | None = None  # epochs this study may spend (None: no budget)
    spent: float = 0.0  # epochs spent, or reserved by trials still running

    @property
    def exhausted(self) -> bool:
        """Whether no further trial can be claimed: every slot taken, or the budget spent."""
        if self.claimed >= self.n_trials:
            return True
        return self.budget is not None and self.spent + self.spec.epochs > self.budget + SLACK

    @classmethod
    def of(cls, row: Any) -> StudyInfo:
        """From an ORM row or a Core row of ``schedsearch_studies``."""
        return cls(
            row.id,
            row.name,
            row.optuna_study_id,
            StudyStatus(row.status),
            _spec(row.spec),
            row.n_trials,
            row.claimed,
            row.failures,
            row.error,
            row.best_value,
            aware(row.created_at),
            aware(row.updated_at),
            row.parent_id,
            row.budget,
            row.spent or 0.0,
        )


@functools.lru_cache(maxsize=1024)
def _spec_cached(spec_json: str) -> StudySpec:
    return StudySpec.model_validate_json(spec_json, context=STORED)


def _spec(spec: dict[str, Any]) -> StudySpec:
    """A study's spec never changes: validate it once per process, not once per request."""
    return _spec_cached(json.dumps(spec, sort_keys=True))


@dataclass(frozen=True)
class Enqueued:
    """A trial queued at creation with fixed parameters (Optuna's ``enqueue_trial``)."""

    params: dict[str, Any]
    user_attrs: dict[str, Any] | None = None


TABLE = cast(sa.Table, StudyRow.__table__)


def select_study(connection: sa.Connection, key: int | str) -> StudyInfo:
    """A study by id (int or digits) or by name, on an open connection. Digits are an id and
    only an id: a name may not be all digits (one stored before that rule is reached by its id),
    so a retried ``DELETE /studies/3`` cannot reach a study named "3"."""
    row = None
    if isinstance(key, int) or (key.isascii() and key.isdigit()):  # not '³'
        if int(key) < 2**31:  # ids fit in int4
            row = connection.execute(sa.select(TABLE).where(TABLE.c.id == int(key))).first()
    else:
        row = connection.execute(sa.select(TABLE).where(TABLE.c.name == key)).first()
    if row is None:
        raise StudyNotFound(f"no study {key!r}")
    return StudyInfo.of(row)


class Studies:
    def __init__(self, db: Database, storage: optuna.storages.RDBStorage) -> None:
        self.db = db
        self.storage = storage

    def create(
        self, spec: StudySpec, enqueue: Sequence[Enqueued] = (), parent_id: int | None = None
    ) -> StudyInfo:
        """Register the study and create its Optuna study; a taken name raises StudyExists.

        ``enqueue``'s trials are queued before our row exists, so no worker can ask for a
        trial before they are there: they run first, in order. The spec is stored once, in
        our row (Optuna's copy would be a second source of truth).
        """
        if not spec.name:
            raise ValueError("a study needs its name before it is stored")
        try:
            optuna_study = optuna.create_study(
                storage=self.storage, study_name=spec.name, direction=spec.direction
            )
        except optuna.exceptions.DuplicatedStudyError:
            raise StudyExists(f"a study named {spec.name!r} exists already") from None
        for trial in enqueue:
            optuna_study.enqueue_trial(trial.params, user_attrs=trial.user_attrs)
        moment = now()
        row = StudyRow(
            name=spec.name,
            optuna_study_id=self.storage.get_study_id_from_name(spec.name),
            status=StudyStatus.QUEUED,
            spec=spec.stored_form(),
            n_trials=spec.n_trials,
            claimed=0,
            failures=0,
            created_at=moment,
            updated_at=moment,
            parent_id=parent_id,
            budget=None if spec.budget_epochs is None else float(spec.search_budget()),
            spent=0.0,
        )
        try:
            with self.db.session() as session:
                session.add(row)
        except sa.exc.IntegrityError:
            optuna.delete_study(study_name=spec.name, storage=self.storage)
            raise StudyExists(f"a study named {spec.name!r} exists already") from None
        return StudyInfo.of(row)

    def get(self, key: int | str) -> StudyInfo:
        """A study by id (int or digits) or by name."""
        with self.db.reads.connect() as connection:
            return select_study(connection, key)

    def deleted(self, study: StudyInfo) -> bool:
        """Whether the study is gone or going: ``delete`` removes the Optuna study (its trials)
        first and our row after, so a holder whose tell failed in between must see it too."""
        try:
            self.get(study.id)
            return self.storage.get_study_id_from_name(study.name) != study.optuna_study_id
        except (StudyNotFound, KeyError):
            return True

    def list(self, limit: int = 50, offset: int = 0) -> tuple[builtins.list[StudyInfo], int]:
        """Newest first, one page, and the total count (re-run phases are shown with their
        study, not on their own)."""
        top = TABLE.c.parent_id.is_(None)
        with self.db.reads.connect() as connection:
            total = connection.scalar(sa.select(sa.func.count()).select_from(TABLE).where(top))
            rows = connection.execute(
                sa.select(TABLE)
                .where(top)
                .order_by(TABLE.c.created_at.desc(), TABLE.c.id.desc())
                .limit(limit)
                .offset(offset)
            ).all()
        return [StudyInfo.of(r) for r in rows], int(total or 0)

    def children(self, study_id: int) -> builtins.list[StudyInfo]:
        """The study's re-run phase, if it has begun (a list: empty, or one study)."""
        with self.db.reads.connect() as connection:
            rows = connection.execute(
                sa.select(TABLE).where(TABLE.c.parent_id == study_id).order_by(TABLE.c.id)
            ).all()
        return [StudyInfo.of(row) for row in rows]

    def active(self) -> builtins.list[StudyInfo]:
        """Studies handing out trials, least progress first (so idle workers spread out)."""
        with self.db.reads.connect() as connection:
            rows = connection.execute(
                sa.select(TABLE)
                .where(TABLE.c.status.in_([s.value for s in StudyStatus if s.active]))
                .order_by(TABLE.c.claimed * 1.0 / TABLE.c.n_trials, TABLE.c.created_at)
            ).all()
        return [StudyInfo.of(r) for r in rows]

    def transition(
        self,
        study_id: int,
        to: StudyStatus,
        only_from: Sequence[StudyStatus],
        error: str | None = None,
    ) -> bool:
        """Set the status if it is one of ``only_from``, atomically; whether it changed."""
        values: dict[str, Any] = {"status": to.value, "updated_at": now()}
        if error is not None:
            values["error"] = error[:2000]
        with self.db.engine.begin() as connection:
            result = connection.execute(
                sa.update(TABLE)
                .where(TABLE.c.id == study_id, TABLE.c.status.in_([s.value for s in only_from]))
                .values(**values)
            )
        return result.rowcount == 1

    def delete(self, study: StudyInfo) -> None:
        """Remove the study and its Optuna study (a re-run phase is deleted by its caller).

        Optuna's ``delete_study`` deletes trial rows one by one (an ORM cascade) and ignores an
        IntegrityError: a report that a running trial writes meanwhile rolls it all back, and
        it returns as if done. So it is tried until the Optuna study is gone (else its workers
        would train on, unaware), and our rows go only then."""
        for attempt in range(DELETE_TRIES):
            try:
                optuna.delete_study(study_name=study.name, storage=self.storage)
                self.storage.get_study_id_from_name(study.name)
            except KeyError:  # gone
                break
            time.sleep(0.01 * attempt)
        else:
            raise RuntimeError(f"study {study.name!r}: its trials kept changing; not deleted")
        with self.db.engine.begin() as connection:
            connection.execute(sa.delete(RangeTestRow).where(RangeTestRow.study_id == study.id))
            connection.execute(sa.delete(LeaseRow).where(LeaseRow.study_id == study.id))
            connection.execute(sa.delete(TABLE).where(TABLE.c.id == study.id))
