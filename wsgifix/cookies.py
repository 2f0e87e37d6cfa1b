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

An app sends the same few response shapes over and over with other cookie
values, so the verdicts and fixes of a response are remembered by what the
rules read (see ``_Memo``), never by a cookie's value; a remembered
response costs a scan of each header, not the rule table.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from wsgifix import config
from wsgifix.memo import SecondSight
from wsgifix.races import FLYING_LIMIT, RaceDetector, Taken, Undo
from wsgifix.rules import (
    _COMPILED,  # (the modules of the request path are compiled together)
    _MAX_KEY_TEXT,
    ERROR,
    INFO,
    MAX_COOKIES,
    MAX_HEADER_BYTES,
    WARNING,
    Finding,
    Request,
    Settings,
    Summary,
    VerdictCache,
    audit,
    is_localhost,
    one_line,
    printable_ascii,
    too_many_cookies,
    total_length,
    url_path,
    value_facts,
)
from wsgifix.trust import FORWARDED_TRUSTED

if TYPE_CHECKING:
    from collections.abc import Iterable

    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger("wsgifix.cookies")

_LOG_INTERVAL: Final = 60.0
_LOG_KEYS: Final = 4096
_RECENT: Final = 50
_PENDING: Final = 256
_NEW_TUPLE: Final = tuple.__new__  # a NamedTuple without a Python-level call
_URL: Final = "\x00url\x00"  # the request's URL in a message kept for any host
_LOCALHOST: Final = "localhost"  # in a memo key, before whether the host is one
# Text a response memo key may hold: the client's part stays within
# rules._MAX_KEY_TEXT, the app's within this (all its Set-Cookie text).
_MAX_RESPONSE_TEXT: Final = 8192
_TLS_HEADERS: Final = {
    "HTTP_X_FORWARDED_PROTO": "X-Forwarded-Proto",
    "HTTP_FORWARDED": "Forwarded",
    "HTTP_X_FORWARDED_SSL": "X-Forwarded-Ssl",
}


def _raw(environ: WSGIEnvironment, key: str) -> str | None:
    """A request value as the server gave it (before the proxy layer);
    None when there is none or it is not text."""
    orig = environ.get("wsgifix.orig")
    value: Any = orig[key] if orig is not None and key in orig else environ.get(key)
    return value if type(value) is str else None


def _host(environ: WSGIEnvironment) -> str:
    """The Host as the app sees it (the proxy layer checked it), else
    SERVER_NAME; ``""`` for neither or not text (see _header)."""
    shown: Any = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
    return shown if type(shown) is str else ""


def _header(environ: WSGIEnvironment, key: str) -> str:
    """A request value the rules read, ``""`` when there is none or it is
    not text (no server sends that: a test harness or middleware may)."""
    value: Any = environ.get(key, "")
    return value if type(value) is str else ""


def _tls_hint(environ: WSGIEnvironment) -> str | None:
    """Advice when the raw request says https but the app sees http."""
    orig = environ.get("wsgifix.orig")
    if environ.keys().isdisjoint(_TLS_HEADERS) and (
        orig is None or orig.keys().isdisjoint(_TLS_HEADERS)
    ):
        return None  # none of them, before or after the proxy layer
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
        if decision.headers.get(key, ("", ""))[1] == FORWARDED_TRUSTED:
            return (
                f"{peer} is trusted through Forwarded, which excludes {name} "
                "from trusted_headers: have the proxy send proto=https in "
                "Forwarded."
            )
        return (
            f"{peer} is trusted but {name} is not in trusted_headers: add "
            f"{header} to trusted_headers."
        )
    return None


# _bare_host's answers for Host values up to _BARE_HOST_TEXT characters
# (a real host name and port; longer client text is not kept), at most
# _BARE_HOSTS_KEPT of them: a site's few hosts are answered from here.
_BARE_HOSTS: Final[dict[str, str]] = {}
_BARE_HOSTS_KEPT: Final = 256
_BARE_HOST_TEXT: Final = 100


def _bare_host(shown: str) -> str:
    """The Host as the rules read it: lower-case, no port, no brackets."""
    known = _BARE_HOSTS.get(shown)
    if known is not None:
        return known
    host = shown.lower()
    if host.startswith("["):
        host = host[1 : host.find("]")] if "]" in host else host
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    host = host.removesuffix(".")
    if len(shown) <= _BARE_HOST_TEXT:
        if len(_BARE_HOSTS) >= _BARE_HOSTS_KEPT:
            _BARE_HOSTS.clear()
        _BARE_HOSTS[shown] = host
    return host


def _is_set_cookie(header: Any) -> bool:
    """Whether a response header (as the app passed it) is a Set-Cookie.
    A (str, str) tuple, what apps pass, is read with native operations
    compiled; anything else as Python reads it (the audit passes on what
    an app sends, see CookieMiddleware.__call__)."""
    if type(header) is tuple:
        name = header[0]
        if type(name) is str:
            return name == "Set-Cookie" or (
                len(name) == 10 and name.lower() == "set-cookie"
            )
    name = header[0]
    return bool(
        name == "Set-Cookie" or (len(name) == 10 and name.lower() == "set-cookie")
    )


def _item(header: Any, index: int) -> Any:
    """``header[index]``: a tuple (what apps pass) read natively compiled,
    anything else as Python reads it (indexing an untyped value is a
    generic lookup, ~100 instructions and ~12 lines of CPython's code a
    response with caches cold: benchmarks/cachesim.py)."""
    if type(header) is tuple:
        pair: tuple[Any, ...] = header
        return pair[index]
    return header[index]


