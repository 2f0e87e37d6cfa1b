"""The workload a profile-guided compiled build is trained on.

``COMPILE_WSGIFIX=1`` with GCC compiles the request-path modules with
profiling counters, runs ``python -m wsgifix._training`` against them
(~2 s), and compiles them again with ``-fprofile-use``: the compiler then
lays out and inlines the code for the paths real requests take (setup.py,
README.rst "Performance"). The requests are the benchmarks' (a browser's
headers, a trusted proxy's X-Forwarded-* or Forwarded, responses with and
without Set-Cookie) plus the rarer paths in smaller numbers, so that none
is laid out as dead code. Only wsgifix and the standard library are
imported: the build environment has nothing else.

Run by hand it trains whichever build is imported; it prints that build.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable
from typing import Any

import wsgifix

Headers = list[tuple[str, str]]

BROWSER = {
    "REQUEST_METHOD": "GET",
    "SCRIPT_NAME": "",
    "PATH_INFO": "/cart",
    "QUERY_STRING": "",
    "SERVER_NAME": "waitress.invalid",
    "SERVER_PORT": "8080",
    "SERVER_PROTOCOL": "HTTP/1.1",
    "REMOTE_ADDR": "127.0.0.1",
    "wsgi.url_scheme": "http",
    "HTTP_HOST": "127.0.0.1:8080",
    "HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0 Safari/537.36",
    "HTTP_ACCEPT": "text/html,application/xhtml+xml,*/*;q=0.8",
    "HTTP_ACCEPT_ENCODING": "gzip, deflate, br",
    "HTTP_COOKIE": "session=eyJ1c2VyIjoiYWxpY2UifQ.Zx; theme=dark",
    "HTTP_SEC_FETCH_SITE": "same-origin",
    "HTTP_SEC_FETCH_MODE": "navigate",
    "HTTP_SEC_FETCH_DEST": "document",
}
X_FORWARDED = {
    "HTTP_X_FORWARDED_FOR": "203.0.113.9, 198.51.100.7",
    "HTTP_X_FORWARDED_PROTO": "https",
    "HTTP_X_FORWARDED_HOST": "shop.example.com",
    "HTTP_X_FORWARDED_PORT": "443",
    "HTTP_X_FORWARDED_PREFIX": "/app",
}
FORWARDED = {
    "HTTP_FORWARDED": 'for=203.0.113.9;proto=https;host="shop.example.com"',
}
COOKIES: Headers = [
    ("Set-Cookie", "session=eyJ1c2VyIjoiYWxpY2UifQ.Zy; HttpOnly; Path=/; SameSite=Lax"),
    ("Set-Cookie", "theme=dark; Path=/; Max-Age=31536000"),
]
CLEAN: Headers = [(name, value + "; Secure") for name, value in COOKIES]
CLEAN[1] = (CLEAN[1][0], CLEAN[1][1] + "; SameSite=Lax")
# Headers that set off the rules (COOKIE_RULES.md), each with a Path of
# "/v" that the training makes new per response.
VARIED = (
    "sid=1; Domain=example.com; Path=/v; Secure; HttpOnly; SameSite=Strict",
    "t=2; Domain=.www.example.com; Path=/v; Expires=Wed, 21 Oct 2099 07:28:00 GMT",
    "bad=3; Domain=co.uk; Path=/v",
    "ip=4; Domain=10.0.0.1; Path=/v",
    "__Host-x=5; Path=/v; Secure",
    "__Secure-y=6; Path=/v",
    "none=7; SameSite=None; Path=/v",
    "part=8; Partitioned; Path=/v",
    "odd=9; SameSite=Maybe; Max-Age=abc; Path=/v",
    "old=10; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/v",
    "long=11; Max-Age=99999999999; Path=/v",
    "twice=12; Path=/v; Path=/v; Secure; Secure",
    "=nameless; Path=/v",
    "relative=13; Path=v",
    "big=" + "x" * 5000 + "; Path=/v",
    "ctl=a\x01b; Path=/v",
    "wide=\u00e9t\u00e9; Path=/v",
)
X_HEADERS = (
    "x-forwarded-for x-forwarded-proto x-forwarded-host x-forwarded-port "
    "x-forwarded-prefix"
)


def _app(batches: list[Headers]) -> Callable[..., Iterable[bytes]]:
    """An app answering call i with ``Content-Type`` and ``batches[i % len]``."""
    calls = [0]

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        headers = batches[calls[0] % len(batches)]
        calls[0] += 1
        start_response("200 OK", [("Content-Type", "text/plain"), *headers])
        return [b"ok"]

    return app


def _start_response(status: str, headers: Any, exc_info: Any = None) -> None:
    return None


def _serve(app: Any, model: dict[str, str], n: int) -> None:
    """``n`` requests like ``model``, each header value a new string (as a
    server's parser makes them)."""
    for _ in range(n):
        environ = {
            key: "".join(list(value)) if key.startswith("HTTP_") else value
            for key, value in model.items()
        }
        for _ in app(environ, _start_response):
            pass


def train(n: int = 20000) -> None:
    """About ``n`` requests on the common paths, fewer on the others."""
    logging.disable(logging.CRITICAL)
    try:
        behind = {**BROWSER, **X_FORWARDED}

        def proxied(batches: list[Headers], **settings: Any) -> Any:
            settings.setdefault("trusted_headers", X_HEADERS)
            return wsgifix.wrap(_app(batches), trusted_proxies="127.0.0.1", **settings)

        # Behind a trusted proxy: the request, and its variants.
        _serve(proxied([COOKIES]), behind, n)
        _serve(proxied([[]]), behind, n)
        _serve(proxied([CLEAN]), behind, n // 2)
        _serve(proxied([COOKIES], cookie_policy="report"), behind, n // 4)
        _serve(proxied([COOKIES], detect_races=False), behind, n // 4)
        rfc7239 = proxied([COOKIES], trusted_headers="forwarded")
        _serve(rfc7239, {**BROWSER, **FORWARDED}, n // 4)
        # Another request in flight: the race table.
        busy = proxied([COOKIES])
        layer = busy
        while not isinstance(layer, wsgifix.CookieMiddleware):
            layer = layer.app
        if layer.races is not None:
            layer.races.flying.append(None)
        _serve(busy, behind, n // 4)
        # Hostile X-Forwarded-For.
        for entries in (1000, 10000):
            chain = ", ".join(
                f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"
                for i in range(entries)
            )
            hostile = {**behind, "HTTP_X_FORWARDED_FOR": chain}
            _serve(proxied([COOKIES]), hostile, max(n // 40, 10))
        # Nothing to do (an untrusted peer, no forwarding headers), and
        # direct requests that set cookies.
        _serve(wsgifix.wrap(_app([[]])), BROWSER, n)
        _serve(wsgifix.wrap(_app([COOKIES])), BROWSER, n // 4)
        # New clients and hosts (a memo miss each).
        clients = [
            {**behind, "HTTP_X_FORWARDED_FOR": f"203.0.113.{i % 250}"}
            for i in range(n // 8)
        ]
        app = proxied([COOKIES])
        for model in clients:
            _serve(app, model, 1)
        # Set-Cookie: first sight (a new attribute string each time) and
        # headers seen before, 1 to 10 a response.
        https = {**BROWSER, "wsgi.url_scheme": "https"}
        del https["HTTP_COOKIE"]
        fresh = [
            [("Set-Cookie", f"id={i}; Path=/p{i}; HttpOnly; Secure")]
            for i in range(n // 4)
        ]
        _serve(wsgifix.CookieMiddleware(_app(fresh)), https, n // 4)
        for count in (1, 2, 10):
            attributes = "; Path=/; HttpOnly; Secure; SameSite=Lax"
            batches = [
                [("Set-Cookie", f"c{k}=v{i}x{k}{attributes}") for k in range(count)]
                for i in range(97)
            ]
            _serve(wsgifix.CookieMiddleware(_app(batches)), https, n // 4)
        # Every rule's path, judged anew (a new Path each time), over https
        # and http: the first sight of what apps get wrong.
        for model in (https, {**BROWSER, "HTTP_HOST": "www.example.com"}):
            varied = [
                [("Set-Cookie", header.replace("/v", f"/v{i}")) for header in VARIED]
                for i in range(max(n // 40, 10))
            ]
            _serve(wsgifix.CookieMiddleware(_app(varied)), model, len(varied))
    finally:
        logging.disable(logging.NOTSET)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    train(int(args[0]) if args else 20000)
    print(f"trained: wsgifix {wsgifix.build_name()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
