"""Flask apps with the classic session-cookie mistakes, for the functional
tests of the Set-Cookie audit (tests/test_cookies_functional.py).

Each module attribute is one app (``wsgifix serve cookie_app:secure_app``):

* ``app``: defaults; ``/grow`` makes the session cookie exceed 4096 bytes.
* ``secure_app``: SESSION_COOKIE_SECURE, to be served over plain http.
* ``none_app``: SESSION_COOKIE_SAMESITE="None" without SESSION_COOKIE_SECURE.
* ``domain_app``: SESSION_COOKIE_DOMAIN for a host the test does not use.

Routes (every app): ``/login`` puts a user in the session; ``/add/<key>``
sleeps ``?sleep=`` seconds (so parallel requests overlap), then adds
``key`` to the session and returns the session's keys as JSON.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from flask import Flask, jsonify, request, session


def make_app(**config: Any) -> Flask:
    app = Flask(__name__)
    app.secret_key = "tests only, not a secret"
    app.config.update(config)

    @app.get("/login")
    def login() -> Any:
        session["user"] = "alice"
        return jsonify(sorted(session))

    @app.get("/add/<key>")
    def add(key: str) -> Any:
        time.sleep(float(request.args.get("sleep", "0")))
        session[key] = True
        return jsonify(sorted(session))

    @app.get("/grow")
    def grow() -> Any:
        # Random text does not compress: the signed cookie ends up > 4096 bytes.
        session["blob"] = secrets.token_urlsafe(4000)
        return jsonify(sorted(session))

    return app


app = make_app()
secure_app = make_app(SESSION_COOKIE_SECURE=True)
none_app = make_app(SESSION_COOKIE_SAMESITE="None")
domain_app = make_app(SESSION_COOKIE_DOMAIN="example.com")
