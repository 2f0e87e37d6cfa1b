"""The inspector: what the app sees, why, and which cookies come back.

``wsgifix serve`` with no app serves it; the ``debug_path`` setting mounts
it inside a wrapped app (:class:`DebugRoute`), answered only to clients
CONTRACT.md section 7 allows (404 to everyone else). One HTML page with no
JavaScript and no external assets, also JSON with ``?format=json``:

- the request as the server gave it and as the app sees it, side by side,
  changed values highlighted;
- the trust decision: the socket peer, whether it is trusted and by which
  entry, each forwarding header honoured / ignored / removed / invalid,
  why, and the setting that would change it, with advice on
  ``trusted_proxies`` and ``trusted_headers``;
- a cookie round trip: ``?cookies=set`` sets test cookies shaped like
  common session cookies, ``?cookies=check`` shows which came back and, for
  each missing one, the rule that explains it;
- the last 50 findings of this wrapped app, with counts per rule;
- the settings in effect.

Cookie values, credentials and anything that looks like a secret are
masked (CONTRACT.md section 7). The inspector's own responses are audited
in report mode, so its test cookies reach the browser as written.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from wsgifix import config
from wsgifix.rules import url_path
from wsgifix.trust import (
    FORWARDED_TRUSTED,
    X_FORWARDED_TRUSTED,
    TrustedPeers,
    is_loopback,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from wsgifix.cookies import CookieMiddleware

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
_HEADER_SETTING = {
    "HTTP_FORWARDED": "forwarded",
    "HTTP_X_FORWARDED_FOR": "x-forwarded-for",
    "HTTP_X_FORWARDED_PROTO": "x-forwarded-proto",
    "HTTP_X_FORWARDED_HOST": "x-forwarded-host",
    "HTTP_X_FORWARDED_PORT": "x-forwarded-port",
    "HTTP_X_FORWARDED_PREFIX": "x-forwarded-prefix",
}
# The headers forwarded excludes from trusted_headers.
_EXCLUSIVE_NAMES = frozenset(
    ("x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-port")
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
#: The round trip's test cookies: (name, attributes after name=value).
TEST_COOKIES = (
    ("wsgifix_plain", "Path=/; Max-Age=600; SameSite=Lax"),
    ("wsgifix_secure", "Path=/; Max-Age=600; Secure; SameSite=Lax"),
    ("wsgifix_samesite_none", "Path=/; Max-Age=600; SameSite=None; Secure"),
    ("wsgifix_domain", "Path=/; Max-Age=600; Domain={host}; SameSite=Lax"),
    ("__Host-wsgifix", "Path=/; Max-Age=600; Secure; SameSite=Lax"),
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


# Where trusted_headers cannot take a header beside those it has.
_EXCLUDED_ADVICE = {
    FORWARDED_TRUSTED: "have the proxy send it in Forwarded (trusted_headers "
    "has forwarded, which excludes this header)",
    X_FORWARDED_TRUSTED: "trusted_headers=forwarded instead of "
    "x-forwarded-for/proto/host/port, not beside them",
}


def _advice(key: str, status: str, peer: str, detail: str = "") -> str:
    """The setting that would change a header's fate."""
    name = _HEADER_SETTING.get(key, "")
    if status == "untrusted peer":
        return f"trusted_proxies={peer or 'unix'}" if peer else "trusted_proxies"
    if status == "not in trusted_headers":
        if detail in _EXCLUDED_ADVICE:
            return _EXCLUDED_ADVICE[detail]
        return f"add {name} to trusted_headers" if name else "never trusted"
    if status in ("invalid", "ignored"):
        return "fix the proxy's value (on_invalid decides: 400 or skip)"
    if status == "too short for trusted_hops":
        return "lower trusted_hops, or use trusted_proxies (chain mode)"
    if status == "not used":
        return "Forwarded and X-Forwarded-For: only one is walked"
    return ""


def trust_report(environ: Mapping[str, Any]) -> dict[str, Any]:
    """The proxy layer's decision (``wsgifix.trust``) as JSON-ready data."""
    decision = environ.get("wsgifix.trust")
    if decision is None:
        return {}
    # Each header's fate (CONTRACT.md 5: honoured, ignored or removed),
    # ``status`` saying why: removed when it is gone from what the app sees.
    orig = environ.get("wsgifix.orig", {})
    headers = {
        key: {
            "fate": "honoured"
            if status == "honoured"
            else "removed"
            if key in orig and key not in environ
            else "ignored",
            "status": status,
            "detail": detail,
            "change": _advice(key, status, decision.peer, detail),
        }
        for key, (status, detail) in decision.headers.items()
    }
    return {
        "peer": decision.peer,
        "trusted": decision.trusted_by is not None,
        "trusted_by": decision.trusted_by,
        "mode": decision.mode,
        "client": decision.client,
        "headers": headers,
        "advice": _trust_advice(environ, decision, headers),
    }


