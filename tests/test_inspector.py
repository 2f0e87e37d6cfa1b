"""The minimal inspector page and the debug_path route."""

from __future__ import annotations

import json
from typing import Any

import pytest

from wsgifix import wrap
from wsgifix.inspector import make_inspector


def app(environ: Any, start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"app"]


def request(
    wsgi: Any, path: str = "/", query: str = "", **extra: str
) -> tuple[str, bytes]:
    environ = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "8080",
        "HTTP_HOST": "localhost:8080",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        **extra,
    }
    status: list[str] = []
    body = b"".join(wsgi(environ, lambda s, h, e=None: status.append(s)))
    return status[0], body


def test_json_masks_secrets() -> None:
    # CONTRACT.md section 7: masked headers.
    page = make_inspector({})
    _, body = request(
        page,
        query="format=json",
        HTTP_AUTHORIZATION="Basic c2VjcmV0",
        HTTP_PROXY_AUTHORIZATION="x",
        HTTP_COOKIE="session=abc",
        HTTP_X_API_KEY="k",
        HTTP_X_CSRF_TOKEN="t",
        HTTP_X_SESSION_ID="s",
        HTTP_X_MY_SECRET="s",
        HTTP_ACCEPT="text/html",
    )
    doc = json.loads(body)
    for key in [
        "HTTP_AUTHORIZATION",
        "HTTP_PROXY_AUTHORIZATION",
        "HTTP_COOKIE",
        "HTTP_X_API_KEY",
        "HTTP_X_CSRF_TOKEN",
        "HTTP_X_SESSION_ID",
        "HTTP_X_MY_SECRET",
    ]:
        assert doc["effective"][key] == "********", key
        assert doc["raw"][key] == "********", key
    assert doc["effective"]["HTTP_ACCEPT"] == "text/html"
    assert "c2VjcmV0" not in body.decode()


def test_html_page_escapes_and_shows_the_effective_url() -> None:
    _, body = request(make_inspector({}), HTTP_X_EVIL="<script>")
    page = body.decode()
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    assert "http://localhost:8080" in page


def test_raw_comes_from_wsgifix_orig() -> None:
    _, body = request(
        make_inspector({}),
        query="format=json",
        REMOTE_ADDR="203.0.113.7",
        **{"wsgifix.orig": {"REMOTE_ADDR": "127.0.0.1", "HTTPS": None}},  # type: ignore[dict-item]
    )
    doc = json.loads(body)
    assert doc["raw"]["REMOTE_ADDR"] == "127.0.0.1"
    assert doc["effective"]["REMOTE_ADDR"] == "203.0.113.7"


@pytest.mark.parametrize(
    ("extra", "status"),
    [
        pytest.param({}, "200 OK", id="loopback peer"),
        pytest.param({"REMOTE_ADDR": "::1"}, "200 OK", id="IPv6 loopback peer"),
        pytest.param({"REMOTE_ADDR": "10.0.0.1"}, "404 Not Found", id="other peer"),
        pytest.param(
            {"HTTP_X_FORWARDED_FOR": "127.0.0.1"},
            "404 Not Found",
            id="forwarded request",
        ),
        pytest.param(
            {"HTTP_FORWARDED": "for=127.0.0.1"}, "404 Not Found", id="Forwarded request"
        ),
    ],
)
def test_debug_path_only_for_local_clients(extra: dict[str, str], status: str) -> None:
    # CONTRACT.md section 7: the page is never exposed through a proxy.
    wrapped = wrap(app, debug_path="/_wsgifix")
    assert request(wrapped, "/_wsgifix", **extra)[0] == status
    assert request(wrapped, "/other", **extra) == ("200 OK", b"app")


PROXY = {"trusted_proxies": "10.0.0.5", "trusted_headers": "x-forwarded-for"}


@pytest.mark.parametrize(
    ("settings", "extra", "status"),
    [
        # CONTRACT.md section 7, debug_path: through a trusted proxy only a
        # forwarded client that is loopback or a trusted proxy gets the page.
        pytest.param(
            PROXY, {"REMOTE_ADDR": "10.0.0.5"}, "200 OK", id="trusted proxy itself"
        ),
        pytest.param(
            PROXY,
            {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": "127.0.0.1"},
            "200 OK",
            id="forwarded loopback client",
        ),
        pytest.param(
            PROXY,
            {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": "203.0.113.9"},
            "404 Not Found",
            id="forwarded internet client",
        ),
        pytest.param(
            PROXY,
            {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": "unknown"},
            "404 Not Found",
            id="forwarded unknown client",
        ),
        pytest.param(
            PROXY,
            {
                "REMOTE_ADDR": "10.0.0.5",
                "HTTP_X_FORWARDED_FOR": "127.0.0.1",
                "HTTP_X_FORWARDED_HOST": "a.example",
            },
            "404 Not Found",
            id="a header that was not honoured",
        ),
        pytest.param(
            {**PROXY, "on_invalid": "ignore"},
            {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": "127.0.0.1, junk"},
            "404 Not Found",
            id="an ignored invalid header",
        ),
        pytest.param(
            {"trusted_proxies": "*"},
            {"REMOTE_ADDR": "10.0.0.5"},
            "404 Not Found",
            id="star: a non-loopback peer",
        ),
        pytest.param(
            {"trusted_proxies": "*"},
            {"HTTP_X_FORWARDED_FOR": "127.0.0.1"},
            "404 Not Found",
            id="star: a forwarded request",
        ),
        pytest.param({"trusted_proxies": "*"}, {}, "200 OK", id="star: loopback peer"),
        pytest.param(
            {"trusted_hops": "1"},
            {"HTTP_X_FORWARDED_FOR": "127.0.0.1"},
            "404 Not Found",
            id="hop mode: a forwarded request",
        ),
    ],
)
def test_debug_path_behind_a_proxy(
    settings: dict[str, str], extra: dict[str, str], status: str
) -> None:
    wrapped = wrap(app, debug_path="/_wsgifix", **settings)
    assert request(wrapped, "/_wsgifix", **extra)[0] == status


def test_json_reports_the_trust_decision() -> None:
    wrapped = wrap(app, debug_path="/_wsgifix", trusted_proxies="10.0.0.5")
    _, body = request(
        wrapped,
        "/_wsgifix",
        query="format=json",
        REMOTE_ADDR="10.0.0.5",
        HTTP_X_FORWARDED_FOR="127.0.0.1",
        HTTP_X_FORWARDED_PROTO="https",
    )
    trust = json.loads(body)["trust"]
    assert trust["peer"] == "10.0.0.5"
    assert trust["trusted_by"] == "10.0.0.5"
    assert trust["client"] == "127.0.0.1"
    assert trust["headers"]["HTTP_X_FORWARDED_FOR"]["status"] == "honoured"
