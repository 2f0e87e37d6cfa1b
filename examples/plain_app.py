"""A plain WSGI app that shows what it sees: run it wrapped by wsgifix.

wsgifix serve plain_app:app            (from this directory)
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

KEYS = (
    "wsgi.url_scheme",
    "HTTPS",
    "HTTP_HOST",
    "SERVER_NAME",
    "SERVER_PORT",
    "SCRIPT_NAME",
    "PATH_INFO",
    "REMOTE_ADDR",
)


def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """Answer with the environ keys wsgifix may change, as JSON."""
    seen = {key: environ.get(key) for key in KEYS}
    body = json.dumps(seen, indent=2).encode()
    start_response(
        "200 OK",
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("Set-Cookie", "visited=1; Path=/; HttpOnly"),
        ],
    )
    return [body]


def make_app(global_conf: dict[str, str], **settings: str) -> Any:
    """PasteDeploy app factory (``use = call:plain_app:make_app``)."""
    return app
