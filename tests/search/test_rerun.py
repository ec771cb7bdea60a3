"""The re-run phase's seeds (the phase itself runs in ``tests/e2e/test_rerun.py``)."""

from __future__ import annotations

from schedsearch.search.rerun import fresh_seeds


def test_fresh_seeds_are_distinct_reproducible_and_new() -> None:
    seeds = fresh_seeds(7, 5)
    assert seeds == fresh_seeds(7, 5) and len(set(seeds)) == 5 and 7 not in seeds
    assert seeds[:3] == fresh_seeds(7, 3) and fresh_seeds(8, 3) != seeds[:3]
