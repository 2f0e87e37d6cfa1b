"""The proxy layer: trusted forwarding headers -> the environ, then host checks.

PASS-THROUGH PLACEHOLDER (issue 2): the layer accepts and checks its
settings but does not change requests yet; issue 3 implements it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wsgifix import config

if TYPE_CHECKING:
    from collections.abc import Iterable

    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment


class ProxyMiddleware:
    """Apply forwarding headers from trusted proxies; validate the Host."""

    def __init__(self, app: WSGIApplication, **settings: Any) -> None:
        self.app = app
        self.settings = config.resolve(settings, layer="proxy")

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        # PASS-THROUGH PLACEHOLDER: replaced by issue 3.
        return self.app(environ, start_response)
