"""Each README proxy recipe, run for real: what the app sees is what the
client used (issue 5).

For nginx, Apache httpd, HAProxy and Caddy, the recipe's config (from
``examples/proxies/``) terminates TLS on a random, so non-default, port in
front of the README's ``wsgifix serve`` commands. Three mounts per proxy:
the app at ``/``, at ``/app/`` with the prefix stripped and sent as
``X-Forwarded-Prefix``, and at ``/app/`` forwarded unchanged to
``wsgifix serve --prefix /app``. Each proxy starts once for this module.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

import pytest

from .proxies import PROXIES, Site, Tls, get, start_backends, start_site
from .recipes import HOST

pytestmark = pytest.mark.e2e

APP = "tests.e2e.apps.flaskapp:app"

MOUNTS = [
    pytest.param("site", "/", id="root"),
    pytest.param("site", "/app/", id="app-stripped"),
    pytest.param("unstripped", "/app/", id="app-unstripped"),
]

# What a client on this machine forges: two X-Forwarded-For lines (HAProxy
# must delete both), and every other forwarding header wsgifix knows.
FORGED = [
    ("X-Forwarded-For", "6.6.6.6"),
    ("X-Forwarded-For", "7.7.7.7"),
    ("X-Forwarded-Host", "evil.example"),
    ("X-Forwarded-Proto", "http"),
    ("X-Forwarded-Port", "1"),
    ("X-Forwarded-Prefix", "/evil"),
    ("Forwarded", "for=6.6.6.6;proto=http;host=evil.example"),
]


@pytest.fixture(scope="module", params=PROXIES)
def site(
    request: pytest.FixtureRequest, tls: Tls, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    proxy: str = request.param
    backends = start_backends(proxy, APP)
    try:
        started = start_site(
            proxy,
            tmp_path_factory.mktemp(proxy),
            tls,
            backend=backends["site"].port,
            unstripped_backend=backends["unstripped"].port,
        )
        yield started
        started.stop()
    finally:
        for server in backends.values():
            server.stop()


def port_of(site: Site, which: str) -> int:
    return site.port if which == "site" else site.unstripped_port


def view(port: int, mount: str, *, stripped: bool) -> dict[str, Any]:
    """What ``/`` of the app must report when the client asked for
    ``https://lab.test:port{mount}`` from 127.0.0.1."""
    return {
        "url": f"https://{HOST}:{port}{mount}",
        "scheme": "https",
        "remote_addr": "127.0.0.1",
        "host": f"{HOST}:{port}",
        "script_root": mount.rstrip("/"),
        # The forwarding headers that reach the app: only those the proxy
        # set and wsgifix honoured (CONTRACT.md section 2, clear_untrusted).
        "headers": {
            "Forwarded": None,
            "X-Forwarded-For": "127.0.0.1",
            "X-Forwarded-Host": f"{HOST}:{port}",
            "X-Forwarded-Port": None,
            "X-Forwarded-Prefix": "/app" if stripped else None,
            "X-Forwarded-Proto": "https",
        },
    }


@pytest.mark.parametrize(("which", "mount"), MOUNTS)
def test_app_sees_the_url_the_client_used(
    site: Site, tls: Tls, which: str, mount: str
) -> None:
    # Issue 5: url_for(_external=True), request.remote_addr and
    # request.scheme are what the client used, non-default port included
    # (FIELD-NOTES: nginx's $host would drop it; the recipe uses $http_host).
    port = port_of(site, which)
    reply = get(tls, port, mount)
    assert reply.status == 200, site.log_text()
    stripped = which == "site" and mount == "/app/"
    assert reply.json() == view(port, mount, stripped=stripped)


@pytest.mark.parametrize(("which", "mount"), MOUNTS)
def test_redirects_and_the_session_keep_the_clients_url(
    site: Site, tls: Tls, which: str, mount: str
) -> None:
    # Issue 5: redirects are exactly what the client used.
    port = port_of(site, which)
    absolute = get(tls, port, mount + "redirect")
    assert (absolute.status, absolute.headers["Location"]) == (
        302,
        f"https://{HOST}:{port}{mount}",
    )
    # A relative redirect keeps the mount prefix; the session cookie gets
    # Secure because the request is https (CONTRACT.md section 2,
    # cookie_secure=auto) and comes back through the proxy.
    login = get(tls, port, mount + "set")
    assert (login.status, login.headers["Location"]) == (302, f"{mount}check")
    cookie = login.headers["Set-Cookie"]
    assert cookie.endswith("; Secure"), cookie
    check = get(tls, port, mount + "check", [("Cookie", cookie.split(";")[0])])
    assert check.json() == {"user": "alice"}


@pytest.mark.parametrize("which", ["site", "unstripped"])
def test_bare_prefix_redirects_into_the_mount(site: Site, tls: Tls, which: str) -> None:
    # README recipes: a bare /app is redirected to /app/ by the proxy, on the
    # port the client used (Apache needs ProxyPassMatch "^/app$" "!" for it).
    port = port_of(site, which)
    reply = get(tls, port, "/app")
    assert reply.status in (301, 308), site.log_text()
    target = urljoin(f"https://{HOST}:{port}/app", reply.headers["Location"])
    assert target == f"https://{HOST}:{port}/app/"


@pytest.mark.parametrize(("which", "mount"), MOUNTS)
def test_forged_forwarding_headers_change_nothing(
    site: Site, tls: Tls, which: str, mount: str
) -> None:
    # Issue 5, spoofing: the client (127.0.0.1, itself a trusted address)
    # sends its own X-Forwarded-* and Forwarded headers; through each
    # recipe the app sees only what the proxy vouches for (README: trust
    # only headers the proxy sets; FIELD-NOTES: every proxy passes the
    # headers it does not set).
    port = port_of(site, which)
    reply = get(tls, port, mount, FORGED)
    assert reply.status == 200, site.log_text()
    stripped = which == "site" and mount == "/app/"
    assert reply.json() == view(port, mount, stripped=stripped)
