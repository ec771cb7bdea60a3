"""What a study searches once calibrated: its space with the base-LR range centred on the LR
range test's suggestion, and the LR the folklore prior is drawn around. Every worker (and the
re-run phase) derives the same plan from the spec and the stored range test."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from schedsearch.core.range_test import RangeTest, search_range
from schedsearch.core.space import Float, SearchSpace, domain_json
from schedsearch.core.spec import StudySpec

# Hard limits of a base LR (those of ``space``), which a centred range never crosses.
LR_LIMITS = (1e-7, 100.0)
DECADES = 1.0  # either side of the suggestion: the width of the default range (two decades)


@dataclass(frozen=True)
class Plan:
    space: SearchSpace
    lr_centre: float | None = None  # None: the prior uses the optimizer's usual LR


def centred_range(suggestion: float) -> dict[str, Any]:
    """The base-LR range (as a spec writes it) centred, in log scale, on ``suggestion``."""
    low, high = search_range(suggestion, *LR_LIMITS, decades=DECADES)
    return domain_json(Float(low, high, log=True))


def plan_of(spec: StudySpec, test: RangeTest | None) -> Plan:
    """The plan a stored range test (or none) gives."""
    space = spec.search_space()
    if test is None or not spec.centres_lr():
        return Plan(space)
    centred = {**space.model_dump(), "base_lr": centred_range(test.suggestion)}
    return Plan(SearchSpace.model_validate(centred), test.suggestion)
