"""Trials per hour with K worker processes sharing one device (``--per-device K``).

Small CNNs leave most of a GPU idle, so packing K trials on one device should raise trials/hour
until the device is busy. Real training trials through the real fleet (`run_fleet`), on a
fresh SQLite study per K; throughput from the first trial's start to the last one's end (process
start-up excluded). Ratios are against K=1 measured in the same run. Without a GPU it runs on
the CPU and says so (there K is bounded by the cores).

    .venv/bin/python bench/gpu_packing.py [--device cuda:0] [--ks 1,2,4] [--trials 24]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import optuna
import torch

from schedsearch.core.spec import StudySpec
from schedsearch.store import Store
from schedsearch.worker.fleet import run_fleet
from schedsearch.worker.loop import WorkerOptions

from common import commit, header


def measure(
    device: str, k: int, trials: int, dataset: str, model: str, epochs: int, folder: Path
) -> dict[str, float]:
    url = f"sqlite:///{folder / f'packing-{k}.db'}"
    store = Store(url)
    spec = StudySpec(
        name=f"pack{k}",
        dataset=dataset,
        model=model,
        epochs=epochs,
        n_trials=trials,
        pruner="none",
        sampler="random",
        batch_size=128,
    )
    study = store.studies.create(spec)
    started = time.perf_counter()
    codes = run_fleet(
        url, {}, WorkerOptions(study=spec.name, poll=0.05, seed_index=0), [device], per_device=k
    )
    wall = time.perf_counter() - started
    if any(codes):
        raise SystemExit(f"K={k}: worker exit codes {codes}")
    done = [t for t in store.trials.all(study) if t.state == optuna.trial.TrialState.COMPLETE]
    if len(done) != trials:
        raise SystemExit(f"K={k}: {len(done)} of {trials} trials completed")
    first = min(t.datetime_start for t in done)
    last = max(t.datetime_complete for t in done)
    span = (last - first).total_seconds()
    mean = sum((t.datetime_complete - t.datetime_start).total_seconds() for t in done) / trials
    return {
        "k": k,
        "trials_per_hour": 3600 * trials / span,
        "span_s": span,
        "wall_s": wall,
        "mean_trial_s": mean,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default_device = "cuda:0" if torch.cuda.is_available() else "cpu"
    parser.add_argument("--device", default=default_device)
    parser.add_argument("--ks", default="1,2,4" if default_device != "cpu" else "1,2")
    parser.add_argument("--trials", type=int, default=24)
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--model", default="cnn-medium")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    where = (
        torch.cuda.get_device_name(args.device)
        if args.device.startswith("cuda")
        else f"CPU ({os.cpu_count()} cores; no GPU here: K is bounded by the cores)"
    )
    header("GPU packing: trials per hour with K worker processes per device")
    print(
        f"device: {where}; torch {torch.__version__}; {args.dataset}/{args.model}, "
        f"{args.epochs} epochs, {args.trials} trials per K"
    )
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for k in (int(x) for x in args.ks.split(",")):
            results.append(
                measure(
                    args.device, k, args.trials, args.dataset, args.model, args.epochs, Path(folder)
                )
            )
    base = results[0]["trials_per_hour"]
    print(f"\n{'K':>3}{'trials/hour':>14}{'vs K=1':>9}{'mean trial s':>14}{'span s':>9}")
    for r in results:
        print(
            f"{r['k']:>3}{r['trials_per_hour']:>14.0f}{r['trials_per_hour'] / base:>9.2f}"
            f"{r['mean_trial_s']:>14.2f}{r['span_s']:>9.1f}"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps({"commit": commit(), "device": where, "results": results}, indent=2)
        )


if __name__ == "__main__":
    main()
