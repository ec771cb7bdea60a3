"""``/metrics`` in Prometheus' text format, read from the database at scrape time.

The API keeps no state of its own, so every figure comes from the database when Prometheus
asks: studies by status, trials by state, a trial-duration histogram, live workers.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry

from schedsearch.store import Store

DURATION_BOUNDS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)


class StoreCollector(Collector):
    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[GaugeMetricFamily | HistogramMetricFamily]:
        studies = GaugeMetricFamily("schedsearch_studies", "Studies by status", labels=["status"])
        for status, count in self.store.figures.studies_by_status().items():
            studies.add_metric([status], count)
        yield studies
        trials = GaugeMetricFamily("schedsearch_trials", "Trials by state", labels=["state"])
        for state, count in self.store.figures.trials_by_state().items():
            trials.add_metric([state.lower()], count)
        yield trials
        cumulative, total, count = self.store.figures.duration_histogram(DURATION_BOUNDS)
        buckets = [(str(b), n) for b, n in zip(DURATION_BOUNDS, cumulative, strict=True)]
        duration = HistogramMetricFamily(
            "schedsearch_trial_duration_seconds", "Wall time of finished trials"
        )
        duration.add_metric([], [*buckets, ("+Inf", count)], sum_value=total)
        yield duration
        workers = GaugeMetricFamily("schedsearch_live_workers", "Workers seen in the last minute")
        workers.add_metric([], len(self.store.workers.live()))
        yield workers


def registry(store: Store) -> CollectorRegistry:
    """A registry of our figures only (not this process's own, which vary by replica)."""
    reg = CollectorRegistry(auto_describe=False)
    reg.register(StoreCollector(store))
    return reg
