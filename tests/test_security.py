"""Spoofing and smuggling cases from the advisory history of werkzeug,
waitress, gunicorn, Rack and Django (SECURITY.rst, "Known cases").

Only cases that no other test file covers are here; SECURITY.rst names the
existing tests for the rest. Every group cites the advisory or issue it
replays. Tables are ``pytest.param(settings, environ_changes, expected,
id=...)`` run through the whole stack (``wsgifix.wrap``) behind the proxy
10.0.0.1 for Host ``example.com``; ``expected`` is the environ the app must
see (``ABSENT``: missing) or ``bad("Header")`` for a 400 naming it.

A case wsgifix does not yet handle is kept as ``xfail(strict=True)`` with
the reason, so fixing it turns the test red until the mark is removed.
"""

from __future__ import annotations

import gc
import http.client
import io
import json
import logging
import sys
import tracemalloc
from collections.abc import Iterable
from typing import Any, NamedTuple

import pytest
from conftest import run_wsgi

import wsgifix
from wsgifix.cookies import CookieMiddleware, effective_request
from wsgifix.memo import SecondSight
from wsgifix.proxy import ProxyMiddleware
from wsgifix.races import MAX_ENTRIES

ABSENT = "<absent>"
PEER = "10.0.0.1"
BAD = "400 Bad Request"
CRLF = frozenset("\r\n")

BASE: dict[str, Any] = {
    "REQUEST_METHOD": "GET",
    "SCRIPT_NAME": "",
    "PATH_INFO": "/",
    "QUERY_STRING": "",
    "SERVER_NAME": "internal",
    "SERVER_PORT": "8080",
    "SERVER_PROTOCOL": "HTTP/1.1",
    "SERVER_SOFTWARE": "test-server",
    "REMOTE_ADDR": PEER,
    "REMOTE_PORT": "40000",
    "HTTP_HOST": "example.com",
    "wsgi.url_scheme": "http",
    "wsgi.version": (1, 0),
    "wsgi.multithread": True,
    "wsgi.multiprocess": False,
    "wsgi.run_once": False,
}

T = {"trusted_proxies": "10.0.0.0/8"}
XALL = (
    "x-forwarded-for x-forwarded-proto x-forwarded-host x-forwarded-port "
    "x-forwarded-prefix"
)
TX = {**T, "trusted_headers": XALL}
TF = {**T, "trusted_headers": "forwarded x-forwarded-prefix"}


def bad(header: str) -> dict[str, str]:
    """A 400 whose one-line reason names ``header``."""
    return {"status": BAD, "reason": f"{header}:"}


class Result(NamedTuple):
    status: str
    headers: list[tuple[str, str]]
    body: bytes
    seen: dict[str, Any] | None  # a copy of the environ the app got
    environ: dict[str, Any]  # the environ after the call


def make_environ(changes: dict[str, Any]) -> dict[str, Any]:
    environ = dict(BASE)
    environ["wsgi.input"] = io.BytesIO(b"")
    environ["wsgi.errors"] = io.StringIO()
    for key, value in changes.items():
        if value is None:
            environ.pop(key, None)
        else:
            environ[key] = value
    return environ


def cookie_app(*set_cookies: str) -> Any:
    """An app that records its environ and sets ``set_cookies``."""
    seen: list[dict[str, Any]] = []

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        seen.append(dict(environ))
        headers = [("Content-Type", "text/plain")]
        headers += [("Set-Cookie", value) for value in set_cookies]
        start_response("200 OK", headers)
        return [b"app"]

    app.seen = seen  # type: ignore[attr-defined]
    return app


def call(stack: Any, app: Any, changes: dict[str, Any]) -> Result:
    environ = make_environ(changes)
    app.seen.clear()
    status, headers, body = run_wsgi(stack, environ)
    seen = app.seen[0] if app.seen else None
    return Result(status, headers, body, seen, environ)


def run(settings: dict[str, Any], changes: dict[str, Any]) -> Result:
    app = cookie_app()
    return call(wsgifix.wrap(app, **settings), app, changes)


def check(settings: dict[str, Any], changes: dict[str, Any], expected: Any) -> None:
    out = run(settings, changes)
    want = expected.get("status", "200 OK")
    assert out.status == want, out.body
    for name, value in out.headers:
        assert not CRLF & set(name + value), (name, value)
    if want == BAD:
        assert out.seen is None, "the app must not be called on a 400"
        text = out.body.decode("utf-8")
        assert text.endswith("\n"), text
        assert not CRLF & set(text[:-1]), "the reason is one line"
        assert expected["reason"] in text, text
        return
    assert out.seen is not None
    for key, value in expected.items():
        if key != "status":
            assert out.seen.get(key, ABSENT) == value, key


