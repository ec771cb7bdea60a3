"""Bearer-token auth: on when SCHEDSEARCH_API_TOKEN is set, compared in constant time.

Browsers cannot send a bearer header when following a link, so the HTML pages also take the
token as a ``?token=`` query parameter (and carry it in their own links).
"""

from __future__ import annotations

import hmac

from fastapi import HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

_bearer = HTTPBearer(auto_error=False, description="SCHEDSEARCH_API_TOKEN")


def _matches(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


async def require_token(request: Request) -> None:
    expected: str | None = request.app.state.token
    if not expected:
        return
    credentials: HTTPAuthorizationCredentials | None = await _bearer(request)
    given = credentials.credentials if credentials else ""
    if not _matches(given, expected):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="missing or wrong bearer token" if given else "a bearer token is required",
            headers={"WWW-Authenticate": "Bearer"},
        )


async def require_token_or_query(request: Request) -> None:
    """For pages opened in a browser: the bearer header, or ``?token=``."""
    expected: str | None = request.app.state.token
    if expected and _matches(request.query_params.get("token", ""), expected):
        return
    await require_token(request)
