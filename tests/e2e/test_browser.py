"""Headless Chromium behind nginx (the README recipe): the Flask session set
on ``/app/set`` is present on ``/app/check`` with wsgifix, and lost without
it (issue 5).

Each scenario runs twice in a fresh browser context, behind the same nginx
recipe: once with the app under plain ``waitress-serve`` (the app wrapped
in werkzeug's ``ProxyFix(x_proto=1, x_prefix=1)``, as users do without
wsgifix) where it must fail, so the test proves the fix rather than the
setup, and once under the README's ``wsgifix serve`` command. Where
Chromium blocks the cookie, its reason (CDP ``blockedReasons``) is the
token the wsgifix finding for that cookie names (CONTRACT.md section 7).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .proxies import Site, Tls, get, start_site
from .recipes import HOST, RECIPES, backend_argv, serve_commands

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.e2e

APPS = "tests.e2e.apps.flaskapp"
SESSION = "session"  # Flask's session cookie


@pytest.fixture
def behind_nginx(
    server_factory: Any, tmp_path: Path, tls: Tls
) -> Iterator[Callable[[list[str]], Site]]:
    """Start a backend command and the README nginx recipe in front of it."""
    sites: list[Site] = []

    def start(argv: list[str]) -> Site:
        backend = server_factory(argv, cwd=Path(__file__).parents[2])
        work = tmp_path / f"nginx{len(sites)}"
        work.mkdir()
        sites.append(start_site("nginx", work, tls, backend.port, backend.port))
        return sites[-1]

    yield start
    for site in sites:
        site.stop()


def with_wsgifix(app: str) -> list[str]:
    """The README nginx recipe's ``wsgifix serve`` command."""
    return backend_argv(serve_commands(RECIPES["nginx"])["site"], f"{APPS}:{app}")


def without_wsgifix(app: str) -> list[str]:
    return ["waitress-serve", "--listen=127.0.0.1:0", f"{APPS}:{app}"]


@dataclass
class Visit:
    landed: str  # the URL the browser ended on after /app/set
    user: str | None  # the session's user as /app/check showed it
    app_url: str  # url_for("index", _external=True) on /app/
    blocked: dict[str, list[str]] = field(default_factory=dict)  # cookie: reasons


def visit(browser: Browser, site: Site) -> Visit:
    """Open /app/set (it redirects to /app/check), then /app/, in a fresh
    context, recording why Chromium blocked any cookie."""
    context = browser.new_context(ignore_https_errors=True)
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        blocked: dict[str, list[str]] = {}

        def on_extra_info(event: dict[str, Any]) -> None:
            for item in event.get("blockedCookies", []):
                name = item.get("cookie", {}).get("name")
                name = name or item["cookieLine"].split("=", 1)[0].strip()
                blocked.setdefault(name, []).extend(item["blockedReasons"])

        cdp.on("Network.responseReceivedExtraInfo", on_extra_info)
        cdp.send("Network.enable")
        response = page.goto(site.url("/app/set"))
        assert response is not None
        landed = page.url
        try:
            user = json.loads(response.text()).get("user")
        except ValueError:  # not the app's JSON: nginx's error page
            user = None
        index = page.goto(site.url("/app/"))
        assert index is not None
        return Visit(landed, user, index.json()["url"], blocked)
    finally:
        context.close()


@dataclass(frozen=True)
class CookieCase:
    app: str  # attribute of tests/e2e/apps/flaskapp.py
    reason: str  # Chromium's blockedReasons token without wsgifix
    rule: str  # the COOKIE_RULES.md rule wsgifix reports and fixes


@pytest.mark.parametrize(
    "case",
    [
        # (a) FIELD-NOTES: SameSite=None without Secure is dropped even over
        # https; behind the TLS proxy wsgifix adds Secure.
        pytest.param(
            CookieCase(
                "samesite_none", "SameSiteNoneInsecure", "samesite-none-insecure"
            ),
            id="a-samesite-none-behind-https",
        ),
        # (b) SESSION_COOKIE_DOMAIN unrelated to the host: dropped; wsgifix
        # removes the Domain (COOKIE_RULES.md domain-mismatch).
        pytest.param(
            CookieCase("foreign_domain", "InvalidDomain", "domain-mismatch"),
            id="b-unrelated-cookie-domain",
        ),
    ],
)
def test_session_cookie_chromium_drops_is_kept_with_wsgifix(
    browser: Browser,
    behind_nginx: Callable[[list[str]], Site],
    tls: Tls,
    case: CookieCase,
) -> None:
    bare = behind_nginx(without_wsgifix(case.app))
    without = visit(browser, bare)
    # The redirect worked; only the cookie is missing, for Chromium's reason.
    assert without.landed == bare.url("/app/check")
    assert without.user is None
    assert case.reason in without.blocked.get(SESSION, []), without.blocked

    fixed = behind_nginx(with_wsgifix(case.app))
    with_ = visit(browser, fixed)
    assert with_.landed == fixed.url("/app/check")
    assert with_.user == "alice"
    assert SESSION not in with_.blocked, with_.blocked
    # wsgifix saw the same problem on the same cookie, named it with
    # Chromium's token (CONTRACT.md section 7) and fixed it.
    findings = get(tls, fixed.port, "/app/findings").json()
    ours = [f for f in findings if f["cookie"] == SESSION and f["rule"] == case.rule]
    assert ours, findings
    assert all(case.reason in f["message"] and f["fixed"] for f in ours), ours


def test_waitress_default_trap_http_urls_behind_https(
    browser: Browser, behind_nginx: Callable[[list[str]], Site]
) -> None:
    # (c) CONTRACT.md section 6 / FIELD-NOTES: plain waitress-serve deletes
    # X-Forwarded-Proto before ProxyFix(x_proto=1) can read it, so behind
    # nginx https the app builds http:// URLs; /set redirects to one and the
    # browser lands on nginx's TLS port speaking plain http. wsgifix serve
    # keeps the header for wsgifix to trust: https, and the session arrives.
    bare = behind_nginx(without_wsgifix("external_redirect"))
    without = visit(browser, bare)
    port = bare.port
    assert without.app_url == f"http://{HOST}:{port}/app/"
    assert without.landed == f"http://{HOST}:{port}/app/check"
    assert without.user is None

    fixed = behind_nginx(with_wsgifix("external_redirect"))
    with_ = visit(browser, fixed)
    port = fixed.port
    assert with_.app_url == f"https://{HOST}:{port}/app/"
    assert with_.landed == f"https://{HOST}:{port}/app/check"
    assert with_.user == "alice"
