"""Asks are sampled in a process of their own (api.asks): a real server's ask answers from its
sampling process, a sampling process killed with -9 is replaced at the next ask, and one whose
server is killed with -9 exits by itself."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import httpx

from tests.processes import serve, wait_for

SPEC = {
    "name": "ext",
    "trainer": "external",
    "dataset": "labels",
    "model": "only",
    "epochs": 2,
    "n_trials": 4,
    "pruner": "none",
}


def children(pid: int) -> set[int]:
    """The process's child processes, from /proc (Linux)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found |= {int(child) for child in text}
    return found


def samplers(pid: int) -> set[int]:
    """Its sampling processes (not multiprocessing's resource tracker beside them)."""
    return {
        child
        for child in children(pid)
        if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()
    }


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is dead, only not yet reaped


def ask(url: str) -> dict:
    answer = httpx.post(f"{url}/studies/ext/leases", timeout=60)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_sampling_processes_are_replaced_and_never_outlive_their_server(tmp_path) -> None:
    server, url = serve(f"sqlite:///{tmp_path / 'asks.db'}", None)
    try:
        assert children(server.pid) == set()  # spawned at the first ask, not before
        assert httpx.post(f"{url}/studies", json=SPEC).status_code == 201
        assert ask(url)["outcome"] == "trial"
        (sampler,) = samplers(server.pid)
        helpers = children(server.pid)  # with the resource tracker

        os.kill(sampler, signal.SIGKILL)  # dies on its own: the next ask gets a new one
        wait_for(lambda: not alive(sampler), timeout=10)
        second = ask(url)
        assert second["outcome"] == "trial" and second["trial"]["number"] == 1
        (replacement,) = samplers(server.pid) - {sampler}
        helpers |= children(server.pid)

        server.kill()  # kill -9: nobody tells the sampling process
        server.wait()
        wait_for(lambda: not any(alive(pid) for pid in helpers), timeout=10)
        assert replacement in helpers
    finally:
        server.kill()
        server.wait()
