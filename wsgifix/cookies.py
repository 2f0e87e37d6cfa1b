"""The cookie layer: audit every Set-Cookie against the effective request.

The layer wraps ``start_response`` and nothing else: the app's iterable
(and ``wsgi.file_wrapper`` objects) reach the server untouched, ``close()``
stays the server's to call, ``exc_info`` passes through and the ``write()``
callable the server returns is handed back as is. A response without
Set-Cookie costs one scan of its header names.

For each Set-Cookie the rules of COOKIE_RULES.md (:mod:`wsgifix.rules`)
run against the request as the app saw it (after the proxy layer); under
``cookie_policy=fix`` the safe fixes are applied, changing only the
attributes they name. Findings (:class:`wsgifix.Finding`) are appended to
``environ["wsgifix.findings"]`` and logged on ``wsgifix.cookies``, once per
rule and cookie name per minute (``error``/``warning`` at WARNING, ``info``
at INFO). With ``detect_races`` the layer also reports concurrent requests
that overwrite each other's cookie (:mod:`wsgifix.races`).

A fix never turns a response into an error: if the audit itself fails, the
headers go out as the app wrote them and the failure is logged once.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from wsgifix import config
from wsgifix.races import RaceDetector
from wsgifix.rules import (
    ERROR,
    INFO,
    WARNING,
    Finding,
    Request,
    Settings,
    VerdictCache,
    Verdicts,
    audit,
    one_line,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from _typeshed import OptExcInfo
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger("wsgifix.cookies")

_LOG_INTERVAL = 60.0
_LOG_KEYS = 4096
_RECENT = 50
_TLS_HEADERS = {
    "HTTP_X_FORWARDED_PROTO": "X-Forwarded-Proto",
    "HTTP_FORWARDED": "Forwarded",
    "HTTP_X_FORWARDED_SSL": "X-Forwarded-Ssl",
}


def _raw(environ: WSGIEnvironment, key: str) -> str | None:
    """A request value as the server gave it (before the proxy layer)."""
    orig = environ.get("wsgifix.orig")
    if orig is not None and key in orig:
        value: str | None = orig[key]
        return value
    return environ.get(key)


def _tls_hint(environ: WSGIEnvironment) -> str | None:
    """Advice when the raw request says https but the app sees http."""
    for key, name in _TLS_HEADERS.items():
        value = (_raw(environ, key) or "").lower()
        if key == "HTTP_X_FORWARDED_SSL":
            says_https = value.strip() == "on"
        elif key == "HTTP_FORWARDED":
            says_https = "proto=https" in value.replace('"', "")
        else:
            says_https = "https" in value
        if not says_https:
            continue
        decision = environ.get("wsgifix.trust")
        if decision is not None and decision.headers.get(key, ("",))[0] == "honoured":
            continue  # the trusted proxy's own value (http) decided
        peer = _raw(environ, "REMOTE_ADDR") or "the peer"
        if name == "X-Forwarded-Ssl":
            return (
                f"{peer} sent X-Forwarded-Ssl: on, which wsgifix does not read: "
                "have the proxy send X-Forwarded-Proto: https, then set "
                f"trusted_proxies={peer} and trusted_headers=x-forwarded-proto."
            )
        header = name.lower()
        # `forwarded` cannot be combined with x-forwarded-for/proto/host/port
        # (CONTRACT.md section 7): never advise a setting wrap() rejects.
        if header == "forwarded":
            also = " (only x-forwarded-prefix may accompany it)"
        else:
            also = " (plus x-forwarded-for, ...)"
        if decision is None or decision.trusted_by is None:
            return (
                f"{peer} sent {name} https but is not a trusted proxy: set "
                f"trusted_proxies={peer} and trusted_headers={header}{also}, "
                f"e.g. `wsgifix serve --trusted-proxies {peer} "
                f"--trusted-headers {header}`."
            )
        if header == "forwarded":
            return (
                f"{peer} is trusted but Forwarded is not in trusted_headers: set "
                f"trusted_headers=forwarded{also}."
            )
        return (
            f"{peer} is trusted but {name} is not in trusted_headers: add "
            f"{header} to trusted_headers."
        )
    return None


def effective_request(environ: WSGIEnvironment) -> Request:
    """The request E the rules judge, from the environ the app saw."""
    scheme = environ.get("wsgi.url_scheme", "http")
    shown = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
    host = shown.lower()
    if host.startswith("["):
        host = host[1 : host.find("]")] if "]" in host else host
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    host = host.removesuffix(".")
    script = environ.get("SCRIPT_NAME", "")
    cookies: dict[str, str] = {}
    for part in environ.get("HTTP_COOKIE", "").split(";"):
        name, sep, value = part.partition("=")
        if sep:
            cookies.setdefault(name.strip(), value.strip())
    secure = scheme == "https"
    return Request(
        scheme=scheme,
        host=host,
        script_name=script,
        path=script + environ.get("PATH_INFO", ""),
        sec_fetch_site=environ.get("HTTP_SEC_FETCH_SITE", "").lower(),
        sec_fetch_dest=environ.get("HTTP_SEC_FETCH_DEST", "").lower(),
        cookies=cookies,
        peer_hint=None if secure else _tls_hint(environ),
        url=f"{scheme}://{shown}{script}",
    )


class CookieMiddleware:
    """Audit and fix Set-Cookie headers (wraps start_response only).

    Settings: ``cookie_policy``, ``cookie_secure``, ``cookie_samesite``,
    ``cookie_domain``, ``cookie_path``, ``cookie_httponly``,
    ``cookie_max_size``, ``detect_races``. ``recent`` holds this app's last
    50 findings and ``counts`` the findings per rule, for the inspector.
    """

    def __init__(self, app: WSGIApplication, **settings: Any) -> None:
        self.app = app
        self.settings = config.resolve(settings, layer="cookies")
        cfg = self.settings
        self.policy: str = cfg["cookie_policy"]
        self.rules = Settings.from_config(cfg)
        self.races = RaceDetector() if cfg["detect_races"] else None
        self.verdicts = VerdictCache()
        self.recent: deque[Finding] = deque(maxlen=_RECENT)
        self.counts: dict[str, int] = {}
        self._logged: dict[tuple[str, str | None], float] = {}
        self._lock = threading.Lock()

    def sibling(self, app: WSGIApplication, policy: str) -> CookieMiddleware:
        """The same layer (shared findings, counts, race table, log limits)
        around another app with another policy; the inspector's responses
        go through ``sibling(inspector, "report")``."""
        other = copy.copy(self)
        other.app = app
        if self.policy != "off":
            other.policy = policy
            other.rules = self.rules._replace(policy=policy)
        return other

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        if self.policy == "off":
            return self.app(environ, start_response)
        # Only a request that carried a cookie can lose a race (section 4).
        started = time.monotonic() if "HTTP_COOKIE" in environ else 0.0

        listed = environ.get("wsgifix.findings")
        mark = len(listed) if listed is not None else 0

        def audited_start_response(
            status: str,
            headers: list[tuple[str, str]],
            exc_info: OptExcInfo | None = None,
        ) -> Any:
            if exc_info is not None:
                # The headers of an earlier call are replaced, never sent:
                # their findings go (PEP 3333 allows this before any body).
                earlier = environ.get("wsgifix.findings")
                if earlier is not None:
                    del earlier[mark:]
            for name, _ in headers:
                if len(name) == 10 and name.lower() == "set-cookie":
                    headers = self._audit(environ, headers, started)
                    break
            if exc_info is None:
                return start_response(status, headers)
            return start_response(status, headers, exc_info)

        return self.app(environ, audited_start_response)

    def _audit(
        self, environ: WSGIEnvironment, headers: list[tuple[str, str]], started: float
    ) -> list[tuple[str, str]]:
        try:
            return self._audit_headers(environ, headers, started)
        except Exception:  # a bug here must not cost the response
            self._log_once(
                ("internal-error", None),
                logging.ERROR,
                "the Set-Cookie audit failed; headers sent unchanged",
                exc_info=True,
            )
            return headers

    def _audit_headers(
        self, environ: WSGIEnvironment, headers: list[tuple[str, str]], started: float
    ) -> list[tuple[str, str]]:
        positions = [
            i for i, (name, _) in enumerate(headers) if name.lower() == "set-cookie"
        ]
        values = [headers[i][1] for i in positions]
        e = effective_request(environ)
        fixed, findings = audit(values, e, self.rules, self.verdicts)
        if self.races is not None and e.cookies:
            findings.extend(self._races(fixed, e, started))
        if findings:
            self._report(environ, findings)
        if fixed == values:
            return headers
        new_headers = list(headers)
        for i, value in zip(positions, fixed, strict=True):
            new_headers[i] = (headers[i][0], value)
        return new_headers

    def _races(
        self, values: list[str], e: Request, started: float
    ) -> list[tuple[Finding, Verdicts]]:
        assert self.races is not None
        found: list[tuple[Finding, Verdicts]] = []
        # One check per name and response (the last value it sets): a response
        # that sets a name twice does not race with itself.
        last: dict[str, str] = {}
        for value in values:
            pair = value.split(";", 1)[0]
            name, eq, new = pair.partition("=")
            name = name.strip(" \t")
            if eq and name in e.cookies:
                last[name] = new.strip(" \t")
        for name, new in last.items():
            if self.races.check(name, e.cookies[name], new, started):
                finding = Finding(
                    "concurrent-overwrite",
                    WARNING,
                    name,
                    f"cookie {name!r} set on {one_line(e.url)} overwrites the value "
                    "another response set moments ago for a request that carried "
                    "the same cookie: the browser keeps only this one, and the "
                    "earlier change is lost. Keep state that parallel requests "
                    "update server-side, or make those requests sequential.",
                    False,
                )
                found.append((finding, {}))
        return found

    def _report(
        self, environ: WSGIEnvironment, findings: list[tuple[Finding, Verdicts]]
    ) -> None:
        listed = environ.setdefault("wsgifix.findings", [])
        now = time.monotonic()
        due: list[Finding] = []
        with self._lock:
            logged = self._logged
            for finding, _ in findings:
                listed.append(finding)
                self.recent.append(finding)
                self.counts[finding.rule] = self.counts.get(finding.rule, 0) + 1
                key = (finding.rule, finding.cookie)
                last = logged.get(key)
                if last is None or now - last >= _LOG_INTERVAL:
                    if len(logged) >= _LOG_KEYS:
                        logged.clear()
                    logged[key] = now
                    due.append(finding)
        # Logged outside the lock: handlers may be slow.
        for finding in due:
            level = logging.INFO if finding.severity == INFO else logging.WARNING
            fixed = " [fixed]" if finding.fixed else ""
            message = one_line(finding.message)
            log.log(level, "%s (%s)%s", message, finding.rule, fixed)

    def _log_once(
        self, key: tuple[str, str | None], level: int, msg: str, *args: Any, **kw: Any
    ) -> None:
        """At most once a minute per (rule, cookie name), bounded."""
        now = time.monotonic()
        with self._lock:
            last = self._logged.get(key)
            if last is not None and now - last < _LOG_INTERVAL:
                return
            if len(self._logged) >= _LOG_KEYS:
                self._logged.clear()
            self._logged[key] = now
        log.log(level, msg, *args, **kw)


__all__ = ["ERROR", "INFO", "WARNING", "CookieMiddleware", "effective_request"]
