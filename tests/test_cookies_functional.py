"""The Set-Cookie audit under real waitress subprocesses serving a real Flask
app (tests/apps/cookie_app.py): the classic session-cookie failures and the
lost update of a cookie session (CONTRACT.md section 4, COOKIE_RULES.md).

No real proxy is needed: the test plays the TLS proxy from 127.0.0.1 by
sending X-Forwarded-Proto itself, and a non-localhost name with Host.
Findings reach the test through the server's log (``wsgifix serve`` logs
``wsgifix.cookies`` to stderr, read with ``Server.stop()``): the app cannot
see its own response's findings, since they are made when it calls
start_response.
"""

from __future__ import annotations

import http.client
import json
import threading
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

APPS = Path(__file__).resolve().parent / "apps"
TLS_PROXY = ["--trusted-proxies", "loopback", "--trusted-headers", "x-forwarded-proto"]


def serve(server_factory: Any, app: str, *flags: str) -> Any:
    return server_factory(
        ["wsgifix", "serve", f"cookie_app:{app}", "--port", "0", *flags], cwd=APPS
    )


def get(
    server: Any, path: str, headers: dict[str, str] | None = None
) -> tuple[int, list[str], Any]:
    """GET with exactly these headers; returns status, Set-Cookie lines, JSON."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, resp.headers.get_all("Set-Cookie") or [], json.loads(body)
    finally:
        conn.close()


def cookie_pair(set_cookie: str) -> str:
    """The name=value part of a Set-Cookie line, to send back as Cookie."""
    return set_cookie.split(";", 1)[0]


def log_lines(output: str, rule: str) -> list[str]:
    """Records of ``wsgifix.cookies`` for one rule. ``wsgifix serve`` formats
    them ``wsgifix.cookies: ...``, waitress-serve's default logging
    ``WARNING:wsgifix.cookies:...``."""
    return [
        line
        for line in output.splitlines()
        if "wsgifix.cookies:" in line and f"({rule})" in line
    ]


def test_secure_session_cookie_over_plain_http_is_reported(
    server_factory: Any,
) -> None:
    # SESSION_COOKIE_SECURE=True served over plain http on a name that is not
    # localhost-family: browsers drop it (SecureOnly); nothing to fix.
    server = serve(server_factory, "secure_app")
    status, cookies, _ = get(server, "/login", {"Host": "lab.test"})
    assert status == 200
    (cookie,) = cookies
    assert cookie.endswith("; Secure; HttpOnly; Path=/")  # sent as the app wrote it
    (line,) = log_lines(server.stop(), "secure-over-http")
    assert "cookie 'session' set on http://lab.test:" in line
    assert "SecureOnly" in line
    # The remedy: trust the TLS proxy's X-Forwarded-Proto.
    assert "trusted_proxies=" in line
    assert "x-forwarded-proto" in line


def test_secure_cookie_behind_an_untrusted_tls_proxy_names_the_setting(
    server_factory: Any,
) -> None:
    # The proxy (us, from 127.0.0.1) says https but nobody trusts it: the log
    # gives the exact trusted_proxies value.
    server = serve(server_factory, "secure_app")
    get(server, "/login", {"Host": "lab.test", "X-Forwarded-Proto": "https"})
    output = server.stop()
    (line,) = log_lines(output, "secure-over-http")
    assert "trusted_proxies=127.0.0.1" in line
    assert "trusted_headers=x-forwarded-proto" in line
    assert len(log_lines(output, "untrusted-tls-proxy")) == 1


def test_samesite_none_gets_secure_behind_a_trusted_https_proxy(
    server_factory: Any,
) -> None:
    # SESSION_COOKIE_SAMESITE="None" without Secure, under the documented
    # waitress-serve recipe: wsgifix appends "; Secure" (the request is https).
    server = server_factory(
        [
            "waitress-serve",
            "--no-clear-untrusted-proxy-headers",
            "--listen=127.0.0.1:0",
            "--call",
            "wsgifix:wrap",
        ],
        env={
            "WSGIFIX_APP": "cookie_app:none_app",
            "WSGIFIX_TRUSTED_PROXIES": "loopback",
            "WSGIFIX_TRUSTED_HEADERS": "x-forwarded-proto",
        },
        cwd=APPS,
    )
    _, cookies, _ = get(
        server, "/login", {"Host": "lab.test", "X-Forwarded-Proto": "https"}
    )
    (cookie,) = cookies
    assert cookie.startswith("session=")
    assert cookie.endswith("; HttpOnly; Path=/; SameSite=None; Secure")
    # Over plain http (no proxy header) it cannot be fixed: left as written.
    _, cookies, _ = get(server, "/login", {"Host": "lab.test"})
    assert cookies[0].endswith("; HttpOnly; Path=/; SameSite=None")
    output = server.stop()
    # Once per rule and cookie name a minute (CONTRACT.md section 4): the
    # unfixed http case does not log again.
    (line,) = log_lines(output, "samesite-none-insecure")
    assert "SameSiteNoneInsecure" in line
    assert "[fixed]" in line


def test_session_cookie_domain_not_matching_the_host_is_removed(
    server_factory: Any,
) -> None:
    server = serve(server_factory, "domain_app")
    _, cookies, _ = get(server, "/login", {"Host": "lab.test"})
    (cookie,) = cookies
    assert "Domain" not in cookie
    assert cookie.endswith("; HttpOnly; Path=/")
    (line,) = log_lines(server.stop(), "domain-mismatch")
    assert "Domain=example.com does not match the host lab.test" in line
    assert "InvalidDomain" in line
    assert "[fixed]" in line


def test_session_cookie_over_4096_bytes_is_reported_and_left(
    server_factory: Any,
) -> None:
    server = serve(server_factory, "app")
    _, cookies, _ = get(server, "/grow", {"Host": "lab.test"})
    (cookie,) = cookies
    name, _, value = cookie_pair(cookie).partition("=")
    assert name == "session"
    assert len(value) > 4096
    assert cookie == f"session={value}; HttpOnly; Path=/"  # no fix for size
    (line,) = log_lines(server.stop(), "too-large")
    assert "NameValuePairExceedsMaxSize" in line
    assert "[fixed]" not in line


def _add_keys(server: Any, cookie: str, keys: list[str]) -> list[list[str]]:
    """Three requests at once, all carrying the same session cookie."""
    barrier = threading.Barrier(len(keys))
    results: dict[str, list[str]] = {}
    errors: list[BaseException] = []

    def one(key: str) -> None:
        try:
            barrier.wait(timeout=10)
            _, _, body = get(
                server, f"/add/{key}?sleep=0.3", {"Host": "lab.test", "Cookie": cookie}
            )
            results[key] = body
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(k,)) for k in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=15)
    assert not errors
    return [results[k] for k in keys]


def test_parallel_session_updates_are_reported_as_lost(server_factory: Any) -> None:
    # Three requests, each adding a key to the Flask cookie session, computed
    # from the same incoming cookie: the browser keeps only the last response,
    # two keys are lost. The route sleeps so they overlap (threads >= 3).
    server = serve(server_factory, "app", "--threads", "4")
    _, cookies, _ = get(server, "/login", {"Host": "lab.test"})
    session = cookie_pair(cookies[0])
    bodies = _add_keys(server, session, ["a", "b", "c"])
    # Each response was computed from the stale session: only its own key.
    assert bodies == [["a", "user"], ["b", "user"], ["c", "user"]]
    output = server.stop()
    lines = log_lines(output, "concurrent-overwrite")
    assert len(lines) == 1  # two findings, logged once a minute
    assert "cookie 'session' set on http://lab.test" in lines[0]


def test_sequential_session_updates_are_not_races(server_factory: Any) -> None:
    server = serve(server_factory, "app", "--threads", "4")
    _, cookies, _ = get(server, "/login", {"Host": "lab.test"})
    session = cookie_pair(cookies[0])
    for key in ["a", "b", "c"]:
        _, cookies, body = get(
            server, f"/add/{key}?sleep=0.01", {"Host": "lab.test", "Cookie": session}
        )
        session = cookie_pair(cookies[0])
    assert body == ["a", "b", "c", "user"]
    output = server.stop()
    assert log_lines(output, "concurrent-overwrite") == []
    assert "Traceback" not in output
