"""The schema's version: created at head, refused when stale, upgraded from the frozen databases
that a9b7f7a made (as Optuna's ``test_upgrade_assets`` do)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from schedsearch.core.errors import SchemaError
from schedsearch.core.states import StudyStatus
from schedsearch.reports.results import best_config, study_status
from schedsearch.store import DatabaseUnavailable, Store, schema
from schedsearch.store.tables import TRIAL_INDEXES, VERSION_TABLE, Base

ASSETS = Path(__file__).with_name("assets")
MANIFEST = json.loads((ASSETS / "a9b7f7a.json").read_text())
EXE = [sys.executable, "-c", "from schedsearch.cli import main; main()"]
OURS = {table.name for table in Base.metadata.sorted_tables}


def _version(url: str) -> str:
    with sa.create_engine(url).connect() as connection:
        return str(connection.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar())


def _our_diffs(url: str) -> list[object]:
    """What differs between our tables in the database and ``tables.py`` (Optuna's ignored)."""
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "include_object": lambda obj, name, kind, reflected, other: (
                    (kind != "table" or name in OURS)
                    and not (kind == "index" and name in TRIAL_INDEXES)
                ),
                "compare_type": True,
            },
        )
        diffs = compare_metadata(context, Base.metadata)
    engine.dispose()
    return list(diffs)


def test_head_constant_is_the_scripts_head() -> None:
    config = Config()
    config.set_main_option("script_location", str(Path(schema.__file__).with_name("migrations")))
    assert ScriptDirectory.from_config(config).get_current_head() == schema.HEAD


def test_an_empty_database_is_created_at_head(db_url: str) -> None:
    Store(db_url).close()
    assert _version(db_url) == schema.HEAD
    assert _our_diffs(db_url) == []
    inspector = sa.inspect(sa.create_engine(db_url))
    assert set(TRIAL_INDEXES) <= {i["name"] for i in inspector.get_indexes("trials")}
    Store(db_url).close()  # a second start checks, and creates nothing


def test_the_migration_chain_ends_where_creation_does(db_url: str, tmp_path: Path) -> None:
    """From Optuna's tables alone, the migrations give exactly the tables created at head."""
    import optuna

    optuna.storages.RDBStorage(db_url).engine.dispose()
    engine = sa.create_engine(db_url)
    with engine.connect() as connection:
        config = schema._alembic_config(connection)
        from alembic import command

        command.upgrade(config, "head")
        connection.commit()
    engine.dispose()
    assert _version(db_url) == schema.HEAD
    assert _our_diffs(db_url) == []
    assert "schedsearch_meta" not in sa.inspect(sa.create_engine(db_url)).get_table_names()


