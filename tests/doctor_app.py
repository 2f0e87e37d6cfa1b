"""A small app with known-good and known-bad cookies, for doctor's tests."""

from __future__ import annotations

from typing import Any

COOKIES = {
    "/good": ["session=abc; Path=/; HttpOnly; SameSite=Lax"],
    "/bad": [
        "session=abc; Path=/; Secure; HttpOnly",  # Secure over http
        "pref=1; Path=/; SameSite=None",  # None without Secure
        "wide=1; Path=/; Domain=example.org",  # not this host
    ],
}


def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    path = environ.get("PATH_INFO", "/")
    if path == "/redirect":
        start_response(
            "302 Found", [("Location", "/bad"), ("Set-Cookie", "hop=1; Path=/")]
        )
        return [b""]
    if path == "/elsewhere":  # to another host of the same server
        port = environ.get("SERVER_PORT", "80")
        start_response("302 Found", [("Location", f"http://localhost:{port}/creds")])
        return [b""]
    if path == "/creds":  # which of the -H headers reached this host
        sent = "HTTP_AUTHORIZATION" in environ or "HTTP_COOKIE" in environ
        name = "creds_sent" if sent else "creds_dropped"
        start_response("200 OK", [("Set-Cookie", f"{name}=1; Path=/")])
        return [b""]
    cookies = COOKIES.get(path)
    if cookies is None:
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]
    headers = [("Content-Type", "text/plain")] + [("Set-Cookie", c) for c in cookies]
    start_response("200 OK", headers)
    return [b"ok"]


def raises(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    raise RuntimeError("boom\nsecond line")


def raises_in_body(environ: dict[str, Any], start_response: Any) -> Any:
    start_response("200 OK", [("Set-Cookie", "session=abc; Path=/")])
    yield b"partial"
    raise LookupError("lost mid-stream")


def raises_bare(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    raise NotImplementedError
