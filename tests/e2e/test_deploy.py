"""Deployment and operations: the compose file, the containers' commands run without Docker,
all-devices workers, Prometheus metrics, plots, and the status page in a real browser."""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import optuna
import pytest
import sqlalchemy as sa
import yaml
from PIL import Image
from prometheus_client.parser import text_string_to_metric_families

from schedsearch.core.spec import StudySpec
from schedsearch.search import lifecycle
from schedsearch.store import Store
from tests.processes import EXE, TOKEN, finish, free_port, serve, start_worker, wait_for

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
WORKER_LINE = re.compile(r"trial=\d+ .* worker=(\S+)")


def compose_command() -> list[str] | None:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if (
        shutil.which("docker")
        and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0
    ):
        return ["docker", "compose"]
    return None


def test_compose_file_is_valid_and_complete() -> None:
    tool = compose_command()
    if tool is not None:  # the real parser (.ci/run installs Debian's docker-compose)
        env = {**os.environ, "SCHEDSEARCH_API_TOKEN": "t", "POSTGRES_PASSWORD": "p"}
        done = subprocess.run(
            [*tool, "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
            capture_output=True,
            text=True,
            env=env,
        )
        assert done.returncode == 0, done.stderr
    elif os.environ.get("CI"):
        pytest.fail("CI must validate the compose file with docker compose / docker-compose")
    services = COMPOSE["services"]
    assert {"postgres", "migrate", "api", "worker", "dashboard"} <= set(services)
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    # The schema is upgraded once, on a healthy PostgreSQL, before the API serves it.
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["api"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["worker"]["depends_on"]["api"]["condition"] == "service_healthy"
    assert "SCHEDSEARCH_API_TOKEN" in services["api"]["environment"]
    gpu = services["worker"]["deploy"]["resources"]["reservations"]["devices"][0]
    assert gpu["capabilities"] == ["gpu"] and gpu["driver"] == "nvidia"
    assert services["dashboard"]["profiles"] == ["dashboard"]
    # optuna-dashboard has no authentication and write access: this host only
    assert all(p.startswith("127.0.0.1:") for p in services["dashboard"]["ports"])
    assert (ROOT / "Dockerfile").read_text().count('ENTRYPOINT ["schedsearch"]') == 1


def test_the_containers_commands_run_without_docker(pg_url: str) -> None:
    """The migrate, api and worker services' exact commands (entrypoint ``schedsearch``), in
    compose's order, on the host."""
    api_command = list(COMPOSE["services"]["api"]["command"])
    api_command[api_command.index("--port") + 1] = str(port := free_port())
    api_command[api_command.index("--host") + 1] = "127.0.0.1"
    env = {**os.environ, "SCHEDSEARCH_DATABASE_URL": pg_url, "SCHEDSEARCH_API_TOKEN": TOKEN}
    migrate = subprocess.run(
        [EXE, *COMPOSE["services"]["migrate"]["command"]],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert migrate.returncode == 0 and "created at" in migrate.stdout, migrate.stderr
    api = subprocess.Popen(
        [EXE, *api_command], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    worker = subprocess.Popen(
        [EXE, *COMPOSE["services"]["worker"]["command"]],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        headers = {"Authorization": f"Bearer {TOKEN}"}

        def up() -> bool:
            try:
                return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(up, timeout=60)
        created = httpx.post(
            f"{url}/studies", headers=headers, json={"name": "compose", "epochs": 2, "n_trials": 8}
        )
        assert created.status_code == 201, created.text
        wait_for(
            lambda: (
                httpx.get(f"{url}/studies/compose", headers=headers).json()["status"] == "completed"
            ),
            timeout=240,
        )
    finally:
        worker.send_signal(signal.SIGTERM)  # the fleet parent forwards it to its workers
        out, _ = worker.communicate(timeout=60)
        api.terminate()
        api.wait(timeout=30)
    assert worker.returncode == 0, out
    assert len(set(WORKER_LINE.findall(out))) == 2  # --devices all --per-device 2 on the CPU


def test_per_device_workers_stop_cleanly_on_sigterm(db_url: str) -> None:
    store = Store(db_url)
    store.studies.create(StudySpec(name="long", n_trials=6, epochs=80, pruner="none"))
    fleet = start_worker(db_url, "--devices", "cpu", "--per-device", "2")
    study = store.studies.get("long")
    wait_for(
        lambda: (
            sum(bool(t.intermediate_values) for t in store.trials.optuna_study(study).trials) >= 2
        ),
        timeout=120,
    )
    fleet.send_signal(signal.SIGTERM)
    out, _ = fleet.communicate(timeout=90)
    assert fleet.returncode == 0, out
    trials = store.trials.optuna_study(study).trials
    states = Counter(t.state for t in trials)
    assert optuna.trial.TrialState.RUNNING not in states  # both children failed and re-queued
    assert states[optuna.trial.TrialState.WAITING] >= 2
    assert store.studies.get("long").claimed == 0


def test_metrics_agree_with_the_database(pg_url: str) -> None:
    store = Store(pg_url)
    store.studies.create(StudySpec(name="done", n_trials=4, epochs=2, rerun_top_k=0))
    store.studies.create(StudySpec(name="waiting", n_trials=3))
    store.studies.create(StudySpec(name="stopped", n_trials=3))
    lifecycle.cancel(store, store.studies.get("stopped"))
    finish([start_worker(pg_url, "--study", "done")])
    server, url = serve(pg_url, TOKEN)
    try:
        assert httpx.get(f"{url}/metrics").status_code == 401
        text = httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
    finally:
        server.terminate()
        server.wait(timeout=30)
    families = {f.name: f for f in text_string_to_metric_families(text)}
    studies = {s.labels["status"]: s.value for s in families["schedsearch_studies"].samples}
    with store.db.engine.connect() as connection:  # the database, read independently
        by_status = dict(
            connection.execute(
                sa.text("SELECT status, count(*) FROM schedsearch_studies GROUP BY status")
            ).all()
        )
    assert {k: v for k, v in studies.items() if v} == by_status
    assert by_status == {"completed": 1, "queued": 1, "cancelled": 1}
    trials = {s.labels["state"]: s.value for s in families["schedsearch_trials"].samples}
    actual = Counter(
        t.state.name.lower() for t in store.trials.optuna_study(store.studies.get("done")).trials
    )
    assert {k: v for k, v in trials.items() if v} == dict(actual)
    assert sum(actual.values()) == 4
    duration = {s.name: s for s in families["schedsearch_trial_duration_seconds"].samples}
    assert duration["schedsearch_trial_duration_seconds_count"].value == 4
    assert duration["schedsearch_trial_duration_seconds_sum"].value > 0
    buckets = [
        s.value
        for s in families["schedsearch_trial_duration_seconds"].samples
        if s.name.endswith("_bucket")
    ]
    assert buckets == sorted(buckets) and buckets[-1] == 4  # cumulative, +Inf holds them all
    assert "schedsearch_live_workers" in families


def _completed_study(db_url: str, name: str) -> Store:
    store = Store(db_url)
    store.studies.create(
        StudySpec(name=name, n_trials=8, epochs=3, families=["cosine", "step", "one_cycle"])
    )
    finish([start_worker(db_url, "--study", name)])
    return store


def test_plots_and_report(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'plots.db'}"
    _completed_study(db_url, "pictures")
    done = subprocess.run(
        [EXE, "report", "pictures", "--out", str(tmp_path / "out"), "--database-url", db_url],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    files = sorted((tmp_path / "out").glob("*.png"))
    assert [f.name for f in files] == [
        f"pictures-{k}.png" for k in ("curves", "history", "importance", "lr")
    ]
    for file in files:
        with Image.open(file) as image:
            assert image.size == (700, 400)
            assert len(image.convert("L").getcolors(256)) > 20  # drawn, not blank
    server, url = serve(db_url, TOKEN)
    try:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        png = httpx.get(f"{url}/studies/pictures/plots/lr", headers=headers)
        assert png.status_code == 200 and png.headers["content-type"] == "image/png"
        assert png.content[:8] == b"\x89PNG\r\n\x1a\n"
        assert httpx.get(f"{url}/studies/pictures/plots/pie", headers=headers).status_code == 422
        assert httpx.get(f"{url}/studies/pictures/plots/lr").status_code == 401
    finally:
        server.terminate()
        server.wait(timeout=30)


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _login_form(url: str, page: str) -> str:
    """A page that posts the token to /login and follows it to ``page``, as a person logging in
    does, with the token in no URL."""
    return (
        f"<form method='post' action='{url}/login'><input name='token' value='{TOKEN}'>"
        f"<input name='next' value='{page}'></form><script>document.forms[0].submit()</script>"
    )


@contextlib.contextmanager
def _serving_login_forms() -> Iterator[Callable[[str], str]]:
    """A throwaway HTTP server on 127.0.0.1 (the API's site, another port) serving the HTML it
    is given; yields a function that returns the URL of a page."""
    pages: dict[str, str] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path, "").encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def publish(html: str) -> str:
        path = f"/{len(pages)}"
        pages[path] = html
        return f"http://127.0.0.1:{server.server_address[1]}{path}"

    try:
        yield publish
    finally:
        server.shutdown()


def test_status_page_in_headless_chromium(tmp_path: Path) -> None:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail(".ci/run installs Debian's chromium; it is missing")
        pytest.skip("chromium is not installed")
    db_url = f"sqlite:///{tmp_path / 'ui.db'}"
    _completed_study(db_url, "browser-view")
    server, url = serve(db_url, TOKEN)
    browser = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]

    run = [*browser, "--virtual-time-budget=20000"]  # time to follow the login's redirect

    def dom_of(command: list[str], page: str) -> str:
        done = subprocess.run(
            [*command, "--dump-dom", page], capture_output=True, text=True, timeout=120
        )
        return done.stdout

    shot = tmp_path / "status-page.png"
    with _serving_login_forms() as forms:
        try:
            dom = dom_of(run, forms(_login_form(url, "/ui/studies/browser-view")))
            subprocess.run(
                [
                    *run,
                    "--window-size=1200,1600",
                    f"--screenshot={shot}",
                    forms(_login_form(url, "/ui/studies/browser-view")),
                ],
                capture_output=True,
                timeout=120,
                check=True,
            )
            denied = dom_of(browser, f"{url}/ui/studies/browser-view")
            listing = dom_of(run, forms(_login_form(url, "/ui")))
        finally:
            server.terminate()
            server.wait(timeout=30)
    assert "<h1>browser-view</h1>" in dom
    assert "8/8</b> trials finished" in dom and "completed" in dom
    assert dom.count('src="data:image/png;base64,') == 5  # four plots and the range test
    assert "def make_scheduler" in dom  # the best config's snippet
    assert 'http-equiv="refresh"' not in dom  # a finished study stops refreshing
    assert "browser-view" not in denied and 'type="password"' in denied  # the login form
    assert "browser-view" in listing
    with Image.open(shot) as image:  # the screenshot shows a rendered page
        assert image.size == (1200, 1600)
        assert len(image.convert("L").getcolors(256)) > 50
    print(f"screenshot saved to {shot}", file=sys.stderr)


def test_kubernetes_example_wires_secret_gpu_and_probes() -> None:
    docs = list(yaml.safe_load_all((ROOT / "deploy" / "kubernetes.yaml").read_text()))
    kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert kinds == {
        ("Deployment", "schedsearch-api"),
        ("Service", "schedsearch-api"),
        ("Deployment", "schedsearch-worker"),
    }
    pods = {
        d["metadata"]["name"]: d["spec"]["template"]["spec"]
        for d in docs
        if d["kind"] == "Deployment"
    }
    worker = pods["schedsearch-worker"]["containers"][0]
    assert worker["resources"]["limits"]["nvidia.com/gpu"] == 1
    for pod in pods.values():
        env = {
            e["name"]: e["valueFrom"]["secretKeyRef"]["name"] for e in pod["containers"][0]["env"]
        }
        assert env["SCHEDSEARCH_DATABASE_URL"] == "schedsearch"
    assert pods["schedsearch-api"]["containers"][0]["readinessProbe"]["httpGet"]["path"] == (
        "/healthz"
    )
    # Every pod first upgrades the schema, on the same database.
    for pod in pods.values():
        (init,) = pod["initContainers"]
        assert init["args"] == ["db", "upgrade"]
        assert {e["name"]: e["valueFrom"]["secretKeyRef"]["name"] for e in init["env"]} == {
            "SCHEDSEARCH_DATABASE_URL": "schedsearch"
        }
        assert subprocess.run([EXE, *init["args"], "--help"], capture_output=True).returncode == 0
    # The containers' arguments are real CLI invocations.
    for pod in pods.values():
        args = pod["containers"][0]["args"]
        done = subprocess.run([EXE, args[0], "--help"], capture_output=True, text=True)
        assert done.returncode == 0
        for flag in (a for a in args if a.startswith("--")):
            assert flag in done.stdout, flag


def test_json_log_lines(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'json.db'}"
    Store(db_url).studies.create(StudySpec(name="logged", n_trials=2, epochs=1, rerun_top_k=0))
    done = subprocess.run(
        [EXE, "worker", "--database-url", db_url, "--study", "logged", "--log-json"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.strip()]
    trials = [line for line in lines if "trial" in line]
    assert [t["trial"] for t in trials] == [0, 1]
    assert all(t["study"] == "logged" and t["state"] in ("complete", "pruned") for t in trials)
