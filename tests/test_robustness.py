"""Robustness (issue 8, items 2 and 3): faults in the app and hostile input.

Faults: an app that raises before or after start_response, replaces its
headers with exc_info (before and after the first byte), returns a
generator that raises mid-stream, a body with close(), a
``wsgi.file_wrapper`` response, uses the ``write()`` callable, or whose
client leaves in the middle of a large body. Each is served twice, by the
bare app and by the app behind wsgifix, and the server's behaviour must be
the same: same status, same bytes on the wire (the Date header aside),
close() called exactly once. In process the server is
``wsgiref.handlers.SimpleHandler`` (a complete PEP 3333 server writing to
a buffer) with ``wsgiref.validate.validator`` on both sides of every layer;
over the network it is real waitress, one subprocess with and one without
wsgifix. The apps are in tests/apps/robust_app.py.

Hostile input: hypothesis drives the whole stack (every layer, the
inspector route too) with random header sets: random bytes read as
latin-1, huge values, thousands of list items, deeply nested quotes, CR
and LF, random Set-Cookie headers from the app. Nothing may escape, and
CONTRACT.md section 3's promises hold: REMOTE_ADDR is an IP or the
server's value, the scheme is http or https, SCRIPT_NAME never starts
with ``//``, HTTP_HOST passes the host grammar, Set-Cookie name=value
bytes are never altered. The work per request grows at most linearly
with the header, and not at all where CONTRACT.md section 7 caps it (it
is counted in executed bytecodes, which do not depend on the machine's
load, with a wall-clock backstop).
"""

from __future__ import annotations

import http.client
import io
import json
import logging
import socket
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple
from wsgiref.handlers import SimpleHandler
from wsgiref.util import FileWrapper
from wsgiref.validate import validator

import pytest
from conftest import Server, load_benchmark, run_wsgi, start_server
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import wsgifix
from wsgifix.cookies import CookieMiddleware
from wsgifix.forwarded import is_ip, parse_host
from wsgifix.prefix import PrefixMiddleware
from wsgifix.proxy import ProxyMiddleware
from wsgifix.setcookie import SetCookie

APPS = Path(__file__).resolve().parent / "apps"
sys.path.insert(0, str(APPS))

from robust_app import EVENTS, FILE_BYTES, STREAM_CHUNK, fault_app  # noqa: E402

Headers = list[tuple[str, str]]
MIDDLEWARES = (ProxyMiddleware, PrefixMiddleware, CookieMiddleware)
WRAP_SETTINGS = {
    "trusted_proxies": "loopback",
    "trusted_headers": "x-forwarded-for x-forwarded-proto x-forwarded-prefix",
    "prefix": "/mnt",
}


# -- stacks with wsgiref.validate on both sides of every layer --------------------


def validated(stack: Any) -> Any:
    """``stack`` with a validator in front of it and behind each of its
    wsgifix layers (found by walking ``.app``)."""
    layer = stack
    while isinstance(layer, MIDDLEWARES):
        inner = layer.app
        layer.app = validator(inner)
        layer = inner
    return validator(stack)


# Each stack kind: the app behind one layer, or behind the whole wrap().
STACKS: dict[str, Callable[[Any], Any]] = {
    "ProxyMiddleware": lambda app: ProxyMiddleware(
        app, trusted_proxies="loopback", trusted_headers="x-forwarded-for"
    ),
    "PrefixMiddleware": lambda app: PrefixMiddleware(app, prefix="/mnt"),
    "CookieMiddleware": lambda app: CookieMiddleware(app),
    "wrap()": lambda app: wsgifix.wrap(app, **WRAP_SETTINGS),
}


def test_validated_puts_a_validator_behind_every_layer() -> None:
    stack = wsgifix.wrap(fault_app, **WRAP_SETTINGS)
    layers = [stack, stack.app, stack.app.app]  # type: ignore[attr-defined]
    assert [type(layer) for layer in layers] == list(MIDDLEWARES)
    outer = validated(stack)
    for item in [outer, *(layer.app for layer in layers)]:
        assert item.__qualname__ == "validator.<locals>.lint_app"


# -- an in-process server: wsgiref's SimpleHandler ---------------------------------


class Served(NamedTuple):
    raw: bytes  # the response bytes, Date header removed
    error: str  # the last line of what the server logged ("" for none)
    events: dict[str, int] | None  # close() calls and chunks produced


def _without_date(raw: bytes) -> bytes:
    head, sep, body = raw.partition(b"\r\n\r\n")
    lines = [line for line in head.split(b"\r\n") if not line.startswith(b"Date:")]
    return b"\r\n".join(lines) + sep + body


