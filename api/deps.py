"""What routes depend on, defined once: the store, opened on first use (so the service starts
even while the database is down) from the app's settings, and the leasing of external trials
on it."""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import Depends, Request

from api.asks import AskPool
from api.heap import settle_heap
from schedsearch.search.leased import Leasing
from schedsearch.store import Store

_lock = threading.Lock()
API_POOL = 10  # connections (plus as many overflow) for the thread pool's concurrent requests


def get_store(request: Request) -> Store:
    state = request.app.state
    if state.store is None:
        with _lock:
            if state.store is None:
                settings = state.settings
                state.store = Store.from_settings(settings, pool_size=API_POOL)
                state.leasing = Leasing(state.store)
                settle_heap()  # the store's engine and Optuna's models are here to stay
    store: Store = state.store
    return store


def get_leasing(request: Request) -> Leasing:
    get_store(request)
    leasing: Leasing = request.app.state.leasing
    return leasing


def get_asks(request: Request) -> AskPool:
    asks: AskPool = request.app.state.asks
    return asks


def get_owner(request: Request) -> str:
    """Who holds the leases this request takes: the token's name (``anonymous`` without
    tokens), so that one token's leases cannot be reported on with another."""
    return str(getattr(request.state, "token_name", "anonymous"))


StoreDep = Annotated[Store, Depends(get_store)]
LeasingDep = Annotated[Leasing, Depends(get_leasing)]
OwnerDep = Annotated[str, Depends(get_owner)]
AsksDep = Annotated[AskPool, Depends(get_asks)]
