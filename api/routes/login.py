"""The status pages' login: the token posted once, kept in an HttpOnly, SameSite=Strict cookie
(see ``api.auth``), so it never travels in a URL, a link or an access log."""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import HTMLResponse, RedirectResponse

from api import pages
from api.auth import COOKIE, owner_of

router = APIRouter(tags=["ui"], default_response_class=HTMLResponse)


@router.get("/login")
def login_form() -> str:
    """The form; it posts the token to ``POST /login``."""
    return pages.login_page()


@router.post(
    "/login",
    responses={
        303: {"description": "to /ui, with the cookie"},
        401: {"description": "not a token of this service (the form again)"},
    },
)
async def login(request: Request) -> Response:
    """A form post (``token=...``, optionally ``next=/ui/...``): a known token sets the cookie
    and opens the page."""
    form = parse_qs((await request.body()).decode(errors="replace"))
    given = form.get("token", [""])[0].strip()
    if owner_of(given, request.app.state.tokens) is None and request.app.state.tokens:
        page = pages.login_page("that is not a token of this service")
        return HTMLResponse(page, status_code=status.HTTP_401_UNAUTHORIZED)
    after = form.get("next", ["/ui"])[0]
    if not after.startswith("/ui") or "//" in after:  # our own pages only: no open redirect
        after = "/ui"
    answer = RedirectResponse(after, status_code=status.HTTP_303_SEE_OTHER)
    answer.set_cookie(
        COOKIE,
        given,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/ui",
    )
    return answer


@router.post("/logout")
def logout() -> Response:
    answer = RedirectResponse("/login", status_code=status.HTTP_303_SEE_OTHER)
    answer.delete_cookie(COOKIE, path="/ui")
    return answer
