"""A database from before the re-run phase (schema 1: no ``parent_id``) is refused at start and
upgraded by ``schedsearch db upgrade``: a real SQLite file, nothing trains."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from schedsearch.core.errors import SchemaError
from schedsearch.core.spec import StudySpec
from schedsearch.store import Store, schema
from schedsearch.store.tables import VERSION_TABLE


def test_a_version_1_database_is_upgraded_in_place(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    store = Store(url)
    store.studies.create(StudySpec(name="before"))
    store.close()
    engine = sa.create_engine(url)
    with engine.begin() as connection:  # what schedsearch 1 left: no parent_id column, its
        # version in schedsearch_meta, no Alembic version table of ours
        connection.exec_driver_sql("DROP INDEX ix_schedsearch_studies_parent_id")
        connection.exec_driver_sql("ALTER TABLE schedsearch_studies DROP COLUMN parent_id")
        for later in ("budget", "spent"):  # and none of what later revisions added
            connection.exec_driver_sql(f"ALTER TABLE schedsearch_studies DROP COLUMN {later}")
        connection.exec_driver_sql("DROP TABLE schedsearch_range_tests")
        connection.exec_driver_sql("DROP TABLE schedsearch_leases")
        connection.exec_driver_sql(f"DROP TABLE {VERSION_TABLE}")
        connection.exec_driver_sql(
            "CREATE TABLE schedsearch_meta (key VARCHAR(64) PRIMARY KEY, value VARCHAR(255))"
        )
        connection.exec_driver_sql("INSERT INTO schedsearch_meta VALUES ('schema_version', '1')")
    with pytest.raises(SchemaError, match="schedsearch db upgrade"):  # never altered at start
        Store(url)
    stamped, upgraded = schema.upgrade(url)
    assert stamped.endswith(f"stamped {schema.BASELINE}")  # the parent_id column added first
    assert upgraded == f"schedsearch: {schema.BASELINE} -> {schema.HEAD}"
    assert schema.upgrade(url) == [f"already at head (schedsearch {schema.HEAD})"]
    store = Store(url)
    old = store.studies.get("before")
    assert old.parent_id is None and old.spec.name == "before"
    inspector = sa.inspect(engine)
    assert "parent_id" in {c["name"] for c in inspector.get_columns("schedsearch_studies")}
    assert "schedsearch_meta" not in inspector.get_table_names()
    with engine.connect() as connection:
        version = connection.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}").all()
    assert version == [(schema.HEAD,)] and schema.HEAD == "0004"
    store.close()
    engine.dispose()
