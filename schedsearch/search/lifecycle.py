"""A study's life, in one place: ``TRANSITIONS`` says which status may follow which, and every
transition after creation goes through ``move`` but one (below).

::

    queued --first claim--> running --all trials done--> [re-run phase] --> completed
      |                        |
      +------------------------+--> cancelled (the user) | failed (cannot run, keeps failing)

The first claim's move to running happens inside the claim's own UPDATE (``store.slots``), so
that a slot and its status cannot disagree. A search with a re-run phase stays ``running`` on
the wire until the phase is over; the phase then completes itself and its search.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from schedsearch.core.spec import StudySpec
from schedsearch.core.states import ACTIVE, StudyStatus
from schedsearch.search import rerun
from schedsearch.search.warm_start import warm_start_trials
from schedsearch.store import Store, StudyInfo

# For each status a study may move to, the statuses it may move from.
TRANSITIONS: dict[StudyStatus, tuple[StudyStatus, ...]] = {
    StudyStatus.RUNNING: (StudyStatus.QUEUED,),
    StudyStatus.COMPLETED: ACTIVE,
    StudyStatus.CANCELLED: ACTIVE,
    StudyStatus.FAILED: ACTIVE,
}


def move(store: Store, study_id: int, to: StudyStatus, error: str | None = None) -> bool:
    """Apply one transition if the study's status allows it; whether it happened."""
    allowed = TRANSITIONS.get(to, ())  # nothing moves (back) to queued
    return bool(allowed) and store.studies.transition(study_id, to, allowed, error)


def default_name(spec: StudySpec) -> str:
    """Readable and unique enough for studies submitted in the same second."""
    stamp = f"{datetime.now(UTC):%Y%m%d-%H%M%S}"
    return f"{spec.dataset.split(':')[0]}-{spec.model}-{stamp}-{secrets.token_hex(2)}"


def submit(store: Store, spec: StudySpec) -> StudyInfo:
    """Store the study under its name (generated when absent), warm-start trials first."""
    spec = spec.model_copy(update={"name": spec.name or default_name(spec)})
    return store.studies.create(spec, warm_start_trials(spec))


def conclude(store: Store, study: StudyInfo) -> None:
    """Called when a study may be over: completes it, or first starts its re-run phase."""
    if not store.trials.all_done(study):
        return
    if study.spec.rerun_top_k and study.parent_id is None:
        phases = store.studies.children(study.id)
        if not phases and rerun.start(store, study):
            return
        if phases and phases[0].status.active:
            return  # the search completes with its re-run phase
    complete(store, study)


def complete(store: Store, study: StudyInfo) -> bool:
    """Mark the study completed; a re-run phase completes the study it belongs to too."""
    done = move(store, study.id, StudyStatus.COMPLETED)
    if study.parent_id is not None:
        move(store, study.parent_id, StudyStatus.COMPLETED)
    return done


def cancel(store: Store, study: StudyInfo) -> StudyInfo:
    """Stop handing out trials (of its re-run phase too); trials already running finish."""
    for phase in (study, *store.studies.children(study.id)):
        move(store, phase.id, StudyStatus.CANCELLED)
    return store.studies.get(study.id)


def fail(store: Store, study: StudyInfo, reason: str) -> None:
    """A study that cannot run at all (e.g. its dataset cannot be loaded)."""
    move(store, study.id, StudyStatus.FAILED, error=reason)


def trial_failed(store: Store, study: StudyInfo) -> None:
    """Count a trial that raised; a study that keeps failing (a quarter of its trials, at
    least 3) is marked failed."""
    if store.slots.record_failure(study.id) >= max(3, study.n_trials // 4):
        move(store, study.id, StudyStatus.FAILED)


def delete(store: Store, study: StudyInfo) -> None:
    """Remove the study, its re-run phase, and all their trials."""
    for phase in (*store.studies.children(study.id), study):
        store.studies.delete(phase)
