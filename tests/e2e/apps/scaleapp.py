"""A plain WSGI app for the scale-out test: which process answered, and
what it saw. It sets a SameSite=None cookie without Secure, which wsgifix
fixes behind an https proxy."""

from __future__ import annotations

import json
import os
from typing import Any


def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    body = json.dumps(
        {
            "pid": os.getpid(),
            "id": environ.get("HTTP_X_REQUEST_ID"),
            "remote_addr": environ.get("REMOTE_ADDR"),
            "scheme": environ.get("wsgi.url_scheme"),
            "host": environ.get("HTTP_HOST"),
            "script_name": environ.get("SCRIPT_NAME"),
        }
    ).encode()
    start_response(
        "200 OK",
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("Set-Cookie", "pref=1; Path=/; SameSite=None"),
        ],
    )
    return [body]
