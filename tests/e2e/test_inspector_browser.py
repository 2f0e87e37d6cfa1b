"""The inspector page in headless Chromium (issue 6).

The cookie round trip behind the README's nginx TLS recipe reports the
Secure test cookie present on https, and missing, with the rule that
explains it, on a plain-http name; a screenshot of the page is taken and
checked for its key labels (and left in the test's tmp dir for a person).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .proxies import Tls, start_site
from .recipes import HOST, RECIPES, backend_argv, serve_commands

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).parents[2]
LABELS = (
    "wsgifix inspector",
    "Trust decision",
    "Cookie round trip",
    "The request",
    "Recent findings",
    "Settings in effect",
)


def inspector_argv() -> list[str]:
    """The README nginx recipe's ``wsgifix serve`` command, with no app."""
    command = serve_commands(RECIPES["nginx"])["site"]
    return [arg for arg in backend_argv(command, "") if arg]


def round_trip(page: Page, base: str) -> dict[str, Any]:
    """Set the test cookies, follow the check link, read the JSON verdict."""
    page.goto(base + "/?cookies=set")
    page.click("text=Check which came back")
    assert "cookies=check" in page.url
    text = page.inner_text("body")
    assert "came back" in text
    response = page.goto(page.url + "&format=json")
    assert response is not None
    result: dict[str, Any] = json.loads(response.text())["cookies"]
    return result


def test_round_trip_secure_cookie_on_http_and_https(
    browser: Browser, server_factory: Any, tmp_path: Path, tls: Tls
) -> None:
    backend = server_factory(inspector_argv(), cwd=ROOT)
    site = start_site("nginx", tmp_path, tls, backend.port, backend.port)
    try:
        context = browser.new_context(ignore_https_errors=True)
        try:
            # Through nginx over https: every test cookie comes back.
            https = round_trip(context.new_page(), site.url("").rstrip("/"))
            assert "wsgifix_secure" in https["returned"]
            assert "__Host-wsgifix" in https["returned"]
            assert https["missing"] == {}
        finally:
            context.close()
        context = browser.new_context()
        try:
            # Straight to waitress on a plain-http, non-localhost name: the
            # Secure ones are dropped, and the page says why.
            plain = round_trip(context.new_page(), f"http://{HOST}:{backend.port}")
        finally:
            context.close()
    finally:
        site.stop()
    assert "wsgifix_plain" in plain["returned"]
    assert "wsgifix_secure" not in plain["returned"]
    why = plain["missing"]["wsgifix_secure"]
    assert [w["rule"] for w in why] == ["secure-over-http"]
    assert "SecureOnly" in why[0]["message"]


def test_screenshot_shows_the_key_labels(
    browser: Browser, server_factory: Any, tmp_path: Path
) -> None:
    backend = server_factory(
        ["wsgifix", "serve", "--port", "0", "--trusted-proxies", "loopback"], cwd=ROOT
    )
    page = browser.new_page(viewport={"width": 420, "height": 900})  # a phone
    try:
        page.set_extra_http_headers(
            {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Host": "shop.example"}
        )
        page.goto(f"http://{HOST}:{backend.port}/")
        shot = tmp_path / "inspector.png"
        page.screenshot(path=str(shot), full_page=True)
        text = page.inner_text("body")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth > window.innerWidth + 1"
        )
    finally:
        page.close()
    assert shot.stat().st_size > 10_000
    for label in LABELS:
        assert label in text, label
    assert "add x-forwarded-host to trusted_headers" in text
    assert not overflow, "the page scrolls sideways on a phone"
    print(f"screenshot: {shot}")
