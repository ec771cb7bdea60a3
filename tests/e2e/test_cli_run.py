"""``schedsearch run`` as a user runs it: a real process, a real SQLite file."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
import torch

from schedsearch.cli import main
from schedsearch.store import optuna_storage

EXE = shutil.which("schedsearch", path=str(Path(sys.executable).parent)) or "schedsearch"


def cli(*args: str, cwd: Path, env: dict | None = None, timeout: int = 300):
    return subprocess.run(
        [EXE, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "SCHEDSEARCH_DATA_DIR": str(cwd / "data"), **(env or {})},
    )


def test_run_prints_a_working_best_schedule(tmp_path: Path) -> None:
    """The README's main job, scaled down: default database URL in the working directory."""
    done = cli(
        "run",
        "--dataset",
        "digits",
        "--trials",
        "8",
        "--epochs",
        "4",
        "--name",
        "demo",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "best: trial" in done.stdout and "base LR" in done.stdout
    assert (tmp_path / "schedsearch.db").exists()  # sqlite:///./schedsearch.db by default
    code = done.stdout[done.stdout.index("import torch") :]
    namespace: dict = {}
    exec(code, namespace)  # the printed snippet runs as it is
    optimizer = torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=0.1)
    built = namespace["make_scheduler"](optimizer, 100)
    assert built is not None
    study = optuna.load_study(
        study_name="demo", storage=optuna_storage(f"sqlite:///{tmp_path / 'schedsearch.db'}")
    )
    assert len(study.trials) == 8
    assert study.user_attrs["spec"]["epochs"] == 4 and study.user_attrs["spec"]["name"] == "demo"


def test_jobs_split_the_trials_exactly(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    done = cli(
        "run",
        "--trials",
        "7",
        "--epochs",
        "2",
        "--jobs",
        "2",
        "--name",
        "two",
        "--database-url",
        url,
        "--quiet",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    study = optuna.load_study(study_name="two", storage=optuna_storage(url))
    states = [t.state for t in study.trials]
    assert len(states) == 7 and optuna.trial.TrialState.RUNNING not in states


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


def test_a_taken_name_is_refused_and_the_first_study_kept(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'names.db'}"
    args = ("run", "--trials", "1", "--epochs", "1", "--name", "dup", "--database-url", url)
    first = cli(*args, "--quiet", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    again = cli(*args, cwd=tmp_path)
    assert again.returncode == 2 and "a study named 'dup' exists already" in again.stderr
    study = optuna.load_study(study_name="dup", storage=optuna_storage(url))
    assert len(study.trials) == 1


def test_spec_file_in_yaml_with_flags_on_top(tmp_path: Path) -> None:
    (tmp_path / "spec.yaml").write_text(
        "name: from-yaml\nepochs: 1\nn_trials: 2\nfamilies: [cosine, step]\n"
        "space:\n  cosine: {eta_min: 0.0}\n"
    )
    url = f"sqlite:///{tmp_path / 'yaml.db'}"
    done = cli(
        "run",
        "--spec",
        "spec.yaml",
        "--trials",
        "3",
        "--database-url",
        url,
        "--quiet",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    study = optuna.load_study(study_name="from-yaml", storage=optuna_storage(url))
    assert len(study.trials) == 3  # the flag overrides the file
    assert {t.user_attrs["schedule"]["family"] for t in study.trials} <= {"cosine", "step"}
