"""Search quality: does schedsearch's default search beat the folklore, per unit of compute?

On digits made harder by a short budget (4 epochs of cnn-small: long enough to learn, too short
for every schedule to reach the same plateau, so schedules differ), with several search seeds
(each seed also draws its own train/val/test split and training seed), compare:

  (a)  schedsearch's default search: TPE + Hyperband, cut at (d)'s compute
  (a') the same with the decay-aware pruner, (a+w) with the folklore warm start
  (b)  random search without pruning      (c)  TPE without pruning
  (d)  the folklore: constant, step (x0.1 at 50%/75%), cosine, warm-up + cosine, one-cycle and
       linear to zero, each at every base LR of a small grid

(a)-(c) run as real studies (Store + Worker on a SQLite file, one process each, so a cut at a
compute budget is exact: no later trial influenced an earlier one); (d) trains its grid the way
a user would, directly. Compute is counted in training epochs (a pruned trial counts the
epochs it trained). For each method and seed, the config it would hand to the user (best
validation accuracy) is retrained with 3 fresh seeds and scored on the held-out test split.

Also measured: how often a pruner kills the eventual winner (short-horizon bias), by replaying
Optuna's pruners, and ours, over the full learning curves of the unpruned searches (b) and (c).

    .venv/bin/python bench/search_quality.py [--seeds 5] [--epochs 4] [--jobs 2]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import optuna
import torch

from schedsearch.core.folklore import folklore
from schedsearch.core.records import TrialRecord
from schedsearch.core.schedules import parse_schedule
from schedsearch.core.spec import StudySpec
from schedsearch.engine.data import load_dataset
from schedsearch.engine.train import TrainConfig, evaluate, train
from schedsearch.reports.results import best_config
from schedsearch.search.pruners import Curve
from schedsearch.search.pruners import replay as replay_curves
from schedsearch.search.rerun import fresh_seeds
from schedsearch.search.strategy import make_pruner
from schedsearch.store import Store
from schedsearch.worker.runner import run_study

from common import commit, header

DATASET, MODEL = "digits", "cnn-small"
GRID = (0.03, 0.1, 0.3, 1.0)  # (d)'s base LRs: SGD's usual 0.1, a factor ~3 either side
SEARCHES: dict[str, dict[str, Any]] = {
    "a": {"sampler": "tpe", "pruner": "hyperband"},
    "a'": {"sampler": "tpe", "pruner": "decay_aware"},
    "a+w": {"sampler": "tpe", "pruner": "hyperband", "warm_start": True},
    "b": {"sampler": "random", "pruner": "none"},
    "c": {"sampler": "tpe", "pruner": "none"},
    "a'+w": {"sampler": "tpe", "pruner": "decay_aware", "warm_start": True},
    "a*": {
        "sampler": "tpe",
        "pruner": "decay_aware",
        "warm_start": True,
        "rerun_top_k": 3,
        "rerun_seeds": 2,
    },
}
TRIALS = {"a*": 24}  # a*: its search and re-runs (3 x 2 x 4 epochs) within about (d)'s compute
CUT = ("a", "a'", "a+w", "a'+w")  # cut at (d)'s compute; a* spends its own (search + re-runs)
LABELS = {
    "a": "(a) TPE + Hyperband (default)",
    "a'": "(a') TPE + decay-aware Hyperband",
    "a+w": "(a+w) (a) + folklore warm start",
    "b": "(b) random, no pruning",
    "c": "(c) TPE, no pruning",
    "d": "(d) folklore x LR grid",
    "a'+w": "(a'+w) decay-aware + warm start",
    "a*": "(a*) (a'+w), top-3 re-run x 2 seeds",
}
STUDY_NAMES = {
    "a": "a",
    "a'": "a-decay",
    "a+w": "a-warm",
    "b": "b",
    "c": "c",
    "a'+w": "a-decay-warm",
    "a*": "a-star",
}
REPLAYED = ("hyperband", "decay_aware", "median")


@dataclass
class Trial:
    """One finished trial as the benchmark needs it."""

    value: float | None  # final validation accuracy; None when pruned or diverged
    epochs: int
    done_at: float  # seconds since the search began
    curve: dict[int, float]
    schedule: dict[str, Any]
    base_lr: float


def search(
    method: str, seed: int, epochs: int, n_trials: int, folder: str
) -> tuple[list[Trial], Trial]:
    """One real study: its trials in the order they ran, and the config it hands the user."""
    torch.set_num_threads(1)
    spec = StudySpec(
        name=f"{STUDY_NAMES[method]}-{seed}",
        dataset=DATASET,
        model=MODEL,
        epochs=epochs,
        n_trials=n_trials,
        seed=seed,
        **SEARCHES[method],
    )
    url = f"sqlite:///{folder}/{spec.name}.db"
    started = time.time()
    study = run_study(spec, url, progress=False)
    store = Store(url)
    found = [_trial(t, started) for t in store.trials.all(study)]
    for phase in store.studies.children(study.id):  # re-runs: compute spent, not candidates
        found += [replace(_trial(t, started), value=None) for t in store.trials.all(phase)]
    choice = best_config(store, study)
    assert choice is not None
    schedule = {"family": choice["schedule"]["family"], **choice["schedule"]["params"]}
    chosen = Trial(choice["value"], 0, 0.0, {}, schedule, choice["base_lr"])
    return sorted((t for t in found if t.epochs), key=lambda t: t.done_at), chosen


def _trial(t: optuna.trial.FrozenTrial, started: float) -> Trial:
    record = TrialRecord.of(t.user_attrs)
    return Trial(
        t.value if t.state == optuna.trial.TrialState.COMPLETE else None,
        t.last_step or 0,
        t.datetime_complete.timestamp() - started if t.datetime_complete else 0.0,
        dict(t.intermediate_values),
        record.schedule or {},
        record.base_lr or 0.0,
    )


def grid(seed: int, epochs: int) -> tuple[list[Trial], Trial]:
    """(d): every folklore recipe at every base LR, trained as a user would."""
    torch.set_num_threads(1)
    data = load_dataset(DATASET, "cpu", seed)
    config = TrainConfig.of(None, model=MODEL, epochs=epochs, seed=seed)
    started, out = time.time(), []
    for _, sampled in folklore("sgd", GRID):
        result = train(data, config, sampled.schedule, sampled.base_lr)
        value = None if result.diverged else result.final_accuracy
        curve = dict(enumerate(result.val_accuracy, start=1))
        schedule = sampled.schedule.model_dump(mode="json")
        out.append(
            Trial(
                value,
                len(result.train_loss),
                time.time() - started,
                curve,
                schedule,
                sampled.base_lr,
            )
        )
    return out, best(out)


def retrain(seed: int, epochs: int, schedule: dict[str, Any], base_lr: float) -> list[float]:
    """Test accuracy of one config with 3 fresh training seeds, on the search seed's split."""
    torch.set_num_threads(1)
    data = load_dataset(DATASET, "cpu", seed)
    scores = []
    for fresh in fresh_seeds(seed, 3):
        config = TrainConfig.of(None, model=MODEL, epochs=epochs, seed=fresh)
        result = train(data, config, parse_schedule(schedule), base_lr)
        scores.append(0.0 if result.diverged else evaluate(result.model, data.test_x, data.test_y))
    return scores


