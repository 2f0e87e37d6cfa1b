"""The inspector: the request as the server gave it and as the app sees it.

``wsgifix serve`` with no app serves :func:`inspector_app`; the
``debug_path`` setting mounts the same page inside a wrapped app
(:class:`DebugRoute`) for local clients only. This is the minimal page of
the foundation; the trust report, cookie round trip and findings come with
the inspector issue.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from wsgifix import config
from wsgifix.trust import TrustedPeers, is_loopback

if TYPE_CHECKING:
    from collections.abc import Iterable

    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

MASK = "********"
_SECRET_HEADERS = frozenset(
    {"HTTP_AUTHORIZATION", "HTTP_PROXY_AUTHORIZATION", "HTTP_COOKIE", "HTTP_SET_COOKIE"}
)
_SECRET_WORDS = ("TOKEN", "SECRET", "KEY", "AUTH", "SESSION")
FORWARDING_KEYS = (
    "HTTP_FORWARDED",
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_X_FORWARDED_PREFIX",
    "HTTP_X_FORWARDED_BY",
)
# Keys shown first, in this order; then the other CGI keys and headers.
_MAIN_KEYS = (
    "REQUEST_METHOD",
    "wsgi.url_scheme",
    "HTTPS",
    "HTTP_HOST",
    "SERVER_NAME",
    "SERVER_PORT",
    "SCRIPT_NAME",
    "PATH_INFO",
    "QUERY_STRING",
    "REMOTE_ADDR",
    "REMOTE_PORT",
)


def _masked(key: str, value: str) -> str:
    """Secrets never leave the process: credentials, cookies, tokens."""
    if key in _SECRET_HEADERS:
        return MASK
    if key.startswith("HTTP_") and any(w in key for w in _SECRET_WORDS):
        return MASK
    return value


def string_items(environ: Mapping[str, Any]) -> dict[str, str]:
    """The environ's string values (secrets masked), main keys first."""
    ordered = [k for k in _MAIN_KEYS if k in environ]
    ordered += sorted(k for k in environ if k not in _MAIN_KEYS)
    return {
        key: _masked(key, environ[key])
        for key in ordered
        if isinstance(environ[key], str)
    }


def raw_environ(environ: Mapping[str, Any]) -> dict[str, Any]:
    """The environ as the server built it, from ``wsgifix.orig``."""
    raw = dict(environ)
    for key, value in environ.get("wsgifix.orig", {}).items():
        if value is None:
            raw.pop(key, None)
        else:
            raw[key] = value
    return raw


def trust_report(environ: Mapping[str, Any]) -> dict[str, Any]:
    """The proxy layer's decision (``wsgifix.trust``) as JSON-ready data."""
    decision = environ.get("wsgifix.trust")
    if decision is None:
        return {}
    return {
        "peer": decision.peer,
        "trusted": decision.trusted_by is not None,
        "trusted_by": decision.trusted_by,
        "mode": decision.mode,
        "client": decision.client,
        "headers": {
            key: {"status": status, "detail": detail}
            for key, (status, detail) in decision.headers.items()
        },
    }