# -- spoofing: headers wsgifix never reads, peers it never trusts ---------------

SPOOFING = [
    # rack/rack#705: Request#ip believed Client-IP next to X-Forwarded-For.
    # wsgifix reads the client address from X-Forwarded-For or Forwarded only.
    pytest.param(
        T,
        {"HTTP_X_FORWARDED_FOR": "1.2.3.4", "HTTP_CLIENT_IP": "6.6.6.6"},
        {"REMOTE_ADDR": "1.2.3.4"},
        id="rack#705 Client-IP is never read",
    ),
    pytest.param(
        T,
        {
            "REMOTE_ADDR": "203.0.113.9",
            "HTTP_X_FORWARDED_FOR": "6.6.6.6",
            "HTTP_CLIENT_IP": "6.6.6.6",
            "HTTP_X_REAL_IP": "6.6.6.6",
        },
        {"REMOTE_ADDR": "203.0.113.9", "HTTP_X_FORWARDED_FOR": ABSENT},
        id="rack#705 X-Real-IP and Client-IP from an untrusted peer",
    ),
    # rack/rack#1809, fixed by rack/rack#1834: X-Forwarded-Scheme, which
    # nginx passes through, was read before the X-Forwarded-Proto it sets.
    # gunicorn's default secure_scheme_headers also accept X-Forwarded-Ssl
    # and X-Forwarded-Protocol. wsgifix reads the scheme only from
    # X-Forwarded-Proto or Forwarded proto=.
    pytest.param(
        TX,
        {"HTTP_X_FORWARDED_PROTO": "http", "HTTP_X_FORWARDED_SCHEME": "https"},
        {"wsgi.url_scheme": "http", "HTTPS": ABSENT},
        id="rack#1809 X-Forwarded-Scheme is never read",
    ),
    pytest.param(
        TX,
        {
            "HTTP_X_FORWARDED_SSL": "on",
            "HTTP_X_FORWARDED_PROTOCOL": "ssl",
            "HTTP_FRONT_END_HTTPS": "on",
        },
        {"wsgi.url_scheme": "http", "HTTPS": ABSENT},
        id="gunicorn secure_scheme_headers names are never read",
    ),
    # benoitc/gunicorn#1766 / #1767: gunicorn applies secure_scheme_headers
    # to every Unix-socket peer (REMOTE_ADDR ""). wsgifix trusts one only
    # when trusted_proxies names ``unix``.
    pytest.param(
        {"trusted_proxies": "loopback"},
        {
            "REMOTE_ADDR": "",
            "HTTP_X_FORWARDED_PROTO": "https",
            "HTTP_X_FORWARDED_FOR": "6.6.6.6",
        },
        {
            "REMOTE_ADDR": "",
            "wsgi.url_scheme": "http",
            "HTTP_X_FORWARDED_FOR": ABSENT,
            "HTTP_X_FORWARDED_PROTO": ABSENT,
        },
        id="gunicorn#1766 a Unix-socket peer is not trusted by loopback",
    ),
    pytest.param(
        {"trusted_proxies": "unix"},
        {
            "REMOTE_ADDR": "",
            "HTTP_X_FORWARDED_PROTO": "https",
            "HTTP_X_FORWARDED_FOR": "1.2.3.4",
        },
        {"REMOTE_ADDR": "1.2.3.4", "wsgi.url_scheme": "https"},
        id="gunicorn#1766 a Unix-socket peer is trusted only through unix",
    ),
    # pallets/werkzeug#1414 (fixed in #1415): ProxyFix counted
    # X-Forwarded-Prefix values with x_for's number. wsgifix uses one h for
    # every list header, so a client's prefix left of the proxy's is never
    # read.
    pytest.param(
        {**T, "trusted_headers": "x-forwarded-for x-forwarded-prefix"},
        {
            "HTTP_X_FORWARDED_FOR": "6.6.6.6, 1.2.3.4",
            "HTTP_X_FORWARDED_PREFIX": "/forged, /app",
        },
        {
            "REMOTE_ADDR": "1.2.3.4",
            "SCRIPT_NAME": "/app",
            "HTTP_X_FORWARDED_PREFIX": "/app",
        },
        id="werkzeug#1414 chain: the prefix at -h",
    ),
    pytest.param(
        {"trusted_hops": "1", "trusted_headers": "x-forwarded-for x-forwarded-prefix"},
        {
            "HTTP_X_FORWARDED_FOR": "6.6.6.6, 1.2.3.4",
            "HTTP_X_FORWARDED_PREFIX": "/forged, /app",
        },
        {"REMOTE_ADDR": "1.2.3.4", "SCRIPT_NAME": "/app"},
        id="werkzeug#1414 hop mode: the prefix at -N",
    ),
]


