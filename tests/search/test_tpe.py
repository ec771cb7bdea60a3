"""The product's path (snapshot TPE, its storage, the worker's tell) proposes what stock TPE
proposes, and its one read per sampled trial is never stale: a trial another process finished
before an ask is seen by that ask."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import optuna
import pytest

from schedsearch.core.space import suggest
from schedsearch.core.spec import StudySpec
from schedsearch.search.tell import held, tell
from schedsearch.search.tpe import SnapshotTPESampler
from schedsearch.store import Store
from schedsearch.store.database import quiet_experimental

SPACE = StudySpec(name="tpe").search_space()  # the default space: 12 groups
SETTINGS: dict[str, Any] = dict(  # as search.strategy configures it
    multivariate=True, group=True, constant_liar=True, n_startup_trials=5
)


def tpe(cls: type[optuna.samplers.TPESampler], seed: int) -> optuna.samplers.TPESampler:
    with quiet_experimental():
        return cls(seed=seed, **SETTINGS)


def score(params: dict[str, Any]) -> float:
    """A deterministic objective of the sampled params (no training)."""
    return math.sin(sum(hash(str(v)) % 1000 for v in params.values()) / 100.0)


def stock_tell(study: optuna.Study, trial: optuna.Trial, value: float) -> None:
    study.tell(trial, value)


def our_tell(study: optuna.Study, trial: optuna.Trial, value: float) -> None:
    tell(study, held(trial), value)  # as the worker tells


def run(study: optuna.Study, trials: int, told: Callable[..., None] = our_tell) -> list[dict]:
    """Two trials in flight at a time, so that constant liar has running trials to lie about."""
    proposals: list[dict[str, Any]] = []
    running: list[optuna.Trial] = []
    for _ in range(trials):
        trial = study.ask()
        suggest(trial, SPACE)
        proposals.append(dict(trial.params))
        running.append(trial)
        if len(running) == 2:
            done = running.pop(0)
            told(study, done, score(done.params))
    for trial in running:
        told(study, trial, score(trial.params))
    return proposals


@pytest.mark.parametrize("seed", [0, 11])
def test_same_proposals_as_stock_tpe(tmp_path, seed: int) -> None:
    """Stock TPE in memory and the snapshot TPE on a study of the product's store (SQLite, its
    storage class ``store.optuna_cache.StudyCache``), trial by trial, with trials running
    meanwhile."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    stock = optuna.create_study(direction="maximize", sampler=tpe(optuna.samplers.TPESampler, seed))
    store = Store(f"sqlite:///{tmp_path / 'tpe.db'}")
    study = store.studies.create(StudySpec(name="same", n_trials=30))
    ours = store.trials.optuna_study(study, sampler=tpe(SnapshotTPESampler, seed))
    expected = run(stock, 30, stock_tell)
    assert run(ours, 30) == expected
    assert len({p["family"] for p in expected}) > 1  # the search moved across groups


def test_an_ask_sees_a_trial_another_process_finished(tmp_path) -> None:
    """Handle A samples (filling its per-trial cache), handle B (another worker) finishes
    trials, then A samples again: A's proposal is the one stock TPE makes on every trial."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    url = f"sqlite:///{tmp_path / 'tpe.db'}"
    a = optuna.create_study(
        study_name="s", direction="maximize", storage=url, sampler=tpe(SnapshotTPESampler, 1)
    )
    b = optuna.load_study(study_name="s", storage=url, sampler=tpe(SnapshotTPESampler, 2))
    run(a, 8)
    a.get_trials()  # A's storage cache holds the study as it is now
    run(b, 4)  # finished by "another worker": A's caches have not seen these

    a.sampler = tpe(SnapshotTPESampler, 5)
    trial = a.ask()
    suggest(trial, SPACE)
    finished = [t for t in a.get_trials() if t.state.is_finished()]
    assert len(finished) == 12

    stock = optuna.create_study(direction="maximize", sampler=tpe(optuna.samplers.TPESampler, 5))
    stock.add_trials(finished)
    reference = stock.ask()
    suggest(reference, SPACE)
    assert trial.params == reference.params

    without_b = optuna.create_study(
        direction="maximize", sampler=tpe(optuna.samplers.TPESampler, 5)
    )
    without_b.add_trials([t for t in finished if t.number < 8])
    stale = without_b.ask()
    suggest(stale, SPACE)
    assert stale.params != reference.params  # so the equality above is evidence, not chance
