"""The prefix layer, ``wsgifix.prefix.PrefixMiddleware`` (CONTRACT.md 2, 3, 7).

Tables of ``pytest.param(settings, environ_in, expected, id=...)``: the
layer alone, then the whole stack (``wrap()``) for the order of the
SCRIPT_NAME segments. ``expected`` lists environ keys the app must see
(``ABSENT``: missing).
"""

from __future__ import annotations

from typing import Any

import pytest

from wsgifix import wrap
from wsgifix.prefix import PrefixMiddleware

ABSENT = "<absent>"


def call(app: Any, environ: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
    """Status and a copy of the environ the inner app saw (None: not called)."""
    statuses: list[str] = []
    result = app(environ, lambda status, headers, exc=None: statuses.append(status))
    b"".join(result)
    return statuses[0], environ_seen.pop() if environ_seen else None


environ_seen: list[dict[str, Any]] = []


def inner(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    environ_seen.append(dict(environ))
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"app"]


def make(changes: dict[str, Any]) -> dict[str, Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/",
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "8080",
        "REMOTE_ADDR": "10.0.0.1",
        "HTTP_HOST": "example.com",
        "wsgi.url_scheme": "http",
    }
    for key, value in changes.items():
        if value is None:
            environ.pop(key, None)
        else:
            environ[key] = value
    return environ


def check(seen: dict[str, Any] | None, expected: dict[str, Any]) -> None:
    assert seen is not None
    for key, want in expected.items():
        assert seen.get(key, ABSENT) == want, key


APP = {"prefix": "/app"}


def _path(path: str | None, **more: Any) -> dict[str, Any]:
    return {"PATH_INFO": path, **more}


# CONTRACT.md 3/7: the prefix strips itself on a path-segment boundary
# only; STYLE.md "Don't copy": PasteDeploy's PrefixMiddleware turns
# /application into 'lication', waitress url_prefix='/' gives SCRIPT_NAME '/'.
ALONE = [
    pytest.param(
        APP,
        _path("/app/x"),
        {
            "SCRIPT_NAME": "/app",
            "PATH_INFO": "/x",
            "wsgifix.orig": {"SCRIPT_NAME": "", "PATH_INFO": "/app/x"},
        },
        id="inside the prefix",
    ),
    pytest.param(
        APP,
        _path("/app"),
        {"SCRIPT_NAME": "/app", "PATH_INFO": ""},
        id="the path equal to the prefix: PATH_INFO ''",
    ),
    pytest.param(
        APP, _path("/app/"), {"SCRIPT_NAME": "/app", "PATH_INFO": "/"}, id="/app/"
    ),
    pytest.param(
        APP,
        _path("/app/a/b/"),
        {"SCRIPT_NAME": "/app", "PATH_INFO": "/a/b/"},
        id="deeper paths keep their rest",
    ),
    pytest.param(
        APP,
        _path("/application"),
        {
            "SCRIPT_NAME": "/app",
            "PATH_INFO": "/application",
            "wsgifix.orig": {"SCRIPT_NAME": ""},
        },
        id="/application is outside /app (PasteDeploy: 'lication')",
    ),
    pytest.param(
        APP,
        _path("/ap"),
        {"SCRIPT_NAME": "/app", "PATH_INFO": "/ap"},
        id="a shorter path is outside",
    ),
    pytest.param(
        APP,
        _path("/"),
        {"SCRIPT_NAME": "/app", "PATH_INFO": "/"},
        id="outside: PATH_INFO unchanged (the proxy stripped it)",
    ),
    pytest.param(
        APP,
        _path("/other/app/x"),
        {"SCRIPT_NAME": "/app", "PATH_INFO": "/other/app/x"},
        id="the prefix only at the start",
    ),
    pytest.param(
        APP,
        _path("/APP/x"),
        {"SCRIPT_NAME": "/app", "PATH_INFO": "/APP/x"},
        id="case-sensitive, as paths are",
    ),
    pytest.param(
        APP,
        _path("/app//x"),
        {"SCRIPT_NAME": "/app", "PATH_INFO": "//x"},
        id="the rest is not normalized",
    ),
    # CONTRACT.md 7: SCRIPT_NAME = forwarded prefix + server's + static.
    pytest.param(
        APP,
        _path("/app/x", SCRIPT_NAME="/mount"),
        {
            "SCRIPT_NAME": "/mount/app",
            "PATH_INFO": "/x",
            "wsgifix.orig": {"SCRIPT_NAME": "/mount", "PATH_INFO": "/app/x"},
        },
        id="after the server's SCRIPT_NAME",
    ),
    pytest.param(
        APP,
        _path("/app/x", SCRIPT_NAME="/"),
        {"SCRIPT_NAME": "/app", "PATH_INFO": "/x"},
        id="a server SCRIPT_NAME '/' gives no '//'",
    ),
    # CONTRACT.md 3 wsgifix.orig: None where the key was absent.
    pytest.param(
        APP,
        _path("/app/x", SCRIPT_NAME=None),
        {
            "SCRIPT_NAME": "/app",
            "PATH_INFO": "/x",
            "wsgifix.orig": {"SCRIPT_NAME": None, "PATH_INFO": "/app/x"},
        },
        id="no SCRIPT_NAME before: recorded as None",
    ),
    pytest.param(
        APP,
        _path(None),
        {"SCRIPT_NAME": "/app", "PATH_INFO": ABSENT},
        id="no PATH_INFO: left absent",
    ),
    pytest.param(
        APP,
        _path("/app/x", **{"wsgifix.orig": {"SCRIPT_NAME": "/was", "X": "y"}}),
        {"wsgifix.orig": {"SCRIPT_NAME": "/was", "X": "y", "PATH_INFO": "/app/x"}},
        id="an earlier layer's originals are kept",
    ),
    pytest.param(
        {"prefix": "/a/b"},
        _path("/a/b/c"),
        {"SCRIPT_NAME": "/a/b", "PATH_INFO": "/c"},
        id="a two-segment prefix",
    ),
    pytest.param(
        {"prefix": "/a/b"},
        _path("/a/bc"),
        {"SCRIPT_NAME": "/a/b", "PATH_INFO": "/a/bc"},
        id="a two-segment prefix on a boundary",
    ),
    pytest.param(
        {"prefix": "/a/b"},
        _path("/a"),
        {"SCRIPT_NAME": "/a/b", "PATH_INFO": "/a"},
        id="a parent of the prefix is outside",
    ),
    # CONTRACT.md 1: values from text are converted in one table.
    pytest.param(
        {"prefix": "/app/"},
        _path("/app/x"),
        {"SCRIPT_NAME": "/app", "PATH_INFO": "/x"},
        id="a trailing / in the setting is dropped",
    ),
    pytest.param(
        {"prefix": " /app "},
        _path("/app"),
        {"SCRIPT_NAME": "/app", "PATH_INFO": ""},
        id="spaces around the setting are dropped",
    ),
    # waitress url_prefix='/' gives SCRIPT_NAME '/'; here '/' is no prefix.
    pytest.param(
        {"prefix": "/"},
        _path("/x"),
        {"SCRIPT_NAME": "", "PATH_INFO": "/x", "wsgifix.orig": ABSENT},
        id="prefix / is no prefix",
    ),
    pytest.param(
        {},
        _path("/app/x"),
        {"SCRIPT_NAME": "", "PATH_INFO": "/app/x", "wsgifix.orig": ABSENT},
        id="no prefix: nothing changes",
    ),
]


@pytest.mark.parametrize(("settings", "environ_in", "expected"), ALONE)
def test_prefix_layer(
    settings: dict[str, Any], environ_in: dict[str, Any], expected: dict[str, Any]
) -> None:
    status, seen = call(PrefixMiddleware(inner, **settings), make(environ_in))
    assert status == "200 OK"
    check(seen, expected)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param("app", "must start with '/'", id="no leading /"),
        pytest.param("//app", "not a plain path", id="//"),
        pytest.param("/a/../b", "'..' segment", id=".."),
        pytest.param("/a/./b", "'.' or '..'", id="."),
        pytest.param("/a//b", "empty", id="empty segment"),
        pytest.param("/a?b", "not a plain path", id="?"),
        pytest.param("/a b", "not a plain path", id="space"),
        pytest.param(5, "not a path", id="not text"),
    ],
)
def test_bad_prefix_fails_at_construction(value: object, message: str) -> None:
    # CONTRACT.md 1: bad values raise ValueError naming the setting.
    with pytest.raises(ValueError, match=r"^prefix: ") as info:
        PrefixMiddleware(inner, prefix=value)
    assert message in str(info.value)


