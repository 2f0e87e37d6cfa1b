"""The proxy layer under a real waitress subprocess (CONTRACT.md sections 3, 6)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

ALL_HEADERS = (
    "x-forwarded-for x-forwarded-proto x-forwarded-host "
    "x-forwarded-port x-forwarded-prefix"
)


def fetch(url: str, headers: dict[str, str]) -> tuple[int, Any]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_wsgifix_serve_applies_trusted_headers(server_factory: Any) -> None:
    server = server_factory(
        [
            "wsgifix",
            "serve",
            "--port",
            "0",
            "--trusted-proxies",
            "loopback",
            "--trusted-headers",
            ALL_HEADERS,
        ]
    )
    status, doc = fetch(
        server.url + "/?format=json",
        {
            "X-Forwarded-For": "203.0.113.9, 198.51.100.7",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "Shop.Example.com",
            "X-Forwarded-Port": "8443",
            "X-Forwarded-Prefix": "/shop/",
        },
    )
    assert status == 200
    effective = doc["effective"]
    assert effective["REMOTE_ADDR"] == "198.51.100.7"
    assert "REMOTE_PORT" not in effective
    assert effective["wsgi.url_scheme"] == "https"
    assert effective["HTTPS"] == "on"
    assert effective["HTTP_HOST"] == "shop.example.com:8443"
    assert effective["SERVER_NAME"] == "shop.example.com"
    assert effective["SERVER_PORT"] == "8443"
    assert effective["SCRIPT_NAME"] == "/shop"
    # The honoured list is cut to its trusted part.
    assert effective["HTTP_X_FORWARDED_FOR"] == "198.51.100.7"
    assert doc["raw"]["HTTP_X_FORWARDED_FOR"] == "203.0.113.9, 198.51.100.7"
    assert doc["trust"]["trusted_by"] == "loopback"


def test_wsgifix_serve_rejects_a_bad_value_with_one_line(server_factory: Any) -> None:
    server = server_factory(
        ["wsgifix", "serve", "--port", "0", "--trusted-proxies", "127.0.0.1"]
    )
    status, body = fetch(server.url + "/", {"X-Forwarded-Proto": "gopher"})
    assert status == 400
    assert body == "400 Bad Request: X-Forwarded-Proto: 'gopher' is not http or https\n"
    output = server.stop()
    assert output.count("X-Forwarded-Proto: 'gopher'") == 1  # one WARNING


def test_untrusted_peer_headers_are_removed_and_advice_logged(
    server_factory: Any,
) -> None:
    server = server_factory(["wsgifix", "serve", "--port", "0"])
    for _ in range(3):
        status, doc = fetch(
            server.url + "/?format=json",
            {"X-Forwarded-For": "6.6.6.6", "X-Forwarded-Proto": "https"},
        )
        assert status == 200
        assert doc["effective"]["REMOTE_ADDR"] == "127.0.0.1"
        assert doc["effective"]["wsgi.url_scheme"] == "http"
        assert "HTTP_X_FORWARDED_FOR" not in doc["effective"]
    output = server.stop()
    advice = [line for line in output.splitlines() if "no proxy is trusted" in line]
    assert len(advice) == 1
    assert "trusted_proxies=127.0.0.1" in advice[0]


def test_waitress_default_stripping_is_explained_once(server_factory: Any) -> None:
    # CONTRACT.md section 6: plain waitress-serve deletes X-Forwarded-Proto but
    # lets X-Forwarded-Prefix through; wsgifix says how to fix the server.
    server = server_factory(
        ["waitress-serve", "--listen=127.0.0.1:0", "--call", "wsgifix:wrap"],
        env={
            "WSGIFIX_APP": "plain_app:app",
            "WSGIFIX_TRUSTED_PROXIES": "loopback",
            "WSGIFIX_TRUSTED_HEADERS": "x-forwarded-proto x-forwarded-prefix",
        },
        cwd=__import__("conftest").EXAMPLES,
    )
    for _ in range(2):
        status, doc = fetch(
            server.url + "/x",
            {"X-Forwarded-Proto": "https", "X-Forwarded-Prefix": "/app"},
        )
        assert status == 200
        assert doc["wsgi.url_scheme"] == "http"  # waitress deleted the header
        assert doc["SCRIPT_NAME"] == "/app"
    time.sleep(0.2)
    output = server.stop()
    assert output.count("clear_untrusted_proxy_headers=False") == 1, output
