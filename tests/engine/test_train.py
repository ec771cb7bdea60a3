"""The trainer on real data (digits), on the CPU: it learns, is deterministic, and stops
diverging runs with a reason."""

from __future__ import annotations

import pytest
import torch

from schedsearch.core.schedules import Constant, Cosine
from schedsearch.core.spec import StudySpec
from schedsearch.engine.data import load_dataset
from schedsearch.engine.train import TrainConfig, resolve_device, train


@pytest.fixture(scope="module")
def digits():
    torch.set_num_threads(1)
    return load_dataset("digits", "cpu", seed=0)


def test_train_config_is_the_specs_training_setup() -> None:
    spec = StudySpec(
        model="resnet8",
        epochs=7,
        batch_size=32,
        optimizer="adamw",
        weight_decay=0.01,
        augment=False,
        seed=5,
    )
    assert TrainConfig.of(spec) == TrainConfig("resnet8", 7, 32, "adamw", 0.01, False, 5, 0.9)
    changed = TrainConfig.of(spec, seed=9)
    assert changed.seed == 9 and changed.epochs == 7 and changed.model == "resnet8"
    assert TrainConfig.of() == TrainConfig.of(StudySpec())  # no spec: the default spec's
    with pytest.raises(TypeError):
        TrainConfig.of(spec, colour="blue")  # a change must name a field


def test_training_learns_and_is_deterministic_on_cpu(digits) -> None:
    config = TrainConfig.of(epochs=5, seed=7)
    first = train(digits, config, Cosine(), 0.2)
    second = train(digits, config, Cosine(), 0.2)
    assert first.val_accuracy == second.val_accuracy
    assert first.train_loss == second.train_loss
    assert first.final_accuracy > 0.8  # 10 classes: chance is 0.1; measured 0.92
    assert first.train_loss[-1] < first.train_loss[0]
    assert first.steps == 5 * (len(digits.train_x) // 64) and first.diverged is None
    other_seed = train(digits, TrainConfig.of(epochs=5, seed=8), Cosine(), 0.2)
    assert other_seed.train_loss != first.train_loss


def test_adamw_and_every_model_train(digits) -> None:
    for model in ("cnn-small", "cnn-medium", "resnet8"):
        result = train(
            digits, TrainConfig.of(model=model, epochs=2, optimizer="adamw"), Cosine(), 3e-3
        )
        assert result.final_accuracy > 0.5, model  # chance is 0.1; resnet8 measured 0.83


def test_exploded_but_finite_loss_counts_as_divergence(digits) -> None:
    result = train(digits, TrainConfig.of(epochs=3, augment=False), Constant(), 20.0)
    assert result.diverged and result.val_accuracy == [], result.train_loss  # chance-level net


def test_diverging_lr_ends_with_a_reason(digits) -> None:
    seen = []
    result = train(
        digits,
        TrainConfig.of(epochs=4, augment=False),
        Constant(),
        1e6,
        lambda epoch, acc: seen.append(epoch),
    )
    assert result.diverged and "training loss became" in result.diverged
    assert "epoch 1" in result.diverged and "1e+06" in result.diverged
    assert seen == [] and result.val_accuracy == []  # stopped before reporting a broken model


def test_on_epoch_can_stop_the_run(digits) -> None:
    class Stop(Exception):
        pass

    def stop_after_two(epoch: int, accuracy: float) -> None:
        if epoch == 1:
            raise Stop

    with pytest.raises(Stop):
        train(digits, TrainConfig.of(epochs=10), Cosine(), 0.1, stop_after_two)


def test_cuda_is_refused_where_there_is_none() -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(ValueError, match="CUDA is not available"):
        resolve_device("cuda:0")
    assert resolve_device("auto").type == "cpu"
