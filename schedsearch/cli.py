"""The ``schedsearch`` command line.

Bad input exits with code 2 and one readable line on stderr, never a traceback. Each command
imports what it needs when it runs: the HTTP commands (``submit``, ``status``, ``best``) load
neither torch nor Optuna nor SQLAlchemy, so they answer in a fraction of torch's import time.
Settings come from ``Settings`` (flags win over the environment).
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from schedsearch.client import Client, ClientError
from schedsearch.core.errors import UserError
from schedsearch.core.formatting import format_best, format_status
from schedsearch.core.spec import StudySpec, error_line
from schedsearch.settings import Settings, variable

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Search learning-rate schedules for your CNN.",
)


db = typer.Typer(no_args_is_help=True, help="The study database's schema.")
app.add_typer(db, name="db")


@app.callback()
def _group() -> None:
    """Search learning-rate schedules for your CNN."""


DatabaseUrl = Annotated[
    str | None, typer.Option(help="the study database [env: SCHEDSEARCH_DATABASE_URL]")
]
Device = Annotated[
    str | None, typer.Option(help="auto, cpu, cuda or cuda:N [env: SCHEDSEARCH_DEVICE]")
]
ApiUrl = Annotated[
    str | None,
    typer.Option("--url", help="the service [env: SCHEDSEARCH_API_URL]"),
]
StudyKey = Annotated[str, typer.Argument(help="study id or name")]
ApiToken = Annotated[
    str | None, typer.Option("--token", help="bearer token [env: SCHEDSEARCH_API_TOKEN]")
]


class InputError(UserError):
    """Bad input from the user: reported as one line, exit code 2."""


def _load_json(text: str, what: str) -> Any:
    """JSON given inline, or a path to a .json / .yaml file."""
    path = Path(text)
    if path.suffix in (".json", ".yaml", ".yml"):
        if not path.is_file():
            raise InputError(f"{what}: no such file {path}")
        text = path.read_text()
        if path.suffix != ".json":
            import yaml

            try:
                return yaml.safe_load(text)
            except yaml.YAMLError as exc:
                problem = getattr(exc, "problem", exc)
                raise InputError(f"{what}: {path} is not valid YAML ({problem})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{what}: not valid JSON ({exc.msg} at char {exc.pos})") from None


def _spec(fields: dict[str, Any], spec_file: str | None) -> StudySpec:
    """Flags on top of an optional spec file; unset flags leave the file's values."""
    base = _load_json(spec_file, "--spec") if spec_file else {}
    if not isinstance(base, dict):
        raise InputError("--spec: expected a JSON/YAML object")
    return StudySpec.model_validate({**base, **{k: v for k, v in fields.items() if v is not None}})


def _about(field: str) -> str:
    """A spec field's description: the flag's help and the API's schema say the same."""
    return StudySpec.model_fields[field].description or ""


@app.command()
def run(
    dataset: Annotated[str | None, typer.Option(help=_about("dataset"))] = None,
    model: Annotated[str | None, typer.Option(help=_about("model"))] = None,
    epochs: Annotated[int | None, typer.Option(help=_about("epochs"))] = None,
    trials: Annotated[int | None, typer.Option(help=_about("n_trials"))] = None,
    batch_size: Annotated[int | None, typer.Option(help=_about("batch_size"))] = None,
    optimizer: Annotated[str | None, typer.Option(help=_about("optimizer"))] = None,
    families: Annotated[
        str | None, typer.Option(help="comma-separated families (default: all)")
    ] = None,
    space: Annotated[
        str | None, typer.Option(help="overrides as JSON or a .json/.yaml file")
    ] = None,
    pruner: Annotated[str | None, typer.Option(help=_about("pruner"))] = None,
    sampler: Annotated[str | None, typer.Option(help=_about("sampler"))] = None,
    seed: Annotated[int | None, typer.Option(help=_about("seed"))] = None,
    warm_start: Annotated[
        bool | None, typer.Option("--warm-start", help=_about("warm_start"))
    ] = None,
    rerun_top_k: Annotated[int | None, typer.Option(help=_about("rerun_top_k"))] = None,
    rerun_seeds: Annotated[int | None, typer.Option(help=_about("rerun_seeds"))] = None,
    budget: Annotated[int | None, typer.Option(help=_about("budget_epochs"))] = None,
    range_test: Annotated[
        bool | None, typer.Option("--range-test/--no-range-test", help=_about("lr_range_test"))
    ] = None,
    prior: Annotated[bool | None, typer.Option("--prior/--no-prior", help=_about("prior"))] = None,
    label_noise: Annotated[float | None, typer.Option(help=_about("label_noise"))] = None,
    name: Annotated[str | None, typer.Option(help="study name (default: generated)")] = None,
    spec: Annotated[str | None, typer.Option(help="a study spec file (.json/.yaml)")] = None,
    jobs: Annotated[int, typer.Option(min=1, help="trial processes on this machine")] = 1,
    device: Device = None,
    database_url: DatabaseUrl = None,
    quiet: Annotated[bool, typer.Option(help="no progress bar")] = False,
) -> None:
    """Run a whole study here, on the embedded database, and print the best schedule."""
    import optuna

    from schedsearch.reports.results import best_config
    from schedsearch.store import Store
    from schedsearch.worker.runner import run_study

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # the progress bar says it all
    settings = Settings()
    url = database_url or settings.database_url
    fields = {
        "dataset": dataset,
        "model": model,
        "epochs": epochs,
        "n_trials": trials,
        "batch_size": batch_size,
        "optimizer": optimizer,
        "pruner": pruner,
        "sampler": sampler,
        "seed": seed,
        "warm_start": warm_start,
        "rerun_top_k": rerun_top_k,
        "rerun_seeds": rerun_seeds,
        "budget_epochs": budget,
        "lr_range_test": range_test,
        "prior": prior,
        "label_noise": label_noise,
        "name": name,
        "families": [f.strip() for f in families.split(",") if f.strip()] if families else None,
        "space": _load_json(space, "--space") if space else None,
    }
    study_spec = _spec(fields, spec)
    study = run_study(
        study_spec,
        url,
        jobs=jobs,
        device=device or settings.device,
        progress=not quiet,
        settings=settings,
    )
    best = best_config(Store(url), study)
    if best is None:
        typer.echo("no trial finished without being pruned; try more epochs or trials")
        raise typer.Exit(1)
    typer.echo(format_best(best))


