"""Error answers: a clear 4xx that names the field and the rule, never the input echoed back.

FastAPI's default 422 repeats each offending input, which cannot hold a NaN (a 500 instead of a
422) and hands a megabyte body straight back; these handlers keep the location, the message and
the rule only. Malformed JSON is the 400 the API documents. Bodies over ``MAX_BODY`` are refused
before they are read whole (413).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from schedsearch.core.errors import StudyExists, StudyNotFound

MAX_BODY = 1 << 20  # bytes: a study spec or a preview is a few kilobytes
# What a route with a JSON body documents beside its own answers.
BAD_BODY: dict[int | str, dict[str, Any]] = {
    400: {"description": "the body is not valid JSON"},
    413: {"description": f"the body is larger than {MAX_BODY} bytes"},
}


def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(error.get("type") == "json_invalid" for error in errors):
        return JSONResponse({"detail": "the body is not valid JSON"}, status_code=400)
    detail = [
        {"loc": list(error.get("loc", ())), "msg": error.get("msg", ""), "type": error.get("type")}
        for error in errors
    ]
    return JSONResponse({"detail": detail}, status_code=422)


def _message(status: int) -> Any:
    def handler(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=status)

    return handler


def install(app: FastAPI) -> None:
    """The handlers and the body cap, on ``app``."""
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StudyNotFound, _message(404))
    app.add_exception_handler(StudyExists, _message(409))
    app.add_middleware(BodyCap)


class BodyCap:
    """413 for a body over ``MAX_BODY`` bytes, by its Content-Length or as it streams in."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
            await _too_large(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > MAX_BODY:
                raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await _too_large(scope, receive, send)


class _TooLarge(Exception):
    pass


async def _too_large(scope: Scope, receive: Receive, send: Send) -> None:
    response = JSONResponse(
        {"detail": f"the body is larger than {MAX_BODY} bytes"}, status_code=413
    )
    await response(scope, receive, send)
