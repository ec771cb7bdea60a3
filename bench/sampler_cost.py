"""Sampling time per trial as a study grows: the product's TPE (search/tpe.py) against stock
Optuna TPE configured the same way, on the same trials, in the same process.

For each size N, an in-memory study is filled with N finished trials of the default space
(params from the product's ``suggest`` under a random sampler, values from a fixed function of
them) and ``--running`` trials left RUNNING (constant liar lies about them). Then each sampler,
freshly seeded the same way, samples ``--asks`` trials on a copy of the study (ask + suggest +
tell, the told value as above) and the median time per trial is printed with the ratio. The
proposals of the two are compared and must be identical. In memory, storage costs nothing:
this is the samplers' own CPU, the part that grows with N.

    .venv/bin/python bench/sampler_cost.py [--sizes 100,1000,5000] [--asks 10]
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import time
from typing import Any

import optuna

from schedsearch.core.space import suggest
from schedsearch.core.spec import StudySpec
from schedsearch.search.tpe import SnapshotTPESampler
from schedsearch.store.database import quiet_experimental

from common import header

SPACE = StudySpec(name="cost").search_space()
SETTINGS: dict[str, Any] = dict(
    multivariate=True, group=True, constant_liar=True, n_startup_trials=10
)


def score(params: dict[str, Any]) -> float:
    return math.sin(sum(hash(str(v)) % 1000 for v in params.values()) / 100.0)


def filled(size: int, running: int) -> list[optuna.trial.FrozenTrial]:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=size))
    rng = random.Random(size)
    for number in range(size + running):
        trial = study.ask()
        suggest(trial, SPACE)
        for epoch in range(1, 5):
            trial.report(rng.random(), epoch)
        if number < size:
            study.tell(trial, score(trial.params))
    return study.get_trials()


def timed(
    cls: type[optuna.samplers.TPESampler], trials: list[Any], asks: int
) -> tuple[list[float], list[dict[str, Any]]]:
    with quiet_experimental():
        sampler = cls(seed=7, **SETTINGS)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.add_trials(trials)
    times, proposals = [], []
    for _ in range(asks):
        started = time.perf_counter()
        trial = study.ask()
        suggest(trial, SPACE)
        times.append(time.perf_counter() - started)
        proposals.append(dict(trial.params))
        study.tell(trial, score(trial.params))
    return times, proposals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,5000")
    parser.add_argument("--asks", type=int, default=10)
    parser.add_argument("--running", type=int, default=8)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    header("Sampling time per trial: the product's TPE vs stock TPE, same trials")
    print(f"{'trials':>7}{'stock ms':>10}{'product ms':>12}{'ratio':>8}  same proposals")
    for size in (int(s) for s in args.sizes.split(",")):
        trials = filled(size, args.running)
        stock, expected = timed(optuna.samplers.TPESampler, trials, args.asks)
        ours, proposals = timed(SnapshotTPESampler, trials, args.asks)
        a, b = statistics.median(stock) * 1e3, statistics.median(ours) * 1e3
        print(f"{size:>7}{a:>10.1f}{b:>12.1f}{b / a:>8.2f}  {proposals == expected}")
        assert proposals == expected, "the product's TPE proposed differently"


if __name__ == "__main__":
    main()