@pytest.mark.parametrize(("settings", "environ_in", "expected"), SPOOFING)
def test_spoofing(settings: Any, environ_in: Any, expected: Any) -> None:
    check(settings, environ_in, expected)


# -- smuggling: values that a lax parser would read differently -----------------

SMUGGLING = [
    # Pylons/waitress GHSA-m5ff-3wj3-8ph4 (CVE-2019-16789), benoitc/gunicorn
    # #3091 and #3364: characters other than SP and HTAB were stripped as
    # whitespace. wsgifix strips only SP and HTAB; anything else makes the
    # value invalid.
    pytest.param(
        TX,
        {"HTTP_X_FORWARDED_FOR": "\x0b1.2.3.4"},
        bad("X-Forwarded-For"),
        id="CVE-2019-16789 VT before an address",
    ),
    pytest.param(
        TX,
        {"HTTP_X_FORWARDED_FOR": "1.2.3.4\xa0"},
        bad("X-Forwarded-For"),
        id="gunicorn#3091 NBSP after an address",
    ),
    pytest.param(
        TX,
        {"HTTP_X_FORWARDED_PROTO": "https\x0c"},
        bad("X-Forwarded-Proto"),
        id="CVE-2019-16789 FF after a scheme",
    ),
    pytest.param(
        TX,
        {"HTTP_X_FORWARDED_PROTO": "\x85https"},
        bad("X-Forwarded-Proto"),
        id="gunicorn#3091 NEL before a scheme",
    ),
    pytest.param(
        TX,
        {"HTTP_X_FORWARDED_HOST": "example.com\x0b"},
        bad("X-Forwarded-Host"),
        id="CVE-2019-16789 VT after a forwarded host",
    ),
    pytest.param(
        {}, {"HTTP_HOST": "example.com\xa0"}, bad("Host"), id="gunicorn#3091 NBSP Host"
    ),
    pytest.param(
        TF,
        {"HTTP_FORWARDED": "for=1.2.3.4;proto=https\x0b"},
        bad("Forwarded"),
        id="CVE-2019-16789 VT in Forwarded",
    ),
    # benoitc/gunicorn#3144: CR, LF and NUL in field values (RFC 9110 5.5).
    pytest.param(
        TX,
        {"HTTP_X_FORWARDED_FOR": "1.2.3.4\x00"},
        bad("X-Forwarded-For"),
        id="gunicorn#3144 NUL in X-Forwarded-For",
    ),
    pytest.param(
        TX,
        {"HTTP_X_FORWARDED_PROTO": "https\r"},
        bad("X-Forwarded-Proto"),
        id="gunicorn#3144 CR in X-Forwarded-Proto",
    ),
    pytest.param(
        {}, {"HTTP_HOST": "example.com\x00"}, bad("Host"), id="gunicorn#3144 NUL Host"
    ),
    pytest.param(
        TX,
        {"HTTP_X_FORWARDED_PREFIX": "/app%0d%0aSet-Cookie:%20x=1"},
        bad("X-Forwarded-Prefix"),
        id="gunicorn#3144 encoded CR LF in a prefix",
    ),
    pytest.param(
        TX,
        {"HTTP_X_FORWARDED_PREFIX": "/app%00"},
        bad("X-Forwarded-Prefix"),
        id="gunicorn#3144 encoded NUL in a prefix",
    ),
    # rack/rack#508: trusted_proxy? matched with ^...$, which also match one
    # line of a multi-line value. A line that looks like a trusted proxy
    # makes the whole item invalid here.
    pytest.param(
        T,
        {"HTTP_X_FORWARDED_FOR": "6.6.6.6\n10.0.0.2"},
        bad("X-Forwarded-For"),
        id="rack#508 a second line that looks trusted",
    ),
    # rack/rack GHSA-g2pf-xv49-m2h5 (CVE-2026-34835): Rack::Request accepted
    # '/', '?', '#' and '@' in Host, so suffix allow-lists could be fooled.
    pytest.param(
        {"allowed_hosts": ".example.com"},
        {"HTTP_HOST": "evil.example?.example.com"},
        bad("Host"),
        id="CVE-2026-34835 ? before an allowed suffix",
    ),
    pytest.param(
        {"allowed_hosts": ".example.com"},
        {"HTTP_HOST": "evil.example#.example.com"},
        bad("Host"),
        id="CVE-2026-34835 # before an allowed suffix",
    ),
    pytest.param(
        {"allowed_hosts": ".example.com"},
        {"HTTP_HOST": "evil.example/.example.com"},
        bad("Host"),
        id="CVE-2026-34835 / before an allowed suffix",
    ),
    pytest.param(
        {"allowed_hosts": ".example.com"},
        {"HTTP_HOST": "evil.example%2f.example.com"},
        bad("Host"),
        id="CVE-2026-34835 % before an allowed suffix",
    ),
    pytest.param(
        {**TX, "allowed_hosts": ".example.com"},
        {"HTTP_X_FORWARDED_HOST": "evil.example?.example.com"},
        bad("X-Forwarded-Host"),
        id="CVE-2026-34835 ? in a trusted X-Forwarded-Host",
    ),
    # rack/rack GHSA-qfgr-crr9-7r49 (CVE-2026-32762): Rack split Forwarded
    # on ';' inside quoted values, so a quoted value could add host= or
    # proto=. wsgifix parses quoted strings, and a quoted value is only ever
    # that parameter's value (which then fails its own grammar).
    pytest.param(
        TF,
        {"HTTP_FORWARDED": 'for=1.2.3.4;host="example.com;proto=https"'},
        bad("Forwarded"),
        id="CVE-2026-32762 proto= inside a quoted host",
    ),
    pytest.param(
        {**TF, "on_invalid": "ignore"},
        {"HTTP_FORWARDED": 'for=1.2.3.4;host="example.com;proto=https"'},
        {
            "REMOTE_ADDR": PEER,
            "wsgi.url_scheme": "http",
            "HTTP_HOST": "example.com",
            "HTTP_FORWARDED": ABSENT,
        },
        id="CVE-2026-32762 under ignore: nothing applies",
    ),
    pytest.param(
        TF,
        {"HTTP_FORWARDED": 'for=1.2.3.4;proto="http;host=evil.example"'},
        bad("Forwarded"),
        id="CVE-2026-32762 host= inside a quoted proto",
    ),
    pytest.param(
        TF,
        {"HTTP_FORWARDED": 'for="1.2.3.4, for=6.6.6.6";host=example.com'},
        bad("Forwarded"),
        id="CVE-2026-32762 an element inside a quoted for",
    ),
]