class LeavingClient(io.BytesIO):
    """A connection whose client goes away after ``limit`` bytes."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def write(self, data: Any) -> int:
        if self.tell() + len(data) > self.limit:
            raise BrokenPipeError(32, "Broken pipe")
        return super().write(data)


def serve_in_process(app: Any, path: str, out: io.BytesIO | None = None) -> Served:
    rid = uuid.uuid4().hex
    environ = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8080",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8080",
        "HTTP_X_REQUEST_ID": rid,
    }
    out = io.BytesIO() if out is None else out
    errors = io.StringIO()
    handler = SimpleHandler(io.BytesIO(), out, errors, environ, multithread=False)
    handler.os_environ = {}  # not the test process's environment variables
    handler.run(app)
    logged = errors.getvalue().strip().splitlines()
    return Served(
        _without_date(out.getvalue()), logged[-1] if logged else "", EVENTS.get(rid)
    )


class Fault(NamedTuple):
    path: str
    status: bytes  # the status code the client gets
    closes: int | None  # close() calls on the body (None: the app returned none)
    # The server logs an exception ending with "Boom: " and this ("": none;
    # None: its own, refusing what the app passed start_response).
    error: str | None


FAULTS = [
    pytest.param(
        Fault("/raise-before", b"500", None, "before start_response"),
        id="raises before start_response",
    ),
    pytest.param(
        Fault("/raise-after", b"500", None, "after start_response, before the body"),
        id="raises after start_response",
    ),
    pytest.param(
        Fault("/exc-info", b"500", 1, ""),
        id="start_response again with exc_info before the body",
    ),
    pytest.param(
        Fault("/exc-info-late", b"200", 1, "too late"),
        id="start_response again with exc_info after the first chunk",
    ),
    pytest.param(
        Fault("/gen-raises", b"200", 1, "mid-stream"),
        id="generator raising mid-stream",
    ),
    pytest.param(Fault("/close-body", b"200", 1, ""), id="body with close()"),
    pytest.param(Fault("/file-wrapper", b"200", 1, ""), id="wsgi.file_wrapper"),
    pytest.param(Fault("/write", b"200", 1, ""), id="write() callable"),
    pytest.param(
        Fault("/bad-header", b"500", None, None),
        id="a header that is not a (name, value) pair",
    ),
    pytest.param(
        Fault("/bytes-cookie", b"500", None, None),
        id="a Set-Cookie value that is not str",
    ),
]


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("kind", list(STACKS))
@pytest.mark.parametrize("checked", [True, False], ids=["validated", "plain"])
def test_a_fault_is_served_the_same_with_and_without_wsgifix(
    fault: Fault, kind: str, checked: bool
) -> None:
    # PEP 3333 via wsgiref.validate on both sides of each layer ("validated");
    # without validators the server sees the app's own objects ("plain").
    bare: Any = validator(fault_app) if checked else fault_app
    stack = STACKS[kind](fault_app)
    wrapped = validated(stack) if checked else stack
    without = serve_in_process(bare, fault.path)
    with_ = serve_in_process(wrapped, fault.path)
    assert with_.raw == without.raw
    assert without.raw.startswith(b"HTTP/1.0 " + fault.status)
    assert with_.error == without.error
    if fault.error is None:
        assert with_.error
    elif fault.error:
        assert f"Boom: {fault.error}" in with_.error
    else:
        assert not with_.error
    assert with_.events == without.events
    if fault.closes is None:
        assert with_.events is None
    else:
        assert with_.events is not None
        assert with_.events["close"] == fault.closes


@pytest.mark.parametrize("kind", list(STACKS))
@pytest.mark.parametrize("checked", [True, False], ids=["validated", "plain"])
def test_a_client_leaving_mid_body_in_process(kind: str, checked: bool) -> None:
    # The server's write fails after 200 kB (BrokenPipeError, as when the
    # client closed its socket): wsgiref stops iterating and calls close()
    # once, whether or not wsgifix is in between.
    bare: Any = validator(fault_app) if checked else fault_app
    stack = STACKS[kind](fault_app)
    wrapped = validated(stack) if checked else stack
    path = "/stream"
    without = serve_in_process(bare, path, LeavingClient(200_000))
    with_ = serve_in_process(wrapped, path, LeavingClient(200_000))
    assert with_.raw == without.raw
    assert with_.events == without.events
    assert with_.events is not None
    assert with_.events["close"] == 1
    assert 0 < with_.events["chunks"] < 64


class Capture:
    """The least of a server: a start_response that records the status."""

    def __init__(self) -> None:
        self.statuses: list[str] = []

    def start_response(
        self, status: str, headers: Headers, exc_info: Any = None
    ) -> Any:
        self.statuses.append(status)
        return lambda data: None


@pytest.mark.parametrize("kind", list(STACKS))
@pytest.mark.parametrize("path", ["/file-wrapper", "/close-body", "/gen-raises"])
def test_the_server_gets_the_apps_own_body_object(kind: str, path: str) -> None:
    # CONTRACT.md 4: no layer wraps the body, so a server's file_wrapper
    # fast path (sendfile) still sees its own object, and close() stays the
    # server's to call.
    returned: list[Any] = []

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        result = fault_app(environ, start_response)
        returned.append(result)
        return result

    environ = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_X_REQUEST_ID": uuid.uuid4().hex,
        "wsgi.url_scheme": "http",
        "wsgi.file_wrapper": FileWrapper,
    }
    server = Capture()
    result = STACKS[kind](app)(environ, server.start_response)
    assert result is returned[0]
    assert EVENTS.get(environ["HTTP_X_REQUEST_ID"], {}).get("close", 0) == 0
    result.close()  # type: ignore[attr-defined]
    assert EVENTS[environ["HTTP_X_REQUEST_ID"]]["close"] == 1


# -- the same faults under real waitress ---------------------------------------


def raw_get(port: int, path: str, rid: str, *, read: int | None = None) -> bytes:
    """One request on a fresh connection; everything the server sends until
    it closes (or the first ``read`` bytes, then the client leaves)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"X-Request-Id: {rid}\r\nConnection: close\r\n\r\n".encode()
        )
        received = bytearray()
        while read is None or len(received) < read:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            received += data
        return bytes(received)
    finally:
        sock.close()


def server_events(port: int, rid: str) -> dict[str, int] | None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", f"/__events?id={rid}")
        resp = conn.getresponse()
        assert resp.status == 200
        events: dict[str, int] | None = json.loads(resp.read())
        return events
    finally:
        conn.close()


def settled_events(
    port: int, rid: str, closes: int | None, timeout: float = 10.0
) -> dict[str, int] | None:
    """The server's record for ``rid`` once close() was called (the worker
    calls it after the last byte), and a moment later to catch a second
    call."""
    deadline = time.monotonic() + timeout
    events = server_events(port, rid)
    while closes and time.monotonic() < deadline:
        if events is not None and events["close"] >= closes:
            break
        time.sleep(0.02)
        events = server_events(port, rid)
    time.sleep(0.1)
    return server_events(port, rid)


@pytest.fixture(scope="module")
def waitresses() -> Iterator[dict[str, Server]]:
    """The fault app under waitress, bare and behind ``wsgifix serve``; the
    same ident, so only the Date header can differ between their bytes."""
    servers = {
        "without": start_server(
            [
                "waitress-serve",
                "--listen=127.0.0.1:0",
                "--ident=waitress (wsgifix)",
                "robust_app:fault_app",
            ],
            cwd=APPS,
        ),
        "with": start_server(
            [
                "wsgifix",
                "serve",
                "robust_app:fault_app",
                "--port",
                "0",
                "--trusted-proxies",
                "loopback",
                "--prefix",
                "/mnt",
            ],
            cwd=APPS,
        ),
    }
    yield servers
    for server in servers.values():
        server.stop()


@pytest.mark.e2e
@pytest.mark.parametrize("fault", FAULTS)
def test_a_fault_under_waitress_is_the_same_with_and_without_wsgifix(
    fault: Fault, waitresses: dict[str, Server]
) -> None:
    sent: dict[str, bytes] = {}
    events: dict[str, dict[str, int] | None] = {}
    for name, server in waitresses.items():
        rid = uuid.uuid4().hex
        sent[name] = _without_date(raw_get(server.port, fault.path, rid))
        events[name] = settled_events(server.port, rid, fault.closes)
    assert sent["with"] == sent["without"]
    assert sent["with"].startswith(b"HTTP/1.1 " + fault.status)
    assert events["with"] == events["without"]
    if fault.closes is not None:
        assert events["with"] is not None
        assert events["with"]["close"] == fault.closes
    if fault.path == "/file-wrapper":
        assert sent["with"].endswith(FILE_BYTES)


@pytest.mark.e2e
def test_a_client_leaving_mid_body_under_waitress(
    waitresses: dict[str, Server],
) -> None:
    # A 1 GiB body produced lazily; the client reads 256 kB and closes its
    # socket. waitress stops asking for chunks and calls close() once, with
    # and without wsgifix, and serves the next request.
    chunks = 16384
    for server in waitresses.values():
        rid = uuid.uuid4().hex
        got = raw_get(server.port, f"/stream?n={chunks}", rid, read=256 * 1024)
        assert got.startswith(b"HTTP/1.1 200 ")
        assert STREAM_CHUNK[:1000] in got
        events = settled_events(server.port, rid, 1, timeout=30)
        assert events is not None
        assert events["close"] == 1
        assert events["chunks"] < chunks  # it stopped early
        after = raw_get(server.port, "/close-body", uuid.uuid4().hex)
        assert after.startswith(b"HTTP/1.1 200 ")
        assert after.endswith(b"6\r\nthree\n\r\n0\r\n\r\n")  # chunked
    for server in waitresses.values():
        assert server.proc.poll() is None


