"""A study's compute budget in epochs, on both real backends: claims reserve a whole trial and
are refused once the budget would be overshot, spends and refunds move the count, and racing
claims never overshoot it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from schedsearch.core.spec import StudySpec
from schedsearch.core.states import StudyStatus
from schedsearch.store import Store, StudyInfo

EPOCHS = 5


@pytest.fixture
def store(db_url: str) -> Store:
    store = Store(db_url, pool_size=4)
    yield store
    store.close()


def _budgeted(store: Store, name: str, budget_epochs: int, **fields: object) -> StudyInfo:
    """A study whose trials last ``EPOCHS`` epochs and whose re-runs (top 2 and a recipe, two
    seeds each) reserve 30 epochs of ``budget_epochs``."""
    fields = {"rerun_top_k": 2, **fields}  # the reservation these tests count on
    spec = StudySpec(name=name, epochs=EPOCHS, budget_epochs=budget_epochs, **fields)
    return store.studies.create(spec)


def test_a_budgeted_study_stores_its_search_budget(store: Store) -> None:
    study = _budgeted(store, "budgeted", 100)
    assert study.spec.search_budget() == 70
    assert (study.budget, study.spent, study.n_trials) == (70.0, 0.0, 70)
    again = store.studies.get(study.id)
    assert (again.budget, again.spent) == (70.0, 0.0) and not again.exhausted
    assert again.spec.budget_epochs == 100 and again.spec.search_budget() == 70
    capped = _budgeted(store, "capped", 100, n_trials=3)
    assert (capped.budget, capped.n_trials) == (70.0, 3)
    free = store.studies.create(StudySpec(name="free", epochs=EPOCHS, n_trials=4))
    assert (free.budget, free.spent) == (None, 0.0)


def test_claims_reserve_a_trial_each_until_the_budget_is_spent(store: Store) -> None:
    study = _budgeted(store, "claims", 100)  # 70 epochs for the search: 14 trials of 5
    claims = [store.slots.claim(study.id, EPOCHS) for _ in range(14)]
    assert all(c is not None for c in claims)
    assert [c.spent for c in claims] == [5.0 * i for i in range(1, 15)]
    assert claims[-1].status == StudyStatus.RUNNING and claims[-1].claimed == 14
    assert [c.exhausted for c in claims] == [False] * 13 + [True]
    assert store.slots.claim(study.id, EPOCHS) is None  # 75 > 70
    assert store.slots.claim(study.id, 0.5) is None  # even a cheaper one: 70.5 > 70
    assert store.studies.get(study.id).exhausted
    after = store.studies.get(study.id)
    assert (after.claimed, after.spent) == (14, 70.0)  # a refused claim changes nothing


def test_a_claim_that_would_overshoot_is_refused_though_some_budget_is_left(store: Store) -> None:
    study = _budgeted(store, "uneven", 100)  # 70 for the search
    for _ in range(11):
        assert store.slots.claim(study.id, 6) is not None  # 66 reserved
    assert store.slots.claim(study.id, 6) is None  # 72 > 70
    assert store.slots.claim(study.id, 4) is not None  # 70: exactly the budget is allowed
    assert store.studies.get(study.id).spent == 70.0


def test_spend_counts_outside_trials_and_a_negative_spend_refunds(store: Store) -> None:
    study = _budgeted(store, "spend", 100)
    store.slots.spend(study.id, 12.5)  # a range test
    assert store.studies.get(study.id).spent == 12.5
    store.slots.spend(study.id, 0)  # nothing
    assert store.studies.get(study.id).spent == 12.5
    while store.slots.claim(study.id, EPOCHS) is not None:
        pass
    spent = store.studies.get(study.id)
    assert spent.claimed == 11 and spent.spent == 67.5 and spent.exhausted  # 72.5 > 70
    store.slots.spend(study.id, -3)  # a pruned trial's unspent epochs come back
    back = store.studies.get(study.id)
    assert back.spent == 64.5 and not back.exhausted
    assert store.slots.claim(study.id, EPOCHS) is not None
    again = store.studies.get(study.id)
    assert again.spent == 69.5 and again.exhausted


def test_release_gives_the_slot_back_and_refunds_what_it_did_not_train(store: Store) -> None:
    study = _budgeted(store, "release", 100)
    for _ in range(14):
        store.slots.claim(study.id, EPOCHS)
    assert store.studies.get(study.id).exhausted
    store.slots.release(study.id, refund=3.0)  # it trained 2 of its 5 epochs, then died
    after = store.studies.get(study.id)
    assert (after.claimed, after.spent) == (13, 67.0) and after.exhausted  # 72 > 70 still
    store.slots.release(study.id, refund=EPOCHS)  # this one trained nothing
    after = store.studies.get(study.id)
    assert (after.claimed, after.spent) == (12, 62.0) and not after.exhausted
    assert store.slots.claim(study.id, EPOCHS) is not None
    store.slots.release(study.id)  # no refund: what it trained stays spent
    assert store.studies.get(study.id).spent == 67.0


def test_release_without_a_claim_refunds_nothing(store: Store) -> None:
    study = _budgeted(store, "unclaimed", 100)
    store.slots.release(study.id, refund=EPOCHS)
    after = store.studies.get(study.id)
    assert (after.claimed, after.spent) == (0, 0.0)


def test_n_trials_still_caps_a_budgeted_study(store: Store) -> None:
    study = _budgeted(store, "few", 1000, n_trials=2)
    assert store.slots.claim(study.id, EPOCHS) and store.slots.claim(study.id, EPOCHS)
    assert store.slots.claim(study.id, EPOCHS) is None
    assert store.studies.get(study.id).exhausted
    assert store.studies.get(study.id).spent == 10.0  # far from the budget: the count stops it


def test_a_study_without_a_budget_counts_but_never_refuses_for_cost(store: Store) -> None:
    study = store.studies.create(StudySpec(name="nobudget", epochs=EPOCHS, n_trials=3))
    claim = store.slots.claim(study.id, 1e6)
    assert claim is not None and claim.spent == 1e6 and not claim.exhausted
    store.slots.spend(study.id, 40)
    assert store.slots.claim(study.id, 1e6) is not None
    assert not store.studies.get(study.id).exhausted
    assert store.slots.claim(study.id, 1.0) is not None
    assert store.studies.get(study.id).exhausted  # every slot taken


def test_an_inactive_study_is_never_claimed_whatever_its_budget(store: Store) -> None:
    study = _budgeted(store, "cancelled", 100)
    assert store.studies.transition(study.id, StudyStatus.CANCELLED, [StudyStatus.QUEUED])
    assert store.slots.claim(study.id, EPOCHS) is None
    assert store.studies.get(study.id).spent == 0.0


def test_racing_claims_never_overshoot_the_budget(store: Store) -> None:
    study = _budgeted(store, "race", 100)  # 70 epochs: 14 claims of 5, 70 slots
    with ThreadPoolExecutor(8) as pool:
        claims = list(pool.map(lambda _: store.slots.claim(study.id, EPOCHS), range(40)))
    won = [c for c in claims if c is not None]
    assert len(won) == 14
    assert sorted(c.spent for c in won) == [5.0 * i for i in range(1, 15)]
    assert sorted(c.claimed for c in won) == list(range(1, 15))
    final = store.studies.get(study.id)
    assert (final.claimed, final.spent) == (14, 70.0) and final.exhausted


def test_racing_claims_spends_and_refunds_add_up(store: Store) -> None:
    """Claims, range-test spends and refunds interleaved from threads: every change lands."""
    study = _budgeted(store, "mixed", 10_030)  # 10 000 for the search: room for all
    work = [("claim", EPOCHS)] * 20 + [("spend", 2.5)] * 10 + [("refund", 1.0)] * 10

    def act(item: tuple[str, float]) -> None:
        kind, amount = item
        if kind == "claim":
            assert store.slots.claim(study.id, amount) is not None
        else:
            store.slots.spend(study.id, amount if kind == "spend" else -amount)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(act, work))
    final = store.studies.get(study.id)
    assert final.claimed == 20 and final.spent == pytest.approx(20 * 5 + 25 - 10)
