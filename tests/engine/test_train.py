"""The trainer on real data (digits), on the CPU: it learns, is deterministic, and stops
diverging runs with a reason."""

from __future__ import annotations

import pytest
import schedulefree
import torch

from schedsearch.core.schedules import Constant, Cosine, ScheduleFree
from schedsearch.core.snippet import to_code
from schedsearch.core.spec import StudySpec
from schedsearch.engine.data import load_dataset
from schedsearch.engine.train import Learner, TrainConfig, evaluate, resolve_device, train


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


def _weights(model: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in model.parameters()]


@pytest.mark.parametrize(("optimizer", "kind"), [("sgd", "SGD"), ("adamw", "AdamW")])
def test_schedule_free_trains_with_its_optimizer_and_evaluates_the_average(
    digits, optimizer: str, kind: str
) -> None:
    config = TrainConfig.of(epochs=3, seed=3, optimizer=optimizer)
    learner = Learner.start(digits, config, 0.1, schedule_free=True)
    assert type(learner.optimizer).__name__ == f"{kind}ScheduleFree"
    sgd_gain = 10.0 if optimizer == "sgd" else 1.0  # schedule-free SGD has no momentum gain
    assert learner.optimizer.param_groups[0]["lr"] == pytest.approx(0.1 * sgd_gain)
    assert learner.optimizer.param_groups[0]["warmup_steps"] == 0  # the schedule's ramp warms up
    learner.training()
    for step in range(5):
        learner.step(torch.arange(step * 64, (step + 1) * 64))
    training = _weights(learner.model)
    learner.evaluating()  # the averaged weights, BatchNorm measured there
    averaged = _weights(learner.model)
    assert any(not torch.equal(a, b) for a, b in zip(training, averaged, strict=True))
    learner.training()
    assert all(
        torch.allclose(a, b, atol=1e-6)
        for a, b in zip(training, _weights(learner.model), strict=True)
    )


def test_a_schedule_free_trial_learns_and_reports_its_evaluation_weights(digits) -> None:
    config = TrainConfig.of(epochs=4, seed=3)
    result = train(digits, config, ScheduleFree(), 0.3)
    assert result.diverged is None and result.final_accuracy > 0.85  # measured 0.96
    assert evaluate(result.model, digits.val_x, digits.val_y) == result.final_accuracy
    again = train(digits, config, ScheduleFree(), 0.3)
    assert again.val_accuracy == result.val_accuracy  # deterministic, as every family
    constant = train(digits, config, Constant(warmup=0.05), 0.3)  # same LRs, plain SGD
    assert constant.train_loss != result.train_loss


def test_the_schedule_free_snippet_builds_the_optimizer_it_was_found_with() -> None:
    namespace: dict = {}
    exec(to_code(ScheduleFree(warmup=0.1), base_lr=0.4, optimizer="sgd"), namespace)
    model = torch.nn.Linear(3, 2)
    optimizer = namespace["make_optimizer"](model)
    assert isinstance(optimizer, schedulefree.SGDScheduleFree)
    assert optimizer.param_groups[0]["lr"] == 4.0  # base LR / (1 - momentum), rounded
    assert optimizer.param_groups[0]["momentum"] == 0.9
    assert [g["weight_decay"] for g in optimizer.param_groups] == [5e-4, 0.0]  # spec default
    scheduler = namespace["make_scheduler"](optimizer, 20)
    optimizer.train()
    lrs = []
    for _ in range(20):
        lrs.append(optimizer.param_groups[0]["lr"])
        model(torch.randn(4, 3)).square().mean().backward()
        optimizer.step()
        scheduler.step()
    assert lrs[:3] == pytest.approx([4 / 3, 8 / 3, 4.0]) and lrs[2:] == pytest.approx([4.0] * 18)
    adamw: dict = {}
    exec(to_code(ScheduleFree(), base_lr=1e-3, optimizer="adamw", weight_decay=0.01), adamw)
    made = adamw["make_optimizer"](model)
    assert isinstance(made, schedulefree.AdamWScheduleFree) and made.param_groups[0]["lr"] == 1e-3
    assert made.param_groups[0]["weight_decay"] == 0.01


def test_cuda_is_refused_where_there_is_none() -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(ValueError, match="CUDA is not available"):
        resolve_device("cuda:0")
    assert resolve_device("auto").type == "cpu"