def _trust_advice(
    environ: Mapping[str, Any], decision: Any, headers: Mapping[str, Any]
) -> str:
    """One paragraph: what to put in trusted_proxies and trusted_headers."""
    peer = decision.peer or "the peer"
    if not headers:
        if "waitress" in _text(environ, "SERVER_SOFTWARE"):
            return (
                "No forwarding header arrived. If a proxy is in front, it sends "
                "none, or waitress deleted them: serve with `wsgifix serve` or "
                "clear_untrusted_proxy_headers=False."
            )
        return "No forwarding header arrived: the app sees the socket peer as is."
    wanted = [
        _HEADER_SETTING[key]
        for key, info in headers.items()
        if key in _HEADER_SETTING
        and info["status"] in ("untrusted peer", "not in trusted_headers")
        and info["detail"] not in _EXCLUDED_ADVICE
    ]
    # forwarded cannot be combined with x-forwarded-for/proto/host/port
    # (CONTRACT.md 7): never advise a setting wrap() refuses.
    note = ""
    if "forwarded" in wanted and any(name in _EXCLUSIVE_NAMES for name in wanted):
        wanted.remove("forwarded")
        note = (
            " Or trust Forwarded instead: trusted_headers=forwarded (with "
            "x-forwarded-prefix at most), if the proxy sets it."
        )
    if decision.trusted_by is None:
        return (
            f"{peer} sent forwarding headers but is not trusted. If {peer} is your "
            f"reverse proxy, set trusted_proxies={decision.peer or 'unix'} and "
            f"trusted_headers={' '.join(wanted) or 'x-forwarded-for'} (only "
            f"headers the proxy itself sets).{note}"
        )
    # The others that were not honoured say why themselves (excluded by
    # forwarded, invalid, too short for trusted_hops, not used).
    for key, info in headers.items():
        if (
            info["status"] != "honoured"
            and info["change"]
            and (
                info["status"] != "not in trusted_headers"
                or info["detail"] in _EXCLUDED_ADVICE
            )
        ):
            note += f" {_HEADER_SETTING.get(key, key)}: {info['change']}."
    if wanted:
        return (
            f"{peer} is trusted ({decision.trusted_by}); to honour the rest add "
            f"{' '.join(wanted)} to trusted_headers, if the proxy sets them.{note}"
        )
    if note:
        return f"{peer} is trusted ({decision.trusted_by}).{note}"
    return f"{peer} is trusted ({decision.trusted_by}) and every header was honoured."


def _request_cookie_names(environ: Mapping[str, Any]) -> list[str]:
    names = []
    for part in raw_environ(environ).get("HTTP_COOKIE", "").split(";"):
        name, sep, _ = part.partition("=")
        if sep and name.strip():
            names.append(name.strip())
    return names


def test_cookie_headers(environ: Mapping[str, Any]) -> list[str]:
    """The Set-Cookie values of the round trip, for this request's host."""
    from wsgifix.cookies import effective_request

    host = effective_request(dict(environ)).host
    if ":" in host:  # an IPv6 address: Domain=[::1], as browsers take it
        host = f"[{host}]"
    return [f"{name}=1; " + attrs.format(host=host) for name, attrs in TEST_COOKIES]


def cookie_round_trip(environ: Mapping[str, Any]) -> dict[str, Any]:
    """Which test cookies came back, and the rule behind each missing one."""
    from wsgifix.cookies import effective_request
    from wsgifix.rules import ERROR, Settings, judge

    e = effective_request(dict(environ))
    returned = set(_request_cookie_names(environ))
    missing: dict[str, list[dict[str, str]]] = {}
    for header in test_cookie_headers(environ):
        name = header.split("=", 1)[0]
        if name in returned:
            continue
        report = judge(header, e, Settings(policy="report"))
        missing[name] = [
            {"rule": f.rule, "message": f.message}
            for f, _ in report.issues
            if f.severity == ERROR
        ]
    names = [name for name, _ in TEST_COOKIES]
    return {
        "set": names,
        "returned": [name for name in names if name in returned],
        "missing": missing,
    }


def report(
    environ: Mapping[str, Any],
    settings: Mapping[str, Any],
    cookies: CookieMiddleware | None = None,
) -> dict[str, Any]:
    """The JSON document (keys fixed by CONTRACT.md section 7, more added)."""
    from wsgifix import __version__, build_name  # the package imports this module

    recent = list(cookies.recent) if cookies is not None else []
    doc: dict[str, Any] = {
        "raw": string_items(raw_environ(environ)),
        "effective": string_items(environ),
        "trust": trust_report(environ),
        "findings": [f._asdict() for f in reversed(recent)],
        "finding_counts": dict(sorted(cookies.counts.items())) if cookies else {},
        "settings": {name: config.text_of(v) for name, v in settings.items()},
        "wsgifix": {
            "version": __version__,
            "build": build_name(),
        },
    }
    if "cookies=check" in _text(environ, "QUERY_STRING").split("&"):
        doc["cookies"] = cookie_round_trip(environ)
    return doc