def _set_cookies(headers: Any) -> tuple[list[int], list[Any]] | None:
    """The positions and values of the Set-Cookie headers, or None when
    there is none (most responses: one plain pass tells, no list made).

    Compiled, each header goes through _is_set_cookie (a direct call, native
    operations) in one pass; as Python source the test is written inline (a
    function call per header costs more there than the test itself), and a
    first pass that stops at the first Set-Cookie is the cheapest for the
    many responses without one.
    """
    if _COMPILED:  # one pass, the lists made at the first Set-Cookie
        found: tuple[list[int], list[Any]] | None = None
        # A list (what apps pass) is iterated natively; anything else is
        # read into one first, as iterating it would.
        items: list[Any] = headers if type(headers) is list else list(headers)
        for i, header in enumerate(items):
            if _is_set_cookie(header):
                if found is None:
                    found = ([], [])
                found[0].append(i)
                found[1].append(_item(header, 1))
        return found
    for header in headers:
        name = header[0]
        if name == "Set-Cookie" or (len(name) == 10 and name.lower() == "set-cookie"):
            break
    else:
        return None
    positions = []
    values = []
    for i, header in enumerate(headers):
        name = header[0]
        if name == "Set-Cookie" or (len(name) == 10 and name.lower() == "set-cookie"):
            positions.append(i)
            values.append(header[1])
    return positions, values


def _first_bad_header(headers: Any) -> Any:
    """The first of the app's headers that _set_cookies cannot read."""
    for header in headers:
        try:
            _set_cookies([header])
        except Exception:
            return header
    return headers


def effective_request(environ: WSGIEnvironment) -> Request:
    """The request E the rules judge, from the environ the app saw."""
    scheme = environ.get("wsgi.url_scheme", "http")
    shown = _host(environ)
    host = _bare_host(shown)
    script = _header(environ, "SCRIPT_NAME")
    # The paths as the browser sent them, percent-encoded: what it compares
    # a cookie's Path with (the URL in messages keeps the app's).
    script_name = url_path(script)
    path = script_name + url_path(_header(environ, "PATH_INFO"))
    cookies = parse_cookie_header(_header(environ, "HTTP_COOKIE"))
    secure = scheme == "https"
    # (str: compiled, str.lower is then a native call, not a method lookup)
    site = _header(environ, "HTTP_SEC_FETCH_SITE")
    dest = _header(environ, "HTTP_SEC_FETCH_DEST")
    request: Request = _NEW_TUPLE(  # Request's fields, in order
        Request,
        (
            scheme,
            host,
            script_name,
            path,  # SCRIPT_NAME + PATH_INFO
            site.lower(),
            dest.lower(),
            cookies,
            None if secure else _tls_hint(environ),  # peer_hint
            f"{scheme}://{shown}{script}",  # url
        ),
    )
    return request


# A memoized response, kept in CookieMiddleware.responses under what the
# rules read of the response and its request, cookie values excepted: the
# request's fields (Request but the cookies; the default-path only when a
# cookie lacks an absolute Path) and, per header, its text
# before the value and from the first ';' on, facts about the value (see
# rules.value_facts) and whether the request carried the name. The entry:
# each header's change (None: unchanged; a None tuple: nothing changed),
# the findings (without too-many-cookies, which the sizes decide), until
# when all of them are known to be logged, and how many characters the
# fixes add. A change is (True, text) for text added at the header's end
# (most fixes: one new string per response), else (False, text) for the
# text replacing the header's from its first ';'.
_Change = tuple[bool, str]
# A memo key's layout: the request's fields, then three items per header
# (name, attribute text, facts) from this index on.
_KEY_HEAD: Final = 7


class _Quiet:
    """Until when a memo entry's findings are all known to be logged (a
    time.monotonic() reading), read on every response that has findings:
    one object with the number in it (a one-item list was three to read:
    the list, its items and a float).

    And whether the entry is *dated*: a header of the response has an
    Expires attribute, whose verdict the passing of time may change (see
    rules.time_bound). Only such an entry needs the clock read when it
    is found, to tell whether its table is older than VERDICT_TTL: a
    response answered from an undated entry without findings reads no
    clock at all (~65 ns a response compiled)."""

    def __init__(self, dated: bool = True) -> None:
        self.until = 0.0
        self.dated = dated


_Memo = tuple[tuple[_Change | None, ...] | None, tuple[Finding, ...], _Quiet, int]


def _one_line(finding: Finding) -> Finding:
    """The finding with control characters in its message escaped."""
    message = one_line(finding.message)
    return finding if message == finding.message else finding._replace(message=message)


def cookie_value(jar: str, name: str) -> str | None:
    """The first value of cookie ``name`` in a Cookie header, as the parse of
    :func:`effective_request` finds it, without splitting the whole header."""
    at = jar.find(name)
    if at < 0:
        return None
    if not name or name != name.strip() or ";" in name or "=" in name:
        # Not a name the parse can give as is: ask the parse.
        return parse_cookie_header(jar).get(name)
    end = at + len(name)
    if (at == 0 or jar[at - 2 : at] == "; ") and jar.startswith("=", end):
        # The first occurrence, where browsers put it: the common case.
        semi = jar.find(";", end)
        return (jar[end + 1 :] if semi < 0 else jar[end + 1 : semi]).strip()
    while at >= 0:
        end = at + len(name)
        part = jar.rfind(";", 0, at) + 1
        semi = jar.find(";", end)
        eq = jar.find("=", end, semi if semi >= 0 else len(jar))
        if not jar[part:at].strip() and eq >= 0 and not jar[end:eq].strip():
            return jar[eq + 1 : semi if semi >= 0 else len(jar)].strip()
        at = jar.find(name, at + 1)
    return None


