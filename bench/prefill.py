"""Fast pre-fill of an Optuna study with finished trials, for the benchmarks.

``study.add_trials`` writes one trial per transaction with a dozen or more statements (about
12-20 ms per trial on PostgreSQL on 2 cores, so 10,000 trials take minutes). :func:`fill`
writes the same rows with Optuna's own ORM models in one transaction, a few multi-row INSERTs
per table, and then reads every trial it wrote back through Optuna's storage and checks it
against the trial it was given (the first one always goes through ``add_trials``, and must read
back alike, so the two paths are compared on every fill).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from optuna.distributions import distribution_to_json
from optuna.storages._rdb import models
from optuna.trial import FrozenTrial
from sqlalchemy import orm

from schedsearch.store import Store, StudyInfo


@dataclass(frozen=True)
class Filled:
    """What one :func:`fill` wrote."""

    first: int  # number of the first trial written
    through_optuna: int  # trials written with ``study.add_trials``
    in_bulk: int  # trials written with bulk INSERTs
    seconds: float  # writing and checking


def trial_count(store: Store, study: StudyInfo) -> int:
    with store.optuna.engine.connect() as connection:
        return int(
            connection.scalar(
                sa.select(sa.func.count())
                .select_from(models.TrialModel)
                .where(models.TrialModel.study_id == study.optuna_study_id)
            )
        )


def fill(
    store: Store, study: StudyInfo, templates: Sequence[FrozenTrial], through_optuna: int = 1
) -> Filled:
    """Append ``templates`` (finished trials, e.g. from ``optuna.trial.create_trial``) to the
    study: the first ``through_optuna`` (at least 1) with ``study.add_trials``, the rest in
    bulk; then check that every one reads back as given. Fails (SystemExit) otherwise."""
    started = time.perf_counter()
    first = trial_count(store, study)
    head = min(max(1, through_optuna), len(templates))
    if head:
        store.trials.optuna_study(study).add_trials(templates[:head])
    insert_in_bulk(store, study, templates[head:], first + head)
    check(store, study, templates, first)
    return Filled(first, head, len(templates) - head, time.perf_counter() - started)


def _utc_naive(moment: datetime | None) -> datetime | None:
    """As Optuna's ``TrialModel.datetime_start`` setter stores it: naive UTC."""
    return None if moment is None else moment.astimezone(UTC).replace(tzinfo=None)


def insert_in_bulk(
    store: Store, study: StudyInfo, templates: Sequence[FrozenTrial], first: int
) -> None:
    """The rows ``add_trials`` would write for ``templates``, numbered from ``first``, in one
    transaction of multi-row INSERTs through Optuna's ORM models."""
    if not templates:
        return
    value_type = models.TrialValueModel
    step_type = models.TrialIntermediateValueModel
    with orm.Session(store.optuna.engine) as session, session.begin():
        trial_ids = session.scalars(
            sa.insert(models.TrialModel).returning(
                models.TrialModel.trial_id, sort_by_parameter_order=True
            ),
            [
                {
                    "number": first + i,
                    "study_id": study.optuna_study_id,
                    "state": t.state,
                    "_datetime_start_utc": _utc_naive(t.datetime_start),
                    "_datetime_complete_utc": _utc_naive(t.datetime_complete),
                }
                for i, t in enumerate(templates)
            ],
        ).all()
        params, values, steps, user_attrs, system_attrs = [], [], [], [], []
        for trial_id, t in zip(trial_ids, templates, strict=True):
            for name, value in t.params.items():
                distribution = t.distributions[name]
                params.append(
                    {
                        "trial_id": trial_id,
                        "param_name": name,
                        "param_value": distribution.to_internal_repr(value),
                        "distribution_json": distribution_to_json(distribution),
                    }
                )
            for objective, value in enumerate(t.values or ()):
                stored, kind = value_type.value_to_stored_repr(value)
                values.append(
                    {
                        "trial_id": trial_id,
                        "objective": objective,
                        "value": stored,
                        "value_type": kind,
                    }
                )
            for step, value in t.intermediate_values.items():
                stored, kind = step_type.intermediate_value_to_stored_repr(value)
                steps.append(
                    {
                        "trial_id": trial_id,
                        "step": step,
                        "intermediate_value": stored,
                        "intermediate_value_type": kind,
                    }
                )
            for rows, attrs in ((user_attrs, t.user_attrs), (system_attrs, t.system_attrs)):
                rows += [
                    {"trial_id": trial_id, "key": k, "value_json": json.dumps(v)}
                    for k, v in attrs.items()
                ]
        for model, rows in (
            (models.TrialParamModel, params),
            (models.TrialValueModel, values),
            (models.TrialIntermediateValueModel, steps),
            (models.TrialUserAttributeModel, user_attrs),
            (models.TrialSystemAttributeModel, system_attrs),
        ):
            if rows:
                session.execute(sa.insert(model), rows)


