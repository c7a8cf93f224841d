"""/docs in a real headless browser (Debian's Chromium driven by Playwright) against the local gateway, with
every request off this machine refused: the operations render and Authorize signs a seeded user in."""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from helpers import until
from mantra.settings import Settings

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# the flags that keep Chromium from calling home on a machine with no network (each would be refused)
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def base(platform: Settings) -> Iterator[str]:
    from mantra.runtime.gateway import create_gateway

    server = uvicorn.Server(
        uvicorn.Config(create_gateway(), host="127.0.0.1", port=platform.api_port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{platform.api_port}"

    def up() -> bool:
        try:
            return httpx.get(f"{url}/api/health", timeout=1).status_code in (200, 503)
        except httpx.HTTPError:
            return False

    until(up, timeout_s=20)
    yield url
    server.should_exit = True
    thread.join(10)


def test_docs_render_offline_and_authorize_signs_in(base: str) -> None:
    from playwright.sync_api import sync_playwright

    elsewhere: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page()

            def only_here(route) -> None:  # type: ignore[no-untyped-def]
                if route.request.url.startswith(base):
                    route.continue_()
                else:
                    elsewhere.append(route.request.url)
                    route.abort()

            page.route("**/*", only_here)
            page.goto(f"{base}/docs")
            page.wait_for_selector(".opblock", timeout=20_000)
            paths = page.locator(".opblock-summary-path").all_inner_texts()
            assert len(paths) >= 30 and "/api/alerts" in paths and "/api/option-chain/{symbol}" in paths
            # Authorize with a seeded user through the OAuth2 password form
            page.click("button.authorize")
            page.fill("#oauth_username", "pro@demo.trademantra.in")
            page.fill("#oauth_password", "mantra-demo")
            page.click(".auth-btn-wrapper button.authorize")
            # the modal's own Logout button (an operation like /auth/logout also says "logout")
            page.locator(".modal-ux .auth-btn-wrapper button", has_text=re.compile("^Logout$")).wait_for(
                timeout=30_000
            )  # a password check under load
            assert "Authorized" in page.locator(".modal-ux").inner_text()
            page.locator(".modal-ux button", has_text="Close").first.click()
            # and a call made from the page carries the token: GET /api/me answers the signed-in user
            me = page.locator("#operations-auth-me_api_me_get")
            me.locator(".opblock-summary").click()
            me.locator("button", has_text="Try it out").click()
            me.locator("button", has_text="Execute").click()
            status = me.locator(".live-responses-table tr.response .response-col_status").first
            status.wait_for(timeout=30_000)
            assert status.inner_text().strip() == "200"
            assert "pro@demo.trademantra.in" in me.locator(".live-responses-table").inner_text()
        finally:
            browser.close()
    assert elsewhere == []  # nothing from a CDN, a font host or anywhere but the platform
