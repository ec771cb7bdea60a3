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
    public_docs: bool = Field(
        False, description="serve /openapi.json, /docs and /redoc without the API token"
    )
    api_url: str = Field(
        "http://127.0.0.1:8000", description="the service, for submit, status and best"
    )
    status_ttl: float = Field(
        1.0, ge=0.0, description="seconds a study's status may be served from the API's cache"
    )
    heartbeat_interval: int = Field(30, ge=1, description="seconds between a worker's heartbeats")
    grace_period: int = Field(
        120, ge=1, description="seconds without a heartbeat before a trial counts as dead"
    )
    max_retry: int = Field(3, ge=0, description="retries of a dead worker's trial")
    worker_retention: int = Field(
        86400, ge=60, description="seconds a lost worker stays listed (then its row is deleted)"
    )

    @model_validator(mode="after")
    def _grace_outlasts_the_beat(self) -> Settings:
        if self.grace_period <= self.heartbeat_interval:
            raise ValueError(
                f"grace_period ({self.grace_period} s) must be longer than heartbeat_interval "
                f"({self.heartbeat_interval} s)"
            )
        return self

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