# -- hostile input: the whole stack under hypothesis ------------------------------

PIECES = [
    "1.2.3.4",
    "127.0.0.1",
    "10.0.0.2",
    "::1",
    "[::1]:80",
    "[2001:db8::1]",
    "unknown",
    "_hidden",
    "example.com",
    "EXAMPLE.com.",
    "https",
    "http",
    "for=",
    "proto=",
    "host=",
    "by=",
    ",",
    ", ",
    ";",
    "=",
    ":",
    '"',
    "\\",
    '\\"',
    "/",
    "//",
    "/app",
    "..",
    "%2F",
    "%",
    "@",
    " ",
    "\t",
    "\r",
    "\n",
    "\r\n",
    "\x00",
    "\x7f",
    "\xff",
    "[",
    "]",
    "*",
    "?",
    "#",
    "a=b",
    "Secure",
    "Domain=.",
    "Path=/",
]
huge_counts = st.integers(min_value=1_000, max_value=30_000)
header_values = st.one_of(
    # random bytes, as a server decodes them (latin-1)
    st.binary(max_size=64).map(lambda b: b.decode("latin-1")),
    st.lists(st.sampled_from(PIECES), max_size=24).map("".join),
    # huge values: one piece many times
    st.builds(lambda piece, n: piece * n, st.sampled_from(PIECES), huge_counts),
    # thousands of list items
    st.builds(
        lambda items, n: ", ".join(items * n),
        st.lists(st.sampled_from(PIECES[:12]), min_size=1, max_size=4),
        st.integers(min_value=500, max_value=3_000),
    ),
    # deeply nested or escaped quotes
    st.builds(
        lambda n, inner: 'for="' + '\\"' * n + inner + '"' * n,
        st.integers(min_value=1, max_value=5_000),
        st.sampled_from(["", "1.2.3.4", '"', "\\"]),
    ),
    st.builds(lambda n: "for=" + '"' * n, st.integers(min_value=1, max_value=5_000)),
    # CR/LF (and other controls) inside otherwise good values
    st.builds(
        lambda a, sep, b: a + sep + b,
        st.sampled_from(PIECES[:10]),
        st.sampled_from(["\r\n", "\n", "\r", "\r\n ", "\x00", "\x0b"]),
        st.sampled_from(["for=evil", "host=evil", "1.2.3.4", "Set-Cookie: a=b"]),
    ),
)
FORWARDING = [
    "HTTP_FORWARDED",
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_X_FORWARDED_PREFIX",
    "HTTP_X_FORWARDED_BY",
]
other_names = st.from_regex(r"[A-Z][A-Z0-9_]{0,15}", fullmatch=True).map(
    lambda name: f"HTTP_{name}"
)
request_headers = st.dictionaries(
    st.one_of(
        st.sampled_from([*FORWARDING, "HTTP_HOST", "HTTP_COOKIE"]),
        other_names.filter(
            lambda key: key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH")
        ),
    ),
    header_values,
    max_size=10,
)
XALL = (
    "x-forwarded-for x-forwarded-proto x-forwarded-host x-forwarded-port "
    "x-forwarded-prefix"
)
stack_settings = st.fixed_dictionaries(
    {
        "trust": st.sampled_from(
            [
                {},
                {"trusted_proxies": "loopback private", "trusted_headers": XALL},
                {
                    "trusted_proxies": "*",
                    "trusted_headers": "forwarded x-forwarded-prefix",
                },
                {"trusted_hops": "2", "trusted_headers": XALL},
                {
                    "trusted_proxies": "10.0.0.0/8",
                    "trusted_hops": "1",
                    "trusted_headers": "forwarded",
                },
            ]
        ),
        "on_invalid": st.sampled_from(["reject", "ignore"]),
        "clear_untrusted": st.booleans(),
        "url_scheme": st.sampled_from(["", "https"]),
        "allowed_hosts": st.sampled_from(["*", ".example.com 127.0.0.1 [::1]"]),
        "prefix": st.sampled_from(["", "/mnt"]),
        "cookie_policy": st.sampled_from(["fix", "report", "off"]),
        "cookie_samesite": st.sampled_from(["keep", "lax", "none"]),
        "cookie_path": st.sampled_from(["keep", "scope"]),
        "cookie_domain": st.sampled_from(["auto", "keep", "example.com"]),
        "debug_path": st.sampled_from(["", "/_wsgifix"]),
    }
).map(lambda s: {**s.pop("trust"), **s})
peers = st.sampled_from(
    ["127.0.0.1", "10.0.0.1", "203.0.113.9", "::1", "::ffff:10.0.0.1", "localhost", ""]
)
paths = st.sampled_from(["/", "/mnt", "/mnt/x", "/_wsgifix", "/a/b", "//x"])
queries = st.sampled_from(["", "format=json", "a=1"])

APP_COOKIES = [
    "sid=abc; Path=/; HttpOnly",
    "__Host-x=1; Path=/; Secure",
    "pref=dark; SameSite=None",
    "d=1; Domain=other.test",
]


def base_environ(peer: str, path: str, query: str) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "waitress.invalid",
        "SERVER_PORT": "8080",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "SERVER_SOFTWARE": "waitress",
        "REMOTE_ADDR": peer,
        "REMOTE_PORT": "40000",
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }


class Outcome(NamedTuple):
    status: str
    headers: Headers
    body: bytes
    seen: dict[str, Any] | None  # the environ as the app saw it (None: not called)


def call(stack: Any, environ: dict[str, Any], seen: list[dict[str, Any]]) -> Outcome:
    status, headers, body = run_wsgi(stack, environ)
    return Outcome(status, headers, body, seen[-1] if seen else None)


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def assert_sane(before: dict[str, Any], out: Outcome, log: Collect) -> None:
    """CONTRACT.md 3 and 4, whatever the request and the settings."""
    code = out.status[:3]
    event(f"{code} {'from the app' if out.seen is not None else 'from wsgifix'}")
    if out.seen is None:
        # Answered by wsgifix: a 400 (one line), or the inspector's page/404.
        assert code in ("400", "200", "404"), out.status
        if code == "400":
            assert out.body.count(b"\n") == 1
            assert out.body.startswith(b"400 Bad Request: ")
            assert out.body.isascii()  # what charset=utf-8 says, whatever the input
    else:
        assert code == "200"
        seen = out.seen
        addr = seen.get("REMOTE_ADDR")
        assert addr == before["REMOTE_ADDR"] or (addr is not None and is_ip(addr))
        assert seen["wsgi.url_scheme"] in ("http", "https")
        assert not seen.get("SCRIPT_NAME", "").startswith("//")
        if "HTTP_HOST" in seen:
            host, port = parse_host(seen["HTTP_HOST"])  # raises if outside
            assert seen["HTTP_HOST"] == host + (f":{port}" if port else "")
    failures = [r for r in log.records if r.exc_info or "failed" in r.getMessage()]
    assert not failures, failures[0].getMessage()


