"""``wsgifix doctor``: which cookies would a browser drop, and why?

Two modes:

- ``wsgifix doctor URL [-H 'Name: value' ...]`` requests the URL with the
  standard library (redirects followed, each hop reported; TLS verified
  unless ``--insecure``) and judges every Set-Cookie of every hop against
  that hop's URL, as a browser would.
- ``wsgifix doctor --app MODULE:APP --url URL [-H ...] [--peer IP]
  [--SETTING VALUE ...]`` sends the same request in-process through the app
  wrapped by wsgifix with those settings, prints the environ before and
  after wsgifix, and judges the cookies the app set against the request the
  app saw (fixes applied as the settings say).

Exit codes: 0 when no cookie would be dropped, 1 when an ``error`` finding
is left unfixed, 2 on usage errors or when the URL cannot be fetched; with
``--app`` also 2 when the app raises (the request never finished, so there
is no verdict), with one line naming the exception instead of a traceback.
``--json`` prints ``{"url", "dropped", "hops": [{"url", "status"}],
"cookies": [{"name", "findings": [{"rule", "severity", "message", "fixed",
"browsers"}]}]}``; ``browsers`` maps ``chromium``, ``firefox`` and
``safari`` to ``dropped``, ``stored`` or ``stored-with-problem``, followed
by the browser's reason in parentheses where it names one
(``"dropped (SecureOnly)"``). Response-level findings are listed under
``"name": null``.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import ipaddress
import json
import logging
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, TextIO

from wsgifix import config
from wsgifix.rules import (
    BROWSERS,
    ERROR,
    Finding,
    Request,
    Settings,
    Verdicts,
    audit,
    one_line,
)

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

MAX_HOPS = 10
TIMEOUT = 15.0

Judged = list[tuple[Finding, Verdicts]]


class DoctorError(Exception):
    """A usage error, an unreachable URL or an app that raised (exit 2)."""


def _app_raised(exc: Exception) -> DoctorError:
    # The request never finished, so there is no cookie verdict to give
    # (exit 0 or 1); one line says what went wrong, as for a bad URL.
    kind = type(exc)
    name = kind.__qualname__
    if kind.__module__ != "builtins":
        name = f"{kind.__module__}.{name}"
    detail = f"{name}: {exc}" if str(exc) else name
    return DoctorError(f"the app raised {detail}")


def parse_headers(lines: Sequence[str]) -> list[tuple[str, str]]:
    """``-H 'Name: value'`` options."""
    headers = []
    for line in lines:
        name, sep, value = line.partition(":")
        if not sep or not name.strip() or name.strip() != name:
            raise DoctorError(f"-H {line!r} is not 'Name: value'")
        headers.append((name, value.strip()))
    return headers


# Headers only the URL's own host gets (as curl since 7.58, and browsers
# for cookies): dropped when a redirect leads to another host.
_OWN_HOST_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})


def headers_for(
    url: str, first: str, headers: Sequence[tuple[str, str]]
) -> list[tuple[str, str]]:
    """The -H headers a hop to ``url`` gets, the first URL being ``first``:
    credentials and cookies go to the first URL's host only."""
    here = (urllib.parse.urlsplit(url).hostname or "").lower()
    there = (urllib.parse.urlsplit(first).hostname or "").lower()
    if here == there:
        return list(headers)
    return [(n, v) for n, v in headers if n.lower() not in _OWN_HOST_HEADERS]


def _authority(parts: urllib.parse.SplitResult) -> str:
    """host[:port] of a URL, without user:password@ (no browser sends it)."""
    return parts.netloc.rpartition("@")[2]


def request_for(url: str, headers: Sequence[tuple[str, str]] = ()) -> Request:
    """The effective request E a browser would judge cookies against."""
    parts = urllib.parse.urlsplit(url)
    host = (parts.hostname or "").lower().removesuffix(".")
    if not host.isascii():
        with contextlib.suppress(UnicodeError):
            host = host.encode("idna").decode("ascii")
    sent = {name.lower(): value for name, value in headers}
    cookies: dict[str, str] = {}
    for part in sent.get("cookie", "").split(";"):
        name, sep, value = part.partition("=")
        if sep:
            cookies.setdefault(name.strip(), value.strip())
    return Request(
        scheme=parts.scheme,
        host=host,
        script_name="",
        path=parts.path or "/",
        sec_fetch_site=sent.get("sec-fetch-site", "").lower(),
        sec_fetch_dest=sent.get("sec-fetch-dest", "").lower(),
        cookies=cookies,
        peer_hint=None,
        url=f"{parts.scheme}://{_authority(parts)}",
    )


