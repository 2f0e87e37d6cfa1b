"""The proxy layer, ``wsgifix.proxy.ProxyMiddleware`` (CONTRACT.md 2, 3, 6, 7).

Most tests are tables of ``pytest.param(settings, environ_in, expected,
id=...)``:

- ``settings``: keyword settings for the layer, as text (as from an .ini);
- ``environ_in``: changes to ``BASE``, a request that the proxy 10.0.0.1
  (port 40000) passes on for Host ``example.com``; None deletes a key;
- ``expected``: the environ keys the app must see (``ABSENT``: missing),
  or ``bad("Header")`` for a ``400 Bad Request`` naming that header.

Each group cites where its rows come from: an RFC section, a CONTRACT.md
section, or the peer test it mirrors (werkzeug ``test_proxy_fix.py``,
waitress ``test_proxy_headers.py``, uvicorn ``test_proxy_headers.py``,
django ``requests_tests`` ``HostValidationTests``, starlette
``test_trusted_host.py``). Where a peer behaves differently, the row
follows the contract and the comment says so.
"""

from __future__ import annotations

import io
import logging
import re
import time
import wsgiref.validate
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import pytest
import webob
from conftest import run_wsgi
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from werkzeug.wrappers import Request as WerkzeugRequest

import wsgifix.proxy
from wsgifix import config
from wsgifix.forwarded import is_ip, parse_forwarded, parse_host, parse_xff_item
from wsgifix.proxy import ProxyMiddleware

ABSENT = "<absent>"
PEER = "10.0.0.1"
BAD = "400 Bad Request"
LOGGER = "wsgifix.proxy"

# What a server (waitress, gunicorn) hands over for a request that the
# reverse proxy at 10.0.0.1 forwards to us for Host example.com.
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
    "wsgi.multithread": False,
    "wsgi.multiprocess": False,
    "wsgi.run_once": False,
}

# Settings used by many rows.
T = {"trusted_proxies": "10.0.0.0/8"}  # chain mode: the proxies' network
XALL = (
    "x-forwarded-for x-forwarded-proto x-forwarded-host x-forwarded-port "
    "x-forwarded-prefix"
)
TX = {**T, "trusted_headers": XALL}
TF = {**T, "trusted_headers": "forwarded x-forwarded-prefix"}
ANY = {"trusted_proxies": "*", "trusted_headers": XALL}

FORWARDING_KEYS = (
    "HTTP_FORWARDED",
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_X_FORWARDED_PREFIX",
    "HTTP_X_FORWARDED_BY",
)
# Every key CONTRACT.md section 3 lets the layer change.
WATCHED = (
    "REMOTE_ADDR",
    "REMOTE_PORT",
    "wsgi.url_scheme",
    "HTTPS",
    "HTTP_HOST",
    "SERVER_NAME",
    "SERVER_PORT",
    "SCRIPT_NAME",
    "PATH_INFO",
    *FORWARDING_KEYS,
)
ALL_SEVEN = {
    "HTTP_FORWARDED": "for=6.6.6.6",
    "HTTP_X_FORWARDED_FOR": "6.6.6.6",
    "HTTP_X_FORWARDED_PROTO": "https",
    "HTTP_X_FORWARDED_HOST": "evil.example",
    "HTTP_X_FORWARDED_PORT": "8443",
    "HTTP_X_FORWARDED_PREFIX": "/evil",
    "HTTP_X_FORWARDED_BY": "10.9.9.9",
}
NONE_OF_SEVEN = dict.fromkeys(FORWARDING_KEYS, ABSENT)


def bad(header: str) -> dict[str, str]:
    """A 400 whose one-line reason names ``header``."""
    return {"status": BAD, "reason": header}


def chain(count: int, net: str = "10.1") -> str:
    """``count`` distinct addresses in ``net``; the leftmost is ``net.0.1``."""
    return ", ".join(f"{net}.{i // 200}.{i % 200 + 1}" for i in range(count))


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


class Outcome(NamedTuple):
    status: str
    headers: dict[str, str]
    body: bytes
    seen: dict[str, Any] | None  # a copy of the environ the app got
    before: dict[str, Any]  # the environ as the server gave it


def run(
    settings: dict[str, Any],
    changes: dict[str, Any],
    *,
    validate: bool = False,
    layer: ProxyMiddleware | None = None,
) -> Outcome:
    """One request through the layer (optionally inside wsgiref's validator)."""
    seen: list[dict[str, Any]] = []

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        seen.append(dict(environ))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"app"]

    inner: Any = wsgiref.validate.validator(app) if validate else app
    if layer is None:
        layer = ProxyMiddleware(inner, **settings)
    else:
        layer.app = inner
    outer: Any = wsgiref.validate.validator(layer) if validate else layer
    environ = make_environ(changes)
    before = dict(environ)
    status, headers, body = run_wsgi(outer, environ)
    return Outcome(status, dict(headers), body, seen[0] if seen else None, before)


def check(settings: dict[str, Any], changes: dict[str, Any], expected: Any) -> None:
    out = run(settings, changes)
    want_status = expected.get("status", "200 OK")
    assert out.status == want_status, out.body
    if want_status == BAD:
        assert out.seen is None, "the app must not be called on a 400"
        assert out.headers["Content-Type"].startswith("text/plain")
        text = out.body.decode("utf-8")
        assert text.endswith("\n")
        assert text.count("\n") == 1, "the reason is one line"
        assert re.search(rf"(^|[^-\w]){re.escape(expected['reason'])}:", text), text
        return
    assert out.seen is not None
    for key, want in expected.items():
        if key != "status":
            assert out.seen.get(key, ABSENT) == want, key


# -- chain mode: X-Forwarded-For walked from the right -------------------------

CHAIN = [
    # CONTRACT.md 3; werkzeug test_proxy_fix "for"; uvicorn
    # test_proxy_headers_trusted_hosts (a client behind one trusted proxy).
    pytest.param(
        T,
        {"HTTP_X_FORWARDED_FOR": "1.2.3.4"},
        {"REMOTE_ADDR": "1.2.3.4", "REMOTE_PORT": ABSENT},
        id="one client behind a trusted proxy; its unknown port is removed",
    ),
    pytest.param(
        T,
        {"HTTP_X_FORWARDED_FOR": "6.6.6.6, 1.2.3.4"},
        {"REMOTE_ADDR": "1.2.3.4", "HTTP_X_FORWARDED_FOR": "1.2.3.4"},
        id="a forged entry left of the client is dropped",
    ),
    # uvicorn test_proxy_headers_multiple_proxies: trusted hops are skipped.
    pytest.param(
        {"trusted_proxies": "127.0.0.1 10.0.2.1 192.168.0.2"},
        {
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_X_FORWARDED_FOR": "1.2.3.4, 10.0.2.1, 192.168.0.2",
        },
        {"REMOTE_ADDR": "1.2.3.4"},
        id="every trusted hop is skipped",
    ),
    pytest.param(
        {"trusted_proxies": "10.0.2.1, 192.168.0.2, 127.0.0.1"},
        {
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_X_FORWARDED_FOR": "1.2.3.4, 10.0.2.1, 192.168.0.2",
        },
        {"REMOTE_ADDR": "1.2.3.4"},
        id="the order of trusted_proxies does not matter",
    ),
    pytest.param(
        {"trusted_proxies": "192.168.0.2 127.0.0.1"},
        {
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_X_FORWARDED_FOR": "1.2.3.4, 10.0.2.1, 192.168.0.2",
        },
        {"REMOTE_ADDR": "10.0.2.1"},
        id="the first untrusted address from the right is the client",
    ),
    pytest.param(
        {"trusted_proxies": "127.0.0.1 10.0.0.0/8 192.168.0.2"},
        {
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_X_FORWARDED_FOR": "1.2.3.4, 10.0.2.1, 192.168.0.2",
        },
        {"REMOTE_ADDR": "1.2.3.4"},
        id="addresses and networks mixed",
    ),
    # uvicorn test_proxy_headers_multiple_proxies_with_ports.
    pytest.param(
        {"trusted_proxies": "127.0.0.1 2001:db8::1 192.168.0.2"},
        {
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_X_FORWARDED_FOR": "1.2.3.4:1234, [2001:db8::1]:8080, "
            "192.168.0.2:9000",
        },
        {"REMOTE_ADDR": "1.2.3.4", "REMOTE_PORT": "1234"},
        id="trusted hops given with ports",
    ),
    pytest.param(
        {"trusted_proxies": "192.168.0.2 127.0.0.1"},
        {
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_X_FORWARDED_FOR": "1.2.3.4:1234, [2001:db8::1]:8080, "
            "192.168.0.2:9000",
        },
        {"REMOTE_ADDR": "2001:db8::1", "REMOTE_PORT": "8080"},
        id="an untrusted [IPv6]:port client",
    ),
    # uvicorn test_proxy_headers_duplicate_x_forwarded_for_is_combined:
    # two header lines arrive joined by the server (CONTRACT.md 3).
    pytest.param(
        {"trusted_proxies": "127.0.0.1"},
        {
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_X_FORWARDED_FOR": "203.0.113.66, 198.51.100.23, 127.0.0.1",
        },
        {"REMOTE_ADDR": "198.51.100.23"},
        id="duplicate header lines are one list",
    ),
    # CONTRACT.md 3: when every hop is trusted, the leftmost is the client.
    # uvicorn falls back to the socket peer here; the contract does not.
    pytest.param(
        T,
        {"HTTP_X_FORWARDED_FOR": "10.0.0.7, 10.0.0.8"},
        {"REMOTE_ADDR": "10.0.0.7"},
        id="all trusted: the leftmost",
    ),
    pytest.param(
        T,
        {"HTTP_X_FORWARDED_FOR": " , 10.0.0.1"},
        {"REMOTE_ADDR": "10.0.0.1", "REMOTE_PORT": ABSENT},
        id="all trusted after an empty item (uvicorn keeps the peer)",
    ),
    # CONTRACT.md 7: at most 64 entries are walked.
    pytest.param(
        T,
        {"HTTP_X_FORWARDED_FOR": chain(64)},
        {"REMOTE_ADDR": "10.1.0.1"},
        id="exactly 64 entries, all trusted: the leftmost",
    ),
    pytest.param(
        T,
        {"HTTP_X_FORWARDED_FOR": chain(65)},
        bad("X-Forwarded-For"),
        id="65 entries, all trusted: invalid",
    ),
    pytest.param(
        T,
        {"HTTP_X_FORWARDED_FOR": "1.2.3.4, " + chain(64)},
        bad("X-Forwarded-For"),
        id="still trusted after 64 walked entries: invalid",
    ),
    pytest.param(
        T,
        {"HTTP_X_FORWARDED_FOR": "1.2.3.4, " + chain(63)},
        {"REMOTE_ADDR": "1.2.3.4"},
        id="63 trusted hops and the client: 64 walked",
    ),
    pytest.param(
        {"trusted_proxies": "*"},
        {"HTTP_X_FORWARDED_FOR": chain(65, "192.0")},
        bad("X-Forwarded-For"),
        id="* with 65 entries: invalid",
    ),
    # waitress test_parse_proxy_headers_forwarded_for (trusted_proxy="*").
    pytest.param(
        {"trusted_proxies": "*"},
        {"REMOTE_ADDR": "203.0.113.9", "HTTP_X_FORWARDED_FOR": "192.0.2.1"},
        {"REMOTE_ADDR": "192.0.2.1"},
        id="* trusts any peer",
    ),
    pytest.param(
        {"trusted_proxies": "*"},
        {"HTTP_X_FORWARDED_FOR": "192.0.2.1, 198.51.100.2, 203.0.113.1"},
        {"REMOTE_ADDR": "192.0.2.1"},
        id="* trusts every entry: the leftmost",
    ),
    # RFC 9110 5.6.1 / CONTRACT.md 7: empty list elements are ignored.
    # uvicorn test_proxy_headers_trusted_hosts_malformed keeps the peer for
    # some of these; the contract skips empty items instead.
    pytest.param(
        T,
        {"HTTP_X_FORWARDED_FOR": ", , 9.9.9.9"},
        {"REMOTE_ADDR": "9.9.9.9"},
        id="empty items before the client",
    ),
    pytest.param(
        T,
        {"HTTP_X_FORWARDED_FOR": ", , 9.9.9.9, , "},
        {"REMOTE_ADDR": "9.9.9.9"},
        id="empty items after the client (uvicorn keeps the peer)",
    ),
    pytest.param(
        T,
        {"HTTP_X_FORWARDED_FOR": "9.9.9.9 , , , 10.0.0.1"},
        {"REMOTE_ADDR": "9.9.9.9"},
        id="empty items between hops (uvicorn keeps the peer)",
    ),
    pytest.param(
        T,
        {"HTTP_X_FORWARDED_FOR": " , "},
        {
            "REMOTE_ADDR": PEER,
            "REMOTE_PORT": "40000",
            "HTTP_X_FORWARDED_FOR": ABSENT,
        },
        id="only empty items: no client, header removed",
    ),
    # uvicorn test_proxy_headers_empty_x_forwarded_for.
    pytest.param(
        T,
        {"HTTP_X_FORWARDED_FOR": ""},
        {"REMOTE_ADDR": PEER, "REMOTE_PORT": "40000"},
        id="an empty header changes nothing",
    ),
    # CONTRACT.md 7: entries left of the client are never looked at.
    pytest.param(
        T,
        {"HTTP_X_FORWARDED_FOR": "not an ip, \xf0\xfd\xfd, <script>, 1.2.3.4"},
        {"REMOTE_ADDR": "1.2.3.4", "HTTP_X_FORWARDED_FOR": "1.2.3.4"},
        id="garbage left of the client cannot force a 400",
    ),
    # uvicorn test_proxy_headers_invalid_x_forwarded_for takes 1.2.3.4 and
    # skips the garbage; CONTRACT.md 3/7 make a bad walked entry invalid.
    pytest.param(
        {"trusted_proxies": "*"},
        {"HTTP_X_FORWARDED_FOR": "1.2.3.4, \xf0\xfd\xfd\xfd, unix:, ::1"},
        bad("X-Forwarded-For"),
        id="garbage inside the walked part is invalid",
    ),
    # CONTRACT.md 7: unknown / obfuscated clients leave REMOTE_* alone.
    pytest.param(
        T,
        {"HTTP_X_FORWARDED_FOR": "unknown, 10.0.0.2"},
        {"REMOTE_ADDR": PEER, "REMOTE_PORT": "40000"},
        id="an unknown client leaves REMOTE_ADDR and REMOTE_PORT",
    ),
    pytest.param(
        T,
        {"HTTP_X_FORWARDED_FOR": "_hidden:_port, 10.0.0.2"},
        {"REMOTE_ADDR": PEER, "REMOTE_PORT": "40000"},
        id="an obfuscated client leaves REMOTE_ADDR and REMOTE_PORT",
    ),
    pytest.param(
        T,
        {"HTTP_X_FORWARDED_FOR": "1.2.3.4, UNKNOWN, 10.0.0.2"},
        {"REMOTE_ADDR": PEER, "HTTP_X_FORWARDED_FOR": "UNKNOWN, 10.0.0.2"},
        id="an unknown hop ends the walk (any case)",
    ),
    # CONTRACT.md 3: the text otherwise as given.
    pytest.param(
        T,
        {"HTTP_X_FORWARDED_FOR": "2001:DB8::1"},
        {"REMOTE_ADDR": "2001:DB8::1"},
        id="an IPv6 client keeps its spelling",
    ),
    pytest.param(
        T,
        {"HTTP_X_FORWARDED_FOR": "6.6.6.6, 1.2.3.4, 10.0.0.2, 10.0.0.3"},
        {
            "REMOTE_ADDR": "1.2.3.4",
            "HTTP_X_FORWARDED_FOR": "1.2.3.4, 10.0.0.2, 10.0.0.3",
        },
        id="the header is cut to the client and the trusted hops",
    ),
    # CONTRACT.md 7: an IPv4 rule matches IPv4-mapped entries in the walk too.
    pytest.param(
        T,
        {"HTTP_X_FORWARDED_FOR": "1.2.3.4, ::ffff:10.0.0.9"},
        {"REMOTE_ADDR": "1.2.3.4"},
        id="an IPv4-mapped hop is trusted by an IPv4 rule",
    ),
]


@pytest.mark.parametrize(("settings", "environ_in", "expected"), CHAIN)
def test_chain_mode(settings: Any, environ_in: Any, expected: Any) -> None:
    check(settings, environ_in, expected)


# -- hop mode: trusted_hops=N --------------------------------------------------

