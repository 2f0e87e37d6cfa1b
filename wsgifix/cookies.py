"""The cookie layer: audit every Set-Cookie against the effective request.

PASS-THROUGH PLACEHOLDER (issue 2): the layer accepts and checks its
settings but does not audit responses yet; issue 4 implements it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wsgifix import config

if TYPE_CHECKING:
    from collections.abc import Iterable

    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment


class CookieMiddleware:
    """Audit and fix Set-Cookie headers (wraps start_response only)."""

    def __init__(self, app: WSGIApplication, **settings: Any) -> None:
        self.app = app
        self.settings = config.resolve(settings, layer="cookies")

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        # PASS-THROUGH PLACEHOLDER: replaced by issue 4.
        return self.app(environ, start_response)
