"""The status pages' login (hardening item 12): the token is posted once and kept in an
HttpOnly, SameSite=Strict cookie, used by the GET pages only; it never appears in a URL, a
link or the server's access log. Real uvicorn, real HTTP."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from schedsearch.core.spec import StudySpec
from schedsearch.store import Store
from tests.processes import TOKEN, serve

pytestmark = pytest.mark.slow


def test_pages_open_with_the_login_cookie_only(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'login.db'}"
    Store(db_url).studies.create(StudySpec(name="seen", n_trials=2))
    server, url = serve(db_url, TOKEN)
    try:
        with httpx.Client(base_url=url, follow_redirects=False) as browser:
            bare = browser.get("/ui")
            assert bare.status_code == 303 and bare.headers["location"] == "/login"
            assert browser.get(f"/ui?token={TOKEN}").status_code == 303  # no tokens in URLs
            assert "type='password'" in browser.get("/login").text
            wrong = browser.post("/login", data={"token": "not-the-token"})
            assert wrong.status_code == 401 and "not a token" in wrong.text
            assert "schedsearch_token" not in wrong.headers.get("set-cookie", "")
            good = browser.post("/login", data={"token": TOKEN})
            assert good.status_code == 303 and good.headers["location"] == "/ui"
            cookie = good.headers["set-cookie"].lower()
            assert "httponly" in cookie and "samesite=strict" in cookie and "path=/ui" in cookie
            listing = browser.get("/ui")  # the client keeps the cookie, as a browser does
            assert listing.status_code == 200 and "seen" in listing.text
            assert "token" not in listing.text  # no link carries it
            study = browser.get("/ui/studies/seen")
            assert study.status_code == 200 and "href='/ui'" in study.text
            # the cookie opens pages, not the JSON API (no cross-site request can use it)
            api = httpx.get(f"{url}/studies", cookies={"schedsearch_token": TOKEN})
            assert api.status_code == 401
            out = browser.post("/logout")
            assert out.status_code == 303 and browser.get("/ui").status_code == 303
    finally:
        server.terminate()
        server.wait(timeout=30)