HOPS = [
    # werkzeug test_proxy_fix "for" (x_for=1).
    pytest.param(
        {"trusted_hops": "1"},
        {"REMOTE_ADDR": "192.168.0.2", "HTTP_X_FORWARDED_FOR": "192.168.0.1"},
        {"REMOTE_ADDR": "192.168.0.1", "REMOTE_PORT": ABSENT},
        id="one hop",
    ),
    # werkzeug "multiple for" (x_for=2).
    pytest.param(
        {"trusted_hops": "2"},
        {
            "REMOTE_ADDR": "192.168.0.3",
            "HTTP_X_FORWARDED_FOR": "192.168.0.1, 192.168.0.2",
        },
        {"REMOTE_ADDR": "192.168.0.1"},
        id="two hops",
    ),
    # waitress test_parse_proxy_headers_forwared_for_multiple (count=2).
    pytest.param(
        {"trusted_hops": "2"},
        {"HTTP_X_FORWARDED_FOR": "192.0.2.1, 198.51.100.2, 203.0.113.1"},
        {
            "REMOTE_ADDR": "198.51.100.2",
            "HTTP_X_FORWARDED_FOR": "198.51.100.2, 203.0.113.1",
        },
        id="the Nth from the right, the list cut to N",
    ),
    # werkzeug "ignore len < trusted"; CONTRACT.md 7 (fail closed).
    pytest.param(
        {"trusted_hops": "3"},
        {
            "REMOTE_ADDR": "192.168.0.1",
            "HTTP_X_FORWARDED_FOR": "192.168.0.3, 192.168.0.2",
        },
        {
            "REMOTE_ADDR": "192.168.0.1",
            "REMOTE_PORT": "40000",
            "HTTP_X_FORWARDED_FOR": ABSENT,
        },
        id="fewer entries than hops: ignored and removed",
    ),
    # werkzeug "ignore empty".
    pytest.param(
        {"trusted_hops": "2"},
        {"REMOTE_ADDR": "192.168.0.1", "HTTP_X_FORWARDED_FOR": ", 192.168.0.3"},
        {"REMOTE_ADDR": "192.168.0.1"},
        id="empty items do not count as hops",
    ),
    # CONTRACT.md 2: "whatever their address".
    pytest.param(
        {"trusted_hops": "1"},
        {"HTTP_X_FORWARDED_FOR": "10.0.0.5"},
        {"REMOTE_ADDR": "10.0.0.5"},
        id="no further walking past N, even over private addresses",
    ),
    pytest.param(
        {"trusted_hops": "1"},
        {"REMOTE_ADDR": "203.0.113.9", "HTTP_X_FORWARDED_FOR": "1.2.3.4"},
        {"REMOTE_ADDR": "1.2.3.4"},
        id="without trusted_proxies any peer is the first hop",
    ),
    pytest.param(
        {"trusted_hops": "2", "trusted_proxies": "10.0.0.0/8"},
        {"HTTP_X_FORWARDED_FOR": "9.9.9.9, 1.2.3.4, 203.0.113.7"},
        {"REMOTE_ADDR": "1.2.3.4"},
        id="with trusted_proxies matching the peer",
    ),
    pytest.param(
        {"trusted_hops": "2", "trusted_proxies": "10.0.0.0/8"},
        {"REMOTE_ADDR": "203.0.113.9", "HTTP_X_FORWARDED_FOR": "1.2.3.4, 5.6.7.8"},
        {
            "REMOTE_ADDR": "203.0.113.9",
            "REMOTE_PORT": "40000",
            "HTTP_X_FORWARDED_FOR": ABSENT,
        },
        id="with trusted_proxies not matching the peer: untrusted",
    ),
    pytest.param(
        {"trusted_hops": "3", "trusted_proxies": "10.0.0.0/8"},
        {"HTTP_X_FORWARDED_FOR": "1.2.3.4, 5.6.7.8"},
        {"REMOTE_ADDR": PEER, "HTTP_X_FORWARDED_FOR": ABSENT},
        id="with trusted_proxies, too short: ignored",
    ),
    # CONTRACT.md 7: only the walked part is validated.
    pytest.param(
        {"trusted_hops": "1"},
        {"HTTP_X_FORWARDED_FOR": "garbage, 1.2.3.4"},
        {"REMOTE_ADDR": "1.2.3.4"},
        id="garbage left of the Nth entry is never read",
    ),
    pytest.param(
        {"trusted_hops": "2"},
        {"HTTP_X_FORWARDED_FOR": "1.2.3.4, garbage"},
        bad("X-Forwarded-For"),
        id="garbage inside the N entries is invalid",
    ),
    pytest.param(
        {"trusted_hops": "2"},
        {"HTTP_X_FORWARDED_FOR": "unknown, 10.0.0.2"},
        {"REMOTE_ADDR": PEER, "REMOTE_PORT": "40000"},
        id="an unknown Nth entry leaves REMOTE_ADDR",
    ),
    pytest.param(
        {"trusted_hops": "64"},
        {"HTTP_X_FORWARDED_FOR": chain(64)},
        {"REMOTE_ADDR": "10.1.0.1"},
        id="trusted_hops=64 with 64 entries",
    ),
    pytest.param(
        {"trusted_hops": "64"},
        {"HTTP_X_FORWARDED_FOR": chain(63)},
        {"REMOTE_ADDR": PEER, "HTTP_X_FORWARDED_FOR": ABSENT},
        id="trusted_hops=64 with 63 entries: ignored",
    ),
    # CONTRACT.md 7 hop mode: other lists use position -N, else the leftmost.
    # waitress ..._forwarded_host_multiple_with_forwarded_port (count=2).
    pytest.param(
        {"trusted_hops": "2", "trusted_headers": XALL},
        {
            "HTTP_X_FORWARDED_FOR": "192.0.2.1, 198.51.100.2, 203.0.113.1",
            "HTTP_X_FORWARDED_PROTO": "http",
            "HTTP_X_FORWARDED_HOST": "example.com, example.org",
            "HTTP_X_FORWARDED_PORT": "8080",
        },
        {
            "REMOTE_ADDR": "198.51.100.2",
            "SERVER_NAME": "example.com",
            "HTTP_HOST": "example.com:8080",
            "SERVER_PORT": "8080",
        },
        id="X-Forwarded-Host at -N",
    ),
    # waitress ..._with_forwarded_port_limit_one_trusted (count=1).
    pytest.param(
        {"trusted_hops": "1", "trusted_headers": XALL},
        {
            "HTTP_X_FORWARDED_FOR": "192.0.2.1, 198.51.100.2, 203.0.113.1",
            "HTTP_X_FORWARDED_PROTO": "http",
            "HTTP_X_FORWARDED_HOST": "example.com, example.org",
            "HTTP_X_FORWARDED_PORT": "8080",
        },
        {
            "REMOTE_ADDR": "203.0.113.1",
            "SERVER_NAME": "example.org",
            "HTTP_HOST": "example.org:8080",
            "SERVER_PORT": "8080",
            "HTTP_X_FORWARDED_HOST": "example.org",
        },
        id="X-Forwarded-Host at -1",
    ),
    pytest.param(
        {"trusted_hops": "2", "trusted_headers": XALL},
        {
            "HTTP_X_FORWARDED_FOR": "1.2.3.4, 10.0.0.2",
            "HTTP_X_FORWARDED_PROTO": "https",
        },
        {"wsgi.url_scheme": "https", "HTTPS": "on"},
        id="one proto value for two hops: the leftmost",
    ),
    pytest.param(
        {"trusted_hops": "3", "trusted_headers": XALL},
        {"HTTP_X_FORWARDED_FOR": "1.2.3.4", "HTTP_X_FORWARDED_PROTO": "https"},
        {"REMOTE_ADDR": PEER, "wsgi.url_scheme": "https"},
        id="XFF too short, but the proto still applies",
    ),
]


@pytest.mark.parametrize(("settings", "environ_in", "expected"), HOPS)
def test_hop_mode(settings: Any, environ_in: Any, expected: Any) -> None:
    check(settings, environ_in, expected)


# -- which socket peers are trusted --------------------------------------------

# uvicorn test_forwarded_hosts (its _TrustedHosts table) turned into whole
# requests; CONTRACT.md 2 (named ranges, unix, *) and 7 (IPv4-mapped peers).
FROM_1234 = {"HTTP_X_FORWARDED_FOR": "1.2.3.4"}
TRUSTED = {"REMOTE_ADDR": "1.2.3.4"}


def _peer(addr: str | None) -> dict[str, Any]:
    return {**FROM_1234, "REMOTE_ADDR": addr}


def _kept(addr: str | None) -> dict[str, Any]:
    return {"REMOTE_ADDR": addr if addr is not None else ABSENT}


PEERS = [
    pytest.param({}, _peer("127.0.0.1"), _kept("127.0.0.1"), id="nobody by default"),
    pytest.param(
        {"trusted_proxies": "127.0.0.1, 10.0.0.1"},
        _peer("10.0.0.1"),
        TRUSTED,
        id="an exact IPv4 address",
    ),
    pytest.param(
        {"trusted_proxies": "127.0.0.1, 10.0.0.1"},
        _peer("10.0.0.2"),
        _kept("10.0.0.2"),
        id="a neighbour of an exact address",
    ),
    pytest.param(
        {"trusted_proxies": "127.0.0.0/8 10.0.0.0/8"},
        _peer("127.255.255.255"),
        TRUSTED,
        id="an IPv4 network",
    ),
    pytest.param(
        {"trusted_proxies": "127.0.0.0/8 10.0.0.0/8"},
        _peer("192.168.0.1"),
        _kept("192.168.0.1"),
        id="outside the IPv4 networks",
    ),
    pytest.param(
        {"trusted_proxies": "2001:db8:abcd:12::/64"},
        _peer("2001:db8:abcd:0012::1:1"),
        TRUSTED,
        id="an IPv6 network",
    ),
    pytest.param(
        {"trusted_proxies": "2001:db8:abcd:12::/64"},
        _peer("2001:db8::"),
        _kept("2001:db8::"),
        id="outside the IPv6 network",
    ),
    pytest.param(
        {"trusted_proxies": "::11.22.33.44"},
        _peer("::b16:212c"),
        TRUSTED,
        id="an IPv6 address written two ways",
    ),
    pytest.param(
        {"trusted_proxies": "10.0.0.0/8"},
        _peer("::ffff:10.0.0.1"),
        TRUSTED,
        id="an IPv4 rule matches the IPv4-mapped peer",
    ),
    pytest.param(
        {"trusted_proxies": "loopback"},
        _peer("::ffff:127.0.0.1"),
        TRUSTED,
        id="loopback matches the IPv4-mapped loopback",
    ),
    pytest.param(
        {"trusted_proxies": "::ffff:0:0/96"},
        _peer("10.0.0.1"),
        _kept("10.0.0.1"),
        id="an IPv6 rule does not match a plain IPv4 peer",
    ),
    pytest.param(
        {"trusted_proxies": "loopback"}, _peer("::1"), TRUSTED, id="loopback ::1"
    ),
    pytest.param(
        {"trusted_proxies": "loopback"},
        _peer("127.8.9.10"),
        TRUSTED,
        id="loopback 127/8",
    ),
    pytest.param(
        {"trusted_proxies": "private"},
        _peer("172.31.255.255"),
        TRUSTED,
        id="private 172.16/12",
    ),
    pytest.param(
        {"trusted_proxies": "private"},
        _peer("172.32.0.1"),
        _kept("172.32.0.1"),
        id="private ends at 172.31",
    ),
    pytest.param(
        {"trusted_proxies": "private"}, _peer("fd12::1"), TRUSTED, id="private fc00::/7"
    ),
    pytest.param(
        {"trusted_proxies": "private"},
        _peer("127.0.0.1"),
        _kept("127.0.0.1"),
        id="loopback is not private",
    ),
    pytest.param(
        {"trusted_proxies": "linklocal"},
        _peer("169.254.1.1"),
        TRUSTED,
        id="linklocal IPv4",
    ),
    pytest.param(
        {"trusted_proxies": "linklocal"}, _peer("fe80::1"), TRUSTED, id="linklocal IPv6"
    ),
    # waitress reports a Unix-socket peer as "localhost".
    pytest.param(
        {"trusted_proxies": "unix"},
        _peer("localhost"),
        TRUSTED,
        id="unix: waitress's localhost",
    ),
    pytest.param(
        {"trusted_proxies": "unix"},
        _peer("127.0.0.1"),
        _kept("127.0.0.1"),
        id="unix does not trust loopback TCP",
    ),
    pytest.param(
        {"trusted_proxies": "loopback"},
        _peer("localhost"),
        _kept("localhost"),
        id="loopback does not trust a Unix socket",
    ),
    pytest.param(
        {"trusted_proxies": "*"},
        _peer("localhost"),
        TRUSTED,
        id="* trusts a Unix socket",
    ),
    pytest.param(
        {"trusted_proxies": "*"},
        _peer("2001:db8::99"),
        TRUSTED,
        id="* trusts any IPv6 peer",
    ),
    pytest.param(
        {"trusted_proxies": "10.0.0.0/8"},
        _peer("not-an-address"),
        _kept("not-an-address"),
        id="a peer that is no address is untrusted and left alone",
    ),
    pytest.param(
        {"trusted_proxies": "10.0.0.0/8"},
        _peer("::ffff:1.2.3.5"),
        _kept("::ffff:1.2.3.5"),
        id="an untrusted IPv4-mapped peer keeps its form",
    ),
]


@pytest.mark.parametrize(("settings", "environ_in", "expected"), PEERS)
def test_trusted_peers(settings: Any, environ_in: Any, expected: Any) -> None:
    check(settings, environ_in, expected)


# -- X-Forwarded-For item shapes -----------------------------------------------


# uvicorn test_proxy_headers_x_forwarded_for_port_shapes; waitress
# ..._forwarded_for_v6_missing_brackets and ..._forwarded_for_bad_quote.
# uvicorn passes malformed items through as text; CONTRACT.md 3 writes
# only IPs into REMOTE_ADDR and answers malformed values with a 400.
def _xff(value: str) -> dict[str, str]:
    return {"HTTP_X_FORWARDED_FOR": value}


XFF_SHAPES = [
    pytest.param(ANY, _xff("1.2.3.4"), {"REMOTE_ADDR": "1.2.3.4"}, id="IPv4"),
    pytest.param(
        ANY,
        _xff("1.2.3.4:1234"),
        {"REMOTE_ADDR": "1.2.3.4", "REMOTE_PORT": "1234"},
        id="IPv4:port",
    ),
    pytest.param(
        ANY,
        _xff("[2001:db8::1]:443"),
        {"REMOTE_ADDR": "2001:db8::1", "REMOTE_PORT": "443"},
        id="[IPv6]:port",
    ),
    pytest.param(
        ANY,
        _xff("[2001:db8::1]"),
        {"REMOTE_ADDR": "2001:db8::1", "REMOTE_PORT": ABSENT},
        id="[IPv6] without port",
    ),
    pytest.param(
        ANY,
        _xff("2001:db8::0"),
        {"REMOTE_ADDR": "2001:db8::0", "REMOTE_PORT": ABSENT},
        id="bare IPv6",
    ),
    pytest.param(
        ANY, _xff("::ffff:1.2.3.4"), {"REMOTE_ADDR": "::ffff:1.2.3.4"}, id="bare mapped"
    ),
    pytest.param(
        ANY,
        _xff("\t1.2.3.4 "),
        {"REMOTE_ADDR": "1.2.3.4"},
        id="spaces and tabs around an item",
    ),
    pytest.param(
        ANY,
        _xff("1.2.3.4:65535"),
        {"REMOTE_PORT": "65535"},
        id="the highest port",
    ),
    pytest.param(ANY, _xff("1.2.3.4:notaport"), bad("X-Forwarded-For"), id="port text"),
    pytest.param(
        ANY, _xff("[2001:db8::1]:notaport"), bad("X-Forwarded-For"), id="[v6]:text"
    ),
    pytest.param(
        ANY, _xff("[2001:db8::1]extra"), bad("X-Forwarded-For"), id="text after ]"
    ),
    pytest.param(ANY, _xff("[2001:db8::1"), bad("X-Forwarded-For"), id="no ]"),
    pytest.param(ANY, _xff("1.2.3.4:0"), bad("X-Forwarded-For"), id="port 0"),
    pytest.param(ANY, _xff("1.2.3.4:65536"), bad("X-Forwarded-For"), id="port 65536"),
    pytest.param(ANY, _xff("1.2.3.4:"), bad("X-Forwarded-For"), id="empty port"),
    pytest.param(ANY, _xff("example.com"), bad("X-Forwarded-For"), id="a host name"),
    pytest.param(ANY, _xff("fe80::1%eth0"), bad("X-Forwarded-For"), id="a zone id"),
    pytest.param(ANY, _xff('"foo'), bad("X-Forwarded-For"), id="a stray quote"),
    pytest.param(ANY, _xff("1.2.3.4 5.6.7.8"), bad("X-Forwarded-For"), id="no comma"),
    pytest.param(ANY, _xff("1.2.3.256"), bad("X-Forwarded-For"), id="octet 256"),
    pytest.param(
        ANY, _xff("1.2.3.4\r\nX-Evil: 1"), bad("X-Forwarded-For"), id="CR LF inside"
    ),
]


@pytest.mark.parametrize(("settings", "environ_in", "expected"), XFF_SHAPES)
def test_x_forwarded_for_items(settings: Any, environ_in: Any, expected: Any) -> None:
    check(settings, environ_in, expected)


# -- X-Forwarded-Proto and url_scheme ------------------------------------------

