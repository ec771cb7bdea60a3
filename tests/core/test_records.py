"""A trial's own facts, typed: ``TrialRecord`` written as Optuna user attributes and read back
(through a real Optuna study on a SQLite file, as workers and readers do)."""

from __future__ import annotations

import json
import math

import optuna
import pytest

from schedsearch.core.records import TrainMetrics, TrialRecord
from schedsearch.core.schedules import Cosine, parse_schedule

FULL = TrialRecord(
    schedule={"family": "cosine", "warmup": 0.05, "eta_min": 0.01},
    base_lr=0.2,
    metrics=TrainMetrics(train_loss=[2.3, 1.1, 0.4], seconds=1.5, images_per_s=1200.0),
    diverged=None,
    test_accuracy=0.93,
    rerun_of=4,
    seed=123,
    search_value=0.95,
)


@pytest.fixture
def url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'records.db'}"
    optuna.create_study(study_name="records", storage=url)
    return url


def stored(url: str, *records: TrialRecord) -> dict:
    """The user attributes a trial holds once ``records`` were written to it, read back from
    the database by a fresh handle (as another process would)."""
    study = optuna.load_study(study_name="records", storage=url)
    trial = study.ask()
    for record in records:
        record.write(trial)
    study.tell(trial, 0.5)
    return optuna.load_study(study_name="records", storage=url).trials[-1].user_attrs


def test_attrs_round_trip_through_a_real_trial(url: str) -> None:
    assert TrialRecord.of(FULL.attrs()) == FULL
    attrs = stored(url, FULL)
    assert TrialRecord.of(attrs) == FULL
    assert set(attrs) == {
        "schedule",
        "base_lr",
        "metrics",
        "test_accuracy",
        "rerun_of",
        "seed",
        "search_value",
    }  # what is unset (diverged) is not written at all


def test_metrics_are_one_json_string_and_a_nan_loss_survives(url: str) -> None:
    record = TrialRecord(metrics=TrainMetrics(train_loss=[2.0, float("nan")], seconds=0.5))
    attrs = record.attrs()
    assert isinstance(attrs["metrics"], str)
    assert json.loads(attrs["metrics"])["seconds"] == 0.5
    back = TrialRecord.of(stored(url, record)).metrics
    assert back is not None and back.train_loss[0] == 2.0 and math.isnan(back.train_loss[1])
    assert isinstance(stored(url, record)["metrics"], str)  # one attribute, not one per epoch


def test_records_written_in_turn_add_up(url: str) -> None:
    """The objective writes the schedule first, the training's outcome when it ends."""
    attrs = stored(
        url,
        TrialRecord(schedule=Cosine().model_dump(mode="json"), base_lr=0.1),
        TrialRecord(diverged="training loss became nan in epoch 1", metrics=TrainMetrics()),
    )
    record = TrialRecord.of(attrs)
    assert record.base_lr == 0.1 and record.family == "cosine"
    assert record.diverged == "training loss became nan in epoch 1"
    assert record.metrics == TrainMetrics()


def test_only_the_fields_that_are_set_are_written() -> None:
    assert TrialRecord(rerun_of=3, seed=5).attrs() == {"rerun_of": 3, "seed": 5}
    assert TrialRecord().attrs() == {}


def test_unknown_attrs_are_ignored() -> None:
    record = TrialRecord.of({"base_lr": 0.3, "colour": "blue", "failed_trial": 2})
    assert record == TrialRecord(base_lr=0.3)
    assert "colour" not in record.attrs() and not hasattr(record, "colour")


def test_config_raises_before_a_schedule_exists() -> None:
    empty = TrialRecord.of({})
    assert empty.family is None
    with pytest.raises(ValueError, match="no schedule yet"):
        empty.config()
    assert FULL.config() == parse_schedule(FULL.schedule)
    assert FULL.config() == Cosine(warmup=0.05, eta_min=0.01) and FULL.family == "cosine"


def test_records_are_frozen() -> None:
    with pytest.raises(ValueError):
        FULL.seed = 1  # type: ignore[misc]
