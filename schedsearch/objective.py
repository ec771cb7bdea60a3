"""The Optuna objective for one study spec: sample a schedule, train, report, prune."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace

import optuna

from schedsearch.data import TensorData
from schedsearch.space import suggest
from schedsearch.spec import StudySpec
from schedsearch.train import evaluate, train


class WorkerStopping(Exception):
    """Raised at an epoch end when the worker running the trial was asked to stop."""


class Objective:
    """Callable per trial; holds the spec's space and the process's loaded dataset."""

    def __init__(
        self, spec: StudySpec, data: TensorData, should_stop: Callable[[], bool] | None = None
    ) -> None:
        self.space = spec.search_space()
        self.train_config = spec.train_config()
        self.data = data
        self.should_stop = should_stop or (lambda: False)

    def __call__(self, trial: optuna.Trial) -> float:
        queued = trial.user_attrs  # a re-run trial is queued with its seed (one storage read)
        sampled = suggest(trial, self.space)
        trial.set_user_attr("schedule", sampled.schedule.model_dump(mode="json"))
        trial.set_user_attr("base_lr", sampled.base_lr)

        def report(epoch: int, accuracy: float) -> None:
            if self.should_stop():
                raise WorkerStopping(f"worker stopped during epoch {epoch + 1}")
            trial.report(accuracy, epoch + 1)  # step = epochs trained, the pruner's resource
            if trial.should_prune():
                raise optuna.TrialPruned(f"pruned after epoch {epoch + 1}")

        # A re-run trial trains with its own fresh seed, on the same split.
        config = replace(self.train_config, seed=queued.get("seed", self.train_config.seed))
        result = train(self.data, config, sampled.schedule, sampled.base_lr, report)
        trial.set_user_attr(
            "metrics",
            json.dumps(
                {
                    "train_loss": result.train_loss,
                    "seconds": round(result.seconds, 3),
                    "images_per_s": round(result.images / max(result.seconds, 1e-9)),
                }
            ),
        )
        if result.diverged:
            # A diverged run scores 0 at the epoch it broke, so samplers learn to avoid it.
            trial.set_user_attr("diverged", result.diverged)
            trial.report(0.0, len(result.train_loss))
            raise optuna.TrialPruned(result.diverged)
        if "rerun_of" in queued and result.model is not None:
            test = evaluate(result.model, self.data.test_x, self.data.test_y)
            trial.set_user_attr("test_accuracy", test)  # held out from every choice made
        return result.final_accuracy
