"""The fault-injection hook (``SCHEDSEARCH_FAULT_PAUSE``): nothing unless set, a logged pause at
the phase it names, and a malformed value refused with its variable."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest
from pydantic import ValidationError

from schedsearch.settings import Settings
from schedsearch.worker import faults


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    faults._pause.cache_clear()  # read once per process: once per test here
    yield
    faults._pause.cache_clear()


def test_unset_it_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SCHEDSEARCH_FAULT_PAUSE", raising=False)
    start = time.monotonic()
    faults.pause("after_claim")
    assert time.monotonic() - start < 0.05


def test_set_it_pauses_at_its_phase_only(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("SCHEDSEARCH_FAULT_PAUSE", "mid_epoch:0.3")
    with caplog.at_level(logging.WARNING, logger="schedsearch.worker"):
        start = time.monotonic()
        faults.pause("before_tell")
        assert time.monotonic() - start < 0.05 and not caplog.text
        faults.pause("mid_epoch")
        assert time.monotonic() - start >= 0.3
    assert "fault pause at mid_epoch" in caplog.text


@pytest.mark.parametrize("value", ["mid_epoch", "nowhere:3", "mid_epoch:-1", "mid_epoch:x"])
def test_a_malformed_value_is_refused(value: str) -> None:
    with pytest.raises(ValidationError, match="fault_pause"):
        Settings(fault_pause=value)
