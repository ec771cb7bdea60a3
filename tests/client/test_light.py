"""The client without a service: it loads no torch, reads the agent's trial from the
environment, and builds the trainer's own scheduler for a leased trial."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from schedsearch.client import Client, LeasedTrial, NoTrial, current_trial
from schedsearch.client import trial as trial_module
from schedsearch.engine.schedulers import build_scheduler


def answer(family: str = "cosine", params: dict | None = None, **trial: object) -> dict:
    """A lease answer as the service gives it (docs/leases.md)."""
    return {
        "outcome": "trial",
        "lease": {"id": "abc_DEF-123", "expires_at": "2030-01-01T00:00:00Z", "seconds": 120},
        "trial": {
            "study": "mine",
            "study_id": 1,
            "number": 4,
            "schedule": {"family": family, "params": params or {}},
            "base_lr": 0.1,
            "optimizer": {"name": "sgd", "weight_decay": 5e-4, "momentum": 0.9},
            "epochs": 3,
            "batch_size": 64,
            "metric": "val_accuracy",
            "direction": "maximize",
            "code": "...",
            **trial,
        },
    }


def test_importing_the_client_loads_no_torch() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import schedsearch.client, sys; from schedsearch.client import current_trial, "
            "Client, TrialPruned; assert 'torch' not in sys.modules, 'torch'; "
            "assert 'optuna' not in sys.modules and 'sqlalchemy' not in sys.modules",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def test_the_scheduler_is_the_trainers() -> None:
    params = {"warmup": 0.1, "eta_min": 0.01}
    leased = LeasedTrial(Client("http://127.0.0.1:9", ""), answer("cosine", params))
    assert leased.config == {"family": "cosine", **params}
    assert (leased.number, leased.epochs, leased.base_lr, leased.id) == (4, 3, 0.1, "abc_DEF-123")
    lrs = []
    for schedule in ("leased", "trainer"):
        optimizer = torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=leased.base_lr)
        if schedule == "leased":
            scheduler = leased.scheduler(optimizer, 30, 10)
        else:
            scheduler = build_scheduler(optimizer, leased.config, 30, 10)
        seen = []
        for _ in range(30):
            optimizer.step()
            scheduler.step()
            seen.append(scheduler.get_last_lr()[0])
        lrs.append(seen)
    assert lrs[0] == lrs[1] and lrs[0][0] != lrs[0][-1]


def test_plateau_listens_to_epoch_end_in_the_studys_direction() -> None:
    params = {"factor": 0.5, "patience": 0, "threshold": 0.0}
    leased = LeasedTrial(
        Client("http://127.0.0.1:9", ""),
        answer("plateau", params, metric="val_loss", direction="minimize"),
    )
    assert leased.config["mode"] == "min"
    optimizer = torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=0.1)
    scheduler = leased.scheduler(optimizer, 30, 10)
    for loss in (1.0, 0.5, 0.7):  # better, then worse: one reduction
        for _ in range(10):
            optimizer.step()
            scheduler.step()
        leased.epoch_end(loss)
    assert scheduler.get_last_lr()[0] == pytest.approx(0.05)


def test_a_scheduler_on_another_lr_is_warned_about() -> None:
    leased = LeasedTrial(Client("http://127.0.0.1:9", ""), answer())
    optimizer = torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=0.5)
    with pytest.warns(UserWarning, match="not the trial's base_lr"):
        leased.scheduler(optimizer, 30, 10)


def test_current_trial_is_the_one_the_agent_handed_over(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trial_module, "_current", None)
    monkeypatch.setenv("SCHEDSEARCH_TRIAL", json.dumps(answer()))
    monkeypatch.setenv("SCHEDSEARCH_API_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("SCHEDSEARCH_API_TOKEN", "agents-token")
    leased = current_trial()
    assert current_trial() is leased and current_trial("other-study") is leased
    assert leased.number == 4 and leased.client.url == "http://127.0.0.1:9"
    assert leased.client.token == "agents-token"


def test_current_trial_without_an_agent_or_a_study(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trial_module, "_current", None)
    monkeypatch.delenv("SCHEDSEARCH_TRIAL", raising=False)
    with pytest.raises(NoTrial, match="SCHEDSEARCH_TRIAL is unset"):
        current_trial()
    monkeypatch.setenv("SCHEDSEARCH_TRIAL", '{"lease": 1}')
    with pytest.raises(NoTrial, match="SCHEDSEARCH_TRIAL: not a leased trial"):
        current_trial()


def test_a_lease_id_cannot_reach_another_route() -> None:
    client = Client("http://127.0.0.1:9", "")
    with pytest.raises(ValueError, match="is not a lease id"):
        client.heartbeat("../studies/1")