PROTO = [
    # werkzeug "proto"; waitress ..._w_scheme_override_trusted.
    pytest.param(
        T,
        {"HTTP_X_FORWARDED_PROTO": "https"},
        {
            "wsgi.url_scheme": "https",
            "HTTPS": "on",
            "SERVER_PORT": "443",
            "HTTP_HOST": "example.com",
        },
        id="https",
    ),
    # CONTRACT.md 7: scheme values are case-insensitive.
    pytest.param(
        T,
        {"HTTP_X_FORWARDED_PROTO": "HTTPS"},
        {"wsgi.url_scheme": "https", "HTTPS": "on"},
        id="HTTPS in upper case",
    ),
    pytest.param(
        T,
        {"wsgi.url_scheme": "https", "HTTPS": "on", "HTTP_X_FORWARDED_PROTO": "http"},
        {"wsgi.url_scheme": "http", "HTTPS": ABSENT, "SERVER_PORT": "80"},
        id="http over a TLS socket removes HTTPS",
    ),
    # waitress ..._w_bogus_scheme_override; uvicorn accepts ws/wss, the
    # contract only http/https.
    pytest.param(
        T,
        {"HTTP_X_FORWARDED_PROTO": "http://p02n3e.com?url=http"},
        bad("X-Forwarded-Proto"),
        id="a URL is not a scheme",
    ),
    pytest.param(
        T, {"HTTP_X_FORWARDED_PROTO": "wss"}, bad("X-Forwarded-Proto"), id="wss"
    ),
    pytest.param(
        T, {"HTTP_X_FORWARDED_PROTO": "https "}, {"wsgi.url_scheme": "https"}, id="OWS"
    ),
    # uvicorn test_proxy_headers_duplicate_x_forwarded_proto_uses_last;
    # waitress test_parse_multiple_x_forwarded_proto answers 400 instead,
    # CONTRACT.md 3/7 take the value at position -h.
    pytest.param(
        T,
        {"HTTP_X_FORWARDED_PROTO": "https, http"},
        {"wsgi.url_scheme": "http", "HTTP_X_FORWARDED_PROTO": "http"},
        id="a list, h=1: the rightmost",
    ),
    pytest.param(
        T,
        {"HTTP_X_FORWARDED_PROTO": "http, https"},
        {"wsgi.url_scheme": "https", "HTTP_X_FORWARDED_PROTO": "https"},
        id="a list, h=1: the rightmost (other order)",
    ),
    # CONTRACT.md 7: h = 1 + trusted entries skipped.
    pytest.param(
        T,
        {
            "HTTP_X_FORWARDED_FOR": "1.2.3.4, 10.0.0.2",
            "HTTP_X_FORWARDED_PROTO": "https, http",
        },
        {"wsgi.url_scheme": "https", "HTTP_X_FORWARDED_PROTO": "https, http"},
        id="h=2: the value at -2",
    ),
    pytest.param(
        T,
        {
            "HTTP_X_FORWARDED_FOR": "6.6.6.6, 1.2.3.4, 10.0.0.2",
            "HTTP_X_FORWARDED_PROTO": "http, https, http",
        },
        {"wsgi.url_scheme": "https", "HTTP_X_FORWARDED_PROTO": "https, http"},
        id="h=2 with a forged value further left",
    ),
    pytest.param(
        T,
        {
            "HTTP_X_FORWARDED_FOR": "1.2.3.4, 10.0.0.2, 10.0.0.3",
            "HTTP_X_FORWARDED_PROTO": "https",
        },
        {"wsgi.url_scheme": "https"},
        id="h=3, one value: the leftmost",
    ),
    # uvicorn test_proxy_headers_haproxy_behind_alb.
    pytest.param(
        {"trusted_proxies": "127.0.0.1 10.0.0.1"},
        {
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_X_FORWARDED_FOR": "1.2.3.4, 10.0.0.1",
            "HTTP_X_FORWARDED_PROTO": "https, https",
        },
        {"REMOTE_ADDR": "1.2.3.4", "wsgi.url_scheme": "https"},
        id="haproxy behind an ALB",
    ),
    pytest.param(
        T,
        {"HTTP_X_FORWARDED_PROTO": "garbage, https"},
        {"wsgi.url_scheme": "https"},
        id="values left of -h are never read",
    ),
    pytest.param(
        T,
        {"HTTP_X_FORWARDED_PROTO": "https, garbage"},
        bad("X-Forwarded-Proto"),
        id="the value at -h is validated",
    ),
    pytest.param(
        T,
        {"HTTP_X_FORWARDED_PROTO": ""},
        {"wsgi.url_scheme": "http", "HTTPS": ABSENT},
        id="empty: no scheme change",
    ),
    # waitress ..._w_scheme_override_untrusted.
    pytest.param(
        T,
        {"REMOTE_ADDR": "203.0.113.9", "HTTP_X_FORWARDED_PROTO": "https"},
        {"wsgi.url_scheme": "http", "HTTPS": ABSENT, "HTTP_X_FORWARDED_PROTO": ABSENT},
        id="from an untrusted peer: ignored and removed",
    ),
    pytest.param(
        {**T, "trusted_headers": "x-forwarded-for"},
        {"HTTP_X_FORWARDED_PROTO": "https"},
        {"wsgi.url_scheme": "http", "HTTP_X_FORWARDED_PROTO": ABSENT},
        id="not in trusted_headers: ignored and removed",
    ),
    # CONTRACT.md 2 url_scheme and 7 (HTTPS=on also through url_scheme).
    pytest.param(
        {"url_scheme": "https"},
        {},
        {"wsgi.url_scheme": "https", "HTTPS": "on", "SERVER_PORT": "443"},
        id="url_scheme=https with no header",
    ),
    pytest.param(
        {"url_scheme": "https"},
        {"REMOTE_ADDR": "203.0.113.9", "HTTP_X_FORWARDED_PROTO": "http"},
        {"wsgi.url_scheme": "https", "HTTPS": "on"},
        id="url_scheme=https, untrusted proto ignored",
    ),
    pytest.param(
        {**T, "url_scheme": "https"},
        {"HTTP_X_FORWARDED_PROTO": "http"},
        {"wsgi.url_scheme": "http", "HTTPS": ABSENT},
        id="a trusted proto overrides url_scheme",
    ),
    pytest.param(
        {"url_scheme": "http"},
        {"wsgi.url_scheme": "https", "HTTPS": "on"},
        {"wsgi.url_scheme": "http", "HTTPS": ABSENT},
        id="url_scheme=http overrides the server",
    ),
    pytest.param(
        {},
        {"wsgi.url_scheme": "https"},
        {"wsgi.url_scheme": "https", "HTTPS": "on"},
        id="the server's https gets HTTPS=on",
    ),
    pytest.param(
        {},
        {"HTTPS": "off"},
        {"wsgi.url_scheme": "http", "HTTPS": ABSENT},
        id="HTTPS=off is removed for http",
    ),
]


@pytest.mark.parametrize(("settings", "environ_in", "expected"), PROTO)
def test_x_forwarded_proto(settings: Any, environ_in: Any, expected: Any) -> None:
    check(settings, environ_in, expected)


# -- X-Forwarded-Host ----------------------------------------------------------

XH = {**T, "trusted_headers": "x-forwarded-for x-forwarded-proto x-forwarded-host"}


def _xfh(value: str, **more: str) -> dict[str, str]:
    return {"HTTP_X_FORWARDED_HOST": value, **more}


HOST = [
    # werkzeug "host".
    pytest.param(
        XH,
        _xfh("eggs", HTTP_HOST="spam"),
        {"HTTP_HOST": "eggs", "SERVER_NAME": "eggs", "SERVER_PORT": "80"},
        id="host",
    ),
    # waitress ..._forwarded_host_with_port / _without_port.
    pytest.param(
        XH,
        _xfh("example.com:8080", HTTP_X_FORWARDED_PROTO="http"),
        {
            "HTTP_HOST": "example.com:8080",
            "SERVER_NAME": "example.com",
            "SERVER_PORT": "8080",
        },
        id="host with port",
    ),
    pytest.param(
        XH,
        _xfh("example.org", HTTP_X_FORWARDED_PROTO="http"),
        {"HTTP_HOST": "example.org", "SERVER_NAME": "example.org", "SERVER_PORT": "80"},
        id="host without port",
    ),
    pytest.param(
        XH,
        _xfh("Example.COM:443", HTTP_X_FORWARDED_PROTO="https"),
        {"HTTP_HOST": "example.com", "SERVER_PORT": "443"},
        id="lower-cased, the https default port dropped",
    ),
    # werkzeug "ipv6 host".
    pytest.param(
        XH,
        _xfh("[2001:DB8::a]"),
        {"HTTP_HOST": "[2001:db8::a]", "SERVER_NAME": "[2001:db8::a]"},
        id="IPv6 in brackets, lower-cased",
    ),
    pytest.param(
        XH,
        _xfh("example.com."),
        {"HTTP_HOST": "example.com.", "SERVER_NAME": "example.com."},
        id="a trailing dot is kept",
    ),
    # Apache mod_proxy appends the Host it received to what the client sent.
    pytest.param(
        XH,
        _xfh("evil.example, localhost:8443"),
        {
            "HTTP_HOST": "localhost:8443",
            "SERVER_NAME": "localhost",
            "HTTP_X_FORWARDED_HOST": "localhost:8443",
        },
        id="Apache's appended form: the proxy's own value",
    ),
    pytest.param(
        XH,
        _xfh("b@d, good.example"),
        {"HTTP_HOST": "good.example"},
        id="a forged value left of -h is never read",
    ),
    pytest.param(
        XH,
        _xfh("a.example, b.example", HTTP_X_FORWARDED_FOR="1.2.3.4, 10.0.0.2"),
        {"HTTP_HOST": "a.example"},
        id="h=2: the value at -2",
    ),
    # CONTRACT.md 7: a trusted X-Forwarded-Host sets HTTP_HOST without a Host.
    pytest.param(
        XH,
        _xfh("a.example:8443", HTTP_HOST=None),
        {
            "HTTP_HOST": "a.example:8443",
            "SERVER_NAME": "a.example",
            "SERVER_PORT": "8443",
        },
        id="a request without Host",
    ),
    pytest.param(
        T,
        _xfh("evil.example"),
        {"HTTP_HOST": "example.com", "HTTP_X_FORWARDED_HOST": ABSENT},
        id="not in trusted_headers (the default): ignored and removed",
    ),
    pytest.param(
        {**XH, "trusted_headers": "X-Forwarded-Host"},
        _xfh("a.example"),
        {"HTTP_HOST": "a.example"},
        id="trusted_headers names are case-insensitive",
    ),
    # CONTRACT.md 3: a host with / @ \ or spaces is invalid. waitress
    # test_parse_forwarded_host_bad_quote.
    pytest.param(XH, _xfh("ex.com@evil"), bad("X-Forwarded-Host"), id="@"),
    pytest.param(XH, _xfh("ex.com/x"), bad("X-Forwarded-Host"), id="/"),
    pytest.param(XH, _xfh("ex.com\\x"), bad("X-Forwarded-Host"), id="backslash"),
    pytest.param(XH, _xfh("ex ample.com"), bad("X-Forwarded-Host"), id="space"),
    pytest.param(XH, _xfh('"foo'), bad("X-Forwarded-Host"), id="a quote"),
    pytest.param(XH, _xfh("ex.com:0"), bad("X-Forwarded-Host"), id="port 0"),
    pytest.param(XH, _xfh("ex.com:"), bad("X-Forwarded-Host"), id="empty port"),
]


@pytest.mark.parametrize(("settings", "environ_in", "expected"), HOST)
def test_x_forwarded_host(settings: Any, environ_in: Any, expected: Any) -> None:
    check(settings, environ_in, expected)


# -- X-Forwarded-Port ----------------------------------------------------------

XP = {
    **T,
    "trusted_headers": "x-forwarded-for x-forwarded-proto x-forwarded-host "
    "x-forwarded-port",
}


def _xfp(value: str, **more: str | None) -> dict[str, str | None]:
    return {"HTTP_X_FORWARDED_PORT": value, **more}


PORT = [
    # werkzeug "port, host without port" / "port, host with port".
    pytest.param(
        XP,
        _xfp("8080", HTTP_HOST="spam"),
        {"HTTP_HOST": "spam:8080", "SERVER_NAME": "spam", "SERVER_PORT": "8080"},
        id="port, Host without port",
    ),
    pytest.param(
        XP,
        _xfp("8080", HTTP_HOST="spam:9000"),
        {"HTTP_HOST": "spam:8080", "SERVER_PORT": "8080"},
        id="port, Host with port",
    ),
    # werkzeug "port, name": no Host, SERVER_NAME kept, SERVER_PORT set.
    pytest.param(
        XP,
        _xfp("8080", HTTP_HOST=None, SERVER_NAME="spam", SERVER_PORT="9000"),
        {"HTTP_HOST": ABSENT, "SERVER_NAME": "spam", "SERVER_PORT": "8080"},
        id="port, no Host",
    ),
    # werkzeug "ipv6 port, host without port" / "ipv6 - port, host with port".
    pytest.param(
        XP,
        _xfp("8080", HTTP_HOST="[2001:db8::a]"),
        {"HTTP_HOST": "[2001:db8::a]:8080", "SERVER_NAME": "[2001:db8::a]"},
        id="port, IPv6 Host",
    ),
    pytest.param(
        XP,
        _xfp("8080", HTTP_HOST="[2001:db8::a]:9000"),
        {"HTTP_HOST": "[2001:db8::a]:8080", "SERVER_PORT": "8080"},
        id="port, IPv6 Host with port",
    ),
    # waitress ..._forwarded_host_with_forwarded_port.
    pytest.param(
        XP,
        _xfp("8080", HTTP_X_FORWARDED_HOST="example.org"),
        {"HTTP_HOST": "example.org:8080", "SERVER_PORT": "8080"},
        id="port with X-Forwarded-Host",
    ),
    # CONTRACT.md 7: X-Forwarded-Port beats the port in the effective host.
    pytest.param(
        XP,
        _xfp("8443", HTTP_X_FORWARDED_HOST="example.org:9443"),
        {"HTTP_HOST": "example.org:8443", "SERVER_PORT": "8443"},
        id="port beats the port in X-Forwarded-Host",
    ),
    pytest.param(
        XP,
        _xfp("443", HTTP_X_FORWARDED_PROTO="https"),
        {"HTTP_HOST": "example.com", "SERVER_PORT": "443"},
        id="the default port is dropped from HTTP_HOST",
    ),
    # waitress test_parse_forwarded_port_wrong_proto_port_80 / _443.
    pytest.param(
        XP,
        _xfp("80", HTTP_X_FORWARDED_PROTO="https", HTTP_X_FORWARDED_HOST="example.com"),
        {
            "HTTP_HOST": "example.com:80",
            "SERVER_PORT": "80",
            "wsgi.url_scheme": "https",
        },
        id="port 80 with https",
    ),
    pytest.param(
        XP,
        _xfp("443", HTTP_X_FORWARDED_PROTO="http", HTTP_X_FORWARDED_HOST="example.com"),
        {
            "HTTP_HOST": "example.com:443",
            "SERVER_PORT": "443",
            "wsgi.url_scheme": "http",
        },
        id="port 443 with http",
    ),
    # waitress test_parse_multiple_x_forwarded_port answers 400; the
    # contract takes the value at -h.
    pytest.param(
        XP,
        _xfp("443, 80"),
        {"SERVER_PORT": "80", "HTTP_X_FORWARDED_PORT": "80"},
        id="a list, h=1: the rightmost",
    ),
    pytest.param(XP, _xfp("abc"), bad("X-Forwarded-Port"), id="not digits"),
    pytest.param(XP, _xfp("0"), bad("X-Forwarded-Port"), id="0"),
    pytest.param(XP, _xfp("65536"), bad("X-Forwarded-Port"), id="65536"),
    pytest.param(XP, _xfp("+80"), bad("X-Forwarded-Port"), id="a sign"),
    pytest.param(XP, _xfp("\u0668\u0660"), bad("X-Forwarded-Port"), id="non-ASCII"),
    pytest.param(
        XP, _xfp(""), {"SERVER_PORT": "80", "HTTP_HOST": "example.com"}, id="empty"
    ),
]


@pytest.mark.parametrize(("settings", "environ_in", "expected"), PORT)
def test_x_forwarded_port(settings: Any, environ_in: Any, expected: Any) -> None:
    check(settings, environ_in, expected)


# -- X-Forwarded-Prefix --------------------------------------------------------

XPRE = {**T, "trusted_headers": "x-forwarded-for x-forwarded-prefix"}


def _pre(value: str, **more: str) -> dict[str, str]:
    return {"HTTP_X_FORWARDED_PREFIX": value, **more}


PREFIX = [
    # werkzeug "prefix".
    pytest.param(
        XPRE, _pre("/eggs"), {"SCRIPT_NAME": "/eggs", "PATH_INFO": "/"}, id="prefix"
    ),
    # werkzeug "prefix < for" (x_for=2, x_prefix=1) in our terms: h=1.
    pytest.param(
        XPRE,
        _pre("/ham, /eggs", HTTP_X_FORWARDED_FOR="1.2.3.4"),
        {"SCRIPT_NAME": "/eggs", "HTTP_X_FORWARDED_PREFIX": "/eggs"},
        id="a list, h=1: the rightmost",
    ),
    pytest.param(
        XPRE,
        _pre("/outer, /inner", HTTP_X_FORWARDED_FOR="1.2.3.4, 10.0.0.2"),
        {"SCRIPT_NAME": "/outer"},
        id="h=2: the value at -2",
    ),
    # CONTRACT.md 3: normalized (one leading /, no trailing /, no //, no .).
    pytest.param(XPRE, _pre("/a/"), {"SCRIPT_NAME": "/a"}, id="trailing slash"),
    pytest.param(XPRE, _pre("/a//b"), {"SCRIPT_NAME": "/a/b"}, id="inner //"),
    pytest.param(XPRE, _pre("/a/./b/."), {"SCRIPT_NAME": "/a/b"}, id=". segments"),
    pytest.param(XPRE, _pre("/"), {"SCRIPT_NAME": ""}, id="/ is no prefix"),
    pytest.param(XPRE, _pre(""), {"SCRIPT_NAME": ""}, id="empty is no prefix"),
    # CONTRACT.md 3: percent-decoded as WSGI paths are (bytes as latin-1).
    pytest.param(XPRE, _pre("/%7Euser"), {"SCRIPT_NAME": "/~user"}, id="%7E"),
    pytest.param(
        XPRE, _pre("/caf%C3%A9"), {"SCRIPT_NAME": "/caf\xc3\xa9"}, id="UTF-8 escapes"
    ),
    pytest.param(
        XPRE,
        _pre("/p", SCRIPT_NAME="/mount", PATH_INFO="/x"),
        {"SCRIPT_NAME": "/p/mount", "PATH_INFO": "/x"},
        id="in front of the server's SCRIPT_NAME; PATH_INFO unchanged",
    ),
    # CONTRACT.md 3: //, %2F are invalid.
    pytest.param(XPRE, _pre("//evil"), bad("X-Forwarded-Prefix"), id="//evil"),
    pytest.param(
        XPRE, _pre("//evil.example/x"), bad("X-Forwarded-Prefix"), id="//host/x"
    ),
    pytest.param(XPRE, _pre("/a%2Fb"), bad("X-Forwarded-Prefix"), id="%2F"),
    pytest.param(XPRE, _pre("/a%2fb"), bad("X-Forwarded-Prefix"), id="%2f"),
    # CONTRACT.md 3 "normalized": a missing leading / is added and ..
    # resolved; raw ? # \ never come from a proxy and are rejected.
    pytest.param(XPRE, _pre("/a/../b"), {"SCRIPT_NAME": "/b"}, id=".."),
    pytest.param(XPRE, _pre("/a/%2e%2e/b"), {"SCRIPT_NAME": "/b"}, id="%2e%2e"),
    pytest.param(XPRE, _pre("/.."), bad("X-Forwarded-Prefix"), id=".. above /"),
    pytest.param(XPRE, _pre("/a?x=1"), bad("X-Forwarded-Prefix"), id="?"),
    pytest.param(XPRE, _pre("/a#x"), bad("X-Forwarded-Prefix"), id="#"),
    pytest.param(XPRE, _pre("/a\\b"), bad("X-Forwarded-Prefix"), id="backslash"),
    pytest.param(XPRE, _pre("app"), {"SCRIPT_NAME": "/app"}, id="no leading /"),
    pytest.param(XPRE, _pre("/my%20app"), {"SCRIPT_NAME": "/my app"}, id="%20"),
    pytest.param(XPRE, _pre("/a%zz"), bad("X-Forwarded-Prefix"), id="bad escape"),
    pytest.param(
        T,
        _pre("/evil"),
        {"SCRIPT_NAME": "", "HTTP_X_FORWARDED_PREFIX": ABSENT},
        id="not in trusted_headers (the default): ignored and removed",
    ),
]


