"""One trial read whole, and one epoch's value recorded, in as few statements as SQL allows.

A leased report and finish each read their trial, and a report records one value. Optuna's
``RDBStorage.get_trial`` reads a trial in six statements (the trial, then its values, params,
user and system attributes and reported values, each lazily), and
``set_trial_intermediate_value`` takes three (find the trial, look for the step, insert): 9 of a
report's 13 statements (bench/lease_profile.py), each a round trip to the database. Here a trial
is two statements (its row, then its five kinds of children in one ``UNION ALL``), built into
the same ``FrozenTrial`` Optuna's would be (``tests/store/test_one_trial.py`` compares them),
and a report is one conditional ``INSERT ... SELECT`` that records the value only while the
trial is RUNNING, as Optuna's check does.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from optuna.distributions import json_to_distribution
from optuna.storages._rdb import models
from optuna.trial import FrozenTrial, TrialState

from schedsearch.store.database import Database

_TRIALS = models.TrialModel.__table__
_VALUES = models.TrialValueModel.__table__
_PARAMS = models.TrialParamModel.__table__
_USER = models.TrialUserAttributeModel.__table__
_SYSTEM = models.TrialSystemAttributeModel.__table__
_REPORTS = models.TrialIntermediateValueModel.__table__
_VALUE_TYPE = models.TrialValueModel.TrialValueType
_REPORT_TYPE = models.TrialIntermediateValueModel.TrialIntermediateValueType


# The statements are built once (a report's hot path), the trial and its values bound per call.
_ID: sa.BindParameter[int] = sa.bindparam("trial_id")
_STEP: sa.BindParameter[int] = sa.bindparam("step")
_VALUE: sa.BindParameter[float] = sa.bindparam("value")


def _children() -> sa.CompoundSelect[*tuple[Any, ...]]:
    """Every child row of the trial ``_ID`` as (kind, index, name, number, type, text)."""

    def row(kind: str, table: sa.Table, **columns: Any) -> sa.Select[Any]:
        def column(name: str, stored_type: Any) -> Any:
            given = columns.get(name)
            return sa.cast(given if given is not None else sa.null(), stored_type).label(name)

        return sa.select(
            sa.literal(kind, sa.String).label("kind"),
            column("index", sa.Integer),
            column("name", sa.String),
            column("number", sa.Float),
            column("type", sa.String),
            column("text", sa.Text),
        ).where(table.c.trial_id == _ID)

    return sa.union_all(
        row(
            "value",
            _VALUES,
            index=_VALUES.c.objective,
            number=_VALUES.c.value,
            type=_VALUES.c.value_type,
        ),
        row(
            "param",
            _PARAMS,
            index=_PARAMS.c.param_id,
            name=_PARAMS.c.param_name,
            number=_PARAMS.c.param_value,
            text=_PARAMS.c.distribution_json,
        ),
        row("user", _USER, name=_USER.c.key, text=_USER.c.value_json),
        row("system", _SYSTEM, name=_SYSTEM.c.key, text=_SYSTEM.c.value_json),
        row(
            "report",
            _REPORTS,
            index=_REPORTS.c.step,
            number=_REPORTS.c.intermediate_value,
            type=_REPORTS.c.intermediate_value_type,
        ),
    )


def _report() -> sa.Insert:
    """Insert the value ``_VALUE`` (finite) at ``_STEP`` if trial ``_ID`` is RUNNING and has no
    value there yet; RETURNING counts the row (an INSERT ... SELECT's rowcount is -1 on
    psycopg)."""
    taken = sa.exists().where(_REPORTS.c.trial_id == _ID, _REPORTS.c.step == _STEP)
    source = sa.select(
        _TRIALS.c.trial_id,
        sa.cast(_STEP, sa.Integer),
        sa.cast(_VALUE, sa.Float),
        sa.literal(_REPORT_TYPE.FINITE, _REPORTS.c.intermediate_value_type.type),
    ).where(_TRIALS.c.trial_id == _ID, _TRIALS.c.state == TrialState.RUNNING, ~taken)
    # PostgreSQL: wait for a writer of the trial's row (a reaper failing it) and check its
    # state again, so a report never lands on a trial that has just ended (SQLite writes one
    # at a time anyway, and ignores the clause).
    source = source.with_for_update(read=True, of=_TRIALS)
    columns = ["trial_id", "step", "intermediate_value", "intermediate_value_type"]
    return sa.insert(_REPORTS).from_select(columns, source).returning(_REPORTS.c.step)


_HEAD = sa.select(_TRIALS).where(_TRIALS.c.trial_id == _ID)
_CHILDREN = _children()
_REPORT = _report()


class OneTrial:
    """Reads and reports of single trials, on the store's own connections."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def read(self, trial_id: int) -> FrozenTrial:
        """The trial as ``RDBStorage.get_trial`` gives it; ``KeyError`` if there is none."""
        with self.db.reads.connect() as connection:
            trial = connection.execute(_HEAD, {"trial_id": trial_id}).first()
            if trial is None:
                raise KeyError(f"no trial with id {trial_id}")
            children = connection.execute(_CHILDREN, {"trial_id": trial_id}).all()
        values: dict[int, float] = {}
        params: list[tuple[int, str, float, str]] = []
        user: dict[str, Any] = {}
        system: dict[str, Any] = {}
        reports: dict[int, float] = {}
        for kind, index, name, number, stored_type, text in children:
            if kind == "value":
                as_value = models.TrialValueModel.stored_repr_to_value
                values[index] = as_value(number, _VALUE_TYPE.__members__[stored_type])
            elif kind == "param":
                params.append((index, name, number, text))
            elif kind == "user":
                user[name] = json.loads(text)
            elif kind == "system":
                system[name] = json.loads(text)
            else:
                as_report = models.TrialIntermediateValueModel.stored_repr_to_intermediate_value
                reports[index] = as_report(number, _REPORT_TYPE.__members__[stored_type])
        params.sort()  # by param id, as Optuna orders them
        distributions = {name: json_to_distribution(text) for _, name, _, text in params}
        return FrozenTrial(
            number=trial.number,
            state=trial.state,
            value=None,
            values=[values[i] for i in sorted(values)] if values else None,
            datetime_start=trial.datetime_start,
            datetime_complete=trial.datetime_complete,
            params={
                name: distributions[name].to_external_repr(number) for _, name, number, _ in params
            },
            distributions=distributions,
            user_attrs=user,
            system_attrs=system,
            intermediate_values=reports,
            trial_id=trial.trial_id,
        )

    def report(self, trial_id: int, step: int, value: float) -> bool:
        """Record a finite ``value`` at ``step`` if the trial is RUNNING and has none there
        yet; whether it was recorded (False: the trial has ended, or the step was taken)."""
        stored, kind = models.TrialIntermediateValueModel.intermediate_value_to_stored_repr(value)
        if kind is not _REPORT_TYPE.FINITE:
            raise ValueError(f"only finite values are reported here, got {value!r}")
        bound = {"trial_id": trial_id, "step": step, "value": stored}
        try:
            with self.db.single.connect() as connection:
                done = connection.execute(_REPORT, bound).all()
        except sa.exc.IntegrityError:  # a twin of this report inserted the step just now
            return False
        return len(done) == 1