def parse_cookie_header(jar: str) -> dict[str, str]:
    """Cookie header -> name: value, the first of each name (RFC 6265bis 5.7)."""
    cookies: dict[str, str] = {}
    if not jar:  # (a first visit carries none)
        return cookies
    for part in jar.split(";"):
        name, sep, value = part.partition("=")
        if sep:
            cookies.setdefault(name.strip(), value.strip())
    return cookies


def _reads_default_path(cookie: Summary) -> bool:
    """The rules read the request's default-path for this cookie: it has no
    Path, or one that is not absolute (path_rules, host_prefix, and the
    response's duplicate check)."""
    return cookie.path is None or not cookie.path.startswith("/")


def _attributes_mention(word: str, values: list[str], semis: list[int]) -> bool:
    """Whether ``word`` (lower-case) is in any header's attribute text (from
    its pair's end, ``semis``), in any case: a superset of the headers that
    have that attribute."""
    # (Indexes: zip(strict=True) is a generic call compiled; a generator
    # in any() is a compiled build's own loop.)
    return any(word in values[k][semis[k] :].lower() for k in range(len(values)))


def _hostless(key: list[Any], values: list[str], semis: list[int]) -> list[Any] | None:
    """The response's memo key with the host reduced to what the rules read
    of it when no cookie has a Domain attribute: whether it is localhost
    (E is then trustworthy). Only the messages name the host, and they get
    the URL per request. None when a cookie may carry a Domain."""
    if _attributes_mention("domain", values, semis):
        return None
    general = list(key)
    general[1] = (_LOCALHOST, is_localhost(_bare_host(key[1])))
    return general


def _with_url(findings: tuple[Finding, ...], old: str, new: str) -> tuple[Finding, ...]:
    """The findings with ``old`` replaced by ``new`` in their messages (a
    request's URL and the stand-in kept for any host, see _hostless)."""
    replaced = []
    for f in findings:
        message = f.message.replace(old, new)
        replaced.append(
            _NEW_TUPLE(Finding, (f.rule, f.severity, f.cookie, message, f.fixed))
        )
    return tuple(replaced)


def _equal(value: Any, known: Any) -> bool:
    """``value == known``, for environ values. Compiled, two str compare
    natively and a str with None at once: an untyped compare is CPython's
    generic one, more of its code to fetch on every request
    (benchmarks/cachesim.py)."""
    if value is known:
        return True
    if type(value) is str:
        if type(known) is str:
            text: str = value
            other: str = known
            return text == other
        if known is None:
            return False  # (what comparing them says)
    elif value is None and type(known) is str:
        return False
    return bool(value == known)


def _same(text: Any, known: Any) -> Any:
    """``known`` where it is equal text (its hash computed already); typed
    Any: an environ value of another type passes as it came."""
    if text is known:  # (the proxy layer's values: no read of either)
        return known
    if type(text) is str and type(known) is str:
        new: str = text  # (typed: a compiled build compares natively)
        old: str = known
        if new == old:
            return old
    return text


def _url(environ: WSGIEnvironment) -> str:
    """scheme://host[:port]SCRIPT_NAME of the request, for messages."""
    scheme = environ.get("wsgi.url_scheme", "http")
    shown = _host(environ)
    return f"{scheme}://{shown}{_header(environ, 'SCRIPT_NAME')}"


def _count(counts: dict[str, int], findings: tuple[Finding, ...], times: int) -> None:
    """Add ``times`` responses' ``findings`` to the counts per rule."""
    for finding in findings:
        rule = finding.rule
        counts[rule] = counts.get(rule, 0) + times