@pytest.mark.parametrize(("settings", "environ_in", "expected"), PREFIX)
def test_x_forwarded_prefix(settings: Any, environ_in: Any, expected: Any) -> None:
    check(settings, environ_in, expected)


# -- Forwarded (RFC 7239) ------------------------------------------------------

HOPS_F2 = {"trusted_proxies": "*", "trusted_hops": "2", "trusted_headers": "forwarded"}
HOPS_F1 = {**HOPS_F2, "trusted_hops": "1"}


def _fwd(value: str, **more: str) -> dict[str, str]:
    return {"HTTP_FORWARDED": value, **more}


FORWARDED = [
    # waitress test_parse_forwarded (host quoted: RFC 7239 section 4 needs
    # quotes around a value with ':').
    pytest.param(
        HOPS_F1,
        _fwd('For=198.51.100.2:5858;host="example.com:8080";proto=https'),
        {
            "REMOTE_ADDR": "198.51.100.2",
            "REMOTE_PORT": "5858",
            "SERVER_NAME": "example.com",
            "HTTP_HOST": "example.com:8080",
            "SERVER_PORT": "8080",
            "wsgi.url_scheme": "https",
        },
        id="for, host, proto (RFC 7239 section 5)",
    ),
    # waitress test_parse_forwarded_multiple_proxies.
    pytest.param(
        HOPS_F2,
        _fwd(
            'for="[2001:db8::1]:3821";host="example.com:8443";proto="https", '
            'for=192.0.2.1;host="example.internal:8080"'
        ),
        {
            "REMOTE_ADDR": "2001:db8::1",
            "REMOTE_PORT": "3821",
            "HTTP_HOST": "example.com:8443",
            "SERVER_PORT": "8443",
            "wsgi.url_scheme": "https",
        },
        id="two hops: the client's element wins",
    ),
    # waitress test_parse_forwarded_multiple_proxies_minimal; CONTRACT.md 7
    # (a field missing in the client's element comes from its right).
    pytest.param(
        HOPS_F2,
        _fwd('for="[2001:db8::1]";proto="https", for=192.0.2.1;host="example.org"'),
        {
            "REMOTE_ADDR": "2001:db8::1",
            "REMOTE_PORT": ABSENT,
            "HTTP_HOST": "example.org",
            "SERVER_NAME": "example.org",
            "SERVER_PORT": "443",
            "wsgi.url_scheme": "https",
        },
        id="a missing host taken from the element to the right",
    ),
    # waitress test_parse_forwarded_multiple_proxies_trust_only_two.
    pytest.param(
        HOPS_F2,
        _fwd(
            "For=192.0.2.1;host=fake.com, "
            'For=198.51.100.2;host="example.com:8080", For=203.0.113.1'
        ),
        {"REMOTE_ADDR": "198.51.100.2", "HTTP_HOST": "example.com:8080"},
        id="elements left of N hops are never used",
    ),
    pytest.param(
        TF,
        _fwd(
            "for=1.1.1.1;proto=https, for=10.0.0.2;host=b.example, "
            "for=10.0.0.3;host=c.example;proto=http"
        ),
        {
            "REMOTE_ADDR": "1.1.1.1",
            "HTTP_HOST": "b.example",
            "wsgi.url_scheme": "https",
        },
        id="chain: the nearest element to the right that carries the field",
    ),
    pytest.param(
        TF,
        _fwd("for=9.9.9.9;host=evil.example, for=1.2.3.4, for=10.0.0.2"),
        {"REMOTE_ADDR": "1.2.3.4", "HTTP_HOST": "example.com"},
        id="chain: fields left of the client are never used",
    ),
    pytest.param(
        TF,
        _fwd("for=10.0.0.7, for=10.0.0.8"),
        {"REMOTE_ADDR": "10.0.0.7"},
        id="chain: all trusted, the leftmost",
    ),
    pytest.param(
        TF,
        _fwd(", ".join(f"for={a}" for a in chain(64).split(", "))),
        {"REMOTE_ADDR": "10.1.0.1"},
        id="chain: exactly 64 elements, all trusted",
    ),
    pytest.param(
        TF,
        _fwd(", ".join(f"for={a}" for a in chain(65).split(", "))),
        bad("Forwarded"),
        id="chain: 65 elements, all trusted",
    ),
    # waitress test_parse_forwarded_empty_pair.
    pytest.param(
        HOPS_F1,
        _fwd("For=198.51.100.2;;proto=https;by=_unused"),
        {"REMOTE_ADDR": "198.51.100.2", "wsgi.url_scheme": "https"},
        id="an empty pair",
    ),
    # waitress test_parse_forwarded_warning_unknown_token (it logs; the
    # contract does not ask for that).
    pytest.param(
        HOPS_F1,
        _fwd('For=198.51.100.2;host="example.com:8080";proto=https;unknown="yolo"'),
        {"REMOTE_ADDR": "198.51.100.2", "HTTP_HOST": "example.com:8080"},
        id="an unknown parameter is ignored",
    ),
    # waitress ..._pair_token_whitespace / _pair_value_whitespace /
    # _pair_no_equals; CONTRACT.md 7: no whitespace around '='.
    pytest.param(
        HOPS_F1, _fwd("For=198.51.100.2; proto =https"), bad("Forwarded"), id="name ="
    ),
    pytest.param(
        HOPS_F1,
        _fwd('For= "198.51.100.2"; proto =https'),
        bad("Forwarded"),
        id="= value",
    ),
    pytest.param(HOPS_F1, _fwd("For"), bad("Forwarded"), id="no ="),
    # CONTRACT.md 7: OWS around ';' and ',' is fine.
    pytest.param(
        TF,
        _fwd("for=1.2.3.4 ; proto=https ,\tfor=10.0.0.2"),
        {"REMOTE_ADDR": "1.2.3.4", "wsgi.url_scheme": "https"},
        id="OWS around ; and ,",
    ),
    # RFC 7239 section 4: quoted values may hold ',' and ';'.
    pytest.param(
        TF,
        _fwd('for="1.2.3.4;host=evil"'),
        bad("Forwarded"),
        id="smuggling: a quoted ; never starts a pair",
    ),
    pytest.param(
        {**TF, "on_invalid": "ignore"},
        _fwd('for="1.2.3.4;host=evil"'),
        {"HTTP_HOST": "example.com", "REMOTE_ADDR": PEER, "HTTP_FORWARDED": ABSENT},
        id="smuggling under ignore: the host never changes",
    ),
    pytest.param(
        TF,
        _fwd('for="1.2.3.4, for=5.6.7.8"'),
        bad("Forwarded"),
        id="a quoted , never starts an element",
    ),
    pytest.param(
        TF,
        _fwd('for=1.2.3.4;host="a.example";proto="https";by="x;y,z"'),
        {
            "REMOTE_ADDR": "1.2.3.4",
            "HTTP_HOST": "a.example",
            "wsgi.url_scheme": "https",
        },
        id="; and , inside an unused quoted value",
    ),
    pytest.param(
        TF,
        _fwd('for="1.2.3.4";by="\\"quoted\\", with \\\\ escapes"'),
        {"REMOTE_ADDR": "1.2.3.4"},
        id="quoted-pairs",
    ),
    pytest.param(TF, _fwd('for="1.2.3.4'), bad("Forwarded"), id="unterminated quote"),
    pytest.param(
        TF, _fwd("for=1.2.3.4;for=5.6.7.8"), bad("Forwarded"), id="a repeated pair"
    ),
    # CONTRACT.md 7: parsed as a whole; a syntax error anywhere is invalid.
    pytest.param(
        TF,
        _fwd("garbage!, for=1.2.3.4"),
        bad("Forwarded"),
        id="a syntax error left of the client",
    ),
    # RFC 7239 section 6.1: IPv6 nodes are bracketed (and so quoted).
    pytest.param(
        TF,
        _fwd('for="[2001:db8:cafe::17]:4711"'),
        {"REMOTE_ADDR": "2001:db8:cafe::17", "REMOTE_PORT": "4711"},
        id="[IPv6]:port",
    ),
    pytest.param(
        TF,
        _fwd('for="2001:db8:cafe::17"'),
        bad("Forwarded"),
        id="IPv6 without brackets",
    ),
    # RFC 7239 section 6.2/6.3; CONTRACT.md 7: unknown and obfuscated
    # clients leave REMOTE_ADDR/REMOTE_PORT; their other fields apply.
    pytest.param(
        TF,
        _fwd('for=unknown;proto=https;host="x.example"'),
        {
            "REMOTE_ADDR": PEER,
            "REMOTE_PORT": "40000",
            "wsgi.url_scheme": "https",
            "HTTP_HOST": "x.example",
        },
        id="unknown client, other fields apply",
    ),
    pytest.param(
        TF,
        _fwd("for=_hidden;proto=https"),
        {"REMOTE_ADDR": PEER, "REMOTE_PORT": "40000", "wsgi.url_scheme": "https"},
        id="obfuscated client",
    ),
    pytest.param(
        TF,
        _fwd('for="_hidden:_port"'),
        {"REMOTE_ADDR": PEER, "REMOTE_PORT": "40000"},
        id="obfuscated client and port",
    ),
    pytest.param(
        TF,
        _fwd('for="1.2.3.4:_p1"'),
        {"REMOTE_ADDR": "1.2.3.4", "REMOTE_PORT": ABSENT},
        id="an obfuscated port sets no REMOTE_PORT",
    ),
    pytest.param(
        TF,
        _fwd("proto=https"),
        {"REMOTE_ADDR": PEER, "wsgi.url_scheme": "https"},
        id="an element without for",
    ),
    pytest.param(
        TF,
        _fwd("for=1.2.3.4;proto=HTTPS"),
        {"wsgi.url_scheme": "https"},
        id="proto in upper case",
    ),
    pytest.param(TF, _fwd("for=1.2.3.4;proto=ftp"), bad("Forwarded"), id="proto=ftp"),
    pytest.param(
        TF, _fwd('for=1.2.3.4;host="a@b"'), bad("Forwarded"), id="host with @"
    ),
    pytest.param(
        TF,
        _fwd(",, ,"),
        {"REMOTE_ADDR": PEER, "HTTP_FORWARDED": ABSENT},
        id="no elements: ignored and removed",
    ),
    # CONTRACT.md 7: x-forwarded-prefix may accompany forwarded.
    pytest.param(
        TF,
        _fwd("for=1.2.3.4", HTTP_X_FORWARDED_PREFIX="/app"),
        {"REMOTE_ADDR": "1.2.3.4", "SCRIPT_NAME": "/app"},
        id="with X-Forwarded-Prefix",
    ),
    pytest.param(
        TF,
        _fwd("for=1.2.3.4, for=10.0.0.2", HTTP_X_FORWARDED_PREFIX="/outer, /inner"),
        {"SCRIPT_NAME": "/outer"},
        id="with X-Forwarded-Prefix at -h",
    ),
    # waitress test_get_environment_warning_other_proxy_headers: the
    # X-Forwarded-For beside a trusted Forwarded is removed.
    pytest.param(
        TF,
        _fwd("for=198.51.100.2", HTTP_X_FORWARDED_FOR="[2001:db8::1]"),
        {"REMOTE_ADDR": "198.51.100.2", "HTTP_X_FORWARDED_FOR": ABSENT},
        id="X-Forwarded-For beside Forwarded is removed",
    ),
    # waitress test_parse_no_valid_proxy_headers: trusted peer, nothing in
    # trusted_headers matches.
    pytest.param(
        {"trusted_proxies": "*", "trusted_headers": "x-forwarded-proto"},
        _fwd("For=198.51.100.2;proto=https", HTTP_X_FORWARDED_FOR="198.51.100.2"),
        {"REMOTE_ADDR": PEER, "wsgi.url_scheme": "http", "HTTP_FORWARDED": ABSENT},
        id="Forwarded not in trusted_headers",
    ),
    pytest.param(
        {**HOPS_F2, "trusted_hops": "3"},
        _fwd("for=1.2.3.4, for=5.6.7.8"),
        {"REMOTE_ADDR": PEER, "HTTP_FORWARDED": ABSENT},
        id="hop mode, fewer elements than hops: ignored",
    ),
]


@pytest.mark.parametrize(("settings", "environ_in", "expected"), FORWARDED)
def test_forwarded(settings: Any, environ_in: Any, expected: Any) -> None:
    check(settings, environ_in, expected)


def test_forwarded_is_cut_to_the_walked_elements() -> None:
    # CONTRACT.md 2 clear_untrusted: the honoured list keeps its trusted part.
    out = run(TF, _fwd("for=6.6.6.6;host=evil, for=1.2.3.4, for=10.0.0.2"))
    assert out.seen is not None
    kept = parse_forwarded(out.seen["HTTP_FORWARDED"])
    assert kept == [{"for": "1.2.3.4"}, {"for": "10.0.0.2"}]
    assert out.seen["wsgifix.orig"]["HTTP_FORWARDED"] == out.before["HTTP_FORWARDED"]


# -- the environ afterwards ----------------------------------------------------

ENVIRON = [
    # CONTRACT.md 3 wsgifix.orig: every key that changed, None where absent.
    pytest.param(
        TX,
        {
            "HTTP_X_FORWARDED_FOR": "6.6.6.6, 1.2.3.4",
            "HTTP_X_FORWARDED_PROTO": "https",
            "HTTP_X_FORWARDED_HOST": "app.example",
            "HTTP_X_FORWARDED_PREFIX": "/app",
            "HTTP_X_FORWARDED_BY": "10.0.0.1",
        },
        {
            "REMOTE_ADDR": "1.2.3.4",
            "REMOTE_PORT": ABSENT,
            "wsgi.url_scheme": "https",
            "HTTPS": "on",
            "HTTP_HOST": "app.example",
            "SERVER_NAME": "app.example",
            "SERVER_PORT": "443",
            "SCRIPT_NAME": "/app",
            "PATH_INFO": "/",
            "HTTP_X_FORWARDED_FOR": "1.2.3.4",
            "HTTP_X_FORWARDED_BY": ABSENT,
            "wsgifix.orig": {
                "REMOTE_ADDR": PEER,
                "REMOTE_PORT": "40000",
                "wsgi.url_scheme": "http",
                "HTTPS": None,
                "HTTP_HOST": "example.com",
                "SERVER_NAME": "internal",
                "SERVER_PORT": "8080",
                "SCRIPT_NAME": "",
                "HTTP_X_FORWARDED_FOR": "6.6.6.6, 1.2.3.4",
                "HTTP_X_FORWARDED_BY": "10.0.0.1",
            },
        },
        id="wsgifix.orig holds every original, HTTPS as None",
    ),
    pytest.param(
        {},
        {"HTTP_HOST": None},
        {"wsgifix.orig": {}, "SERVER_NAME": "internal", "SERVER_PORT": "8080"},
        id="nothing changed: wsgifix.orig is empty but set",
    ),
    pytest.param(
        {},
        {"HTTPS": "on", "HTTP_HOST": None},
        {"HTTPS": ABSENT, "wsgifix.orig": {"HTTPS": "on"}},
        id="a removed HTTPS is recorded",
    ),
    pytest.param(
        T,
        {"HTTP_X_FORWARDED_FOR": "1.2.3.4:5678"},
        {"REMOTE_ADDR": "1.2.3.4", "REMOTE_PORT": "5678"},
        id="a forwarded port becomes REMOTE_PORT",
    ),
    pytest.param(
        T,
        {"HTTP_X_FORWARDED_FOR": "1.2.3.4", "REMOTE_PORT": None},
        {"REMOTE_ADDR": "1.2.3.4", "REMOTE_PORT": ABSENT},
        id="no REMOTE_PORT before, none after",
    ),
    pytest.param(
        {"trusted_proxies": "192.0.2.0/24"},
        {"HTTP_X_FORWARDED_FOR": "1.2.3.4"},
        {"REMOTE_ADDR": PEER, "REMOTE_PORT": "40000"},
        id="REMOTE_PORT stays when REMOTE_ADDR is not rewritten",
    ),
    # CONTRACT.md 3/7: Host validated and normalized on every request.
    pytest.param(
        {},
        {"HTTP_HOST": "EXAMPLE.com:80"},
        {"HTTP_HOST": "example.com", "SERVER_NAME": "example.com", "SERVER_PORT": "80"},
        id="Host lower-cased, default port dropped",
    ),
    pytest.param(
        {},
        {"HTTP_HOST": "example.com:8080"},
        {"HTTP_HOST": "example.com:8080", "SERVER_PORT": "8080"},
        id="a non-default port kept",
    ),
    pytest.param(
        {},
        {"HTTP_HOST": "example.com:443", "wsgi.url_scheme": "https"},
        {"HTTP_HOST": "example.com", "SERVER_PORT": "443"},
        id="https default port dropped",
    ),
    pytest.param(
        {},
        {"HTTP_HOST": "example.com:443"},
        {"HTTP_HOST": "example.com:443", "SERVER_PORT": "443"},
        id="443 kept over http",
    ),
    pytest.param(
        {},
        {"HTTP_HOST": "[::1]:8000"},
        {"HTTP_HOST": "[::1]:8000", "SERVER_NAME": "[::1]", "SERVER_PORT": "8000"},
        id="SERVER_NAME keeps IPv6 brackets",
    ),
    pytest.param(
        {},
        {"HTTP_HOST": "Example.COM.:80"},
        {"HTTP_HOST": "example.com.", "SERVER_NAME": "example.com."},
        id="the trailing dot is kept",
    ),
    # CONTRACT.md 7: a request without a Host is served; nothing invented.
    pytest.param(
        {},
        {"HTTP_HOST": None},
        {"HTTP_HOST": ABSENT, "SERVER_NAME": "internal", "SERVER_PORT": "8080"},
        id="no Host: SERVER_* as the server set them",
    ),
    # The contract is silent on SERVER_PORT when only the scheme changes
    # and there is no Host: it stays as the server set it.
    pytest.param(
        T,
        {"HTTP_HOST": None, "HTTP_X_FORWARDED_PROTO": "https"},
        {"HTTP_HOST": ABSENT, "wsgi.url_scheme": "https", "SERVER_PORT": "8080"},
        id="no Host, trusted https: SERVER_PORT untouched",
    ),
    pytest.param(
        T,
        {"HTTP_X_FORWARDED_FOR": "1.2.3.4", "PATH_INFO": "/a%2Fb/c"},
        {"PATH_INFO": "/a%2Fb/c", "SCRIPT_NAME": ""},
        id="PATH_INFO is never changed by the proxy layer",
    ),
]


