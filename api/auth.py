"""Bearer-token auth with scopes: on when any token is set (SCHEDSEARCH_API_TOKEN, _API_TOKENS
or _API_TOKENS_FILE), compared in constant time.

A token's scope is ``read`` (list, status, trials, best, plots, metrics, previews, docs),
``write`` (also submit studies) or ``admin`` (also cancel and delete). A missing or unknown
token is 401; a valid one without the scope a route needs is 403, naming both.

Browsers cannot send a bearer header when following a link, so the HTML pages (GET only, read
scope) also take the token from the cookie that ``POST /login`` sets: HttpOnly, SameSite=Strict,
so no script reads it and no other site's page sends it, and it is never in a URL or a log.
A page opened without it is sent to ``/login``.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from fastapi import HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from schedsearch.settings import SCOPES

_bearer = HTTPBearer(auto_error=False, description="an API token")


def owner_of(given: str, tokens: dict[str, tuple[str, str]]) -> tuple[str, str] | None:
    """The (name, scope) of a token, or None when it is not one of ours; every secret is
    compared, in constant time."""
    found = None
    for secret, owner in tokens.items() if given else ():
        if hmac.compare_digest(given.encode(), secret.encode()):
            found = owner
    return found


def _check(owner: tuple[str, str], scope: str) -> None:
    name, has = owner
    if SCOPES.index(has) < SCOPES.index(scope):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail=f"token {name!r} has scope {has}; this needs {scope}",
        )


COOKIE = "schedsearch_token"


def require(scope: str, page: bool = False) -> Callable[[Request], Awaitable[None]]:
    """A dependency: a token with at least ``scope`` (``page``: or the login cookie; without
    either, a redirect to the login page)."""

    async def check(request: Request) -> None:
        tokens: dict[str, tuple[str, str]] = request.app.state.tokens
        if not tokens:
            return
        credentials: HTTPAuthorizationCredentials | None = await _bearer(request)
        given = credentials.credentials if credentials else ""
        if not given and page:
            given = request.cookies.get(COOKIE, "")
            if not given:
                raise HTTPException(status.HTTP_303_SEE_OTHER, headers={"Location": "/login"})
        owner = owner_of(given, tokens)
        if owner is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                detail="missing or wrong bearer token" if given else "a bearer token is required",
                headers={"WWW-Authenticate": "Bearer"},
            )
        _check(owner, scope)
        request.state.token_name = owner[0]  # who holds what this request leases

    return check


require_token = require("read")
require_page = require("read", page=True)
require_write = require("write")
require_admin = require("admin")