def test_prefix_layer_takes_no_other_setting() -> None:
    # CONTRACT.md 7: a setting of another layer is an error here.
    with pytest.raises(ValueError, match=r"^trusted_proxies: "):
        PrefixMiddleware(inner, trusted_proxies="loopback")


# -- in the whole stack --------------------------------------------------------

FWD = {
    "trusted_proxies": "10.0.0.0/8",
    "trusted_headers": "x-forwarded-for x-forwarded-prefix",
    "prefix": "/static",
    "cookie_policy": "off",
}

STACK = [
    # CONTRACT.md 7: forwarded prefix + server SCRIPT_NAME + static prefix,
    # the order of the segments in the URL.
    pytest.param(
        FWD,
        {
            "HTTP_X_FORWARDED_PREFIX": "/fwd",
            "SCRIPT_NAME": "/srv",
            "PATH_INFO": "/static/x",
        },
        {
            "SCRIPT_NAME": "/fwd/srv/static",
            "PATH_INFO": "/x",
            "wsgifix.orig": {
                "SERVER_NAME": "localhost",
                "SERVER_PORT": "8080",
                "SCRIPT_NAME": "/srv",
                "PATH_INFO": "/static/x",
            },
        },
        id="all three segments in URL order",
    ),
    pytest.param(
        FWD,
        {"HTTP_X_FORWARDED_PREFIX": "/fwd", "PATH_INFO": "/static"},
        {"SCRIPT_NAME": "/fwd/static", "PATH_INFO": ""},
        id="forwarded and static prefix, path equal to the prefix",
    ),
    pytest.param(
        FWD,
        {"HTTP_X_FORWARDED_PREFIX": "/fwd", "PATH_INFO": "/other"},
        {"SCRIPT_NAME": "/fwd/static", "PATH_INFO": "/other"},
        id="outside the static prefix",
    ),
    pytest.param(
        FWD,
        {"PATH_INFO": "/static/x", "REMOTE_ADDR": "203.0.113.9"},
        {
            "SCRIPT_NAME": "/static",
            "PATH_INFO": "/x",
            "HTTP_X_FORWARDED_PREFIX": ABSENT,
        },
        id="an untrusted peer: only the static prefix",
    ),
    pytest.param(
        FWD,
        {
            "HTTP_X_FORWARDED_PREFIX": "/evil",
            "REMOTE_ADDR": "203.0.113.9",
            "PATH_INFO": "/static/x",
        },
        {"SCRIPT_NAME": "/static", "HTTP_X_FORWARDED_PREFIX": ABSENT},
        id="an untrusted peer's prefix is removed, not used",
    ),
    pytest.param(
        FWD,
        {"HTTP_X_FORWARDED_PREFIX": "/", "PATH_INFO": "/static/x"},
        {"SCRIPT_NAME": "/static", "PATH_INFO": "/x"},
        id="forwarded prefix '/' adds nothing",
    ),
    pytest.param(
        FWD,
        {"HTTP_X_FORWARDED_PREFIX": "/a/b/", "SCRIPT_NAME": "/", "PATH_INFO": "/y"},
        {"SCRIPT_NAME": "/a/b/static", "PATH_INFO": "/y"},
        id="no '//' between the segments",
    ),
]


@pytest.mark.parametrize(("settings", "environ_in", "expected"), STACK)
def test_prefix_in_the_stack(
    settings: dict[str, Any], environ_in: dict[str, Any], expected: dict[str, Any]
) -> None:
    status, seen = call(wrap(inner, **settings), make(environ_in))
    assert status == "200 OK"
    check(seen, expected)


def test_a_rejected_request_never_reaches_the_prefix_layer() -> None:
    status, seen = call(
        wrap(inner, **FWD), make({"HTTP_X_FORWARDED_PREFIX": "//evil.example"})
    )
    assert status == "400 Bad Request"
    assert seen is None
