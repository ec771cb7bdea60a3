"""Statistics, goals, the markdown table and the anytime plot of ``search_quality.py``.

Fixed before the run (the issue's analysis plan), so no figure is chosen after seeing the data:
per method, the mean and sd over seeds of its pick's mean retrained test accuracy; per
baseline, the paired difference (default - baseline) per seed with a 95% t interval, a Wilcoxon
signed-rank p and the win count; seven goals, each met when ``value >= target``; and the sample
size that a pilot's spread implies for a 0.005 effect.
"""

from __future__ import annotations

import math
import statistics
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

GRIDS = ("grid-low", "grid-mid", "grid-high")
# (goal text, baseline): value = lower 95% bound of (default - baseline), target 0.
BETTER_THAN = ("grid-unknown", "folklore-usual", "random", "optuna", "schedulefree")
NON_INFERIORITY = -0.005  # goal 1's margin against the best grid placement
HALF_MARGIN = -0.01  # goal 7: default-half within 0.01 of the best placement
EFFECT = 0.005  # the effect the sample-size line plans for
Z_SUM = 2.8  # z_{0.975} + z_{0.80}: a two-sided 5% test with 80% power


def mean_sd(values: Sequence[float]) -> tuple[float, float]:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return statistics.fmean(values), sd


def paired(default: Sequence[float], baseline: Sequence[float]) -> dict[str, Any]:
    """default - baseline, seed by seed: mean, 95% t interval, Wilcoxon p, wins/ties/losses."""
    from scipy import stats

    diffs = [a - b for a, b in zip(default, baseline, strict=True)]
    n = len(diffs)
    mean, sd = mean_sd(diffs)
    low = high = None
    if n > 1:
        half = float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
        low, high = mean - half, mean + half
    p: float | None = None
    if n and all(d == 0 for d in diffs):
        p = 1.0  # no difference on any seed; scipy refuses all-zero input
    elif n:
        try:
            with warnings.catch_warnings():  # ties: scipy says it falls back to the normal
                warnings.simplefilter("ignore")  # approximation, which is what we report
                p = float(stats.wilcoxon(diffs, zero_method="zsplit").pvalue)
        except ValueError:
            p = None
    return {
        "n": n,
        "mean": mean,
        "sd": sd,
        "ci95": [low, high],
        "wilcoxon_p": p,
        "wins": sum(d > 0 for d in diffs),
        "ties": sum(d == 0 for d in diffs),
        "losses": sum(d < 0 for d in diffs),
        "per_seed": diffs,
    }


def goals(
    scores: Mapping[str, Sequence[float]], vs: Mapping[str, dict[str, Any]], best: str | None
) -> list[dict[str, Any]]:
    """The issue's goals, those whose methods ran; met when value >= target."""
    out = []

    def goal(text: str, value: float | None, target: float) -> None:
        if value is not None:
            out.append({"goal": text, "value": value, "target": target, "met": value >= target})

    if best is not None and best in vs:
        goal(
            f"non-inferior to the best grid placement ({best}): lower 95% bound of "
            "default - best placement",
            vs[best]["ci95"][0],
            NON_INFERIORITY,
        )
    for baseline in BETTER_THAN:
        if baseline in vs:
            goal(
                f"better than {baseline}: lower 95% bound of default - {baseline}",
                vs[baseline]["ci95"][0],
                0.0,
            )
    if best is not None and "default-half" in scores:
        goal(
            f"at half the compute within 0.01 of the best placement ({best}): "
            "mean(default-half) - mean(best placement)",
            statistics.fmean(scores["default-half"]) - statistics.fmean(scores[best]),
            HALF_MARGIN,
        )
    return out


def sample_size(sd_diff: float, effect: float = EFFECT) -> int:
    """Seeds for a paired test to detect ``effect`` (5% two-sided, 80% power)."""
    return math.ceil((Z_SUM * sd_diff / effect) ** 2)


def best_placement(scores: Mapping[str, Sequence[float]]) -> str | None:
    """The grid placement with the best mean over seeds, among those that ran."""
    placed = [g for g in GRIDS if g in scores]
    return max(placed, key=lambda g: statistics.fmean(scores[g])) if placed else None


