"""The prefix layer: a fixed mount prefix -> SCRIPT_NAME / PATH_INFO.

PASS-THROUGH PLACEHOLDER (issue 2): the layer accepts and checks its
setting but does not change requests yet; issue 3 implements it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wsgifix import config

if TYPE_CHECKING:
    from collections.abc import Iterable

    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment


class PrefixMiddleware:
    """Strip a fixed prefix from PATH_INFO on a segment boundary."""

    def __init__(self, app: WSGIApplication, **settings: Any) -> None:
        self.app = app
        self.prefix: str = config.resolve(settings, layer="prefix")["prefix"]

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        # PASS-THROUGH PLACEHOLDER: replaced by issue 3.
        return self.app(environ, start_response)