@pytest.mark.parametrize(("settings", "environ_in", "expected"), SMUGGLING)
def test_smuggling(settings: Any, environ_in: Any, expected: Any) -> None:
    check(settings, environ_in, expected)


# -- request framing is the server's: wsgifix never touches it -------------------

# Pylons/waitress GHSA-pg36-wpm5-g57p, GHSA-g2xc-35jw-c63p, GHSA-4ppp-gpcr-7qf6,
# GHSA-4f7p-27jc-3c36, GHSA-9298-4cf8-g4wj; benoitc/gunicorn GHSA-w3h3-4rj7-4ph4
# (CVE-2024-1135) and CVE-2024-6827: desync between proxy and server over
# Content-Length and Transfer-Encoding. Only the server can prevent it;
# wsgifix must neither read the body nor change what describes it.
FRAMING = {
    "CONTENT_LENGTH": "5",
    "CONTENT_TYPE": "text/plain",
    "HTTP_TRANSFER_ENCODING": "chunked",
    "REQUEST_METHOD": "POST",
}


@pytest.mark.parametrize(
    ("settings", "changes"),
    [
        pytest.param({}, {}, id="nobody trusted"),
        pytest.param(TX, {"HTTP_X_FORWARDED_FOR": "1.2.3.4"}, id="trusted proxy"),
        pytest.param(TX, {"HTTP_X_FORWARDED_PORT": "x"}, id="a 400"),
    ],
)
def test_framing_and_body_are_left_to_the_server(
    settings: dict[str, Any], changes: dict[str, Any]
) -> None:
    body = io.BytesIO(b"hello")
    out = run(settings, {**FRAMING, **changes, "wsgi.input": body})
    assert body.tell() == 0, "wsgifix read the request body"
    if out.seen is not None:
        assert out.seen["wsgi.input"] is body
        for key, value in FRAMING.items():
            assert out.seen[key] == value, key
    for key in FRAMING:
        assert key not in out.environ["wsgifix.orig"], key


