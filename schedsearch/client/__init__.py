"""The Python client of the HTTP API: light (httpx and pydantic; no torch, Optuna or SQLAlchemy).

- ``http``: ``Client``, one method per route, and ``ClientError``;
- ``trial``: a leased trial of an external study (``Client.trial``, ``current_trial``), the one
  place that imports torch, inside ``LeasedTrial.scheduler`` only;
- ``agent``: ``schedsearch agent STUDY -- COMMAND``, one COMMAND per leased trial;
- ``progress``: ``schedsearch status --watch``'s progress bar.
"""

from schedsearch.client.http import Client, ClientError
from schedsearch.client.trial import (
    LeasedTrial,
    NoTrial,
    StudyOver,
    TrialPruned,
    current_trial,
)

__all__ = [
    "Client",
    "ClientError",
    "LeasedTrial",
    "NoTrial",
    "StudyOver",
    "TrialPruned",
    "current_trial",
]
