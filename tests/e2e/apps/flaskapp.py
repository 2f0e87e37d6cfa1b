"""The Flask app behind the proxies in the e2e tests.

Served from the repository root, e.g.
``wsgifix serve tests.e2e.apps.flaskapp:app`` or, without wsgifix,
``waitress-serve tests.e2e.apps.flaskapp:samesite_none``.

Routes (every app):

* ``/``: what the app believes about the request, as JSON (the external URL
  ``url_for`` builds, scheme, client address, host, script root, and the
  forwarding headers that reached it).
* ``/redirect``: a redirect to the external URL of ``/``.
* ``/set``: puts a user in the Flask session and redirects to ``/check``
  (a relative Location, or an external one for ``external_redirect``).
* ``/check``: the user in the session, as JSON.
* ``/findings``: ``environ["wsgifix.findings"]`` of the requests served so
  far (wsgifix fills the list during ``start_response``, after the view ran,
  so a request cannot see its own).

``app`` is Flask alone. The browser scenarios (``samesite_none``,
``foreign_domain``, ``external_redirect``) wrap it in werkzeug's
``ProxyFix(x_proto=1, x_prefix=1)``, the usual setup of an app that is not
using wsgifix: under plain ``waitress-serve`` the prefix header survives
(waitress does not delete ``X-Forwarded-Prefix``) while the proto header
does not, so without wsgifix only the problem under test remains.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flask import Flask, jsonify, redirect, request, session, url_for
from werkzeug.middleware.proxy_fix import ProxyFix

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

FORWARDING_HEADERS = (
    "Forwarded",
    "X-Forwarded-For",
    "X-Forwarded-Proto",
    "X-Forwarded-Host",
    "X-Forwarded-Port",
    "X-Forwarded-Prefix",
)


class FindingsRecorder:
    """Keeps the wsgifix findings of every request for ``GET /findings``."""

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app
        self.findings: list[dict[str, Any]] = []

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        result = self.app(environ, start_response)
        # Flask has called start_response by now: wsgifix audited the cookies.
        self.findings.extend(f._asdict() for f in environ.get("wsgifix.findings", []))
        return result


def make_app(
    *, proxy_fix: bool = False, external_redirect: bool = False, **config: Any
) -> Flask:
    app = Flask(__name__)
    app.secret_key = "e2e tests only, not a secret"
    app.config.update(config)
    inner = app.wsgi_app
    if proxy_fix:
        inner = ProxyFix(inner, x_proto=1, x_prefix=1)  # type: ignore[assignment]
    recorder = FindingsRecorder(inner)
    app.wsgi_app = recorder  # type: ignore[method-assign]

    @app.get("/")
    def index() -> Any:
        return jsonify(
            url=url_for("index", _external=True),
            scheme=request.scheme,
            remote_addr=request.remote_addr,
            host=request.host,
            script_root=request.script_root,
            headers={name: request.headers.get(name) for name in FORWARDING_HEADERS},
        )

    @app.get("/redirect")
    def to_index() -> Any:
        return redirect(url_for("index", _external=True))

    @app.get("/set")
    def set_session() -> Any:
        session["user"] = "alice"
        return redirect(url_for("check", _external=external_redirect))

    @app.get("/check")
    def check() -> Any:
        return jsonify(user=session.get("user"))

    @app.get("/findings")
    def findings() -> Any:
        return jsonify(recorder.findings)

    return app


app = make_app()
# (a) SameSite=None without Secure: Chromium drops it (SameSiteNoneInsecure).
samesite_none = make_app(proxy_fix=True, SESSION_COOKIE_SAMESITE="None")
# (b) a Domain unrelated to the host: Chromium drops it (InvalidDomain).
foreign_domain = make_app(proxy_fix=True, SESSION_COOKIE_DOMAIN="example.org")
# (c) the waitress-default trap: /set redirects to an external URL.
external_redirect = make_app(proxy_fix=True, external_redirect=True)
