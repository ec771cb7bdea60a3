"""Optuna's RDB storage on the study database, with per-backend engine settings.

SQLite: WAL (readers do not block the writer) and a busy timeout instead of "database is
locked"; PostgreSQL: pre-ping and a small pool per process.
"""

from __future__ import annotations

import os

import optuna
import sqlalchemy

DEFAULT_URL = "sqlite:///./schedsearch.db"


def database_url(url: str | None = None) -> str:
    return url or os.environ.get("SCHEDSEARCH_DATABASE_URL") or DEFAULT_URL


def engine_kwargs(url: str) -> dict:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 60}}
    return {"pool_size": 2, "max_overflow": 2, "pool_pre_ping": True}


def optuna_storage(url: str | None = None) -> optuna.storages.RDBStorage:
    url = database_url(url)
    if url.startswith("sqlite"):
        engine = sqlalchemy.create_engine(url, **engine_kwargs(url))
        with engine.connect() as connection:  # WAL is a property of the file: set it once
            connection.exec_driver_sql("PRAGMA journal_mode=WAL")
        engine.dispose()
    return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs(url))
