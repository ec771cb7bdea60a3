"""The two status vocabularies, each defined once: a study's status and a trial's state.

Both are ``str`` enums, so they compare equal to the words on the wire and in the database
(``StudyStatus.RUNNING == "running"``); every other module names a status through these.
"""

from __future__ import annotations

from enum import StrEnum


class StudyStatus(StrEnum):
    """A study's status: queued, running (a re-run phase included), completed, cancelled or
    failed."""

    # ``search.lifecycle`` owns every transition between them.

    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    FAILED = "failed"

    @property
    def active(self) -> bool:
        """Still handing out trials."""
        return self in ACTIVE


ACTIVE: tuple[StudyStatus, ...] = (StudyStatus.QUEUED, StudyStatus.RUNNING)
TERMINAL: tuple[StudyStatus, ...] = (
    StudyStatus.COMPLETED,
    StudyStatus.CANCELLED,
    StudyStatus.FAILED,
)


class TrialState(StrEnum):
    """A trial's state: Optuna's, lower-cased."""

    RUNNING = "running"
    WAITING = "waiting"
    COMPLETE = "complete"
    PRUNED = "pruned"
    FAIL = "fail"

    @property
    def stored(self) -> str:
        """The state as Optuna's ``trials.state`` column holds it."""
        return self.name

    @property
    def count_key(self) -> str:
        """The key of this state in a study's trial counts (``failed``, not ``fail``)."""
        return "failed" if self is TrialState.FAIL else self.value


# The order of the counts in a status answer: complete, pruned, running, failed, waiting.
COUNTED: tuple[TrialState, ...] = (
    TrialState.COMPLETE,
    TrialState.PRUNED,
    TrialState.RUNNING,
    TrialState.FAIL,
    TrialState.WAITING,
)


class LeaseState(StrEnum):
    """A claimed trial slot's state: held (``active``) or how it ended. ``released``: given back
    unused or handed back for a retry; ``expired``: its holder stopped renewing it."""

    ACTIVE = "active"
    COMPLETE = "complete"
    PRUNED = "pruned"
    FAILED = "failed"
    RELEASED = "released"
    EXPIRED = "expired"
