"""Fault injection: a test hook that does nothing unless ``SCHEDSEARCH_FAULT_PAUSE`` is set.

``SCHEDSEARCH_FAULT_PAUSE=PHASE:SECONDS`` makes a worker log ``fault pause at PHASE`` and sleep
for SECONDS each time it reaches that phase, so that a test can ``kill -9`` it there, at a
known point (tests/e2e/test_fault_matrix.py). The phases (``settings.FAULT_PHASES``):

- ``after_claim``: a slot is claimed (its lease exists), the dataset not loaded yet;
- ``dataset_load``: the study's first trial in this process, as its dataset loads;
- ``mid_epoch``: a search trial has reported an epoch and has more to train;
- ``before_tell``: the objective has reported its last epoch, Optuna has not been told yet;
- ``rerun``: a re-run trial has reported an epoch and has more to train.

Unset (production), ``pause`` is one cached comparison.
"""

from __future__ import annotations

import functools
import logging
import time

from schedsearch.settings import Settings

log = logging.getLogger("schedsearch.worker")


@functools.cache
def _pause() -> tuple[str, float] | None:
    """The phase to pause at and for how long, read once per process."""
    value = Settings().fault_pause
    if value is None:
        return None
    phase, _, seconds = value.partition(":")
    return phase, float(seconds)


def pause(phase: str) -> None:
    """Sleep here if the environment asks for a pause at ``phase``; else nothing."""
    setting = _pause()
    if setting is None or setting[0] != phase:
        return
    log.warning("fault pause at %s (%g s)", phase, setting[1])
    time.sleep(setting[1])