def call_sanely(
    stack: Any, environ: dict[str, Any], seen: list[dict[str, Any]]
) -> Outcome:
    """:func:`call` with wsgifix's log collected, checked by :func:`assert_sane`."""
    before = dict(environ)
    log = Collect()
    logger = logging.getLogger("wsgifix")
    logger.addHandler(log)
    try:
        out = call(stack, environ, seen)
    finally:
        logger.removeHandler(log)
    assert_sane(before, out, log)
    return out


def echo_app(seen: list[dict[str, Any]], cookies: list[str]) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        seen.append(dict(environ))
        headers = [("Content-Type", "text/plain")]
        headers += [("Set-Cookie", value) for value in cookies]
        start_response("200 OK", headers)
        return [b"ok"]

    return app


PROPERTY = settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@PROPERTY
@given(
    cfg=stack_settings,
    peer=peers,
    headers=request_headers,
    path=paths,
    query=queries,
)
def test_hostile_requests_through_the_whole_stack(
    cfg: dict[str, Any],
    peer: str,
    headers: dict[str, str],
    path: str,
    query: str,
) -> None:
    # CONTRACT.md 3: "Nothing a client sends can make wsgifix raise"; PEP
    # 3333 holds on both sides of every layer (validated() raises if not).
    seen: list[dict[str, Any]] = []
    stack = validated(wsgifix.wrap(echo_app(seen, APP_COOKIES), **cfg))
    environ = {**base_environ(peer, path, query), **headers}
    out = call_sanely(stack, environ, seen)
    if out.seen is not None:
        for value in APP_COOKIES:
            pair = value.split(";", 1)[0]
            assert any(v.startswith(pair) for n, v in out.headers if n == "Set-Cookie")


non_forwarding = st.dictionaries(
    st.one_of(
        st.sampled_from(["HTTP_HOST", "HTTP_COOKIE", "HTTP_AUTHORIZATION"]),
        other_names.filter(lambda key: not key.startswith("HTTP_X_FORWARDED")),
    ),
    header_values,
    max_size=8,
)


@PROPERTY
@given(
    cfg=stack_settings,
    headers=non_forwarding,
    query=st.sampled_from(["", "format=json", "format=json&x=%ff"]),
)
def test_hostile_requests_to_the_inspector(
    cfg: dict[str, Any], headers: dict[str, str], query: str
) -> None:
    # CONTRACT.md 5: the inspector shows the raw and effective request; it
    # renders whatever a client sent (here to a local peer, so it answers).
    cfg = {**cfg, "debug_path": "/_wsgifix", "prefix": ""}
    seen: list[dict[str, Any]] = []
    stack = validated(wsgifix.wrap(echo_app(seen, APP_COOKIES), **cfg))
    environ = {**base_environ("127.0.0.1", "/_wsgifix", query), **headers}
    out = call_sanely(stack, environ, seen)
    assert out.seen is None
    if out.status.startswith("200") and "format=json" in query:
        page = json.loads(out.body)
        assert {"raw", "effective", "trust", "findings", "settings"} <= set(page)


set_cookie_values = st.one_of(
    st.binary(max_size=80).map(lambda b: b.decode("latin-1")),
    st.text(max_size=40),  # not latin-1 at all: the app's mistake, still audited
    st.lists(st.sampled_from(PIECES), max_size=24).map("".join),
    st.builds(
        lambda name, value, attrs: f"{name}={value}" + "".join("; " + a for a in attrs),
        st.sampled_from(["sid", "__Host-s", "__Secure-s", "", " a ", "x\r\ny"]),
        st.sampled_from(["v", "", '"q"', "a b", "é", "\x00", "v" * 5000]),
        st.lists(
            st.sampled_from(
                [
                    "Secure",
                    "HttpOnly",
                    "Path=/",
                    "Path=",
                    "Path=x",
                    "Domain=example.com",
                    "Domain=.",
                    "Domain=",
                    "Domain=127.0.0.1",
                    "SameSite=None",
                    "SameSite=lax",
                    "SameSite",
                    "Partitioned",
                    "Max-Age=-1",
                    "Expires=Thu, 01 Jan 1970 00:00:00 GMT",
                    "Priority=High",
                    "",
                    "Path=/" + "a" * 2000,
                ]
            ),
            max_size=12,
        ),
    ),
    st.builds(lambda n: "a=b" + "; Secure" * n, st.integers(1, 1_000)),
)


@PROPERTY
@given(
    cfg=stack_settings,
    peer=peers,
    headers=request_headers,
    values=st.lists(set_cookie_values, max_size=8),
)
def test_random_set_cookie_headers_keep_their_name_value_bytes(
    cfg: dict[str, Any],
    peer: str,
    headers: dict[str, str],
    values: list[str],
) -> None:
    # CONTRACT.md 4: fixes change only the attributes they name; the
    # name=value bytes (everything up to the end of the pair) never change,
    # whatever the app sends and whatever the request was.
    seen: list[dict[str, Any]] = []
    stack = wsgifix.wrap(echo_app(seen, values), **cfg)
    environ = {**base_environ(peer, "/mnt/x", ""), **headers}
    out = call_sanely(stack, environ, seen)
    if out.seen is None:
        return
    sent = [v for n, v in out.headers if n == "Set-Cookie"]
    assert len(sent) == len(values)
    for before_value, after_value in zip(values, sent, strict=True):
        end = SetCookie.parse(before_value).pair_end
        assert after_value[:end] == before_value[:end]
        if cfg["cookie_policy"] != "fix":
            assert after_value == before_value


# -- work per request: linear in the header, capped where the walk is ------------


class TooMuchWork(BaseException):
    """Raised from the tracer to stop a run past its budget (a BaseException,
    so no ``except Exception`` safety net in wsgifix swallows it)."""


def count_bytecodes(fn: Callable[[], object], limit: float = float("inf")) -> int:
    """Python bytecodes executed by ``fn()`` (deterministic, unlike time);
    TooMuchWork once past ``limit``."""
    count = 0

    def tracer(frame: Any, event: str, arg: Any) -> Any:
        nonlocal count
        frame.f_trace_opcodes = True
        frame.f_trace_lines = False
        if event == "opcode":
            count += 1
            if count > limit:
                raise TooMuchWork
        return tracer

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        fn()
    finally:
        sys.settrace(previous)
    return count


