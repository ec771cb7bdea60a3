"""The FastAPI app factory: ``uvicorn --factory api.main:create_app``."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import docs, errors
from api.asks import AskPool
from api.heap import settle_heap
from api.routes import health, leases, login, metrics, plots, schedules, studies
from api.status_cache import StatusCache
from schedsearch.settings import Settings

log = logging.getLogger("schedsearch.api")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settle_heap()
    yield
    app.state.asks.close()  # the sampling processes go with the server


def create_app(settings: Settings | None = None) -> FastAPI:
    """The app on the settings' database (default: read from the environment); bearer auth
    when ``api_token`` is set."""
    settings = settings or Settings()
    app = FastAPI(
        title="schedsearch",
        version="0.1.0",
        description="Search learning-rate schedules for your CNN: submit a study, watch it, "
        "fetch the best schedule as a config and a PyTorch snippet.",
        openapi_url=None,  # served by api.docs, behind the token
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.tokens = settings.scoped_tokens()
    app.state.store = None
    app.state.asks = AskPool(settings)
    app.state.status_cache = StatusCache(settings.status_ttl)
    if not app.state.tokens:
        log.warning("no API token is set: the API is open to anyone who reaches it")

    errors.install(app)
    docs.install(app, public=settings.public_docs or not app.state.tokens)
    routers = (
        health.router,
        studies.router,
        leases.router,
        schedules.router,
        plots.plots,
        plots.ui,
        login.router,
        metrics.router,
    )
    for router in routers:
        app.include_router(router)
    return app
