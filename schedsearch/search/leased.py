"""Trials leased to external training loops: ask, report, heartbeat, finish.

The same study, slots, sampler, pruner, retries and accounting as the built-in workers: an
ask claims a slot with a lease (``store.leases``) and samples the trial then (no queue of
stale pre-sampled trials); a report records one value per epoch and asks the study's pruner;
a finish tells Optuna and settles the slot (``search.accounting``). Nothing lives in the
process between calls but Optuna handles (a sampler and pruner per study), so any number of
API processes can serve the same study.
"""

from __future__ import annotations

import math
import secrets
import threading
from dataclasses import dataclass, field

import optuna
from optuna.trial import TrialState as OptunaState

from schedsearch.core.errors import BadReport, LeaseConflict, LeaseNotFound, NotYourLease
from schedsearch.core.records import TrialRecord
from schedsearch.core.space import suggest
from schedsearch.core.states import LeaseState
from schedsearch.search import accounting, lifecycle
from schedsearch.search.plan import plan_of
from schedsearch.search.strategy import study_handle
from schedsearch.search.tell import tell
from schedsearch.store import Lease, Store, StudyInfo, StudyNotFound
from schedsearch.store.database import now

FINISHES = {
    "complete": OptunaState.COMPLETE,
    "pruned": OptunaState.PRUNED,
    "failed": OptunaState.FAIL,
    "released": OptunaState.FAIL,  # handed back unfinished: queued again, not a failure
}


@dataclass(frozen=True)
class Asked:
    """What an ask gives: a trial with its lease, or why not (``wait``: every remaining slot is
    out on lease; ``over``: the study hands out no more trials)."""

    outcome: str
    study: StudyInfo
    lease: Lease | None = None
    number: int | None = None  # the trial's, and its schedule and base LR
    record: TrialRecord | None = None
    retry_after: float = 0.0