def split_url(url: str, what: str) -> urllib.parse.SplitResult:
    """``url`` split, or a DoctorError naming ``what`` gave it (exit 2).

    ``urlsplit`` rejects unbalanced brackets, but checks the port only when
    ``.port`` is read; both are read here so that a malformed URL is a usage
    error, not a traceback from deep inside a request.
    """
    try:
        parts = urllib.parse.urlsplit(url)
        _ = parts.port
    except ValueError as exc:
        raise DoctorError(f"{what} {url!r} is not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DoctorError(f"{what} {url!r} is not an http or https URL")
    return parts


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def fetch(
    url: str,
    headers: Sequence[tuple[str, str]],
    *,
    insecure: bool = False,
    progress: TextIO | None = None,
) -> list[tuple[str, int, list[str]]]:
    """Request ``url``, following redirects: (url, status, Set-Cookie values)."""
    context = ssl.create_default_context()
    if insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    opener = urllib.request.build_opener(
        _NoRedirect(), urllib.request.HTTPSHandler(context=context)
    )
    hops: list[tuple[str, int, list[str]]] = []
    current = url
    for _ in range(MAX_HOPS):
        split_url(current, "URL" if not hops else f"redirect from {hops[-1][0]} to")
        if progress is not None:
            progress.write(f"wsgifix doctor: requesting {current} ...\n")
            progress.flush()
        request = urllib.request.Request(
            current, headers=dict(headers_for(current, url, headers))
        )
        try:
            response = opener.open(request, timeout=TIMEOUT)
        except urllib.error.HTTPError as exc:  # 3xx (not followed), 4xx, 5xx
            response = exc
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise DoctorError(f"cannot fetch {current}: {reason}") from None
        except http.client.InvalidURL as exc:  # a space or control in the host
            raise DoctorError(f"URL {current!r} is not a valid URL: {exc}") from None
        except http.client.HTTPException as exc:
            # Not HTTP at all, or more or longer headers than http.client
            # reads: there is no response to judge. The text may be the
            # server's (a status line up to 64 KiB): shortened.
            text = f"{type(exc).__name__}: {exc}"
            text = text if len(text) <= 200 else text[:200] + "..."
            raise DoctorError(
                f"cannot fetch {current}: the response is not valid HTTP ({text})"
            ) from None
        with response:
            status = response.status if response.status is not None else 0
            cookies = response.headers.get_all("Set-Cookie") or []
            location = response.headers.get("Location")
        hops.append((current, status, cookies))
        if status not in (301, 302, 303, 307, 308) or not location:
            break
        current = urllib.parse.urljoin(current, location)
    return hops


def browsers_text(verdicts: Verdicts) -> dict[str, str]:
    """``{"chromium": "dropped (SecureOnly)", ...}`` (a verdict per family)."""
    shown = {}
    for family in BROWSERS:
        verdict, reason = verdicts.get(family, ("stored", None))
        shown[family] = f"{verdict} ({reason})" if reason else verdict
    return shown


_STORED: Final = {family: "stored" for family in BROWSERS}


def document(
    url: str, hops: Sequence[tuple[str, int]], judged: Judged
) -> dict[str, Any]:
    """The ``--json`` document (keys fixed by CONTRACT.md section 7)."""
    cookies: dict[str | None, list[dict[str, Any]]] = {}
    for finding, verdicts in judged:
        cookies.setdefault(finding.cookie, []).append(
            {
                "rule": finding.rule,
                "severity": finding.severity,
                "message": finding.message,
                "fixed": finding.fixed,
                # Judged as the browser gets the cookie: a fixed problem is
                # gone from the header sent (doctor --app, fix mode).
                "browsers": dict(_STORED) if finding.fixed else browsers_text(verdicts),
            }
        )
    return {
        "url": url,
        "dropped": dropped(judged),
        "hops": [{"url": hop_url, "status": status} for hop_url, status in hops],
        "cookies": [
            {"name": name, "findings": found} for name, found in cookies.items()
        ],
    }


def dropped(judged: Judged) -> bool:
    """An ``error`` finding is left unfixed: some browser drops a cookie."""
    return any(f.severity == ERROR and not f.fixed for f, _ in judged)


def _table(doc: Mapping[str, Any], out: TextIO) -> None:
    for hop in doc["hops"]:
        out.write(f"{hop['status']}  {hop['url']}\n")
    rows = [("cookie", "chromium", "firefox", "safari", "rule", "fixed")]
    remedies = []
    for cookie in doc["cookies"]:
        name = "(response)" if cookie["name"] is None else cookie["name"] or '""'
        for f in cookie["findings"]:
            b = f["browsers"]
            fixed = "yes" if f["fixed"] else ""
            rows.append(
                (name, b["chromium"], b["firefox"], b["safari"], f["rule"], fixed)
            )
            remedies.append(f"- {f['rule']} [{f['severity']}]: {f['message']}")
    if len(rows) == 1:
        out.write("\nNo Set-Cookie problems found.\n")
    else:
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        out.write("\n")
        for row in rows:
            out.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
            out.write("\n")
        out.write("\n" + "\n".join(remedies) + "\n")
    verdict = "a browser drops a cookie" if doc["dropped"] else "no cookie is dropped"
    out.write(f"\nResult: {verdict}.\n")


def _is_peer(text: str) -> bool:
    """An address a server could report as REMOTE_ADDR."""
    from wsgifix.trust import UNIX_PEERS

    if text in UNIX_PEERS:
        return True
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def diagnose_url(
    url: str,
    headers: Sequence[tuple[str, str]],
    *,
    insecure: bool,
    progress: TextIO,
    settings: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Fetch ``url`` and judge every hop's cookies (report only, as received;
    of the ``settings``, the rules read ``cookie_max_size`` and
    ``cookie_httponly``)."""
    rules = Settings(policy="report")
    if settings is not None:
        rules = Settings.from_config({**settings, "cookie_policy": "report"})
    hops = fetch(url, headers, insecure=insecure, progress=progress)
    judged: Judged = []
    for hop_url, _, cookies in hops:
        if cookies:
            hop_headers = headers_for(hop_url, url, headers)
            _, found = audit(cookies, request_for(hop_url, hop_headers), rules)
            judged.extend(found)
    return document(url, [(u, s) for u, s, _ in hops], judged)


def diagnose_app(
    app: WSGIApplication,
    url: str,
    headers: Sequence[tuple[str, str]],
    *,
    peer: str,
    settings: Mapping[str, Any],
) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    """Run one request in-process through the wrapped app.

    Returns the document and the environ (string values) before and after
    wsgifix.
    """
    from wsgifix import build
    from wsgifix.inspector import string_items

    parts = split_url(url, "--url")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": urllib.parse.unquote(parts.path or "/", "latin-1"),
        "QUERY_STRING": parts.query,
        "SERVER_NAME": parts.hostname,
        "SERVER_PORT": str(port),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": peer,
        "REMOTE_PORT": "54321",
        "HTTP_HOST": _authority(parts),
        "wsgi.url_scheme": parts.scheme,
        "wsgi.version": (1, 0),
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": True,
    }
    given: set[str] = set()
    for name, value in headers:
        key = "HTTP_" + name.upper().replace("-", "_")
        if key in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
            key = key[5:]
        # A header given replaces the URL's (-H 'Host: x', as curl does);
        # given again, it is joined as a server joins repeated lines.
        joined = key in given and key in environ
        environ[key] = f"{environ[key]}, {value}" if joined else value
        given.add(key)
    before = string_items(environ)
    seen: dict[str, Any] = {}
    statuses: list[str] = []
    set_cookies: list[str] = []

    def probe(env: dict[str, Any], inner_start_response: Any) -> Any:
        seen.update(env)

        def capture(status: str, response_headers: Any, exc_info: Any = None) -> Any:
            set_cookies[:] = [
                v for k, v in response_headers if k.lower() == "set-cookie"
            ]
            return inner_start_response(status, response_headers, exc_info)

        try:
            return app(env, capture)
        except Exception as exc:
            raise _app_raised(exc) from exc

    def start_response(status: str, response_headers: Any, exc_info: Any = None) -> Any:
        statuses.append(status)
        return lambda data: None

    body = build(probe, settings)(environ, start_response)
    answer: list[bytes] = []  # wsgifix's own (the app not called), shortened
    try:  # wsgifix never wraps the body: what fails here is the app's
        try:
            for chunk in body:
                if not seen and len(answer) < 4:
                    answer.append(bytes(chunk[:200]))
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
    except Exception as exc:
        raise _app_raised(exc) from exc
    if not seen:  # a 400 for the Host, or debug_path's page: nothing judged
        text = b"".join(answer).decode("utf-8", "replace").strip()
        shown = statuses[0] if statuses else "nothing"
        raise DoctorError(
            f"the app was not called: wsgifix answered {shown}"
            + (f" ({text.splitlines()[0][:200]})" if text else "")
        )
    # The same judgement the cookie layer made, with each browser's verdict.
    judged: Judged = []
    if set_cookies and seen:
        from wsgifix.cookies import effective_request

        # With cookie_policy=off the app's headers go out as written: they
        # are judged as received (report), as the browser will.
        cookie_settings = Settings.from_config(settings)
        if cookie_settings.policy == "off":
            cookie_settings = cookie_settings._replace(policy="report")
        _, judged = audit(set_cookies, effective_request(seen), cookie_settings)
    status = int(statuses[0].split()[0]) if statuses else 0
    after = string_items(seen) if seen else string_items(environ)
    shown = urllib.parse.urlunsplit(parts._replace(netloc=_authority(parts)))
    return document(shown, [(shown, status)], judged), before, after


def run(args: Any, environ: Mapping[str, str], out: TextIO, err: TextIO) -> int:
    """``wsgifix doctor`` with parsed arguments; returns the exit code."""
    from wsgifix import AppLoadError, load_app

    try:
        headers = parse_headers(args.header or [])
        settings = {
            name: getattr(args, name)
            for name in config.SETTINGS
            if getattr(args, name, None) is not None
        }
        try:  # a bad value is a usage error in either mode
            resolved = config.resolve({**config.from_environ(environ), **settings})
        except ValueError as exc:
            raise DoctorError(str(exc)) from None
        if args.app:
            if not args.url:
                raise DoctorError("--app needs --url")
            if not _is_peer(args.peer):
                raise DoctorError(
                    f"--peer {args.peer!r} is not an IP address (or 'localhost', "
                    "a Unix-socket peer as waitress reports it)"
                )
            if args.target:
                raise DoctorError("give either URL or --app/--url, not both")
            try:
                app = load_app(args.app)
            except ValueError as exc:
                raise DoctorError(str(exc)) from None
            except AppLoadError as exc:
                raise DoctorError(
                    str(exc.code).removeprefix("wsgifix: error: ")
                ) from None
            # The table says it all; keep the layer's log lines off stderr.
            quiet = logging.getLogger("wsgifix")
            quiet.addHandler(logging.NullHandler())
            propagate, quiet.propagate = quiet.propagate, False
            try:
                doc, before, after = diagnose_app(
                    app, args.url, headers, peer=args.peer, settings=resolved
                )
            finally:
                quiet.propagate = propagate
        else:
            if not args.target:
                raise DoctorError("give a URL, or --app MODULE:APP --url URL")
            doc = diagnose_url(
                args.target,
                headers,
                insecure=args.insecure,
                progress=err,
                settings=resolved,
            )
            before = after = {}
    except DoctorError as exc:
        # One line, whatever a server's status line or an app's message held.
        err.write(f"wsgifix doctor: error: {one_line(str(exc))}\n")
        return 2
    if args.json:
        if args.app:
            doc = {**doc, "environ": {"before": before, "after": after}}
        out.write(json.dumps(doc, indent=2) + "\n")
    else:
        if args.app:
            _environ_table(before, after, out)
        _table(doc, out)
    return 1 if doc["dropped"] else 0


def _environ_table(
    before: Mapping[str, str], after: Mapping[str, str], out: TextIO
) -> None:
    out.write("environ before and after wsgifix (changed rows marked *):\n")
    keys = list(dict.fromkeys([*before, *after]))
    width = max((len(k) for k in keys), default=0)
    for key in keys:
        old, new = before.get(key), after.get(key)
        mark = "*" if old != new else " "
        shown_old = "(absent)" if old is None else old
        shown_new = "(absent)" if new is None else new
        if old == new:
            out.write(f"{mark} {key:<{width}}  {shown_old}\n")
        else:
            out.write(f"{mark} {key:<{width}}  {shown_old}  ->  {shown_new}\n")
    out.write("\n")