def _local_naive(moment: datetime | None) -> datetime | None:
    """As Optuna's storage hands a stored datetime back: naive local time."""
    return None if moment is None else moment.astimezone().replace(tzinfo=None)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def _content(trial: FrozenTrial) -> dict[str, Any]:
    return {
        "state": trial.state,
        "values": trial.values,
        "params": trial.params,
        "distributions": trial.distributions,
        "intermediate_values": trial.intermediate_values,
        "user_attrs": trial.user_attrs,
        "system_attrs": trial.system_attrs,
        "datetime_start": _local_naive(trial.datetime_start),
        "datetime_complete": _local_naive(trial.datetime_complete),
    }


def check(store: Store, study: StudyInfo, templates: Sequence[FrozenTrial], first: int) -> None:
    """Exactly ``first + len(templates)`` trials, and trials ``first...`` read back through
    Optuna's storage equal to their templates (the ``add_trials`` one and the bulk ones)."""
    expected = first + len(templates)
    if (count := trial_count(store, study)) != expected:
        raise SystemExit(f"FAILED: pre-fill holds {count} trials, expected {expected}")
    stored = {
        t.number: t
        for t in store.optuna.get_all_trials(study.optuna_study_id, deepcopy=False)
        if t.number >= first
    }
    if sorted(stored) != list(range(first, expected)):
        raise SystemExit("FAILED: pre-fill trial numbers are not consecutive")
    for i, template in enumerate(templates):
        got, want = _content(stored[first + i]), _content(template)
        if not _same(got, want):
            path = "add_trials" if i == 0 else "bulk insert"
            diff = sorted(k for k in want if not _same(got[k], want[k]))
            raise SystemExit(
                f"FAILED: pre-filled trial {first + i} ({path}) reads back unlike its "
                f"template: {diff}"
            )


OPTUNA_TABLES = (
    "studies",
    "trials",
    "trial_values",
    "trial_params",
    "trial_intermediate_values",
    "trial_user_attributes",
    "trial_system_attributes",
    "trial_heartbeats",
)


def settle(store: Store) -> float:
    """``VACUUM ANALYZE`` (PostgreSQL) or ``ANALYZE`` (SQLite) the tables a fill wrote, as
    autovacuum would have done by the time a study holds that many trials; returns seconds.

    Without it the planner has no statistics for tables that filled within a second, and it
    picks plans that a database which grew over hours would not (e.g. schedsearch's ETA query
    sorts all of a study's trials instead of reading 50 rows backwards along the primary key).
    """
    started = time.perf_counter()
    tables = (*OPTUNA_TABLES, "schedsearch_studies", "schedsearch_workers")
    autocommit = store.db.engine.execution_options(isolation_level="AUTOCOMMIT")
    with autocommit.connect() as connection:
        if store.db.dialect == "postgresql":
            connection.exec_driver_sql(f"VACUUM (ANALYZE) {', '.join(tables)}")
        else:
            connection.exec_driver_sql("ANALYZE")
    return time.perf_counter() - started
