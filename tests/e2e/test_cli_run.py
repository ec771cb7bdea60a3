"""``schedsearch run`` as a user runs it: a real process, a real SQLite file."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
import torch

from schedsearch.store import Store
from tests.processes import cli

pytestmark = pytest.mark.slow


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
    store = Store(f"sqlite:///{tmp_path / 'schedsearch.db'}")
    study = optuna.load_study(study_name="demo", storage=store.optuna)
    assert len(study.trials) == 8
    spec = store.studies.get("demo").spec  # the spec is kept in our row, not in Optuna's
    assert spec.epochs == 4 and spec.name == "demo"


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
    study = optuna.load_study(study_name="two", storage=Store(url).optuna)
    states = [t.state for t in study.trials]
    assert len(states) == 7 and optuna.trial.TrialState.RUNNING not in states


def test_a_taken_name_is_refused_and_the_first_study_kept(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'names.db'}"
    args = ("run", "--trials", "1", "--epochs", "1", "--name", "dup", "--database-url", url)
    first = cli(*args, "--quiet", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    again = cli(*args, cwd=tmp_path)
    assert again.returncode == 2 and "a study named 'dup' exists already" in again.stderr
    study = optuna.load_study(study_name="dup", storage=Store(url).optuna)
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
    study = optuna.load_study(study_name="from-yaml", storage=Store(url).optuna)
    assert len(study.trials) == 3  # the flag overrides the file
    assert {t.user_attrs["schedule"]["family"] for t in study.trials} <= {"cosine", "step"}
