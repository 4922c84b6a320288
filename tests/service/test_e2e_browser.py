"""End to end in headless Chromium (Debian's package, driven by Playwright; never a browser download):
log in, open a match (blurred; a reveal asks a reason and appears in the log), confirm it, create a takedown
request, and see it on the case timeline."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from reclaim.api.app import create_app
from reclaim.evidence.log import read_entries
from reclaim.settings import load_settings
from reclaim.workspace import open_store
from tests.service.conftest import World, build_world

CHROMIUM = Path(os.environ.get("RECLAIM_CHROMIUM", "/usr/bin/chromium"))
playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed (make test installs it)"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, World, object]]:
    import uvicorn

    settings = load_settings(tmp_path / "home", f"sqlite:///{tmp_path / 'e2e.db'}")
    store = open_store(settings)
    world = build_world(store, settings)
    port = _free_port()
    config = uvicorn.Config(create_app(settings, store), host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(100):
        if srv.started:
            break
        time.sleep(0.05)
    try:
        yield f"http://localhost:{port}", world, store
    finally:
        srv.should_exit = True
        thread.join(10)
        store.close()


def test_a_caseworker_reviews_and_requests_a_takedown(server) -> None:
    base, world, store = server
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        page = browser.new_page()
        page.goto(f"{base}/login")
        page.fill("#token", world.tokens["caseworker"])
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/")
        assert page.locator(".queue .item").count() == 2
        assert "today:" in page.inner_text("#seen-today")

        # keyboard: Enter opens the selected (first) match
        page.keyboard.press("Enter")
        page.wait_for_url(f"{base}/matches/{world.matches['adult']}")
        src = page.get_attribute("#preview", "src") or ""
        assert "clear" not in src
        page.wait_for_function("document.querySelector('#preview').naturalWidth > 0")

        # revealing asks for a reason; the browser refuses an empty one
        page.click("#reveal-form button[type=submit]")
        assert page.url.endswith(f"/matches/{world.matches['adult']}")
        page.keyboard.press("v")
        page.fill("#reveal-reason", "to check it is her photo")
        page.click("#reveal-form button[type=submit]")
        page.wait_for_selector("#preview[src*='clear=true']")
        assert "to check it is her photo" in page.inner_text(".history")

        # confirm with the keyboard: c asks for a reason, Enter submits
        page.keyboard.press("c")
        page.fill("#decision-reason", "same photo as enrolled")
        page.keyboard.press("Enter")
        page.wait_for_url(f"{base}/matches/{world.matches['adult2']}")

        page.goto(f"{base}/cases/case-a")
        page.select_option("#destination", "telegram")
        page.click("#takedown-form button[type=submit]")
        page.wait_for_url("**/requests/*")
        assert "drafted" in page.inner_text("h1")
        page.goto(f"{base}/cases/case-a")
        timeline = page.inner_text("#timeline")
        assert "to telegram: drafted" in timeline and "confirm by caseworker" in timeline
        browser.close()

    with store.transaction() as s:  # type: ignore[attr-defined]
        kinds = [(e.kind, json.loads(e.entry)) for e in read_entries(s)]
    reveals = [body for kind, body in kinds if kind == "reveal"]
    assert len(reveals) == 1 and "to check it is her photo" in json.dumps(reveals[0])
    assert any(kind == "decision" and "same photo as enrolled" in json.dumps(b) for kind, b in kinds)
