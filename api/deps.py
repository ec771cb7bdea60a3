"""What routes depend on, defined once: the store, opened on first use (so the service starts
even while the database is down) from the app's settings."""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import Depends, Request

from schedsearch.store import Store

_lock = threading.Lock()
API_POOL = 10  # connections (plus as many overflow) for the thread pool's concurrent requests


def get_store(request: Request) -> Store:
    state = request.app.state
    if state.store is None:
        with _lock:
            if state.store is None:
                state.store = Store(state.settings.database_url, pool_size=API_POOL)
    store: Store = state.store
    return store


StoreDep = Annotated[Store, Depends(get_store)]
