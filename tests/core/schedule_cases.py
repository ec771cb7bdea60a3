"""Schedule configs and run lengths shared by the closed-form tests (``core``) and the torch
scheduler tests (``engine``): every family, with and without warm-up."""

from __future__ import annotations

BASE_LR = 0.1
LENGTHS = [(1, 1), (2, 1), (7, 1), (5, 20), (30, 11)]  # (epochs, steps_per_epoch)

CONFIGS = [
    {"family": "constant"},
    {"family": "step"},
    {"family": "step", "step_size": 0.2, "gamma": 0.5},
    {"family": "multistep"},
    {"family": "multistep", "milestones": [0.3, 0.6, 0.9], "gamma": 0.3},
    {"family": "exponential", "final_factor": 0.05},
    {"family": "linear"},
    {"family": "linear", "end_factor": 0.1},
    {"family": "polynomial", "power": 0.5, "end_factor": 0.05},
    {"family": "polynomial", "power": 2.0},
    {"family": "cosine"},
    {"family": "cosine", "eta_min": 0.05},
    {"family": "cosine_restarts", "first_period": 0.2, "t_mult": 1, "eta_min": 0.01},
    {"family": "cosine_restarts", "first_period": 0.1, "t_mult": 2},
    {"family": "cosine_restarts", "first_period": 0.2, "t_mult": 1, "eta_min": 0.01, "m_mul": 0.5},
    {"family": "cosine_restarts", "first_period": 0.1, "t_mult": 2, "m_mul": 0.7},
    {"family": "cyclic", "mode": "triangular", "half_cycle": 0.1},
    {"family": "cyclic", "mode": "triangular2", "half_cycle": 0.05, "min_factor": 0.2},
    {"family": "cyclic", "mode": "exp_range", "half_cycle": 0.1, "amplitude_decay": 0.1},
    {"family": "one_cycle"},
    {"family": "one_cycle", "pct_start": 0.4, "anneal": "linear", "div_factor": 10.0},
    {"family": "one_cycle", "pct_start": 0.5},  # a one-step rise at 2 steps: torch divides by 0
    {"family": "plateau"},
    {"family": "wsd"},
    {"family": "wsd", "shape": "linear", "decay": 0.3, "end_factor": 0.1},
    {"family": "wsd", "shape": "cosine", "decay": 0.5},
    {"family": "wsd", "shape": "1-sqrt", "decay": 0.1, "end_factor": 0.05},
    {"family": "schedule_free", "warmup": 0.0},  # its optimizer: tests/engine/test_train.py
]
WARMED = [{**c, "warmup": 0.1} for c in CONFIGS] + [{"family": "cosine", "warmup": 0.35}]


def ids(config: dict) -> str:
    return "-".join(f"{v}" for v in config.values())
