"""Warm start: the folklore schedules as a study's first trials."""

from __future__ import annotations

import json

from schedsearch.core.folklore import folklore
from schedsearch.core.space import as_params
from schedsearch.core.spec import StudySpec
from schedsearch.store import Enqueued


def warm_start_trials(spec: StudySpec) -> list[Enqueued]:
    """With ``warm_start``, the folklore schedules the space can express, as first trials."""
    if not spec.warm_start:
        return []
    space = spec.search_space()
    found = (as_params(space, sampled) for _, sampled in folklore(spec.optimizer))
    unique = {json.dumps(p, sort_keys=True): p for p in found if p is not None}
    return [Enqueued(params) for params in unique.values()]
