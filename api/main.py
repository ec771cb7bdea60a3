"""The FastAPI app factory: ``uvicorn --factory api.main:create_app``."""

from __future__ import annotations

import logging
import os

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from api.routes import health, metrics, plots, schedules, studies
from api.status_cache import StatusCache
from schedsearch.store import StudyExists, StudyNotFound, database_url

log = logging.getLogger("schedsearch.api")


def create_app(db_url: str | None = None, token: str | None = None) -> FastAPI:
    """The app on ``db_url`` (default: SCHEDSEARCH_DATABASE_URL); bearer auth when ``token`` or
    SCHEDSEARCH_API_TOKEN is set."""
    app = FastAPI(
        title="schedsearch",
        version="0.1.0",
        description="Search learning-rate schedules for your CNN: submit a study, watch it, "
        "fetch the best schedule as a config and a PyTorch snippet.",
    )
    app.state.database_url = database_url(db_url)
    app.state.token = token if token is not None else os.environ.get("SCHEDSEARCH_API_TOKEN")
    app.state.store = None
    app.state.status_cache = StatusCache()
    if not app.state.token:
        log.warning("SCHEDSEARCH_API_TOKEN is not set: the API is open to anyone who reaches it")

    @app.exception_handler(StudyNotFound)
    def not_found(request: Request, exc: StudyNotFound) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(StudyExists)
    def exists(request: Request, exc: StudyExists) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=409)

    routers = (
        health.router,
        studies.router,
        schedules.router,
        plots.plots,
        plots.ui,
        metrics.router,
    )
    for router in routers:
        app.include_router(router)
    return app