# -- cookies: names are read literally ------------------------------------------

# pallets/werkzeug GHSA-px8h-6qxv-m22q (CVE-2023-23934): a nameless cookie
# "=__Host-test=bad" was read as __Host-test. rack/rack CVE-2020-8184 and
# pallets/werkzeug#1965: percent-decoded or unquoted names could pass for
# __Host-/__Secure- cookies. wsgifix reads request cookie names literally
# (they matter to the race detector) and never rewrites a Set-Cookie's
# name=value.
COOKIE_NAMES = [
    pytest.param("=__Host-sid=forged", "__Host-sid", id="GHSA-px8h nameless"),
    pytest.param("==__Host-sid=forged", "__Host-sid", id="GHSA-px8h double ="),
    pytest.param("__%48ost-sid=forged", "__Host-sid", id="CVE-2020-8184 %48"),
    pytest.param("__%53ecure-sid=forged", "__Secure-sid", id="CVE-2020-8184 %53"),
    pytest.param('"__Secure-sid"=forged', "__Secure-sid", id="werkzeug#1965 quoted"),
]


@pytest.mark.parametrize(("cookie", "prefixed"), COOKIE_NAMES)
def test_request_cookie_names_are_not_decoded(cookie: str, prefixed: str) -> None:
    environ = make_environ({"HTTP_COOKIE": f"{cookie}; other=1"})
    cookies = effective_request(environ).cookies
    assert prefixed not in cookies
    assert cookies["other"] == "1"


def test_a_nameless_set_cookie_is_reported_not_rewritten() -> None:
    # GHSA-px8h-6qxv-m22q: the header a subdomain would send.
    header = "=__Host-test=bad; Path=/"
    app = cookie_app(header)
    out = call(wsgifix.wrap(app), app, {})
    assert [v for k, v in out.headers if k == "Set-Cookie"] == [header]
    rules = {f.rule for f in out.environ["wsgifix.findings"]}
    assert "nameless" in rules


@pytest.mark.parametrize("header", ["S3CRETVALUE", "=S3CRETVALUE; Path=/"])
def test_a_nameless_cookie_value_is_never_shown(
    header: str, caplog: pytest.LogCaptureFixture
) -> None:
    # C7: the inspector masks Set-Cookie values; findings reach it and the
    # log, and a nameless cookie's pair is all value (a secret, maybe).
    caplog.set_level(logging.INFO, logger="wsgifix.cookies")
    app = cookie_app(header)
    out = call(wsgifix.wrap(app), app, {})
    found = out.environ["wsgifix.findings"]
    assert "nameless" in {f.rule for f in found}
    assert not [f for f in found if "S3CRET" in f.message]
    assert "S3CRET" not in caplog.text
    assert "11 characters" in caplog.text


# -- no header injection through what wsgifix writes ------------------------------

# benoitc/gunicorn CVE-2018-1000164: header values with CR LF split the
# response. The Set-Cookie fixes write values taken from the request (the
# forwarded prefix for cookie_path=scope); a prefix that decodes to ';' or
# CR LF must not add attributes or lines.
INJECTION = [
    pytest.param(
        {**TX, "cookie_path": "scope"},
        {"HTTP_X_FORWARDED_PREFIX": "/app%3B%20Domain=evil.example"},
        "sid=1; Path=/",
        "sid=1; Path=/",
        id="CVE-2018-1000164 ; from a prefix into Path (scope)",
    ),
    pytest.param(
        {**TX, "cookie_path": "scope"},
        {
            "HTTP_X_FORWARDED_PREFIX": "/app%3B%20Domain=evil.example",
            "PATH_INFO": "/a/b",
        },
        "sid=1",
        "sid=1",
        id="CVE-2018-1000164 ; from a prefix into a missing Path",
    ),
    pytest.param(
        TX,
        {"PATH_INFO": "/a;Domain=evil.example/b"},
        "sid=1",
        "sid=1; Path=/",
        id="CVE-2018-1000164 ; in PATH_INFO never reaches Path",
    ),
    pytest.param(
        TX,
        {"PATH_INFO": "/a\r\nSet-Cookie: x=1/b"},
        "sid=1",
        "sid=1; Path=/",
        id="CVE-2018-1000164 CR LF in PATH_INFO never reaches a header",
    ),
]


