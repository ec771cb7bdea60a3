"""A database that is down or restarting, however it reaches us."""

from __future__ import annotations

import optuna
import sqlalchemy as sa

# As SQLAlchemy and as Optuna (which wraps it) report an outage.
OUTAGES = (sa.exc.OperationalError, sa.exc.InterfaceError, optuna.exceptions.StorageInternalError)


def caused_by_outage(exc: BaseException) -> bool:
    """Whether a database outage is anywhere on the exception's cause/context chain.

    Optuna wraps driver errors (StorageInternalError) and, when the database is still down
    while it records a failed tell, masks them with an UnboundLocalError from its ``finally``
    block; the outage is then only the masking error's ``__context__``.
    """
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OUTAGES):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