def task_report(
    scores: Mapping[str, Sequence[float]], epochs: Mapping[str, Sequence[float]]
) -> dict[str, Any]:
    """Everything the issue asks per task, from per-seed scores (same seed order throughout)."""
    scores = dict(scores)
    if all(g in scores for g in GRIDS):  # a grid whose placement is not known in advance
        scores["grid-unknown"] = [
            statistics.fmean(s) for s in zip(*(scores[g] for g in GRIDS), strict=True)
        ]
        epochs = {**epochs, "grid-unknown": epochs["grid-mid"]}
    best = best_placement(scores)
    methods = {}
    for name, values in scores.items():
        mean, sd = mean_sd(values)
        methods[name] = {
            "mean": mean,
            "sd": sd,
            "epochs": statistics.fmean(epochs[name]),
            "per_seed": list(values),
        }
    vs = {}
    if "default" in scores:
        vs = {m: paired(scores["default"], v) for m, v in scores.items() if m != "default"}
    report: dict[str, Any] = {
        "methods": methods,
        "vs_default": vs,
        "best_placement": best,
        "goals": goals(scores, vs, best),
    }
    if best is not None and best in vs and vs[best]["n"] > 1:
        sd = vs[best]["sd"]
        report["sample_size"] = {
            "effect": EFFECT,
            "sd_diff": sd,
            "seeds": sample_size(sd),
            "formula": "n ~ (2.8 sd_diff / effect)^2, sd_diff of default - best placement",
        }
    return report


def _num(value: float | None, digits: int = 4, sign: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"


def markdown(title: str, report: dict[str, Any], notes: Sequence[str]) -> str:
    """One task's table, goals and notes, ready for bench/RESULTS.md."""
    lines = [
        f"### {title}",
        "",
        "| method | epochs used | test acc, mean | sd | default - method | 95% CI "
        "| Wilcoxon p | default wins/ties/losses |",
        "| --- | ---: | ---: | ---: | ---: | --- | ---: | --- |",
    ]
    for name, m in report["methods"].items():
        v = report["vs_default"].get(name)
        mark = " (best placement)" if name == report["best_placement"] else ""
        if v is None:
            tail = "| | | | |"
        else:
            low, high = v["ci95"]
            tail = (
                f"| {_num(v['mean'], sign=True)} | [{_num(low, sign=True)}, "
                f"{_num(high, sign=True)}] | {_num(v['wilcoxon_p'], 3)} "
                f"| {v['wins']}/{v['ties']}/{v['losses']} |"
            )
        lines.append(f"| {name}{mark} | {m['epochs']:.1f} | {m['mean']:.4f} | {m['sd']:.4f} {tail}")
    if report["goals"]:
        lines += ["", "| goal | value | target | met |", "| --- | ---: | ---: | --- |"]
        for g in report["goals"]:
            met = "yes" if g["met"] else "**no**"
            lines.append(f"| {g['goal']} | {g['value']:+.4f} | {g['target']:+.3f} | {met} |")
    if "sample_size" in report:
        s = report["sample_size"]
        lines += [
            "",
            f"Sample size for a {s['effect']} effect: sd of default - best placement "
            f"{s['sd_diff']:.4f} -> n ~ (2.8 x {s['sd_diff']:.4f} / {s['effect']})^2 = "
            f"{s['seeds']} seeds.",
        ]
    lines += ["", *(f"- {note}" for note in notes)]
    return "\n".join(lines)


def plot(
    title: str, curves: Mapping[str, Sequence[tuple[float, float]]], budget: float, path: Path
) -> None:
    """Best-so-far retrained test accuracy against epochs spent, one line per method."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 5), layout="constrained")
    axes = figure.subplots()
    for name, points in curves.items():
        if not points:
            continue
        xs, ys = zip(*points, strict=True)
        style = "-" if name.startswith("default") else "--"
        axes.plot(xs, ys, style, marker="o", label=name, linewidth=2.5 if name == "default" else 1)
    for q in (0.25, 0.5, 1.0):
        axes.axvline(q * budget, color="0.85", linewidth=0.8, zorder=0)
    axes.set_xlabel("epochs spent (search, range tests and re-runs)")
    axes.set_ylabel("retrained test accuracy of the incumbent (mean over seeds)")
    axes.set_title(title, fontsize=10)
    axes.legend(fontsize=8)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
