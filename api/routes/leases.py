"""Leased trials for external training loops: ask, heartbeat, report, finish (docs/leases.md).

Thin: every decision is ``search.leased``'s. Each route is plain ``def`` (blocking database
work runs in FastAPI's thread pool; an ask waits there for its sampling process); a lease is
held by the token that took it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Response

from api.auth import require_token, require_write
from api.deps import AsksDep, LeasingDep, OwnerDep
from api.errors import BAD_BODY
from api.lease_schemas import AskOut, FinishIn, LeaseOut, ReportIn, ReportOut
from schedsearch.reports.results import config_of
from schedsearch.search.leased import Asked, Leasing
from schedsearch.store import Lease

router = APIRouter(tags=["leases"], dependencies=[Depends(require_token)])
WRITE = [Depends(require_write)]
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "missing or wrong bearer token"},
    403: {"description": "the token's scope does not allow this, or the lease is another's"},
    404: {"description": "no such study or lease"},
    409: {"description": "the lease has ended or expired, or the study is not external"},
}


def lease_out(leasing: Leasing, lease: Lease) -> dict[str, Any]:
    beats = leasing.store.heartbeats
    return {
        "id": lease.id,
        "study_id": lease.study_id,
        "trial_number": lease.trial_number,
        "state": lease.state.value,
        "expires_at": lease.expires_at,
        "seconds": beats.grace_period,
        "renew_every": beats.interval,
        "value": lease.value,
        "reason": lease.reason,
    }


def asked_out(leasing: Leasing, asked: Asked) -> dict[str, Any]:
    study = asked.study
    out: dict[str, Any] = {"outcome": asked.outcome, "status": study.status.value}
    if asked.outcome == "over":
        out["detail"] = f"study {study.name!r} is {study.status.value}: no trials left"
    if asked.outcome == "wait":
        out["retry_after"] = asked.retry_after
        out["detail"] = "every remaining trial is out on lease; ask again later"
    if asked.lease is not None and asked.record is not None:
        record = asked.record
        assert record.base_lr is not None
        out["lease"] = lease_out(leasing, asked.lease)
        out["trial"] = {
            "study": study.name,
            "study_id": study.id,
            "number": asked.number,
            **config_of(study.spec, record.config(), record.base_lr),
        }
    return out


@router.post(
    "/studies/{study}/leases",
    response_model=AskOut,
    responses=ERRORS,
    dependencies=WRITE,
)
def ask(
    study: str, leasing: LeasingDep, asks: AsksDep, owner: OwnerDep, response: Response
) -> dict[str, Any]:
    """The study's next trial under a lease (sampled now, in a sampling process: api.asks),
    or when to ask again."""
    asked = asks.ask(leasing, study, owner)
    if asked.outcome == "wait":
        response.headers["Retry-After"] = str(max(1, round(asked.retry_after)))
    return asked_out(leasing, asked)


@router.get("/leases/{lease}", response_model=LeaseOut, responses=ERRORS)
def get_lease(lease: str, leasing: LeasingDep) -> dict[str, Any]:
    """A lease's state and expiry."""
    return lease_out(leasing, leasing.lease(lease))


@router.post(
    "/leases/{lease}/heartbeat", response_model=LeaseOut, responses=ERRORS, dependencies=WRITE
)
def heartbeat(lease: str, leasing: LeasingDep, owner: OwnerDep) -> dict[str, Any]:
    """Keep the lease (a real epoch can outlast it): renew every ``renew_every`` seconds."""
    return lease_out(leasing, leasing.heartbeat(lease, owner))


@router.post(
    "/leases/{lease}/report",
    response_model=ReportOut,
    responses={**ERRORS, **BAD_BODY, 422: {"description": "an epoch past the trial's end"}},
    dependencies=WRITE,
)
def report(lease: str, body: ReportIn, leasing: LeasingDep, owner: OwnerDep) -> dict[str, Any]:
    """One value per epoch; says whether to prune. A repeated epoch records once and answers
    the same; a NaN or infinite value fails the trial (diverged)."""
    prune, state = leasing.report(lease, owner, body.epoch, body.value)
    return {"prune": prune, "state": state}


@router.post(
    "/leases/{lease}/finish",
    response_model=LeaseOut,
    responses={**ERRORS, **BAD_BODY},
    dependencies=WRITE,
)
def finish(lease: str, body: FinishIn, leasing: LeasingDep, owner: OwnerDep) -> dict[str, Any]:
    """End the trial: complete with its value, pruned, failed (with a reason) or released
    (handed back to run again). The same finish twice answers the same; a different one 409."""
    ended = leasing.finish(lease, owner, body.state, body.value, body.reason)
    return lease_out(leasing, ended)