def best_time(make: Callable[[], Callable[[], object]], rounds: int = 5) -> float:
    best = float("inf")
    for _ in range(rounds):
        one = make()
        start = time.perf_counter()
        one()
        best = min(best, time.perf_counter() - start)
    return best


TRUST_X = {"trusted_proxies": "loopback", "trusted_headers": XALL}
TRUST_F = {"trusted_proxies": "loopback", "trusted_headers": "forwarded"}


class Growth(NamedTuple):
    settings: dict[str, str]
    headers: Callable[[int], dict[str, str]]  # environ changes for size n
    cookies: Callable[[int], list[str]]  # the app's Set-Cookie headers
    capped: bool  # CONTRACT.md 7: the work must not grow with n at all


def _no_cookies(n: int) -> list[str]:
    return []


# n = 25 items gives headers of a few hundred bytes to 2.5 kB; 100 n reaches
# waitress's cap on the request head (max_request_header_size, 256 kB).
GROWTH = [
    pytest.param(
        Growth(
            TRUST_X,
            lambda n: {"HTTP_X_FORWARDED_FOR": "6.6.6.6, " * n + "1.2.3.4"},
            _no_cookies,
            True,
        ),
        id="X-Forwarded-For: forged entries left of the client",
    ),
    pytest.param(
        Growth(
            TRUST_X,
            lambda n: {"HTTP_X_FORWARDED_FOR": ", ".join(["127.0.0.9"] * n)},
            _no_cookies,
            True,
        ),
        id="X-Forwarded-For: a chain of trusted entries (64 walked, then 400)",
    ),
    pytest.param(
        Growth(
            TRUST_X,
            lambda n: {
                "HTTP_X_FORWARDED_FOR": "1.2.3.4",
                "HTTP_X_FORWARDED_PROTO": "ftp, " * n + "https",
                "HTTP_X_FORWARDED_HOST": "evil, " * n + "example.com",
                "HTTP_X_FORWARDED_PORT": "x, " * n + "443",
                "HTTP_X_FORWARDED_PREFIX": "//, " * n + "/app",
            },
            _no_cookies,
            True,
        ),
        id="X-Forwarded-Proto/Host/Port/Prefix: long lists",
    ),
    pytest.param(
        Growth(
            TRUST_F,
            lambda n: {
                "HTTP_FORWARDED": "for=6.6.6.6;proto=http, " * n + "for=1.2.3.4"
            },
            _no_cookies,
            False,
        ),
        id="Forwarded: many elements",
    ),
    pytest.param(
        Growth(
            TRUST_F,
            lambda n: {"HTTP_FORWARDED": 'for="' + '\\"' * (10 * n) + '"'},
            _no_cookies,
            False,
        ),
        id="Forwarded: deeply escaped quotes",
    ),
    pytest.param(
        Growth(
            TRUST_X,
            lambda n: {"HTTP_X_FORWARDED_PREFIX": "/a/./b/.." * n},
            _no_cookies,
            False,
        ),
        id="X-Forwarded-Prefix: many segments",
    ),
    pytest.param(
        Growth(TRUST_X, lambda n: {"HTTP_HOST": "a" * (100 * n)}, _no_cookies, False),
        id="Host: a long name (400)",
    ),
    pytest.param(
        Growth(
            {},
            lambda n: {"HTTP_COOKIE": "; ".join(f"c{i}=v{i}" for i in range(n * 4))},
            lambda n: ["c1=x; Path=/"],
            False,
        ),
        id="Cookie: many pairs",
    ),
    pytest.param(
        Growth(
            {},
            lambda n: {f"HTTP_X_H{i}": "v" for i in range(n * 4)},
            _no_cookies,
            False,
        ),
        id="many unrelated headers",
    ),
    pytest.param(
        Growth(
            {},
            lambda n: {},
            lambda n: ["sid=1" + "; Path=/; Secure" * n],
            False,
        ),
        id="Set-Cookie: many attributes",
    ),
    pytest.param(
        Growth(
            {},
            lambda n: {"HTTP_COOKIE": "s0=1"},
            lambda n: [f"s{i}=v; Path=/; Domain=other.test" for i in range(n // 5)],
            False,
        ),
        id="many Set-Cookie headers",
    ),
]


@pytest.mark.parametrize("case", GROWTH)
def test_work_per_request_is_linear_in_the_header_and_capped(case: Growth) -> None:
    # Issue 8: "time per request is linear in header size with a cap".
    # Counted work: 100x the header costs at most 150x the bytecodes
    # (exactly linear work gives at most 100x, a constant part only makes it
    # less; quadratic work gives thousands), and where CONTRACT.md 7 caps
    # the walk it must cost less than 20x. Each count is a first request on a
    # fresh stack (its memo and caches cannot hide work; the module-level
    # parser caches are warm for both sizes). A wall-clock backstop catches
    # quadratic work in C (regex backtracking, repeated slicing), which
    # bytecodes do not see: 100x the header must cost less than 300x.
    def maker(n: int) -> Callable[[], Callable[[], object]]:
        cookies = case.cookies(n)
        headers = {"HTTP_HOST": "example.com", **case.headers(n)}

        def make() -> Callable[[], object]:
            seen: list[dict[str, Any]] = []
            stack = wsgifix.wrap(echo_app(seen, cookies), **case.settings)
            environ = {**base_environ("127.0.0.1", "/", ""), **headers}
            return lambda: call(stack, environ, seen)

        make()()  # warms the module-level caches only
        return make

    bound = 20 if case.capped else 150
    logging.getLogger("wsgifix").disabled = True
    try:
        small, large = maker(25), maker(2500)
        work_small = count_bytecodes(small())
        try:
            work_large = count_bytecodes(large(), limit=bound * work_small)
        except TooMuchWork:
            pytest.fail(f"100x the header costs over {bound}x the work ({work_small})")
        time_small, time_large = best_time(small), best_time(large)
    finally:
        logging.getLogger("wsgifix").disabled = False
    print(
        f"bytecodes {work_small} -> {work_large} ({work_large / work_small:.1f}x), "
        f"time {time_small * 1e6:.0f} -> {time_large * 1e6:.0f} us "
        f"({time_large / time_small:.1f}x)"
    )
    assert time_large < 300 * time_small


# -- the fuzz targets of benchmarks/ stay runnable without atheris -----------------


@pytest.mark.parametrize("name", ["fuzz_forwarded", "fuzz_setcookie"])
@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=300))
def test_fuzz_targets_hold_for_random_input(name: str, data: bytes) -> None:
    # The soak script runs these under atheris for minutes; here hypothesis
    # keeps them (and their invariants) working in every CI run.
    module = _FUZZ.get(name) or _FUZZ.setdefault(name, load_benchmark(name))
    module.TestOneInput(data)


_FUZZ: dict[str, Any] = {}


# -- environ values of another type than PEP 3333's str ----------------------------
# No server sends them, but test harnesses and other middlewares write ints,
# bytes or None into the environ. The values wsgifix only carries (or reads
# from a peer it does not trust) pass through in either build: the compiled
# one checks declared types, so those values are typed Any where they flow
# (a regression test for the compiled build, run against both in CI).

