"""The Set-Cookie audit layer in process (CONTRACT.md sections 4 and 7,
COOKIE_RULES.md): what it must leave alone, what it may change, where its
findings go, race detection, and properties under random headers.

Sources are cited per table: "C4" = CONTRACT.md section 4, "C7" = section 7,
"R" = COOKIE_RULES.md (rule table).
"""

from __future__ import annotations

import contextlib
import io
import logging
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from wsgiref.util import FileWrapper, setup_testing_defaults
from wsgiref.validate import validator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import wsgifix
import wsgifix.cookies
from wsgifix.cookies import CookieMiddleware
from wsgifix.races import MAX_AGE, MAX_ENTRIES, MAX_FLYING, RaceDetector
from wsgifix.setcookie import SetCookie

Headers = list[tuple[str, str]]
LOGGER = "wsgifix.cookies"


# -- helpers -------------------------------------------------------------------


def make_environ(**overrides: Any) -> dict[str, Any]:
    """A complete WSGI environ for ``http://lab.test/`` (wsgiref defaults)."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/",
        "QUERY_STRING": "",
        "SERVER_NAME": "lab.test",
        "SERVER_PORT": "80",
        "HTTP_HOST": "lab.test",
        "REMOTE_ADDR": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
    }
    environ.update(overrides)
    setup_testing_defaults(environ)
    return environ


HTTPS = {"wsgi.url_scheme": "https", "HTTPS": "on", "SERVER_PORT": "443"}


class Server:
    """Records what reaches the server's start_response; hands out write()."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Headers, Any]] = []
        self.written: list[bytes] = []

    @property
    def status(self) -> str:
        return self.calls[-1][0]

    @property
    def headers(self) -> Headers:
        return self.calls[-1][1]

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def start_response(self, *args: Any) -> Callable[[bytes], None]:
        # PEP 3333: two or three positional arguments, never keywords.
        assert len(args) in (2, 3)
        status, headers = args[0], args[1]
        exc_info = args[2] if len(args) == 3 else "absent"
        if exc_info not in ("absent", None) and self.calls:
            raise exc_info[1].with_traceback(exc_info[2])  # headers already sent
        self.calls.append((status, headers, exc_info))
        return self.write


def header_app(headers: Headers, body: Iterable[bytes] | None = None) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response("200 OK", list(headers))
        return [b"ok"] if body is None else body

    return app


def set_cookie_values(headers: Headers) -> list[str]:
    return [v for n, v in headers if n.lower() == "set-cookie"]


def run(
    app: Any, environ: dict[str, Any] | None = None, **settings: Any
) -> tuple[Server, dict[str, Any], Iterable[bytes]]:
    server = Server()
    environ = make_environ() if environ is None else environ
    result = CookieMiddleware(app, **settings)(environ, server.start_response)
    return server, environ, result


def findings(environ: dict[str, Any]) -> list[wsgifix.Finding]:
    listed: list[wsgifix.Finding] = environ.get("wsgifix.findings", [])
    return listed


def rules_of(environ: dict[str, Any]) -> list[str]:
    return [f.rule for f in findings(environ)]


class Clock:
    """A manual stand-in for time.monotonic."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(time, "monotonic", fake)
    return fake


@pytest.fixture
def later(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The wall clock the rules read (Expires), moved by setting
    ``later.shift`` (a timedelta)."""
    from datetime import datetime, timedelta

    class Later(datetime):
        shift = timedelta(0)

        @classmethod
        def now(cls, tz: Any = None) -> Any:
            return datetime.now(tz) + cls.shift

    monkeypatch.setattr(wsgifix.rules, "datetime", Later)
    return Later


def cookie_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOGGER]


# -- the body and the server's callables pass through (C4) ------------------------


class ClosingBody:
    """An iterable with close(); records whether anybody called it."""

    def __init__(self) -> None:
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        yield b"body"

    def close(self) -> None:
        self.closed = True


def _generator() -> Iterator[bytes]:
    yield b"gen"


BODIES = [
    pytest.param(lambda environ: [b"a", b"b"], id="list"),
    pytest.param(lambda environ: _generator(), id="generator"),
    pytest.param(lambda environ: ClosingBody(), id="iterable-with-close"),
    pytest.param(
        lambda environ: environ["wsgi.file_wrapper"](io.BytesIO(b"file"), 4),
        id="wsgi.file_wrapper",
    ),
]

# C4: "the app's iterable (and wsgi.file_wrapper objects) reach the server
# untouched, close() is the server's to call" -- whatever the policy and
# whether or not a Set-Cookie is fixed.
SET_COOKIE_CASES = [
    pytest.param([("Content-Type", "text/plain")], id="no-set-cookie"),
    pytest.param(
        [("Content-Type", "text/plain"), ("Set-Cookie", "sid=1; Domain=other.test")],
        id="fixed-set-cookie",
    ),
]


@pytest.mark.parametrize("policy", ["fix", "report", "off"])
@pytest.mark.parametrize("headers", SET_COOKIE_CASES)
@pytest.mark.parametrize("make_body", BODIES)
def test_the_apps_iterable_is_returned_as_is(
    make_body: Callable[[dict[str, Any]], Iterable[bytes]],
    headers: Headers,
    policy: str,
) -> None:
    environ = make_environ()
    environ["wsgi.file_wrapper"] = FileWrapper
    made: list[Iterable[bytes]] = []

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response("200 OK", list(headers))
        made.append(make_body(environ))
        return made[0]

    _, _, result = run(app, environ, cookie_policy=policy)
    assert result is made[0]
    if isinstance(result, FileWrapper):
        assert result.filelike.closed is False  # type: ignore[attr-defined]
        assert b"".join(result) == b"file"  # still a working file wrapper
    if isinstance(result, ClosingBody):
        assert result.closed is False  # the layer never calls close()


@pytest.mark.parametrize("headers", SET_COOKIE_CASES)
def test_exc_info_reaches_the_servers_start_response(headers: Headers) -> None:
    # C4 "exc_info passes through": the very tuple, as the third positional
    # argument; without exc_info the server gets exactly two arguments.
    seen: list[Any] = []

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        try:
            raise ValueError("boom")
        except ValueError:
            info = sys.exc_info()
            seen.append(info)
            start_response("500 Internal Server Error", list(headers), info)
        return [b"error"]

    server, _, _ = run(app)
    assert server.calls[-1][2] is seen[0]

    server, _, _ = run(header_app(headers))
    assert server.calls[-1][2] == "absent"


def test_exc_info_after_headers_were_sent_reraises_through_the_layer() -> None:
    # PEP 3333: once headers are out the server re-raises exc_info; the
    # layer must let that exception reach the app unchanged.
    raised: list[BaseException] = []
    caught: list[BaseException] = []

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response("200 OK", [("Set-Cookie", "a=1; Path=/")])
        try:
            raise KeyError("late")
        except KeyError as exc:
            raised.append(exc)
            try:
                start_response("500 Oops", [], sys.exc_info())
            except KeyError as again:
                caught.append(again)
        return []

    run(app)
    assert len(caught) == 1
    assert caught[0] is raised[0]


@pytest.mark.parametrize("headers", SET_COOKIE_CASES)
@pytest.mark.parametrize("policy", ["fix", "report", "off"])
def test_the_write_callable_comes_back_and_works(headers: Headers, policy: str) -> None:
    # C4 "the write() callable keeps working": it is the server's own.
    returned: list[Any] = []

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        write = start_response("200 OK", list(headers))
        returned.append(write)
        write(b"legacy ")
        write(b"write")
        return []

    server, _, _ = run(app, cookie_policy=policy)
    assert returned[0] == server.write
    assert server.written == [b"legacy ", b"write"]


# -- headers: only Set-Cookie attributes named by a fix change (C4, C7) ------------

OTHER_HEADERS: Headers = [
    ("Content-Type", "text/html; charset=utf-8"),
    ("X-Weird", "  spaced ;  Secure ; Domain=other.test  "),
    ("Cache-Control", "no-store"),
    ("set-cookie2", "legacy=1; Domain=other.test"),
    ("X-Set-Cookie", "not=a; cookie"),
    ("Link", "</style.css>; rel=preload"),
]


@pytest.mark.parametrize("policy", ["fix", "report", "off"])
def test_headers_other_than_set_cookie_are_untouched(policy: str) -> None:
    # C4 "keeps every other byte": the other headers keep their place, names
    # and values; Set-Cookie keeps its position and its name's spelling.
    headers: Headers = [
        OTHER_HEADERS[0],
        ("SET-COOKIE", "sid=1; Domain=other.test; Path=/"),
        *OTHER_HEADERS[1:4],
        ("set-cookie", "pref=dark; SameSite=None"),
        *OTHER_HEADERS[4:],
    ]
    server, _, _ = run(header_app(headers), make_environ(**HTTPS), cookie_policy=policy)
    sent = server.headers
    assert len(sent) == len(headers)
    assert [n for n, _ in sent] == [n for n, _ in headers]
    for (name, value), (sent_name, sent_value) in zip(headers, sent, strict=True):
        if name.lower() != "set-cookie":
            assert (sent_name, sent_value) == (name, value)
    if policy == "fix":
        assert set_cookie_values(sent) == [
            "sid=1; Path=/; Secure",
            "pref=dark; SameSite=None; Secure",
        ]
    else:
        assert sent == headers


NO_SET_COOKIE = [
    pytest.param([], id="no-headers"),
    pytest.param([("Content-Type", "text/plain")], id="content-type"),
    pytest.param(OTHER_HEADERS, id="look-alikes"),  # Set-Cookie2, X-Set-Cookie
]


