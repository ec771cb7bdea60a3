"""``schedsearch agent`` as real processes against a live service (uvicorn, 3 s leases renewed
every second): the worked example (examples/) run by two agents, an agent stopped by SIGTERM
mid-trial, one killed by SIGKILL, and a COMMAND that never finishes its trial."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from schedsearch.client import Client
from tests.client.test_agent import alive
from tests.processes import EXE, TOKEN, cli, serve, wait_for

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
BEATS = {"SCHEDSEARCH_HEARTBEAT_INTERVAL": "1", "SCHEDSEARCH_GRACE_PERIOD": "3"}
# A COMMAND that finishes its trial at once (the client only: no torch, a fraction of a second).
QUICK = (
    "from schedsearch.client import current_trial\n"
    "with current_trial() as t:\n"
    "    for epoch in range(1, t.epochs + 1):\n"
    "        t.report(epoch, 0.5 + epoch / 10)\n"
)


def hanging(pids: Path, deaf: bool = False) -> str:
    """A COMMAND that reports one epoch, writes its pid and lease, then trains for ever; ``deaf``:
    it ignores SIGTERM and has started a grandchild (in its process group)."""
    return (
        "import json, os, signal, subprocess, time\n"
        "from schedsearch.client import current_trial\n"
        "t = current_trial()\n"
        "t.report(1, 0.5)\n"
        + (
            "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
            "child = subprocess.Popen(['sleep', '600']).pid\n"
            if deaf
            else "child = None\n"
        )
        + f"with open({str(pids) + '.tmp'!r}, 'w') as f:\n"
        "    json.dump({'pid': os.getpid(), 'child': child, 'lease': t.id,\n"
        "               'env_lease': os.environ['SCHEDSEARCH_LEASE']}, f)\n"
        f"os.rename({str(pids) + '.tmp'!r}, {str(pids)!r})\n"
        "time.sleep(600)\n"
    )


def start_agent(url: str, study: str, *command: str, options: tuple[str, ...] = ()):
    return subprocess.Popen(
        [EXE, "agent", study, "--url", url, "--token", TOKEN, *options, "--", *command],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def written(path: Path, agent: subprocess.Popen) -> dict:
    def there() -> bool:
        assert agent.poll() is None, agent.communicate()[0]
        return path.exists()

    wait_for(there, timeout=120, every=0.05)
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    """One service on a SQLite file for the scenarios below (each has its own study)."""
    folder = tmp_path_factory.mktemp("agents")
    server, url = serve(f"sqlite:///{folder / 'studies.db'}", TOKEN, BEATS)
    client = Client(url, TOKEN)
    yield client
    client.close()
    server.terminate()
    server.wait(timeout=30)


def external(client: Client, name: str, n_trials: int) -> str:
    spec = {"name": name, "trainer": "external", "epochs": 3, "n_trials": n_trials}
    return client.submit(spec | {"pruner": "none", "families": ["cosine", "step"]})["name"]


def test_the_worked_example_under_two_agents(pg_url: str, tmp_path: Path) -> None:
    """README's "Tune your own training loop", verbatim: submit, then two agents (the fleet
    setting, so PostgreSQL) until the study is over."""
    server, url = serve(pg_url, TOKEN, BEATS)
    try:
        env = {"SCHEDSEARCH_API_URL": url, "SCHEDSEARCH_API_TOKEN": TOKEN}
        submitted = cli("submit", str(ROOT / "examples/external_study.json"), cwd=tmp_path, env=env)
        assert submitted.returncode == 0, submitted.stderr
        spec = json.loads((ROOT / "examples/external_study.json").read_text())
        name, n_trials = spec["name"], spec["n_trials"]
        example = (sys.executable, "examples/train_digits.py")
        agents = [start_agent(url, name, *example) for _ in range(2)]
        logs = [agent.communicate(timeout=400)[0] for agent in agents]
        assert [agent.returncode for agent in agents] == [0, 0], logs
        assert all(f"study {name} is over (completed)" in log for log in logs), logs
        info = Client(url, TOKEN).status(name)
        assert info["status"] == "completed" and info["trials"]["failed"] == 0
        assert info["progress"]["finished"] == n_trials
        assert info["trials"]["complete"] + info["trials"]["pruned"] == n_trials
        assert sum(log.count("epoch 1: val_accuracy") for log in logs) == n_trials
        assert info["best_value"] > 0.8  # digits learns in 3 epochs
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_sigtermed_agent_hands_its_trial_back(service: Client, tmp_path: Path) -> None:
    study = external(service, "stopped", n_trials=1)
    pids = tmp_path / "pids.json"
    agent = start_agent(service.url, study, sys.executable, "-c", hanging(pids, deaf=True))
    held = written(pids, agent)
    assert held["env_lease"] == held["lease"]
    started = time.monotonic()
    agent.send_signal(signal.SIGTERM)
    log = agent.communicate(timeout=60)[0]
    assert agent.returncode == 0, log
    assert 4 < time.monotonic() - started < 30  # deaf to SIGTERM: killed after the wait
    assert "stopped by signal" in log
    wait_for(lambda: not alive(held["pid"]) and not alive(held["child"]), timeout=10)
    lease = service.lease_info(held["lease"])
    assert lease["state"] == "released" and lease["reason"] == "agent stopped"
    # Handed back, not failed: the next agent trains it, and the study ends with one trial.
    after = start_agent(service.url, study, sys.executable, "-c", QUICK)
    log = after.communicate(timeout=120)[0]
    assert after.returncode == 0, log
    info = service.status(study)
    assert info["status"] == "completed" and info["progress"]["finished"] == 1


def test_a_killed_agent_leaves_no_command_behind(service: Client, tmp_path: Path) -> None:
    study = external(service, "killed", n_trials=1)
    pids = tmp_path / "pids.json"
    agent = start_agent(service.url, study, sys.executable, "-c", hanging(pids))
    held = written(pids, agent)
    agent.kill()
    agent.communicate(timeout=30)
    wait_for(lambda: not alive(held["pid"]), timeout=10)  # PR_SET_PDEATHSIG
    # Its lease expires (3 s) and the trial goes to the next agent, which waits for it.
    after = start_agent(service.url, study, sys.executable, "-c", QUICK)
    log = after.communicate(timeout=120)[0]
    assert after.returncode == 0, log
    assert service.lease_info(held["lease"])["state"] == "expired"
    assert service.status(study)["progress"]["finished"] == 1


def test_a_command_that_does_not_finish_fails_its_trial(service: Client, tmp_path: Path) -> None:
    study = external(service, "unfinished", n_trials=5)
    leases = tmp_path / "leases"
    command = f"import os; open({str(leases)!r}, 'a').write(os.environ['SCHEDSEARCH_LEASE'] + ' ')"
    agent = start_agent(
        service.url,
        study,
        sys.executable,
        "-c",
        command + "; raise SystemExit(3)",
        options=("--max-failures", "2"),
    )
    log = agent.communicate(timeout=120)[0]
    assert agent.returncode == 1, log
    assert "COMMAND failed 2 times in a row (last exit code 3)" in log
    ids = leases.read_text().split()
    assert len(ids) == 2
    for lease_id in ids:
        lease = service.lease_info(lease_id)
        assert lease["state"] == "failed"
        assert lease["reason"] == "command exited with code 3 without finishing its trial"


# A COMMAND that trains "epochs" of 0.2 s; every third trial learns nothing and is pruned by
# the study's hopeless rule, which it notes before its with-block finishes it as pruned.
PRUNABLE = (
    "import time\n"
    "from schedsearch.client import current_trial\n"
    "with current_trial() as t:\n"
    "    for epoch in range(1, t.epochs + 1):\n"
    "        time.sleep(0.2)\n"
    "        value = 0.02 if t.number % 3 == 0 else 0.5 + epoch / 10\n"
    "        try:\n"
    "            t.report(epoch, value)\n"
    "        except Exception:\n"
    "            print(f'pruned trial {t.number} at epoch {epoch}')\n"
    "            raise\n"
)


PRUNED_LINE = re.compile(r"^pruned trial (\d+) at epoch (\d+)$", re.MULTILINE)


def test_twenty_trials_three_agents_one_killed_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    """Issue 15's end-to-end case: 3 agents work a 20-trial study while a fourth, killed with
    SIGKILL mid-trial, leaves a lease that expires; its trial is retried by another agent and
    the study still ends with exactly 20 finished; pruning decisions end trials early."""
    server, url = serve(pg_url, TOKEN, BEATS)
    try:
        client = Client(url, TOKEN)
        spec = {"name": "twenty", "trainer": "external", "epochs": 4, "n_trials": 20}
        client.submit(spec | {"pruner": "hopeless", "families": ["cosine", "step"]})
        pids = tmp_path / "victim.json"
        victim = start_agent(url, "twenty", sys.executable, "-c", hanging(pids))
        held = written(pids, victim)
        victim.kill()
        victim.communicate(timeout=30)
        agents = [start_agent(url, "twenty", sys.executable, "-c", PRUNABLE) for _ in range(3)]
        logs = [agent.communicate(timeout=400)[0] for agent in agents]
        assert [agent.returncode for agent in agents] == [0, 0, 0], logs
        assert not alive(held["pid"])
        dead = client.lease_info(held["lease"])
        assert dead["state"] == "expired"
        info = client.status("twenty")
        assert info["status"] == "completed" and info["progress"]["finished"] == 20
        assert info["trials"]["complete"] + info["trials"]["pruned"] == 20
        assert info["trials"]["running"] == info["trials"]["waiting"] == 0
        pruned = [m for log in logs for m in PRUNED_LINE.findall(log)]
        assert pruned and info["trials"]["pruned"] == len(pruned)
        trials = client.trials("twenty", limit=100)["items"]
        killed = next(t for t in trials if t["number"] == dead["trial_number"])
        assert killed["state"] == "fail"  # the dead agent's trial, failed and queued again
        retried = [t for t in trials if t["params"] == killed["params"] and t is not killed]
        assert retried and retried[0]["state"] in ("complete", "pruned")
        for trial in trials:  # a pruned trial stopped before its last epoch
            if trial["state"] == "pruned":
                assert max(map(int, trial["intermediate_values"])) < 4
    finally:
        server.terminate()
        server.wait(timeout=30)
