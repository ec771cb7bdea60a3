"""The Optuna objective for one study spec: sample a schedule, train, report, prune."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import optuna

from schedsearch.core.records import TrainMetrics, TrialRecord
from schedsearch.core.space import SearchSpace, suggest
from schedsearch.core.spec import StudySpec
from schedsearch.engine.data import TensorData
from schedsearch.engine.train import TrainConfig, evaluate, train
from schedsearch.worker import faults


class WorkerStopping(Exception):
    """Raised at an epoch end when the worker running the trial was asked to stop."""


class Objective:
    """Callable per trial; holds the spec's space and the process's loaded dataset."""

    def __init__(
        self,
        spec: StudySpec,
        data: TensorData,
        space: SearchSpace | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> None:
        self.space = space or spec.search_space()  # the plan's space (a centred base LR)
        self.train_config = TrainConfig.of(spec)
        self.data = data
        self.should_stop = should_stop or (lambda: False)

    def __call__(self, trial: optuna.Trial) -> float:
        # A re-run trial is queued with its seed (one storage read).
        queued = TrialRecord.of(trial.user_attrs)
        sampled = suggest(trial, self.space)
        TrialRecord(
            schedule=sampled.schedule.model_dump(mode="json"), base_lr=sampled.base_lr
        ).write(trial)

        def report(epoch: int, accuracy: float) -> None:
            if self.should_stop():
                raise WorkerStopping(f"worker stopped during epoch {epoch + 1}")
            trial.report(accuracy, epoch + 1)  # step = epochs trained, the pruner's resource
            if trial.should_prune():
                raise optuna.TrialPruned(f"pruned after epoch {epoch + 1}")
            if epoch + 1 < self.train_config.epochs:  # a test hook: nothing unless set
                faults.pause("rerun" if queued.rerun_of is not None else "mid_epoch")

        # A re-run trial trains with its own fresh seed, on the same split.
        seed = queued.seed if queued.seed is not None else self.train_config.seed
        config = replace(self.train_config, seed=seed)
        result = train(self.data, config, sampled.schedule, sampled.base_lr, report)
        metrics = TrainMetrics(
            train_loss=result.train_loss,
            seconds=round(result.seconds, 3),
            images_per_s=round(result.images / max(result.seconds, 1e-9)),
        )
        TrialRecord(metrics=metrics, diverged=result.diverged).write(trial)
        if result.diverged:
            # A diverged run scores 0 at the epoch it broke, so samplers learn to avoid it.
            trial.report(0.0, len(result.train_loss))
            raise optuna.TrialPruned(result.diverged)
        if queued.rerun_of is not None and result.model is not None:
            test = evaluate(result.model, self.data.test_x, self.data.test_y)
            TrialRecord(test_accuracy=test).write(trial)  # held out from every choice made
        faults.pause("before_tell")  # a test hook: nothing unless set
        return result.final_accuracy
