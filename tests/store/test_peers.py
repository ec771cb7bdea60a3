"""The pruners' view of a study (store.peers) is Optuna's, field for field, and never stale: a
value reported or a trial finished through another process's storage is seen at the next
call. Real SQLite and PostgreSQL."""

from __future__ import annotations

import math

import optuna
from optuna.trial import TrialState

from schedsearch.core.spec import StudySpec
from schedsearch.store import Store
from schedsearch.store import peers as peers_module


def fields(trials) -> list[tuple]:
    """What a pruner reads, comparable (NaN as its repr: NaN != NaN)."""
    return [
        (t.number, t.state, t.value, {k: repr(v) for k, v in sorted(t.intermediate_values.items())})
        for t in sorted(trials, key=lambda t: t.number)
    ]


def test_peers_are_optunas_trials_and_follow_other_processes(db_url: str) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    ours, theirs = Store(db_url), Store(db_url)  # two processes' stores
    study = ours.studies.create(StudySpec(name="peers", n_trials=20, epochs=4))
    mine = ours.trials.optuna_study(study)
    other = theirs.trials.optuna_study(study)

    done = mine.ask()
    done.report(0.4, 1)
    done.report(0.7, 2)
    mine.tell(done, 0.75)
    cut = mine.ask()
    cut.report(-math.inf, 1)
    mine.tell(cut, state=TrialState.PRUNED)
    broken = mine.ask()
    broken.report(math.nan, 1)
    mine.tell(broken, state=TrialState.FAIL)
    running = mine.ask()
    running.report(0.5, 1)
    mine.enqueue_trial({})  # WAITING
    before = ours.peers.of(mine)
    assert fields(before) == fields(mine.get_trials())
    assert math.isnan(before[2].intermediate_values[1])  # NaN and -inf come back as stored

    # Another process reports on the running trial, finishes it, and adds trials of its own.
    theirs.optuna.set_trial_intermediate_value(running._trial_id, 2, 0.9)
    theirs.optuna.set_trial_state_values(running._trial_id, TrialState.COMPLETE, [0.95])
    late = other.ask()
    late.report(0.3, 1)
    after = ours.peers.of(mine)
    assert fields(after) == fields(other.get_trials())
    assert after[3].state == TrialState.COMPLETE and after[3].intermediate_values[2] == 0.9
    assert after[-1].intermediate_values == {1: 0.3}

    late.report(0.6, 2)  # a running trial's new report is seen too
    assert ours.peers.of(mine)[-1].intermediate_values == {1: 0.3, 2: 0.6}


def test_many_unfinished_trials_are_read_as_a_range_not_a_list(db_url: str, monkeypatch) -> None:
    """Past ``MAX_LISTED`` unfinished trials the read takes every trial from the first of them
    on (an IN list that long would pass the driver's parameter cap): the same answers."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    monkeypatch.setattr(peers_module, "MAX_LISTED", 1)
    ours, theirs = Store(db_url), Store(db_url)
    study = ours.studies.create(StudySpec(name="many", n_trials=20, epochs=4))
    mine, other = ours.trials.optuna_study(study), theirs.trials.optuna_study(study)
    done = mine.ask()
    mine.tell(done, 0.5)
    running = [mine.ask() for _ in range(3)]
    for trial in running:
        trial.report(0.1, 1)
    assert fields(ours.peers.of(mine)) == fields(mine.get_trials())
    other.tell(running[1].number, 0.9)  # another process finishes one in the middle
    running[2].report(0.4, 2)
    assert fields(ours.peers.of(mine)) == fields(other.get_trials())


def test_best_is_optunas_best_trial_with_ties_to_the_first(db_url: str) -> None:
    """The prior's incumbent: the best COMPLETE trial either way, kept as trials finish (ties:
    the lower number, where SQL's order among equal values is undefined); another process's
    trial counts at the next call."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    ours, theirs = Store(db_url), Store(db_url)
    study = ours.studies.create(StudySpec(name="best", n_trials=20, epochs=4))
    mine, other = ours.trials.optuna_study(study), theirs.trials.optuna_study(study)
    assert ours.peers.best(mine) is None  # nothing complete yet
    pruned = mine.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
    pruned.report(0.99, 1)
    mine.tell(pruned, state=TrialState.PRUNED)
    assert ours.peers.best(mine) is None  # a pruned trial is no incumbent
    for value in (0.5, 0.8, 0.8, 0.7):
        mine.tell(mine.ask({"x": optuna.distributions.FloatDistribution(0, 1)}), value)
    best = ours.peers.best(mine)
    assert best is not None and (best.number, best.value) == (2, 0.8)  # the first of the tie
    assert "x" in best.params  # read in full
    assert best.value == mine.best_value
    other.tell(other.ask(), 0.9)  # another process
    best = ours.peers.best(mine)
    assert best is not None and (best.number, best.value) == (5, 0.9)


def test_best_of_a_minimising_study_is_its_lowest(db_url: str) -> None:
    store = Store(db_url)
    spec = StudySpec(
        name="lowest",
        n_trials=20,
        epochs=4,
        trainer="external",
        metric="val_loss",
        direction="minimize",
    )
    handle = store.trials.optuna_study(store.studies.create(spec))
    for value in (0.5, 0.2, 0.7):
        handle.tell(handle.ask(), value)
    best = store.peers.best(handle)
    assert best is not None and (best.number, best.value) == (1, 0.2)
