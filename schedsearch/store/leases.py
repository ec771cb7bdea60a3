"""Leases: a claimed trial slot with an owner and an expiry, for built-in workers and external
training loops alike.

A claim takes the slot (``store.slots``' conditional UPDATE) and inserts its lease in the same
transaction, so a slot is never out without a lease that says who holds it and until when. The
holder renews it (a worker's heartbeat thread, an agent's heartbeat call); a lease not renewed
in time is a dead holder's, and ``expire`` hands it to the one process whose UPDATE ended it.
Every move out of ``active`` is one conditional UPDATE, so each lease is accounted for once,
whichever of holder and reaper gets there first.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

import sqlalchemy as sa

from schedsearch.core.states import LeaseState
from schedsearch.store.database import Database, aware, now
from schedsearch.store.slots import claim_statement
from schedsearch.store.studies import TABLE as STUDIES
from schedsearch.store.studies import StudyInfo
from schedsearch.store.tables import LeaseRow

TABLE = cast(sa.Table, LeaseRow.__table__)
ACTIVE = LeaseState.ACTIVE.value


@dataclass(frozen=True)
class Lease:
    id: str
    study_id: int
    owner: str
    state: LeaseState
    cost: float
    trial_id: int | None
    trial_number: int | None
    value: float | None
    reason: str | None
    prune_step: int | None
    created_at: datetime
    expires_at: datetime

    @classmethod
    def of(cls, row: Any) -> Lease:
        """From a Core row of ``schedsearch_leases`` (SQLite hands back naive datetimes)."""
        fields = {name: getattr(row, name) for name in cls.__dataclass_fields__}
        fields |= {"state": LeaseState(row.state)}
        fields |= {"created_at": aware(row.created_at), "expires_at": aware(row.expires_at)}
        return cls(**fields)

    @property
    def live(self) -> bool:
        """Active and not past its expiry (an expired lease not yet reaped is dead all the same)."""
        return self.state is LeaseState.ACTIVE and self.expires_at >= now()


class Leases:
    def __init__(self, db: Database) -> None:
        self.db = db

    def claim(
        self, study_id: int, owner: str, seconds: float, cost: float = 0.0
    ) -> tuple[StudyInfo, Lease] | None:
        """Take one trial slot (see ``Slots.claim``) and its lease, in one transaction; None
        when no slot is free."""
        moment = now()
        with self.db.engine.begin() as connection:
            row = connection.execute(claim_statement(study_id, cost)).first()
            if row is None:
                return None
            lease = connection.execute(
                sa.insert(TABLE)
                .values(
                    id=secrets.token_urlsafe(18),
                    study_id=study_id,
                    owner=owner[:128],
                    state=ACTIVE,
                    cost=cost,
                    created_at=moment,
                    expires_at=moment + timedelta(seconds=seconds),
                )
                .returning(*TABLE.c)
            ).one()
        return StudyInfo.of(row), Lease.of(lease)

    def get(self, lease_id: str) -> Lease | None:
        with self.db.reads.connect() as connection:
            row = connection.execute(sa.select(TABLE).where(TABLE.c.id == lease_id)).first()
        return None if row is None else Lease.of(row)

    def held(self, lease_id: str) -> tuple[Lease, StudyInfo] | None:
        """The lease and its study, in one statement (every call of a lease's holder needs
        both: a report, heartbeat or finish made two round trips of it)."""
        prefix = "study__"
        with self.db.reads.connect() as connection:
            row = connection.execute(
                sa.select(*TABLE.c, *(c.label(prefix + c.name) for c in STUDIES.c))
                .join(STUDIES, STUDIES.c.id == TABLE.c.study_id)
                .where(TABLE.c.id == lease_id)
            ).first()
        if row is None:
            return None
        fields = row._mapping
        study = SimpleNamespace(
            **{k.removeprefix(prefix): v for k, v in fields.items() if k.startswith(prefix)}
        )
        return Lease.of(row), StudyInfo.of(study)

    def bind(self, lease_id: str, trial_id: int, trial_number: int) -> None:
        """Record the trial the lease's slot became."""
        with self.db.single.connect() as connection:
            connection.execute(
                sa.update(TABLE)
                .where(TABLE.c.id == lease_id)
                .values(trial_id=trial_id, trial_number=trial_number)
            )

    def renew(self, lease_id: str, seconds: float) -> Lease | None:
        """Extend a live lease; None when it has ended or expired (its holder counts as dead)."""
        rows = self._renew(TABLE.c.id == lease_id, seconds)
        return Lease.of(rows[0]) if rows else None

    def renew_owner(self, owner: str, seconds: float) -> int:
        """Extend every live lease of one holder (a worker's heartbeat); how many."""
        return len(self._renew(TABLE.c.owner == owner, seconds))

    def _renew(self, which: sa.ColumnElement[bool], seconds: float) -> list[Any]:
        """Extend the live leases ``which`` selects by ``seconds`` from now; their rows."""
        moment = now()
        with self.db.single.connect() as connection:
            return list(
                connection.execute(
                    sa.update(TABLE)
                    .where(which, TABLE.c.state == ACTIVE, TABLE.c.expires_at >= moment)
                    .values(expires_at=moment + timedelta(seconds=seconds))
                    .returning(*TABLE.c)
                ).all()
            )

    def end(
        self,
        lease_id: str,
        state: LeaseState,
        value: float | None = None,
        reason: str | None = None,
    ) -> Lease | None:
        """Move an active lease to ``state``; the lease as ended, or None when it was not active
        (ended before, or expired and reaped): then its accounting is someone else's."""
        with self.db.single.connect() as connection:
            row = connection.execute(
                sa.update(TABLE)
                .where(TABLE.c.id == lease_id, TABLE.c.state == ACTIVE)
                .values(state=state.value, value=value, reason=reason)
                .returning(*TABLE.c)
            ).first()
        return None if row is None else Lease.of(row)

    def mark_prune(self, lease_id: str, step: int) -> None:
        """Remember the first epoch a prune was answered, so a repeated report answers the same."""
        with self.db.single.connect() as connection:
            connection.execute(
                sa.update(TABLE)
                .where(TABLE.c.id == lease_id, TABLE.c.prune_step.is_(None))
                .values(prune_step=step)
            )

    def expire(self, study_id: int) -> list[Lease]:
        """End the study's active leases that are past their expiry; the ones this call ended
        (each is handed to exactly one caller, which does its accounting)."""
        with self.db.single.connect() as connection:
            rows = connection.execute(
                sa.update(TABLE)
                .where(
                    TABLE.c.study_id == study_id,
                    TABLE.c.state == ACTIVE,
                    TABLE.c.expires_at < now(),
                )
                .values(state=LeaseState.EXPIRED.value, reason="lease expired")
                .returning(*TABLE.c)
            ).all()
        return [Lease.of(row) for row in rows]

    def overdue_studies(self) -> list[int]:
        """The studies holding an active lease past its expiry (a dead holder's), whatever
        their status: a study cancelled or failed meanwhile is served, and so reaped, no more
        by its own turns (``accounting.reap_overdue``)."""
        with self.db.reads.connect() as connection:
            ids = connection.execute(
                sa.select(TABLE.c.study_id)
                .where(TABLE.c.state == ACTIVE, TABLE.c.expires_at < now())
                .distinct()
            ).scalars()
            return sorted(ids)

    def bound(self, trial_ids: list[int]) -> set[int]:
        """Those of the trials some lease (in any state) was bound to: its end settles them."""
        if not trial_ids:
            return set()
        with self.db.reads.connect() as connection:
            found = connection.execute(
                sa.select(TABLE.c.trial_id).where(TABLE.c.trial_id.in_(trial_ids))
            ).scalars()
            return {int(t) for t in found}

    def active(self, study_id: int) -> list[Lease]:
        with self.db.reads.connect() as connection:
            rows = connection.execute(
                sa.select(TABLE).where(TABLE.c.study_id == study_id, TABLE.c.state == ACTIVE)
            ).all()
        return [Lease.of(row) for row in rows]

    def soonest_expiry(self, study_id: int) -> datetime | None:
        """When the study's first active lease runs out (how long a caller should wait)."""
        with self.db.reads.connect() as connection:
            moment = connection.execute(
                sa.select(sa.func.min(TABLE.c.expires_at)).where(
                    TABLE.c.study_id == study_id, TABLE.c.state == ACTIVE
                )
            ).scalar()
        return None if moment is None else aware(moment)

    def delete_study(self, connection: sa.Connection, study_id: int) -> None:
        connection.execute(sa.delete(TABLE).where(TABLE.c.study_id == study_id))
