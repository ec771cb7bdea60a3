"""bench/search_quality.py (its tasks and bookkeeping in quality_tasks.py, its methods in
quality_methods.py) and bench/stats.py: the statistics on known numbers, the bookkeeping
(incumbents, compute, salted seeds), determinism of the jobs, and one tiny end-to-end run that
checks its own reproducibility."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import stats  # noqa: E402

from schedsearch.core.folklore import RECIPES  # noqa: E402
from schedsearch.search.rerun import fresh_seeds  # noqa: E402

import quality_methods as methods  # noqa: E402
import quality_tasks as sq  # noqa: E402

TINY = replace(sq.PRESETS["custom"], epochs=1, runs=6)


def test_paired_difference_interval_wilcoxon_and_wins() -> None:
    result = stats.paired([0.9, 0.8, 0.7, 0.6], [0.8, 0.8, 0.6, 0.7])
    assert result["mean"] == pytest.approx(0.025)
    assert (result["wins"], result["ties"], result["losses"]) == (2, 1, 1)
    low, high = result["ci95"]
    assert low < result["mean"] < high
    half = 3.182446305 * result["sd"] / 2  # t_{0.975, 3} * sd / sqrt(4)
    assert high - result["mean"] == pytest.approx(half, rel=1e-6)
    assert 0.0 < result["wilcoxon_p"] <= 1.0
    assert stats.paired([0.5, 0.5], [0.5, 0.5])["wilcoxon_p"] == 1.0  # all ties: no error


def test_goals_grid_unknown_and_sample_size() -> None:
    scores = {
        "default": [0.95, 0.96, 0.94],
        "default-half": [0.93, 0.95, 0.93],
        "grid-low": [0.90, 0.91, 0.90],
        "grid-mid": [0.95, 0.95, 0.94],
        "grid-high": [0.94, 0.94, 0.93],
        "random": [0.90, 0.92, 0.91],
    }
    report = stats.task_report(scores, {m: [96.0] * 3 for m in scores})
    assert report["best_placement"] == "grid-mid"
    unknown = report["methods"]["grid-unknown"]["per_seed"]
    assert unknown[0] == pytest.approx((0.90 + 0.95 + 0.94) / 3)
    goals = {g["goal"].split(":")[0]: g for g in report["goals"]}
    assert set(goals) == {
        "non-inferior to the best grid placement (grid-mid)",
        "better than grid-unknown",
        "better than random",
        "at half the compute within 0.01 of the best placement (grid-mid)",
    }
    assert all(g["met"] == (g["value"] >= g["target"]) for g in goals.values())
    sd = report["vs_default"]["grid-mid"]["sd"]
    assert report["sample_size"]["seeds"] == math.ceil((2.8 * sd / 0.005) ** 2)
    assert "| default |" in stats.markdown("T", report, ["a note"])


def test_incumbents_follow_the_order_and_count_every_epoch() -> None:
    a, b, c = (sq.Config.of(RECIPES[n], 0.1) for n in ("constant", "cosine", "linear"))
    steps = [sq.Step(6.0), sq.Step(4, 0.5, a), sq.Step(1, None, b), sq.Step(4, 0.9, c)]
    out = sq.outcome(steps, budget=40)
    assert out.epochs == 15 and out.pick == c and out.runs == 3
    assert out.at == {0.25: a, 0.5: c}  # at 10 epochs only a had finished; at 20, c
    assert sq.outcome(steps, budget=40, pick=b).pick == b  # a method's own pick wins
    # folklore-usual: the best mean over seeds, not the best single run
    noisy = [sq.Step(1, 0.9, a), sq.Step(1, 0.8, b), sq.Step(1, 0.5, a), sq.Step(1, 0.8, b)]
    assert sq.best_mean(noisy) == b


def test_retrain_seeds_are_salted_apart() -> None:
    for seed in range(20):
        retrain = sq.retrain_seeds(seed)
        assert len(set(retrain)) == 3 and seed not in retrain
        assert not set(retrain) & set(fresh_seeds(seed, 10))  # the product's re-runs
        assert not set(retrain) & set(sq.salted("bench-folklore", seed, 3))


def test_jobs_are_deterministic_and_keep_to_the_budget() -> None:
    first, second = methods.optuna_job(TINY, 3), methods.optuna_job(TINY, 3)
    assert first == second
    assert first.epochs <= TINY.budget
    free = sq.Config.of(sq.FREE, 0.05)
    assert methods.retrain_job(TINY, 3, free) == methods.retrain_job(TINY, 3, free)


@pytest.mark.slow
def test_a_tiny_run_end_to_end_reproduces_itself(tmp_path: Path) -> None:
    out = tmp_path / "sq.json"
    command = [sys.executable, str(ROOT / "bench" / "search_quality.py"), "--task", "custom"]
    command += ["--epochs", "1", "--budget-runs", "8", "--seeds", "2", "--check-repro"]
    command += ["--out", str(out)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(out.read_text())
    assert report["reproducibility"]["identical"] is True
    custom = report["custom"]
    assert set(custom["methods"]) == {*sq.ALL, "grid-unknown"}
    assert len(custom["goals"]) == 7
    assert (tmp_path / "sq_custom.png").exists()
    assert "| goal | value | target | met |" in done.stdout


def test_compare_runs_pairs_seed_by_seed_and_refuses_runs_that_do_not_pair() -> None:
    import compare_runs

    task = {"name": "T1", "epochs": 4, "methods": ["default"]}

    def run(commit: str, scores: list[float], seeds: list[int], epochs: int = 4) -> dict:
        setup = {**task, "epochs": epochs}
        per_seed = {"methods": {"default": {"per_seed": scores}}}
        return {"commit": commit, "seeds": seeds, "tasks": {"T1": setup}, "T1": per_seed}

    before = run("a", [0.90, 0.91, 0.92, 0.93], [0, 1, 2, 3])
    after = run("b", [0.92, 0.92, 0.92, 0.95], [0, 1, 2, 3])
    line = compare_runs.compare(before, after, "T1", "default")
    assert "after - before +0.0125" in line and "wins/ties/losses 3/1/0, 4 seeds" in line
    with pytest.raises(SystemExit, match="different seeds"):
        compare_runs.compare(before, run("b", [0.9] * 4, [4, 5, 6, 7]), "T1", "default")
    with pytest.raises(SystemExit, match="T1 differs"):
        compare_runs.compare(before, run("b", [0.9] * 4, [0, 1, 2, 3], epochs=8), "T1", "default")
    with pytest.raises(SystemExit, match="no T1/random"):
        compare_runs.compare(before, after, "T1", "random")


def test_compare_runs_pools_runs_over_other_seeds(tmp_path: Path) -> None:
    import compare_runs

    def write(
        name: str, commit: str, scores: list[float], seeds: list[int], epochs: int = 25
    ) -> Path:
        run = {
            "commit": commit,
            "seeds": seeds,
            "tasks": {"T2": {"name": "T2", "epochs": epochs}},
            "T2": {"methods": {"default": {"per_seed": scores}}},
        }
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(run))
        return path

    b1, b2 = write("b1", "a", [0.90, 0.91], [0, 1]), write("b2", "a", [0.92, 0.93], [2, 3])
    a1, a2 = write("a1", "b", [0.92, 0.92], [0, 1]), write("a2", "b", [0.92, 0.95], [2, 3])
    before, after = compare_runs.pooled([b1, b2]), compare_runs.pooled([a1, a2])
    assert before["seeds"] == [0, 1, 2, 3]
    line = compare_runs.compare(before, after, "T2", "default")
    assert "after - before +0.0125" in line and "3/1/0, 4 seeds" in line
    with pytest.raises(SystemExit, match="a seed appears in two runs"):
        compare_runs.pooled([b1, b1])
    with pytest.raises(SystemExit, match="of different commits"):
        compare_runs.pooled([b1, a2])
    other_task = write("b3", "a", [0.9, 0.9], [4, 5], epochs=8)
    with pytest.raises(SystemExit, match="T2 differs between the runs of one side"):
        compare_runs.pooled([b1, other_task])
