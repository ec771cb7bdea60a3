"""Error answers: a clear 4xx that names the field and the rule, never the input echoed back.

FastAPI's default 422 repeats each offending input, which cannot hold a NaN (a 500 instead of a
422) and hands a megabyte body straight back; these handlers keep the location, the message and
the rule only. A location or message can still quote the input (an unknown key, a family name):
any word longer than ``LONG`` characters is cut, and a body with thousands of wrong keys gets the
first ``MAX_ERRORS`` errors and a count, not one error per key (7 MB for a 1 MB body before).
Malformed JSON is the 400 the API documents. Bodies over ``MAX_BODY`` are refused before they
are read whole (413), and so are JSON bodies of more than ``MAX_ITEMS`` array items or object
members: validating 500,000 wrong list items took 4.8 s of the event loop before, for one 1 MB
request. A study reference of digits other than ASCII's (``³``) is no study: a 404 (the store
reads any ``str.isdigit()`` reference as an id, and ``int("³")`` raised: a 500 on every route
that names a study).
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from schedsearch.core.errors import (
    BadReport,
    LeaseConflict,
    LeaseNotFound,
    NotYourLease,
    StudyExists,
    StudyNotFound,
)

MAX_BODY = 1 << 20  # bytes: a study spec or a preview is a few kilobytes
MAX_ITEMS = 20_000  # array items and object members in a JSON body (a preview's metrics: 10,000)
# What a route with a JSON body documents beside its own answers.
BAD_BODY: dict[int | str, dict[str, Any]] = {
    400: {"description": "the body is not valid JSON"},
    413: {"description": f"the body is larger than {MAX_BODY} bytes or {MAX_ITEMS} items"},
}


def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(error.get("type") == "json_invalid" for error in errors):
        return JSONResponse({"detail": "the body is not valid JSON"}, status_code=400)
    detail = [
        {
            "loc": [_cut(part) if isinstance(part, str) else part for part in error.get("loc", ())],
            "msg": _cut(error.get("msg", "")),
            "type": error.get("type"),
        }
        for error in errors[:MAX_ERRORS]
    ]
    if len(errors) > MAX_ERRORS:
        more = len(errors) - MAX_ERRORS
        detail.append({"loc": [], "msg": f"and {more} more errors", "type": "too_many_errors"})
    return JSONResponse({"detail": detail}, status_code=422)


MAX_ERRORS = 20  # errors listed in one 422
LONG = 60  # characters: a longer word (a run without blanks) in a location or message is cut
_LONG_WORD = re.compile(rf"\S{{{LONG + 1},}}")


def _cut(text: str) -> str:
    """``text`` with each word over ``LONG`` characters cut to its start and its length, and
    at most 1,000 characters in all: what the client sent never comes back whole."""
    cut = _LONG_WORD.sub(lambda word: f"{word[0][:40]}... ({len(word[0])} characters)", text)
    return cut if len(cut) <= 1000 else f"{cut[:1000]}..."


def _message(status: int) -> Any:
    def handler(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": _cut(str(exc))}, status_code=status)

    return handler


def install(app: FastAPI) -> None:
    """The handlers, the study-reference check and the body cap, on ``app``; before its routes
    are included (the check is a dependency of every route)."""
    app.router.dependencies.append(Depends(_study_reference))
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StudyNotFound, _message(404))
    app.add_exception_handler(StudyExists, _message(409))
    app.add_exception_handler(LeaseNotFound, _message(404))
    app.add_exception_handler(LeaseConflict, _message(409))
    app.add_exception_handler(NotYourLease, _message(403))
    app.add_exception_handler(BadReport, _message(422))
    app.add_middleware(BodyCap)


def _study_reference(request: Request) -> None:
    """404 for a ``{study}`` of digits that are not all ASCII (``³``, ``①``, ``٣``): ids are
    ASCII digits, and a name is never all digits."""
    reference = request.path_params.get("study")
    if isinstance(reference, str) and reference.isdigit() and not reference.isascii():
        raise StudyNotFound(f"no study {reference!r}")


class BodyCap:
    """413 for a body over ``MAX_BODY`` bytes, by its Content-Length or as it streams in, or
    for a JSON body of more than ``MAX_ITEMS`` items (read whole, then handed on)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
            await _too_large(scope, receive, send)
            return
        kind = headers.get(b"content-type")
        if kind is None or b"json" in kind.lower():  # what FastAPI parses as JSON
            await self._json(scope, receive, send)
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

    async def _json(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Read the body whole, count its items, then replay it to the app."""
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            size += len(message.get("body", b""))
            if size > MAX_BODY:
                await _too_large(scope, receive, send)
                return
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        body = b"".join(m.get("body", b"") for m in messages)
        if _items(body) > MAX_ITEMS:
            await _too_large(scope, receive, send, f"the body holds more than {MAX_ITEMS} items")
            return
        queued = iter(messages)

        async def replay() -> Message:
            return next(queued, None) or await receive()

        await self.app(scope, replay, send)


_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)


def _items(body: bytes) -> int:
    """The commas outside the JSON strings: an upper bound on what validation can complain
    about, one per array item or object member (under 0.1 s for a megabyte)."""
    commas = body.count(b",")
    return commas if commas <= MAX_ITEMS else _STRING.sub(b"", body).count(b",")


class _TooLarge(Exception):
    pass


async def _too_large(
    scope: Scope,
    receive: Receive,
    send: Send,
    detail: str = f"the body is larger than {MAX_BODY} bytes",
) -> None:
    response = JSONResponse({"detail": detail}, status_code=413)
    await response(scope, receive, send)