@app.command()
def worker(
    database_url: DatabaseUrl = None,
    study: Annotated[str | None, typer.Option(help="serve only this study (name or id)")] = None,
    device: Device = None,
    max_trials: Annotated[int | None, typer.Option(min=1, help="exit after this many")] = None,
    idle_exit: Annotated[
        float | None, typer.Option(min=0, help="exit after this many seconds without work")
    ] = None,
    poll: Annotated[float, typer.Option(min=0.05, help="seconds between looks for work")] = 1.0,
    give_up: Annotated[
        float | None,
        typer.Option(min=0, help="seconds to wait for an unreachable database (default: ever)"),
    ] = None,
    heartbeat_interval: Annotated[
        int | None, typer.Option(min=1, help="seconds [env: SCHEDSEARCH_HEARTBEAT_INTERVAL]")
    ] = None,
    grace_period: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="seconds without heartbeat before a trial is failed "
            "[env: SCHEDSEARCH_GRACE_PERIOD]",
        ),
    ] = None,
    max_retry: Annotated[
        int | None,
        typer.Option(min=0, help="retries of a dead worker's trial [env: SCHEDSEARCH_MAX_RETRY]"),
    ] = None,
    threads: Annotated[int, typer.Option(min=1, help="CPU threads per trial")] = 1,
    devices: Annotated[
        str | None,
        typer.Option(help="one worker process per device: 'all' GPUs, or e.g. cuda:0,cuda:1"),
    ] = None,
    per_device: Annotated[int, typer.Option(min=1, help="worker processes per device")] = 1,
    log_json: Annotated[bool, typer.Option(help="log one JSON object per line")] = False,
) -> None:
    """Serve trials of the studies in the database until stopped (SIGTERM/SIGINT)."""
    from schedsearch.worker.fleet import run_fleet, visible_devices
    from schedsearch.worker.logs import configure_logging
    from schedsearch.worker.loop import Worker, WorkerOptions
    from schedsearch.worker.runner import connect, heartbeat_options

    configure_logging(as_json=log_json)
    settings = Settings()
    flags = {"heartbeat_interval": heartbeat_interval, "grace_period": grace_period}
    flags["max_retry"] = max_retry
    store_options = heartbeat_options(settings) | {k: v for k, v in flags.items() if v is not None}
    if store_options["grace_period"] <= store_options["heartbeat_interval"]:
        raise InputError("--grace-period must be longer than --heartbeat-interval")
    url = database_url or settings.database_url
    store = connect(url, store_options, give_up)
    if study is not None:
        store.studies.get(study)  # an unknown study is an input error, before any work
    device = device or settings.device
    options = WorkerOptions(
        study=study,
        device=device,
        max_trials=max_trials,
        idle_exit=idle_exit,
        poll=poll,
        threads=threads,
        log_json=log_json,
        data_dir=settings.data_dir,
    )
    if devices is None and per_device == 1:
        served = Worker(store, options).run()
        logging.getLogger("schedsearch.worker").info("worker exiting after %d trial(s)", served)
        return
    targets = visible_devices(devices) if devices else [device]
    store.close()
    codes = run_fleet(url, store_options, options, targets, per_device)
    if any(codes):
        raise typer.Exit(1)