@pytest.mark.parametrize(("settings", "changes", "header", "sent"), INJECTION)
def test_fixes_never_inject_attributes(
    settings: dict[str, Any], changes: dict[str, Any], header: str, sent: str
) -> None:
    app = cookie_app(header)
    out = call(wsgifix.wrap(app, **settings), app, changes)
    assert out.status == "200 OK"
    assert [v for k, v in out.headers if k == "Set-Cookie"] == [sent]
    for name, value in out.headers:
        assert not CRLF & set(name + value), (name, value)


# -- log injection ---------------------------------------------------------------

# rack/rack GHSA-7g2v-jj9q-g3rg (CVE-2025-25184): request data with CR LF
# forged log lines. wsgifix logs what it rejected or found; a record must
# stay one line whatever the client sent.


def _one_line(caplog: pytest.LogCaptureFixture) -> None:
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("wsgifix")]
    assert messages
    for message in messages:
        assert not CRLF & set(message), message


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"HTTP_X_FORWARDED_FOR": "1.2.3.4\r\nforged"}, id="XFF"),
        pytest.param({"HTTP_X_FORWARDED_PROTO": "https\r\nforged"}, id="proto"),
        pytest.param({"HTTP_X_FORWARDED_HOST": "a\r\nforged"}, id="host"),
        pytest.param({"HTTP_X_FORWARDED_PORT": "1\r\nforged"}, id="port"),
        pytest.param({"HTTP_X_FORWARDED_PREFIX": "/a%0d%0aforged"}, id="prefix"),
    ],
)
@pytest.mark.parametrize("on_invalid", ["reject", "ignore"])
def test_proxy_log_records_stay_one_line(
    caplog: pytest.LogCaptureFixture, changes: dict[str, Any], on_invalid: str
) -> None:
    caplog.set_level(logging.INFO, logger="wsgifix")
    run({**TX, "on_invalid": on_invalid}, changes)
    _one_line(caplog)


def test_cookie_log_records_stay_one_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="wsgifix")
    app = cookie_app("sid=1")
    call(
        wsgifix.wrap(app),
        app,
        {"PATH_INFO": "/shop\r\nCRITICAL wsgifix.proxy: forged\r\n/login"},
    )
    _one_line(caplog)


# -- the inspector and DNS rebinding ----------------------------------------------

# pallets/werkzeug GHSA-2g68-c3qc-8985 (CVE-2024-34069): the debugger answered
# any Host on a local server, so a page on an attacker's domain that resolves
# to 127.0.0.1 could use it (werkzeug 3.0.3 allows only localhost names).
# django/django CVE-2016-9014: with DEBUG, ALLOWED_HOSTS was not checked,
# which allowed DNS rebinding.
INSPECTOR = "/_wsgifix"
LOCAL = {"REMOTE_ADDR": "127.0.0.1", "PATH_INFO": INSPECTOR}


def test_allowed_hosts_stops_a_rebinding_host_before_the_inspector() -> None:
    settings = {"debug_path": INSPECTOR, "allowed_hosts": "localhost 127.0.0.1"}
    out = run(settings, {**LOCAL, "HTTP_HOST": "rebind.attacker.example:8080"})
    assert out.status == BAD
    out = run(settings, {**LOCAL, "HTTP_HOST": "localhost:8080"})
    assert out.status == "200 OK"


@pytest.mark.xfail(
    strict=True,
    reason="debug_path is gated on the client's address only (CONTRACT.md 7); "
    "with the default allowed_hosts=* a local browser following a DNS "
    "rebinding name gets the inspector",
)
def test_the_inspector_refuses_a_rebinding_host() -> None:
    out = run({"debug_path": INSPECTOR}, {**LOCAL, "HTTP_HOST": "rebind.example"})
    assert out.status.startswith("404"), out.status


# -- state a client cannot grow ----------------------------------------------------