@dataclass
class Leasing:
    """The process's Optuna handles per study, and its reaper of dead holders' leases."""

    store: Store
    seed_index: int = field(default_factory=lambda: secrets.randbelow(2**31 - 1) + 1)
    _handles: dict[int, optuna.Study] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.reaper = accounting.Reaper(self.store)

    def handle(self, study: StudyInfo) -> optuna.Study:
        """The study with this process's sampler (its own seed) and the spec's pruner."""
        with self._lock:
            if study.id not in self._handles:
                plan = plan_of(study.spec, None)
                self._handles[study.id] = study_handle(self.store, study, self.seed_index, plan)
            return self._handles[study.id]

    # -- ask ------------------------------------------------------------------------------

    def ask(self, key: int | str, owner: str) -> Asked:
        study = self.store.studies.get(key)
        if study.spec.trainer != "external":
            raise LeaseConflict(
                f"study {study.name!r} is trained by built-in workers; only studies with "
                '"trainer": "external" lease trials'
            )
        if not study.status.active:
            return Asked("over", study)
        self.reaper.reap(study)
        beats = self.store.heartbeats
        claimed = self.store.leases.claim(study.id, owner, beats.grace_period, study.spec.epochs)
        if claimed is None:
            lifecycle.conclude(self.store, study)
            study = self.store.studies.get(study.id)
            if not study.status.active:
                return Asked("over", study)
            return Asked("wait", study, retry_after=self._wait(study))
        study, lease = claimed
        try:
            number, record = self._sample(study, lease)
        except BaseException:
            accounting.release(self.store, study, lease, reason="sampling failed")
            raise
        return Asked("trial", study, lease, number, record)

    def _wait(self, study: StudyInfo) -> float:
        """Seconds until a slot may come back: the first lease's expiry, within reason."""
        soonest = self.store.leases.soonest_expiry(study.id)
        if soonest is None:
            return 1.0
        left = (soonest - now()).total_seconds()
        return float(min(max(1.0, left), self.store.heartbeats.interval))

    def _sample(self, study: StudyInfo, lease: Lease) -> tuple[int, TrialRecord]:
        """Ask Optuna now (sampling sees every trial told so far), record the schedule, and
        bind the trial to the lease."""
        handle = self.handle(study)
        trial = handle.ask()
        try:
            sampled = suggest(trial, plan_of(study.spec, None).space)
            record = TrialRecord(
                schedule=sampled.schedule.model_dump(mode="json"), base_lr=sampled.base_lr
            )
            record.write(trial)
            self.store.leases.bind(lease.id, trial._trial_id, trial.number)
        except BaseException:
            handle.tell(trial, state=OptunaState.FAIL)
            raise
        return trial.number, record

    # -- the holder's calls ---------------------------------------------------------------

    def lease(self, lease_id: str, owner: str | None = None) -> Lease:
        """The lease, if it exists and (``owner`` given) was taken by that owner."""
        return self._held(lease_id, owner)[0]

    def _held(self, lease_id: str, owner: str | None = None) -> tuple[Lease, StudyInfo]:
        """``lease``, and its study."""
        held = self.store.leases.held(lease_id)
        if held is None:
            raise LeaseNotFound(f"no lease {lease_id[:64]!r}")
        if owner is not None and held[0].owner != owner:
            raise NotYourLease(f"lease {lease_id[:64]!r} was taken with another token")
        return held

    def _live(
        self, lease_id: str, owner: str, read: tuple[Lease, StudyInfo] | None = None
    ) -> tuple[Lease, StudyInfo]:
        """The lease (``read``: as just read) if it is still active, and its study."""
        lease, study = read or self._held(lease_id, owner)
        if lease.state is LeaseState.ACTIVE and not lease.live:
            accounting.reap(self.store, study)  # dead: settle it now, then say so
            lease = self.lease(lease_id, owner)
        if lease.state is not LeaseState.ACTIVE:
            raise LeaseConflict(f"lease {lease_id[:64]!r} has ended ({ended(lease)})")
        return lease, study

    def heartbeat(self, lease_id: str, owner: str) -> Lease:
        self._live(lease_id, owner)
        renewed = self.store.leases.renew(lease_id, self.store.heartbeats.grace_period)
        if renewed is None:
            raise LeaseConflict(f"lease {lease_id[:64]!r} expired before it was renewed")
        return renewed

    def report(self, lease_id: str, owner: str, epoch: int, value: float) -> tuple[bool, str]:
        """Record the value at an epoch; (prune?, trial state). A repeat answers the same."""
        lease, study = self._live(lease_id, owner)
        if epoch > study.spec.epochs:
            raise BadReport(f"epoch: {epoch} is past the trial's {study.spec.epochs} epochs")
        assert lease.trial_id is not None  # bound before the lease was handed out
        if not math.isfinite(value):
            self._end(lease, study, "failed", None, f"diverged: {value} at epoch {epoch}")
            return True, "failed"
        reads = self.store.one_trial
        trial = reads.read(lease.trial_id)
        if epoch in trial.intermediate_values:  # a retried report: the answer it had
            return lease.prune_step is not None and epoch >= lease.prune_step, "running"
        if reads.report(lease.trial_id, epoch, value):
            trial.intermediate_values[epoch] = value  # as stored: no second read of the trial
        else:  # the trial ended meanwhile, or a twin of this report recorded the epoch first
            trial = reads.read(lease.trial_id)
            if trial.state.is_finished() or epoch not in trial.intermediate_values:
                raise LeaseConflict(f"lease {lease.id[:64]!r}: its trial has already ended")
        handle = self.handle(study)
        prune = handle.pruner.prune(handle, trial)
        if prune:
            self.store.leases.mark_prune(lease.id, epoch)
        return prune, "running"

    def finish(
        self, lease_id: str, owner: str, state: str, value: float | None, reason: str | None
    ) -> Lease:
        """End the trial; a repeat of the same finish answers the same, a different one 409."""
        held = self._held(lease_id, owner)
        if state == "complete" and value is None:
            raise BadReport("value: a complete trial needs its final value")
        if value is not None and not math.isfinite(value):
            state, value, reason = "failed", None, f"diverged: final value {value}"
        if held[0].state is not LeaseState.ACTIVE:
            return same_finish(held[0], state, value)
        lease, study = self._live(lease_id, owner, held)
        return self._end(lease, study, state, value, reason)

    def _end(
        self, lease: Lease, study: StudyInfo, state: str, value: float | None, reason: str | None
    ) -> Lease:
        """Tell Optuna (a pruned trial takes its last report as its value, as in ``optimize``),
        then settle the lease's slot; 409 if a reaper ended it first."""
        assert lease.trial_id is not None and lease.trial_number is not None
        handle = self.handle(study)
        diverged = (reason or "").startswith("diverged")
        try:
            for key, attr in TrialRecord(diverged=reason).attrs().items() if diverged else ():
                self.store.optuna.set_trial_user_attr(lease.trial_id, key, attr)
            held = self.store.one_trial.read(lease.trial_id)  # the one read of the trial
            trial = tell(handle, held, value if state == "complete" else None, FINISHES[state])
        except (ValueError, optuna.exceptions.UpdateFinishedTrialError):
            raise LeaseConflict(f"lease {lease.id[:64]!r}: its trial has already ended") from None
        except KeyError:  # the trial is gone: its study is being deleted
            if self.store.studies.deleted(study):
                raise StudyNotFound(f"study {study.name!r} was deleted") from None
            raise LeaseConflict(f"lease {lease.id[:64]!r}: its trial no longer exists") from None
        settled = accounting.settle(
            self.store,
            study,
            handle,
            trial,
            lease,
            requeue=state == "released",
            reason=reason,
            failure=not diverged,  # a diverging schedule is an answer, not a broken study
        )
        if settled is None:
            raise LeaseConflict(f"lease {lease.id[:64]!r} ended meanwhile")
        return settled


def same_finish(lease: Lease, state: str, value: float | None) -> Lease:
    """A finish on an ended lease: the recorded answer if it is the same finish, else 409."""
    recorded = {
        LeaseState.COMPLETE: "complete",
        LeaseState.PRUNED: "pruned",
        LeaseState.FAILED: "failed",
        LeaseState.RELEASED: "released",
    }.get(lease.state)
    if recorded == state and (state != "complete" or lease.value == value):
        return lease
    raise LeaseConflict(f"lease {lease.id[:64]!r} has already ended ({ended(lease)})")


def ended(lease: Lease) -> str:
    what = lease.state.value
    if lease.state is LeaseState.COMPLETE:
        what += f" with value {lease.value}"
    if lease.state is LeaseState.EXPIRED:
        what += ": its holder stopped renewing it, and the trial was handed to another"
    return what
