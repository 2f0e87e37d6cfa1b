"""PasteDeploy: the example pipeline loaded for real, and bad .ini values."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLES
from paste.deploy import loadapp, loadfilter

import wsgifix
from wsgifix import paste

PIPELINE = EXAMPLES / "pipeline.ini"


@pytest.fixture(autouse=True)
def _examples_importable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(EXAMPLES))


def test_example_pipeline_loads_the_whole_stack() -> None:
    app: Any = loadapp(f"config:{PIPELINE}")
    assert isinstance(app, wsgifix.ProxyMiddleware)
    # Multi-line and comma lists from the .ini went through the table.
    assert app.settings["trusted_proxies"] == ("127.0.0.1", "10.0.0.0/8")
    assert app.settings["trusted_headers"] == (
        "x-forwarded-for",
        "x-forwarded-proto",
        "x-forwarded-host",
    )
    assert app.app.prefix == "/app"
    assert app.app.app.settings["cookie_httponly"] == ("session",)
    environ = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
    }
    body = b"".join(app(environ, lambda *args: None))
    assert "PATH_INFO" in json.loads(body)


def test_example_layers_pipeline() -> None:
    app: Any = loadapp(f"config:{PIPELINE}", name="layers")
    assert isinstance(app, wsgifix.ProxyMiddleware)
    assert app.settings["allowed_hosts"] == ("example.com", ".example.org")
    assert isinstance(app.app, wsgifix.PrefixMiddleware)
    assert isinstance(app.app.app, wsgifix.CookieMiddleware)
    assert app.app.app.settings["cookie_policy"] == "report"


def write_ini(tmp_path: Path, body: str) -> str:
    path = tmp_path / "test.ini"
    path.write_text(
        textwrap.dedent(body) + "\n[app:myapp]\nuse = call:plain_app:make_app\n"
    )
    return f"config:{path}"


@pytest.mark.parametrize(
    ("use", "key", "value", "message"),
    [
        pytest.param(
            "egg:wsgifix",
            "trusted_proxies",
            "10.0.0.1/8",
            "trusted_proxies: ",
            id="main bad value",
        ),
        pytest.param(
            "egg:wsgifix",
            "trusted_proxy",
            "10.0.0.1",
            "trusted_proxy: unknown",
            id="main misspelt",
        ),
        pytest.param(
            "egg:wsgifix#proxy",
            "prefix",
            "/app",
            "prefix: belongs to the prefix layer",
            id="proxy other layer",
        ),
        pytest.param(
            "egg:wsgifix#proxy",
            "allowed_hosts",
            "example.com:80",
            "allowed_hosts: ",
            id="proxy bad value",
        ),
        pytest.param(
            "egg:wsgifix#prefix", "prefix", "app", "prefix: ", id="prefix bad value"
        ),
        pytest.param(
            "egg:wsgifix#prefix",
            "debug_path",
            "/x",
            "debug_path: belongs to the stack",
            id="prefix other layer",
        ),
        pytest.param(
            "egg:wsgifix#cookies",
            "cookie_policy",
            "loud",
            "cookie_policy: ",
            id="cookies bad value",
        ),
        pytest.param(
            "call:wsgifix.paste:filter_factory",
            "detect_races",
            "maybe",
            "detect_races: ",
            id="call bad bool",
        ),
    ],
)
def test_bad_values_fail_when_the_ini_is_loaded(
    tmp_path: Path, use: str, key: str, value: str, message: str
) -> None:
    uri = write_ini(
        tmp_path,
        f"""
        [pipeline:main]
        pipeline = f myapp

        [filter:f]
        use = {use}
        {key} = {value}
        """,
    )
    with pytest.raises(ValueError, match=message):
        loadapp(uri)


@pytest.mark.parametrize(
    ("use", "cls"),
    [
        pytest.param("egg:wsgifix", wsgifix.ProxyMiddleware, id="main"),
        pytest.param("egg:wsgifix#main", wsgifix.ProxyMiddleware, id="main by name"),
        pytest.param("egg:wsgifix#proxy", wsgifix.ProxyMiddleware, id="proxy"),
        pytest.param("egg:wsgifix#prefix", wsgifix.PrefixMiddleware, id="prefix"),
        pytest.param("egg:wsgifix#cookies", wsgifix.CookieMiddleware, id="cookies"),
        pytest.param(
            "call:wsgifix.paste:filter_factory", wsgifix.ProxyMiddleware, id="call"
        ),
        pytest.param(
            "call:wsgifix.paste:cookies_filter_factory",
            wsgifix.CookieMiddleware,
            id="call cookies",
        ),
    ],
)
def test_each_entry_point_loads(tmp_path: Path, use: str, cls: type) -> None:
    uri = write_ini(tmp_path, f"[filter:f]\nuse = {use}\n")
    filt = loadfilter(uri, name="f")
    assert isinstance(filt(lambda e, s: []), cls)


def test_factories_are_named_for_their_layer() -> None:
    assert paste.proxy_filter_factory.__name__ == "proxy_filter_factory"
