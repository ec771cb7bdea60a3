"""Before a study's first trial here: its LR range test (run once per study, by whichever
worker claims it first) and the search plan it sets: the base-LR range centred on the test's
suggestion, and the LR the folklore prior is drawn around.

A worker that finds another live worker running the test does not wait on it: the study is
not ready (``RangeTestPending``), so the worker gives its slot back and serves other work.
"""

from __future__ import annotations

import logging

from schedsearch.core.range_test import RangeTest
from schedsearch.core.spec import StudySpec
from schedsearch.engine.data import TensorData
from schedsearch.engine.range_test import RANGE_STEPS, lr_range_test
from schedsearch.engine.train import TrainConfig, steps_per_epoch
from schedsearch.search.plan import Plan, plan_of
from schedsearch.store import Store, StudyInfo

log = logging.getLogger("schedsearch.worker")


class RangeTestPending(Exception):
    """Another live worker is running the study's range test."""


def plan(store: Store, study: StudyInfo, data: TensorData, worker: str) -> Plan:
    """The study's plan, running its range test first when it falls to this worker."""
    spec = study.spec
    if not spec.centres_lr():
        return Plan(spec.search_space())
    claim = store.range_tests.get(study.id)
    if claim is None and not affordable(study, data):
        log.info("study=%s: no LR range test, the budget has no room for it", study.name)
        return Plan(spec.search_space())
    if claim is None or claim.result is None:
        if not store.range_tests.claim(study.id, worker):
            raise RangeTestPending(f"study={study.name}: range test running elsewhere")
        result = run(spec, data)
        log.info(
            "study=%s range test: steepest descent at LR %.3g (%d steps, %.2f epochs)",
            study.name,
            result.suggestion,
            result.steps,
            result.epochs,
        )
        store.range_tests.finish(study.id, worker, result.model_dump(mode="json"), result.epochs)
    test = store.range_tests.result(study.id)  # ours, or an heir's that finished first
    assert test is not None
    return plan_of(spec, test)


def affordable(study: StudyInfo, data: TensorData) -> bool:
    """Whether the range test fits the budget beside the trial just claimed (``study`` is the
    claim's snapshot, so its ``spent`` holds that trial)."""
    if study.budget is None:
        return True
    cost = RANGE_STEPS / steps_per_epoch(data, study.spec.batch_size)
    return study.spent + cost <= study.budget


def run(spec: StudySpec, data: TensorData) -> RangeTest:
    """The sweep on the study's own setup (model, optimizer, batch size, augmentation)."""
    return lr_range_test(data, TrainConfig.of(spec))