@pytest.mark.parametrize(("settings", "environ_in", "expected"), ENVIRON)
def test_environ_afterwards(settings: Any, environ_in: Any, expected: Any) -> None:
    check(settings, environ_in, expected)


# -- Host validation on every request ------------------------------------------


# django HostValidationTests.poisoned_hosts and test_http_get_host's
# legit_hosts; CONTRACT.md 7 host grammar (no proxy trusted here).
def _host(value: str) -> dict[str, str]:
    return {"HTTP_HOST": value}


HOST_VALIDATION = [
    pytest.param({}, _host("example.com@evil.tld"), bad("Host"), id="userinfo"),
    pytest.param(
        {}, _host("example.com:dr.frankenstein@evil.tld"), bad("Host"), id="userinfo:"
    ),
    pytest.param(
        {},
        _host("example.com:dr.frankenstein@evil.tld:80"),
        bad("Host"),
        id="userinfo and port",
    ),
    pytest.param({}, _host("example.com:80/badpath"), bad("Host"), id="a path"),
    pytest.param(
        {}, _host("example.com: recovermypassword.com"), bad("Host"), id="a space"
    ),
    pytest.param({}, _host("example.com.."), bad("Host"), id="two trailing dots"),
    pytest.param({}, _host("ex.com@evil"), bad("Host"), id="ex.com@evil"),
    pytest.param({}, _host("ex.com/x"), bad("Host"), id="ex.com/x"),
    pytest.param({}, _host("[::1]evil"), bad("Host"), id="[::1]evil"),
    pytest.param({}, _host("host:abc"), bad("Host"), id="host:abc"),
    pytest.param({}, _host("host:"), bad("Host"), id="empty port"),
    pytest.param({}, _host("host:0"), bad("Host"), id="port 0"),
    pytest.param({}, _host("host:65536"), bad("Host"), id="port 65536"),
    pytest.param({}, _host("ex..com"), bad("Host"), id="empty label"),
    pytest.param({}, _host(".ex.com"), bad("Host"), id="leading dot"),
    pytest.param({}, _host("ex.com\\evil"), bad("Host"), id="backslash"),
    pytest.param({}, _host("[::1"), bad("Host"), id="unclosed bracket"),
    pytest.param({}, _host("[fe80::1%25eth0]"), bad("Host"), id="zone id"),
    pytest.param({}, _host("<invalid>"), bad("Host"), id="<invalid>"),
    pytest.param({}, _host("exämple.com"), bad("Host"), id="non-ASCII"),
    pytest.param({}, _host("a.com\r\nX: y"), bad("Host"), id="CR LF"),
    # An empty Host header is outside the grammar (the contract serves a
    # request *without* Host; an empty one is answered 400).
    pytest.param({}, _host(""), bad("Host"), id="empty Host"),
    pytest.param(
        {"trusted_proxies": "192.0.2.0/24"},
        _host("ex.com@evil"),
        bad("Host"),
        id="also from an untrusted peer",
    ),
    pytest.param(
        {},
        _host("example.com:80"),
        {"HTTP_HOST": "example.com", "SERVER_PORT": "80"},
        id="example.com:80",
    ),
    pytest.param(
        {},
        _host("12.34.56.78:443"),
        {"HTTP_HOST": "12.34.56.78:443", "SERVER_NAME": "12.34.56.78"},
        id="IPv4:port",
    ),
    pytest.param(
        {},
        _host("[2001:19f0:feee::dead:beef:cafe]:8080"),
        {"SERVER_NAME": "[2001:19f0:feee::dead:beef:cafe]", "SERVER_PORT": "8080"},
        id="[IPv6]:port",
    ),
    pytest.param(
        {}, _host("xn--4ca9at.com"), {"HTTP_HOST": "xn--4ca9at.com"}, id="punycode"
    ),
    pytest.param(
        {},
        _host("[::ffff:169.254.169.254]"),
        {"HTTP_HOST": "[::ffff:169.254.169.254]"},
        id="[mapped IPv6]",
    ),
    pytest.param(
        {}, _host("under_score.example"), {"SERVER_NAME": "under_score.example"}, id="_"
    ),
    pytest.param(
        {}, _host("localhost:65535"), {"SERVER_PORT": "65535"}, id="the highest port"
    ),
]


@pytest.mark.parametrize(("settings", "environ_in", "expected"), HOST_VALIDATION)
def test_host_validation(settings: Any, environ_in: Any, expected: Any) -> None:
    check(settings, environ_in, expected)


# -- allowed_hosts -------------------------------------------------------------

# django HostValidationTests.test_http_get_host: its ALLOWED_HOSTS list.
DJANGO = {
    "allowed_hosts": "forward.com example.com internal.com 12.34.56.78 "
    "[2001:19f0:feee::dead:beef:cafe] xn--4ca9at.com .multitenant.com "
    "INSENSITIVE.com [::ffff:169.254.169.254]"
}
OK = {"status": "200 OK"}

ALLOWED_HOSTS = [
    *(
        pytest.param(DJANGO, _host(host), OK, id=f"django legit {host}")
        for host in (
            "example.com",
            "example.com:80",
            "12.34.56.78",
            "12.34.56.78:443",
            "[2001:19f0:feee::dead:beef:cafe]",
            "[2001:19f0:feee::dead:beef:cafe]:8080",
            "xn--4ca9at.com",
            "anything.multitenant.com",
            "multitenant.com",
            "insensitive.com",
            "example.com.",
            "example.com.:80",
            "[::ffff:169.254.169.254]",
        )
    ),
    pytest.param(DJANGO, _host("other.com"), bad("Host"), id="django other.com"),
    pytest.param(
        DJANGO, _host("example.com.."), bad("Host"), id="django example.com.."
    ),
    # starlette test_trusted_host_middleware.
    pytest.param(
        {"allowed_hosts": "testserver *.testserver"},
        _host("testserver"),
        OK,
        id="starlette testserver",
    ),
    pytest.param(
        {"allowed_hosts": "testserver *.testserver"},
        _host("subdomain.testserver"),
        OK,
        id="starlette subdomain",
    ),
    pytest.param(
        {"allowed_hosts": "testserver *.testserver"},
        _host("invalidhost"),
        bad("Host"),
        id="starlette invalidhost",
    ),
    # CONTRACT.md 2: *.example.com is subdomains only, .example.com both.
    pytest.param(
        {"allowed_hosts": "*.example.com"},
        _host("example.com"),
        bad("Host"),
        id="*.example.com excludes the apex",
    ),
    pytest.param(
        {"allowed_hosts": "*.example.com"},
        _host("a.b.example.com:8443"),
        OK,
        id="*.example.com: deeper subdomains, any port",
    ),
    pytest.param(
        {"allowed_hosts": ".example.com"},
        _host("evilexample.com"),
        bad("Host"),
        id=".example.com is on a label boundary",
    ),
    pytest.param(
        {"allowed_hosts": "*.example.com"},
        _host("example.com.evil"),
        bad("Host"),
        id="a suffix is matched at the end",
    ),
    pytest.param(
        {"allowed_hosts": "Example.com"},
        _host("EXAMPLE.COM"),
        OK,
        id="case-insensitive",
    ),
    pytest.param(
        {"allowed_hosts": "example.com."},
        _host("example.com"),
        OK,
        id="a trailing dot in the entry is ignored",
    ),
    pytest.param(
        {"allowed_hosts": "example.com"},
        _host("example.com."),
        {"HTTP_HOST": "example.com."},
        id="a trailing dot in the Host is ignored (and kept)",
    ),
    pytest.param({"allowed_hosts": "[::1]"}, _host("[::1]:8000"), OK, id="[::1] entry"),
    pytest.param({"allowed_hosts": "::1"}, _host("[::1]"), OK, id="::1 entry"),
    # Not in the contract: IPv6 entries are compared as addresses.
    pytest.param(
        {"allowed_hosts": "[::1]"},
        _host("[0:0::1]"),
        {"HTTP_HOST": "[0:0::1]"},
        id="[::1] matches another spelling of ::1",
    ),
    pytest.param(
        {"allowed_hosts": "127.0.0.1"},
        _host("127.0.0.2"),
        bad("Host"),
        id="an IP entry is exact",
    ),
    pytest.param({"allowed_hosts": "*"}, _host("anything.example"), OK, id="*"),
    # CONTRACT.md 7: without a Host, SERVER_NAME is checked.
    pytest.param(
        {"allowed_hosts": "internal"},
        {"HTTP_HOST": None},
        OK,
        id="no Host: SERVER_NAME allowed",
    ),
    pytest.param(
        {"allowed_hosts": "example.com"},
        {"HTTP_HOST": None},
        bad("Host"),
        id="no Host: SERVER_NAME not allowed",
    ),
    # django test_http_get_host_with_x_forwarded_host: the effective host
    # is what is checked.
    pytest.param(
        {**XH, "allowed_hosts": "example.com"},
        _xfh("forward.com"),
        bad("Host"),
        id="a trusted X-Forwarded-Host outside allowed_hosts",
    ),
    pytest.param(
        {**XH, "allowed_hosts": "forward.com"},
        _xfh("forward.com"),
        {"HTTP_HOST": "forward.com"},
        id="a trusted X-Forwarded-Host inside allowed_hosts",
    ),
    # The contract validates "the Host"; the implementation checks the
    # effective one: a trusted X-Forwarded-Host replaces the Host header
    # (usually the proxy's upstream name), which is then not checked.
    pytest.param(
        {**XH, "allowed_hosts": "good.example"},
        _xfh("good.example", HTTP_HOST="evil.example"),
        {
            "HTTP_HOST": "good.example",
            "wsgifix.orig": {
                "HTTP_HOST": "evil.example",
                "SERVER_NAME": "internal",
                "SERVER_PORT": "8080",
            },
        },
        id="a replaced Host header is not checked against allowed_hosts",
    ),
    pytest.param(
        XH,
        _xfh("good.example", HTTP_HOST="bad host"),
        {"HTTP_HOST": "good.example"},
        id="a replaced Host header is not checked against the grammar",
    ),
    pytest.param(
        XP,
        _xfp("8443", HTTP_HOST="bad host"),
        bad("Host"),
        id="X-Forwarded-Port alone does not replace a bad Host",
    ),
    # django test_http_get_host (USE_X_FORWARDED_HOST=False).
    pytest.param(
        {**XH, "allowed_hosts": "example.com"},
        _xfh("forward.com", REMOTE_ADDR="203.0.113.9"),
        {"HTTP_HOST": "example.com", "HTTP_X_FORWARDED_HOST": ABSENT},
        id="an untrusted X-Forwarded-Host is not what is checked",
    ),
]


@pytest.mark.parametrize(("settings", "environ_in", "expected"), ALLOWED_HOSTS)
def test_allowed_hosts(settings: Any, environ_in: Any, expected: Any) -> None:
    check(settings, environ_in, expected)


# -- clear_untrusted and trusted_headers ---------------------------------------

CLEAR = [
    # waitress test_get_environment_clears_headers_if_untrusted_proxy.
    pytest.param(
        T,
        {**ALL_SEVEN, "REMOTE_ADDR": "203.0.113.9"},
        {**NONE_OF_SEVEN, "REMOTE_ADDR": "203.0.113.9", "HTTP_HOST": "example.com"},
        id="an untrusted peer: all seven removed",
    ),
    pytest.param(
        {},
        ALL_SEVEN,
        {**NONE_OF_SEVEN, "REMOTE_ADDR": PEER},
        id="nobody trusted: all seven removed",
    ),
    # waitress test_get_environment_contains_all_headers_including_untrusted.
    pytest.param(
        {**T, "clear_untrusted": "false"},
        {**ALL_SEVEN, "REMOTE_ADDR": "203.0.113.9"},
        {**ALL_SEVEN, "REMOTE_ADDR": "203.0.113.9"},
        id="clear_untrusted=false keeps them all",
    ),
    pytest.param(
        {**TX, "clear_untrusted": "false"},
        {
            "HTTP_X_FORWARDED_FOR": "6.6.6.6, 1.2.3.4",
            "HTTP_X_FORWARDED_PROTO": "http, https",
            "HTTP_X_FORWARDED_BY": "x",
        },
        {
            "REMOTE_ADDR": "1.2.3.4",
            "wsgi.url_scheme": "https",
            "HTTP_X_FORWARDED_FOR": "6.6.6.6, 1.2.3.4",
            "HTTP_X_FORWARDED_PROTO": "http, https",
            "HTTP_X_FORWARDED_BY": "x",
        },
        id="clear_untrusted=false: honoured, not cut",
    ),
    # waitress test_get_environment_contains_only_trusted_headers: it can
    # trust X-Forwarded-By; wsgifix never honours it, so it always goes.
    pytest.param(
        T,
        {"HTTP_X_FORWARDED_BY": "Waitress", "HTTP_X_FORWARDED_FOR": "1.2.3.4"},
        {"HTTP_X_FORWARDED_BY": ABSENT, "HTTP_X_FORWARDED_FOR": "1.2.3.4"},
        id="X-Forwarded-By from a trusted peer is removed",
    ),
    # CONTRACT.md 2 trusted_headers: a trusted peer's other headers go.
    pytest.param(
        T,
        {
            "HTTP_X_FORWARDED_FOR": "1.2.3.4",
            "HTTP_X_FORWARDED_HOST": "evil.example",
            "HTTP_X_FORWARDED_PORT": "1",
            "HTTP_X_FORWARDED_PREFIX": "/evil",
            "HTTP_FORWARDED": "for=6.6.6.6",
        },
        {
            "REMOTE_ADDR": "1.2.3.4",
            "HTTP_HOST": "example.com",
            "SERVER_PORT": "80",
            "SCRIPT_NAME": "",
            "HTTP_X_FORWARDED_HOST": ABSENT,
            "HTTP_X_FORWARDED_PORT": ABSENT,
            "HTTP_X_FORWARDED_PREFIX": ABSENT,
            "HTTP_FORWARDED": ABSENT,
        },
        id="headers outside trusted_headers are not used and removed",
    ),
    pytest.param(
        {**T, "trusted_headers": "x-forwarded-proto"},
        {"HTTP_X_FORWARDED_FOR": "1.2.3.4", "HTTP_X_FORWARDED_PROTO": "https"},
        {
            "REMOTE_ADDR": PEER,
            "HTTP_X_FORWARDED_FOR": ABSENT,
            "wsgi.url_scheme": "https",
        },
        id="X-Forwarded-For outside trusted_headers",
    ),
    pytest.param(
        {**T, "trusted_headers": ""},
        {"HTTP_X_FORWARDED_FOR": "1.2.3.4", "HTTP_X_FORWARDED_PROTO": "https"},
        {"REMOTE_ADDR": PEER, "wsgi.url_scheme": "http", **NONE_OF_SEVEN},
        id="empty trusted_headers: a trusted peer can set nothing",
    ),
    pytest.param(
        TX,
        {"HTTP_X_FORWARDED_PORT": "443, 8443", "HTTP_X_FORWARDED_HOST": "a, b, c"},
        {"HTTP_X_FORWARDED_PORT": "8443", "HTTP_X_FORWARDED_HOST": "c"},
        id="honoured lists cut to their trusted part",
    ),
    pytest.param(
        {**TX, "on_invalid": "ignore"},
        {"HTTP_X_FORWARDED_PORT": "bad", "HTTP_X_FORWARDED_FOR": "1.2.3.4"},
        {"HTTP_X_FORWARDED_PORT": ABSENT, "REMOTE_ADDR": "1.2.3.4"},
        id="an ignored invalid header is removed",
    ),
    pytest.param(
        {**TX, "on_invalid": "ignore", "clear_untrusted": "false"},
        {"HTTP_X_FORWARDED_PORT": "bad"},
        {"HTTP_X_FORWARDED_PORT": "bad", "SERVER_PORT": "80"},
        id="an ignored invalid header stays without clear_untrusted",
    ),
]


@pytest.mark.parametrize(("settings", "environ_in", "expected"), CLEAR)
def test_clear_untrusted(settings: Any, environ_in: Any, expected: Any) -> None:
    check(settings, environ_in, expected)


# -- libraries reading forwarding headers cannot be spoofed --------------------

# CONTRACT.md 2 clear_untrusted: werkzeug Request.access_route and WebOb
# Request.client_addr read X-Forwarded-For themselves.
SPOOF = [
    pytest.param(
        T,
        {"HTTP_X_FORWARDED_FOR": "6.6.6.6, 1.2.3.4"},
        ["1.2.3.4"],
        "1.2.3.4",
        id="a forged entry before the client",
    ),
    pytest.param(
        T,
        {"HTTP_X_FORWARDED_FOR": "6.6.6.6, 1.2.3.4, 10.0.0.2"},
        ["1.2.3.4", "10.0.0.2"],
        "1.2.3.4",
        id="the client and its trusted hops",
    ),
    pytest.param(
        T,
        {"REMOTE_ADDR": "203.0.113.9", "HTTP_X_FORWARDED_FOR": "6.6.6.6"},
        ["203.0.113.9"],
        "203.0.113.9",
        id="an untrusted peer",
    ),
    pytest.param(
        {},
        {"HTTP_X_FORWARDED_FOR": "6.6.6.6"},
        [PEER],
        PEER,
        id="nobody trusted",
    ),
    pytest.param(
        {"trusted_hops": "1"},
        {"HTTP_X_FORWARDED_FOR": "6.6.6.6, 7.7.7.7, 1.2.3.4"},
        ["1.2.3.4"],
        "1.2.3.4",
        id="hop mode",
    ),
    pytest.param(
        {"trusted_hops": "3"},
        {"HTTP_X_FORWARDED_FOR": "6.6.6.6, 1.2.3.4"},
        [PEER],
        PEER,
        id="hop mode, too short",
    ),
    pytest.param(
        TF,
        {"HTTP_FORWARDED": "for=1.2.3.4", "HTTP_X_FORWARDED_FOR": "6.6.6.6"},
        ["1.2.3.4"],
        "1.2.3.4",
        id="Forwarded trusted, X-Forwarded-For forged",
    ),
    pytest.param(
        {**T, "trusted_headers": "x-forwarded-proto"},
        {"HTTP_X_FORWARDED_FOR": "6.6.6.6"},
        [PEER],
        PEER,
        id="X-Forwarded-For outside trusted_headers",
    ),
    pytest.param(
        {**T, "on_invalid": "ignore"},
        {"HTTP_X_FORWARDED_FOR": "6.6.6.6, bad!"},
        [PEER],
        PEER,
        id="an ignored invalid X-Forwarded-For",
    ),
]


