"""What the search-quality benchmark (search_quality.py) compares, and how it keeps count: the
tasks, the configs a method hands over, the compute it spends (``Step``), its pick and incumbents
(``Outcome``), and the salted seeds no method sees. Shared by the methods (quality_methods.py),
the runner and the other benchmarks that borrow its tasks."""

from __future__ import annotations

import hashlib
import json
import statistics
import warnings
from dataclasses import dataclass, field
from typing import Any

import torch

from schedsearch.core.folklore import RECIPES
from schedsearch.core.schedules import ScheduleBase, ScheduleFree, parse_schedule
from schedsearch.core.spec import StudySpec
from schedsearch.engine.data import TensorData, load_dataset
from schedsearch.engine.train import TrainConfig

RUNS = 24  # the folklore grid: 6 recipes x 4 LRs
GRIDS = {"grid-low": (0.01, 0.03, 0.1, 0.3), "grid-mid": (0.03, 0.1, 0.3, 1.0)}
GRIDS["grid-high"] = (0.1, 0.3, 1.0, 3.0)
LR_SCALE = {"sgd": 1.0, "adamw": 1e-2}  # AdamW's LRs: SGD's grid and Optuna range x 1e-2
RECOMMENDED = RECIPES["warmup_cosine"]  # 5% linear warm-up, cosine to 0, at USUAL_LR
SF_FACTORS = (1 / 3, 1.0, 3.0, 10.0)
SF_WARMUP = 0.05
CHECKPOINTS = (0.25, 0.5)  # of B; the final point is each method's pick at its own compute
ALL = ("default", "default-half", *GRIDS, "folklore-usual", "recommended", "random", "optuna")
ALL += ("schedulefree",)
NEEDS: dict[str, tuple[str, ...]] = {m: (m,) for m in ALL}  # the jobs a method needs
NEEDS |= {g: ("grid",) for g in (*GRIDS, "recommended")}
NEEDS["folklore-usual"] = ("grid", "folklore")  # the grid job has its study-seed runs
# Schedule-free SGD (AdamW) with the package's 5% warm-up: the product's own family, here at
# its defaults (momentum 0.9; BatchNorm re-estimated at the evaluation weights).
FREE = ScheduleFree(warmup=SF_WARMUP)


@dataclass(frozen=True)
class Task:
    """What one search is about; B = ``runs`` x ``epochs``."""

    name: str
    dataset: str = "digits"
    model: str = "cnn-small"
    optimizer: str = "sgd"
    epochs: int = 4
    label_noise: float = 0.0
    augment: bool = True
    runs: int = RUNS
    methods: tuple[str, ...] = ALL

    @property
    def budget(self) -> int:
        return self.runs * self.epochs

    def spec(self, seed: int, name: str | None = None, **changes: Any) -> StudySpec:
        return StudySpec(
            name=name,
            dataset=self.dataset,
            model=self.model,
            epochs=self.epochs,
            optimizer=self.optimizer,
            augment=self.augment,
            seed=seed,
            label_noise=self.label_noise,
            **changes,
        )

    def config(self, seed: int) -> TrainConfig:
        return TrainConfig.of(self.spec(seed))

    def data(self, seed: int) -> TensorData:
        return load_dataset(self.dataset, "cpu", seed, label_noise=self.label_noise)

    def lrs(self, grid: str) -> tuple[float, ...]:
        return tuple(float(f"{lr * LR_SCALE[self.optimizer]:.6g}") for lr in GRIDS[grid])


PRESETS = {
    "T1": Task("T1"),
    "T2": Task("T2", epochs=25, label_noise=0.4, augment=False),
    "T1-adamw": Task("T1-adamw", optimizer="adamw", methods=("default", *GRIDS)),
    "custom": Task("custom"),
}


@dataclass(frozen=True)
class Config:
    """A config a method hands over: its schedule as canonical JSON and base LR. Equal configs
    are trained once per seed (``retrain`` caches)."""

    schedule: str
    base_lr: float

    @classmethod
    def of(cls, schedule: ScheduleBase | dict[str, Any], base_lr: float) -> Config:
        parsed = parse_schedule(schedule) if isinstance(schedule, dict) else schedule
        return cls(json.dumps(parsed.model_dump(mode="json"), sort_keys=True), float(base_lr))

    def label(self) -> str:
        """``family@lr``, with ``+w`` and the warm-up share where there is one."""
        schedule = json.loads(self.schedule)
        warmup = f"+w{schedule['warmup']:.2g}" if schedule.get("warmup") else ""
        return f"{schedule['family']}{warmup}@{self.base_lr:.3g}"


@dataclass(frozen=True)
class Step:
    """Compute spent in one go (a run, a pruned trial, a range test) and the candidate it
    offers: ``value`` is its validation accuracy, None when it offers none."""

    epochs: float
    value: float | None = None
    config: Config | None = None


@dataclass
class Outcome:
    """One method on one seed: its pick, compute used, and incumbents at the checkpoints."""

    pick: Config
    epochs: float
    at: dict[float, Config | None] = field(default_factory=dict)
    runs: int = 0  # runs trained (re-runs included)


def best_mean(steps: list[Step]) -> Config | None:
    """The candidate with the best mean validation accuracy (one value each, except
    folklore-usual's 4 seeds); ties go to the first in order."""
    values: dict[Config, list[float]] = {}
    for step in steps:
        if step.value is not None and step.config is not None:
            values.setdefault(step.config, []).append(step.value)
    return max(values, key=lambda c: statistics.fmean(values[c]), default=None)


def outcome(steps: list[Step], budget: float, pick: Config | None = None) -> Outcome:
    """A method's outcome from its steps in the order they ran (pick: best mean, unless the
    method says otherwise); the incumbent at a checkpoint is the best among the steps done by
    then, or the pick once the method has finished."""
    total = sum(s.epochs for s in steps)
    chosen = pick or best_mean(steps)
    assert chosen is not None, "no candidate at all"
    at: dict[float, Config | None] = {}
    for q in CHECKPOINTS:
        done, spent = [], 0.0
        for step in steps:
            spent += step.epochs
            if spent > q * budget:
                break
            done.append(step)
        at[q] = best_mean(done) if q * budget < total else chosen
    return Outcome(chosen, total, at, sum(s.config is not None for s in steps))


def salted(salt: str, seed: int, count: int) -> list[int]:
    """Training seeds no method saw: sha256 of ``salt/seed/i`` (the product's re-runs, which
    ``default`` runs, salt theirs differently; ``fresh_seeds`` is never called here)."""
    out: list[int] = []
    for i in range(count):
        digest = hashlib.sha256(f"{salt}/{seed}/{i}".encode()).digest()
        out.append(int.from_bytes(digest[:4], "little") % (2**31 - 1))
    return out


def retrain_seeds(seed: int) -> list[int]:
    return salted("bench-retrain", seed, 3)


def quiet() -> None:
    """Every job: one thread, no Optuna chatter."""
    import optuna

    torch.set_num_threads(1)
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
