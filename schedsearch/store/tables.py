"""Our tables beside Optuna's: what Optuna does not hold.

Each study's spec, status, trial-slot counter and compute, its LR range test, and the live
workers. The slot counter is what
keeps a study at exactly ``n_trials`` (see ``store.slots``). A change here needs a migration in
``store/migrations/versions`` (a test compares the two).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

VERSION_TABLE = "schedsearch_alembic_version"  # Optuna's own is ``alembic_version``


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
    # Compute in epochs: what this study may spend (None: no budget) and has spent or reserved
    # (a claim reserves a whole trial; what a pruned trial did not train comes back).
    budget: orm.Mapped[float | None] = orm.mapped_column(sa.Float, default=None)
    spent: orm.Mapped[float] = orm.mapped_column(sa.Float, default=0.0, server_default="0")


class RangeTestRow(Base):
    """A study's LR range test: the row is the claim (one worker runs it), ``result`` the test."""

    __tablename__ = "schedsearch_range_tests"

    study_id: orm.Mapped[int] = orm.mapped_column(primary_key=True, autoincrement=False)
    worker: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    started_at: orm.Mapped[datetime] = orm.mapped_column(sa.DateTime(timezone=True))
    result: orm.Mapped[dict[str, Any] | None] = orm.mapped_column(sa.JSON, default=None)


class LeaseRow(Base):
    """A claimed trial slot: who holds it, until when, and for which trial. Built-in workers and
    external training loops hold the same leases; whoever moves a lease out of ``active``
    (its holder finishing, or the reaper finding it expired) does the slot's accounting, once.
    Rows stay after they end, so that a retried finish or a late report gets its answer."""

    __tablename__ = "schedsearch_leases"
    __table_args__ = (sa.Index("ix_schedsearch_leases_study_state", "study_id", "state"),)

    id: orm.Mapped[str] = orm.mapped_column(sa.String(32), primary_key=True)
    study_id: orm.Mapped[int]
    owner: orm.Mapped[str] = orm.mapped_column(sa.String(128), index=True)
    state: orm.Mapped[str] = orm.mapped_column(sa.String(16))
    cost: orm.Mapped[float] = orm.mapped_column(sa.Float)  # epochs the claim reserved
    trial_id: orm.Mapped[int | None] = orm.mapped_column(default=None)  # Optuna's, once asked
    trial_number: orm.Mapped[int | None] = orm.mapped_column(default=None)
    value: orm.Mapped[float | None] = orm.mapped_column(sa.Float, default=None)
    reason: orm.Mapped[str | None] = orm.mapped_column(sa.Text, default=None)
    prune_step: orm.Mapped[int | None] = orm.mapped_column(default=None)  # first "prune"
    created_at: orm.Mapped[datetime] = orm.mapped_column(sa.DateTime(timezone=True))
    expires_at: orm.Mapped[datetime] = orm.mapped_column(sa.DateTime(timezone=True))


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


# Indexes on Optuna's ``trials`` table: the best-trial and count queries filter by study and
# state (optuna#5537), and the ETA reads a study's latest trials (without the second, an older
# study walks every trial of the newer ones).
TRIAL_INDEXES = {
    "ix_trials_study_id_state": "trials (study_id, state)",
    "ix_trials_study_id_trial_id": "trials (study_id, trial_id)",
}
