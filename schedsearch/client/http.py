"""A Python client of the HTTP API (what ``schedsearch submit/status/best/agent`` use).

It needs httpx and pydantic only: no torch, Optuna or SQLAlchemy."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from schedsearch.core.spec import NAME_PATTERN
from schedsearch.settings import Settings

if TYPE_CHECKING:
    from schedsearch.client.trial import LeasedTrial

LEASE_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")


class ClientError(RuntimeError):
    """The service answered with an error (or could not be reached); ``status`` 0 for the latter."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _message(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail", response.text)
    except ValueError:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    if isinstance(detail, list):  # FastAPI's 422: one line per field error
        detail = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', [])[1:]) or 'body'}: "
            f"{str(e.get('msg', '')).removeprefix('Value error, ')}"
            for e in detail
        )
    return f"HTTP {response.status_code}: {detail}"


def _segment(study: str | int) -> str:
    """A study id or name as one path segment: ``x/trials`` must not reach another route, so
    what cannot be a study's name is refused here (ValueError, a one-line CLI error)."""
    if not re.fullmatch(NAME_PATTERN.strip("^$"), str(study)):
        raise ValueError(f"{str(study)[:100]!r} is not a study id or name")
    return quote(str(study), safe="")


def _lease(lease_id: str) -> str:
    """A lease id as one path segment (the service makes them URL-safe)."""
    if not LEASE_ID.fullmatch(lease_id):
        raise ValueError(f"{lease_id[:100]!r} is not a lease id")
    return lease_id


def _body(data: dict[str, Any]) -> dict[str, Any]:
    """A JSON body that may hold NaN or infinity (httpx refuses them): the lease routes take a
    non-finite value as a diverged trial, so it has to reach them."""
    return {
        "content": json.dumps(data).encode(),
        "headers": {"Content-Type": "application/json"},
    }


class Client:
    def __init__(
        self, url: str | None = None, token: str | None = None, timeout: float = 30.0
    ) -> None:
        """``url`` and ``token`` default to the settings' ``api_url`` and ``api_token``."""
        if url is None or token is None:
            settings = Settings()
            url, token = url or settings.api_url, token if token is not None else settings.token
        self.url, self.token, self.timeout = url, token or None, timeout
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=url, headers=headers, timeout=timeout)

    def copy(self) -> Client:
        """Another client of the same service (its own connections, e.g. for a thread)."""
        return Client(self.url, self.token or "", self.timeout)

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ClientError(0, f"cannot reach {self._http.base_url}: {exc}") from None
        if response.status_code >= 400:
            raise ClientError(response.status_code, _message(response))
        return response.json() if response.content else None

    def submit(self, spec: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", "/studies", json=spec)

    def studies(self, limit: int = 50, offset: int = 0) -> dict[str, Any]:
        return self._call("GET", "/studies", params={"limit": limit, "offset": offset})

    def status(self, study: str | int) -> dict[str, Any]:
        return self._call("GET", f"/studies/{_segment(study)}")

    def best(self, study: str | int) -> dict[str, Any]:
        return self._call("GET", f"/studies/{_segment(study)}/best")

    def trials(self, study: str | int, limit: int = 100, offset: int = 0) -> dict[str, Any]:
        return self._call(
            "GET", f"/studies/{_segment(study)}/trials", params={"limit": limit, "offset": offset}
        )

    def cancel(self, study: str | int) -> dict[str, Any]:
        return self._call("POST", f"/studies/{_segment(study)}/cancel")

    def delete(self, study: str | int) -> None:
        self._call("DELETE", f"/studies/{_segment(study)}")

    def schedules(self) -> dict[str, Any]:
        return self._call("GET", "/schedules")

    def preview(
        self, schedule: dict[str, Any], total_steps: int = 1000, base_lr: float = 0.1
    ) -> dict[str, Any]:
        body = {"schedule": schedule, "total_steps": total_steps, "base_lr": base_lr}
        return self._call("POST", "/schedules/preview", json=body)

    def healthz(self) -> dict[str, Any]:
        return self._call("GET", "/healthz")

    # -- leased trials (docs/leases.md) ----------------------------------------------------

    def trial(self, study: str | int, agent: str | None = None) -> LeasedTrial:
        """Lease one trial of an external study (``with client.trial(...) as t:``); while
        every remaining trial is out on lease, sleeps and asks again; StudyOver once the study
        hands out no more."""
        from schedsearch.client.trial import LeasedTrial

        return LeasedTrial.ask(self, study, agent=agent)

    def lease(self, study: str | int, agent: str | None = None) -> dict[str, Any]:
        """One ask: ``outcome`` trial (with ``lease`` and ``trial``), wait or over."""
        body = {"agent": agent} if agent else {}
        return self._call("POST", f"/studies/{_segment(study)}/leases", json=body)

    def lease_info(self, lease_id: str) -> dict[str, Any]:
        return self._call("GET", f"/leases/{_lease(lease_id)}")

    def heartbeat(self, lease_id: str) -> dict[str, Any]:
        return self._call("POST", f"/leases/{_lease(lease_id)}/heartbeat")

    def report(self, lease_id: str, epoch: int, value: float) -> dict[str, Any]:
        """``{"prune": bool, "state": "running" | "failed"}``."""
        body = _body({"epoch": epoch, "value": value})
        return self._call("POST", f"/leases/{_lease(lease_id)}/report", **body)

    def finish(
        self,
        lease_id: str,
        state: str,
        value: float | None = None,
        reason: str | None = None,
    ) -> dict[str, Any]:
        """End a lease: ``complete`` (needs ``value``), ``pruned``, ``failed`` or ``released``
        (handed back unfinished, to be tried again)."""
        body = _body({"state": state, "value": value, "reason": reason})
        return self._call("POST", f"/leases/{_lease(lease_id)}/finish", **body)

    def close(self) -> None:
        self._http.close()
