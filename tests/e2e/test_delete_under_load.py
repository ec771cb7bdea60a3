"""Deleting a study while workers train it (hardening item 2): the delete succeeds, the workers
drop its trial at their next report and go on serving the other studies; nothing crashes."""

from __future__ import annotations

import httpx
import pytest

from schedsearch.core.spec import StudySpec
from schedsearch.store import Store
from tests.processes import TOKEN, finish, serve, start_worker, wait_for

pytestmark = pytest.mark.slow


def test_a_study_deleted_mid_trial_leaves_its_workers_serving_the_others(pg_url: str) -> None:
    store = Store(pg_url)
    common = {"lr_range_test": False, "rerun_top_k": 0, "families": ["cosine"], "pruner": "none"}
    store.studies.create(StudySpec(name="doomed", epochs=400, n_trials=3, **common))
    store.studies.create(StudySpec(name="other", epochs=1, n_trials=6, **common))
    workers = [start_worker(pg_url, "--idle-exit", "3") for _ in range(2)]
    server, url = serve(pg_url, TOKEN)
    try:
        doomed = store.studies.get("doomed")
        # both workers are inside a long trial of "doomed" (the least progress first)
        wait_for(lambda: len(store.trials.all(doomed)) == 2, timeout=120)
        answer = httpx.delete(
            f"{url}/studies/doomed", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30
        )
        assert answer.status_code == 204, answer.text
        logs = finish(workers, timeout=180)  # exit code 0: idle once "other" is done
    finally:
        server.terminate()
        server.wait(timeout=30)
    other = store.studies.get("other")
    assert other.status == "completed"
    assert store.trials.counts(other)["complete"] == 6
    assert [s.name for s in store.studies.list()[0]] == ["other"]
    dropped = [line for log in logs for line in log.splitlines() if "was deleted" in line]
    assert len(dropped) == 2, logs  # one line per dropped trial, no traceback
    assert not any("Traceback" in log for log in logs), logs
