"""The store facade as a worker's turn uses it (find, claim, release, delete), on both backends.

Moved out of the old ``tests/test_workers.py``, whose other tests run real worker processes
(now ``tests/e2e/test_workers.py``)."""

from __future__ import annotations

import optuna
import pytest
import sqlalchemy as sa

from schedsearch.core.errors import StudyExists
from schedsearch.core.spec import StudySpec
from schedsearch.search import lifecycle
from schedsearch.store import Store, schema
from schedsearch.store.tables import VERSION_TABLE


def new_study(store: Store, name: str, **fields) -> int:
    spec = StudySpec(name=name, **{"epochs": 1, "n_trials": 10, "families": ["cosine"], **fields})
    return store.studies.create(spec).id


def test_store_api_on_both_backends(db_url: str) -> None:
    store = Store(db_url)
    ids = [new_study(store, f"s{i}") for i in range(3)]
    page, total = store.studies.list(limit=2)
    assert total == 3 and [s.id for s in page] == ids[::-1][:2]  # newest first
    assert store.studies.get(str(ids[0])).name == "s0" == store.studies.get("s0").name
    with pytest.raises(StudyExists, match="exists already"):
        new_study(store, "s0")
    assert store.slots.claim(ids[0]) and store.studies.get("s0").status == "running"
    store.slots.release(ids[0])
    assert store.studies.get("s0").claimed == 0
    lifecycle.delete(store, store.studies.get("s1"))
    assert [s.name for s in store.studies.list()[0]] == ["s2", "s0"]
    assert "s1" not in [s.study_name for s in optuna.get_all_study_summaries(store.optuna)]
    with store.db.engine.connect() as connection:  # the schema a new database is made at
        versions = connection.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).all()
    assert [v for (v,) in versions] == [schema.HEAD]
    Store(db_url)  # opening an existing database again changes nothing
    assert store.studies.list()[1] == 2