@pytest.mark.parametrize("headers", NO_SET_COOKIE)
def test_a_response_without_set_cookie_is_not_parsed(
    headers: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    # C4 wraps start_response only; the module docstring promises "a response
    # without Set-Cookie costs one scan of its header names": no parser, no
    # effective request, no rules.
    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("parsed a response without Set-Cookie")

    monkeypatch.setattr(wsgifix.cookies, "audit", forbidden)
    monkeypatch.setattr(wsgifix.cookies, "effective_request", forbidden)
    monkeypatch.setattr(SetCookie, "parse", forbidden)
    sent: list[Headers] = []

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        sent.append(list(headers))
        start_response("200 OK", sent[0])
        return []

    server, environ, _ = run(app, make_environ(HTTP_COOKIE="sid=1", **HTTPS))
    assert server.headers is sent[0]
    assert "wsgifix.findings" not in environ


# R: each of these would be fixed under cookie_policy=fix.
FIXABLE = [
    pytest.param("sid=1; Path=/", HTTPS, id="https-without-secure"),
    pytest.param("sid=1; Path=/; SameSite=None", HTTPS, id="samesite-none-insecure"),
    pytest.param("sid=1; Domain=example.com; Path=/", {}, id="domain-mismatch"),
    pytest.param("__Host-x=1; Secure", HTTPS, id="host-prefix"),
    pytest.param("sid=1; Path=/a; Path=/; SameSite=Lax", {}, id="duplicate-attr"),
]


@pytest.mark.parametrize(("value", "env"), FIXABLE)
@pytest.mark.parametrize("policy", ["off", "report"])
def test_off_and_report_change_nothing(
    value: str,
    env: dict[str, str],
    policy: str,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # C2 cookie_policy: "off: nothing / report: findings only"; C7
    # "cookie_policy=report changes nothing".
    if policy == "off":

        def forbidden(*args: Any) -> Any:
            raise AssertionError("audited under cookie_policy=off")

        monkeypatch.setattr(wsgifix.cookies, "audit", forbidden)
    headers = [("Content-Type", "text/plain"), ("Set-Cookie", value)]
    with caplog.at_level(logging.INFO, logger=LOGGER):
        server, environ, _ = run(
            header_app(headers), make_environ(**env), cookie_policy=policy
        )
    assert server.headers == headers
    if policy == "off":
        assert "wsgifix.findings" not in environ
        assert cookie_records(caplog) == []
    else:
        assert findings(environ)
        assert all(f.fixed is False for f in findings(environ))
        assert cookie_records(caplog)


# (Set-Cookie, environ, settings, header sent, rule whose fix was applied)
# C7 "Fix bytes": an added attribute is appended as "; Name=Value" or
# "; Flag"; a removed one takes its ";" and whitespace; a replaced value
# keeps the attribute name as the app spelled it; nothing else changes.
FIXES = [
    pytest.param(
        "sid=1; Path=/",
        HTTPS,
        {},
        "sid=1; Path=/; Secure",
        "https-without-secure",
        id="https-adds-secure",
    ),
    pytest.param(
        "sid=1; Priority=High; Path=/; Partitioned; SameSite=None",
        HTTPS,
        {},
        "sid=1; Priority=High; Path=/; Partitioned; SameSite=None; Secure",
        "samesite-none-insecure",
        id="unknown-attributes-kept",
    ),
    pytest.param(
        "sid=1; Domain=example.com; Path=/",
        {},
        {},
        "sid=1; Path=/",
        "domain-mismatch",
        id="domain-mismatch-removes-domain",
    ),
    pytest.param(
        "sid=1;Domain=lab.test:8080 ;Path=/",
        {},
        {},
        "sid=1;Domain=lab.test ;Path=/",
        "domain-invalid",
        id="domain-port-stripped-in-place",
    ),
    pytest.param(
        "sid=1; domain=.other.test; Path=/; SameSite=Lax",
        {},
        {"cookie_domain": "lab.test"},
        "sid=1; domain=lab.test; Path=/; SameSite=Lax",
        None,
        id="cookie-domain-rewrites-keeping-spelling",
    ),
    pytest.param(
        "sid=1; Path=/; SameSite=Lax",
        {},
        {"cookie_httponly": "sid other"},
        "sid=1; Path=/; SameSite=Lax; HttpOnly",
        "httponly-missing",
        id="httponly-added",
    ),
    pytest.param(
        "sid=1; Path=/",
        {},
        {"cookie_samesite": "lax"},
        "sid=1; Path=/; SameSite=Lax",
        "samesite-missing",
        id="samesite-added",
    ),
    pytest.param(
        "__Host-x=1; Secure",
        HTTPS,
        {},
        "__Host-x=1; Secure; Path=/",
        "host-prefix",
        id="host-prefix-gets-path",
    ),
    pytest.param(
        "sid=1; Path=/a; path=/; SameSite=Lax",
        {},
        {},
        "sid=1; path=/; SameSite=Lax",
        "duplicate-attr",
        id="duplicate-removes-earlier",
    ),
    pytest.param(
        "sid=1; SameSite=Lax",
        {"PATH_INFO": "/a/b"},
        {},
        "sid=1; SameSite=Lax; Path=/",
        "missing-path",
        id="missing-path-added",
    ),
    pytest.param(
        "sid=1; Path=/other; SameSite=Lax",
        {"SCRIPT_NAME": "/shop"},
        {"cookie_path": "scope"},
        "sid=1; Path=/shop; SameSite=Lax",
        "path-outside-mount",
        id="scope-rewrites-path",
    ),
    # Gates (C7): keep blocks the edit; the finding stays, unfixed.
    pytest.param(
        "sid=1; Path=/; SameSite=None",
        HTTPS,
        {"cookie_secure": "keep"},
        "sid=1; Path=/; SameSite=None",
        None,
        id="secure-keep-blocks",
    ),
    pytest.param(
        "sid=1; Domain=example.com; Path=/",
        {},
        {"cookie_domain": "keep"},
        "sid=1; Domain=example.com; Path=/",
        None,
        id="domain-keep-blocks",
    ),
    # R domain-mismatch: "unless the cookie is a deletion".
    pytest.param(
        "sid=; Max-Age=0; Domain=example.com; Path=/",
        {},
        {},
        "sid=; Max-Age=0; Domain=example.com; Path=/",
        None,
        id="deletion-keeps-domain",
    ),
    # R samesite-none-insecure: only "on trustworthy E: add Secure".
    pytest.param(
        "sid=1; Path=/; SameSite=None",
        {},
        {},
        "sid=1; Path=/; SameSite=None",
        None,
        id="http-no-secure-added",
    ),
    # Odd but valid spacing: the name=value bytes and the rest stay.
    pytest.param(
        "  sid = a b ;secure;SameSite=Lax",
        HTTPS,
        {},
        "  sid = a b ;secure;SameSite=Lax",
        None,
        id="odd-spacing-no-problem",
    ),
]


@pytest.mark.parametrize(("value", "env", "cfg", "expected", "fixed_rule"), FIXES)
def test_fixes_change_only_the_named_attribute(
    value: str,
    env: dict[str, str],
    cfg: dict[str, str],
    expected: str,
    fixed_rule: str | None,
) -> None:
    headers = [("Content-Type", "text/plain"), ("Set-Cookie", value)]
    server, environ, _ = run(header_app(headers), make_environ(**env), **cfg)
    assert server.headers == [("Content-Type", "text/plain"), ("Set-Cookie", expected)]
    fixed = [f.rule for f in findings(environ) if f.fixed]
    assert fixed == ([] if fixed_rule is None else [fixed_rule])


# -- findings: the environ list and the Finding type (C4, C7) -----------------------


def test_findings_are_finding_tuples_in_the_environ() -> None:
    assert wsgifix.Finding._fields == ("rule", "severity", "cookie", "message", "fixed")
    headers = [
        ("Set-Cookie", "sid=1; Secure; Path=/; SameSite=Lax"),
        ("Set-Cookie", "justvalue; Path=/; SameSite=Lax"),
    ]
    environ = make_environ(HTTP_X_FORWARDED_PROTO="https", REMOTE_ADDR="10.0.0.5")
    _, environ, _ = run(header_app(headers), environ)
    listed = environ["wsgifix.findings"]
    assert type(listed) is list
    assert all(type(f) is wsgifix.Finding for f in listed)
    by_rule = {f.rule: f for f in listed}
    assert set(by_rule) == {"untrusted-tls-proxy", "secure-over-http", "nameless"}
    assert by_rule["untrusted-tls-proxy"].cookie is None  # about the request
    assert by_rule["nameless"].cookie == ""
    assert by_rule["secure-over-http"] == (
        "secure-over-http",
        "error",
        "sid",
        by_rule["secure-over-http"].message,
        False,
    )
    for f in listed:
        assert f.severity in ("error", "warning", "info")
        assert type(f.fixed) is bool
        assert isinstance(f.message, str)


def test_findings_are_appended_to_an_existing_list() -> None:
    # C4: findings go "to environ['wsgifix.findings'] (a list)"; a list an
    # outer layer (or the Flask extension) already put there is extended.
    earlier = wsgifix.Finding("session-after-stream", "warning", "s", "m", False)
    environ = make_environ(**{"wsgifix.findings": [earlier]})
    _, environ, _ = run(header_app([("Set-Cookie", "sid=1; Path=/")]), environ)
    assert environ["wsgifix.findings"][0] is earlier
    assert rules_of(environ) == ["session-after-stream", "samesite-missing"]


def test_an_audited_response_without_findings_lists_none() -> None:
    # C4: findings go to environ["wsgifix.findings"] (a list): a response
    # with Set-Cookie and nothing to report leaves an empty one, so that
    # code reading it finds the key (the code's choice; a response without
    # Set-Cookie is not audited and leaves none).
    headers = [("Set-Cookie", "sid=1; Path=/; SameSite=Lax; HttpOnly")]
    _, environ, _ = run(header_app(headers))
    assert environ["wsgifix.findings"] == []
    _, environ, _ = run(header_app([("Content-Type", "text/plain")]))
    assert "wsgifix.findings" not in environ


# -- logging: once per (rule, cookie) per minute per wrapped app (C4) ---------------


def test_one_record_per_rule_and_cookie_per_minute(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    headers = [("Set-Cookie", "sid=1; Path=/; SameSite=None")]  # samesite-none-insecure
    layer = CookieMiddleware(header_app(headers))
    caplog.set_level(logging.INFO, logger=LOGGER)

    def request() -> dict[str, Any]:
        environ = make_environ()
        layer(environ, Server().start_response)
        return environ

    for _ in range(3):
        environ = request()
        assert rules_of(environ) == ["samesite-none-insecure"]  # listed every time
    assert len(cookie_records(caplog)) == 1
    clock.now += 59.9
    request()
    assert len(cookie_records(caplog)) == 1
    clock.now += 0.2  # 60.1 s after the first record
    request()
    assert len(cookie_records(caplog)) == 2
    assert all("samesite-none-insecure" in r.getMessage() for r in caplog.records)


def test_rules_and_cookie_names_are_logged_separately(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    headers = [
        ("Set-Cookie", "a=1; Path=/"),  # https-without-secure + samesite-missing
        ("Set-Cookie", "b=1; Path=/"),
    ]
    layer = CookieMiddleware(header_app(headers))
    caplog.set_level(logging.INFO, logger=LOGGER)
    for _ in range(2):
        layer(make_environ(**HTTPS), Server().start_response)
    keys = sorted(
        (r.getMessage().split("'")[1], r.getMessage().rsplit("(", 1)[1].split(")")[0])
        for r in cookie_records(caplog)
    )
    assert keys == [
        ("a", "https-without-secure"),
        ("a", "samesite-missing"),
        ("b", "https-without-secure"),
        ("b", "samesite-missing"),
    ]


def test_two_wrapped_apps_log_separately(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    # C7 "State (race table, log de-duplication, caches) belongs to one
    # wrapped app".
    headers = [("Set-Cookie", "sid=1; Path=/; SameSite=None")]
    first = CookieMiddleware(header_app(headers))
    second = wsgifix.wrap(header_app(headers))
    caplog.set_level(logging.INFO, logger=LOGGER)
    for layer in (first, second, first, second):
        layer(make_environ(), Server().start_response)
    assert len(cookie_records(caplog)) == 2


# (Set-Cookie, environ, rule, severity, logging level) -- C4: "error and
# warning at WARNING, info at INFO".
LEVELS = [
    pytest.param(
        "sid=1; Path=/; SameSite=None",
        {},
        "samesite-none-insecure",
        "error",
        logging.WARNING,
        id="error",
    ),
    pytest.param(
        "sid=1; Path=/; SameSite=Lax",
        HTTPS,
        "https-without-secure",
        "warning",
        logging.WARNING,
        id="warning",
    ),
    pytest.param(
        "sid=1; Path=/", {}, "samesite-missing", "info", logging.INFO, id="info"
    ),
    pytest.param(
        "sid=1; Secure; Path=/; SameSite=Lax",
        {"HTTP_HOST": "localhost", "SERVER_NAME": "localhost"},
        "secure-over-http",
        "info",
        logging.INFO,
        id="info-secure-on-localhost",
    ),
]


@pytest.mark.parametrize(("value", "env", "rule", "severity", "level"), LEVELS)
def test_log_levels_follow_severity(
    value: str,
    env: dict[str, str],
    rule: str,
    severity: str,
    level: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    _, environ, _ = run(header_app([("Set-Cookie", value)]), make_environ(**env))
    (finding,) = [f for f in findings(environ) if f.rule == rule]
    assert finding.severity == severity
    (record,) = [r for r in cookie_records(caplog) if f"({rule})" in r.getMessage()]
    assert record.levelno == level
    assert finding.message in record.getMessage()


# (how the layer is built, environ, Set-Cookie, rule, words the message must
# contain: the cookie, the effective request scheme://host/SCRIPT_NAME, the
# browser's reason, the remedy). C4/C7: "message names the cookie, contains
# the Chromium reason token verbatim ..., and says what to change".
MESSAGES = [
    pytest.param(
        {},
        {"HTTP_HOST": "lab.test:8080", "SCRIPT_NAME": "/shop"},
        "sid=1; Secure; Path=/shop; SameSite=Lax",
        "secure-over-http",
        ["'sid'", "http://lab.test:8080/shop", "SecureOnly", "X-Forwarded-Proto"],
        id="secure-over-http-plain",
    ),
    pytest.param(
        # Behind an untrusted TLS proxy: the exact setting to use.
        {"wrap": True},
        {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_PROTO": "https"},
        "sid=1; Secure; Path=/; SameSite=Lax",
        "secure-over-http",
        ["'sid'", "http://lab.test", "SecureOnly", "trusted_proxies=10.0.0.5"],
        id="secure-over-http-untrusted-proxy",
    ),
    pytest.param(
        {"wrap": True},
        {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_PROTO": "https"},
        "sid=1; Secure; Path=/; SameSite=Lax",
        "untrusted-tls-proxy",
        ["http://lab.test", "trusted_proxies=10.0.0.5", "x-forwarded-proto"],
        id="untrusted-tls-proxy",
    ),
    pytest.param(
        # Trusted peer, but the proto header is not among trusted_headers.
        {
            "wrap": True,
            "trusted_proxies": "10.0.0.5",
            "trusted_headers": "x-forwarded-for",
        },
        {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_PROTO": "https"},
        "sid=1; Secure; Path=/; SameSite=Lax",
        "secure-over-http",
        ["'sid'", "SecureOnly", "add x-forwarded-proto to trusted_headers"],
        id="secure-over-http-header-not-trusted",
    ),
    pytest.param(
        {
            "wrap": True,
            "trusted_proxies": "10.0.0.5",
            "trusted_headers": "x-forwarded-proto x-forwarded-host x-forwarded-prefix",
        },
        {
            "REMOTE_ADDR": "10.0.0.5",
            "HTTP_X_FORWARDED_PROTO": "https",
            "HTTP_X_FORWARDED_HOST": "Shop.Example.com",
            "HTTP_X_FORWARDED_PREFIX": "/shop",
        },
        "sid=1; Domain=other.example; Path=/shop; Secure; SameSite=Lax",
        "domain-mismatch",
        [
            "'sid'",
            "https://shop.example.com/shop",
            "InvalidDomain",
            "SESSION_COOKIE_DOMAIN",
        ],
        id="domain-mismatch-effective-request",
    ),
    pytest.param(
        {},
        {},
        "sid=" + "x" * 5000 + "; Path=/; SameSite=Lax",
        "too-large",
        ["'sid'", "http://lab.test", "NameValuePairExceedsMaxSize", "server-side"],
        id="too-large",
    ),
    pytest.param(
        {},
        {},
        "sid=1; Path=/; SameSite=None",
        "samesite-none-insecure",
        ["'sid'", "http://lab.test", "SameSiteNoneInsecure", "Set Secure"],
        id="samesite-none-insecure",
    ),
]


@pytest.mark.parametrize(("build", "env", "value", "rule", "words"), MESSAGES)
def test_messages_name_cookie_request_reason_and_remedy(
    build: dict[str, Any],
    env: dict[str, str],
    value: str,
    rule: str,
    words: list[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    cfg = dict(build)
    app = header_app([("Set-Cookie", value)])
    layer = (
        wsgifix.wrap(app, **cfg) if cfg.pop("wrap", False) else CookieMiddleware(app)
    )
    caplog.set_level(logging.INFO, logger=LOGGER)
    environ = make_environ(**env)
    layer(environ, Server().start_response)
    (finding,) = [f for f in findings(environ) if f.rule == rule]
    for word in words:
        assert word in finding.message
    (record,) = [r for r in cookie_records(caplog) if f"({rule})" in r.getMessage()]
    for word in words:
        assert word in record.getMessage()


# (settings the app runs with, raw forwarding header) -> the hint's advice,
# applied as written, makes the request https and the Secure cookie work.
# R untrusted-tls-proxy "exact config hint"; C7: `forwarded` together with
# x-forwarded-for/proto/host/port is a configuration error, so the advice for
# Forwarded must not suggest that combination.
ADVICE = [
    pytest.param({}, ("HTTP_X_FORWARDED_PROTO", "https"), id="xfp-untrusted"),
    pytest.param(
        {}, ("HTTP_FORWARDED", "for=203.0.113.9;proto=https"), id="forwarded-untrusted"
    ),
    pytest.param(
        {"trusted_proxies": "10.0.0.9"},
        ("HTTP_X_FORWARDED_PROTO", "https"),
        id="xfp-other-proxy-trusted",
    ),
    pytest.param(
        {"trusted_proxies": "10.0.0.5", "trusted_headers": "x-forwarded-for"},
        ("HTTP_FORWARDED", "for=203.0.113.9;proto=https"),
        id="forwarded-trusted-peer-wrong-headers",
    ),
]


def _advised(message: str, cfg: dict[str, str]) -> dict[str, str]:
    """The settings a user ends up with after following the hint."""
    import re

    advised = dict(cfg)
    for name in ("trusted_proxies", "trusted_headers"):
        match = re.search(rf"\b{name}=([^\s,()]+)", message)
        if match:
            advised[name] = match.group(1).rstrip(".")
    match = re.search(r"add (\S+) to trusted_headers", message)
    if match:
        advised["trusted_headers"] += " " + match.group(1)
    return advised


@pytest.mark.parametrize(("cfg", "header"), ADVICE)
def test_following_the_tls_proxy_advice_fixes_the_secure_cookie(
    cfg: dict[str, str], header: tuple[str, str]
) -> None:
    app = header_app([("Set-Cookie", "sid=1; Secure; Path=/; SameSite=Lax")])
    env = {"REMOTE_ADDR": "10.0.0.5", header[0]: header[1]}
    environ = make_environ(**env)
    wsgifix.wrap(app, **cfg)(environ, Server().start_response)
    (finding,) = [f for f in findings(environ) if f.rule == "secure-over-http"]
    assert finding.severity == "error"
    if header[0] == "HTTP_FORWARDED":  # never advise a combination wrap() rejects
        assert "x-forwarded-for" not in finding.message
    advised = _advised(finding.message, cfg)
    assert advised != cfg
    environ = make_environ(**env)
    wsgifix.wrap(app, **advised)(environ, Server().start_response)  # no ValueError
    assert environ["wsgi.url_scheme"] == "https"
    assert findings(environ) == []


# -- a failing audit never costs the response (module docstring, C3 "a crash is
# a bug") -------------------------------------------------------------------------


class Explosive:
    """A wsgi.url_scheme (read by the audit alone when the cookie layer runs
    without the others) that fails when the audit compares it: a bug's
    stand-in that reaches a compiled build too (which reads the environ as
    the plain dict PEP 3333 says it is)."""

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("bug in the audit")

    __hash__ = object.__hash__


@pytest.mark.parametrize(
    "target",
    [
        pytest.param("audit", marks=pytest.mark.python_seams),
        pytest.param("effective_request", marks=pytest.mark.python_seams),
        "environ",  # the same seam in a compiled build
    ],
)
def test_an_exception_in_the_audit_sends_the_headers_unchanged(
    target: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: Any) -> Any:
        raise RuntimeError("bug in the audit")

    if target != "environ":
        monkeypatch.setattr(wsgifix.cookies, target, broken)
    headers = [
        ("Content-Type", "text/plain"),
        ("Set-Cookie", "sid=1; Domain=other.test"),  # would be fixed
    ]
    layer = CookieMiddleware(header_app(headers, [b"body"]))
    caplog.set_level(logging.INFO, logger=LOGGER)
    for _ in range(3):
        server = Server()
        environ = make_environ()
        if target == "environ":
            environ["wsgi.url_scheme"] = Explosive()
        result = layer(environ, server.start_response)
        assert b"".join(result) == b"body"
        assert server.status == "200 OK"
        assert server.headers == headers
    (record,) = cookie_records(caplog)  # logged once, with the traceback
    assert record.levelno >= logging.WARNING
    assert "headers sent unchanged" in record.getMessage()
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], RuntimeError)


# -- wsgiref.validate on both sides (PEP 3333) ----------------------------------------


def _validated_apps() -> list[Any]:
    def plain(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"plain"]

    def cookies(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response(
            "200 OK",
            [
                ("Content-Type", "text/plain"),
                ("Set-Cookie", "sid=1; Domain=other.test; Path=/"),
                ("Set-Cookie", "pref=dark; SameSite=None"),
            ],
        )
        return [b"cookies"]

    def writer(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        write = start_response(
            "200 OK", [("Content-Type", "text/plain"), ("Set-Cookie", "a=1; Path=/")]
        )
        write(b"written")
        return []

    def failing(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        try:
            raise ValueError("x")
        except ValueError:
            start_response(
                "500 Internal Server Error",
                [("Content-Type", "text/plain"), ("Set-Cookie", "a=; Max-Age=0")],
                sys.exc_info(),
            )
        return [b"failed"]

    return [
        pytest.param(plain, b"plain", id="no-cookie"),
        pytest.param(cookies, b"cookies", id="fixed-cookies"),
        pytest.param(writer, b"written", id="write-callable"),
        pytest.param(failing, b"failed", id="exc-info"),
    ]


@pytest.mark.parametrize(("app", "body"), _validated_apps())
@pytest.mark.parametrize("policy", ["fix", "report", "off"])
def test_wsgiref_validator_on_both_sides(app: Any, body: bytes, policy: str) -> None:
    stack = validator(CookieMiddleware(validator(app), cookie_policy=policy))
    server = Server()
    result = stack(make_environ(**HTTPS), server.start_response)
    try:
        received = b"".join(server.written) + b"".join(result)
    finally:
        result.close()  # type: ignore[attr-defined]
    assert received == body


# -- race detection through the middleware (C4 detect_races) ------------------------


def race_app(values: dict[str, str], barrier: threading.Barrier | None) -> Any:
    """Sets ``values[request id]``; with a barrier, every request has started
    before any response sets its cookie (they overlap for sure)."""

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if barrier is not None:
            barrier.wait(timeout=10)
        value = values[environ["QUERY_STRING"]]
        start_response(
            "200 OK",
            [("Content-Type", "text/plain"), ("Set-Cookie", value)],
        )
        return [b""]

    return app


def run_parallel(
    layer: Any, requests: list[tuple[str | None, str]], barrier: threading.Barrier
) -> list[dict[str, Any]]:
    environs = []
    for i, (cookie, _) in enumerate(requests):
        extra = {} if cookie is None else {"HTTP_COOKIE": cookie}
        environs.append(make_environ(QUERY_STRING=str(i), **extra))
    errors: list[BaseException] = []

    def one(environ: dict[str, Any]) -> None:
        try:
            layer(environ, Server().start_response)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(e,)) for e in environs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert not errors
    assert barrier.n_waiting == 0
    assert not barrier.broken
    return environs


def count_races(environs: list[dict[str, Any]]) -> int:
    return sum(rules_of(e).count("concurrent-overwrite") for e in environs)


# (requests: (Cookie header, Set-Cookie), expected concurrent-overwrite count)
RACES = [
    pytest.param(
        [("cart=v0", "cart=a"), ("cart=v0", "cart=b"), ("cart=v0", "cart=c")],
        2,
        id="three-from-one-value",  # every write after the first loses one
    ),
    pytest.param(
        [("cart=v0", "cart=same"), ("cart=v0", "cart=same"), ("cart=v0", "cart=same")],
        0,
        id="same-new-value",  # C4: "to a different value"
    ),
    pytest.param(
        [(None, "cart=a"), (None, "cart=b"), (None, "cart=c")],
        0,
        id="no-cookie-carried",  # C4: "Only requests that carried N"
    ),
    pytest.param(
        [("cart=v0", "cart=a"), (None, "cart=b"), ("other=v0", "cart=c")],
        0,
        id="only-one-carried-it",
    ),
    pytest.param(
        [("cart=v0", "cart=a"), (None, "cart=b"), ("cart=v0", "cart=c")],
        1,
        id="two-of-three-carried-it",
    ),
    pytest.param(
        [("cart=v0", "cart=a"), ("cart=v1", "cart=b"), ("cart=v2", "cart=c")],
        0,
        id="different-incoming-values",
    ),
    pytest.param(
        [
            ("cart=v0", "cart=a"),
            ("cart=v0", "cart=b"),
            ("cart=v1", "cart=c"),
            ("cart=v1", "cart=d"),
        ],
        2,
        id="two-pairs",
    ),
    pytest.param(
        [("cart=v0", "other=a"), ("cart=v0", "other=b")],
        0,
        id="sets-a-cookie-it-did-not-carry",
    ),
    pytest.param(
        [
            ("x=1; cart=v0", "cart=a; Path=/; SameSite=Lax"),
            ("cart=v0;x=2", "cart=b; Path=/; HttpOnly"),
        ],
        1,
        id="attributes-and-other-cookies-ignored",
    ),
    pytest.param(
        [("x=1; =v0", "=a"), ("=v0; x=2", "=b")],
        1,
        id="nameless-cookie",  # a name "" is a name as the Cookie parse sees it
    ),
    pytest.param(
        [("cart=v0", "cart=a; Path=/"), ("cart=v0", "cart= a ; Path=/")],
        0,
        id="same-value-but-spaces",  # browsers strip them: the same value
    ),
]


@pytest.mark.parametrize(("requests", "expected"), RACES)
def test_parallel_requests_overwriting_a_cookie(
    requests: list[tuple[str | None, str]], expected: int
) -> None:
    barrier = threading.Barrier(len(requests))
    values = {str(i): value for i, (_, value) in enumerate(requests)}
    layer = CookieMiddleware(race_app(values, barrier))
    environs = run_parallel(layer, requests, barrier)
    assert count_races(environs) == expected
    for environ in environs:
        for f in findings(environ):
            if f.rule == "concurrent-overwrite":
                name = requests[0][1].split("=", 1)[0]
                assert f == (
                    "concurrent-overwrite",
                    "warning",
                    name,
                    f.message,
                    False,
                )
                assert repr(name) in f.message
                assert "http://lab.test" in f.message


def test_parallel_race_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    requests: list[tuple[str | None, str]] = [
        ("cart=v0", f"cart={i}; Path=/; SameSite=Lax") for i in range(4)
    ]
    barrier = threading.Barrier(4)
    values = {str(i): value for i, (_, value) in enumerate(requests)}
    caplog.set_level(logging.WARNING, logger=LOGGER)
    environs = run_parallel(
        CookieMiddleware(race_app(values, barrier)), requests, barrier
    )
    assert count_races(environs) == 3
    logged = [
        r for r in cookie_records(caplog) if "concurrent-overwrite" in r.getMessage()
    ]
    assert len(logged) == 1
    assert logged[0].levelno == logging.WARNING


def test_two_wrapped_apps_keep_separate_race_tables() -> None:
    # C7: "State (race table, ...) belongs to one wrapped app".
    requests: list[tuple[str | None, str]] = [
        ("cart=v0", "cart=a"),
        ("cart=v0", "cart=b"),
    ]
    barrier = threading.Barrier(2)
    values = {str(i): value for i, (_, value) in enumerate(requests)}
    first = CookieMiddleware(race_app(values, barrier))
    second = CookieMiddleware(race_app(values, barrier))

    def either(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        layer = first if environ["QUERY_STRING"] == "0" else second
        return layer(environ, start_response)

    assert count_races(run_parallel(either, requests, barrier)) == 0


def test_races_off_reports_nothing() -> None:
    requests: list[tuple[str | None, str]] = [
        ("cart=v0", "cart=a"),
        ("cart=v0", "cart=b"),
    ]
    barrier = threading.Barrier(2)
    values = {str(i): value for i, (_, value) in enumerate(requests)}
    layer = CookieMiddleware(race_app(values, barrier), detect_races=False)
    assert layer.races is None
    assert count_races(run_parallel(layer, requests, barrier)) == 0


def slow_app(values: dict[str, str]) -> Any:
    """race_app as a generator: start_response comes with the first item,
    so a request stays in flight until its body is iterated."""

    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        value = values[environ["QUERY_STRING"]]
        start_response("200 OK", [("Set-Cookie", value)])
        yield b""

    return app


def hold_a_request(races: RaceDetector) -> Iterator[bytes]:
    """Start a request on a layer sharing ``races`` and leave it in flight
    (its body not iterated); its body, to finish it."""
    other = CookieMiddleware(slow_app({"": "other=1"}))
    other.races = races
    body = other(make_environ(HTTP_COOKIE="other=0"), Server().start_response)
    assert isinstance(body, Iterator)
    return body


def test_a_request_in_flight_is_told_of_a_write_made_meanwhile() -> None:
    # C4, without threads: the slow request starts, the fast one comes and
    # goes, then the slow one answers from the stale value.
    values = {"slow": "cart=a", "fast": "cart=b"}
    layer = CookieMiddleware(slow_app(values))
    slow = make_environ(QUERY_STRING="slow", HTTP_COOKIE="cart=v0")
    fast = make_environ(QUERY_STRING="fast", HTTP_COOKIE="cart=v0")
    body = layer(slow, Server().start_response)
    list(layer(fast, Server().start_response))
    list(body)
    assert count_races([fast]) == 0
    assert count_races([slow]) == 1
    assert layer.races is not None
    assert layer.races.in_flight == 0


def test_requests_one_after_another_leave_the_race_table_alone() -> None:
    # Nothing in flight beside them: no write of theirs can be lost to
    # another request, so none is kept (wsgifix.races, "Most responses").
    values = {str(i): f"cart=v{i + 1}" for i in range(5)}
    layer = CookieMiddleware(slow_app(values))
    for i in range(5):
        environ = make_environ(QUERY_STRING=str(i), HTTP_COOKIE="cart=v0")
        list(layer(environ, Server().start_response))
    assert layer.races is not None
    assert len(layer.races) == 0
    assert layer.races.writes == 0
    body = hold_a_request(layer.races)
    environ = make_environ(QUERY_STRING="0", HTTP_COOKIE="cart=v0")
    list(layer(environ, Server().start_response))
    assert len(layer.races) == 1  # kept: the held request may need it
    list(body)
    assert layer.races.in_flight == 0


class Boom(Exception):
    pass


def replaced_app(first: str, then: Headers) -> Any:
    """Sets cookie ``first``, then replaces its headers with ``then`` through
    exc_info (an error page before any body): ``first`` is never sent."""

    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [("Set-Cookie", first)])
        try:
            raise Boom
        except Boom:
            start_response("500 Error", then, sys.exc_info())
        yield b"error"

    return app


def test_an_app_failing_after_start_response_takes_its_writes_back() -> None:
    # The server answers a failed app with its own error page: the cookie
    # never reached the browser, so nobody overwrites it (audit finding).
    def fails(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [("Set-Cookie", "cart=x")])
        raise Boom

    failing = CookieMiddleware(fails)
    assert failing.races is not None
    other = CookieMiddleware(slow_app({"": "cart=z"}))
    other.races = failing.races
    second = make_environ(HTTP_COOKIE="cart=v0")
    body = other(second, Server().start_response)  # in flight throughout
    with pytest.raises(Boom):
        failing(make_environ(HTTP_COOKIE="cart=v0"), Server().start_response)
    list(body)
    assert count_races([second]) == 0
    assert failing.races.in_flight == 0


def late_error_app(first: Headers, then: Headers) -> Any:
    """Starts a response with ``first``, then calls start_response with
    exc_info and ``then`` (an error page; the test's Server refuses it once
    a response was started, as a server does after sending the headers)."""

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", first)
        try:
            raise Boom
        except Boom:
            start_response("500 Error", then, sys.exc_info())
        return [b"never"]

    return app


@pytest.mark.parametrize(
    ("first", "listed", "entries"),
    [
        # Its findings and race table write stand (C4: "exc_info passes
        # through"; audit finding): a=1's write is taken back and put back.
        pytest.param([("Set-Cookie", "a=1")], {"a"}, 1, id="first sets a cookie"),
        # The error page's cookie lists and writes nothing (review finding:
        # its findings and race write had stayed).
        pytest.param([("Content-Type", "text/plain")], set(), 0, id="first sets none"),
    ],
)
def test_exc_info_after_the_headers_went_out_keeps_the_first_response(
    first: Headers, listed: set[str], entries: int
) -> None:
    # PEP 3333: start_response with exc_info after the headers were sent
    # raises; the first response stands, and the refused call leaves nothing.
    layer = CookieMiddleware(late_error_app(first, [("Set-Cookie", "a=2")]))
    assert layer.races is not None
    held = hold_a_request(layer.races)  # every write goes to the table
    environ = make_environ(HTTP_COOKIE="a=0")
    server = Server()  # raises on exc_info once a response was started
    with pytest.raises(Boom):
        layer(environ, server.start_response)
    assert server.calls == [("200 OK", first, "absent")]
    assert {f.cookie for f in findings(environ)} == listed
    assert len(layer.races) == entries
    list(held)
    assert layer.races.in_flight == 0


@pytest.mark.parametrize(
    ("then", "lost"),
    [
        pytest.param([("Content-Type", "text/plain")], 0, id="error page sets none"),
        # cart=y is sent: the other request's cart=z overwrites it.
        pytest.param([("Set-Cookie", "cart=y")], 1, id="error page sets another"),
    ],
)
def test_headers_replaced_through_exc_info_write_nothing(
    then: Headers, lost: int
) -> None:
    # C4 compares with what "another response already set": a write in
    # headers replaced through exc_info never reached the browser. Another
    # request is in flight throughout, so every write goes to the table.
    replaced = CookieMiddleware(replaced_app("cart=x", then))
    assert replaced.races is not None
    held = hold_a_request(replaced.races)
    other = CookieMiddleware(slow_app({"": "cart=z"}))
    other.races = replaced.races
    first = make_environ(HTTP_COOKIE="cart=v0")
    second = make_environ(HTTP_COOKIE="cart=v0")
    body = other(second, Server().start_response)  # started, not answered
    list(replaced(first, lambda *args: None))  # headers not sent yet
    list(body)
    assert count_races([first]) == 0  # not against itself
    assert count_races([second]) == lost  # not against a write never sent
    list(held)


def test_every_request_leaves_the_in_flight_count_once() -> None:
    # The count must not drift: a request that lands twice would hide
    # another one in flight (a missed race), one never landing only costs
    # time. Each app below ends its request in another way.
    def raises_first(environ: dict[str, Any], start_response: Any) -> Any:
        raise Boom

    def raises_after(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [("Set-Cookie", "cart=x")])
        raise Boom

    def error_page(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [("Set-Cookie", "cart=x")])
        try:
            raise Boom
        except Boom:
            start_response("500 Error", [("Set-Cookie", "cart=y")], sys.exc_info())
        return [b"error"]

    def plain(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    def error_plain(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [])
        start_response("500 Error", [], (Boom, Boom(), None))
        return [b"error"]

    def bad_headers(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [None])  # the scan fails on it: still lands
        return [b"never"]

    def bad_headers_lazy(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [None])  # raised while the server iterates
        yield b"never"

    def bad_second_header_lazy(environ: dict[str, Any], start_response: Any) -> Any:
        # Readable up to the first Set-Cookie, not beyond (review finding).
        start_response("200 OK", [("Set-Cookie", "a=1"), ("Set-Cookie",)])
        yield b"never"

    races = RaceDetector()
    held = hold_a_request(races)
    assert races.in_flight == 1
    for app in (
        raises_first,
        raises_after,
        error_page,
        plain,
        error_plain,
        bad_headers,
        bad_headers_lazy,
        bad_second_header_lazy,
    ):
        layer = CookieMiddleware(app)
        layer.races = races
        with contextlib.suppress(Boom, TypeError, IndexError):
            list(layer(make_environ(HTTP_COOKIE="cart=v0"), Server().start_response))
        assert races.in_flight == 1, app.__name__
    list(held)
    assert races.in_flight == 0


def test_requests_that_never_answer_are_bounded() -> None:
    # A body never iterated (a client gone) leaves its request counted; past
    # MAX_FLYING the count is cut back but stays above any real one, so
    # responses keep going through the table.
    layer = CookieMiddleware(header_app([("Set-Cookie", "cart=new; Path=/")]))
    assert layer.races is not None
    for _ in range(MAX_FLYING):  # as many as MAX_FLYING: counted, not cut
        hold_a_request(layer.races)
    assert layer.races.in_flight == MAX_FLYING
    assert not layer.races.saturated
    for _ in range(2 * MAX_FLYING):  # responses without cookies: bounded too
        hold_a_request(layer.races)
        assert layer.races.in_flight <= MAX_FLYING
    assert layer.races.in_flight >= MAX_FLYING // 2
    assert layer.races.saturated  # from now on every response uses the table
    del layer.races.flying[:]  # even if the count fell below the real one
    layer(make_environ(HTTP_COOKIE="cart=v0"), Server().start_response)
    assert len(layer.races) == 1


SEQUENTIAL = [
    pytest.param(
        [("cart=v0", "cart=v1"), ("cart=v1", "cart=v2"), ("cart=v2", "cart=v3")],
        id="each-carries-the-previous-value",
    ),
    pytest.param(
        # A stale value again, but the other write finished before this request
        # started: C4 "since its request started".
        [("cart=v0", "cart=a"), ("cart=v0", "cart=b"), ("cart=v0", "cart=c")],
        id="stale-but-not-concurrent",
    ),
]


@pytest.mark.parametrize("requests", SEQUENTIAL)
def test_sequential_requests_are_not_races(
    requests: list[tuple[str | None, str]],
) -> None:
    values = {str(i): value for i, (_, value) in enumerate(requests)}
    layer = CookieMiddleware(race_app(values, None))
    environs = []
    for i, (cookie, _) in enumerate(requests):
        environ = make_environ(QUERY_STRING=str(i), HTTP_COOKIE=cookie)
        layer(environ, Server().start_response)
        environs.append(environ)
    assert count_races(environs) == 0


@pytest.mark.parametrize("requests", SEQUENTIAL)
def test_sequential_requests_are_not_races_at_one_clock_reading(
    requests: list[tuple[str | None, str]], clock: Clock
) -> None:
    # A clock that does not move between requests (a coarse one, or a fast
    # machine) must not make sequential requests look concurrent: the race
    # table tells "since its request started" by counting writes.
    test_sequential_requests_are_not_races(requests)


def test_one_response_setting_a_cookie_twice_is_not_a_race() -> None:
    # C4: the lost write is one "another response" set. A response that sets
    # the same name twice (here for two paths) races with nobody.
    headers = [
        ("Set-Cookie", "cart=a; Path=/; SameSite=Lax"),
        ("Set-Cookie", "cart=b; Path=/shop; SameSite=Lax"),
    ]
    _, environ, _ = run(header_app(headers), make_environ(HTTP_COOKIE="cart=v0"))
    assert "concurrent-overwrite" not in rules_of(environ)


def test_a_value_that_is_not_latin1_does_not_break_the_audit(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # R not-latin1 must be reported (and the other cookie fixed) also when the
    # request carried the cookie, i.e. when the race detector sees the value.
    headers = [
        ("Set-Cookie", "cart=\u20ac; Path=/; SameSite=Lax"),
        ("Set-Cookie", "sid=1; Path=/; SameSite=Lax"),
    ]
    caplog.set_level(logging.INFO, logger=LOGGER)
    server, environ, _ = run(
        header_app(headers), make_environ(HTTP_COOKIE="cart=v0", **HTTPS)
    )
    assert "not-latin1" in rules_of(environ)
    assert server.headers[1] == ("Set-Cookie", "sid=1; Path=/; SameSite=Lax; Secure")
    assert not [r for r in cookie_records(caplog) if "audit failed" in r.getMessage()]


def test_the_race_table_is_bounded_in_size_and_time(clock: Clock) -> None:
    # C4: "the table is bounded in size and time".
    assert MAX_ENTRIES <= 100_000
    assert MAX_AGE <= 3600
    layer = CookieMiddleware(header_app([("Set-Cookie", "cart=new; Path=/")]))
    assert isinstance(layer.races, RaceDetector)
    layer.races = RaceDetector(max_entries=32)
    hold_a_request(layer.races)  # so that every write may matter
    for i in range(200):
        clock.now += 0.001
        layer(make_environ(HTTP_COOKIE=f"cart=v{i}"), Server().start_response)
    # Full, the table drops its oldest eighth at once: 28 to 32 entries.
    assert 32 - 32 // 8 <= len(layer.races) <= 32
    clock.now += MAX_AGE + 1
    layer(make_environ(HTTP_COOKIE="cart=fresh"), Server().start_response)
    assert len(layer.races) == 1


# -- properties: never raises, never touches name=value (C3, C7, R) -----------------

ATTRIBUTES = st.sampled_from(
    [
        "Path=/",
        "Path=/shop",
        "path=",
        "Domain=example.com",
        "Domain=lab.test",
        "domain=.lab.test.",
        "Domain=co.uk",
        "Domain=",
        "Domain=.",
        "Domain=lab.test:8080",
        "Secure",
        "HttpOnly",
        "SameSite=None",
        "SameSite=lax",
        "SameSite=bogus",
        "Partitioned",
        "Max-Age=0",
        "Max-Age=+5",
        "Max-Age=99999999999",
        "Expires=Wed, 09-Jun-2021 10:18:14 GMT",
        "Expires=never",
        "Priority=High",
        "",
    ]
)
NAMES = st.sampled_from(["sid", "__Host-id", "__secure-x", "", " cart ", "a\tb"])
STRUCTURED = st.builds(
    lambda name, value, attrs, sep: (
        name + "=" + value + "".join(sep + a for a in attrs)
    ),
    NAMES,
    st.text(max_size=20),
    st.lists(ATTRIBUTES, max_size=6),
    st.sampled_from(["; ", ";", " ; "]),
)
HEADER_VALUES = st.one_of(
    st.binary(max_size=120).map(lambda b: b.decode("latin-1")),
    st.text(max_size=120),
    STRUCTURED,
)
COOKIE_SETTINGS = st.fixed_dictionaries(
    {
        "cookie_policy": st.sampled_from(["fix", "report"]),
        "cookie_secure": st.sampled_from(["auto", "keep"]),
        "cookie_samesite": st.sampled_from(["keep", "lax", "strict", "none"]),
        "cookie_domain": st.sampled_from(["auto", "keep", "lab.test", "example.com"]),
        "cookie_path": st.sampled_from(["keep", "scope"]),
        "cookie_httponly": st.sampled_from(["", "sid", "sid __Host-id cart"]),
        "cookie_max_size": st.sampled_from([1, 10, 4096]),
        "detect_races": st.booleans(),
    }
)
REQUESTS = st.fixed_dictionaries(
    {
        "wsgi.url_scheme": st.sampled_from(["http", "https"]),
        "HTTP_HOST": st.sampled_from(
            [
                "lab.test",
                "localhost:8080",
                "127.0.0.1",
                "[::1]",
                "co.uk",
                "xn--bcher-kva.example",
            ]
        ),
        "SCRIPT_NAME": st.sampled_from(["", "/shop"]),
        "PATH_INFO": st.sampled_from(["/", "/a/b", ""]),
        "HTTP_COOKIE": st.sampled_from(["", "sid=1; cart=2", "__Host-id=x"]),
        "HTTP_SEC_FETCH_SITE": st.sampled_from(
            ["", "cross-site", "Cross-Site", "same-origin"]
        ),
        "HTTP_SEC_FETCH_DEST": st.sampled_from(["", "document", "iframe"]),
        "HTTP_X_FORWARDED_PROTO": st.sampled_from(["", "https"]),
    }
)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(values=st.lists(HEADER_VALUES, max_size=5), cfg=COOKIE_SETTINGS, env=REQUESTS)
def test_any_set_cookie_keeps_its_name_value_bytes(
    values: list[str], cfg: dict[str, Any], env: dict[str, str]
) -> None:
    headers: Headers = [("Content-Type", "text/plain")]
    headers += [("Set-Cookie", v) for v in values]
    headers.append(("X-After", "unchanged"))
    handler = _Collect()
    logger = logging.getLogger(LOGGER)
    logger.addHandler(handler)
    try:
        server, _, _ = run(header_app(headers), make_environ(**env), **cfg)
    finally:
        logger.removeHandler(handler)
    sent = server.headers
    assert [n for n, _ in sent] == [n for n, _ in headers]
    assert sent[0] == headers[0]
    assert sent[-1] == headers[-1]
    for (_, before), (_, after) in zip(headers[1:-1], sent[1:-1], strict=True):
        cookie = SetCookie.parse(before)
        assert after[: cookie.pair_end] == before[: cookie.pair_end]
        fixed = SetCookie.parse(after)
        assert (fixed.name, fixed.value) == (cookie.name, cookie.value)
        if cfg["cookie_policy"] == "report":
            assert after == before
    # The audit itself never failed (its safety net was not needed).
    failed = [r for r in handler.records if "audit failed" in r.getMessage()]
    assert failed == [], failed[0].exc_info if failed else None


def test_no_tls_advice_when_the_trusted_proxy_itself_said_http() -> None:
    # The client wrote "https", the trusted proxy appended "http": the
    # proxy's word decides, so there is nothing to advise (COOKIE_RULES
    # untrusted-tls-proxy: "from a peer that is not trusted").
    def app(environ: Any, start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Set-Cookie", "sid=1; Path=/; Secure")])
        return [b""]

    wrapped = wsgifix.wrap(
        app, trusted_proxies="10.0.0.1", trusted_headers="x-forwarded-proto"
    )
    environ = make_environ(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_PROTO="https, http")
    wrapped(environ, lambda *a: None)
    rules = [f.rule for f in environ["wsgifix.findings"]]
    assert "untrusted-tls-proxy" not in rules
    secure = next(
        f for f in environ["wsgifix.findings"] if f.rule == "secure-over-http"
    )
    assert "not in trusted_headers" not in secure.message


def test_tls_advice_never_names_a_setting_wrap_refuses() -> None:
    # forwarded excludes x-forwarded-proto from trusted_headers (CONTRACT.md
    # 7): a trusted Forwarded proxy that also sent X-Forwarded-Proto is told
    # to say https in Forwarded, not to add a header wrap() would refuse.
    def app(environ: Any, start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Set-Cookie", "sid=1; Path=/; Secure")])
        return [b""]

    wrapped = wsgifix.wrap(app, trusted_proxies="10.0.0.1", trusted_headers="forwarded")
    environ = make_environ(
        REMOTE_ADDR="10.0.0.1",
        HTTP_FORWARDED="for=192.0.2.1",
        HTTP_X_FORWARDED_PROTO="https",
    )
    wrapped(environ, lambda *a: None)
    [advice] = [
        f for f in environ["wsgifix.findings"] if f.rule == "untrusted-tls-proxy"
    ]
    assert "proto=https in Forwarded" in advice.message
    assert "add x-forwarded-proto" not in advice.message
    with pytest.raises(ValueError, match="cannot be combined"):
        wsgifix.wrap(
            app,
            trusted_proxies="10.0.0.1",
            trusted_headers="forwarded x-forwarded-proto",
        )


def test_findings_of_replaced_headers_are_dropped() -> None:
    # PEP 3333: start_response called again with exc_info replaces headers
    # not yet sent; the findings about them go with them.
    def app(environ: Any, start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Set-Cookie", "sid=1; SameSite=None")])
        try:
            raise RuntimeError("late failure")
        except RuntimeError:
            start_response(
                "500 Internal Server Error",
                [("Content-Type", "text/plain")],
                sys.exc_info(),
            )
        return [b"error"]

    environ = make_environ()
    statuses: list[str] = []
    wsgifix.wrap(app)(environ, lambda s, h, e=None: statuses.append(s))
    assert statuses == ["200 OK", "500 Internal Server Error"]
    assert environ.get("wsgifix.findings", []) == []


# -- the response memo (issue 7): what it remembers equals a fresh audit ----------

STRUCTURE = st.tuples(
    st.sampled_from(["sid", "__Host-id", "__Secure-x", "", " cart ", "a\tb", "é"]),
    st.lists(ATTRIBUTES, max_size=5),
    st.sampled_from(["; ", ";", " ; "]),
)
COOKIE_VALUES = st.one_of(
    st.text(alphabet="abcdefXYZ019._-", max_size=12),
    # Space ending the pair goes with the attribute after it when a fix
    # removes that attribute (audit finding: the memo had kept it).
    st.builds(str.__add__, st.text("ab", max_size=3), st.sampled_from([" ", "\t "])),
    st.text(max_size=12),
    st.just("x" * 5000),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    shape=st.lists(STRUCTURE, min_size=1, max_size=4),
    first=st.lists(COOKIE_VALUES, min_size=4, max_size=4),
    second=st.lists(COOKIE_VALUES, min_size=4, max_size=4),
    cfg=COOKIE_SETTINGS,
    env=REQUESTS,
    first_path=st.sampled_from(["/", "/a/b", "", "/orders/1/x"]),
    first_host=st.sampled_from(
        ["lab.test", "other.test:8080", "localhost", "127.0.0.2", "[::1]:80"]
    ),
)
def test_a_remembered_response_is_judged_as_a_fresh_one(
    shape: list[tuple[str, list[str], str]],
    first: list[str],
    second: list[str],
    cfg: dict[str, Any],
    env: dict[str, str],
    first_path: str,
    first_host: str,
) -> None:
    """A layer that has seen the same headers with other cookie values (on
    another path or host) sends the same headers and lists the same
    findings as a layer seeing them for the first time: the memo keeps only
    what the rules read."""
    cfg = {**cfg, "detect_races": False}  # a fresh layer has no race table

    def headers_with(values: list[str]) -> Headers:
        return [
            ("Set-Cookie", name + "=" + value + "".join(sep + a for a in attrs))
            for (name, attrs, sep), value in zip(shape, values, strict=False)
        ]

    def send(
        layer: CookieMiddleware,
        headers: Headers,
        path: str | None = None,
        host: str | None = None,
    ) -> tuple[Headers, list[Any]]:
        server = Server()
        environ = make_environ(**env)
        if path is not None:
            environ["PATH_INFO"] = path
        if host is not None:
            environ["HTTP_HOST"] = host
        layer.app = header_app(headers)
        layer(environ, server.start_response)
        return server.headers, findings(environ)

    warm = CookieMiddleware(header_app([]), **cfg)
    # Maybe another directory, maybe another host; twice, as entries are
    # kept from the second sight of their key.
    for _ in range(2):
        send(warm, headers_with(first), first_path, first_host)
    assert send(warm, headers_with(second)) == send(
        CookieMiddleware(header_app([]), **cfg), headers_with(second)
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    shapes=st.lists(STRUCTURE, min_size=1, max_size=3).flatmap(
        # a shape and another like it but for one header's name or text
        lambda shape: st.tuples(
            st.just(shape), st.lists(STRUCTURE, min_size=1, max_size=3)
        )
    ),
    requests=st.tuples(REQUESTS, REQUESTS),
    turns=st.lists(
        st.tuples(
            st.integers(0, 3),  # which shape and request
            st.lists(
                # mostly plain values (a response's memo entry serves them)
                st.one_of(st.text(alphabet="abc019", max_size=8), COOKIE_VALUES),
                min_size=3,
                max_size=3,
            ),
            st.booleans(),  # new string objects, as a server makes them
        ),
        min_size=6,
        max_size=24,
    ),
    cfg=COOKIE_SETTINGS,
)
def test_a_run_of_responses_is_judged_as_each_alone(
    shapes: tuple[list[tuple[str, list[str], str]], list[tuple[str, list[str], str]]],
    requests: tuple[dict[str, str], dict[str, str]],
    turns: list[tuple[int, list[str], bool]],
    cfg: dict[str, Any],
) -> None:
    """Two response shapes on two requests, in any order, with other cookie
    values each time, through one layer: each response gets what a fresh
    layer gives it. (The layer reuses the last memo key's text and, when
    every item is the same, its entry: see _audit_headers.)"""
    cfg = {**cfg, "detect_races": False}  # a fresh layer has no race table
    warm = reusing(CookieMiddleware(header_app([]), **cfg))
    for pick, values, fresh in turns:
        shape = shapes[pick % 2]
        headers = [
            ("Set-Cookie", name + "=" + value + "".join(sep + a for a in attrs))
            for (name, attrs, sep), value in zip(shape, values, strict=False)
        ]
        request = make_environ(**requests[pick // 2])
        if fresh:
            request = {
                k: "".join(list(v)) if type(v) is str else v for k, v in request.items()
            }
            headers = [(n, "".join(list(v))) for n, v in headers]
        sent = []
        for layer in (warm, CookieMiddleware(header_app([]), **cfg)):
            server = Server()
            environ = dict(request)
            layer.app = header_app(headers)
            layer(environ, server.start_response)
            sent.append((server.headers, findings(environ)))
        assert sent[0] == sent[1]


def reusing(layer: CookieMiddleware) -> CookieMiddleware:
    """``layer`` reusing the last memo key's text and entry, as the compiled
    build does, in either build (as source it keys every response anew)."""
    layer._reuse = True
    return layer


def assert_judged_as_fresh(
    layer: CookieMiddleware, values: list[str], **environ: str
) -> None:
    """``layer`` sends and finds for a response setting ``values`` what a
    fresh layer does."""
    headers = [("Set-Cookie", value) for value in values]
    warm, fresh = make_environ(**environ), make_environ(**environ)
    layer.app = header_app(headers)
    sent, expected = Server(), Server()
    layer(warm, sent.start_response)
    CookieMiddleware(header_app(headers))(fresh, expected.start_response)
    assert (sent.headers, findings(warm)) == (expected.headers, findings(fresh))


_BASE_COOKIES = ["sid=1; Path=/; SameSite=None", "cart=2; Path=/; HttpOnly"]
_NO_PATH = ["sid=1; SameSite=None", "cart=2; HttpOnly"]
_CARRIED = {"HTTP_COOKIE": "sid=0; cart=0"}
_CROSS_SITE = {"HTTP_SEC_FETCH_SITE": "cross-site"}


@pytest.mark.parametrize(
    ("first", "then", "cookies"),
    [
        pytest.param({}, {"HTTP_HOST": "other.test"}, _BASE_COOKIES, id="host"),
        pytest.param({}, HTTPS, _BASE_COOKIES, id="scheme"),
        pytest.param(_CARRIED, {**_CARRIED, **HTTPS}, _BASE_COOKIES, id="scheme alone"),
        pytest.param({}, {"SCRIPT_NAME": "/shop"}, _BASE_COOKIES, id="script"),
        pytest.param(
            {"HTTP_SEC_FETCH_DEST": "iframe"},
            {**_CROSS_SITE, "HTTP_SEC_FETCH_DEST": "iframe"},
            _BASE_COOKIES,
            id="fetch site",
        ),
        pytest.param(
            {**_CROSS_SITE, "HTTP_SEC_FETCH_DEST": "document"},
            {**_CROSS_SITE, "HTTP_SEC_FETCH_DEST": "iframe"},
            _BASE_COOKIES,
            id="fetch dest",
        ),
        pytest.param({}, {"HTTP_X_FORWARDED_PROTO": "https"}, _BASE_COOKIES, id="hint"),
        pytest.param({}, {"HTTP_COOKIE": "cart=1"}, _BASE_COOKIES, id="name carried"),
        pytest.param(
            {}, {}, ["sie=1; Path=/; SameSite=None", "cart=2; Path=/"], id="names"
        ),
        pytest.param(
            {}, {}, ["sie=1; Path=/; SameSite=None", _BASE_COOKIES[1]], id="name"
        ),
        pytest.param({}, {}, [_BASE_COOKIES[0], "cart=2; Path=/; Secure"], id="attrs"),
        pytest.param(
            {}, {}, [_BASE_COOKIES[0], "cart=2; Path=/; HttpOnlx"], id="same size"
        ),
        pytest.param(
            {}, {}, [_BASE_COOKIES[0], "cart=\x01; Path=/; HttpOnly"], id="value"
        ),
        pytest.param({}, {}, [_BASE_COOKIES[0], "cart=2; HttpOnly"], id="no path"),
        pytest.param({}, {}, _BASE_COOKIES[:1], id="fewer"),
        pytest.param(
            {"PATH_INFO": "/a/b"}, {"PATH_INFO": "/c/d"}, _NO_PATH, id="directory"
        ),
    ],
)
def test_a_response_like_the_last_one_is_judged_as_a_fresh_one(
    first: dict[str, str], then: dict[str, str], cookies: list[str]
) -> None:
    """A response whose memo key is the last one's but for one item (the
    layer then reuses the last key's text, never its entry): judged as a
    fresh layer judges it, and so is the last one's shape after it."""
    base = [("Set-Cookie", value) for value in cookies]
    if first.get("PATH_INFO") is None:
        base = [("Set-Cookie", value) for value in _BASE_COOKIES]
    other = [("Set-Cookie", value) for value in cookies]

    def send(layer: CookieMiddleware, headers: Headers, change: dict[str, str]) -> Any:
        server = Server()
        # New strings, as a server makes for each request.
        environ = {
            k: "".join(list(v)) if type(v) is str else v
            for k, v in make_environ(**change).items()
        }
        layer.app = header_app([(n, "".join(list(v))) for n, v in headers])
        layer(environ, server.start_response)
        return server.headers, findings(environ)

    def fresh(headers: Headers, change: dict[str, str]) -> Any:
        return send(CookieMiddleware(header_app([])), headers, change)

    assert fresh(other, then) != fresh(base, first)  # (the test can fail)
    layer = reusing(CookieMiddleware(header_app([])))
    for _ in range(3):  # kept from the second sight, then answered from it
        assert send(layer, base, first) == fresh(base, first)
    for _ in range(3):
        assert send(layer, other, then) == fresh(other, then)
        assert send(layer, base, first) == fresh(base, first)


@pytest.mark.parametrize(
    ("first", "then"),
    [
        pytest.param("sid=; Path=/; SameSite=None", "sid=1; SameSite=None", id="empty"),
        pytest.param("sid=1; SameSite=None", "sidx=1; SameSite=None", id="longer name"),
        pytest.param("sid=1; SameSite=None", "sid", id="the name alone"),
        pytest.param("sid=1; SameSite=None", "sid;=1; SameSite=None", id="sid;"),
        pytest.param("sid=1; Path=/", "sid=1;Path=/", id="no space"),
        pytest.param("sid=1; Path=/", "sid==; Path=/", id="sid=="),
    ],
)
def test_a_header_read_from_the_last_keys_name_is_judged_as_a_fresh_one(
    first: str, then: str
) -> None:
    """A header that starts with the last key's cookie name is read from
    the "=" after it (compiled, see _audit_headers): where the pair ends
    and the name are as a fresh layer reads them (a mistake would key
    ``then`` like ``first``, whose findings differ, or mistake a longer
    name for the known one)."""
    layer = reusing(CookieMiddleware(header_app([])))
    for value in [first] * 3 + [then] * 3 + [first, then]:
        assert_judged_as_fresh(layer, [value], PATH_INFO="/a/b")


@pytest.mark.parametrize("reuse", [False, True], ids=["keyed anew", "last entry"])
def test_sec_fetch_dest_is_keyed_only_in_a_cross_site_request(reuse: bool) -> None:
    # Only cross-site-set reads Sec-Fetch-Dest, and only when Sec-Fetch-Site
    # says cross-site (any case): elsewhere requests for an iframe and for
    # a page share one memo entry; cross-site, each is told by its own.
    headers = [("Set-Cookie", value) for value in _BASE_COOKIES]
    layer = CookieMiddleware(header_app(headers))
    if reuse:
        reusing(layer)

    def send(environ: dict[str, Any]) -> Any:
        server = Server()
        layer(environ, server.start_response)
        return server.headers, findings(environ)

    def fresh(environ: dict[str, Any]) -> Any:
        server = Server()
        CookieMiddleware(header_app(headers))(environ, server.start_response)
        return server.headers, findings(environ)

    for site in ("same-origin", "none"):
        for dest in ("document", "iframe", "document", "image"):
            send(make_environ(HTTP_SEC_FETCH_SITE=site, HTTP_SEC_FETCH_DEST=dest))
    judged = layer._judged
    assert judged == 4  # each site twice (kept from the second sight)
    for site in ("Cross-Site", "cross-site"):
        for dest in ("iframe", "image", "iframe", "image", "iframe"):
            change = {"HTTP_SEC_FETCH_SITE": site, "HTTP_SEC_FETCH_DEST": dest}
            got = send(make_environ(**change))
            assert got == fresh(make_environ(**change))
            (told, *_) = [f for f in got[1] if f.rule == "cross-site-set"]
            assert f"cross-site {dest}:" in told.message
    assert layer._judged > judged


def test_a_response_unlike_the_last_one_after_its_first_header_is_keyed_whole() -> None:
    """The key of a response that matches the last one's first header but
    not its second holds both headers (a key of the second alone would
    answer a response setting only that cookie)."""
    a = ["sid=1; Path=/; SameSite=None", "cart=2; Path=/; HttpOnly"]
    b = ["sid=1; Path=/; SameSite=None", "cart=2; Path=/"]
    c = ["cart=2; Path=/"]
    layer = reusing(CookieMiddleware(header_app([])))
    for values in (a, a, a, b, a, b, a, b, c, c):
        assert_judged_as_fresh(layer, values)


@pytest.mark.python_seams  # counts the layer's rule runs
def test_a_response_like_the_last_one_runs_no_rules(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Judged on its first two sights (kept from the second), then answered
    from the memo, the last entry included."""
    runs: list[int] = []
    judge = CookieMiddleware._judge

    def counted(self: CookieMiddleware, *args: Any) -> Any:
        runs.append(1)
        return judge(self, *args)

    monkeypatch.setattr(CookieMiddleware, "_judge", counted)
    a = [("Set-Cookie", "sid=1; Path=/; SameSite=None")]
    b = [("Set-Cookie", "sid=1; Path=/; SameSite=Lax")]
    layer = reusing(CookieMiddleware(header_app([])))
    for headers, judged in ((a, 2), (a, 2), (b, 4), (b, 4), (a, 4), (a, 4)):
        for _ in range(3):
            layer.app = header_app(headers)
            layer(make_environ(), Server().start_response)
        assert len(runs) == judged


class _Text(str):
    """A str subclass, as some middleware sets."""


@pytest.mark.parametrize("value", ["cross-site", _Text("cross-site")])
def test_request_values_of_another_type_are_judged_as_they_came(
    value: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A str subclass (PEP 3333 says str; some middleware sets its own):
    the compiled build's reuse of the last key's text passes it as it came
    and judges the response as a fresh layer does."""
    headers = [("Set-Cookie", "sid=1; Path=/; SameSite=None")]
    layer = reusing(CookieMiddleware(header_app(headers)))
    for _ in range(4):
        environ = make_environ(HTTP_SEC_FETCH_SITE=value, HTTP_SEC_FETCH_DEST=value)
        fresh = dict(environ)
        layer(environ, Server().start_response)
        CookieMiddleware(header_app(headers))(fresh, Server().start_response)
        assert findings(environ) == findings(fresh) != []
    assert not [r for r in caplog.records if "audit failed" in r.getMessage()]


@pytest.mark.python_seams  # moves the wall clock the rules read
def test_the_last_response_is_judged_anew_after_the_memo_minute(
    clock: Clock, later: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The memo's entries live a minute (then verdicts an Expires instant
    changes are fresh, see time_bound): so does the last entry a layer
    reuses for a response like the last one."""
    from datetime import timedelta

    monkeypatch.setattr(wsgifix.rules, "_now", clock)  # the verdict caches' clock
    # Expiring later than the memo keeps verdicts: remembered.
    header = f"a=1; Path=/; SameSite=Lax; Domain=other.test; Expires={http_date(250)}"
    layer = reusing(CookieMiddleware(header_app([("Set-Cookie", header)])))
    for _ in range(3):  # kept from the second, then the last entry
        server = Server()
        layer(make_environ(), server.start_response)
        assert "Domain" not in server.headers[0][1]
    later.shift = timedelta(seconds=300)  # expired: now a deletion
    clock.now += 61
    server = Server()
    layer(make_environ(), server.start_response)
    assert server.headers == [("Set-Cookie", header)]  # a deletion: left as is


class CountingClock(Clock):
    """A Clock that counts its readings."""

    def __init__(self, now: float = 1000.0) -> None:
        super().__init__(now)
        self.readings = 0

    def __call__(self) -> float:
        self.readings += 1
        return self.now


@pytest.mark.parametrize("reuse", [False, True], ids=["keyed anew", "last entry"])
def test_a_response_seen_before_without_expires_or_findings_reads_no_clock(
    reuse: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The clock tells a memo entry's age, the log limits and races apart:
    # an entry no Expires makes stale, answering a clean response, needs
    # none of them (the reading was a third of such a response's audit).
    clock = CountingClock()
    monkeypatch.setattr(time, "monotonic", clock)
    monkeypatch.setattr(wsgifix.rules, "_now", clock)
    header = "a=1; Path=/; SameSite=Lax; Secure; HttpOnly"
    layer = CookieMiddleware(header_app([("Set-Cookie", header)]))
    if reuse:
        reusing(layer)
    environ = make_environ(**{"wsgi.url_scheme": "https"})
    for _ in range(3):  # judged twice (kept from the second time), then found
        layer(environ.copy(), Server().start_response)
    before = clock.readings
    assert before > 0
    for _ in range(3):
        server = Server()
        layer(environ.copy(), server.start_response)
        assert server.headers == [("Set-Cookie", header)]
    assert clock.readings == before
    # An Expires in it: the entry's age is read each time it is found.
    dated = f"{header}; Expires={http_date(3600)}"
    layer = CookieMiddleware(header_app([("Set-Cookie", dated)]))
    for _ in range(3):
        layer(environ.copy(), Server().start_response)
    before = clock.readings
    layer(environ.copy(), Server().start_response)
    assert clock.readings == before + 1
    # Findings: read for the log limits.
    layer = CookieMiddleware(header_app([("Set-Cookie", "b=2; Path=/")]))
    for _ in range(3):
        layer(environ.copy(), Server().start_response)
    before = clock.readings
    layer(environ.copy(), Server().start_response)
    assert clock.readings == before + 1


def test_an_undated_entry_outlives_the_memo_minute_and_a_dated_one_does_not(
    clock: Clock, later: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An entry without Expires judges the same at any time: kept past the
    # minute (until a dated entry or a new response empties the table).
    from datetime import timedelta

    monkeypatch.setattr(wsgifix.rules, "_now", clock)
    undated = "a=1; Path=/; SameSite=Lax; Domain=other.test"
    dated = f"{undated}; Expires={http_date(250)}"
    for header, judged_again in ((undated, 0), (dated, 1)):
        layer = reusing(CookieMiddleware(header_app([("Set-Cookie", header)])))
        for _ in range(3):
            layer(make_environ(), Server().start_response)
        judged = layer._judged
        clock.now += 61
        server = Server()
        layer(make_environ(), server.start_response)
        assert layer._judged == judged + judged_again
        assert "Domain" not in server.headers[0][1]
    later.shift = timedelta(seconds=300)  # the dated cookie now a deletion
    clock.now += 61
    server = Server()
    layer(make_environ(), server.start_response)
    assert server.headers == [("Set-Cookie", dated)]


def test_counts_and_recent_findings_lose_nothing_under_threads() -> None:
    """Responses list their findings without the layer's lock while readers
    fold them into the counts: every finding is counted exactly once."""
    headers = [("Set-Cookie", "sid=1; SameSite=None"), ("Set-Cookie", "a=2")]
    layer = CookieMiddleware(header_app(headers), cookie_policy="report")
    per_thread, threads = 700, 6
    environ = make_environ()  # what one response lists
    CookieMiddleware(header_app(headers), cookie_policy="report")(
        environ, Server().start_response
    )
    one = Counter(f.rule for f in findings(environ))
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            assert len(layer.recent) <= 50
            layer.counts  # noqa: B018 (folds the pending findings)

    def serve() -> None:
        for _ in range(per_thread):
            layer(make_environ(), Server().start_response)

    reader = threading.Thread(target=read)
    reader.start()
    workers = [threading.Thread(target=serve) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    stop.set()
    reader.join()
    assert layer.counts == {rule: n * per_thread * threads for rule, n in one.items()}
    assert list(layer.recent)[-len(findings(environ)) :] == findings(environ)


@pytest.mark.parametrize(
    "kind",
    [
        lambda i: i % 37,  # a different response each time
        lambda i: i // 7 % 5,  # runs of one response (one memo entry)
        lambda i: 0 if i % 4 else i,  # long runs broken by new ones
    ],
)
def test_recent_holds_the_last_findings_in_response_order(kind: Any) -> None:
    """Findings are folded in batches (responses from one memo entry share
    their findings and are counted together): ``recent`` is still the last
    50 findings in the order the responses listed them, and ``counts``
    every one of them."""
    batches = [
        [("Set-Cookie", f"c{kind(i)}=1; SameSite=None")] * (1 + kind(i) % 3)
        for i in range(600)
    ]
    turn = iter(batches)

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response("200 OK", next(turn))
        return [b"ok"]

    layer = CookieMiddleware(app, cookie_policy="report")
    listed: list[wsgifix.Finding] = []
    for _ in range(600):  # past _PENDING (256): folded twice on the way
        environ = make_environ()
        layer(environ, Server().start_response)
        listed.extend(findings(environ))
    assert list(layer.recent) == listed[-50:]
    assert layer.counts == dict(Counter(f.rule for f in listed))


def test_the_response_memo_holds_no_cookie_values() -> None:
    headers = [
        ("Set-Cookie", "sid=topsecretvalue; Path=/"),
        ("Set-Cookie", "cart=anothersecret; HttpOnly"),
    ]
    layer = CookieMiddleware(header_app(headers))
    for _ in range(3):
        layer(
            make_environ(HTTP_COOKIE="sid=oldsecret; cart=oldcart"),
            Server().start_response,
        )
    assert len(layer.responses) == 1
    kept = repr(layer.responses._data)
    for secret in ("topsecretvalue", "anothersecret", "oldsecret", "oldcart"):
        assert secret not in kept


@given(
    jar=st.lists(
        st.sampled_from(
            [
                "sid=1",
                "sid=2",
                " sid =3",
                "xsid=4",
                "a=sid=5",
                "=6",
                "sid",
                "\tsid=7",
                "s id=8",
                "\x0bsid=9",
                "sid\x0b=10",
                "cart=",
                "",
                "a;b=1",
                "a=b=2",
            ]
        ),
        max_size=6,
    ),
    sep=st.sampled_from(["; ", ";", " ; ", ";;"]),
    name=st.sampled_from(
        ["sid", "cart", "s id", "", "\x0bsid", "sid\x0b", "x", "a;b", "a=b"]
    ),
)
def test_cookie_value_finds_what_the_full_parse_finds(
    jar: list[str], sep: str, name: str
) -> None:
    text = sep.join(jar)
    parsed = wsgifix.cookies.effective_request(make_environ(HTTP_COOKIE=text)).cookies
    assert wsgifix.cookies.cookie_value(text, name) == parsed.get(name)


@given(
    jar=st.lists(
        st.sampled_from(
            ["sid=1", " sid =1", "xsid=1", "a=sid=1", "=1", "sid", "\tsid=1",
             "\x0bsid=1", "sid\x0b=1", "s id=1", "cart=", "a;b=1", ""]
        ),
        max_size=5,
    ),
    sep=st.sampled_from(["; ", ";", " ; "]),
    name=st.sampled_from(["sid", " sid", "s id", "\x0bsid", "sid\x0b", "cart", ""]),
    printable=st.booleans(),
)  # fmt: skip
def test_the_race_check_reads_the_incoming_value_as_the_parse_does(
    jar: list[str], sep: str, name: str, printable: bool
) -> None:
    """Two requests carrying the same Cookie header, the second answered
    while the first is still running, overwrite each other's cookie exactly
    when the parse of that header finds the name (the layer looks the
    name up without the parse where it can)."""
    text = sep.join(jar)
    tail = "; Path=/" if printable else "; Path=/\x01"
    header = {"outer": f"{name}=2{tail}", "inner": f"{name}=9{tail}"}
    layer: CookieMiddleware

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ["PATH_INFO"] == "/outer":  # the inner request answers first
            layer(
                make_environ(PATH_INFO="/inner", HTTP_COOKIE=text),
                Server().start_response,
            )
        start_response("200 OK", [("Set-Cookie", header[environ["PATH_INFO"][1:]])])
        return [b"ok"]

    layer = CookieMiddleware(app, cookie_policy="report")
    environ = make_environ(PATH_INFO="/outer", HTTP_COOKIE=text)
    layer(environ, Server().start_response)
    raced = [f for f in findings(environ) if f.rule == "concurrent-overwrite"]
    parsed = wsgifix.cookies.parse_cookie_header(text)
    assert bool(raced) == (name.strip(" \t") in parsed)


JAR_ITEMS = ["sid=1", "sid=2", "sid= 1 ", "xsid=1", "xsid=2", "a=sid=1", "sid=1;",
             "sid=12", "id=1", "=1", "s=1", "sid", ""]  # fmt: skip


@given(
    outer=st.lists(st.sampled_from(JAR_ITEMS), max_size=4),
    inner=st.lists(st.sampled_from(JAR_ITEMS), max_size=4),
    name=st.sampled_from(["sid", "id", "s"]),
)
def test_the_race_check_compares_the_incoming_values_the_parse_finds(
    outer: list[str], inner: list[str], name: str
) -> None:
    """Two overlapping requests with different Cookie headers race on a
    name exactly when the parse finds the same value for it in both (the
    layer reads the value without the parse where it can)."""
    jars = {"outer": "; ".join(outer), "inner": "; ".join(inner)}
    header = {"outer": f"{name}=new2; Path=/", "inner": f"{name}=new1; Path=/"}
    layer: CookieMiddleware

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ["PATH_INFO"] == "/outer":  # the inner request answers first
            layer(
                make_environ(PATH_INFO="/inner", HTTP_COOKIE=jars["inner"]),
                Server().start_response,
            )
        start_response("200 OK", [("Set-Cookie", header[environ["PATH_INFO"][1:]])])
        return [b"ok"]

    layer = CookieMiddleware(app, cookie_policy="report")
    environ = make_environ(PATH_INFO="/outer", HTTP_COOKIE=jars["outer"])
    layer(environ, Server().start_response)
    raced = [f for f in findings(environ) if f.rule == "concurrent-overwrite"]
    first = wsgifix.cookies.parse_cookie_header(jars["outer"]).get(name)
    then = wsgifix.cookies.parse_cookie_header(jars["inner"]).get(name)
    assert bool(raced) == (first is not None and first == then)


@pytest.mark.parametrize(
    ("cookie", "entries"),
    [
        pytest.param("sid=1; Path=/; HttpOnly", 1, id="with Path: one entry"),
        pytest.param("sid=1; HttpOnly", 4, id="without Path: one per directory"),
        pytest.param("sid=1; Path=rel", 4, id="relative Path: one per directory"),
    ],
)
def test_the_request_path_is_in_the_memo_only_where_a_rule_reads_it(
    cookie: str, entries: int
) -> None:
    """URLs with ids (/orders/1/edit, /orders/2/edit) share one entry when
    every cookie has an absolute Path; otherwise each directory is judged,
    and its messages name it. (Each path twice: an entry is kept from the
    second sight of its key.)"""
    layer = CookieMiddleware(header_app([("Set-Cookie", cookie)]))
    seen = []
    paths = ("/orders/1/edit", "/orders/2/edit", "/orders/3/edit", "/x/y")
    for path in [p for p in paths for _ in range(2)]:
        environ = make_environ(PATH_INFO=path)
        fresh = make_environ(PATH_INFO=path)
        server = Server()
        layer(environ, server.start_response)
        alone = Server()
        CookieMiddleware(header_app([("Set-Cookie", cookie)]))(
            fresh, alone.start_response
        )
        assert server.headers == alone.headers
        assert findings(environ) == findings(fresh)
        seen.append(findings(environ))
    assert len(layer.responses) == entries
    if entries > 1:
        assert "/orders/2" in " ".join(f.message for f in seen[2])
        assert "/orders/2" in " ".join(f.message for f in seen[3])


def test_a_response_is_remembered_from_its_second_sight() -> None:
    """What an app sends once (a new directory for a cookie without Path,
    a Path of its own) leaves no memo entry and evicts none; what it sends
    again is remembered, and then answered without the rules."""
    layer = CookieMiddleware(header_app([("Set-Cookie", "sid=1; HttpOnly")]))
    kept = make_environ(PATH_INFO="/kept/page")
    layer(dict(kept), Server().start_response)
    assert len(layer.responses) == 0  # judged, not kept
    layer(dict(kept), Server().start_response)
    assert len(layer.responses) == 1
    assert layer._judged == 2
    for i in range(layer.responses.maxsize + 10):  # each directory once
        layer(make_environ(PATH_INFO=f"/d{i}/page"), Server().start_response)
    assert len(layer.responses) == 1  # nothing added, the kept entry stays
    # The memo keeps a response with one Set-Cookie: it is that header's
    # verdict (the verdicts per header serve combinations and the
    # responses the memo does not keep).
    assert len(layer.verdicts) == 0

    environ = dict(kept)
    judged = layer._judged
    layer(environ, Server().start_response)  # from the memo
    assert layer._judged == judged
    first = dict(kept)
    CookieMiddleware(header_app([("Set-Cookie", "sid=1; HttpOnly")]))(
        first, Server().start_response
    )
    assert findings(environ) == findings(first)


@pytest.mark.parametrize(
    "other",
    [
        pytest.param("=anonymous; Path=/", id="a nameless cookie"),
        pytest.param("big=" + "x" * 9000 + "; Path=/", id="over 8 KB of Set-Cookie"),
    ],
)
def test_a_response_the_memo_does_not_keep_keeps_its_headers_verdicts(
    other: str,
) -> None:
    """The response memo leaves some responses out; their other headers'
    verdicts are kept per header instead (from the second sight), and
    answer as the rules do."""
    headers = [("Set-Cookie", other), ("Set-Cookie", "sid=1; Path=/; HttpOnly")]
    layer = CookieMiddleware(header_app(headers))
    for _ in range(3):
        warm, fresh = make_environ(), make_environ()
        layer(warm, Server().start_response)
        CookieMiddleware(header_app(headers))(fresh, Server().start_response)
        assert findings(warm) == findings(fresh)
    assert len(layer.responses) == 0
    assert len(layer.verdicts) >= 1
    assert layer._judged == 3


def test_headers_in_new_combinations_are_answered_from_their_verdicts() -> None:
    """Responses that set a few cookies in ever new combinations (each
    response unlike the last) are judged anew as wholes, their headers
    from the verdicts kept per header, as the rules would."""
    a = "a=1; Path=/; HttpOnly"
    b = "b=2; Path=/; Secure"
    c = "c=3; Path=/x"
    combinations = [[a, b], [a, c], [b, c], [c, a], [b, a], [c, b], [a, b, c]]
    layer = CookieMiddleware(header_app([]))
    for values in combinations:
        headers = [("Set-Cookie", v) for v in values]
        layer.app = header_app(headers)
        warm, fresh = make_environ(), make_environ()
        layer(warm, Server().start_response)
        CookieMiddleware(header_app(headers))(fresh, Server().start_response)
        assert findings(warm) == findings(fresh)
    assert len(layer.responses) == 0  # each combination seen once
    assert len(layer.verdicts) == 3  # each header kept from its second sight


@pytest.mark.parametrize("space", [" ", "\t", " \t "])
def test_space_ending_the_pair_is_part_of_the_remembered_shape(space: str) -> None:
    # C4: "a removed attribute takes its leading ';' and whitespace with
    # it": the pair's own trailing space goes with a removed Domain, so a
    # response remembered without that space must not answer one with it.
    seen = [("Set-Cookie", "a=1; Domain=co.uk; Path=/")]
    spaced = [("Set-Cookie", f"a=2{space}; Domain=co.uk; Path=/")]
    environ = {"HTTP_HOST": "x.co.uk"}
    layer = CookieMiddleware(header_app(seen))
    for _ in range(2):  # kept from the second sight
        layer(make_environ(**environ), Server().start_response)
    layer.app = header_app(spaced)
    warm, fresh = Server(), Server()
    layer(make_environ(**environ), warm.start_response)
    CookieMiddleware(header_app(spaced))(make_environ(**environ), fresh.start_response)
    assert warm.headers == fresh.headers == [("Set-Cookie", "a=2; Path=/")]


@pytest.mark.parametrize(
    ("first", "then"),
    [
        pytest.param("shop-a.test", "shop-b.test", id="another tenant"),
        pytest.param("lab.test", "localhost:8080", id="to localhost"),
        pytest.param("localhost", "127.0.0.1", id="localhost to loopback IP"),
        pytest.param("lab.test", "[::1]:8080", id="to IPv6 loopback"),
    ],
)
@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_response_seen_on_another_host_is_judged_as_a_fresh_one(
    first: str, then: str, scheme: str
) -> None:
    """Without Domain attributes the rules read of the host only whether it
    is localhost: a response judged on one host answers another without a
    rule run, its messages naming the new URL."""
    headers = [
        ("Set-Cookie", "sid=1; Path=/; Secure"),
        ("Set-Cookie", "theme=dark; Path=/; HttpOnly"),
    ]
    environ = {"wsgi.url_scheme": scheme, "HTTP_HOST": first}
    layer = CookieMiddleware(header_app(headers))
    for _ in range(2):  # entries are kept from the second sight
        layer(make_environ(**environ), Server().start_response)
    judged = layer._judged
    assert judged == 2
    for _ in range(2):  # from the entry for any host, then this host's own
        warm, fresh = Server(), Server()
        seen = make_environ(**{**environ, "HTTP_HOST": then})
        new = make_environ(**{**environ, "HTTP_HOST": then})
        layer(seen, warm.start_response)
        CookieMiddleware(header_app(headers))(new, fresh.start_response)
        assert warm.headers == fresh.headers
        assert findings(seen) == findings(new)
        assert all(then in f.message for f in findings(seen) if f.cookie)
    localhost = ("localhost", "127.", "[::1]")
    if first.startswith(localhost) == then.startswith(localhost):
        assert layer._judged == judged  # no rule ran for the new host


def test_a_host_answered_from_another_keeps_one_entry_for_all_its_paths() -> None:
    """A response whose cookies all have a Path, answered on a new host
    from its entry for any host, is kept for that host as that entry is:
    for every directory (not only the first one seen), so the host's
    other pages are answered from it without the any-host entry."""
    layer = CookieMiddleware(header_app([("Set-Cookie", "sid=1; Path=/; Secure")]))
    for _ in range(2):  # entries are kept from the second sight
        layer(make_environ(HTTP_HOST="a.test"), Server().start_response)
    assert len(layer.responses) == 1
    for path in ("/d1/p", "/d1/p", "/d2/p", "/d3/p", "/d4/p", "/d5/p"):
        environ = make_environ(HTTP_HOST="b.test", PATH_INFO=path)
        fresh = make_environ(HTTP_HOST="b.test", PATH_INFO=path)
        warm, alone = Server(), Server()
        layer(environ, warm.start_response)
        CookieMiddleware(header_app([("Set-Cookie", "sid=1; Path=/; Secure")]))(
            fresh, alone.start_response
        )
        assert warm.headers == alone.headers
        assert findings(environ) == findings(fresh)
    assert layer._judged == 2  # no rule ran for b.test
    assert len(layer.responses) == 2  # one entry per host


def test_a_cookie_without_path_is_answered_on_another_host_in_its_directory() -> None:
    """A response whose rules read the request's directory (a cookie
    without Path) is kept for any host per directory: a new host's page in
    that directory is answered from it, one elsewhere is judged."""
    headers = [("Set-Cookie", "sid=1; Secure")]
    layer = CookieMiddleware(header_app(headers))
    for _ in range(2):  # entries are kept from the second sight
        layer(
            make_environ(HTTP_HOST="a.test", PATH_INFO="/d/p"), Server().start_response
        )
    for path, judged in (("/d/q", 2), ("/e/p", 3)):
        environ = make_environ(HTTP_HOST="b.test", PATH_INFO=path)
        fresh = make_environ(HTTP_HOST="b.test", PATH_INFO=path)
        layer(environ, Server().start_response)
        CookieMiddleware(header_app(headers))(fresh, Server().start_response)
        assert findings(environ) == findings(fresh)
        assert layer._judged == judged


@pytest.mark.parametrize(
    ("cookie", "script"),
    [
        pytest.param("sid=1; Path=http://lab.test/x", "", id="Path quotes the URL"),
        pytest.param("sid=1; Max-Age=http://lab.test", "", id="Max-Age quotes it"),
    ],
)
def test_a_message_quoting_the_url_is_not_rewritten_for_another_host(
    cookie: str, script: str
) -> None:
    """A response kept for any host has its URL replaced by the new one in
    its messages; text of the header that equals the URL stays as sent."""
    layer = CookieMiddleware(header_app([("Set-Cookie", cookie)]))
    on = {"SCRIPT_NAME": script, "PATH_INFO": "/p/q"}
    for _ in range(3):
        layer(make_environ(HTTP_HOST="lab.test", **on), Server().start_response)
    seen = make_environ(HTTP_HOST="other.test", **on)
    layer(seen, Server().start_response)
    fresh = make_environ(HTTP_HOST="other.test", **on)
    CookieMiddleware(header_app([("Set-Cookie", cookie)]))(
        fresh, Server().start_response
    )
    assert findings(fresh)
    assert findings(seen) == findings(fresh)


# -- what apps send in practice, whichever build runs ------------------------------
# PEP 3333 asks for a list of (str, str) tuples; apps send lists for tuples, a
# tuple of headers, bytes. The audit handles such headers as the pure-Python
# build always has (a compiled build checks declared types, so its boundary
# with the app is typed Any): never an exception out of start_response.

FIXED_BY_DOMAIN = "sid=1; Domain=other.test"  # Domain removed under fix


def odd_app(headers: Any) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response("200 OK", headers)
        return [b"ok"]

    return app


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(
            [["Content-Type", "text/plain"], ["Set-Cookie", FIXED_BY_DOMAIN]],
            id="lists for tuples",
        ),
        pytest.param(
            (("Content-Type", "text/plain"), ("Set-Cookie", FIXED_BY_DOMAIN)),
            id="a tuple of headers",
        ),
    ],
)
def test_headers_not_in_pep_3333_shape_are_audited_as_any_other(headers: Any) -> None:
    expected, as_tuples, _ = run(
        header_app([("Content-Type", "text/plain"), ("Set-Cookie", FIXED_BY_DOMAIN)])
    )
    server, environ, result = run(odd_app(headers))
    assert b"".join(result) == b"ok"
    assert [tuple(h) for h in server.headers] == expected.headers
    assert set_cookie_values(expected.headers) == ["sid=1"]
    assert rules_of(environ) == rules_of(as_tuples)
    assert "domain-mismatch" in rules_of(environ)


def test_bytes_in_headers_pass_through_and_a_bytes_value_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    # A bytes name is not a Set-Cookie header to the audit: passed on as is.
    headers: Any = [(b"Set-Cookie", FIXED_BY_DOMAIN)]
    server, environ, result = run(odd_app(headers))
    assert b"".join(result) == b"ok"
    assert server.headers is headers
    assert "wsgifix.findings" not in environ
    assert cookie_records(caplog) == []
    # A bytes value under Set-Cookie: the headers go out as the app wrote
    # them (the server decides), and the app's error is logged as such.
    headers = [("Content-Type", "text/plain"), ("Set-Cookie", b"sid=1")]
    server, environ, result = run(odd_app(headers))
    assert b"".join(result) == b"ok"
    assert server.headers is headers
    (record,) = cookie_records(caplog)
    assert record.levelno == logging.WARNING
    assert "Set-Cookie value that is not str" in record.getMessage()
    assert "passed the headers on unaudited" in record.getMessage()


# -- verdicts that a clock instant changes are not kept --------------------------


def http_date(seconds: float) -> str:
    from email.utils import formatdate

    return formatdate(time.time() + seconds, usegmt=True)


@pytest.mark.parametrize(
    ("attributes", "expires_in", "bound"),
    [
        pytest.param("", 30, True, id="expires in 30 s"),
        # Three caches in turn may keep a verdict a VERDICT_TTL each.
        pytest.param("", 150, True, id="expires in 150 s"),
        pytest.param("", 600, False, id="expires in 10 min"),
        pytest.param("", -600, False, id="expired 10 min ago"),
        pytest.param("Max-Age=60; ", 30, False, id="Max-Age wins"),
        pytest.param("Max-Age=x; ", 30, True, id="bad Max-Age"),
        pytest.param("", 400 * 86400 + 30, True, id="cap near"),
        pytest.param("", 400 * 86400 + 600, False, id="cap far"),
        pytest.param("Expires=junk; ", None, False, id="no date"),
        pytest.param("Path=/; ", None, False, id="no Expires"),
    ],
)
def test_a_verdict_an_expires_instant_changes_is_time_bound(
    attributes: str, expires_in: float | None, bound: bool
) -> None:
    if expires_in is not None:  # dated when the test runs
        attributes += f"Expires={http_date(expires_in)}"
    cookie = SetCookie.parse(f"a=1; {attributes}")
    assert wsgifix.rules.summarize(cookie).time_bound is bound


@pytest.mark.python_seams  # moves the wall clock the rules read
def test_a_cookie_expiring_soon_is_judged_anew(later: Any) -> None:
    # C7 domain-mismatch: "remove Domain ... unless the cookie is a
    # deletion". Expiring within the verdicts' lifetime, it becomes one: a
    # kept verdict would still remove its Domain.
    from datetime import timedelta

    header = f"a=1; Path=/; SameSite=Lax; Domain=other.test; Expires={http_date(30)}"
    layer = CookieMiddleware(header_app([("Set-Cookie", header)]))
    before, after = Server(), Server()
    layer(make_environ(), Server().start_response)  # kept from the second
    layer(make_environ(), before.start_response)
    assert "Domain" not in before.headers[0][1]
    later.shift = timedelta(seconds=40)
    layer(make_environ(), after.start_response)
    assert after.headers == [("Set-Cookie", header)]  # a deletion: left as is


def test_secure_over_http_from_a_trusted_proxy_saying_http_advises_https() -> None:
    # The trusted proxy's own X-Forwarded-Proto: http decided: trusting it
    # again is no advice; the browser used http (audit finding).
    stack = wsgifix.wrap(
        header_app([("Set-Cookie", "sid=1; Path=/; Secure; SameSite=Lax")]),
        trusted_proxies="127.0.0.1",
    )
    environ = make_environ(
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="203.0.113.9",
        HTTP_X_FORWARDED_PROTO="http",
    )
    stack(environ, Server().start_response)
    (finding,) = findings(environ)
    assert finding.rule == "secure-over-http"
    assert "redirect http to https" in finding.message


@pytest.mark.parametrize("at", [0, 255, 256, 4000])
@pytest.mark.parametrize("char", ["\x00", "\t", "\x1f", "\x7f", "\x80", "é", "€"])
def test_a_long_cookie_value_with_a_control_is_not_answered_from_the_memo(
    at: int, char: str
) -> None:
    """A remembered response shape whose value now holds a control or
    non-ASCII character anywhere (long values are read as octets) is
    judged again: the findings are those of a layer that never saw it."""
    attributes = "; Path=/; Secure; HttpOnly; SameSite=Lax"
    current = ["sid=" + "a" * (at + 11) + attributes]

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Set-Cookie", current[0])])
        return [b"ok"]

    layer = CookieMiddleware(app)
    for _ in range(3):  # remembered from the second
        layer(make_environ(**HTTPS), Server().start_response)
    current[0] = "sid=" + "a" * at + char + "b" * 10 + attributes
    environ = make_environ(**HTTPS)
    layer(environ, Server().start_response)
    fresh = make_environ(**HTTPS)
    CookieMiddleware(app)(fresh, Server().start_response)
    assert findings(environ) == findings(fresh)
    # Latin-1 letters are allowed, and a tab leading the value is stripped.
    reported = char in "\x00\x1f\x7f€" or (char == "\t" and at > 0)
    assert bool(findings(fresh)) == reported


@pytest.mark.parametrize("attribute", ["X=\x01", "Path=/\t", "Domain=é.test", "Y=\x7f"])
def test_odd_attribute_text_is_judged_by_its_own_memo_key(attribute: str) -> None:
    """Only the name=value pair is checked for plain text on each response
    (the attributes' text is itself in the memo key): a response with an
    odd attribute answered from the memo is judged as a fresh one."""

    def app_with(value: str) -> Any:
        return header_app([("Set-Cookie", f"sid={value}; HttpOnly; {attribute}")])

    layer = CookieMiddleware(app_with("1"))
    for _ in range(2):
        layer(make_environ(), Server().start_response)
    layer.app = app_with("2")
    warm, fresh = Server(), Server()
    seen, new = make_environ(), make_environ()
    layer(seen, warm.start_response)
    CookieMiddleware(app_with("2"))(new, fresh.start_response)
    assert warm.headers == fresh.headers
    assert findings(seen) == findings(new)
    assert findings(new)


class _Name(str):
    """A str subclass as a header name (read as Python reads it)."""


def _outcome(function: Callable[[Any], Any], argument: Any) -> Any:
    """What ``function(argument)`` returns, or the type of what it raises."""
    try:
        return function(argument)
    except Exception as exc:
        return type(exc)


_NAMES = st.sampled_from(
    ["Set-Cookie", "set-cookie", "SET-COOKIE", "Set-Cookiex", "Set-Cooki", "X"]
)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.tuples(_NAMES, st.just("a=1")),
        st.tuples(_NAMES.map(_Name), st.just("a=1")),
        st.tuples(_NAMES.map(str.encode), st.just(b"a=1")),
        st.lists(_NAMES, min_size=1, max_size=3),
        st.tuples(st.integers(), st.just("a=1")),
        st.just(()),
        st.just("Set-Cookie"),
    )
)
def test_the_set_cookie_test_reads_headers_as_python_does(header: Any) -> None:
    # The audit's test reads (str, str) tuples natively compiled; on any
    # header it must answer (or fail) as the plain Python expression does.
    def plain(header: Any) -> bool:
        name = header[0]
        return bool(
            name == "Set-Cookie" or (len(name) == 10 and name.lower() == "set-cookie")
        )

    assert _outcome(wsgifix.cookies._is_set_cookie, header) == _outcome(plain, header)


_HEADERS = st.lists(
    st.one_of(
        st.tuples(_NAMES, st.just("a=1")),
        st.tuples(_NAMES.map(_Name), st.just("b=2")),
        st.tuples(_NAMES.map(str.encode), st.just(b"c=3")),
        st.lists(_NAMES, min_size=2, max_size=2),
    ),
    max_size=5,
)


@settings(max_examples=300, deadline=None)
@given(_HEADERS, st.booleans())
def test_the_set_cookie_headers_are_found_as_python_finds_them(
    headers: list[Any], as_tuple: bool
) -> None:
    # Each build's pass over the headers (compiled: natively for a list;
    # as source: inline) finds what a plain loop finds, in a list or not.
    def plain(headers: Any) -> Any:
        found = [
            (i, header[1])
            for i, header in enumerate(headers)
            if header[0] == "Set-Cookie"
            or (len(header[0]) == 10 and header[0].lower() == "set-cookie")
        ]
        if not found:
            return None
        return [i for i, _ in found], [value for _, value in found]

    given_headers: Any = tuple(headers) if as_tuple else headers
    assert _outcome(wsgifix.cookies._set_cookies, given_headers) == _outcome(
        plain, given_headers
    )


def test_headers_given_as_an_iterator_are_read_once_for_audit_and_server() -> None:
    # PEP 3333 asks for a list; an app passing a generator gets its headers
    # audited and sent all the same, in either build (a first pass used to
    # use up the iterator: the server got none of them).
    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response(
            "200 OK",
            (
                header
                for header in [
                    ("Content-Type", "text/plain"),
                    ("Set-Cookie", "a=1; Path=/"),
                    ("Set-Cookie", "b=2; Path=/"),
                ]
            ),
        )
        return [b"ok"]

    layer = CookieMiddleware(app, cookie_samesite="lax")
    server = Server()
    environ = make_environ()
    assert b"".join(layer(environ, server.start_response)) == b"ok"
    assert server.headers == [
        ("Content-Type", "text/plain"),
        ("Set-Cookie", "a=1; Path=/; SameSite=Lax"),
        ("Set-Cookie", "b=2; Path=/; SameSite=Lax"),
    ]
    assert [(f.rule, f.cookie) for f in findings(environ)] == [
        ("samesite-missing", "a"),
        ("samesite-missing", "b"),
    ]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(alphabet="aB.:[]1-", max_size=12),
            st.sampled_from(["Lab.Test:8080", "[::1]:80", "lab.test.", "a" * 150]),
        ),
        max_size=30,
    )
)
def test_the_bare_host_cache_answers_as_the_computation(hosts: list[str]) -> None:
    # A site's Host values are answered from a bounded table; long client
    # text is not kept in it.
    cache = wsgifix.cookies._BARE_HOSTS
    computed = {}
    for shown in hosts:
        cache.clear()
        computed[shown] = wsgifix.cookies._bare_host(shown)
    cache.clear()
    for shown in hosts + hosts:
        assert wsgifix.cookies._bare_host(shown) == computed[shown]
        assert len(cache) <= wsgifix.cookies._BARE_HOSTS_KEPT
        assert all(len(k) <= wsgifix.cookies._BARE_HOST_TEXT for k in cache)
    cache.clear()
    for i in range(wsgifix.cookies._BARE_HOSTS_KEPT + 5):
        wsgifix.cookies._bare_host(f"h{i}.test")
    assert 0 < len(cache) <= wsgifix.cookies._BARE_HOSTS_KEPT