def test_a_newer_schema_is_refused_with_the_command(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    Store(url).close()
    with sa.create_engine(url).begin() as connection:
        connection.execute(sa.text(f"UPDATE {VERSION_TABLE} SET version_num = '9999'"))
    with pytest.raises(SchemaError, match=r"schema 9999.*`schedsearch db upgrade`"):
        Store(url)


def _frozen_sqlite(tmp_path: Path) -> str:
    path = tmp_path / "a9b7f7a.db"
    shutil.copy(ASSETS / "a9b7f7a.sqlite3", path)
    return f"sqlite:///{path}"


def _frozen_postgresql(pg_url: str) -> str:
    url = sa.engine.make_url(pg_url)
    subprocess.run(
        [
            "psql",
            "-h",
            str(url.host),
            "-p",
            str(url.port or 5432),
            "-U",
            str(url.username),
            "-d",
            str(url.database),
            "-v",
            "ON_ERROR_STOP=1",
            "-q",
            "-f",
            str(ASSETS / "a9b7f7a.postgresql.sql"),
        ],
        check=True,
        capture_output=True,
    )
    return pg_url


@pytest.fixture(params=["sqlite", "postgresql"])
def frozen_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database exactly as a9b7f7a left it, on each backend."""
    if request.param == "sqlite":
        return _frozen_sqlite(tmp_path)
    return _frozen_postgresql(request.getfixturevalue("pg_url"))


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*EXE, *args], capture_output=True, text=True, timeout=120)


def test_a_frozen_database_is_refused_until_upgraded(frozen_url: str) -> None:
    with pytest.raises(SchemaError, match=r"older schedsearch.*`schedsearch db upgrade`"):
        Store(frozen_url)
    served = _cli("serve", "--port", "1", "--database-url", frozen_url)
    assert served.returncode == 2
    lines = served.stderr.strip().splitlines()
    assert len(lines) == 1 and "schedsearch db upgrade" in lines[0], served.stderr
    assert "Traceback" not in served.stderr


def test_a_frozen_database_upgrades_and_serves_every_study(frozen_url: str) -> None:
    upgraded = _cli("db", "upgrade", "--database-url", frozen_url)
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"stamped {schema.BASELINE}" in upgraded.stdout
    assert f"{schema.BASELINE} -> {schema.HEAD}" in upgraded.stdout
    assert _version(frozen_url) == schema.HEAD
    assert _our_diffs(frozen_url) == []
    again = _cli("db", "upgrade", "--database-url", frozen_url)
    assert again.returncode == 0 and "already at head" in again.stdout

    store = Store(frozen_url)
    _, total = store.studies.list(limit=50)
    assert total == len(MANIFEST["studies"])  # re-run phases are listed with their study
    for facts in MANIFEST["studies"]:
        study = store.studies.get(facts["name"])
        assert (study.id, study.status, study.n_trials) == (
            facts["id"],
            StudyStatus(facts["status"]),
            facts["n_trials"],
        )
        assert study.best_value == facts["best_value"]
        status = study_status(store, study.name)
        assert status["trials"]["complete"] == facts["complete"]
        assert status["trials"]["pruned"] == facts["pruned"]
        assert status["progress"]["finished"] == facts["complete"] + facts["pruned"]
        best = best_config(store, study)
        if facts["complete"]:
            assert best is not None and best["code"].startswith("import torch")
        else:
            assert best is None
    rerun = best_config(store, store.studies.get("rerun"))
    assert rerun is not None and rerun["rerun"]["status"] == StudyStatus.COMPLETED
    assert len(rerun["rerun"]["candidates"][0]["values"]) == 2  # two fresh seeds, read back
    store.close()


_OPEN = "import sys; from schedsearch.store import Store; Store(sys.argv[1]).close()"


def test_racing_first_starts_all_find_the_schema_at_head(db_url: str) -> None:
    """Twelve processes open one empty database at once (SQLite has no schema lock)."""
    starts = [
        subprocess.Popen([sys.executable, "-c", _OPEN, db_url], stderr=subprocess.PIPE)
        for _ in range(12)
    ]
    errors = [p.communicate(timeout=120)[1].decode() for p in starts]
    assert [p.returncode for p in starts] == [0] * 12, "\n".join(errors)
    assert _version(db_url) == schema.HEAD and _our_diffs(db_url) == []


def test_a_creation_cut_short_is_finished_by_the_next_start(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cut.db'}"
    Store(url).close()
    with sa.create_engine(url).begin() as connection:  # killed before the version was stamped
        connection.execute(sa.text(f"DELETE FROM {VERSION_TABLE}"))
    Store(url).close()
    assert _version(url) == schema.HEAD
    with sa.create_engine(url).begin() as connection:  # or before the version table existed
        connection.execute(sa.text(f"DROP TABLE {VERSION_TABLE}"))
    assert schema.upgrade(url) == [f"schedsearch: created at {schema.HEAD}"]
    assert _version(url) == schema.HEAD and _our_diffs(url) == []


def test_an_unreachable_database_fails_at_once(tmp_path: Path) -> None:
    """Only racing creators are waited for; a database that is not there is not (and says so
    in one line that names it)."""
    import time

    started = time.monotonic()
    with pytest.raises(DatabaseUnavailable, match="cannot reach the database postgresql"):
        Store("postgresql+psycopg://postgres@127.0.0.1:1/nowhere")
    with pytest.raises(DatabaseUnavailable, match=r"folder\.db: unable to open database file"):
        Store(f"sqlite:///{tmp_path / 'no' / 'such' / 'folder.db'}")
    assert time.monotonic() - started < schema.RACE_SECONDS
