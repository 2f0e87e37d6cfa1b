"""Flask extension: report session changes a streamed response cannot send.

``wsgifix.flask.init_app(app)``. A streamed response (``response.is_streamed``)
sends its headers, Set-Cookie included, before the body generator runs, so
a change to the session made while streaming never reaches the browser.
The extension snapshots the session as it is saved with the headers and
compares it when the response is closed; a difference is reported as rule
``session-after-stream``: logged on ``wsgifix.cookies`` (once a minute per
app) and appended to ``environ["wsgifix.findings"]``.

Flask stays optional: importing this module is the only thing that needs it.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from wsgifix.rules import WARNING, Finding, one_line

if TYPE_CHECKING:
    import flask

log = logging.getLogger("wsgifix.cookies")
RULE = "session-after-stream"
_LOG_INTERVAL = 60.0


def _snapshot(app: flask.Flask, session: Any) -> str:
    """The session's content as text (the app's own serializer when it has one)."""
    data = dict(session)
    serializer = getattr(app.session_interface, "serializer", None)
    if serializer is not None:
        try:
            return str(serializer.dumps(data))
        except Exception:  # a value the serializer cannot write: compare repr
            pass
    return repr(sorted(data.items(), key=lambda item: str(item[0])))


def init_app(app: flask.Flask) -> flask.Flask:
    """Watch ``app``'s streamed responses for late session changes."""
    import flask

    state: dict[str, float] = {}
    app.extensions["wsgifix"] = state

    def watch_stream(response: flask.Response) -> flask.Response:
        if not response.is_streamed:
            return response
        # The session object itself: through flask.session Flask would mark
        # it accessed, and save it with "Vary: Cookie" on every stream.
        ctx = flask.globals.request_ctx._get_current_object()  # type: ignore[attr-defined]
        session = getattr(ctx, "_session", None)
        if session is None:  # a Flask whose context keeps it in .session
            session = ctx.session
        environ = flask.request.environ
        before = _snapshot(app, session)
        url = flask.request.url

        def compare() -> None:
            if _snapshot(app, session) == before:
                return
            name = app.config.get("SESSION_COOKIE_NAME", "session")
            finding = Finding(
                RULE,
                WARNING,
                name,
                f"the Flask session (cookie {name!r}) changed after the streamed "
                f"response to {url} had sent its headers, so the change never "
                "reaches the browser. Modify the session before returning the "
                "stream, or store that data server-side.",
                False,
            )
            environ.setdefault("wsgifix.findings", []).append(finding)
            now = time.monotonic()
            if now - state.get(name, -_LOG_INTERVAL) >= _LOG_INTERVAL:
                state[name] = now
                log.warning("%s (%s)", one_line(finding.message), RULE)

        response.call_on_close(compare)
        return response

    # After every other after_request function (Flask calls them in reverse
    # order of registration, blueprints' first): the snapshot is then the
    # session as save_session writes it, whatever hooks ran before.
    app.after_request_funcs.setdefault(None, []).insert(0, watch_stream)
    return app
