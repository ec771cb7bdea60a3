"""Every ``SCHEDSEARCH_*`` setting, read from the environment in one place.

Entry points (a CLI command, the API factory, ``run_study``) build a ``Settings`` and pass it,
or the values it needs, down; a library call given no value falls back to a fresh
``Settings()`` (the data folder, the client's URL). No other module reads ``os.environ``.
Command-line flags win over the environment, which wins over the defaults below; an empty
variable counts as unset.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./schedsearch.db"
PREFIX = "SCHEDSEARCH_"
SCOPES = ("read", "write", "admin")  # an API token's scope allows what the ones before it do
# Where a worker can be told to pause (``fault_pause``, a test hook: schedsearch.worker.faults).
FAULT_PHASES = ("after_claim", "dataset_load", "mid_epoch", "before_tell", "rerun")


class Settings(BaseSettings):
    """One field per variable; the variable is the field's name, upper-cased, after the prefix."""

    model_config = SettingsConfigDict(
        env_prefix=PREFIX, extra="ignore", frozen=True, env_ignore_empty=True
    )

    database_url: str = Field(
        DEFAULT_DATABASE_URL, description="the study database (a SQLAlchemy URL)"
    )
    data_dir: Path = Field(Path("./data"), description="where datasets are downloaded and cached")
    device: str = Field("auto", description="training device: auto, cpu, cuda or cuda:N")
    api_token: SecretStr | None = Field(
        None, description="bearer token of the HTTP API (unset: the API is open)"
    )
    api_tokens: SecretStr | None = Field(
        None,
        description="scoped API tokens, comma-separated NAME:SCOPE:SECRET (scope read, write or "
        "admin); with api_token (an admin token named default) and api_tokens_file",
    )
    api_tokens_file: Path | None = Field(
        None, description="a file of scoped API tokens, one NAME:SCOPE:SECRET per line (# notes)"
    )
    public_docs: bool = Field(
        False, description="serve /openapi.json, /docs and /redoc without the API token"
    )
    api_url: str = Field(
        "http://127.0.0.1:8000", description="the service, for submit, status, best and agent"
    )
    trial: str | None = Field(
        None,
        description="the leased trial (JSON: trial and lease) that `schedsearch agent` hands to "
        "its command, for `schedsearch.client.current_trial()`",
    )
    lease: str | None = Field(
        None, description="the id of that trial's lease (set by the agent beside the trial)"
    )
    status_ttl: float = Field(
        1.0, ge=0.0, description="seconds a study's status may be served from the API's cache"
    )
    ask_processes: int = Field(
        1,
        ge=0,
        le=64,
        description="processes per API process that sample leased trials' asks, so that "
        "sampling never holds up reports (0: sample in the request thread)",
    )
    heartbeat_interval: int = Field(30, ge=1, description="seconds between a worker's heartbeats")
    grace_period: int = Field(
        120, ge=1, description="seconds without a heartbeat before a trial counts as dead"
    )
    max_retry: int = Field(3, ge=0, description="retries of a dead worker's trial")
    worker_retention: int = Field(
        86400, ge=60, description="seconds a lost worker stays listed (then its row is deleted)"
    )
    fault_pause: str | None = Field(
        None,
        pattern=rf"^({'|'.join(FAULT_PHASES)}):[0-9]+(\.[0-9]+)?$",
        description="test hook, PHASE:SECONDS: a worker logs 'fault pause at PHASE' and sleeps "
        f"there ({', '.join(FAULT_PHASES)}), for the fault-matrix tests to kill it in that "
        "phase; unset: does nothing",
    )

    @model_validator(mode="after")
    def _grace_outlasts_the_beat(self) -> Settings:
        if self.grace_period <= self.heartbeat_interval:
            raise ValueError(
                f"grace_period ({self.grace_period} s) must be longer than heartbeat_interval "
                f"({self.heartbeat_interval} s)"
            )
        return self

    @model_validator(mode="after")
    def _tokens_are_readable(self) -> Settings:
        self.scoped_tokens()  # a malformed entry or an unreadable file names its variable
        return self

    def scoped_tokens(self) -> dict[str, tuple[str, str]]:
        """Every API token: secret -> (name, scope). Rotation: add the new token, move the
        clients over, remove the old one (each change is a restart of ``serve``)."""
        entries: list[str] = []
        if self.api_tokens is not None:
            entries += self.api_tokens.get_secret_value().split(",")
        if self.api_tokens_file is not None:
            try:
                lines = self.api_tokens_file.read_text().splitlines()
            except OSError as exc:
                raise ValueError(f"api_tokens_file: cannot read it ({exc.strerror})") from None
            entries += [line.split("#", 1)[0] for line in lines]
        tokens = {self.token: ("default", "admin")} if self.token else {}
        for entry in (e.strip() for e in entries):
            if not entry:
                continue
            name, _, rest = entry.partition(":")
            scope, _, secret = rest.partition(":")
            if not name or scope not in SCOPES or len(secret) < 8:
                raise ValueError(
                    f"api_tokens: {name or '?'!r} is not NAME:SCOPE:SECRET with scope read, write"
                    " or admin and a secret of 8 characters or more"
                )
            tokens[secret] = (name, scope)
        return tokens

    @property
    def token(self) -> str | None:
        """The API token in clear, or None when unset or empty."""
        return self.api_token.get_secret_value() or None if self.api_token else None


def variable(loc: tuple[object, ...]) -> str:
    """A settings error's location as the user set it: the variable, not the field."""
    return f"{PREFIX}{str(loc[0]).upper()}" if loc else ""


def settings_table() -> str:
    """The README's table of settings, generated from the fields (a test keeps them equal)."""
    rows = ["| variable | what | default |", "| --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        default = "unset" if field.default is None else f"`{field.default}`"
        rows.append(f"| `{PREFIX}{name.upper()}` | {field.description} | {default} |")
    return "\n".join(rows)
