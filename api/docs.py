"""The API's own description (``/openapi.json``, ``/docs``, ``/redoc``), behind the token.

The schema lists every route and field: with a token set it is as private as the routes it
describes, unless ``SCHEDSEARCH_PUBLIC_DOCS`` says otherwise (a browser cannot send a bearer
header to the interactive pages: publish them, or read the schema with the token).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from api.auth import require_token


def install(app: FastAPI, public: bool) -> None:
    """Serve the schema and its pages, with the routes' own bearer auth unless ``public``."""
    router = APIRouter(
        include_in_schema=False, dependencies=[] if public else [Depends(require_token)]
    )

    @router.get("/openapi.json")
    def openapi(request: Request) -> JSONResponse:
        schema: dict[str, Any] = request.app.openapi()
        return JSONResponse(schema)

    @router.get("/docs")
    def swagger() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{app.title} - docs")

    @router.get("/redoc")
    def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url="/openapi.json", title=f"{app.title} - docs")

    app.include_router(router)