NON_TEXT = {"None": None, "bytes": b"x", "int": 5, "list": ["a"]}
CARRIED = [
    "HTTPS",
    "REMOTE_PORT",
    "SERVER_NAME",
    "SERVER_PORT",
    "HTTP_COOKIE",
    "HTTP_SEC_FETCH_SITE",
    "HTTP_SEC_FETCH_DEST",
]
FORWARDING = [
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_X_FORWARDED_PREFIX",
    "HTTP_FORWARDED",
]
XF_ALL = (
    "x-forwarded-for x-forwarded-proto x-forwarded-host x-forwarded-port "
    "x-forwarded-prefix"
)


@pytest.mark.parametrize(
    ("settings", "unread"),
    [
        pytest.param({}, FORWARDING, id="untrusted peer"),
        pytest.param({"prefix": "/app", "debug_path": "/_w"}, FORWARDING, id="prefix"),
        pytest.param(
            {"trusted_proxies": "127.0.0.1", "trusted_headers": XF_ALL},
            ["HTTP_FORWARDED"],
            id="trusted x-forwarded-*",
        ),
        pytest.param(
            {"trusted_proxies": "127.0.0.1", "trusted_headers": "forwarded"},
            FORWARDING[:5],
            id="trusted forwarded",
        ),
    ],
)
def test_non_text_values_wsgifix_only_carries_pass_through(
    settings: dict[str, str], unread: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response("200 OK", [("Set-Cookie", "sid=1; Path=/")])
        return [b"ok"]

    wrapped = wsgifix.wrap(app, **settings)
    cases = [(key, name) for key in CARRIED + unread for name in NON_TEXT]
    cases.append(("wsgi.url_scheme", "bytes"))
    failed = []
    for key, name in cases:
        environ = {
            "REQUEST_METHOD": "GET",
            "SCRIPT_NAME": "",
            "PATH_INFO": "/app/x",
            "QUERY_STRING": "",
            "SERVER_NAME": "lab.test",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "lab.test",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.url_scheme": "http",
            "HTTP_X_FORWARDED_FOR": "203.0.113.9",
            "HTTP_COOKIE": "sid=0",
            key: NON_TEXT[name],
        }
        for _ in range(3):  # the third time from the memos (kept from the second)
            try:
                status, _, body = run_wsgi(wrapped, dict(environ))
            except Exception as exc:  # collected and reported below
                failed.append(f"{key}={name}: {type(exc).__name__}: {exc}")
                break
            if (status, body) != ("200 OK", b"ok"):
                failed.append(f"{key}={name}: {status}")
                break
    assert failed == []
    # Read as absent (the Cookie and Sec-Fetch-* headers, X-Forwarded-Proto
    # for the advice): the audit itself never failed over them.
    assert not [r for r in caplog.records if "audit failed" in r.getMessage()]


@pytest.mark.parametrize("on_invalid", ["reject", "ignore"])
@pytest.mark.parametrize(
    "trusted", ["x-forwarded-*", "forwarded"], ids=["x-forwarded", "forwarded"]
)
def test_a_trusted_forwarding_header_that_is_not_text_is_invalid(
    on_invalid: str, trusted: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Not from a client (a server or a middleware before wsgifix): the header
    # is invalid (CONTRACT.md 6 on_invalid), a one-line 400 or skipped and
    # logged, never a traceback.
    headers = XF_ALL if trusted == "x-forwarded-*" else "forwarded"
    keys = FORWARDING[:5] if trusted == "x-forwarded-*" else ["HTTP_FORWARDED"]

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response("200 OK", [])
        return [b"ok"]

    wrapped = wsgifix.wrap(
        app,
        trusted_proxies="127.0.0.1",
        trusted_headers=headers,
        on_invalid=on_invalid,
    )
    caplog.set_level(logging.WARNING, logger="wsgifix.proxy")
    for key in keys:
        for name, value in NON_TEXT.items():
            if value is None:
                continue  # no header (see the test below)
            environ = {
                "REQUEST_METHOD": "GET",
                "SCRIPT_NAME": "",
                "PATH_INFO": "/",
                "SERVER_NAME": "lab.test",
                "SERVER_PORT": "80",
                "HTTP_HOST": "lab.test",
                "REMOTE_ADDR": "127.0.0.1",
                "wsgi.url_scheme": "http",
                key: value,
            }
            status, _, body = run_wsgi(wrapped, environ)
            if on_invalid == "reject":
                assert status == "400 Bad Request", (key, name)
                assert f"not text ({type(value).__name__})" in body.decode()
                assert body.count(b"\n") <= 1
            else:
                assert (status, body) == ("200 OK", b"ok"), (key, name)
                assert environ["wsgifix.trust"].headers[key][0] == "ignored"
                assert environ["REMOTE_ADDR"] == "127.0.0.1"
    assert any("not text" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    "settings",
    [
        pytest.param({}, id="untrusted peer"),
        pytest.param(
            {"trusted_proxies": "127.0.0.1", "trusted_headers": XF_ALL}, id="trusted"
        ),
    ],
)
def test_a_forwarding_header_of_none_is_no_header(settings: dict[str, str]) -> None:
    """environ.get reads a None value as no header, and so do the walk and
    its memo (which keys by environ.get): before, an entry made for a
    request with X-Forwarded-For: None (deleted from an untrusted peer)
    was replayed on one without it, and deleting it raised KeyError."""

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response("200 OK", [])
        return [b"ok"]

    wrapped = wsgifix.wrap(app, **settings)
    sequence = [*FORWARDING, *reversed(FORWARDING)]
    for key in [k for k in sequence for _ in range(3)]:  # memos keep from the 2nd
        environ = base_environ("127.0.0.1", "/", "")
        environ[key] = None
        status, _, body = run_wsgi(wrapped, environ)
        assert (status, body) == ("200 OK", b"ok"), key
        assert environ[key] is None  # carried as the server gave it
        assert key not in environ["wsgifix.trust"].headers
        assert key not in environ["wsgifix.orig"]
    # With a header that is there: only that one is read.
    environ = base_environ("127.0.0.1", "/", "")
    environ.update(HTTP_X_FORWARDED_FOR=None, HTTP_X_FORWARDED_PROTO="https")
    status, _, _ = run_wsgi(wrapped, environ)
    assert status == "200 OK"
    assert list(environ["wsgifix.trust"].headers) == ["HTTP_X_FORWARDED_PROTO"]
    assert environ["wsgi.url_scheme"] == ("https" if settings else "http")


@pytest.mark.parametrize("forwarded", [False, True], ids=["direct", "forwarded"])
@pytest.mark.parametrize("name", [n for n in NON_TEXT if n != "None"])
def test_a_host_header_that_is_not_text_gets_a_400(name: str, forwarded: bool) -> None:
    """The Host is checked on every request: one that is not text gets the
    one-line 400 an invalid Host gets, never a traceback."""
    settings = {"trusted_proxies": "127.0.0.1", "trusted_headers": XF_ALL}
    wrapped = wsgifix.wrap(lambda e, s: [b"ok"], **(settings if forwarded else {}))
    environ = base_environ("127.0.0.1", "/", "")
    environ["HTTP_HOST"] = NON_TEXT[name]
    if forwarded:
        environ["HTTP_X_FORWARDED_PROTO"] = "https"
    for _ in range(3):
        status, _, body = run_wsgi(wrapped, dict(environ))
        assert status == "400 Bad Request"
        kind = type(NON_TEXT[name]).__name__
        assert body == f"400 Bad Request: Host: not text ({kind})\n".encode()


@pytest.mark.parametrize("forwarded", [False, True], ids=["direct", "forwarded"])
def test_a_host_header_of_none_is_no_host_header(forwarded: bool) -> None:
    settings = {"trusted_proxies": "127.0.0.1", "trusted_headers": XF_ALL}
    seen: list[dict[str, Any]] = []

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        seen.append(dict(environ))
        start_response("200 OK", [])
        return [b"ok"]

    wrapped = wsgifix.wrap(app, **(settings if forwarded else {}))
    environ = base_environ("127.0.0.1", "/", "")
    environ["HTTP_HOST"] = None
    if forwarded:
        environ["HTTP_X_FORWARDED_PROTO"] = "https"
    for _ in range(3):
        status, _, _ = run_wsgi(wrapped, dict(environ))
        assert status == "200 OK"
    assert seen[-1]["SERVER_NAME"] == environ["SERVER_NAME"]


@pytest.mark.parametrize("name", [*NON_TEXT, "absent"])
@pytest.mark.parametrize("allowed", ["*", "lab.test"])
def test_a_server_name_that_is_not_text_is_no_name(name: str, allowed: str) -> None:
    """Without a Host header, a SERVER_NAME that is not text (or none) is
    no host name: every host allowed, the app answers; a list of hosts,
    the one-line 400 an empty SERVER_NAME gets."""

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response("200 OK", [])
        return [b"ok"]

    wrapped = wsgifix.wrap(
        app,
        allowed_hosts=allowed,
        trusted_proxies="127.0.0.1",
        trusted_headers=XF_ALL,
    )
    for proto in (None, "https"):
        environ = base_environ("127.0.0.1", "/", "")
        if name == "absent":
            del environ["SERVER_NAME"]
        else:
            environ["SERVER_NAME"] = NON_TEXT[name]
        if proto:
            environ["HTTP_X_FORWARDED_PROTO"] = proto
        for _ in range(2):  # the second from the memo
            status, _, body = run_wsgi(wrapped, dict(environ))
            if allowed == "*":
                assert (status, body) == ("200 OK", b"ok")
            else:
                assert status == "400 Bad Request"
                assert body == b"400 Bad Request: Host: '' is not in allowed_hosts\n"


@pytest.mark.parametrize("name", list(NON_TEXT))
def test_a_peer_address_that_is_not_text_is_no_address(name: str) -> None:
    """REMOTE_ADDR that is not text (no server sends it) is read as the
    empty address, as for a request without one (trusted by ``*``, and by
    ``unix``, whose Unix-socket peers have it; not by an address)."""

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response("200 OK", [])
        return [b"ok"]

    def request(peer: Any) -> dict[str, Any]:
        environ = base_environ("127.0.0.1", "/", "")
        environ["HTTP_X_FORWARDED_FOR"] = "203.0.113.9"
        if peer is _ABSENT:
            del environ["REMOTE_ADDR"]
        else:
            environ["REMOTE_ADDR"] = peer
        return environ

    for proxies in ("127.0.0.1", "*", "unix"):
        wrapped = wsgifix.wrap(app, trusted_proxies=proxies, trusted_headers=XF_ALL)
        for _ in range(3):  # the last from the memos
            environ, without = request(NON_TEXT[name]), request(_ABSENT)
            assert run_wsgi(wrapped, environ)[0] == "200 OK"
            assert run_wsgi(wrapped, without)[0] == "200 OK"
            trust = environ["wsgifix.trust"]
            assert trust.trusted_by == (None if proxies == "127.0.0.1" else proxies)
            assert trust.trusted_by == without["wsgifix.trust"].trusted_by
            assert trust.client == without["wsgifix.trust"].client


_ABSENT = object()


ENVIRON_KEYS = [
    "SERVER_SOFTWARE",
    "REQUEST_METHOD",
    "SCRIPT_NAME",
    "PATH_INFO",
    "QUERY_STRING",
    "SERVER_NAME",
    "SERVER_PORT",
    "HTTPS",
    "wsgi.url_scheme",
    "HTTP_HOST",
    "REMOTE_ADDR",
    *CARRIED,
    *FORWARDING,
]
SETTINGS_STACKS = [
    {},
    {"prefix": "/app", "debug_path": "/_w"},
    {"trusted_proxies": "127.0.0.1", "trusted_headers": XF_ALL},
    {"trusted_proxies": "*", "trusted_headers": "forwarded x-forwarded-prefix"},
    {
        "trusted_proxies": "loopback",
        "trusted_headers": XF_ALL,
        "on_invalid": "ignore",
        "prefix": "/app",
    },
    {
        "trusted_proxies": "127.0.0.1",
        "trusted_headers": "x-forwarded-proto x-forwarded-port",
        "allowed_hosts": "lab.test .lab.test",
    },
]


@settings(max_examples=300, deadline=None)
@given(
    stack=st.sampled_from(range(len(SETTINGS_STACKS))),
    target=st.sampled_from(["/app/x", "/_w", "/_w?format=json", "/_w?cookies=set"]),
    values=st.dictionaries(
        st.sampled_from(ENVIRON_KEYS),
        st.one_of(
            st.none(),
            st.binary(max_size=8),
            st.integers(),
            st.lists(st.text(max_size=2), max_size=2),
            st.sampled_from(
                ["", "/", "/app/x", "https", "lab.test", "sid=0", "\udcff", "a\r\nb"]
            ),
        ),
        max_size=4,
    ),
)
def test_any_environ_values_get_an_answer_and_the_audit_runs(
    stack: int, target: str, values: dict[str, Any]
) -> None:
    """Whatever types the environ's values have (a test harness or another
    middleware may write None, bytes, ints or lists where PEP 3333 says
    str): the response is the app's, the inspector's (stacks with
    debug_path, a local client), a 404 or a one-line 400, never an
    exception, and the Set-Cookie audit does not fail over them."""
    wrapped = wsgifix.wrap(_cookie_app, **SETTINGS_STACKS[stack])
    path, _, query = target.partition("?")
    before = _FAILURES.count
    for _ in range(3):  # the last ones from the memos
        environ = base_environ("127.0.0.1", path, query)
        environ["HTTP_HOST"] = "lab.test"
        environ.update(values)
        status, _, body = run_wsgi(wrapped, environ)
        if status == "400 Bad Request":
            assert body.count(b"\n") == 1
            assert body.endswith(b"\n")
        elif path == "/_w" and "debug_path" in SETTINGS_STACKS[stack]:
            assert status in ("200 OK", "404 Not Found")
        else:
            assert (status, body) == ("200 OK", b"ok")
    assert _FAILURES.count == before


@pytest.mark.parametrize("name", list(NON_TEXT))
def test_a_server_software_that_is_not_text_is_not_waitress(name: str) -> None:
    """The waitress advice (a trusted X-Forwarded-Prefix arriving alone)
    reads SERVER_SOFTWARE: one that is not text is not waitress."""
    wrapped = wsgifix.wrap(
        _cookie_app, trusted_proxies="127.0.0.1", trusted_headers=XF_ALL
    )
    environ = base_environ("127.0.0.1", "/x", "")
    environ.update(HTTP_X_FORWARDED_PREFIX="/p", SERVER_SOFTWARE=NON_TEXT[name])
    status, _, _ = run_wsgi(wrapped, environ)
    assert status == "200 OK"
    assert environ["SCRIPT_NAME"] == "/p"


@pytest.mark.parametrize("query", ["", "format=json", "cookies=set"])
def test_the_inspector_answers_whatever_the_environ_holds(query: str) -> None:
    """Every environ value (and ``wsgifix.orig``) set in turn to each of
    None, bytes, an int and a list: the inspector page, a 404 (the client
    not known to be local) or a one-line 400, never an exception."""
    wrapped = wsgifix.wrap(_cookie_app, debug_path="/_w")
    failed = []
    for key in [*ENVIRON_KEYS, "wsgifix.orig"]:
        for name, value in NON_TEXT.items():
            environ = base_environ("127.0.0.1", "/_w", query)
            environ["HTTP_HOST"] = "lab.test"
            environ[key] = value
            try:
                status, _, _ = run_wsgi(wrapped, environ)
            except Exception as exc:  # collected and reported below
                failed.append(f"{key}={name}: {type(exc).__name__}: {exc}")
                continue
            if status not in ("200 OK", "404 Not Found", "400 Bad Request"):
                failed.append(f"{key}={name}: {status}")
            if key in FORWARDING and value is None and status != "200 OK":
                failed.append(f"{key}=None is no header: {status}")  # still local
    assert failed == []


@pytest.mark.parametrize("query", ["", "cookies=set"])
@pytest.mark.parametrize("key", ["SERVER_SOFTWARE", "SCRIPT_NAME", "HTTP_USER_AGENT"])
def test_the_inspector_shows_text_utf_8_cannot_hold(key: str, query: str) -> None:
    """A lone surrogate in an environ value (text a harness decoded with
    surrogateescape, as Python does os.environ's) is shown escaped on the
    HTML pages, as the JSON one does; it raised UnicodeEncodeError."""
    wrapped = wsgifix.wrap(_cookie_app, debug_path="/_w")
    environ = base_environ("127.0.0.1", "/_w", query)
    environ["HTTP_HOST"] = "lab.test"
    environ[key] = environ.get(key, "") + "\udcff"
    status, _, body = run_wsgi(wrapped, environ)
    assert status == "200 OK"
    if key == "SCRIPT_NAME" and query:  # only in a link: the octet, encoded
        assert b'href="%FF/_w?cookies=check"' in body
    elif key == "SCRIPT_NAME" or not query:  # what the page shows
        assert b"\\udcff" in body


@pytest.mark.parametrize(
    "odd",
    [
        None,
        ("Set-Cookie",),
        (None, "a=b"),
        (5, 6),
        ("Set-Cookie", None),
        ("Set-Cookie", b"a=b"),
        ("set-cookie", 5),
        ("Set-Cookie", ["a=b"]),
    ],
    ids=repr,
)
@pytest.mark.parametrize("where", ["first", "last"])
def test_headers_a_server_refuses_go_on_with_one_warning(
    odd: Any, where: str, caplog: pytest.LogCaptureFixture
) -> None:
    """What PEP 3333 forbids in an app's headers (an item that is not a
    (name, value) pair, a Set-Cookie value that is not str) is the app's
    bug: the headers go to the server unchanged (waitress refuses them with
    its own message) and wsgifix says so once, a warning naming the item.
    Such a pair raised out of start_response from inside wsgifix, and such
    a value was logged as a failure of the audit, with a traceback."""
    clean = ("Set-Cookie", "sid=1; Path=/; HttpOnly; SameSite=Lax")
    sent = [("Content-Type", "text/plain"), clean]
    sent.insert(1 if where == "first" else 2, odd)

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response("200 OK", list(sent))
        return [b"ok"]

    caplog.set_level(logging.INFO, logger="wsgifix")
    wrapped = wsgifix.wrap(app)
    for _ in range(3):
        environ = base_environ("127.0.0.1", "/", "")
        assert run_wsgi(wrapped, environ) == ("200 OK", sent, b"ok")
    records = [r for r in caplog.records if r.name.startswith("wsgifix")]
    assert [r.levelno for r in records] == [logging.WARNING]
    message = records[0].getMessage()
    assert "PEP 3333" in message
    assert repr(odd) in message
    assert records[0].exc_info is None


def _cookie_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    start_response("200 OK", [("Set-Cookie", "sid=1; Path=/"), ("Set-Cookie", "t=2")])
    return [b"ok"]


class _AuditFailures(logging.Handler):
    """Counts the cookie layer's "audit failed" records (installed once:
    hypothesis runs the test body many times in one test)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0
        logging.getLogger("wsgifix.cookies").addHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        if "audit failed" in record.getMessage():
            self.count += 1


_FAILURES = _AuditFailures()


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("HTTP_X_FORWARDED_PROTO", "htt\xe9"),
        ("HTTP_X_FORWARDED_PORT", "8\u00b9"),
        ("HTTP_X_FORWARDED_HOST", "h\xf6st.example"),
        ("HTTP_X_FORWARDED_FOR", "192.0.2.\xb9"),
        ("HTTP_X_FORWARDED_PREFIX", "/\xe9\x00"),
        ("HTTP_FORWARDED", "for=\xe9"),
    ],
)
def test_a_400_body_is_ascii_whatever_the_value(key: str, value: str) -> None:
    # CONTRACT.md 3: a one-line text/plain reason; its header says utf-8, so
    # the value it quotes (latin-1 text from the server) is escaped.
    header = key[5:].lower().replace("_", "-")
    stack = wsgifix.wrap(
        lambda e, s: [b""], trusted_proxies="loopback", trusted_headers=header
    )
    environ = {**base_environ("127.0.0.1", "/", ""), key: value}
    status, headers, body = run_wsgi(stack, environ)
    assert status == "400 Bad Request"
    assert ("Content-Type", "text/plain; charset=utf-8") in headers
    assert body.isascii()
    assert body.count(b"\n") == 1
