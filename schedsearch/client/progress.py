"""``schedsearch status --watch``: a live progress bar until the study is over."""

from __future__ import annotations

import time
from typing import Any

from schedsearch.client.http import Client
from schedsearch.core.states import StudyStatus


def watch(client: Client, study: str | int, every: float) -> dict[str, Any]:
    """Poll the study's status every ``every`` seconds, drawing a tqdm bar; the last status."""
    from tqdm import tqdm

    info = client.status(study)
    with tqdm(total=info["n_trials"], desc=info["name"], unit="trial") as bar:
        while True:
            bar.n = info["progress"]["finished"]
            best = info["best_value"]
            bar.set_postfix(
                status=info["status"],
                pruned=info["trials"]["pruned"],
                best="-" if best is None else f"{best:.4f}",
            )
            bar.refresh()
            if not StudyStatus(info["status"]).active:
                return info
            time.sleep(every)
            info = client.status(study)
