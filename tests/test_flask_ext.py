"""wsgifix.flask.init_app: session changes a streamed response cannot send."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterator
from typing import Any

import flask
import pytest
from conftest import run_wsgi

import wsgifix
from wsgifix import flask as wsgifix_flask


def make_app() -> flask.Flask:
    app = flask.Flask(__name__)
    app.secret_key = "test"

    @app.get("/stream-and-modify")
    def stream_and_modify() -> Any:
        @flask.stream_with_context
        def body() -> Iterator[str]:
            yield "a"
            flask.session["late"] = True  # too late: headers are gone
            yield "b"

        return flask.Response(body())

    @app.get("/stream-only")
    def stream_only() -> Any:
        flask.session["early"] = True  # before the headers: fine

        @flask.stream_with_context
        def body() -> Iterator[str]:
            yield "ok" if flask.session.get("early") else "no"

        return flask.Response(body())

    @app.get("/plain")
    def plain() -> str:
        flask.session["x"] = 1
        return "plain"

    wsgifix_flask.init_app(app)
    return app


def serve(app: flask.Flask, path: str) -> tuple[list[Any], bytes, list[Any]]:
    """The response's headers and body, and the request's findings."""
    wrapped = wsgifix.wrap(app.wsgi_app)
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "HTTP_HOST": "localhost",
        "REMOTE_ADDR": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
    }
    _, headers, body = run_wsgi(wrapped, environ)
    return headers, body, environ.get("wsgifix.findings", [])


def run(app: flask.Flask, path: str) -> tuple[bytes, list[Any]]:
    _, body, findings = serve(app, path)
    return body, findings


def test_session_changed_while_streaming_is_reported(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = make_app()
    with caplog.at_level(logging.WARNING, logger="wsgifix.cookies"):
        body, findings = run(app, "/stream-and-modify")
        run(app, "/stream-and-modify")  # logged once a minute, listed every time
    assert body == b"ab"
    rules = [f for f in findings if f.rule == "session-after-stream"]
    assert len(rules) == 1
    assert rules[0].cookie == "session"
    assert rules[0].severity == "warning"
    assert rules[0].fixed is False
    assert "before returning the stream" in rules[0].message
    logged = [r for r in caplog.records if "session-after-stream" in r.getMessage()]
    assert len(logged) == 1


@pytest.mark.parametrize("path", ["/stream-only", "/plain"])
def test_no_finding_without_a_late_change(path: str) -> None:
    _, findings = run(make_app(), path)
    assert [f for f in findings if f.rule == "session-after-stream"] == []


def test_a_change_an_earlier_after_request_hook_makes_is_sent() -> None:
    # C4 compares "the session as saved with the headers": a hook that Flask
    # runs after the extension's registration order still saves its change
    # with the headers (audit finding: it had been reported).
    app = flask.Flask(__name__)
    app.secret_key = "test"

    @app.after_request
    def stamp(response: flask.Response) -> flask.Response:
        flask.session["seen"] = 1  # saved by save_session, with the headers
        return response

    wsgifix_flask.init_app(app)

    @app.get("/s")
    def stream() -> Any:
        return flask.Response(iter(["x"]))

    headers, _, findings = serve(app, "/s")
    assert any(name == "Set-Cookie" for name, _ in headers)
    assert [f for f in findings if f.rule == "session-after-stream"] == []


def test_watching_a_stream_does_not_mark_the_session_accessed() -> None:
    # Flask adds "Vary: Cookie" when the session was accessed: an app that
    # never touches it must not get one from the extension (HTTP caching).
    app = flask.Flask(__name__)
    app.secret_key = "test"
    wsgifix_flask.init_app(app)

    @app.get("/s")
    def stream() -> Any:
        return flask.Response(iter(["x"]))

    headers, _, _ = serve(app, "/s")
    assert [v for name, v in headers if name == "Vary"] == []
