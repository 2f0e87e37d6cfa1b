"""A Flask app with the classic proxy questions: which URL, scheme and client?

    wsgifix serve flask_app:app --trusted-proxies loopback \\
        --trusted-headers "x-forwarded-for x-forwarded-proto x-forwarded-host"
"""

from __future__ import annotations

from flask import Flask, jsonify, redirect, request, session, url_for

app = Flask(__name__)
app.secret_key = "example only: set a real secret in production"


@app.get("/")
def index() -> object:
    return jsonify(
        url=url_for("index", _external=True),
        scheme=request.scheme,
        remote_addr=request.remote_addr,
        host=request.host,
        script_root=request.script_root,
    )


@app.get("/set")
def set_session() -> object:
    session["user"] = "alice"
    return redirect(url_for("check"))


@app.get("/check")
def check() -> object:
    return jsonify(user=session.get("user"))