def report(environ: Mapping[str, Any], settings: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON document (keys fixed by CONTRACT.md section 7)."""
    return {
        "raw": string_items(raw_environ(environ)),
        "effective": string_items(environ),
        "trust": trust_report(environ),
        "findings": [f._asdict() for f in environ.get("wsgifix.findings", [])],
        "settings": {name: config.text_of(v) for name, v in settings.items()},
    }


def _page(doc: Mapping[str, Any]) -> str:
    raw, effective = doc["raw"], doc["effective"]
    rows = []
    for key in dict.fromkeys([*effective, *raw]):
        before, after = raw.get(key), effective.get(key)
        changed = ' class="changed"' if before != after else ""
        rows.append(
            f"<tr{changed}><th>{html.escape(key)}</th>"
            f"<td>{html.escape(before) if before is not None else '<i>absent</i>'}</td>"
            f"<td>{html.escape(after) if after is not None else '<i>absent</i>'}</td>"
            "</tr>"
        )
    settings = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v) or '<i>empty</i>'}</td></tr>"
        for k, v in doc["settings"].items()
    )
    trust = doc["trust"]
    if trust:
        verdict = (
            f"trusted by <code>{html.escape(trust['trusted_by'])}</code>"
            if trust["trusted"]
            else "not trusted (not in <code>trusted_proxies</code>)"
        )
        header_rows = "".join(
            f"<tr><th>{html.escape(key)}</th><td>{html.escape(info['status'])}</td>"
            f"<td>{html.escape(info['detail'])}</td></tr>"
            for key, info in trust["headers"].items()
        )
        trust_html = (
            f"<p>Socket peer <code>{html.escape(trust['peer'])}</code>: {verdict}. "
            f"Client: <code>{html.escape(trust['client'] or 'as the server saw it')}"
            "</code>.</p>"
            + (
                "<table><tr><th>header</th><th>status</th><th>detail</th></tr>"
                f"{header_rows}</table>"
                if header_rows
                else "<p>No forwarding headers arrived.</p>"
            )
        )
    else:
        trust_html = "<p>No proxy layer ran.</p>"
    scheme = html.escape(effective.get("wsgi.url_scheme", ""))
    host = html.escape(effective.get("HTTP_HOST") or effective.get("SERVER_NAME", ""))
    base = html.escape(effective.get("SCRIPT_NAME", ""))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>wsgifix inspector</title>
<style>
body {{ font: 15px/1.4 system-ui, sans-serif; margin: 1rem; color: #222; }}
table {{ border-collapse: collapse; width: 100%; margin-bottom: 1.5rem; }}
th, td {{ border: 1px solid #ccc; padding: .25rem .5rem; text-align: left;
  vertical-align: top; word-break: break-all; font-family: monospace; }}
th {{ background: #f4f4f4; width: 14rem; }}
tr.changed td {{ background: #fff3c4; }}
code {{ background: #f4f4f4; padding: 0 .2rem; }}
</style></head><body>
<h1>wsgifix inspector</h1>
<p>The app sees this request as <code>{scheme}://{host}{base}</code>.
Rows changed by wsgifix are highlighted. Secrets are masked.
Also as <a href="?format=json">JSON</a>.</p>
<h2>The request</h2>
<table><tr><th>key</th><th>as the server gave it</th><th>as the app sees it</th></tr>
{"".join(rows)}
</table>
<h2>Trust decision</h2>
{trust_html}
<h2>Settings in effect</h2>
<table>{settings}</table>
</body></html>
"""


def make_inspector(settings: Mapping[str, Any]) -> WSGIApplication:
    """A WSGI app rendering the page (JSON with ``?format=json``)."""

    def inspector_app(
        environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        doc = report(environ, settings)
        if "format=json" in environ.get("QUERY_STRING", "").split("&"):
            body = json.dumps(doc, indent=2).encode()
            ctype = "application/json"
        else:
            body = _page(doc).encode()
            ctype = "text/html; charset=utf-8"
        start_response(
            "200 OK",
            [
                ("Content-Type", ctype),
                ("Content-Length", str(len(body))),
                ("Cache-Control", "no-store"),
            ],
        )
        return [body]

    return inspector_app


def is_local_request(environ: Mapping[str, Any], peers: TrustedPeers) -> bool:
    """The client is positively known to be local (CONTRACT.md section 7).

    Either the request carried no forwarding header and the socket peer is
    loopback or a trusted proxy, or every forwarding header was honoured and
    the client the walk reached is loopback or a trusted proxy. With
    ``trusted_proxies=*`` (or hop mode without a list) only a loopback peer
    with no forwarding header qualifies. Without the proxy layer's decision
    only the first, strictest case counts.
    """
    raw = raw_environ(environ)
    peer = raw.get("REMOTE_ADDR") or ""
    local_peer = is_loopback(peer) or (not peers.everyone and peer in peers)
    if not any(key in raw for key in FORWARDING_KEYS):
        return local_peer
    decision = environ.get("wsgifix.trust")
    if decision is None or decision.client is None or peers.everyone or not peers:
        return False
    if any(status != "honoured" for status, _ in decision.headers.values()):
        return False
    return is_loopback(decision.client) or decision.client in peers


class DebugRoute:
    """Serve the inspector at ``path`` to local clients, 404 to others.

    Everything else goes to the app untouched.
    """

    def __init__(
        self, app: WSGIApplication, path: str, settings: Mapping[str, Any]
    ) -> None:
        self.app = app
        self.path = path
        self.inspector = make_inspector(settings)
        self.peers = TrustedPeers(settings.get("trusted_proxies", ()))

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path != self.path and path != self.path + "/":
            return self.app(environ, start_response)
        if not is_local_request(environ, self.peers):
            body = b"Not Found\n"
            start_response(
                "404 Not Found",
                [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))],
            )
            return [body]
        return self.inspector(environ, start_response)