def test_per_app_state_stays_bounded_under_hostile_variety() -> None:
    """Distinct peers, hosts, forwarded chains and cookie values, each more
    than the caches hold: every table stays at or under its bound."""
    app = cookie_app("sid=new; Path=/")
    stack = wsgifix.wrap(app, **TX)
    proxy = stack
    assert isinstance(proxy, ProxyMiddleware)
    cookies = proxy.app
    assert isinstance(cookies, CookieMiddleware)
    tables = {
        "proxy memo": (lambda: proxy._memo, 4096),
        "proxy shapes": (lambda: proxy._shapes, 4096),
        "proxy shapes, host apart": (lambda: proxy._host_shapes, 4096),
        "proxy seen keys": (lambda: proxy._seen, 4096),
        "proxy walked once": (lambda: proxy._walked, 4096),
        "Host verdicts": (lambda: proxy._host_cache, 4096),
        "quiet decisions": (lambda: proxy._quiet_cache, 4096),
        "peer matches": (lambda: proxy.peers._cache, 4096),
        "proxy log keys": (lambda: proxy._logged, 1024),
        "race table": (lambda: cookies.races, MAX_ENTRIES),
        "cookie verdicts": (lambda: cookies.verdicts, cookies.verdicts.maxsize),
        "cookie responses": (lambda: cookies.responses, cookies.responses.maxsize),
        "cookie responses on any host": (
            lambda: cookies.hostless,
            cookies.hostless.maxsize,
        ),
        "cookie hosts seen once": (lambda: cookies._hosts_seen, 4096),
        "cookie log keys": (lambda: cookies._logged, 4096),
        "recent findings": (lambda: cookies.recent, 50),
        "bare hosts (process-wide)": (
            lambda: wsgifix.cookies._BARE_HOSTS,
            wsgifix.cookies._BARE_HOSTS_KEPT,
        ),
    }
    largest = dict.fromkeys(tables, 0)
    for i in range(4200):  # past the proxy caches' 4096 entries
        octets = f"{i // 250 % 250}.{i % 250 + 1}"
        call(stack, app, {"REMOTE_ADDR": f"203.0.{octets}"})  # untrusted peers
        call(stack, app, {"HTTP_HOST": f"h{i}.example.com"})
        call(
            stack,
            app,
            {
                # Every client shares one memo entry; a distinct proxy hop
                # each time does not.
                "HTTP_X_FORWARDED_FOR": f"198.51.{octets}, 10.9.{octets}",
                "HTTP_COOKIE": f"sid=old{i}",
            },
        )
        call(stack, app, {"HTTP_X_FORWARDED_FOR": f"192.0.{octets}"})  # new clients
        for tenant in ("a", "b"):  # a distinct hop, two hosts through it
            forwarded = {
                "HTTP_X_FORWARDED_FOR": f"192.0.2.1, 10.8.{octets}",
                "HTTP_X_FORWARDED_HOST": f"{tenant}{i}.example.com",
            }
            call(stack, app, forwarded)
        for name, (table, _) in tables.items():
            largest[name] = max(largest[name], len(table()))
    for name, (_, bound) in tables.items():
        assert largest[name] <= bound, name
    # The variety did reach the bounds that the loop can reach.
    # Shapes seen once are not kept (only a hash of them): the walked set
    # fills; the shapes that came twice (the new clients') are kept.
    assert largest["proxy seen keys"] == 4096
    assert largest["proxy walked once"] >= 4090  # sampled once per round
    assert largest["proxy shapes"] <= 4096
    assert largest["proxy shapes, host apart"] == 4096
    assert largest["Host verdicts"] == 4096
    assert largest["quiet decisions"] == 4096
    # Sampled once per round of requests: a clear may fall inside one.
    assert largest["peer matches"] >= 4090
    # One response shape on 4,200 hosts, each seen once: judged on the
    # first two (entries are kept from their key's second sight), then
    # answered for every other host from its entry for any host, and no
    # host's own entry kept.
    assert largest["cookie verdicts"] < 10
    assert largest["cookie responses"] < 10
    assert largest["cookie hosts seen once"] == 4096


LONG = 100_000  # characters of one value; waitress accepts 256 KiB of headers