def within(trials: list[Trial], budget: float) -> list[Trial]:
    """The trials that finished within ``budget`` epochs, counted in the order they ran."""
    kept, spent = [], 0
    for trial in trials:
        spent += trial.epochs
        if spent > budget:
            break
        kept.append(trial)
    return kept


def best(trials: list[Trial]) -> Trial:
    return max((t for t in trials if t.value is not None), key=lambda t: t.value)


def epochs_to_reach(trials: list[Trial], target: float) -> int | None:
    spent = 0
    for trial in trials:
        spent += trial.epochs
        if trial.value is not None and trial.value >= target:
            return spent
    return None


def replay(trials: list[Trial], pruner_name: str, epochs: int) -> tuple[bool, float, float]:
    """Run full learning curves through a pruner, in their order: whether it kills the final
    winner, the share of the final top 5 it kills, and the share of epochs it keeps."""
    pruner = make_pruner(StudySpec(epochs=epochs, pruner=pruner_name))
    curves = [Curve(t.schedule, t.curve, t.value) for t in trials]
    killed, spent = replay_curves(pruner, curves, epochs)
    ranked = sorted(
        (i for i, t in enumerate(trials) if t.value is not None),
        key=lambda i: trials[i].value,  # type: ignore[arg-type, return-value]
        reverse=True,
    )
    top = ranked[:5]
    total = sum(len(t.curve) for t in trials)
    return ranked[0] in killed, sum(i in killed for i in top) / len(top), spent / total


