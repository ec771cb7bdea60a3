"""Leases (store.leases): a slot and its lease are taken together, renewed by their holder,
and ended once, whoever races to end them. Real SQLite and PostgreSQL."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from schedsearch.core.spec import StudySpec
from schedsearch.core.states import LeaseState
from schedsearch.store import Store


def _study(store: Store, n_trials: int = 3) -> int:
    spec = StudySpec(name="leased", n_trials=n_trials, epochs=2, rerun_top_k=0)
    return store.studies.create(spec).id


def test_every_claimed_slot_has_a_lease_and_no_more_than_n(db_url: str) -> None:
    store = Store(db_url)
    study_id = _study(store, n_trials=5)
    with ThreadPoolExecutor(8) as pool:
        claims = list(pool.map(lambda i: store.leases.claim(study_id, f"w{i}", 60), range(20)))
    held = [c for c in claims if c is not None]
    assert len(held) == 5
    assert store.studies.get(study_id).claimed == 5
    assert {lease.id for _, lease in held} == {lease.id for lease in store.leases.active(study_id)}
    assert all(lease.live and lease.owner.startswith("w") for _, lease in held)


def test_a_lease_ends_once_whoever_races(db_url: str) -> None:
    store = Store(db_url)
    study_id = _study(store)
    _, lease = store.leases.claim(study_id, "w", 60) or (None, None)
    assert lease is not None
    with ThreadPoolExecutor(6) as pool:
        ends = list(
            pool.map(lambda _: store.leases.end(lease.id, LeaseState.COMPLETE, 0.5), range(6))
        )
    assert sum(e is not None for e in ends) == 1  # one holder's accounting, not six
    assert store.leases.end(lease.id, LeaseState.FAILED) is None
    ended = store.leases.get(lease.id)
    assert ended is not None and ended.state is LeaseState.COMPLETE and ended.value == 0.5
    assert store.leases.renew(lease.id, 60) is None  # an ended lease is not renewed


def test_an_unrenewed_lease_expires_once_and_a_renewed_one_lives(db_url: str) -> None:
    store = Store(db_url)
    study_id = _study(store)
    _, dying = store.leases.claim(study_id, "dead", 0.5) or (None, None)
    _, kept = store.leases.claim(study_id, "alive", 0.5) or (None, None)
    assert dying is not None and kept is not None
    for _ in range(4):
        time.sleep(0.3)
        assert store.leases.renew_owner("alive", 0.5) == 1
    with ThreadPoolExecutor(4) as pool:  # reapers in four processes' stead
        reaped = list(pool.map(lambda _: store.leases.expire(study_id), range(4)))
    assert [lease.id for batch in reaped for lease in batch] == [dying.id]
    assert store.leases.renew(dying.id, 60) is None  # too late: its holder counts as dead
    assert store.leases.renew(kept.id, 60) is not None
    expired = store.leases.get(dying.id)
    assert expired is not None and expired.state is LeaseState.EXPIRED


def test_deleting_a_study_deletes_its_leases(db_url: str) -> None:
    store = Store(db_url)
    study_id = _study(store)
    _, lease = store.leases.claim(study_id, "w", 60) or (None, None)
    assert lease is not None
    store.studies.delete(store.studies.get(study_id))
    assert store.leases.get(lease.id) is None
