"""The prefix layer: a fixed mount prefix -> SCRIPT_NAME / PATH_INFO.

Like waitress's ``url_prefix``, but on a path-segment boundary only:
with ``prefix=/app``, ``/app`` and ``/app/x`` are inside the mount (PATH_INFO
``""`` and ``/x``), ``/application`` is not. A request outside the prefix
reaches the app with PATH_INFO unchanged (the proxy is assumed to have
stripped it already). Either way SCRIPT_NAME becomes the server's
SCRIPT_NAME (after any forwarded prefix) followed by the prefix, so URLs the
app builds carry it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wsgifix import config

if TYPE_CHECKING:
    from collections.abc import Iterable

    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment


class PrefixMiddleware:
    """Strip a fixed prefix from PATH_INFO on a segment boundary.

    Changes ``SCRIPT_NAME`` and ``PATH_INFO``; their originals go to
    ``environ["wsgifix.orig"]`` (created when this layer runs alone).
    """

    def __init__(self, app: WSGIApplication, **settings: Any) -> None:
        self.app = app
        self.prefix: str = config.resolve(settings, layer="prefix")["prefix"]
        self._inside = self.prefix + "/"

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        prefix = self.prefix
        if prefix:
            orig = environ.get("wsgifix.orig")
            if orig is None:
                orig = environ["wsgifix.orig"] = {}
            # Not text (no server sends that; a test harness may): a
            # PATH_INFO is left as it is, a SCRIPT_NAME read as empty.
            path: Any = environ.get("PATH_INFO", "")
            if type(path) is str and (path == prefix or path.startswith(self._inside)):
                orig.setdefault("PATH_INFO", path)
                environ["PATH_INFO"] = path[len(prefix) :]
            script: Any = environ.get("SCRIPT_NAME")
            orig.setdefault("SCRIPT_NAME", script)  # None: absent (CONTRACT.md 3)
            base = script.rstrip("/") if type(script) is str else ""
            environ["SCRIPT_NAME"] = base + prefix
        return self.app(environ, start_response)
