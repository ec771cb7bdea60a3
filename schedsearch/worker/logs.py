"""Worker logs: one line per trial from us, warnings only from Optuna; JSON lines on request."""

from __future__ import annotations

import json
import logging

import optuna

from schedsearch.core.records import TrialRecord


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


log = logging.getLogger("schedsearch.worker")


def log_trial(
    study: str,
    trial: optuna.trial.FrozenTrial,
    seconds: float,
    worker: str,
    requeued: bool = False,
) -> None:
    """One line per trial (``study=... trial=... family=... value=...``), with the same facts
    as fields for ``--log-json``."""
    family = TrialRecord.of(trial.user_attrs).family or "-"
    if trial.state == optuna.trial.TrialState.COMPLETE:
        outcome = f"value={trial.value:.4f}"
    elif trial.state == optuna.trial.TrialState.PRUNED:
        outcome = "pruned"
    else:
        outcome = "stopped, queued again" if requeued else "failed"
    fields = {
        "study": study,
        "trial": trial.number,
        "family": family,
        "state": trial.state.name.lower(),
        "value": trial.value,
        "seconds": round(seconds, 3),
        "worker": worker,
    }
    log.info(
        "study=%s trial=%d family=%s %s seconds=%.2f worker=%s",
        study,
        trial.number,
        family,
        outcome,
        seconds,
        worker,
        extra={"fields": fields},
    )
