"""wsgifix.wrap(): the stack, keyword settings, and the WSGIFIX_APP path."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from conftest import EXAMPLES

import wsgifix
from wsgifix import AppLoadError, load_app, wrap


def hello(environ: Any, start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]


class Nested:
    class inner:  # an attribute path like module:attr.sub
        app = staticmethod(hello)


def call(app: Any, **environ: Any) -> tuple[str, bytes]:
    base = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/",
        "SCRIPT_NAME": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
    }
    base.update(environ)
    statuses: list[str] = []
    body = b"".join(
        app(base, lambda status, headers, exc=None: statuses.append(status))
    )
    return statuses[0], body


def test_wrap_builds_the_stack_in_contract_order() -> None:
    # CONTRACT.md section 1: proxy -> host check -> prefix -> cookies -> app.
    app = wrap(hello, trusted_proxies="loopback", prefix="/app", cookie_policy="report")
    assert isinstance(app, wsgifix.ProxyMiddleware)
    assert isinstance(app.app, wsgifix.PrefixMiddleware)
    assert isinstance(app.app.app, wsgifix.CookieMiddleware)
    assert app.app.app.app is hello
    assert call(app) == ("200 OK", b"hello")


def test_wrap_with_debug_path_adds_the_route_inside_the_prefix() -> None:
    app = wrap(hello, debug_path="/_wsgifix", prefix="/app")
    assert isinstance(app.app.app, wsgifix.DebugRoute)


def test_a_layer_with_nothing_to_do_is_left_out() -> None:
    # Issue 7: wrap nothing when a layer has nothing to do (no prefix).
    app = wrap(hello)
    assert isinstance(app, wsgifix.ProxyMiddleware)
    assert isinstance(app.app, wsgifix.CookieMiddleware)


@pytest.mark.parametrize(
    "settings",
    [
        pytest.param({"trusted_proxy": "10.0.0.1"}, id="misspelt name"),
        pytest.param({"trusted_proxies": "10.0.0.1/8"}, id="bad network"),
        pytest.param({"clear_untrusted": "maybe"}, id="bad bool"),
    ],
)
def test_wrap_fails_at_construction(settings: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=rf"^{next(iter(settings))}: "):
        wrap(hello, **settings)


def test_wrap_keyword_strings_use_the_same_converters() -> None:
    # CONTRACT.md section 7: wrap(app, trusted_proxies="a, b").
    app = wrap(hello, trusted_proxies="10.0.0.1, loopback", trusted_hops="2")
    assert app.settings["trusted_proxies"] == ("10.0.0.1", "loopback")
    assert app.settings["trusted_hops"] == 2


@pytest.mark.parametrize(
    ("spec", "found"),
    [
        pytest.param("test_wrap:hello", hello, id="module:attr"),
        pytest.param("test_wrap:Nested.inner.app", hello, id="module:attr.sub"),
    ],
)
def test_load_app(spec: str, found: Any) -> None:
    assert load_app(spec) is found


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        pytest.param(None, "WSGIFIX_APP is not set", id="missing"),
        pytest.param("", "WSGIFIX_APP is not set", id="empty"),
        pytest.param("test_wrap", "is not MODULE:APP", id="no colon"),
        pytest.param("test_wrap:", "is not MODULE:APP", id="no attribute"),
        pytest.param(":app", "is not MODULE:APP", id="no module"),
        pytest.param(
            "no_such_module_xyz:app",
            "cannot import 'no_such_module_xyz'",
            id="no module found",
        ),
        pytest.param(
            "test_wrap:nothing", "has no attribute 'nothing'", id="no such attribute"
        ),
        pytest.param(
            "test_wrap:Nested.missing",
            "has no attribute 'Nested.missing'",
            id="no such sub-attribute",
        ),
        pytest.param(
            "test_wrap:__doc__", "is not a WSGI application", id="not callable"
        ),
        pytest.param(
            "broken_app_xyz:app", "ZeroDivisionError", id="module raises on import"
        ),
    ],
)
def test_load_app_errors_are_one_line(
    spec: str | None, message: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "broken_app_xyz.py").write_text("app = 1 / 0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(AppLoadError) as info:
        load_app(spec)
    text = str(info.value.code)
    assert "\n" not in text
    assert text.startswith("wsgifix: error: ")
    assert message in text


def test_wrap_without_app_reads_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.syspath_prepend(str(EXAMPLES))
    monkeypatch.setenv("WSGIFIX_APP", "plain_app:app")
    monkeypatch.setenv("WSGIFIX_TRUSTED_PROXIES", "10.0.0.0/8 loopback")
    monkeypatch.setenv("WSGIFIX_COOKIE_POLICY", "report")
    app = wrap(cookie_policy="off")  # a keyword beats the environment
    assert app.settings["trusted_proxies"] == ("10.0.0.0/8", "loopback")
    assert app.app.settings["cookie_policy"] == "off"
    status, body = call(app, PATH_INFO="/env")
    assert status == "200 OK"
    assert b'"/env"' in body


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        pytest.param({}, "WSGIFIX_APP is not set", id="no WSGIFIX_APP"),
        pytest.param(
            {"WSGIFIX_APP": "nope_xyz:app"}, "cannot import", id="broken WSGIFIX_APP"
        ),
        pytest.param(
            {"WSGIFIX_APP": "test_wrap:hello", "WSGIFIX_TRUSTED_PROXY": "x"},
            "WSGIFIX_TRUSTED_PROXY: unknown",
            id="unknown variable",
        ),
        pytest.param(
            {"WSGIFIX_APP": "test_wrap:hello", "WSGIFIX_TRUSTED_HOPS": "x"},
            "trusted_hops: ",
            id="bad value",
        ),
    ],
)
def test_wrap_without_app_errors(
    environ: dict[str, str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in [k for k in list(__import__("os").environ) if k.startswith("WSGIFIX_")]:
        monkeypatch.delenv(key)
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(AppLoadError) as info:
        wrap()
    assert message in str(info.value.code)
    assert "\n" not in str(info.value.code)
    # C1: a bad or unknown setting is a ValueError naming it.
    app_error = message in ("WSGIFIX_APP is not set", "cannot import")
    assert isinstance(info.value, ValueError) == (not app_error)


def test_wrap_without_app_bad_keyword_is_a_value_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WSGIFIX_APP", "test_wrap:hello")
    with pytest.raises(ValueError, match="cookie_policy") as info:
        wrap(cookie_policy="bogus")
    assert isinstance(info.value, SystemExit)  # one line under waitress-serve


def test_module_reexports() -> None:
    assert set(wsgifix.__all__) <= set(dir(wsgifix))
    assert "wsgifix" in sys.modules
