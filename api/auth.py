"""Bearer-token auth: on when SCHEDSEARCH_API_TOKEN is set, compared in constant time."""

from __future__ import annotations

import hmac

from fastapi import HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

_bearer = HTTPBearer(auto_error=False, description="SCHEDSEARCH_API_TOKEN")


async def require_token(request: Request) -> None:
    expected: str | None = request.app.state.token
    if not expected:
        return
    credentials: HTTPAuthorizationCredentials | None = await _bearer(request)
    given = credentials.credentials if credentials else ""
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="missing or wrong bearer token" if given else "a bearer token is required",
            headers={"WWW-Authenticate": "Bearer"},
        )