def mean_sd(values: list[float]) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):.4f} +- {sd:.4f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--trials", type=int, default=50, help="trials of (b) and (c)")
    parser.add_argument("--search-trials", type=int, default=60, help="trials of (a), (a')...")
    parser.add_argument("--jobs", type=int, default=2, help="processes")
    parser.add_argument("--methods", default=",".join(SEARCHES), help="searches to run, and (d)")
    parser.add_argument("--out", default="bench/out/search_quality.json")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    header("search quality: schedsearch's searches against the folklore, per unit of compute")
    seeds = list(range(args.seeds))
    methods = [m for m in SEARCHES if m in args.methods.split(",")]
    clock = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder, ProcessPoolExecutor(args.jobs) as pool:
        runs = {
            (method, seed): pool.submit(
                search,
                method,
                seed,
                args.epochs,
                args.trials if method in ("b", "c") else TRIALS.get(method, args.search_trials),
                folder,
            )
            for method in methods
            for seed in seeds
        }
        runs |= {("d", seed): pool.submit(grid, seed, args.epochs) for seed in seeds}
        results = {key: future.result() for key, future in runs.items()}
        trials = {key: found for key, (found, _) in results.items()}
        budget = {seed: sum(t.epochs for t in trials["d", seed]) for seed in seeds}
        cut = {(m, s): within(t, budget[s]) if m in CUT else t for (m, s), t in trials.items()}
        chosen = {
            (m, s): best(cut[m, s]) if m in CUT else choice
            for (m, s), (_, choice) in results.items()
        }
        tests = {
            key: pool.submit(retrain, key[1], args.epochs, t.schedule, t.base_lr)
            for key, t in chosen.items()
        }
        test = {key: future.result() for key, future in tests.items()}
    rows = []
    for method in (*methods, "d"):
        keys = [(method, s) for s in seeds]
        rows.append(
            {
                "method": method,
                "label": LABELS[method],
                "trials": statistics.fmean(len(cut[k]) for k in keys),
                "epochs": statistics.fmean(sum(t.epochs for t in cut[k]) for k in keys),
                "wall_s": statistics.fmean(cut[k][-1].done_at for k in keys),
                "best_val": statistics.fmean(chosen[k].value for k in keys),  # type: ignore[misc]
                "test": [statistics.fmean(test[k]) for k in keys],
                "test_sd": statistics.fmean(statistics.stdev(test[k]) for k in keys),
                "families": [chosen[k].schedule["family"] for k in keys],
            }
        )
    print(f"\nsearch quality: {DATASET}/{MODEL}, {args.epochs} epochs per trial, seeds {seeds}")
    print(
        f"{'method':38s} {'trials':>6s} {'epochs':>7s} {'wall s':>7s} {'best val':>8s}  "
        f"{'test, 3 fresh seeds':>19s} {'(sd)':>6s} {'vs (d)':>7s} {'>=(d)':>5s}  chosen"
    )
    d_test = rows[-1]["test"]
    for row in rows:
        delta = statistics.fmean(t - d for t, d in zip(row["test"], d_test, strict=True))
        wins = sum(t >= d for t, d in zip(row["test"], d_test, strict=True))
        print(
            f"{row['label']:38s} {row['trials']:6.1f} {row['epochs']:7.1f} {row['wall_s']:7.1f} "
            f"{row['best_val']:8.4f}  {statistics.fmean(row['test']):19.4f} "
            f"{row['test_sd']:6.4f} {delta:+7.4f} {wins:>2d}/{len(seeds):<2d}  "
            f"{','.join(row['families'])}"
        )

    if "a" in methods:
        goal_1(seeds, test, budget, rows)
    shares = goal_2(seeds, trials, args.search_trials) if {"a", "b"} <= set(methods) else []
    replays = replay_all(seeds, trials, args.epochs) if {"b", "c"} <= set(methods) else {}
    print(f"\ntotal wall time {time.perf_counter() - clock:.0f} s")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "commit": commit(),
                "args": vars(args),
                "rows": rows,
                "goal2_shares": shares,
                "replays": replays,
                "trials": {f"{m}/{s}": [asdict(t) for t in v] for (m, s), v in trials.items()},
            },
            indent=1,
        )
    )