class CookieMiddleware:
    """Audit and fix Set-Cookie headers (wraps start_response only).

    Settings: ``cookie_policy``, ``cookie_secure``, ``cookie_samesite``,
    ``cookie_domain``, ``cookie_path``, ``cookie_httponly``,
    ``cookie_max_size``, ``detect_races``. ``recent`` holds this app's last
    50 findings and ``counts`` the findings per rule, for the inspector.
    """

    def __init__(self, app: WSGIApplication, **settings: Any) -> None:
        self.app = app
        self._given = settings
        self.settings = config.resolve(settings, layer="cookies")
        cfg = self.settings
        self.policy: str = cfg["cookie_policy"]
        self.rules = Settings.from_config(cfg)
        self._max_size = self.rules.max_size  # (read per response: one object less)
        self.races = RaceDetector() if cfg["detect_races"] else None
        self.verdicts = VerdictCache()
        self.responses = VerdictCache()  # whole responses, see _Memo
        self.hostless = VerdictCache()  # the same on any host, see _hostless
        self._judged = 0  # responses the rules ran on (for tests)
        self._hosts_seen = SecondSight(_LOG_KEYS)  # see _admit
        self._recent: deque[Finding] = deque(maxlen=_RECENT)
        self._counts: dict[str, int] = {}
        # Findings of the last responses, folded into the two above when
        # they are read or when _PENDING responses wait (one append per
        # response on the hot path).
        self._pending: list[tuple[Finding, ...]] = []
        self._logged: dict[tuple[str, str | None], float] = {}
        self._lock = threading.Lock()
        # Read once per audited response: bound here, which a compiled build
        # calls without looking the name up in the time module each time.
        self._clock: Callable[[], float] = time.monotonic
        # The last memo key looked up, its entry and table, and whether they
        # are reused (see _audit_headers: compiled only; tests turn it on
        # for the pure build too).
        self._last: tuple[tuple[Any, ...], _Memo | None, dict[Any, Any]]
        self._last = ((), None, {})
        self._reuse: bool = _COMPILED
        # The tables of responses and hostless (in that order) that an
        # entry keyed by a request directory went into, the last such
        # (compared by identity): a lookup by directory elsewhere would
        # miss. An emptied cache starts a new table.
        self._directories: list[dict[Any, Any] | None] = [None, None]

    def sibling(self, app: WSGIApplication, policy: str) -> CookieMiddleware:
        """The same layer (shared findings, counts, race table, log limits)
        around another app with another policy; the inspector's responses
        go through ``sibling(inspector, "report")``."""
        given = dict(self._given)
        if self.policy != "off":
            given["cookie_policy"] = policy
        # A new layer (its own verdicts and memos: they depend on the
        # policy) sharing this one's findings, counts, race table, log limits.
        other = CookieMiddleware(app, **given)
        other.settings = self.settings
        other.races = self.races
        other._recent = self._recent
        other._counts = self._counts
        other._pending = self._pending
        other._logged = self._logged
        other._lock = self._lock
        return other

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        if self.policy == "off":
            return self.app(environ, start_response)
        # The request's mark in the race table: writes numbered above it
        # came after the request started (see wsgifix.races).
        races = self.races
        started = 0
        landed = True  # not (or no longer) listed in flight
        if races is not None:
            # In flight until its response is audited (see wsgifix.races).
            flying = races.flying
            flying.append(None)
            if len(flying) > FLYING_LIMIT:
                races.cut_back()
            started = races.writes
            landed = False
        # Where this layer's findings of the last call begin in
        # wsgifix.findings (-1: none listed yet), and its race table writes;
        # see exc_info below.
        mark = -1
        recorded: Undo | None = None

        # The app's arguments are typed Any on purpose: a compiled build
        # checks declared types, and the audit must pass on what an app
        # sends (lists for tuples, a tuple of headers, bytes) as the pure
        # build does, never fail the response over it.
        def audited_start_response(
            status: Any,
            headers: Any,
            exc_info: Any = None,
        ) -> Any:
            nonlocal mark, landed, recorded
            earlier_mark = mark
            replaced: list[Finding] | None = None
            taken: Taken | None = None
            if exc_info is not None and mark >= 0:
                # The headers of an earlier call are replaced, never sent:
                # their findings and race table writes go (PEP 3333 allows
                # this before any body; if the server says the body has
                # begun, they come back below).
                earlier = environ.get("wsgifix.findings")
                if earlier is not None:
                    replaced = earlier[mark:]
                    del earlier[mark:]
                if recorded and races is not None:
                    taken = races.withdraw(recorded)
            # Most responses set no cookie: one plain pass tells (and no
            # list is made for them).
            try:
                if not isinstance(headers, list) and not isinstance(headers, tuple):
                    # PEP 3333 says a list; an iterator can be read only once:
                    # read here, for the audit and the server alike.
                    headers = list(headers)
            except BaseException:  # the app's own error: landed all the same
                if not landed and races is not None:
                    landed = True
                    races.land()
                raise
            try:
                found = _set_cookies(headers)
            except Exception:
                # Not (name, value) pairs: the app's bug, for the server to
                # refuse with its own message (waitress and gunicorn do);
                # passed on unchanged, unaudited.
                found = None
                self._app_error(
                    "response headers that are not (name, value) pairs",
                    _first_bad_header(headers),
                )
            out = headers
            if found is not None:
                positions, values = found
                listed = environ.get("wsgifix.findings")
                if listed is None:
                    # An audited response always lists its findings, none
                    # included (C4: "a list").
                    environ["wsgifix.findings"] = listed = []
                mark = len(listed)
                # The race table only when a write can matter (see
                # wsgifix.races); then what it records, for withdraw().
                racing = races is not None and races.needed(started, not landed)
                if racing and recorded is None:
                    recorded = []
                try:
                    out = self._audit_headers(
                        environ, headers, positions, values, started, racing, recorded
                    )
                except Exception:  # a bug here must not cost the response
                    odd = [
                        at
                        for at, value in zip(positions, values, strict=True)
                        if not isinstance(value, str)
                    ]
                    if odd:  # the app's bug, not the audit's
                        self._app_error(
                            "a Set-Cookie value that is not str", headers[odd[0]]
                        )
                    else:
                        self._log_once(
                            ("internal-error", None),
                            logging.ERROR,
                            "the Set-Cookie audit failed; headers sent unchanged",
                            exc_info=True,
                        )
            if not landed and races is not None:
                landed = True
                races.land()
            if exc_info is None:
                return start_response(status, out)
            try:
                return start_response(status, out, exc_info)
            except BaseException:
                # The server refused: the earlier headers were sent and
                # stand, with their findings and writes; this call's go.
                listed = environ.get("wsgifix.findings")
                if listed is not None:
                    if found is not None:
                        del listed[mark:]
                    if replaced:
                        listed.extend(replaced)
                if races is not None:
                    if recorded:
                        races.withdraw(recorded)
                    if taken:
                        races.restore(taken)
                mark = earlier_mark
                raise

        if races is None:
            return self.app(environ, audited_start_response)
        try:
            return self.app(environ, audited_start_response)
        except BaseException:
            if not landed:  # landed without a response
                landed = True
                races.land()
            if recorded:
                # The app failed after start_response: the server answers
                # with its own error page, without these cookies.
                races.withdraw(recorded)
            raise

    def _audit_headers(
        self,
        environ: WSGIEnvironment,
        headers: Any,  # the app's, as it passed them (see __call__)
        positions: list[int],
        values: list[str],
        started: int,
        racing: bool = False,
        recorded: Undo | None = None,
    ) -> Any:
        """The headers to send for one response (its Set-Cookie ``values`` at
        ``positions``), its findings reported; ``racing``: its writes go
        through the race table, recording into ``recorded``."""
        scheme = environ.get("wsgi.url_scheme", "http")
        # Compiled, typed in _equal (written inline as isinstance(scheme,
        # str) and ..., it made GCC's profile-guided build lay all but this
        # function's first lines out as never run); as source, the call
        # would cost more than the compare.
        https: bool = _equal(scheme, "https") if _COMPILED else scheme == "https"
        script = _header(environ, "SCRIPT_NAME")
        # What the rules read of the response and its request, cookie values
        # excepted (see _Memo): the request's fields, then three per header.
        host = _host(environ)
        site = _header(environ, "HTTP_SEC_FETCH_SITE")  # (as effective_request)
        # Sec-Fetch-Dest is read by one rule (cross-site-set), and only in a
        # cross-site request: in others it is left out of the key (unread).
        dest = ""
        if len(site) == 10 and site.lower() == "cross-site":
            dest = _header(environ, "HTTP_SEC_FETCH_DEST")
        hint = None if https else _tls_hint(environ)
        # Compiled, the last key looked up: its text, where this response's
        # is equal, goes into this key as the same objects (their hashes
        # known); when every item is the same object, so is the memo entry
        # (see below). As source, these checks cost more than the hashing
        # and the lookup they save: the pure build keys every response anew.
        reusing = self._reuse
        prior: tuple[Any, ...] = ()
        # (Any: compiled, a _Memo would be unpacked and packed anew)
        prior_memo: Any = None
        prior_table: dict[Any, Any] | None = None
        if reusing:
            prior, prior_memo, prior_table = self._last
        reuse = reusing and len(prior) >= _KEY_HEAD
        same = False
        if reuse:
            scheme = _same(scheme, prior[0])
            host = _same(host, prior[1])
            script = _same(script, prior[2])
            site = _same(site, prior[4])
            dest = _same(dest, prior[5])
            if hint is not None:
                hint = _same(hint, prior[6])
            same = (
                len(prior) == _KEY_HEAD + 3 * len(values)
                and prior[3] is None
                and scheme is prior[0]
                and host is prior[1]
                and script is prior[2]
                and site is prior[4]
                and dest is prior[5]
                and hint is prior[6]
            )
        # The key, made only once it differs from the last one (until then,
        # the last key's first items are this response's).
        key: list[Any] | None = None
        if not same:
            key = [
                scheme,
                host,
                script,
                None,  # the default-path, for a response whose rules read it
                site,
                dest,
                hint,
            ]
        # Long client text is judged, not kept (the last key's, when all of
        # it is the same, was within the bound).
        keyed = same or len(script) + len(host) + len(site) + len(dest) <= _MAX_KEY_TEXT
        semis: list[int] = []
        writes: dict[str, tuple[str, str]] | None = None  # made when needed
        races = self.races
        # The cookies the request carried: for a race check, and over http
        # (overwrite-secure reads them); over https the key says True.
        jar: str = ""
        if racing or not https:
            jar = _header(environ, "HTTP_COOKIE")
        look = jar != ""
        max_size = self._max_size
        total = 0  # characters of Set-Cookie
        for k, value in enumerate(values):
            total += len(value)
            name: str = ""
            semi = -1
            eq = -1
            if reuse:
                place = _KEY_HEAD + 3 * k  # this header's name in a key
                if place < len(prior):
                    # The last key's name, then "=": the first "=" (a name
                    # holds none, nor a ";"), so the pair ends after it.
                    known: str = prior[place]
                    size = len(known)
                    if (
                        0 < size < len(value)
                        and value.startswith(known)
                        and ord(value[size]) == 61  # "="
                    ):
                        name = known
                        eq = size
                        semi = value.find(";", size + 1)
                        if semi < 0:
                            semi = len(value)
            if eq < 0:
                semi = value.find(";")
                if semi < 0:
                    semi = len(value)
                eq = value.find("=", 0, semi)
                if eq > 0:
                    name = value[:eq]
                    same = False  # (not the last key's name)
            stripped = name.strip(" \t")
            if not stripped:
                keyed = False  # a nameless cookie's message quotes its value
                if look and eq >= 0 and "" in parse_cookie_header(jar):
                    if writes is None:
                        writes = {}
                    writes[""] = (parse_cookie_header(jar)[""], value[eq + 1 : semi])
                continue
            # Printable ASCII (most headers): the name has no whitespace but
            # spaces inside, and its value is small enough (value_facts).
            # The pair is what counts: the attributes' text is in the key.
            plain = printable_ascii(value, semi)
            incoming = None
            if look:
                at = jar.find(stripped)
                after = at + len(stripped)
                if at < 0:
                    pass
                elif (
                    plain
                    # (find with bounds, not slices or startswith(x, i):
                    # no new string, and a compiled build's direct call)
                    and (at == 0 or (at >= 2 and jar.find("; ", at - 2, at) >= 0))
                    and jar.find("=", after, after + 1) >= 0
                ):
                    # Where browsers put it: cookie_value's first case.
                    at = after + 1
                    end = jar.find(";", at)
                    incoming = (jar[at:end] if end >= 0 else jar[at:]).strip()
                else:
                    incoming = cookie_value(jar, stripped)
                if incoming is not None:
                    # One check per name and response (the last value it
                    # sets): a response that sets a name twice does not race.
                    if writes is None:
                        writes = {}
                    writes[stripped] = (incoming, value[eq + 1 : semi])
            if not keyed:
                continue
            if plain and 3 * eq + semi <= max_size:
                facts: Any = https or incoming is not None
            else:  # see value_facts
                facts = (
                    value_facts(value[eq + 1 : semi], stripped, max_size),
                    "\t" in stripped,
                    incoming is not None,
                )
            last = ord(value[semi - 1]) if semi > 0 else 0  # (no new string)
            if last == 32 or last == 9:  # " " or TAB
                # Space ending the pair goes with an attribute the fixes
                # remove (rules.judge): it belongs to the key's text.
                semi = len(value[:semi].rstrip(" \t"))
            semis.append(semi)
            if not reuse and key is not None:  # (key is made at once then)
                key.append(name)
                key.append(value[semi:])
                key.append(facts)
                continue
            place = _KEY_HEAD + 3 * k
            rest: str | None = None
            if place + 1 < len(prior):
                known = prior[place + 1]
                if len(value) - semi == len(known) and value.endswith(known):
                    rest = known
            if rest is None:
                rest = value[semi:]
                same = False
            elif facts is not prior[place + 2]:
                same = False
            if key is None and not same:
                key = list(prior[:place])  # (equal so far)
            if key is not None:
                key.append(name)
                key.append(rest)
                key.append(facts)
        if total > _MAX_RESPONSE_TEXT:
            keyed = False  # long text is judged, not kept
        # The clock, read once when needed: for a dated entry (see _Quiet),
        # a response not seen before, findings or a race check.
        now = -1.0
        memo: _Memo | None = None  # typed: a compiled build unpacks it natively
        hostless = None
        if keyed:
            # Most responses set Path on every cookie: then the request's
            # path does not matter, and one entry serves all of them.
            cache = self.responses
            responses = cache.entries()  # as of the last clock reading
            if same and prior_memo is not None and prior_table is responses:
                memo = prior_memo  # the last response's key, item for item
            else:
                if key is None:  # the last key, item for item
                    looked = prior
                    key = list(prior)
                else:
                    looked = tuple(key)
                memo = responses.get(looked)
                if reusing:
                    self._last = (looked, memo, responses)
            if memo is not None and memo[2].dated:
                now = self._clock()
                if cache.table(now) is not responses:
                    memo = None  # kept over a minute: the table was emptied
            if memo is None:
                if now < 0.0:
                    now = self._clock()
                responses = cache.table(now)
            if memo is None and key is not None:
                path = script + _header(environ, "PATH_INFO")
                slash = path.rfind("/")
                if slash > 0 and path[0] == "/":
                    key[3] = path[:slash]
                    client = len(script) + len(host) + len(site) + len(dest)
                    if client + slash > _MAX_KEY_TEXT:
                        keyed = False  # judged, not kept
                else:
                    key[3] = "/"
            if memo is None and keyed and key is not None:
                # Only a table an entry keyed by a directory went into can
                # hold one (see _keep): most have none (cookies with Path).
                if self._directories[0] is responses:
                    looked = tuple(key)
                    memo = responses.get(looked)
                    if memo is not None and reusing:
                        self._last = (looked, memo, responses)
                if memo is None:
                    # Seen on another host? (See _hostless.)
                    hostless = _hostless(key, values, semis)
                    if hostless is not None:
                        memo = self._on_host(hostless, environ, now)
                        if memo is not None:
                            self._admit(key, memo, hostless[3])
        new_headers = None
        if memo is None:
            fixed, memo = self._judge(
                environ, values, key if keyed else None, semis, hostless
            )
            total = total_length(fixed)
        else:
            changes, _, _, grown = memo
            fixed = values
            if changes is not None:
                # The remembered fixes (one loop: the headers to send as well).
                fixed = values.copy()
                new_headers = list(headers)
                for k in range(len(changes)):
                    change = changes[k]
                    if change is not None:
                        appended, text = change
                        value = values[k]
                        # (a new string either way: += resizes in place,
                        # more of CPython's code to fetch)
                        value = value + text if appended else value[: semis[k]] + text
                        fixed[k] = value
                        at = positions[k]
                        header = new_headers[at]  # (as source, no call)
                        spelled = _item(header, 0) if _COMPILED else header[0]
                        new_headers[at] = (spelled, value)
                total += grown
        findings = memo[1]
        extra: list[Finding] | None = None
        if total * 4 > MAX_HEADER_BYTES or len(fixed) > MAX_COOKIES:
            # The sizes decide, so this one is never memoized.
            crowded = too_many_cookies(fixed, _url(environ))
            if crowded is not None:
                extra = [_one_line(crowded)]
        if writes and racing and races is not None:
            if now < 0.0:
                now = self._clock()
            raced = races.check_many(writes, started, now, recorded)
            if raced:
                extra = extra or []
                extra.extend(self._race_findings(raced, _url(environ)))
        if findings or extra:
            if now < 0.0:
                now = self._clock()
            self._report(environ, findings, extra, memo[2], now)
        if fixed is values:
            return headers
        if new_headers is None:
            new_headers = list(headers)
            for k in range(len(positions)):
                i = positions[k]
                new_headers[i] = (headers[i][0], fixed[k])
        return new_headers

    def _judge(
        self,
        environ: WSGIEnvironment,
        values: list[str],
        key: list[Any] | None,
        semis: list[int],
        hostless: list[Any] | None = None,
    ) -> tuple[list[str], _Memo]:
        """Run the rules (a response not seen before) and memoize the result
        under ``key``, its default-path (``key[3]``) left out when no rule
        reads it (every cookie has an absolute Path); and under ``hostless``
        (see :func:`_hostless`) for the same response on other hosts."""
        self._judged += 1
        e = effective_request(environ)
        summaries: list[Summary] = []
        # The verdicts per header serve the responses this memo does not
        # keep (a nameless cookie, over 8 KB of Set-Cookie, long client
        # text) and headers in new combinations. A response with one
        # Set-Cookie that the memo keeps is its header's verdict already,
        # kept from the same second sight: keying the header as well cost
        # such a response seen first ~0.6 us (compiled) for nothing.
        verdicts = self.verdicts if key is None or len(values) > 1 else None
        fixed, judged = audit(values, e, self.rules, verdicts, summaries)
        listed = []
        for f, _ in judged:
            if f.rule != "too-many-cookies":
                listed.append(f)
        kept = tuple(listed)
        memo: _Memo = (None, kept, _Quiet(), 0)
        if key is None:
            return fixed, memo
        for summary in summaries:
            if summary.time_bound:  # an Expires instant near: judged each time
                return fixed, memo
        changes: list[_Change | None] = []
        for k in range(len(values)):
            value = values[k]
            new = fixed[k]
            semi = semis[k]
            if new == value:
                changes.append(None)
            elif new.startswith(value):
                changes.append((True, new[len(value) :]))
            elif new.startswith(value[:semi]):
                changes.append((False, new[semi:]))
            else:
                return fixed, memo  # an edit inside the pair: not kept
        changed = changes.count(None) != len(changes)
        grown = total_length(fixed) - total_length(values)
        # Dated (see _Quiet); a Path with that word in it only costs a
        # clock reading.
        dated = _attributes_mention("expires", values, semis)
        memo = (tuple(changes) if changed else None, kept, _Quiet(dated), grown)
        # (a generator in any(): a compiled build's own loop, no map object)
        if not any(_reads_default_path(cookie) for cookie in summaries):
            key[3] = None
        self._keep(0, key, memo)
        if hostless is not None:
            hostless[3] = key[3]
            general_key = tuple(hostless)
            # The messages name the URL: kept with a stand-in for it, where
            # the URL is the message's only text like it (not also quoted
            # from the header: kept per host then). Told and made only for
            # an entry kept (a response seen once is not: see VerdictCache).
            if (
                self.hostless.admits(general_key)
                and one_line(e.url) == e.url
                and all(f.message.find(e.url) == f.message.rfind(e.url) for f in kept)
            ):
                general = _with_url(kept, e.url, _URL)
                entry: _Memo = (memo[0], general, memo[2], grown)
                self._keep(1, hostless, entry, True, general_key)
        return (fixed if changed else values), memo

    def _keep(
        self,
        which: int,
        key: list[Any],
        memo: _Memo,
        admitted: bool = False,
        looked: tuple[Any, ...] | None = None,
    ) -> None:
        """Put ``memo`` under ``key`` (as ``looked``, if made already) in
        the responses (``which`` 0) or the hostless (1) cache; see
        VerdictCache.put for ``admitted``."""
        cache = self.hostless if which else self.responses
        cache.put(tuple(key) if looked is None else looked, memo, admitted)
        if key[3] is not None:
            self._directories[which] = cache.entries()

    def _admit(self, key: list[Any], memo: _Memo, directory: Any) -> None:
        """Keep a response answered for a new host under this host's own key
        from the host's second such response: a stream of hosts seen once
        (a client inventing them) then leaves nothing behind. ``directory``
        is the found entry's: None where no rule reads the request's."""
        if self._hosts_seen.second(key[1]):
            key[3] = directory
            self._keep(0, key, memo, True)

    def _on_host(
        self, hostless: list[Any], environ: WSGIEnvironment, now: float
    ) -> _Memo | None:
        """The entry of this response on another host (see _hostless), its
        messages naming this request's URL; None when there is none.
        ``hostless[3]`` is left as the entry's key has it (None where no
        rule reads the request's directory)."""
        entries = self.hostless.table(now)  # the response's clock reading
        memo = None
        directory = hostless[3]
        if self._directories[1] is entries:  # (see self._directories)
            memo = entries.get(tuple(hostless))
        if memo is None:
            hostless[3] = None
            memo = entries.get(tuple(hostless))
        if memo is None:
            hostless[3] = directory
            return None
        url = _url(environ)
        findings = _with_url(memo[1], _URL, url)
        # The log limits go by rule and cookie name, which every host's
        # findings share: so does the time until which they are logged.
        return memo[0], findings, memo[2], memo[3]

    @staticmethod
    def _race_findings(names: list[str], url: str) -> list[Finding]:
        return [
            Finding(
                "concurrent-overwrite",
                WARNING,
                name,
                f"cookie {name!r} set on {one_line(url)} overwrites the value "
                "another response set moments ago for a request that carried "
                "the same cookie: the browser keeps only this one, and the "
                "earlier change is lost. Keep state that parallel requests "
                "update server-side, or make those requests sequential.",
                False,
            )
            for name in names
        ]

    def _report(
        self,
        environ: WSGIEnvironment,
        findings: tuple[Finding, ...],
        extra: list[Finding] | None,
        quiet: _Quiet,
        now: float,
    ) -> None:
        """List, count and log (once a minute per rule and name) findings.

        ``quiet.until`` is, per memoized response, the time until which all its
        ``findings`` are known to have been logged: until then only the
        ``extra`` ones need the per-name check.
        """
        plain = (*findings, *extra) if extra else findings
        # Typed: a compiled build extends it directly (the layer made it).
        listed: list[Finding] | None = environ.get("wsgifix.findings")
        if listed is None:
            environ["wsgifix.findings"] = list(plain)
        elif _COMPILED:
            # (Compiled, list.extend goes through PyList_SetSlice on
            # Python 3.11: ~170 instructions and ~15 lines of code a
            # response with caches cold, benchmarks/cachesim.py; an append
            # per finding is a few. As source, the loop costs more.)
            for finding in plain:
                listed.append(finding)
        else:
            listed.extend(plain)
        pending = self._pending
        pending.append(plain)  # atomic: no lock on the common path
        if len(pending) >= _PENDING:
            with self._lock:
                self._fold()
        if now < quiet.until and not extra:
            return  # all logged within the minute (the common case)
        due: list[Finding] = []
        with self._lock:
            if now >= quiet.until:
                quiet.until = self._due(findings, now, due)
            if extra:
                self._due(extra, now, due)
        # Logged outside the lock: handlers may be slow.
        for finding in due:
            level = logging.INFO if finding.severity == INFO else logging.WARNING
            fixed = " [fixed]" if finding.fixed else ""
            message = one_line(finding.message)
            log.log(level, "%s (%s)%s", message, finding.rule, fixed)

    @property
    def recent(self) -> deque[Finding]:
        """This app's last 50 findings, oldest first (a copy)."""
        with self._lock:
            self._fold()
            return deque(self._recent, _RECENT)

    @property
    def counts(self) -> dict[str, int]:
        """How many findings of each rule this app's responses had (a copy)."""
        with self._lock:
            self._fold()
            return dict(self._counts)

    def _fold(self) -> None:
        """Move the pending findings into recent and counts (under the lock;
        responses append to ``_pending`` meanwhile, and what they append
        is folded now or next time)."""
        # The first len() items, taken out in one operation each (responses
        # only append, at the end; list.append is atomic, as is the del).
        pending = self._pending
        count = len(pending)
        taken = pending[:count]
        del pending[:count]
        # Responses answered from one memo entry hand in the same findings
        # (the entry's own tuple): a run of them is counted once, times its
        # length (an identity check per response; Counter hashed each tuple,
        # its Findings and their text, ~100 ns a response).
        counts = self._counts
        run: tuple[Finding, ...] | None = None
        times = 0
        for findings in taken:
            if findings is run:
                times += 1
                continue
            if run is not None:
                _count(counts, run, times)
            run = findings
            times = 1
        if run is not None:
            _count(counts, run, times)
        # Only the last _RECENT findings can stay in recent.
        last: list[tuple[Finding, ...]] = []
        wanted = _RECENT
        for findings in reversed(taken):
            if wanted <= 0:
                break
            last.append(findings)
            wanted -= len(findings)
        recent = self._recent
        for findings in reversed(last):
            recent.extend(findings)

    def _due(
        self, findings: Iterable[Finding], now: float, due: list[Finding]
    ) -> float:
        """Add to ``due`` the findings not logged in the last minute (per rule
        and cookie name); the time when the next of them is due. Under the
        lock."""
        logged = self._logged
        until = math.inf
        for finding in findings:
            key = (finding.rule, finding.cookie)
            last = logged.get(key)
            if last is None or now - last >= _LOG_INTERVAL:
                if len(logged) >= _LOG_KEYS:
                    logged.clear()
                logged[key] = last = now
                due.append(finding)
            until = min(until, last + _LOG_INTERVAL)
        return until

    def _app_error(self, what: str, example: Any) -> None:
        """Log once a minute that the app passed start_response what PEP
        3333 forbids (``example``: one such item); its headers go to the
        server unchanged and unaudited."""
        shown = repr(example)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        self._log_once(
            ("app-headers", what),
            logging.WARNING,
            "the app passed start_response %s (%s): PEP 3333 asks for a list "
            "of (str, str) tuples, and servers such as waitress refuse the "
            "response; wsgifix passed the headers on unaudited",
            what,
            one_line(shown),
        )

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
