"""A dead holder's lease (search.accounting.reap): its trial is failed and queued again, its
slot comes back, once; a lease that never became a trial just gives its slot back; a trial
left RUNNING without any lease is failed. Real SQLite and PostgreSQL, real Optuna trials."""

from __future__ import annotations

import time

import optuna

from schedsearch.core.spec import StudySpec
from schedsearch.core.states import LeaseState
from schedsearch.search import accounting, lifecycle
from schedsearch.search.tell import held, tell
from schedsearch.store import Lease, Store, StudyInfo

States = optuna.trial.TrialState


def _store(db_url: str, grace: int = 1) -> tuple[Store, int]:
    store = Store(db_url, heartbeat_interval=1, grace_period=grace)
    spec = StudySpec(name="acct", n_trials=2, epochs=4, rerun_top_k=0, pruner="none")
    return store, store.studies.create(spec).id


def _leased_trial(
    store: Store, study_id: int, owner: str
) -> tuple[StudyInfo, Lease, optuna.Study, optuna.Trial]:
    """A slot claimed for 0.2 s and the trial it became, as a worker would hold them."""
    claimed = store.leases.claim(study_id, owner, 0.2, cost=4)
    assert claimed is not None
    study, lease = claimed
    handle = store.trials.optuna_study(study)
    trial = handle.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
    store.leases.bind(lease.id, trial._trial_id, trial.number)
    return study, lease, handle, trial


def test_a_dead_holders_trial_is_retried_and_its_slot_comes_back(db_url: str) -> None:
    store, study_id = _store(db_url)
    study, lease, handle, trial = _leased_trial(store, study_id, "dead")
    trial.report(0.5, 1)  # one epoch trained of four
    time.sleep(0.4)
    assert accounting.reap(store, study) == 1
    assert accounting.reap(store, study) == 0  # once
    trials = handle.get_trials(deepcopy=False)
    assert [t.state for t in trials] == [States.FAIL, States.WAITING]
    assert trials[1].params == trials[0].params  # the same parameters, queued again
    after = store.studies.get(study_id)
    assert after.claimed == 0 and after.spent == 1.0  # its untrained epochs came back
    ended = store.leases.get(lease.id)
    assert ended is not None and ended.state is LeaseState.EXPIRED


def test_a_lease_that_never_became_a_trial_gives_its_slot_back(db_url: str) -> None:
    store, study_id = _store(db_url)
    claimed = store.leases.claim(study_id, "died-loading-data", 0.2, cost=4)
    assert claimed is not None
    time.sleep(0.4)
    assert accounting.reap(store, claimed[0]) == 1
    after = store.studies.get(study_id)
    assert after.claimed == 0 and after.spent == 0.0


def test_a_trial_finished_before_its_holder_died_counts(db_url: str) -> None:
    store, study_id = _store(db_url)
    study, _, handle, trial = _leased_trial(store, study_id, "died-after-tell")
    for epoch in range(1, 5):
        trial.report(0.1 * epoch, epoch)
    handle.tell(trial, 0.4)
    time.sleep(0.4)
    accounting.reap(store, study)
    after = store.studies.get(study_id)
    assert after.claimed == 1 and after.best_value == 0.4  # counted, not retried
    assert [t.state for t in handle.get_trials(deepcopy=False)] == [States.COMPLETE]


def test_a_holder_that_ends_its_lease_first_leaves_the_reaper_nothing(db_url: str) -> None:
    store, study_id = _store(db_url)
    study, lease, handle, trial = _leased_trial(store, study_id, "slow")
    handle.tell(trial, 0.7)
    frozen = store.optuna.get_trial(trial._trial_id)
    time.sleep(0.4)  # expired, but its holder settles before any reaper looks
    assert accounting.settle(store, study, handle, frozen, lease)
    assert accounting.reap(store, study) == 0
    assert not accounting.settle(store, study, handle, frozen, lease)  # and only once
    assert store.studies.get(study_id).claimed == 1