def goal_1(seeds: list[int], test: dict, budget: dict[int, int], rows: list[dict]) -> None:
    """(a) >= the best of (d), at no more compute than (d)'s grid (retrained test accuracy)."""
    wins = sum(statistics.fmean(test["a", s]) >= statistics.fmean(test["d", s]) for s in seeds)
    a_test = [statistics.fmean(test["a", s]) for s in seeds]
    d_test = [statistics.fmean(test["d", s]) for s in seeds]
    print(
        f"\ngoal 1, (a) >= (d) at (d)'s compute ({statistics.fmean(budget.values()):.0f} epochs):"
        f" test {mean_sd(a_test)} vs {mean_sd(d_test)}; (a) >= (d) on {wins}/{len(seeds)} seeds;"
        f" best val {rows[0]['best_val']:.4f} vs {rows[-1]['best_val']:.4f}"
    )


def goal_2(seeds: list[int], trials: dict, search_trials: int) -> list[float | None]:
    """(a) reaches (b)'s best validation accuracy with <= 40% of (b)'s compute."""
    shares: list[float | None] = []
    for s in seeds:
        target = best(trials["b", s]).value
        reached = epochs_to_reach(trials["a", s], target)  # type: ignore[arg-type]
        b_epochs = sum(t.epochs for t in trials["b", s])
        shares.append(None if reached is None else reached / b_epochs)
    met = sum(x is not None and x <= 0.4 for x in shares)
    shown = ", ".join("never" if x is None else f"{x:.2f}" for x in shares)
    print(
        f"goal 2, (a) reaches (b)'s best val with <= 40% of (b)'s compute: share per seed "
        f"[{shown}] (within {search_trials} trials of (a)); met on {met}/{len(seeds)} seeds"
    )
    return shares


def replay_all(seeds: list[int], trials: dict, epochs: int) -> dict[str, list]:
    """Short-horizon bias: pruners replayed over the unpruned searches' full curves."""
    print("\npruners replayed over the full curves of (b) and (c), per search:")
    print(f"{'pruner':12s} {'kills winner':>12s} {'top-5 killed':>12s} {'epochs kept':>11s}")
    replays = {}
    for name in REPLAYED:
        results = [replay(trials[m, s], name, epochs) for m in ("b", "c") for s in seeds]
        replays[name] = results
        print(
            f"{name:12s} {sum(r[0] for r in results):>5d} of {len(results):<4d}"
            f" {statistics.fmean(r[1] for r in results):12.2f}"
            f" {statistics.fmean(r[2] for r in results):11.2f}"
        )
    return replays


if __name__ == "__main__":
    main()