@app.command()
def report(
    study: StudyKey,
    out: Annotated[Path, typer.Option(help="folder for the PNG files")] = Path("report"),
    database_url: DatabaseUrl = None,
) -> None:
    """Write the study's plots (history, lr, curves, importance) as PNG files."""
    from schedsearch.reports.plots import KINDS, render
    from schedsearch.store import Store

    store = Store(database_url or Settings().database_url)
    info = store.studies.get(study)
    trials = store.trials.all(info)
    out.mkdir(parents=True, exist_ok=True)
    for kind in KINDS:
        (out / f"{info.name}-{kind}.png").write_bytes(render(kind, trials, info.spec))
    typer.echo(f"wrote {len(KINDS)} plots of {info.name} to {out}")


@app.command()
def serve(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    database_url: DatabaseUrl = None,
    workers: Annotated[int, typer.Option(min=1, help="uvicorn worker processes")] = 1,
) -> None:
    """Run the HTTP API under uvicorn."""
    import os

    import uvicorn

    from api.main import create_app
    from schedsearch.store import Store

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    settings = Settings()
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    Store(settings.database_url).close()  # create or check the schema once, before any request
    if workers == 1:
        app = create_app(settings)
        uvicorn.run(app, host=host, port=port, log_level="info")
        return
    # uvicorn starts several workers only from an import string: its processes read the
    # settings from the environment, so a --database-url flag is handed on through it.
    os.environ["SCHEDSEARCH_DATABASE_URL"] = settings.database_url
    uvicorn.run(
        "api.main:create_app", factory=True, host=host, port=port, workers=workers, log_level="info"
    )


@app.command()
def submit(
    spec: Annotated[str, typer.Argument(help="a study spec file (.json/.yaml)")],
    url: ApiUrl = None,
    token: ApiToken = None,
) -> None:
    """Submit a study to the service; prints its id and name."""
    body = _load_json(spec, "SPEC")
    if not isinstance(body, dict):
        raise InputError("SPEC: expected a JSON/YAML object")
    study = Client(url, token).submit(body)
    typer.echo(f"submitted study {study['id']} ({study['name']}): {study['n_trials']} trials")


@app.command()
def status(
    study: StudyKey,
    url: ApiUrl = None,
    token: ApiToken = None,
    watch: Annotated[bool, typer.Option(help="live progress until it ends")] = False,
    every: Annotated[float, typer.Option(min=0.2, help="seconds between polls")] = 2.0,
) -> None:
    """A study's progress; --watch shows a live progress bar until the study is over."""
    from schedsearch.client.progress import watch as watching

    client = Client(url, token)
    typer.echo(format_status(watching(client, study, every) if watch else client.status(study)))


@app.command()
def best(
    study: StudyKey,
    url: ApiUrl = None,
    token: ApiToken = None,
    code: Annotated[bool, typer.Option(help="print only the PyTorch snippet")] = False,
) -> None:
    """The best schedule found so far."""
    found = Client(url, token).best(study)
    typer.echo(found["code"] if code else format_best(found))


@app.command(no_args_is_help=True)
def agent(
    study: StudyKey,
    command: Annotated[list[str], typer.Argument(metavar="COMMAND", help="the trainer, after --")],
    url: ApiUrl = None,
    token: ApiToken = None,
    max_trials: Annotated[int | None, typer.Option(min=1, help="exit after this many")] = None,
    give_up: Annotated[
        float | None, typer.Option(min=0, help="seconds to wait for an unreachable service")
    ] = None,
    max_failures: Annotated[
        int, typer.Option(min=1, help="exit 1 after this many failed COMMANDs in a row")
    ] = 3,
) -> None:
    """Run COMMAND once per trial of STUDY ("trainer": "external") leased from the service."""
    from schedsearch.client.agent import AgentOptions, run_agent

    options = AgentOptions(max_trials, give_up, max_failures)  # give_up None: wait for ever
    raise typer.Exit(run_agent(Client(url, token), study, command, options))


@db.command()
def upgrade(database_url: DatabaseUrl = None) -> None:
    """Upgrade the database's schema (ours and Optuna's) to this release's; safe to re-run."""
    from schedsearch.store.database import safe_url
    from schedsearch.store.schema import upgrade as upgrade_schema

    url = database_url or Settings().database_url
    for line in upgrade_schema(url):
        typer.echo(f"{safe_url(url)}: {line}")


def main() -> None:
    """Entry point: every input error becomes one line and exit code 2."""
    try:
        sys.exit(app(standalone_mode=False) or 0)  # typer.Exit(n) comes back as n
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(130)
    except typer.TyperException as exc:  # usage errors: unknown option, bad type, ...
        _fail(exc.format_message() if hasattr(exc, "format_message") else str(exc))
    except ValidationError as exc:  # the environment's settings, or a spec
        _fail(error_line(exc, variable) if exc.title == Settings.__name__ else error_line(exc))
    except ClientError as exc:
        _fail(str(exc), code=2 if 400 <= exc.status < 500 else 1)  # 4xx: the user's input
    except (UserError, ValueError) as exc:
        _fail(str(exc))


def _fail(message: str, code: int = 2) -> None:
    print(f"schedsearch: error: {message}", file=sys.stderr)
    sys.exit(code)