_CSS = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 1rem auto; max-width: 70rem;
  padding: 0 .75rem; color: #1d1d1f; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.15rem; margin-top: 1.6rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
th, td { border: 1px solid #ccc; padding: .25rem .5rem; text-align: left;
  vertical-align: top; word-break: break-all; font-family: ui-monospace, monospace;
  font-size: .85rem; }
th { background: #f3f3f3; width: 16rem; }
tr.changed td { background: #fff1b8; }
.ok { color: #146c2e; } .bad { color: #b3261e; font-weight: 600; }
.note { background: #eef4ff; border-left: 4px solid #4a7bd0; padding: .5rem .75rem; }
code { background: #f3f3f3; padding: 0 .2rem; }
@media (max-width: 40rem) { th { width: auto; } }
"""


def _text(environ: Mapping[str, Any], key: str) -> str:
    """A request value, ``""`` when there is none or it is not text (no
    server sends that; a test harness or middleware may)."""
    value = environ.get(key, "")
    return value if type(value) is str else ""


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _cell(value: str | None) -> str:
    return "<i>absent</i>" if value is None else _e(value)


def _page(doc: Mapping[str, Any], base: str) -> str:
    raw, effective = doc["raw"], doc["effective"]
    rows = []
    for key in dict.fromkeys([*effective, *raw]):
        before, after = raw.get(key), effective.get(key)
        changed = ' class="changed"' if before != after else ""
        rows.append(
            f"<tr{changed}><th>{_e(key)}</th><td>{_cell(before)}</td>"
            f"<td>{_cell(after)}</td></tr>"
        )
    scheme = effective.get("wsgi.url_scheme", "")
    host = effective.get("HTTP_HOST") or effective.get("SERVER_NAME", "")
    origin = f"{scheme}://{host}{effective.get('SCRIPT_NAME', '')}"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>wsgifix inspector</title><style>{_CSS}</style></head><body>
<h1>wsgifix inspector</h1>
<p>The app sees this request as <code>{_e(origin)}</code>, from client
<code>{_e(effective.get("REMOTE_ADDR", ""))}</code>. Rows changed by wsgifix are
highlighted; secrets are masked. Also as <a href="{_e(base)}?format=json">JSON</a>.</p>
<h2>Trust decision</h2>
{_trust_html(doc["trust"])}
<h2>Cookie round trip</h2>
{_cookies_html(doc.get("cookies"), base)}
<h2>The request</h2>
<table><tr><th>key</th><th>as the server gave it</th><th>as the app sees it</th></tr>
{"".join(rows)}
</table>
<h2>Recent findings</h2>
{_findings_html(doc["findings"], doc["finding_counts"])}
<h2>Settings in effect</h2>
<p>wsgifix {_e(doc["wsgifix"]["version"])} ({_e(doc["wsgifix"]["build"])})</p>
<table>{_settings_html(doc["settings"])}</table>
</body></html>
"""


def _trust_html(trust: Mapping[str, Any]) -> str:
    if not trust:
        return "<p>No proxy layer ran.</p>"
    verdict = (
        f'<span class="ok">trusted</span> by <code>{_e(trust["trusted_by"])}</code>'
        if trust["trusted"]
        else '<span class="bad">not trusted</span> (not in '
        "<code>trusted_proxies</code>)"
    )
    client = trust["client"] or "as the server saw it"
    parts = [
        f"<p>Socket peer <code>{_e(trust['peer'])}</code>: {verdict}. "
        f"Client: <code>{_e(client)}</code>.</p>",
        f'<p class="note">{_e(trust["advice"])}</p>',
    ]
    if trust["headers"]:
        rows = "".join(
            f"<tr><th>{_e(key)}</th><td>{_e(info['fate'])}</td>"
            f"<td>{_e(info['status'])}</td>"
            f"<td>{_e(info['detail'])}</td><td>{_e(info['change'])}</td></tr>"
            for key, info in trust["headers"].items()
        )
        parts.append(
            "<table><tr><th>header</th><th>fate</th><th>why</th><th>detail</th>"
            f"<th>to change it</th></tr>{rows}</table>"
        )
    return "\n".join(parts)


def _cookies_html(result: Mapping[str, Any] | None, base: str) -> str:
    set_link = f'<a href="{_e(base)}?cookies=set">Set test cookies</a>'
    if result is None:
        return (
            f"<p>{set_link}: five cookies shaped like common session cookies "
            "(plain, Secure, SameSite=None; Secure, with Domain, __Host-), then "
            "check which ones your browser sends back.</p>"
        )
    rows = []
    for name in result["set"]:
        if name in result["returned"]:
            rows.append(
                f'<tr><th>{_e(name)}</th><td class="ok">came back</td><td></td></tr>'
            )
            continue
        why = result["missing"].get(name) or [
            {"rule": "", "message": "no rule explains it (browser settings?)"}
        ]
        text = "<br>".join(f"<b>{_e(w['rule'])}</b> {_e(w['message'])}" for w in why)
        rows.append(
            f'<tr><th>{_e(name)}</th><td class="bad">missing</td><td>{text}</td></tr>'
        )
    return (
        "<table><tr><th>test cookie</th><th>result</th><th>why</th></tr>"
        + "".join(rows)
        + f"</table><p>{set_link} again.</p>"
    )


def _findings_html(findings: list[Mapping[str, Any]], counts: Mapping[str, int]) -> str:
    if not findings:
        return "<p>No findings yet in this process.</p>"
    summary = ", ".join(f"{_e(rule)}: {n}" for rule, n in counts.items())
    rows = "".join(
        f"<tr><th>{_e(f['rule'])}</th><td>{_e(f['severity'])}</td>"
        f"<td>{_e(f['cookie'])}</td><td>{'fixed' if f['fixed'] else ''}</td>"
        f"<td>{_e(f['message'])}</td></tr>"
        for f in findings
    )
    return (
        f"<p>Counts per rule: {summary}.</p><table><tr><th>rule</th><th>severity</th>"
        f"<th>cookie</th><th>fixed</th><th>message</th></tr>{rows}</table>"
    )


def _settings_html(settings: Mapping[str, str]) -> str:
    return "".join(
        f"<tr><th>{_e(k)}</th><td>{_e(v) or '<i>empty</i>'}</td></tr>"
        for k, v in settings.items()
    )


def make_inspector(
    settings: Mapping[str, Any],
    cookies: Callable[[], CookieMiddleware | None] | None = None,
) -> WSGIApplication:
    """A WSGI app rendering the page (JSON with ``?format=json``).

    ``cookies`` returns the stack's cookie layer, whose recent findings and
    counts the page shows.
    """

    def inspector_app(
        environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        query = _text(environ, "QUERY_STRING").split("&")
        # (links: the path as the browser sent it, percent-encoded; a "?"
        # decoded from %3F would start the query)
        base = url_path(_text(environ, "SCRIPT_NAME") + _text(environ, "PATH_INFO"))
        headers = [("Cache-Control", "no-store")]
        if "cookies=set" in query:
            headers += [("Set-Cookie", v) for v in test_cookie_headers(environ)]
            body = (
                "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
                "<title>wsgifix: test cookies set</title></head><body>"
                "<p>Test cookies set. "
                f'<a href="{_e(base)}?cookies=check">Check which came back</a>.</p>'
                "</body></html>"
            ).encode("utf-8", "backslashreplace")  # (see below)
            headers.append(("Content-Type", "text/html; charset=utf-8"))
        else:
            doc = report(environ, settings, cookies() if cookies else None)
            if "format=json" in query:
                body = json.dumps(doc, indent=2).encode()
                headers.append(("Content-Type", "application/json"))
            else:
                # A lone surrogate (text a harness decoded with
                # surrogateescape) is shown escaped, as json.dumps does.
                body = _page(doc, base).encode("utf-8", "backslashreplace")
                headers.append(("Content-Type", "text/html; charset=utf-8"))
        headers.append(("Content-Length", str(len(body))))
        start_response("200 OK", headers)
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
    peer = _text(raw, "REMOTE_ADDR")
    local_peer = is_loopback(peer) or (not peers.everyone and peer in peers)
    # (None is no header, as the proxy layer reads it)
    if not any(raw.get(key) is not None for key in FORWARDING_KEYS):
        return local_peer
    decision = environ.get("wsgifix.trust")
    if decision is None or decision.client is None or peers.everyone or not peers:
        return False
    if any(status != "honoured" for status, _ in decision.headers.values()):
        return False
    return is_loopback(decision.client) or decision.client in peers


class DebugRoute:
    """Serve the inspector at ``path`` to local clients, 404 to others.

    Everything else goes to the app untouched. The inspector's own
    responses pass through ``audit`` (the cookie layer in report mode).
    """

    def __init__(
        self,
        app: WSGIApplication,
        path: str,
        settings: Mapping[str, Any],
        cookies: CookieMiddleware | None = None,
    ) -> None:
        self.app = app
        self.path = path
        self.peers = TrustedPeers(settings.get("trusted_proxies", ()))
        inspector = make_inspector(settings, lambda: cookies)
        self.inspector = (
            cookies.sibling(inspector, "report") if cookies is not None else inspector
        )

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