@pytest.mark.parametrize(("settings", "environ_in", "route", "client"), SPOOF)
def test_werkzeug_and_webob_cannot_be_spoofed(
    settings: Any, environ_in: Any, route: list[str], client: str
) -> None:
    out = run(settings, environ_in)
    assert out.seen is not None
    assert list(WerkzeugRequest(out.seen).access_route) == route
    assert WerkzeugRequest(out.seen).remote_addr == route[0]
    assert webob.Request(out.seen).client_addr == client


@pytest.mark.parametrize(
    ("settings", "environ_in", "url_root"),
    [
        # werkzeug test_proxy_fix "all": every header at once.
        pytest.param(
            TX,
            {
                "REMOTE_ADDR": "192.168.0.2",
                "HTTP_HOST": "spam:9000",
                "HTTP_X_FORWARDED_FOR": "192.168.0.1",
                "HTTP_X_FORWARDED_PROTO": "https",
                "HTTP_X_FORWARDED_HOST": "eggs",
                "HTTP_X_FORWARDED_PORT": "443",
                "HTTP_X_FORWARDED_PREFIX": "/ham",
            },
            "https://eggs/ham/",
            id="all",
        ),
        pytest.param(
            TX,
            {"HTTP_X_FORWARDED_HOST": "[2001:db8::a]", "HTTP_X_FORWARDED_PORT": "8080"},
            "http://[2001:db8::a]:8080/",
            id="ipv6 with port",
        ),
    ],
)
def test_libraries_build_urls_from_the_effective_request(
    settings: Any, environ_in: Any, url_root: str
) -> None:
    settings = {**settings, "trusted_proxies": "10.0.0.0/8 192.168.0.0/16"}
    out = run(settings, environ_in)
    assert out.seen is not None
    assert WerkzeugRequest(out.seen).url_root == url_root
    assert webob.Request(out.seen).application_url + "/" == url_root


# -- on_invalid ----------------------------------------------------------------

INVALID = [
    pytest.param(
        TX, {"HTTP_X_FORWARDED_FOR": "1.2.3.4:x"}, "X-Forwarded-For", id="for"
    ),
    pytest.param(
        TX, {"HTTP_X_FORWARDED_PROTO": "gopher"}, "X-Forwarded-Proto", id="proto"
    ),
    pytest.param(TX, {"HTTP_X_FORWARDED_HOST": "a b"}, "X-Forwarded-Host", id="host"),
    pytest.param(TX, {"HTTP_X_FORWARDED_PORT": "99999"}, "X-Forwarded-Port", id="port"),
    pytest.param(
        TX, {"HTTP_X_FORWARDED_PREFIX": "//x"}, "X-Forwarded-Prefix", id="prefix"
    ),
    pytest.param(TF, {"HTTP_FORWARDED": 'for="1.2.3.4'}, "Forwarded", id="forwarded"),
]


@pytest.mark.parametrize(("settings", "environ_in", "header"), INVALID)
def test_on_invalid_reject(
    settings: Any, environ_in: Any, header: str, caplog: pytest.LogCaptureFixture
) -> None:
    # CONTRACT.md 2/3 on_invalid=reject: 400, one-line text/plain reason,
    # the app is not called, one warning logged.
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    out = run(settings, environ_in, validate=True)
    assert out.status == BAD
    assert out.seen is None
    assert out.headers["Content-Type"].startswith("text/plain")
    assert int(out.headers["Content-Length"]) == len(out.body)
    assert out.body.count(b"\n") == 1
    assert header.encode() in out.body
    records = [r for r in caplog.records if r.name == LOGGER]
    assert [r.levelno for r in records] == [logging.WARNING]
    assert header in records[0].getMessage()


@pytest.mark.parametrize(("settings", "environ_in", "header"), INVALID)
def test_on_invalid_ignore(
    settings: Any, environ_in: Any, header: str, caplog: pytest.LogCaptureFixture
) -> None:
    # CONTRACT.md 2 on_invalid=ignore: the header is skipped (and, with
    # clear_untrusted, removed); logged either way.
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    out = run({**settings, "on_invalid": "ignore"}, environ_in, validate=True)
    assert out.status == "200 OK"
    assert out.seen is not None
    for key in environ_in:
        assert key not in out.seen
    assert out.seen["REMOTE_ADDR"] == PEER
    assert out.seen["HTTP_HOST"] == "example.com"
    assert out.seen["wsgi.url_scheme"] == "http"
    assert out.seen["SCRIPT_NAME"] == ""
    records = [r for r in caplog.records if r.name == LOGGER]
    assert [r.levelno for r in records] == [logging.WARNING]
    assert header in records[0].getMessage()


def test_a_bad_host_is_rejected_whatever_on_invalid() -> None:
    # CONTRACT.md 3: on_invalid is about values from trusted proxies; a
    # Host outside the grammar is always a 400.
    out = run({**T, "on_invalid": "ignore"}, {"HTTP_HOST": "ex.com@evil"})
    assert out.status == BAD
    assert out.seen is None


