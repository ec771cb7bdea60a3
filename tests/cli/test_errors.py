"""The command line's answers to bad input and to an unreachable service: one line, no
traceback, the right exit code (nothing is trained, nothing is served)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from schedsearch.cli import main
from tests.processes import EXE, cli, free_port


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--epochs", "0"], "epochs: Input should be greater than or equal to 1"),
        (["--dataset", "imagenet"], "unknown dataset 'imagenet'"),
        (["--model", "vgg"], "unknown model 'vgg'"),
        (["--families", "cosine,bogus"], "families[1]: unknown family 'bogus'"),
        (
            ["--space", '{"cosine": {"eta_min": {"low": 0.5, "high": 0.1}}}'],
            "space.cosine.eta_min: low 0.5 is above high 0.1",
        ),
        (["--space", '{"base_lr": -1}'], "space.base_lr"),
        (["--rerun-top-k", "5"], "rerun_top_k (5) is more than n_trials (1)"),
        (["--pruner", "decay"], "pruner"),
        (["--budget", "0"], "budget_epochs: Input should be greater than or equal to 1"),
        (["--label-noise", "1.5"], "label_noise: Input should be less than 1"),
        (["--range-test", "--space", '{"base_lr": "x"}'], "space.base_lr"),
        (["--space", "{not json"], "--space: not valid JSON"),
        (["--optimizer", "sgdd"], "optimizer"),
        (["--trials", "many"], "Invalid value for '--trials'"),
        (["--colour", "blue"], "No such option"),
        (["--dataset", "cifar10"], "dataset 'cifar10' is not in"),
        (["--spec", "missing.yaml"], "--spec: no such file missing.yaml"),
        (["--device", "cuda:0"], "CUDA is not available"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    words: str,
) -> None:
    """The real entry point, in this process (each case would otherwise pay a torch import)."""
    if "cuda:0" in args and torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SCHEDSEARCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SCHEDSEARCH_DATABASE_URL", raising=False)
    monkeypatch.setattr(
        sys, "argv", ["schedsearch", "run", "--trials", "1", "--epochs", "1", "--quiet", *args]
    )
    with pytest.raises(SystemExit) as exited:
        main()
    stderr = capsys.readouterr().err
    assert exited.value.code == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    assert words in lines[0], lines[0]
    assert not (tmp_path / "schedsearch.db").exists()  # refused before anything was made


@pytest.mark.parametrize(
    ("args", "words"),
    [(["--epochs", "0"], "epochs: Input should be"), (["--trials", "many"], "Invalid value")],
)
def test_the_installed_command_answers_bad_input_the_same(
    tmp_path: Path, args: list[str], words: str
) -> None:
    done = cli("run", *args, cwd=tmp_path, timeout=120)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stderr.count("\n") == 1 and words in done.stderr, done.stderr


def test_unreachable_service_is_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "SCHEDSEARCH_API_URL": f"http://127.0.0.1:{free_port()}"}
    done = subprocess.run([EXE, "status", "x"], capture_output=True, text=True, env=env)
    assert done.returncode == 1 and "cannot reach" in done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


@pytest.mark.parametrize("study", ["x/trials", "../healthz", "a b", "x?limit=1"])
@pytest.mark.parametrize("command", ["status", "best"])
def test_a_study_argument_cannot_reach_another_route(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: str, study: str
) -> None:
    """Refused before any request (the service is not even reachable here)."""
    monkeypatch.setenv("SCHEDSEARCH_API_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setattr(sys, "argv", ["schedsearch", command, study])
    with pytest.raises(SystemExit) as exited:
        main()
    stderr = capsys.readouterr().err
    assert exited.value.code == 2 and len(stderr.strip().splitlines()) == 1, stderr
    assert "is not a study id or name" in stderr and "cannot reach" not in stderr
