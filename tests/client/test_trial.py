"""Leased trials against a live service (uvicorn in a subprocess, a SQLite file, a token, leases
of 3 s renewed every second): how a ``with`` block ends its trial, pruning, divergence,
heartbeats, waiting, and a trial handed back."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Iterator
from itertools import count

import pytest

from schedsearch.client import Client, ClientError, LeasedTrial, StudyOver
from tests.processes import EXE, TOKEN, serve

pytestmark = pytest.mark.slow

BEATS = {"SCHEDSEARCH_HEARTBEAT_INTERVAL": "1", "SCHEDSEARCH_GRACE_PERIOD": "3"}
names = (f"ext-{n}" for n in count())


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    folder = tmp_path_factory.mktemp("leases")
    server, url = serve(f"sqlite:///{folder / 'studies.db'}", TOKEN, BEATS)
    client = Client(url, TOKEN)
    try:
        yield client
    finally:
        client.close()
        server.terminate()
        server.wait(timeout=30)


def external(client: Client, **fields: object) -> str:
    """A fresh external study: 3 epochs, 2 trials, no pruning unless asked."""
    spec = {
        "name": next(names),
        "trainer": "external",
        "epochs": 3,
        "n_trials": 2,
        "pruner": "none",
        "families": ["cosine", "step", "linear"],
        **fields,
    }
    return client.submit(spec)["name"]


def trial_row(client: Client, study: str, number: int) -> dict:
    return next(t for t in client.trials(study)["items"] if t["number"] == number)


def test_a_block_completes_with_the_last_reported_value(service: Client) -> None:
    study = external(service)
    with service.trial(study) as t:
        assert t.study == study and t.epochs == 3 and t.base_lr > 0
        assert t.config["family"] in ("cosine", "step", "linear") and "make_scheduler" in t.code
        for epoch, value in enumerate([0.5, 0.6, 0.7], 1):
            t.report(epoch, value)
    assert t.state == "complete"
    lease = service.lease_info(t.id)
    assert lease["state"] == "complete" and lease["value"] == 0.7
    row = trial_row(service, study, t.number)
    assert row["state"] == "complete" and row["value"] == 0.7
    assert row["intermediate_values"] == {"1": 0.5, "2": 0.6, "3": 0.7}


def test_finish_gives_the_final_value(service: Client) -> None:
    study = external(service)
    with service.trial(study) as t:
        t.report(1, 0.5)
        t.finish(0.9)  # the block's end finishes nothing more
    assert service.lease_info(t.id)["value"] == 0.9
    assert trial_row(service, study, t.number)["value"] == 0.9


def test_an_exception_fails_the_trial_and_goes_on(service: Client) -> None:
    study = external(service)
    with pytest.raises(ValueError, match="boom"), service.trial(study) as t:
        t.report(1, 0.4)
        raise ValueError("boom\n   on two lines")
    lease = service.lease_info(t.id)
    assert lease["state"] == "failed" and lease["reason"] == "ValueError: boom on two lines"
    assert trial_row(service, study, t.number)["state"] == "fail"
    assert service.status(study)["trials"]["failed"] == 1


def test_a_block_without_a_value_fails_its_trial(service: Client) -> None:
    study = external(service)
    with pytest.raises(RuntimeError, match="nothing reported"), service.trial(study) as t:
        pass
    assert service.lease_info(t.id)["state"] == "failed"


def test_a_hopeless_trial_is_pruned_and_the_block_swallows_it(service: Client) -> None:
    study = external(service, pruner="hopeless", epochs=4)
    with service.trial(study) as good:
        good.report(1, 0.9)
        went_on = False
        with service.trial(study) as bad:
            bad.report(1, 0.05)  # under half of the best at epoch 1: hopeless
            went_on = True
        assert not went_on and bad.state == "pruned"
        for epoch in (2, 3, 4):
            good.report(epoch, 0.95)
    assert service.lease_info(bad.id)["state"] == "pruned"
    assert trial_row(service, study, bad.number)["state"] == "pruned"
    assert service.status(study)["status"] == "completed"


def test_a_diverged_value_fails_the_trial(service: Client) -> None:
    study = external(service)
    with service.trial(study) as t:
        t.report(1, 0.3)
        t.report(2, float("nan"))
        pytest.fail("a NaN report stops the trial")
    lease = service.lease_info(t.id)
    assert t.state == "failed" and lease["state"] == "failed"
    assert lease["reason"].startswith("diverged")


def test_the_heartbeat_keeps_a_lease_past_its_length(service: Client) -> None:
    study = external(service)
    with service.trial(study) as t:
        assert t.lease["seconds"] == 3 and t.lease["renew_every"] == 1
        time.sleep(4)  # an epoch longer than the lease
        for epoch in (1, 2, 3):
            t.report(epoch, 0.5)
    assert service.lease_info(t.id)["state"] == "complete"
    # The same wait without heartbeats: the lease is gone, and so is the trial.
    unbeaten = LeasedTrial(service, service.lease(study), heartbeat=False)
    with pytest.raises(ClientError) as gone, unbeaten:
        time.sleep(4)
        unbeaten.report(1, 0.5)
    assert gone.value.status == 409 and "expired" in str(gone.value)
    assert service.lease_info(unbeaten.id)["state"] == "expired"


def test_an_ask_waits_for_a_trial_handed_back_then_the_study_is_over(service: Client) -> None:
    study = external(service, n_trials=1)
    held = service.trial(study)  # no block: nobody renews it, so be quick
    got: list[LeasedTrial] = []
    waiting = threading.Thread(target=lambda: got.append(service.copy().trial(study)))
    waiting.start()
    time.sleep(1.5)
    assert waiting.is_alive()  # every trial is out on lease: it waits
    held.end("released", reason="handed back")
    waiting.join(timeout=20)
    assert got, "the waiting ask got no trial"
    retried = got[0]
    assert retried.number != held.number
    assert (retried.config, retried.base_lr) == (held.config, held.base_lr)  # the same trial
    with retried:
        for epoch in (1, 2, 3):
            retried.report(epoch, 0.8)
    assert service.lease_info(held.id)["state"] == "released"
    info = service.status(study)
    assert info["status"] == "completed" and info["progress"]["finished"] == 1
    with pytest.raises(StudyOver, match="completed"):
        service.trial(study)


def test_a_built_in_study_has_no_leases(service: Client) -> None:
    service.submit({"name": "builtin-1", "epochs": 1, "n_trials": 1})
    with pytest.raises(ClientError) as refused:
        service.trial("builtin-1")
    assert refused.value.status == 409 and "external" in str(refused.value)


def test_a_report_after_the_end_is_refused(service: Client) -> None:
    study = external(service)
    with service.trial(study) as t:
        t.report(1, 0.5)
    with pytest.raises(ClientError) as late:
        t.report(2, 0.6)
    assert late.value.status == 409 and "has ended" in str(late.value)


def test_status_watch_follows_the_study_to_its_end(service: Client) -> None:
    """``schedsearch status --watch`` (``client.progress``) polls until the study is over."""
    study = external(service)
    env = {**os.environ, "SCHEDSEARCH_API_URL": service.url, "SCHEDSEARCH_API_TOKEN": TOKEN}
    watching = subprocess.Popen(
        [EXE, "status", study, "--watch", "--every", "0.2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    for _ in range(2):
        with service.trial(study) as t:
            for epoch in (1, 2, 3):
                t.report(epoch, 0.6)
    out, err = watching.communicate(timeout=60)
    assert watching.returncode == 0, err
    assert f"({study}): completed, 2/2 finished" in out and "trial" in err  # the bar