def test_repeated_invalid_requests_are_all_rejected(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Log de-duplication never changes the answer.
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    layer = ProxyMiddleware(lambda e, s: [], **TX)
    for _ in range(3):
        assert run(TX, {"HTTP_X_FORWARDED_PROTO": "x"}, layer=layer).status == BAD
    assert 1 <= len([r for r in caplog.records if r.name == LOGGER]) <= 3


# -- advice in the log ---------------------------------------------------------

WAITRESS = {
    **T,
    "trusted_headers": "x-forwarded-for x-forwarded-proto x-forwarded-prefix",
}
UNDER_WAITRESS = {"SERVER_SOFTWARE": "waitress", "HTTP_X_FORWARDED_PREFIX": "/app"}


def _records(caplog: pytest.LogCaptureFixture, level: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOGGER and r.levelno == level]


def test_waitress_advice_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    # CONTRACT.md 6: waitress deleted X-Forwarded-For/Proto before us; only
    # X-Forwarded-Prefix arrived from a trusted peer.
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    layer = ProxyMiddleware(lambda e, s: [], **WAITRESS)
    for _ in range(3):
        out = run(WAITRESS, UNDER_WAITRESS, layer=layer)
        assert out.status == "200 OK"
        assert out.seen is not None
        assert out.seen["SCRIPT_NAME"] == "/app"
    warnings = _records(caplog, logging.WARNING)
    assert len(warnings) == 1
    message = warnings[0].getMessage()
    assert "waitress" in message
    assert "clear_untrusted_proxy_headers" in message


@pytest.mark.parametrize(
    ("settings", "environ_in"),
    [
        pytest.param(
            WAITRESS, {**UNDER_WAITRESS, "SERVER_SOFTWARE": "gunicorn"}, id="gunicorn"
        ),
        pytest.param(
            WAITRESS,
            {**UNDER_WAITRESS, "HTTP_X_FORWARDED_FOR": "1.2.3.4"},
            id="X-Forwarded-For got through",
        ),
        pytest.param(
            WAITRESS,
            {**UNDER_WAITRESS, "HTTP_X_FORWARDED_BY": "x"},
            id="X-Forwarded-By got through",
        ),
        pytest.param(
            WAITRESS,
            {**UNDER_WAITRESS, "REMOTE_ADDR": "203.0.113.9"},
            id="untrusted peer",
        ),
        pytest.param(
            WAITRESS,
            {**UNDER_WAITRESS, "HTTP_X_FORWARDED_PREFIX": None},
            id="no X-Forwarded-Prefix",
        ),
    ],
)
def test_no_waitress_advice(
    settings: Any, environ_in: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    assert run(settings, environ_in).status == "200 OK"
    assert _records(caplog, logging.WARNING) == []


def test_untrusted_headers_advice_is_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Forwarding headers arrive while no proxy is trusted: one INFO naming
    # the setting to change.
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    layer = ProxyMiddleware(lambda e, s: [])
    for changes in ({"HTTP_X_FORWARDED_FOR": "1.2.3.4"}, {"HTTP_FORWARDED": "x"}):
        assert run({}, changes, layer=layer).status == "200 OK"
    infos = _records(caplog, logging.INFO)
    assert len(infos) == 1
    assert "trusted_proxies" in infos[0].getMessage()
    assert _records(caplog, logging.WARNING) == []


class Clock:
    """A stand-in for ``time.monotonic`` (the module attribute, which the
    compiled build reads too)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("settings", "environ_in", "level"),
    [
        pytest.param(WAITRESS, UNDER_WAITRESS, logging.WARNING, id="waitress"),
        pytest.param(
            {}, {"HTTP_X_FORWARDED_FOR": "1.2.3.4"}, logging.INFO, id="untrusted"
        ),
    ],
)
def test_advice_is_not_repeated_hours_later(
    settings: Any,
    environ_in: Any,
    level: int,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # CONTRACT.md 6 "logs once": the server's settings do not change while
    # it runs, so the advice is not repeated every minute.
    clock = Clock()
    monkeypatch.setattr(time, "monotonic", clock.monotonic)
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    layer = ProxyMiddleware(lambda e, s: [], **settings)
    for _ in range(3):
        assert run(settings, environ_in, layer=layer).status == "200 OK"
        clock.now += 3600
    assert len(_records(caplog, level)) == 1


def test_invalid_headers_are_logged_again_after_a_minute(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Not in the contract ("logged either way"): per header and reason,
    # at most one line a minute, so a misbehaving client cannot flood.
    clock = Clock()
    monkeypatch.setattr(time, "monotonic", clock.monotonic)
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    layer = ProxyMiddleware(lambda e, s: [], **TX)
    for step in (0, 1, 59, 61):
        clock.now = 1000.0 + step
        assert run(TX, {"HTTP_X_FORWARDED_PROTO": "x"}, layer=layer).status == BAD
    assert len(_records(caplog, logging.WARNING)) == 2


@pytest.mark.parametrize(
    "environ_in",
    [
        pytest.param({"HTTP_FORWARDED": "for=1.2.3.4"}, id="Forwarded"),
        pytest.param(
            {"HTTP_FORWARDED": "for=1.2.3.4", "HTTP_X_FORWARDED_FOR": "1.2.3.4"},
            id="Forwarded and X-Forwarded-For",
        ),
        pytest.param(
            {"HTTP_FORWARDED": "x", "HTTP_X_FORWARDED_PREFIX": "/p"},
            id="Forwarded and X-Forwarded-Prefix",
        ),
        pytest.param(dict(ALL_SEVEN), id="all seven"),
        pytest.param({"HTTP_X_FORWARDED_BY": "x"}, id="only X-Forwarded-By"),
    ],
)
def test_untrusted_advice_suggests_a_valid_setting(
    environ_in: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # The INFO names trusted_headers to set; config must accept that value
    # (CONTRACT.md 7: forwarded cannot be combined with x-forwarded-for).
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    assert run({}, environ_in).status == "200 OK"
    (record,) = _records(caplog, logging.INFO)
    found = re.search(r"trusted_headers='([^']*)'", record.getMessage())
    assert found is not None, record.getMessage()
    assert config.convert("trusted_headers", found.group(1))


@pytest.mark.parametrize(
    ("settings", "environ_in"),
    [
        pytest.param({}, {}, id="no forwarding header"),
        pytest.param(
            {"trusted_proxies": "192.0.2.1"},
            {"HTTP_X_FORWARDED_FOR": "1.2.3.4"},
            id="a proxy is trusted, just not this peer",
        ),
        pytest.param(
            {"trusted_hops": "1"},
            {"HTTP_X_FORWARDED_FOR": "1.2.3.4"},
            id="hop mode",
        ),
    ],
)
def test_no_untrusted_headers_advice(
    settings: Any, environ_in: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    assert run(settings, environ_in).status == "200 OK"
    assert _records(caplog, logging.INFO) == []


# -- wsgiref's validator -------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "environ_in"),
    [
        pytest.param(TX, {"HTTP_X_FORWARDED_PREFIX": "/"}, id="prefix / (no '/')"),
        pytest.param(
            TX,
            {
                "HTTP_X_FORWARDED_FOR": "[::1]:1234",
                "HTTP_X_FORWARDED_PROTO": "https",
                "HTTP_X_FORWARDED_HOST": "[::1]:8443",
                "HTTP_X_FORWARDED_PREFIX": "/a/b/",
            },
            id="everything rewritten",
        ),
        pytest.param({}, {"HTTP_HOST": None}, id="no Host"),
        pytest.param({}, {"HTTP_HOST": "bad host"}, id="a 400"),
        pytest.param({"url_scheme": "https"}, {"SCRIPT_NAME": "/m"}, id="url_scheme"),
    ],
)
def test_the_environ_and_answers_stay_valid_wsgi(
    settings: Any, environ_in: Any
) -> None:
    # PEP 3333 via wsgiref.validate around both sides of the layer.
    out = run(settings, environ_in, validate=True)
    assert out.status in ("200 OK", BAD)
    if out.seen is not None:
        assert out.seen.get("SCRIPT_NAME") != "/"


# -- large and hostile input ---------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "environ_in", "expected"),
    [
        # CONTRACT.md 7: the walk stops at the client; the rest is never read.
        pytest.param(
            T,
            {"HTTP_X_FORWARDED_FOR": ", ".join(["6.6.6.6"] * 10_000) + ", 1.2.3.4"},
            {"REMOTE_ADDR": "1.2.3.4", "HTTP_X_FORWARDED_FOR": "1.2.3.4"},
            id="10,000 forged entries",
        ),
        pytest.param(
            T,
            {"HTTP_X_FORWARDED_FOR": ", ".join(["x" * 50] * 10_000) + ", 1.2.3.4"},
            {"REMOTE_ADDR": "1.2.3.4"},
            id="10,000 garbage entries left of the client",
        ),
        pytest.param(
            T,
            {"HTTP_X_FORWARDED_FOR": ", ".join(["10.0.0.9"] * 10_000)},
            bad("X-Forwarded-For"),
            id="10,000 trusted entries",
        ),
        pytest.param(
            {"trusted_hops": "2"},
            {"HTTP_X_FORWARDED_FOR": ",".join(["1.1.1.1"] * 10_000)},
            {"REMOTE_ADDR": "1.1.1.1", "HTTP_X_FORWARDED_FOR": "1.1.1.1, 1.1.1.1"},
            id="10,000 entries in hop mode",
        ),
        pytest.param(
            T,
            {"HTTP_X_FORWARDED_FOR": "1" * 1_000_000},
            bad("X-Forwarded-For"),
            id="one 1 MB item",
        ),
        pytest.param(
            T,
            {"HTTP_X_FORWARDED_FOR": "," * 100_000},
            {"REMOTE_ADDR": PEER, "HTTP_X_FORWARDED_FOR": ABSENT},
            id="100,000 empty items",
        ),
        pytest.param(
            TF,
            {"HTTP_FORWARDED": ", ".join(["for=6.6.6.6"] * 10_000) + ", for=1.2.3.4"},
            {"REMOTE_ADDR": "1.2.3.4", "HTTP_FORWARDED": "for=1.2.3.4"},
            id="10,000 Forwarded elements",
        ),
        pytest.param(
            TF,
            {"HTTP_FORWARDED": ", ".join(["for=10.0.0.9"] * 10_000)},
            bad("Forwarded"),
            id="10,000 trusted Forwarded elements",
        ),
        pytest.param(
            TF,
            {"HTTP_FORWARDED": 'for="' + '\\"' * 10_000 + '"'},
            bad("Forwarded"),
            id="10,000 escaped quotes",
        ),
        pytest.param(
            TF,
            {"HTTP_FORWARDED": '"' * 10_001},
            bad("Forwarded"),
            id="10,001 quotes",
        ),
        pytest.param(
            TF,
            {"HTTP_FORWARDED": "for=" + '"\\' * 10_000},
            bad("Forwarded"),
            id="unterminated escapes",
        ),
        pytest.param(
            TF,
            {"HTTP_FORWARDED": "for=1.2.3.4;by=" + '"' + "\\\\" * 10_000 + '"'},
            {"REMOTE_ADDR": "1.2.3.4"},
            id="10,000 escaped backslashes in an unused value",
        ),
        pytest.param(
            TF,
            {"HTTP_FORWARDED": "for=1.2.3.4\r\n;host=evil"},
            bad("Forwarded"),
            id="CR LF in Forwarded",
        ),
        pytest.param(
            XH,
            {"HTTP_X_FORWARDED_HOST": "a" * 100_000},
            bad("X-Forwarded-Host"),
            id="a 100 kB host",
        ),
        pytest.param(
            XPRE,
            {"HTTP_X_FORWARDED_PREFIX": "/a" * 50_000},
            {"SCRIPT_NAME": "/a" * 50_000},
            id="a 100 kB prefix",
        ),
    ],
)
def test_large_and_hostile_input(settings: Any, environ_in: Any, expected: Any) -> None:
    check(settings, environ_in, expected)


# -- properties ----------------------------------------------------------------

X_NAMES = [
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-forwarded-host",
    "x-forwarded-port",
    "x-forwarded-prefix",
]
PIECES = [
    "1.2.3.4",
    "10.0.0.2",
    "127.0.0.1",
    "::1",
    "[::1]",
    "[2001:db8::1]:8443",
    "2001:db8::1",
    "::ffff:10.0.0.3",
    "unknown",
    "_hidden",
    ":",
    ":80",
    ":0",
    ":65536",
    ",",
    ", ",
    ";",
    "=",
    '"',
    "\\",
    '\\"',
    "for=",
    "host=",
    "proto=",
    "by=",
    "https",
    "HTTP",
    "ftp",
    "example.com",
    "EXAMPLE.com.",
    "@",
    "/",
    "//",
    "/app",
    "%2F",
    "%2e%2e",
    "%",
    "..",
    ".",
    " ",
    "\t",
    "\r",
    "\n",
    "\r\n",
    "\x00",
    "\x7f",
    "\xff",
    "é",
    "[",
    "]",
    "?",
    "#",
    "*",
    "localhost",
]
header_text = st.one_of(
    st.binary(max_size=40).map(lambda b: b.decode("latin-1")),
    st.lists(st.sampled_from(PIECES), max_size=16).map("".join),
)
HEADER_KEYS = [*FORWARDING_KEYS, "HTTP_HOST"]
headers = st.fixed_dictionaries({}, optional=dict.fromkeys(HEADER_KEYS, header_text))
any_settings = st.fixed_dictionaries(
    {
        "trusted_proxies": st.sampled_from(
            ["", "*", "10.0.0.0/8", "loopback private", "unix", "::1 10.0.0.1"]
        ),
        "trusted_hops": st.sampled_from(["0", "0", "1", "2", "64"]),
        "trusted_headers": st.one_of(
            st.lists(st.sampled_from(X_NAMES), unique=True).map(" ".join),
            st.sampled_from(["forwarded", "forwarded x-forwarded-prefix"]),
        ),
        "clear_untrusted": st.booleans(),
        "on_invalid": st.sampled_from(["reject", "ignore"]),
        "url_scheme": st.sampled_from(["", "http", "https"]),
        "allowed_hosts": st.sampled_from(
            ["*", "example.com .example.org", "*.example.com 127.0.0.1 [::1]"]
        ),
    }
)
peers = st.sampled_from(
    [PEER, "127.0.0.1", "::1", "::ffff:10.0.0.1", "203.0.113.9", "localhost", "", None]
)


def assert_sane(settings: dict[str, Any], out: Outcome) -> None:
    """The invariants of CONTRACT.md 3 for any request and settings."""
    assert out.status in ("200 OK", BAD)
    if out.seen is None:
        assert out.status == BAD
        assert out.body.count(b"\n") == 1
        return
    seen, before = out.seen, out.before
    addr = seen.get("REMOTE_ADDR")
    if addr != before.get("REMOTE_ADDR"):
        assert addr is not None
        assert is_ip(addr), addr
    if seen.get("REMOTE_PORT") != before.get("REMOTE_PORT") and "REMOTE_PORT" in seen:
        assert seen["REMOTE_PORT"].isdigit()
        assert 0 < int(seen["REMOTE_PORT"]) < 65536
    assert seen["wsgi.url_scheme"] in ("http", "https")
    assert (seen.get("HTTPS") == "on") == (seen["wsgi.url_scheme"] == "https")
    assert "HTTPS" not in seen or seen["HTTPS"] == "on"
    assert not seen.get("SCRIPT_NAME", "").startswith("//")
    assert seen.get("PATH_INFO") == before.get("PATH_INFO")
    if "HTTP_HOST" in seen:
        host, port = parse_host(seen["HTTP_HOST"])
        assert seen["SERVER_NAME"] == host
        assert seen["HTTP_HOST"] == host.lower() + (f":{port}" if port else "")
    if seen.get("SERVER_PORT") != before.get("SERVER_PORT"):
        assert seen["SERVER_PORT"].isdigit()
    orig = seen["wsgifix.orig"]
    for key, old in orig.items():
        assert before.get(key) == old, key
    for key in WATCHED:
        if key not in orig:
            assert seen.get(key, ABSENT) == before.get(key, ABSENT), key
    if settings["clear_untrusted"]:
        assert "HTTP_X_FORWARDED_BY" not in seen
        if "HTTP_FORWARDED" in seen:
            assert parse_forwarded(seen["HTTP_FORWARDED"])
        if "HTTP_X_FORWARDED_FOR" in seen:
            for item in seen["HTTP_X_FORWARDED_FOR"].split(","):
                parse_xff_item(item)


@hsettings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(settings=any_settings, peer=peers, headers=headers)
def test_property_any_headers_any_settings(
    settings: dict[str, Any], peer: str | None, headers: dict[str, str]
) -> None:
    # CONTRACT.md 3: nothing a client sends can make wsgifix raise.
    out = run(settings, {**headers, "REMOTE_ADDR": peer}, validate=True)
    assert_sane(settings, out)


xff_items = st.one_of(
    st.sampled_from(["1.2.3.4", "10.0.0.2", "10.0.0.3:81", "[::1]:2", "unknown", ""]),
    st.ip_addresses().map(str),
    st.lists(st.sampled_from(PIECES), max_size=4).map("".join),
)


@hsettings(max_examples=200, deadline=None)
@given(
    settings=any_settings,
    items=st.lists(xff_items, max_size=80),
    proto=st.lists(st.sampled_from(["http", "https", "HTTPS", "x", ""]), max_size=5),
)
def test_property_lists(
    settings: dict[str, Any], items: list[str], proto: list[str]
) -> None:
    # Long X-Forwarded-For lists with some valid items (more often walked
    # far than random text is), and proto lists.
    changes = {
        "HTTP_X_FORWARDED_FOR": ", ".join(items),
        "HTTP_X_FORWARDED_PROTO": ", ".join(proto),
        "HTTP_FORWARDED": ", ".join(f'for="{i}"' for i in items),
    }
    out = run(settings, changes)
    assert_sane(settings, out)


# -- the walk's memo (issue 7): a repeated request gets the same environ ------

MEMO_CASES = [
    pytest.param({"HTTP_X_FORWARDED_FOR": "203.0.113.9"}, id="client without port"),
    pytest.param({"HTTP_X_FORWARDED_FOR": "203.0.113.9:5555"}, id="client with port"),
    pytest.param(
        {"HTTP_X_FORWARDED_FOR": "127.0.0.1:40000"}, id="client equal to the peer"
    ),
    pytest.param(
        {
            "HTTP_X_FORWARDED_FOR": "198.51.100.1, 203.0.113.9",
            "HTTP_X_FORWARDED_PROTO": "https",
            "HTTP_X_FORWARDED_HOST": "Shop.Example",
            "HTTP_X_FORWARDED_PREFIX": "/p",
        },
        id="all headers",
    ),
    pytest.param({"HTTP_FORWARDED": "for=203.0.113.9;proto=https"}, id="Forwarded"),
    pytest.param({"HTTP_X_FORWARDED_FOR": "unknown"}, id="unknown client"),
]


def memo_environ(peer: str, **headers: str) -> dict[str, Any]:
    """A request from ``peer`` as waitress gives it, with ``headers``."""
    return {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/",
        "SERVER_NAME": "waitress.invalid",
        "SERVER_PORT": "8080",
        "HTTP_HOST": "127.0.0.1:8080",
        "REMOTE_ADDR": peer,
        "wsgi.url_scheme": "http",
        **headers,
    }


@pytest.mark.parametrize("headers", MEMO_CASES)
@pytest.mark.parametrize("peer", ["127.0.0.1", "192.0.2.1"])
def test_a_remembered_walk_equals_a_fresh_one(
    headers: dict[str, str], peer: str
) -> None:
    trusted = (
        "forwarded"
        if "HTTP_FORWARDED" in headers
        else ("x-forwarded-for x-forwarded-proto x-forwarded-host x-forwarded-prefix")
    )

    def make() -> ProxyMiddleware:
        return ProxyMiddleware(
            lambda e, s: [], trusted_proxies="127.0.0.1", trusted_headers=trusted
        )

    def environ(port: str) -> dict[str, Any]:
        return memo_environ(peer, REMOTE_PORT=port, **headers)

    remembering = make()
    first = environ("40000")
    remembering(first, lambda *a: None)
    second = environ("40001")  # another socket: REMOTE_PORT is not in the key
    remembering(second, lambda *a: None)
    fresh = environ("40001")
    make()(fresh, lambda *a: None)
    assert second == fresh


_RUN_REQUESTS = [
    # (peer, headers): one proxy's clients, another proxy, odd values
    ("127.0.0.1", {"HTTP_X_FORWARDED_FOR": "203.0.113.9"}),
    ("127.0.0.1", {"HTTP_X_FORWARDED_FOR": "203.0.113.8"}),
    ("127.0.0.1", {"HTTP_X_FORWARDED_FOR": "203.0.113.9:5555"}),
    ("127.0.0.1", {"HTTP_X_FORWARDED_FOR": "198.51.100.1, 203.0.113.9"}),
    ("127.0.0.1", {"HTTP_X_FORWARDED_FOR": "203.0.113.9", "HTTP_HOST": "b.test"}),
    (
        "127.0.0.1",
        {"HTTP_X_FORWARDED_FOR": "203.0.113.9", "HTTP_X_FORWARDED_PROTO": "https"},
    ),
    ("127.0.0.1", {"HTTP_X_FORWARDED_FOR": "bad item"}),
    ("127.0.0.1", {"HTTP_X_FORWARDED_PROTO": "https"}),
    ("127.0.0.2", {"HTTP_X_FORWARDED_FOR": "203.0.113.9"}),
    ("192.0.2.1", {"HTTP_X_FORWARDED_FOR": "203.0.113.9"}),
    # long chains (keyed by their last characters): another left part,
    # another client
    ("127.0.0.1", {"HTTP_X_FORWARDED_FOR": "203.0.113.9, " * 300 + "10.0.0.1"}),
    ("127.0.0.1", {"HTTP_X_FORWARDED_FOR": "203.0.113.7, " * 300 + "10.0.0.1"}),
    ("127.0.0.1", {"HTTP_X_FORWARDED_FOR": "203.0.113.9, " * 300 + "10.0.0.2"}),
    ("127.0.0.1", {"HTTP_X_FORWARDED_FOR": "203.0.113.9, " * 300 + "198.51.100.2"}),
]


@hsettings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    turns=st.lists(
        st.tuples(
            st.integers(0, len(_RUN_REQUESTS) - 1),
            st.sampled_from(["40000", "40001"]),  # REMOTE_PORT: not in the key
            st.booleans(),  # new string objects, as a server makes them
        ),
        min_size=2,
        max_size=30,
    ).map(lambda turns: [turn for turn in turns for _ in range(1 + turn[0] % 3)]),
    clear=st.booleans(),
)
def test_a_run_of_requests_is_walked_as_each_alone(
    turns: list[tuple[int, str, bool]], clear: bool
) -> None:
    """Requests from a few clients and proxies in any order, each often
    twice or more in a row, through one layer: each environ is what a fresh
    layer makes of it. (The layer reuses the last request's inputs and, for
    the same client again, its memo entry: see ProxyMiddleware.__call__.)"""
    settings = {
        "trusted_proxies": "127.0.0.1 10.0.0.0/8",
        "trusted_headers": "x-forwarded-for x-forwarded-proto x-forwarded-host",
        "clear_untrusted": clear,
    }
    warm = ProxyMiddleware(lambda e, s: [], **settings)
    for pick, port, fresh in turns:
        peer, headers = _RUN_REQUESTS[pick]
        model = memo_environ(peer, REMOTE_PORT=port, **headers)
        if fresh:
            model = {k: "".join(list(v)) for k, v in model.items()}
        seen = []
        for layer in (warm, ProxyMiddleware(lambda e, s: [], **settings)):
            environ = dict(model)
            layer(environ, lambda *a: None)
            seen.append(environ)
        assert seen[0] == seen[1]


# -- a long X-Forwarded-For is remembered by its last items (issue 7) ----------

WINDOW_ITEMS = st.sampled_from(
    [
        "203.0.113.9",
        "127.0.0.1",
        "127.0.0.2:80",
        "unknown",
        "_hidden",
        "bad item",
        "10.0.0.1",
        "::1",
        "[2001:db8::1]:443",
        "",
        " ",
    ]
)


@hsettings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    # Over 2,048 characters: the memo keeps the chain's last 128 only.
    left=st.lists(WINDOW_ITEMS, min_size=300, max_size=400),
    other_left=st.lists(WINDOW_ITEMS, min_size=300, max_size=400),
    tail=st.lists(WINDOW_ITEMS, max_size=80),
    common=st.lists(
        st.sampled_from(["10.0.0.1", "203.0.113.9", "127.0.0.1"]),
        min_size=0,
        max_size=40,
    ),
    proxies=st.sampled_from(["127.0.0.1", "127.0.0.0/8 10.0.0.0/8 ::1", "*"]),
    hops=st.sampled_from([0, 1, 3]),
    peer=st.sampled_from(["127.0.0.1", "192.0.2.1"]),
    clear=st.booleans(),
)
def test_a_remembered_long_chain_equals_a_fresh_walk(
    left: list[str],
    other_left: list[str],
    tail: list[str],
    common: list[str],
    proxies: str,
    hops: int,
    peer: str,
    clear: bool,
) -> None:
    """Two long X-Forwarded-For that end alike: the second request, answered
    from what the first left in the memo, gets the environ (or the 400) a
    fresh layer gives it, whatever the walk reads."""
    settings = {
        "trusted_proxies": proxies,
        "trusted_hops": hops,
        "trusted_headers": "x-forwarded-for x-forwarded-proto",
        "clear_untrusted": clear,
        "on_invalid": "ignore",
    }

    def environ(items: list[str]) -> dict[str, Any]:
        return memo_environ(
            peer,
            REMOTE_PORT="40000",
            HTTP_X_FORWARDED_PROTO="https",
            HTTP_X_FORWARDED_FOR=", ".join(items + common * 3 + tail),
        )

    assert_memo_answers_as_fresh(
        settings, lambda: environ(left), lambda: environ(other_left)
    )


def assert_memo_answers_as_fresh(
    settings: dict[str, Any],
    first: Callable[[], dict[str, Any]],
    second: Callable[[], dict[str, Any]],
) -> None:
    """A layer that answered ``first()`` answers ``second()`` five times
    (walked, its shape kept; from the shape entry, twice, its own entry
    kept; from its own entry) as a fresh layer does: the same environ, or
    the same 400."""

    def answer(layer: ProxyMiddleware, env: dict[str, Any]) -> Any:
        statuses: list[str] = []
        layer(env, lambda status, headers, *a: statuses.append(status))
        return statuses, env

    def make() -> ProxyMiddleware:
        return ProxyMiddleware(lambda e, s: [], **settings)

    remembering = make()
    answer(remembering, first())
    for _ in range(5):
        assert answer(remembering, second()) == answer(make(), second())


WINDOWED = [
    pytest.param("203.0.113.50", {}, id="untrusted peer, cleared"),
    pytest.param("203.0.113.50", {"clear_untrusted": False}, id="untrusted peer, kept"),
    pytest.param("127.0.0.1", {}, id="trusted peer, cut"),
    pytest.param("127.0.0.1", {"clear_untrusted": False}, id="trusted peer, kept"),
    pytest.param("127.0.0.1", {"trusted_hops": 2}, id="hop mode"),
    pytest.param(
        "127.0.0.1",
        {"trusted_proxies": "127.0.0.1 10.0.0.0/8"},
        id="walk past the window",
    ),
]


@pytest.mark.parametrize(("peer", "settings"), WINDOWED)
def test_a_windowed_chain_from_the_memo_equals_a_fresh_walk(
    peer: str, settings: dict[str, Any]
) -> None:
    """Long X-Forwarded-For that differ only left of their last 128
    characters: the second request, answered from the memo, gets what a
    fresh layer gives it (a forged header from an untrusted peer stays
    removed, the original kept in wsgifix.orig is the request's own)."""
    full = {
        "trusted_proxies": "127.0.0.1",
        "trusted_headers": "x-forwarded-for x-forwarded-proto",
        **settings,
    }

    def make() -> ProxyMiddleware:
        return ProxyMiddleware(lambda e, s: [], **full)

    def environ(forged: str, client: str) -> dict[str, Any]:
        chain = ", ".join(f"{forged}{i % 250 + 1}" for i in range(1000))
        return {
            "REMOTE_ADDR": peer,
            "REMOTE_PORT": "40000",
            "HTTP_HOST": "app.example",
            "wsgi.url_scheme": "http",
            "HTTP_X_FORWARDED_PROTO": "https",
            "HTTP_X_FORWARDED_FOR": f"{chain}, {client}" + ", 10.0.0.1" * 40,
        }

    remembering = make()
    # The same request three times (its own entry is kept on the second),
    # then others: other forged entries, another client.
    for forged, client in [
        ("198.51.100.", "203.0.113.9"),
        ("198.51.100.", "203.0.113.9"),
        ("198.51.100.", "203.0.113.9"),
        ("192.0.2.", "203.0.113.9"),
        ("198.51.100.", "203.0.113.77"),
        ("198.51.100.", "203.0.113.77"),
        ("198.51.100.", "203.0.113.77"),
    ]:
        env = environ(forged, client)
        remembering(env, lambda *a: None)
        fresh = environ(forged, client)
        make()(fresh, lambda *a: None)
        assert env == fresh


def xff_layer() -> ProxyMiddleware:
    """A layer trusting 127.0.0.1's X-Forwarded-For."""
    return ProxyMiddleware(
        lambda e, s: [], trusted_proxies="127.0.0.1", trusted_headers="x-forwarded-for"
    )


def count_walks(layer: ProxyMiddleware) -> list[int]:
    """A one-item list counting the layer's walks (calls of ``_apply``)."""
    walks = [0]
    original = layer._apply

    def counting(*args: Any) -> None:
        walks[0] += 1
        original(*args)

    layer._apply = counting  # type: ignore[method-assign]
    return walks


@pytest.mark.python_seams  # counts walks by replacing _apply
def test_a_hostile_chain_is_walked_once_per_distinct_tail() -> None:
    """10,000 entries from a client through one trusted proxy: the memo
    keeps what the walk reads (the client's item and what is right of it),
    so repeats with other forged entries further left are answered from it
    (kept from the second walk on), and the key keeps no long text."""
    layer = xff_layer()
    walks = count_walks(layer)
    for forged in ("198.51.100.", "192.0.2.", "192.0.2.", "203.0.113."):
        chain = ", ".join(f"{forged}{i % 250 + 1}" for i in range(9_900))
        chain += ", 10.1.1.1" * 100
        env = {
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "app.example",
            "wsgi.url_scheme": "http",
            "HTTP_X_FORWARDED_FOR": chain + ", 203.0.113.9",
        }
        layer(env, lambda *a: None)
        assert env["REMOTE_ADDR"] == "203.0.113.9"
        assert env["HTTP_X_FORWARDED_FOR"] == "203.0.113.9"
        assert env["wsgifix.orig"]["HTTP_X_FORWARDED_FOR"] == chain + ", 203.0.113.9"
    assert walks == [2]
    (key,) = layer._shapes
    for kept in layer._memo:  # a returning request: keyed by its last items
        assert len(str(kept)) < 2_000
    assert sum(len(str(part)) for part in key) < 1_000


CLIENT_ITEMS = st.sampled_from(
    [
        "203.0.113.9",
        "198.51.100.7:5555",
        "2001:db8::1",
        "[2001:db8::2]:443",
        "unknown",
        "_hidden:_port",
        "10.0.0.1",
        "127.0.0.1:40000",
        "not an ip",
        "",
    ]
)


@hsettings(max_examples=400, deadline=None)
@given(
    first=CLIENT_ITEMS,
    second=CLIENT_ITEMS,
    right=st.lists(WINDOW_ITEMS, max_size=4),
    proxies=st.sampled_from(["127.0.0.1", "127.0.0.0/8 10.0.0.0/8 ::1", "*"]),
    hops=st.sampled_from([0, 1, 2]),
    peer=st.sampled_from(["127.0.0.1", "192.0.2.1"]),
    clear=st.booleans(),
    forwarded=st.booleans(),
    port=st.sampled_from([None, "41000"]),
)
def test_one_memo_entry_serves_every_client(
    first: str,
    second: str,
    right: list[str],
    proxies: str,
    hops: int,
    peer: str,
    clear: bool,
    forwarded: bool,
    port: str | None,
) -> None:
    """Requests that differ only in the client's item: the second, answered
    from the entry the first left, gets exactly what a fresh layer gives it
    (address, port, cut header, originals, trust decision, or the 400)."""
    settings = {
        "trusted_proxies": proxies,
        "trusted_hops": hops,
        "trusted_headers": "x-forwarded-for x-forwarded-proto x-forwarded-host",
        "clear_untrusted": clear,
        "on_invalid": "ignore",
    }

    def environ(client: str) -> dict[str, Any]:
        env = memo_environ(
            peer,
            HTTP_X_FORWARDED_PROTO="https",
            HTTP_X_FORWARDED_HOST="shop.example",
            HTTP_X_FORWARDED_FOR=", ".join([client, *right]),
        )
        if port is not None:
            env["REMOTE_PORT"] = port
        if forwarded:
            env["HTTP_FORWARDED"] = "for=192.0.2.60"
        return env

    assert_memo_answers_as_fresh(
        settings, lambda: environ(first), lambda: environ(second)
    )


@pytest.mark.python_seams  # counts walks by replacing _apply
def test_distinct_clients_share_one_memo_entry() -> None:
    """New clients are answered from one shared entry (no entry each, kept
    from the second walk on); a client seen twice gets its own."""
    layer = xff_layer()
    walks = count_walks(layer)
    for round_ in range(3):
        for i in range(300):
            client = f"203.0.{i // 250}.{i % 250 + 1}"
            env = {
                "REMOTE_ADDR": "127.0.0.1",
                "REMOTE_PORT": "40000",
                "HTTP_HOST": "app.example",
                "wsgi.url_scheme": "http",
                "HTTP_X_FORWARDED_FOR": f"{client}:{1000 + round_}",
            }
            layer(env, lambda *a: None)
            assert env["REMOTE_ADDR"] == client
            assert env["REMOTE_PORT"] == str(1000 + round_)
            assert env["wsgifix.trust"].client == client
            assert env["wsgifix.orig"]["REMOTE_ADDR"] == "127.0.0.1"
        assert len(layer._shapes) == 1
        # Round 0: nobody's own entry yet (a port is part of the header text,
        # so each round is new text: seen, then kept on its second sight).
        assert len(layer._memo) == 0
    assert walks == [2]


HOST_ITEMS = st.one_of(
    st.sampled_from(
        [
            "shop.example",
            "Shop.Example",
            "t1.shop.example:8443",
            "tenant.example.",
            "[2001:db8::1]",
            "[2001:DB8::1]:444",
            "127.0.0.1",
            "127.0.0.1:80",
            "host.example:80",
            "host.example:443",
            " spaced.example ",
            "\tshop.example",
            "bad host",
            "a/b",
            "user@host",
            "",
            " ",
            "h.example:0",
            "h.example:99999",
            "h.example:",
            "évil.example",
            "x" * 300,
            "a, b.example",
        ]
    ),
    st.from_regex(r"[a-zA-Z0-9.-]{1,20}(:[0-9]{1,5})?", fullmatch=True),
)


@hsettings(max_examples=600, deadline=None)
@given(
    # The first host is one the walk honours (so that an entry is kept),
    # the others anything; the settings lean to those that keep entries.
    first=st.sampled_from(["shop.example", "Tenant.Example.:8443", "[2001:db8::1]"]),
    others=st.lists(HOST_ITEMS, min_size=1, max_size=4),
    clients=st.lists(CLIENT_ITEMS, min_size=2, max_size=5),
    with_xff=st.booleans(),
    port=st.sampled_from([None, None, "443", "8443", "x"]),
    proto=st.sampled_from([None, "https", "http", "ftp"]),
    allowed=st.sampled_from(
        ["*", "*", "shop.example .example tenant.example. [2001:db8::1]", "x.test"]
    ),
    proxies=st.sampled_from(["127.0.0.0/8 10.0.0.0/8", "127.0.0.1", "*"]),
    hops=st.sampled_from([0, 1, 2]),
    peer=st.sampled_from(["127.0.0.1", "127.0.0.1", "192.0.2.1"]),
    clear=st.booleans(),
    reject=st.booleans(),
)
def test_one_memo_entry_serves_every_host(
    first: str,
    others: list[str],
    clients: list[str],
    with_xff: bool,
    port: str | None,
    proto: str | None,
    allowed: str,
    proxies: str,
    hops: int,
    peer: str,
    clear: bool,
    reject: bool,
) -> None:
    """Requests that differ in their X-Forwarded-Host (and client): once a
    walk is kept with the host apart (from the second walk), each other
    host, valid or not, allowed or not, gets exactly what a fresh layer
    gives it (Host, SERVER_NAME, SERVER_PORT, cut header, originals, trust
    decision, or the 400), on its first request and on its next ones."""
    settings = {
        "trusted_proxies": proxies,
        "trusted_hops": hops,
        "trusted_headers": (
            "x-forwarded-for x-forwarded-proto x-forwarded-host x-forwarded-port"
        ),
        "clear_untrusted": clear,
        "on_invalid": "reject" if reject else "ignore",
        "allowed_hosts": allowed,
    }

    def environ(host: str, client: str) -> dict[str, Any]:
        env = memo_environ(peer, HTTP_X_FORWARDED_HOST=host, REMOTE_PORT="40000")
        if with_xff:
            env["HTTP_X_FORWARDED_FOR"] = f"{client}, 10.0.0.7"
        if port is not None:
            env["HTTP_X_FORWARDED_PORT"] = port
        if proto is not None:
            env["HTTP_X_FORWARDED_PROTO"] = proto
        return env

    def answer(layer: ProxyMiddleware, env: dict[str, Any]) -> Any:
        statuses: list[str] = []
        layer(env, lambda status, headers, *a: statuses.append(status))
        return statuses, env

    hosts = [first, *others]
    remembering = ProxyMiddleware(lambda e, s: [], **settings)
    for _ in range(2):  # walked twice: kept with the host apart
        answer(remembering, environ(hosts[0], clients[0]))
    # Each other host: answered from that entry, then kept under its own
    # shape on its second request, answered from it, then its own entry;
    # from another client each time.
    for round_ in range(4):
        for i, host in enumerate(hosts[1:]):
            client = clients[(i + round_) % len(clients)]  # another one each time
            fresh = ProxyMiddleware(lambda e, s: [], **settings)
            got = answer(remembering, environ(host, client))
            assert got == answer(fresh, environ(host, client))


@pytest.mark.python_seams  # counts walks by replacing _apply
def test_new_hosts_are_answered_without_a_walk() -> None:
    """A stream of X-Forwarded-Host values never seen before (tenants, or a
    client inventing them) is walked twice, then answered from one entry
    kept with the host apart; none of them leaves an entry of its own."""
    layer = ProxyMiddleware(
        lambda e, s: [],
        trusted_proxies="127.0.0.1",
        trusted_headers="x-forwarded-for x-forwarded-proto x-forwarded-host",
    )
    walks = count_walks(layer)
    for i in range(500):
        env = memo_environ(
            "127.0.0.1",
            HTTP_X_FORWARDED_FOR="203.0.113.9",
            HTTP_X_FORWARDED_PROTO="https",
            HTTP_X_FORWARDED_HOST=f"t{i}.shop.example",
        )
        layer(env, lambda *a: None)
        assert env["HTTP_HOST"] == env["SERVER_NAME"] == f"t{i}.shop.example"
        assert env["SERVER_PORT"] == "443"
        assert env["wsgifix.trust"].headers["HTTP_X_FORWARDED_HOST"] == (
            "honoured",
            f"t{i}.shop.example",
        )
    assert walks == [2]
    assert len(layer._host_shapes) == 1
    assert not layer._shapes
    assert not layer._memo


@pytest.mark.python_seams  # counts walks by replacing _apply
def test_a_returning_host_gets_its_own_entry() -> None:
    """Hosts answered from the entry kept with the host apart get an entry
    of their own on their second request (then answered as cheaply as a
    walked host), without a walk of their own."""
    layer = ProxyMiddleware(
        lambda e, s: [],
        trusted_proxies="127.0.0.1",
        trusted_headers="x-forwarded-for x-forwarded-host",
    )
    walks = count_walks(layer)
    for _ in range(3):
        for i in range(50):
            env = memo_environ(
                "127.0.0.1",
                HTTP_X_FORWARDED_FOR="203.0.113.9",
                HTTP_X_FORWARDED_HOST=f"t{i}.shop.example",
            )
            layer(env, lambda *a: None)
            assert env["HTTP_HOST"] == f"t{i}.shop.example"
    assert walks == [2]  # t0 and t1 once each (t1 kept the host-apart entry)
    assert len(layer._shapes) == 50  # t0 walked twice, the others answered twice
    assert len(layer._host_shapes) == 1


def test_a_returning_client_gets_its_own_entry() -> None:
    layer = xff_layer()
    for _ in range(3):
        for i in range(50):
            env = {
                "REMOTE_ADDR": "127.0.0.1",
                "HTTP_HOST": "app.example",
                "wsgi.url_scheme": "http",
                "HTTP_X_FORWARDED_FOR": f"203.0.113.{i + 1}",
            }
            layer(env, lambda *a: None)
            assert env["REMOTE_ADDR"] == f"203.0.113.{i + 1}"
    assert len(layer._shapes) == 1
    assert len(layer._memo) == 50  # each kept on its second request


@pytest.mark.parametrize("key", FORWARDING_KEYS)
def test_each_forwarding_header_alone_leaves_the_quiet_path(key: str) -> None:
    # __call__ tells the requests with none of HEADER_NAMES by a written-out
    # check: each of them, alone from an untrusted peer, is seen and removed
    # (clear_untrusted), and the trust decision lists it.
    assert set(FORWARDING_KEYS) == set(wsgifix.proxy.HEADER_NAMES)
    out = run(
        {"trusted_proxies": "10.0.0.1"},
        {"REMOTE_ADDR": "192.0.2.50", key: ALL_SEVEN[key]},
    )
    assert out.status == "200 OK"
    assert out.seen is not None
    assert key not in out.seen
    assert out.seen["wsgifix.orig"][key] == ALL_SEVEN[key]
    assert out.seen["wsgifix.trust"].headers[key][0] == "untrusted peer"


@given(
    present=st.lists(st.sampled_from(wsgifix.proxy._INPUTS), unique=True),
    other=st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3),
)
def test_the_written_out_inputs_are_the_walks_inputs(
    present: list[str], other: dict[str, str]
) -> None:
    """The memo key's request values, written out for speed, are those the
    walk reads (_INPUTS), in its order."""
    environ: dict[str, Any] = {**other}
    for i, key in enumerate(present):
        environ[key] = f"v{i}"
    expected = tuple(map(environ.get, wsgifix.proxy._INPUTS))
    assert wsgifix.proxy._inputs(environ) == expected


@given(
    present=st.lists(st.sampled_from(wsgifix.proxy._INPUTS), unique=True),
    other=st.one_of(st.none(), st.text(max_size=4)),
)
def test_the_inputs_compared_in_place_are_the_tuple_compared(
    present: list[str], other: str | None
) -> None:
    """_as_before (the compiled build's check that a request's values are
    the last one's) answers as making the tuple and comparing it does:
    equal, each item changed in turn, and another length."""
    environ: dict[str, Any] = {"HTTP_ACCEPT": "*/*"}
    for i, key in enumerate(present):
        environ[key] = f"v{i}"
    inputs = wsgifix.proxy._inputs(environ)
    assert wsgifix.proxy._as_before(environ, inputs)
    assert wsgifix.proxy._as_before(
        environ, tuple("".join(v) if v else v for v in inputs)
    )
    for i in range(len(inputs)):
        prior = (*inputs[:i], other, *inputs[i + 1 :])
        assert wsgifix.proxy._as_before(environ, prior) is (inputs == prior)
    assert not wsgifix.proxy._as_before(environ, inputs[:-1])
    assert not wsgifix.proxy._as_before(environ, ())


class _Text(str):
    """A str subclass (compares as its text; not typed natively)."""


_VALUES = st.one_of(
    st.none(),
    st.text(max_size=4),
    st.text(max_size=4).map(_Text),
    st.binary(max_size=4),
    st.integers(-2, 2),
    st.sampled_from(["https", "http", b"https", 1.0]),
)


@given(value=_VALUES, known=_VALUES)
def test_the_typed_compare_answers_as_equality(value: Any, known: Any) -> None:
    """_equal (a native compare for str, compiled) is ``==``, for the
    values an environ may hold, equal copies included."""
    from wsgifix.cookies import _equal

    assert _equal(value, known) is (value == known)
    copy = "".join(value) if type(value) is str else value
    assert _equal(copy, value) is True


@given(
    header=st.one_of(
        st.tuples(st.text(max_size=4), st.text(max_size=4)),
        st.lists(st.text(max_size=4), min_size=2, max_size=2),
        st.text(min_size=2, max_size=4),
    ),
    index=st.sampled_from([0, 1, -1]),
)
def test_a_header_item_is_read_as_indexing_reads_it(header: Any, index: int) -> None:
    """_item (a tuple read natively, compiled) is ``header[index]`` for what
    an app may pass as a header: a tuple, a list, anything indexable."""
    from wsgifix.cookies import _item

    assert _item(header, index) == header[index]


def test_the_next_layer_is_called_as_a_call_of_the_object_would() -> None:
    # The proxy layer calls a cookie layer through its class (compiled: a
    # direct call); an instance attribute named __call__ (a mock, say; a
    # compiled build refuses it) is not used, as calling the object would
    # not use it, and a subclass's own __call__ is.
    import contextlib

    from wsgifix.cookies import CookieMiddleware

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [])
        return [b"app"]

    cookies = CookieMiddleware(app)
    with contextlib.suppress(AttributeError):
        cookies.__call__ = lambda environ, start_response: [b"instance"]  # type: ignore[method-assign]
    stack = ProxyMiddleware(cookies, trusted_proxies="127.0.0.1")
    assert list(stack(make_environ({}), lambda *args: None)) == [b"app"]
    if not wsgifix.compiled():  # compiled classes cannot be subclassed in Python

        class Own(CookieMiddleware):
            def __call__(self, environ: Any, start_response: Any) -> Any:
                return [b"own"]

        stack = ProxyMiddleware(Own(app), trusted_proxies="127.0.0.1")
        assert list(stack(make_environ({}), lambda *args: None)) == [b"own"]


@pytest.mark.parametrize(
    ("empties", "client"),
    [(10, "192.0.2.1"), (200, "10.0.0.9"), (100_000, "10.0.0.9")],
)
def test_runs_of_empty_items_end_the_walk(empties: int, client: str) -> None:
    # MAX_EMPTY: past that many empty items a list ends, so the walk's cost
    # does not follow the commas; every entry walked was trusted, so the
    # leftmost walked is the client (CONTRACT.md 3). The memo's walk and
    # the full one agree (the same request, again and again).
    from wsgifix.forwarded import MAX_EMPTY

    assert 10 < MAX_EMPTY < 200
    seen: list[str] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(environ["REMOTE_ADDR"])
        start_response("200 OK", [])
        return [b""]

    wrapped = wsgifix.wrap(app, trusted_proxies="10.0.0.0/8")
    value = "192.0.2.1" + ", " * empties + "10.0.0.9"
    for _ in range(4):
        environ = make_environ(
            {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": value}
        )
        wrapped(environ, lambda *a: None)
    assert seen == [client] * 4


@pytest.mark.parametrize(
    ("server_host", "expected"),
    [("10.0.0.1", "client"), ("proxy.internal", "proxy.internal"), (None, None)],
)
def test_remote_host_follows_the_client_where_it_was_the_address(
    server_host: str | None, expected: str | None
) -> None:
    # Waitress sets REMOTE_HOST to the peer's address, and its own proxy
    # middleware rewrites it with REMOTE_ADDR: so does wsgifix (recorded in
    # wsgifix.orig); a name the server looked up is left alone. The same on
    # every request, new clients and repeated ones (the memo's paths).
    seen: list[tuple[Any, Any]] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(
            (environ.get("REMOTE_HOST"), environ["wsgifix.orig"].get("REMOTE_HOST"))
        )
        start_response("200 OK", [])
        return [b""]

    wrapped = wsgifix.wrap(app, trusted_proxies="10.0.0.0/8")
    clients = ["192.0.2.1", "192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.1"] * 2
    for client in clients:
        environ = make_environ(
            {
                "REMOTE_ADDR": "10.0.0.1",
                "REMOTE_HOST": server_host,  # (None: absent)
                "HTTP_X_FORWARDED_FOR": client,
            }
        )
        wrapped(environ, lambda *a: None)
    if expected == "client":
        assert seen == [(client, "10.0.0.1") for client in clients]
    else:
        assert seen == [(expected, None)] * len(clients)