def test_a_running_trial_no_lease_holds_is_failed_after_the_grace(db_url: str) -> None:
    store, study_id = _store(db_url, grace=1)
    study = store.studies.get(study_id)
    handle = store.trials.optuna_study(study)
    orphan = handle.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
    accounting.reap(store, study)
    assert store.optuna.get_trial(orphan._trial_id).state == States.RUNNING  # too young
    time.sleep(1.2)
    accounting.reap(store, study)
    trials = handle.get_trials(deepcopy=False)
    assert [t.state for t in trials] == [States.FAIL, States.WAITING]


def test_a_dead_holder_in_a_cancelled_study_is_reaped_without_a_retry(db_url: str) -> None:
    """Cancelled while its holder ran a trial, then the holder died: the study is served no
    more, so ``overdue_studies`` names it for reaping; the trial is failed, not queued again
    (nothing would run it), and not counted as a failure of the study."""
    store, study_id = _store(db_url)
    _, lease, handle, _ = _leased_trial(store, study_id, "dead")
    lifecycle.cancel(store, store.studies.get(study_id))
    time.sleep(0.4)
    assert store.leases.overdue_studies() == [study_id]
    assert accounting.reap(store, store.studies.get(study_id)) == 1
    assert store.leases.overdue_studies() == []
    assert [t.state for t in handle.get_trials(deepcopy=False)] == [States.FAIL]
    after = store.studies.get(study_id)
    assert after.status == "cancelled" and after.claimed == 0 and after.failures == 0
    ended = store.leases.get(lease.id)
    assert ended is not None and ended.state is LeaseState.EXPIRED


def test_a_bound_trial_is_never_an_orphan_so_it_is_retried_once(db_url: str) -> None:
    """Two reapers race: one expires the lease, the other sweeps orphans before the first has
    failed the trial. The sweep leaves a trial any lease was bound to (its lease's end settles
    it), so the dead trial is queued again once, not twice (seen in the fault matrix's re-run
    case: a second WAITING copy after the study was complete)."""
    store, study_id = _store(db_url, grace=1)
    study, lease, handle, trial = _leased_trial(store, study_id, "dead")
    time.sleep(1.2)  # the lease (0.2 s) expired and the trial is older than a lease
    assert [lease.id for lease in store.leases.expire(study_id)] == [lease.id]
    accounting._fail_orphans(store, study)  # the other reaper, between expire and its settle
    assert store.optuna.get_trial(trial._trial_id).state == States.RUNNING
    assert accounting.reap(store, study) == 0  # already expired by the first reaper
    failed, _ = accounting.fail_running(store, trial._trial_id)  # the first reaper goes on
    accounting.account(store, study, handle, failed, requeue=True, failure=False)
    accounting._fail_orphans(store, study)
    assert [t.state for t in handle.get_trials(deepcopy=False)] == [States.FAIL, States.WAITING]


def test_a_stopped_holders_retry_keeps_what_samplers_wrote(db_url: str) -> None:
    """The worker tells from its copy of the trial, which lacks the system attributes samplers
    write through the storage (the prior's draw, TPE's relative params): the retry is queued
    from the stored trial, so it carries them, as the trial did."""
    store, study_id = _store(db_url)
    study, lease, handle, trial = _leased_trial(store, study_id, "stopping")
    handle._storage.set_trial_system_attr(trial._trial_id, "prior", {"x": 0.5})  # a sampler
    assert "prior" not in held(trial).system_attrs
    ended = tell(handle, held(trial), None, States.FAIL)  # stopped mid-trial
    assert accounting.settle(store, study, handle, ended, lease, requeue=True) is not None
    failed, retry = handle.get_trials(deepcopy=False)
    assert retry.state == States.WAITING and retry.system_attrs["failed_trial"] == failed.number
    assert retry.system_attrs["prior"] == {"x": 0.5}
