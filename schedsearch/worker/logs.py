"""Worker logs: one line per trial from us, warnings only from Optuna; JSON lines on request."""

from __future__ import annotations

import json
import logging

import optuna


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log shippers (``--log-json``)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        return json.dumps(entry)


def configure_logging(as_json: bool = False) -> None:
    """One line per trial from us, warnings only from Optuna (also in spawned processes)."""
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter() if as_json else logging.Formatter("%(asctime)s %(levelname)s %(message)s")
    )
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