def _text(obj: object) -> int:
    """Characters of all the text held in ``obj`` (tuples, lists, dicts)."""
    if isinstance(obj, str):
        return len(obj)
    if isinstance(obj, dict):
        return sum(_text(k) + _text(v) for k, v in obj.items())
    if isinstance(obj, tuple | list | frozenset | set):
        return sum(_text(item) for item in obj)
    if isinstance(obj, SecondSight):
        return _text(obj.tokens)
    return 0


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param(
            lambda i: {"HTTP_HOST": f"h{i}." + "a" * LONG}, id="long invalid Host"
        ),
        pytest.param(
            lambda i: {"PATH_INFO": f"/{i}" + "/a" * (LONG // 2) + "/x"},
            id="long path under a Set-Cookie",
        ),
        pytest.param(
            lambda i: {"HTTP_SEC_FETCH_SITE": f"{i}" + "x" * LONG},
            id="long Sec-Fetch-Site under a Set-Cookie",
        ),
    ],
)
def test_caches_do_not_keep_long_client_values(changes: Any) -> None:
    """200 requests carrying 100,000 characters each (20 million in all)
    leave under 200,000 in the per-app caches: what a client sends is not
    what they keep. (The 50 recent findings may quote a long path; they are
    a fixed number of messages, not a cache.)"""
    app = cookie_app("sid=1")
    stack = wsgifix.wrap(app)
    assert isinstance(stack, ProxyMiddleware)
    cookies = stack.app
    assert isinstance(cookies, CookieMiddleware)
    for i in range(200):
        for _ in range(2):  # the caches keep a key from its second sight
            call(stack, app, changes(i))
    kept = _text(stack._host_cache) + _text(stack._memo) + _text(stack._shapes)
    kept += _text(stack._host_shapes)
    kept += _text(stack._seen)
    kept += _text(cookies.verdicts._data) + _text(cookies._logged)
    kept += _text(cookies.responses._data) + _text(cookies.hostless._data)
    kept += _text(cookies._hosts_seen) + _text(wsgifix.cookies._BARE_HOSTS)
    assert kept < 200_000, f"{kept:,} characters kept"
    # The same through the process-wide parser caches.
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(200, 250):
            call(stack, app, changes(i))
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    # 50 requests of 100 kB: at most the 50 recent findings' quotes remain.
    assert grown < 50 * 2 * LONG + 1_000_000, f"{grown / 1e6:.1f} MB retained"


# -- real waitress: underscore/dash conflation --------------------------------------

# django/django CVE-2015-0219, benoitc/gunicorn#2799 (header_map, 22.0):
# X_Forwarded_For and X-Forwarded-For both become HTTP_X_FORWARDED_FOR, so a
# client could add to a list that the proxy sets. waitress drops header names
# with an underscore (1.0.0, Pylons/waitress#80), so the client's value never
# reaches wsgifix.


def _get(port: int, path: str, headers: list[tuple[str, str]]) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest("GET", path, skip_accept_encoding=True)
        for name, value in headers:
            conn.putheader(name, value)
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


@pytest.mark.e2e
def test_waitress_drops_underscore_forwarding_headers(server_factory: Any) -> None:
    server = server_factory(
        [
            "wsgifix",
            "serve",
            "--port",
            "0",
            "--trusted-proxies",
            "loopback",
            "--trusted-headers",
            XALL,
        ]
    )
    status, body = _get(
        server.port,
        "/?format=json",
        [
            ("X-Forwarded-For", "203.0.113.7"),
            ("X_Forwarded_For", "6.6.6.6"),
            ("X_Forwarded_Proto", "https"),
            ("X_Forwarded_Host", "evil.example"),
        ],
    )
    assert status == 200
    doc = json.loads(body)
    assert doc["raw"]["HTTP_X_FORWARDED_FOR"] == "203.0.113.7"
    assert "HTTP_X_FORWARDED_PROTO" not in doc["raw"]
    assert "HTTP_X_FORWARDED_HOST" not in doc["raw"]
    effective = doc["effective"]
    assert effective["REMOTE_ADDR"] == "203.0.113.7"
    assert effective["wsgi.url_scheme"] == "http"
    assert effective["HTTP_HOST"].startswith("127.0.0.1")


# The log injection above, through a real waitress: it percent-decodes the
# request target into PATH_INFO, so %0D%0A arrives as CR LF (and the
# missing-path finding quotes the request's directory).
_LOGGING_SERVER = """
import logging, sys, waitress, wsgifix
logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="LOG %(message)s")
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Set-Cookie", "sid=1")])
    return [b"ok"]
waitress.serve(wsgifix.wrap(app), listen="127.0.0.1:0",
               clear_untrusted_proxy_headers=False)
"""


@pytest.mark.e2e
def test_waitress_log_lines_cannot_be_forged(server_factory: Any) -> None:
    server = server_factory([sys.executable, "-c", _LOGGING_SERVER])
    status, _ = _get(server.port, "/shop%0D%0AFORGED%20line/login", [])
    assert status == 200
    output = server.stop()
    lines = output.splitlines()
    assert [line for line in lines if "missing-path" in line]
    assert not [line for line in lines if line.startswith("FORGED")], output
