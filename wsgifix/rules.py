"""The Set-Cookie rules of COOKIE_RULES.md, each a small function.

A rule reads one parsed cookie (:class:`wsgifix.setcookie.SetCookie`) and
the effective request (:class:`Request`, what the app saw after the proxy
layer) and returns an :class:`Issue` or None. An issue carries the rule id,
its severity, a message (the cookie, the effective request, the browser's
own words, the remedy), what each browser family does, and the fix the
rule table defines, if any. Applying fixes, honouring the settings that
gate them, logging and ``environ["wsgifix.findings"]`` are the cookie
middleware's business; :func:`audit` ties the rules together and is pure,
so ``wsgifix doctor`` judges a remote response with the very same code.
"""

from __future__ import annotations

import ipaddress
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final, NamedTuple

if TYPE_CHECKING:
    # A native machine integer for a compiled build's loops (an int as source).
    from mypy_extensions import i64

from wsgifix.memo import SecondSight
from wsgifix.setcookie import (
    SetCookie,
    max_age_has_plus,
    octet_length,
    parse_cookie_date,
    parse_max_age,
)

# Final: a compiled build reads them as constants, not from the module dict.
ERROR: Final = "error"
WARNING: Final = "warning"
INFO: Final = "info"
DROPPED: Final = "dropped"
STORED: Final = "stored"
PROBLEM: Final = "stored-with-problem"
BROWSERS: Final = ("chromium", "firefox", "safari")
MAX_LIFETIME: Final = timedelta(days=400)
VERDICT_TTL: Final = 60.0  # seconds a cache keeps an entry at most
# A verdict can pass through three caches in turn (per header, per response
# on any host, per response on this host), each keeping it up to VERDICT_TTL.
_KEPT_AT_MOST: Final = 3 * VERDICT_TTL
MAX_COOKIES: Final = 20
MAX_HEADER_BYTES: Final = 8192
# CTL characters but the tab (RFC 6265bis 5.6: a cookie holding one is ignored).
_CONTROL: Final = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_DOMAIN_BAD: Final = frozenset(" \t%")


class Finding(NamedTuple):
    """One problem with a response's cookies (CONTRACT.md sections 4, 7).

    ``cookie`` is the cookie's name (``""`` for a nameless one, None for
    the response or request as a whole); ``fixed`` is True when this
    finding's fix was applied and no ``error`` remains on the cookie.
    """

    rule: str
    severity: str
    cookie: str | None
    message: str
    fixed: bool


Verdicts = dict[str, tuple[str, str | None]]


class Fix(NamedTuple):
    """An edit the rule table defines: ``op`` is add, remove, replace or dedupe.

    ``gate`` names what may block it: ``secure`` (cookie_secure=keep),
    ``domain`` (cookie_domain=keep), ``samesite``/``path`` (applied only
    when the setting asks), or None (fix mode alone decides).
    """

    op: str
    key: str
    value: str | None
    gate: str | None


class Issue(NamedTuple):
    rule: str
    severity: str
    message: str
    browsers: Verdicts
    fixes: tuple[Fix, ...]


# The rules make these tuples with tuple.__new__: calling a NamedTuple class
# runs its __new__, a Python-level function even in a compiled build.
_NEW_TUPLE: Final = tuple.__new__


def total_length(texts: list[str]) -> int:
    """Characters in ``texts``: ``sum(map(len, texts))`` written out
    (compiled, a native loop over the list; the builtins would be looked
    up and called generically)."""
    total = 0
    for text in texts:
        total += len(text)
    return total


def _issue(
    rule: str, severity: str, message: str, browsers: Verdicts, fixes: tuple[Fix, ...]
) -> Issue:
    """``Issue(...)`` (see _NEW_TUPLE)."""
    result: Issue = _NEW_TUPLE(Issue, (rule, severity, message, browsers, fixes))
    return result


def _fix(op: str, key: str, value: str | None, gate: str | None) -> Fix:
    """``Fix(...)`` (see _NEW_TUPLE)."""
    result: Fix = _NEW_TUPLE(Fix, (op, key, value, gate))
    return result


def _finding(
    rule: str, severity: str, cookie: str | None, message: str, fixed: bool
) -> Finding:
    """``Finding(...)`` (see _NEW_TUPLE)."""
    result: Finding = _NEW_TUPLE(Finding, (rule, severity, cookie, message, fixed))
    return result


class Request(NamedTuple):
    """The effective request E of COOKIE_RULES.md."""

    scheme: str
    host: str  # lower-case, IDNA A-label, no port; IPv6 without brackets
    script_name: str
    path: str  # SCRIPT_NAME + PATH_INFO
    sec_fetch_site: str
    sec_fetch_dest: str
    cookies: Mapping[str, str]  # cookies the request carried, name -> value
    peer_hint: str | None  # untrusted TLS proxy advice, see untrusted_tls_proxy
    url: str  # scheme://host[:port]SCRIPT_NAME, for messages

    # The rules themselves read ``e.scheme == "https"`` and
    # ``is_localhost(e.host)``: a property is a generic attribute lookup
    # (and a call) in a compiled build, a field a direct one.
    @property
    def secure(self) -> bool:
        return self.scheme == "https"

    @property
    def localhost(self) -> bool:
        return is_localhost(self.host)

    @property
    def trustworthy(self) -> bool:
        """Trustworthy for Chromium and Firefox (Safari: https only)."""
        return self.secure or self.localhost


class Settings(NamedTuple):
    """The cookie settings the rules and fixes read."""

    policy: str = "fix"
    secure: str = "auto"
    samesite: str = "keep"
    domain: str = "auto"
    path: str = "keep"
    httponly: frozenset[str] = frozenset()
    max_size: int = 4096

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> Settings:
        """From resolved settings (``wsgifix.config.resolve``)."""
        return cls(
            policy=cfg["cookie_policy"],
            secure=cfg["cookie_secure"],
            samesite=cfg["cookie_samesite"],
            domain=cfg["cookie_domain"],
            path=cfg["cookie_path"],
            httponly=frozenset(cfg["cookie_httponly"]),
            max_size=cfg["cookie_max_size"],
        )


def is_localhost(host: str) -> bool:
    """``localhost``, ``*.localhost``, 127.0.0.0/8 or ::1."""
    name = host.removesuffix(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    if ":" not in name and not name[-1:].isdigit():
        return False  # a name (see _ip), told without a cache entry per name
    return _loopback(name)


@lru_cache(maxsize=1024)
def _loopback(text: str) -> bool:
    """Whether ``text`` is a loopback IP address (cached: ``is_loopback``
    is a Python-level property of the ipaddress classes)."""
    ip = _ip(text)
    return ip is not None and ip.is_loopback


@lru_cache(maxsize=1024)
def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    bare = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    if ":" not in bare and not bare[-1:].isdigit():
        return None  # a name (IPv4 ends in a digit, IPv6 holds a colon)
    try:
        return ipaddress.ip_address(bare)
    except ValueError:
        return None


@lru_cache(maxsize=1)
def _psl() -> Any:
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()


@lru_cache(maxsize=4096)
def is_public_suffix(domain: str) -> bool:
    """A public suffix (ICANN or private section, as Chromium reads it).

    IP literals and single-label names are decided before the list is
    consulted: an address is never one, and a single label always is (the
    list's default rule, which Chromium applies: ``Domain=test`` on
    ``lab.test`` and ``Domain=localhost`` on ``x.localhost`` are dropped,
    measured with Chromium 156). The callers ask only about a Domain that
    is not the host itself, which a single-label host may set.
    """
    if _ip(domain) is not None:
        return False
    if "." not in domain.strip("."):
        return True
    return bool(_psl().is_public(domain))


def _v(
    chromium: str, firefox: str, safari: str, reasons: Sequence[str | None] = ()
) -> Verdicts:
    """Each browser family's verdict and reason. The few combinations the
    rules give are made once and shared (nothing changes a Verdicts)."""
    return _verdicts(chromium, firefox, safari, tuple(reasons))


@lru_cache(maxsize=256)
def _verdicts(
    chromium: str, firefox: str, safari: str, reasons: tuple[str | None, ...]
) -> Verdicts:
    reasons += (None,) * (3 - len(reasons))
    return dict(
        zip(
            BROWSERS,
            zip((chromium, firefox, safari), reasons, strict=True),
            strict=True,
        )
    )


def _dropped(chromium_reason: str | None, firefox_reason: str | None) -> Verdicts:
    return _v(DROPPED, DROPPED, DROPPED, (chromium_reason, firefox_reason, None))


# The verdicts the rules give with constant arguments, made once: a call of
# _v costs ~90 ns a finding compiled (its arguments hashed by the cache).
_PROBLEM: Final = _v(PROBLEM, PROBLEM, PROBLEM)
_STORED: Final = _v(STORED, STORED, STORED)
_CHROMIUM_PROBLEM: Final = _v(PROBLEM, STORED, STORED)
_SAFARI_DROPS: Final = _v(STORED, STORED, DROPPED)


def _who(name: str) -> str:
    # (repr(), not an f-string's !r: compiled, that is a str.format call
    # that parses its template on every finding, ~250 ns)
    return "cookie " + repr(name) if name else "a nameless cookie"


# What browsers percent-encode in a URL's path (WHATWG URL: the C0
# controls, space, ", #, <, >, ?, `, {, } and all beyond ASCII), and "%"
# and "\\" as well: in a decoded WSGI path they came as %25 and %5C.
_URL_ENCODED: Final = re.compile(r"[^!$&-;=@-\[\]-_a-z|~]")


def url_path(path: str) -> str:
    """A WSGI path (decoded, latin-1 text) as browsers send it in the URL,
    which is what they compare a cookie's Path with: ``/caf\xc3\xa9`` is
    ``/caf%C3%A9``, ``/a b`` is ``/a%20b``; most paths are returned as
    they are."""
    if _URL_ENCODED.search(path) is None:
        return path
    out = []
    for char in path:
        if _URL_ENCODED.match(char) is None:
            out.append(char)
        else:
            code = ord(char)
            if code < 0x100:
                octets = bytes((code,))
            elif 0xDC80 <= code <= 0xDCFF:  # an octet decoded with surrogateescape
                octets = bytes((code - 0xDC00,))
            else:
                octets = char.encode("utf-8", "backslashreplace")
            for octet in octets:
                out.append(f"%{octet:02X}")
    return "".join(out)


def default_path(path: str) -> str:
    """RFC 6265bis section 5.1.4: the directory of the request path."""
    if not path.startswith("/") or path.count("/") == 1:
        return "/"
    return path[: path.rindex("/")]


def _under(path: str, base: str) -> bool:
    """``path`` equals ``base`` or lies under it on a segment boundary."""
    if base in ("", "/"):
        return True
    return path == base or path.startswith(base.rstrip("/") + "/")


def _domain_matches(host: str, domain: str) -> bool:
    return host == domain or (host.endswith("." + domain) and _ip(host) is None)


def is_deletion(cookie: SetCookie) -> bool:
    """Max-Age <= 0, or an Expires in the past: the app deletes the cookie."""
    max_age = cookie.get("max-age")
    if max_age is not None:
        seconds = parse_max_age(max_age)
        if seconds is not None:
            return seconds <= 0
    expires = cookie.get("expires")
    if expires is not None:
        date = parse_cookie_date(expires)
        return date is not None and date <= datetime.now(UTC)
    return False


# -- the rules -----------------------------------------------------------------
# Each returns an Issue or None; ``seen`` carries facts between rules of one
# cookie (the first rule to report a missing Secure, a Domain verdict), so
# that one cause gives one finding (CONTRACT.md section 7).

Seen = dict[str, Any]


def not_latin1(c: SetCookie, e: Request, s: Settings, seen: Seen) -> Issue | None:
    text = c.raw
    if "\r" not in text and "\n" not in text and text.isascii():
        return None
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        why = "is not latin-1 text, which a WSGI server cannot send"
    else:
        if "\r" not in text and "\n" not in text:
            return None
        why = "contains CR or LF (header injection; the server refuses it)"
    seen["broken"] = True
    return _issue(
        "not-latin1",
        ERROR,
        f"{_who(c.name)} set on {e.url}: the Set-Cookie header {why} "
        "(Chromium: DisallowedCharacter). Encode the value (e.g. "
        "percent-encoding or base64) before setting it.",
        _dropped("DisallowedCharacter", "RejectedInvalidCharValue"),
        (),
    )


def control_char(c: SetCookie, e: Request, s: Settings, seen: Seen) -> Issue | None:
    if seen.get("broken"):
        return None
    raw = c.raw
    if printable_ascii(raw):
        return None  # (most headers: no control character, no TAB at all)
    if _CONTROL.search(raw) is not None:
        browsers = _dropped("DisallowedCharacter", "RejectedInvalidCharValue")
    elif "\t" in c.name or "\t" in c.value or ("\t" in raw and _tab_inside(c)):
        browsers = _v(DROPPED, STORED, STORED, ("DisallowedCharacter",))
    else:
        return None
    return _issue(
        "control-char",
        ERROR,
        f"{_who(c.name)} set on {e.url} contains a control character; "
        "browsers drop it (Chromium: DisallowedCharacter). Encode the value.",
        browsers,
        (),
    )


def _tab_inside(c: SetCookie) -> bool:
    """A TAB inside an attribute's trimmed name or value, which Chromium
    rejects as it does one in the cookie's value (measured: ``Path=/s<TAB>x``,
    ``Foo=a<TAB>b``, ``Fo<TAB>o=ab`` dropped, DisallowedCharacter)."""
    for a in c.attributes:
        if "\t" in a.name or (a.value is not None and "\t" in a.value):
            return True
    return False


def empty_cookie(c: SetCookie, e: Request, s: Settings, seen: Seen) -> Issue | None:
    if c.name or c.value:
        return None
    seen["empty"] = True
    return _issue(
        "empty-cookie",
        ERROR,
        f"a Set-Cookie on {e.url} has neither name nor value; browsers drop it "
        "(Chromium: NoCookieContent). Give the cookie a name and a value.",
        _dropped("NoCookieContent", "RejectedEmptyNameAndValue"),
        (),
    )


def _value_prefix(c: SetCookie) -> str | None:
    """``__Secure-`` or ``__Host-`` when a nameless cookie's value begins
    with one (any case): RFC 6265bis 5.7 has browsers ignore it, lest it
    pass for a prefixed cookie in the Cookie header (Chromium 156 drops it,
    InvalidPrefix)."""
    if c.name:
        return None
    value = c.value.lower()
    if value.startswith("__secure-"):
        return "__Secure-"
    if value.startswith("__host-"):
        return "__Host-"
    return None


def nameless(c: SetCookie, e: Request, s: Settings, seen: Seen) -> Issue | None:
    if c.name and not c.nameless:
        return None
    # The pair is all value, and values are never shown (they may be
    # secrets: findings reach logs and the inspector): its length only.
    shown = (
        f"a Set-Cookie on {e.url} has no name "
        f"(its value, {len(c.value)} characters, is not shown)"
    )
    prefix = _value_prefix(c)
    if prefix is not None:  # the prefix rule reports the drop
        return _issue(
            "nameless",
            WARNING,
            f"{shown}; its value begins with {prefix}, so browsers ignore it "
            "(Chromium: InvalidPrefix). Use name=value.",
            _dropped("InvalidPrefix", "RejectedInvalidPrefix"),
            (),
        )
    return _issue(
        "nameless",
        WARNING,
        f"{shown}; browsers store it as a nameless cookie that servers cannot "
        "read back by name. Use name=value.",
        _PROBLEM,
        (),
    )


def _prefixed_value(rule: str, prefix: str, c: SetCookie, e: Request) -> Issue | None:
    """A nameless cookie whose value begins with ``prefix``: dropped, and
    nothing wsgifix may change helps (the name=value bytes are the app's)."""
    if _value_prefix(c) != prefix:
        return None
    return _issue(
        rule,
        ERROR,
        f"a Set-Cookie on {e.url} has no name and its value begins with {prefix}: "
        "browsers ignore it (Chromium: InvalidPrefix). Give the cookie a name.",
        _dropped("InvalidPrefix", "RejectedInvalidPrefix"),
        (),
    )


def too_large(c: SetCookie, e: Request, s: Settings, seen: Seen) -> Issue | None:
    size = octet_length(c.name) + octet_length(c.value)
    if size <= s.max_size:
        return None
    return _issue(
        "too-large",
        ERROR,
        f"{_who(c.name)} set on {e.url} is {size} bytes (name+value), over the "
        f"{s.max_size}-byte limit; browsers drop it (Chromium: "
        "NameValuePairExceedsMaxSize). Keep sessions server-side and store "
        "only an id in the cookie.",
        _dropped("NameValuePairExceedsMaxSize", "RejectedNameValueOversize"),
        (),
    )


def attr_too_long(c: SetCookie, e: Request, s: Settings, seen: Seen) -> Issue | None:
    long = c.too_long
    if not long:
        return None
    names = ", ".join(sorted({a.name for a in long}))
    return _issue(
        "attr-too-long",
        WARNING,
        f"{_who(c.name)} set on {e.url}: the value of {names} is over 1024 "
        "bytes, so browsers ignore that attribute. Shorten it.",
        _PROBLEM,
        (),
    )


def _domain_issue(
    rule: str, severity: str, c: SetCookie, e: Request, what: str, fix: Fix | None
) -> Issue:
    reason = "InvalidDomain" if severity == ERROR else None
    browsers = (
        _dropped("InvalidDomain", "RejectedInvalidDomain")
        if severity == ERROR
        else _PROBLEM
    )
    if rule == "domain-empty" and severity == ERROR:
        # Domain=. (COOKIE_RULES.md): host-only, but Chromium drops it.
        browsers = _v(DROPPED, PROBLEM, PROBLEM, ("InvalidDomain",))
    remedy = (
        "Set the framework's cookie domain to match the host, or leave it unset "
        "for a host-only cookie (Flask SESSION_COOKIE_DOMAIN, Django "
        "SESSION_COOKIE_DOMAIN)."
    )
    words = f" (Chromium: {reason})" if reason else ""
    return _issue(
        rule,
        severity,
        f"{_who(c.name)} set on {e.url}: {what}{words}. {remedy}",
        browsers,
        (fix,) if fix is not None else (),
    )


def _host_prefixed(c: SetCookie) -> bool:
    return c.name.lower().startswith("__host-")


def domain_rules(c: SetCookie, e: Request, s: Settings, seen: Seen) -> Issue | None:
    """domain-invalid, domain-empty, domain-ip, domain-public-suffix,
    domain-mismatch: the first that applies (CONTRACT.md section 7).

    The Domain of a ``__Host-`` cookie is reported, not changed (CONTRACT.md
    7, host-prefix): the app asked for a host-only prefix and a Domain,
    which exclude each other, and wsgifix does not choose between them.
    """
    raw = c.get("domain")
    if raw is None:
        return None
    prefixed = _host_prefixed(c)
    remove = None if prefixed else _fix("remove", "domain", None, "domain")
    left = " (a __Host- cookie: left as is)" if prefixed else ""
    if raw in ("", "."):
        severity = ERROR if raw == "." else WARNING
        return _domain_issue(
            "domain-empty",
            severity,
            c,
            e,
            f"Domain={raw} makes it host-only"
            + (" and Chromium drops it" if raw == "." else "")
            + left,
            remove,
        )
    domain = raw.lower().removeprefix(".")
    host = e.host
    bad = (
        any(ch in _DOMAIN_BAD for ch in domain)
        or not domain.isascii()
        or (":" in domain and _ip(domain) is None)
        or (domain.endswith(".") and _ip(domain.rstrip(".")) is None)
    )
    if bad:
        repaired = _repair_domain(domain)
        fix = remove
        if (
            not prefixed
            and repaired is not None
            and _domain_matches(host, repaired)
            and (not is_public_suffix(repaired) or repaired == host)
        ):
            fix = _fix("replace", "domain", repaired, "domain")
        return _domain_issue(
            "domain-invalid",
            ERROR,
            c,
            e,
            f"Domain={raw!r} is not a valid domain (a port, a trailing dot, '%', "
            f"spaces or non-ASCII){left}",
            fix,
        )
    if _ip(host) is not None:
        # An IPv6 Domain is written as in a URL, in brackets: Chromium drops
        # Domain=::1 on http://[::1]/ (InvalidDomain) and keeps Domain=[::1].
        if _ip(domain) == _ip(host) and (":" not in host or domain.startswith("[")):
            return None
        return _domain_issue(
            "domain-ip",
            ERROR,
            c,
            e,
            f"the host {host} is an IP address and Domain={raw} is not that "
            "address"
            + (" as browsers write it (in brackets)" if ":" in host else "")
            + left,
            remove,
        )
    if domain != host and is_public_suffix(domain):
        return _domain_issue(
            "domain-public-suffix",
            ERROR,
            c,
            e,
            f"Domain={raw} is a public suffix, which no site may set cookies for{left}",
            remove,
        )
    if not _domain_matches(host, domain):
        if not left and is_deletion(c):
            left = " (a deletion: left as is)"
        return _domain_issue(
            "domain-mismatch",
            ERROR,
            c,
            e,
            f"Domain={raw} does not match the host {host}{left}",
            None if left else remove,
        )
    return None


def _repair_domain(domain: str) -> str | None:
    """Strip a port and a trailing dot, IDNA-encode; None when hopeless."""
    text = domain.strip()
    if text.count(":") == 1:
        text = text.split(":", 1)[0]
    text = text.rstrip(".")
    if not text or any(ch in _DOMAIN_BAD for ch in text):
        return None
    try:
        return text.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None


def _secure_missing(
    rule: str,
    severity: str,
    c: SetCookie,
    e: Request,
    what: str,
    browsers: Verdicts,
    extra: tuple[Fix, ...] = (),
    fix_on_trustworthy: bool = True,
) -> Issue:
    fixes = extra
    if fix_on_trustworthy and (e.scheme == "https" or is_localhost(e.host)):
        fixes = (*extra, _fix("add", "Secure", None, "secure"))
    if not fix_on_trustworthy:  # Secure is there: only Path/Domain are wrong
        remedy = "Give it exactly Secure; Path=/ and no Domain."
    else:
        remedy = (
            "Set Secure (Flask SESSION_COOKIE_SECURE, Django SESSION_COOKIE_SECURE)"
            + (
                "."
                if e.scheme == "https"
                else ", serve it over https, and if a TLS proxy is in front, trust "
                "its X-Forwarded-Proto."
            )
        )
    return _issue(
        rule,
        severity,
        f"{_who(c.name)} set on {e.url}: {what}. {remedy}",
        browsers,
        fixes,
    )


def host_prefix(c: SetCookie, e: Request, s: Settings, seen: Seen) -> Issue | None:
    if not c.name.lower().startswith("__host-"):
        return _prefixed_value("host-prefix", "__Host-", c, e)
    secure = c.has("secure")
    path = c.get("path")
    has_domain = c.attribute("domain") is not None
    if secure and path == "/" and not has_domain:
        return None
    problems = []
    fixes: list[Fix] = []
    if not secure:
        problems.append("no Secure")
        seen["secure"] = True
    if path is None:
        problems.append("no Path=/")
        fixes.append(_fix("add", "Path", "/", None))
    elif path != "/":
        problems.append(f"Path={path!r} instead of Path=/")
    if has_domain:
        problems.append("a Domain attribute")
    seen["path"] = True
    firefox = (
        STORED
        if (secure and not has_domain and path is None and default_path(e.path) == "/")
        else DROPPED
    )
    browsers = _v(
        DROPPED,
        firefox,
        DROPPED,
        ("InvalidPrefix", "RejectedInvalidPrefix" if firefox == DROPPED else None),
    )
    what = (
        "a __Host- cookie needs Secure, Path=/ and no Domain, but it has "
        + ", ".join(problems)
        + "; browsers drop it (Chromium: InvalidPrefix)"
    )
    # A Domain or another Path is reported, not changed (CONTRACT.md 7),
    # and Secure is added only on a trustworthy E: then the cookie stays
    # invalid, which judge() sees when it judges the header it sends.
    return _secure_missing(
        "host-prefix", ERROR, c, e, what, browsers, tuple(fixes), not secure
    )


def secure_prefix(c: SetCookie, e: Request, s: Settings, seen: Seen) -> Issue | None:
    if not c.name.lower().startswith("__secure-"):
        return _prefixed_value("secure-prefix", "__Secure-", c, e)
    if not c.has("secure"):
        if seen.get("secure"):
            return None
        seen["secure"] = True
        return _secure_missing(
            "secure-prefix",
            ERROR,
            c,
            e,
            "a __Secure- cookie without Secure; browsers drop it "
            "(Chromium: InvalidPrefix)",
            _dropped("InvalidPrefix", "RejectedInvalidPrefix"),
        )
    if e.scheme == "https":
        return None
    if is_localhost(e.host):
        return _issue(
            "secure-prefix",
            INFO,
            f"{_who(c.name)} set on {e.url}: a __Secure- cookie over http; "
            "Chromium and Firefox keep it on a localhost name, Safari drops it.",
            _SAFARI_DROPS,
            (),
        )
    return _issue(
        "secure-prefix",
        ERROR,
        f"{_who(c.name)} set on {e.url}: a __Secure- cookie over http; browsers "
        f"drop it (Chromium: InvalidPrefix). {_tls_hint(e)}",
        _dropped("InvalidPrefix", "RejectedInvalidPrefix"),
        (),
    )


def samesite_none_insecure(
    c: SetCookie, e: Request, s: Settings, seen: Seen
) -> Issue | None:
    value = c.get("samesite")
    if (
        value is None
        or value.lower() != "none"
        or c.has("secure")
        or seen.get("secure")
    ):
        return None
    seen["secure"] = True
    return _secure_missing(
        "samesite-none-insecure",
        ERROR,
        c,
        e,
        "SameSite=None without Secure; browsers drop it "
        "(Chromium: SameSiteNoneInsecure)",
        _dropped("SameSiteNoneInsecure", "RejectedNoneRequiresSecure"),
    )


def partitioned_insecure(
    c: SetCookie, e: Request, s: Settings, seen: Seen
) -> Issue | None:
    if not c.has("partitioned") or c.has("secure") or seen.get("secure"):
        return None
    seen["secure"] = True
    return _secure_missing(
        "partitioned-insecure",
        ERROR,
        c,
        e,
        "Partitioned without Secure; browsers drop it",
        _dropped(None, "RejectedPartitionedRequiresSecure"),
    )


def https_without_secure(
    c: SetCookie, e: Request, s: Settings, seen: Seen
) -> Issue | None:
    if e.scheme != "https" or c.has("secure") or seen.get("secure"):
        return None
    seen["secure"] = True
    return _secure_missing(
        "https-without-secure",
        WARNING,
        c,
        e,
        "set over https without Secure, so browsers also send it over plain http",
        _PROBLEM,
    )


def _tls_hint(e: Request) -> str:
    if e.peer_hint:
        return e.peer_hint
    # Also said when a trusted proxy's own X-Forwarded-Proto: http decided:
    # then the client itself used http, which the second sentence covers.
    return (
        "If a TLS proxy is in front, it must send X-Forwarded-Proto: https and "
        "be trusted for it: trusted_proxies=<the proxy's address>, "
        "trusted_headers=x-forwarded-proto, and serve with `wsgifix serve` or "
        "waitress clear_untrusted_proxy_headers=False. If it already is, the "
        "browser used plain http: redirect http to https at the proxy."
    )


def secure_over_http(c: SetCookie, e: Request, s: Settings, seen: Seen) -> Issue | None:
    if e.scheme == "https" or not c.has("secure"):
        return None
    if is_localhost(e.host):
        return _issue(
            "secure-over-http",
            INFO,
            f"{_who(c.name)} set on {e.url}: Secure over http; Chromium and Firefox "
            "keep it on a localhost name, Safari drops it (SecureOnly).",
            _SAFARI_DROPS,
            (),
        )
    return _issue(
        "secure-over-http",
        ERROR,
        f"{_who(c.name)} set on {e.url}: Secure over plain http; browsers drop it "
        f"(Chromium: SecureOnly). {_tls_hint(e)}",
        _dropped("SecureOnly", "RejectedSecureButNonHttps"),
        (),
    )


def overwrite_secure(c: SetCookie, e: Request, s: Settings, seen: Seen) -> Issue | None:
    if e.scheme == "https" or c.has("secure") or c.name not in e.cookies:
        return None
    return _issue(
        "overwrite-secure",
        WARNING,
        f"{_who(c.name)} set on {e.url}: a non-Secure cookie over http with the "
        "name of a cookie the browser sent; if the browser holds a Secure cookie "
        "of that name it drops this one (Chromium: OverwriteSecure).",
        _v(
            PROBLEM,
            PROBLEM,
            PROBLEM,
            ("OverwriteSecure", "RejectedNonsecureOverSecure"),
        ),
        (),
    )


def _samesite_fix(c: SetCookie, s: Settings, seen: Seen, op: str) -> tuple[Fix, ...]:
    if s.samesite == "keep":
        return ()
    return (_fix(op, "SameSite", s.samesite.capitalize(), "samesite"),)


def samesite_invalid(c: SetCookie, e: Request, s: Settings, seen: Seen) -> Issue | None:
    value = c.get("samesite")
    if value is None or value.lower() in ("none", "lax", "strict"):
        return None
    return _issue(
        "samesite-invalid",
        WARNING,
        f"{_who(c.name)} set on {e.url}: SameSite={value!r} is not None, Lax or "
        "Strict, so browsers treat it as unset (Chromium: Lax by default).",
        _PROBLEM,
        _samesite_fix(c, s, seen, "replace"),
    )


def samesite_missing(c: SetCookie, e: Request, s: Settings, seen: Seen) -> Issue | None:
    if c.get("samesite") is not None:
        return None
    return _issue(
        "samesite-missing",
        INFO,
        f"{_who(c.name)} set on {e.url} has no SameSite: Chromium treats it as "
        "Lax, Firefox and Safari as None. Say which you mean "
        "(Flask SESSION_COOKIE_SAMESITE, Django SESSION_COOKIE_SAMESITE, or "
        "cookie_samesite).",
        _CHROMIUM_PROBLEM,
        _samesite_fix(c, s, seen, "add"),
    )


def cross_site_set(c: SetCookie, e: Request, s: Settings, seen: Seen) -> Issue | None:
    if e.sec_fetch_site != "cross-site" or e.sec_fetch_dest == "document":
        return None
    value = (c.get("samesite") or "").lower()
    if value == "none":
        if c.has("partitioned"):
            return None
        token = "UserPreferences"
    else:
        token = {"lax": "SameSiteLax", "strict": "SameSiteStrict"}.get(
            value, "SameSiteUnspecifiedTreatedAsLax"
        )
    return _issue(
        "cross-site-set",
        WARNING,
        f"{_who(c.name)} set on {e.url} in a cross-site "
        f"{e.sec_fetch_dest or 'request'}: "
        f"browsers block it as a third-party cookie (Chromium: {token}). For an "
        "embedded app use SameSite=None; Secure; Partitioned.",
        _v(DROPPED, DROPPED, DROPPED, (token, "RejectedForNonSameSiteness")),
        (),
    )


def path_rules(c: SetCookie, e: Request, s: Settings, seen: Seen) -> Issue | None:
    """missing-path, path-invalid, path-outside-mount (__Host- cookies are
    judged by host-prefix)."""
    if seen.get("path"):
        return None
    path = c.get("path")
    script = e.script_name
    if path is None:
        scoped = s.path == "scope" and script
        if default_path(e.path) == "/" and not scoped:
            return None
        target = script or "/"
        fix = _fix("add", "Path", target, None)
        if default_path(e.path) == "/":  # only the scope setting asks
            seen["silent"] = (fix,)
            return None
        return _issue(
            "missing-path",
            WARNING,
            f"{_who(c.name)} set on {e.url} has no Path, so browsers scope it to "
            f"{default_path(e.path)} and do not send it to other paths ('session "
            f"lost after redirect'). Set Path={target} (Flask "
            "SESSION_COOKIE_PATH, Django SESSION_COOKIE_PATH).",
            _PROBLEM,
            (fix,),
        )
    scope_fix = _fix("replace", "path", script, "path")
    if not path.startswith("/"):
        return _issue(
            "path-invalid",
            WARNING,
            f"{_who(c.name)} set on {e.url}: Path={path!r} is empty or relative, so "
            f"browsers ignore it and use {default_path(e.path)}. Use an absolute path.",
            _PROBLEM,
            # cookie_path=scope: a Path that does not lie under the mount
            (scope_fix,) if script else (),
        )
    if not script:
        return None
    if _under(script, path):  # covers the mount (e.g. Path=/)
        if (
            s.path == "scope"
            and path.rstrip("/") != script
            and not c.name.lower().startswith("__host-")  # must keep Path=/
        ):
            seen["silent"] = (scope_fix,)
        return None
    if _under(path, script):
        return None
    return _issue(
        "path-outside-mount",
        WARNING,
        f"{_who(c.name)} set on {e.url}: Path={path} is outside the app's mount "
        f"{script}, so browsers never send it back to this app. Set the "
        f"framework's cookie path to {script} (Flask APPLICATION_ROOT, Django "
        "SESSION_COOKIE_PATH) or use cookie_path=scope.",
        _PROBLEM,
        (scope_fix,),
    )


def lifetime_rules(c: SetCookie, e: Request, s: Settings, seen: Seen) -> Issue | None:
    """max-age-invalid, or lifetime-capped by Max-Age. A valid Max-Age wins
    over Expires (RFC 6265bis 5.7); an invalid one is ignored, and
    :func:`expires_rules` judges the Expires browsers use instead."""
    max_age = c.get("max-age")
    if max_age is not None:
        seconds = parse_max_age(max_age)
        if seconds is None:
            plus = max_age_has_plus(max_age)
            seen["max-age-plus"] = plus
            return _issue(
                "max-age-invalid",
                WARNING,
                f"{_who(c.name)} set on {e.url}: Max-Age={max_age!r} is not an "
                "integer, so browsers ignore it"
                + (" (Chromium accepts the leading '+')" if plus else "")
                + ". Use Max-Age=<seconds>.",
                _v(STORED if plus else PROBLEM, PROBLEM, PROBLEM),
                (),
            )
        seen["lifetime"] = True
        if seconds > MAX_LIFETIME.total_seconds():
            return _capped(c, e)
    return None


def expires_rules(c: SetCookie, e: Request, s: Settings, seen: Seen) -> Issue | None:
    """expires-invalid, or lifetime-capped by Expires: when there is no
    valid Max-Age (an invalid one is ignored, so browsers use Expires)."""
    expires = c.get("expires")
    if expires is None or seen.get("lifetime"):
        return None
    date = parse_cookie_date(expires)
    if date is None:
        plus = seen.get("max-age-plus")
        if plus is None:
            what = "so it becomes a session cookie"
        elif plus:  # Chromium reads Max-Age=+5, which then wins over Expires
            what = "and Firefox and Safari ignore the Max-Age: a session cookie there"
        else:
            what = "and the Max-Age is ignored: a session cookie"
        return _issue(
            "expires-invalid",
            WARNING,
            f"{_who(c.name)} set on {e.url}: Expires={expires!r} is not a date "
            f"browsers read, {what}. Use an HTTP date.",
            _v(STORED if plus else PROBLEM, PROBLEM, PROBLEM),
            (),
        )
    if date - datetime.now(UTC) > MAX_LIFETIME:
        return _capped(c, e)
    return None


def _capped(c: SetCookie, e: Request) -> Issue:
    return _issue(
        "lifetime-capped",
        INFO,
        f"{_who(c.name)} set on {e.url} lives longer than 400 days; browsers cap "
        "it at 400 days.",
        _STORED,
        (),
    )


def duplicate_attr(c: SetCookie, e: Request, s: Settings, seen: Seen) -> Issue | None:
    repeated = c.repeated
    if not repeated:
        return None
    return _issue(
        "duplicate-attr",
        INFO,
        f"{_who(c.name)} set on {e.url} repeats {', '.join(repeated)}; the last "
        "one wins. Set each attribute once.",
        _STORED,
        # Removing earlier Domain attributes is a Domain edit: cookie_domain
        # gates it (CONTRACT.md 7, "Setting gates"), and a __Host- cookie's
        # Domain is reported, not changed (CONTRACT.md 7, host-prefix).
        tuple(
            _fix("dedupe", k, None, "domain" if k == "domain" else None)
            for k in repeated
            if k != "domain" or not _host_prefixed(c)
        ),
    )


def httponly_missing(c: SetCookie, e: Request, s: Settings, seen: Seen) -> Issue | None:
    if c.name not in s.httponly or c.has("httponly"):
        return None
    return _issue(
        "httponly-missing",
        INFO,
        f"{_who(c.name)} set on {e.url} has no HttpOnly although cookie_httponly "
        "names it, so scripts can read it. Set HttpOnly.",
        _STORED,
        (_fix("add", "HttpOnly", None, None),),
    )


#: The per-cookie rules, in the order they run (and findings are listed).
COOKIE_RULES: tuple[
    Callable[[SetCookie, Request, Settings, Seen], Issue | None], ...
] = (
    not_latin1,
    control_char,
    empty_cookie,
    nameless,
    too_large,
    attr_too_long,
    domain_rules,
    host_prefix,
    secure_prefix,
    samesite_none_insecure,
    partitioned_insecure,
    https_without_secure,
    secure_over_http,
    overwrite_secure,
    samesite_invalid,
    samesite_missing,
    cross_site_set,
    path_rules,
    lifetime_rules,
    expires_rules,
    duplicate_attr,
    httponly_missing,
)


class CookieReport(NamedTuple):
    """One Set-Cookie header judged: the header to send, and its findings."""

    original: str
    header: str
    name: str | None
    issues: tuple[tuple[Finding, Verdicts], ...]


def judge(
    header: str, e: Request, s: Settings, cookie: SetCookie | None = None
) -> CookieReport:
    """Run every per-cookie rule on one header and apply the allowed fixes.

    With ``cookie_domain=<domain>`` (fix mode) every existing Domain
    attribute (``Domain=`` and ``Domain=.`` too, and each of a repeated
    one) is first rewritten to that domain, like nginx
    ``proxy_cookie_domain``, and the rules judge the rewritten cookie. A
    ``__Host-`` cookie's Domain is reported, not changed (CONTRACT.md 7).
    """
    original = header
    c = cookie if cookie is not None else SetCookie.parse(header)
    if s.policy == "fix" and s.domain not in ("auto", "keep") and not _host_prefixed(c):
        try:
            rewrite = c.edit().replace_values("domain", s.domain)
        except ValueError:  # a value the editor refuses: left as it is
            pass
        else:
            if rewrite.changed:
                header = rewrite.render()
                c = SetCookie.parse(header)
    seen: Seen = {}
    issues = _issues(c, e, s, seen)
    silent: tuple[Fix, ...] = seen.get("silent", ())
    if not issues and not silent:  # (most headers: nothing to fix or report)
        clean: CookieReport = _NEW_TUPLE(CookieReport, (original, header, c.name, ()))
        return clean
    applied: list[bool] = []
    fixing = s.policy == "fix"
    editor = None  # made for the first fix (most cookies need none)
    secure = c.has("secure")
    for issue in issues:
        fixes = issue.fixes
        if not fixes or not fixing:
            applied.append(False)
            continue
        if not secure and any(
            f.gate == "samesite" and f.value == "None" for f in fixes
        ):
            fixes = ()  # SameSite=None without Secure would be dropped
        if editor is None:
            editor = c.edit()
        done = _apply(editor, fixes, s)
        secure = secure or (done and any(f.key == "Secure" for f in fixes))
        applied.append(done)
    if silent and fixing:
        if editor is None:
            editor = c.edit()
        _apply(editor, silent, s)
    new_header = header
    if editor is not None and editor.changed:
        try:
            new_header = editor.render()
        except ValueError:  # an edit the editor refuses: send the original
            new_header = header
            applied = [False] * len(applied)
    sent = None if new_header == header else SetCookie.parse(new_header)
    if sent is not None:
        _as_sent(issues, applied, sent, e, s)
    pairs = [(issues[k], applied[k]) for k in range(len(issues))]
    # "fixed" means no error remains on the cookie as sent (CONTRACT.md 7):
    # the sent header is judged again when the fixes changed a header that
    # had an error. Fixes add no error (Secure only where E is trustworthy,
    # SameSite=None only beside Secure), so a header without one needs no
    # second look. An error whose cause a fix removed with the rest (a
    # control character in a repeated attribute that duplicate-attr drops)
    # is gone from the cookie as sent: fixed as well.
    error_left = any(issue.severity == ERROR for issue in issues)
    gone: set[str] = set()
    if error_left and sent is not None:
        again = _issues(sent, e, s, {})
        error_left = any(issue.severity == ERROR for issue in again)
        gone = {issue.rule for issue in issues if issue.severity == ERROR}
        gone.difference_update(issue.rule for issue in again)
    findings = []
    for issue, done in pairs:
        message = issue.message + (_describe(issue.fixes) if done else "")
        if not done and issue.rule in gone:
            done = True
            message += " The cookie as sent no longer has it (wsgifix's other fixes)."
        finding = _finding(
            issue.rule, issue.severity, c.name, message, done and not error_left
        )
        findings.append((finding, issue.browsers))
    report: CookieReport = _NEW_TUPLE(
        CookieReport, (original, new_header, c.name, tuple(findings))
    )
    return report


def _as_sent(
    issues: list[Issue], applied: list[bool], sent: SetCookie, e: Request, s: Settings
) -> None:
    """cross-site-set judged again on the cookie as sent, in place: it
    quotes Chromium's reason for the SameSite the browser gets, which a fix
    may have added (cookie_samesite), and goes when that cookie is one
    browsers take (SameSite=None added to a Partitioned one)."""
    for k in range(len(issues)):
        if issues[k].rule == "cross-site-set":
            again = cross_site_set(sent, e, s, {})
            if again is None:
                del issues[k]
                del applied[k]
            else:
                issues[k] = again
            return


def _issues(c: SetCookie, e: Request, s: Settings, seen: Seen) -> list[Issue]:
    """Every per-cookie rule's issue with ``c``, in COOKIE_RULES order.

    The rules are called one by one, not through the tuple: a compiled
    build then calls each directly (through the tuple, each call's
    arguments are parsed: ~40 ns a rule). tests/test_rules.py keeps this
    equal to a loop over COOKIE_RULES.
    """
    issues: list[Issue] = []
    if _stop(not_latin1(c, e, s, seen), issues, seen):
        return issues
    if _stop(control_char(c, e, s, seen), issues, seen):
        return issues
    if _stop(empty_cookie(c, e, s, seen), issues, seen):
        return issues
    if _stop(nameless(c, e, s, seen), issues, seen):
        return issues
    if _stop(too_large(c, e, s, seen), issues, seen):
        return issues
    if _stop(attr_too_long(c, e, s, seen), issues, seen):
        return issues
    if _stop(domain_rules(c, e, s, seen), issues, seen):
        return issues
    if _stop(host_prefix(c, e, s, seen), issues, seen):
        return issues
    if _stop(secure_prefix(c, e, s, seen), issues, seen):
        return issues
    if _stop(samesite_none_insecure(c, e, s, seen), issues, seen):
        return issues
    if _stop(partitioned_insecure(c, e, s, seen), issues, seen):
        return issues
    if _stop(https_without_secure(c, e, s, seen), issues, seen):
        return issues
    if _stop(secure_over_http(c, e, s, seen), issues, seen):
        return issues
    if _stop(overwrite_secure(c, e, s, seen), issues, seen):
        return issues
    if _stop(samesite_invalid(c, e, s, seen), issues, seen):
        return issues
    if _stop(samesite_missing(c, e, s, seen), issues, seen):
        return issues
    if _stop(cross_site_set(c, e, s, seen), issues, seen):
        return issues
    if _stop(path_rules(c, e, s, seen), issues, seen):
        return issues
    if _stop(lifetime_rules(c, e, s, seen), issues, seen):
        return issues
    if _stop(expires_rules(c, e, s, seen), issues, seen):
        return issues
    if _stop(duplicate_attr(c, e, s, seen), issues, seen):
        return issues
    if _stop(httponly_missing(c, e, s, seen), issues, seen):
        return issues
    return issues


def _stop(issue: Issue | None, issues: list[Issue], seen: Seen) -> bool:
    """List a rule's issue; True when the rules stop there (only a rule
    that reports marks the cookie broken or empty)."""
    if issue is None:
        return False
    issues.append(issue)
    return bool(seen.get("broken") or seen.get("empty"))


def _apply(editor: Any, fixes: Iterable[Fix], s: Settings) -> bool:
    """Apply a rule's fixes if fix mode and the settings allow; True if done."""
    fixes = tuple(fixes)
    if s.policy != "fix" or not fixes:
        return False
    # Each fix is gated on its own: host-prefix adds Path=/ "wherever it
    # can" even when cookie_secure=keep blocks its Secure (CONTRACT.md 7).
    allowed = []
    for fix in fixes:
        if (
            not (fix.gate == "secure" and s.secure == "keep")
            and not (fix.gate == "domain" and s.domain != "auto")
            and not (fix.gate == "path" and s.path != "scope")
            and (fix.value is None or _safe_value(fix.value))
        ):
            allowed.append(fix)
    if not allowed:
        return False
    try:
        for fix in allowed:
            if fix.op == "add":
                editor.add(fix.key, fix.value)
            elif fix.op == "remove":
                editor.remove(fix.key)
            elif fix.op == "replace":
                # The editor looks attributes up by lower-case key
                # (samesite-invalid names its fix "SameSite").
                editor.replace_value(fix.key.lower(), fix.value)
            else:
                editor.remove_earlier_duplicates(fix.key)
    except (ValueError, KeyError):
        return False
    return len(allowed) == len(fixes)


_SPELLING: Final = {"domain": "Domain", "path": "Path", "samesite": "SameSite"}


def _describe(fixes: Iterable[Fix]) -> str:
    """What wsgifix changed, for the finding's message."""
    parts = []
    for fix in fixes:
        if fix.op == "add":
            parts.append(f"added {fix.key}" + (f"={fix.value}" if fix.value else ""))
        elif fix.op == "remove":
            parts.append(f"removed {_SPELLING.get(fix.key.lower(), fix.key)}")
        elif fix.op == "replace":
            parts.append(f"set {_SPELLING.get(fix.key.lower(), fix.key)}={fix.value}")
        else:
            parts.append(f"removed the earlier {fix.key} attributes")
    return " wsgifix " + ", ".join(parts) + "."


def _safe_value(value: str) -> bool:
    return value.isprintable() and ";" not in value and value.strip() == value


def untrusted_tls_proxy(e: Request) -> Finding | None:
    """E is http but the raw request shows a TLS proxy the app did not trust."""
    if e.scheme == "https" or not e.peer_hint:
        return None
    return _finding(
        "untrusted-tls-proxy",
        WARNING,
        None,
        f"the request to {e.url} came through a TLS proxy (it says https) that "
        f"wsgifix does not trust, so the app sees http and Secure cookies are "
        f"dropped. {e.peer_hint}",
        False,
    )


_UNPRINTABLE: Final = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_ESCAPES: Final = {
    c: f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"
    for c in (*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029)
}


def one_line(text: str) -> str:
    """Control characters (CR, LF, NEL and the other C0/C1 controls, line
    separators) escaped: a message is one log line, whatever the request's
    path or host held."""
    if printable(text):  # none of them (the common case, told quicker)
        return text
    return text.translate(_ESCAPES)


def printable(text: str) -> bool:
    """``text.isprintable()``, ~5 times quicker for ASCII text (a finding's
    message, ~250 characters): read as octets through a table (see
    printable_ascii) instead of each character's Unicode category."""
    if text.isascii():
        if _SCAN is not None:
            return _SCAN(text, -1)
        return text.encode("ascii").translate(_CONTROLS).find(0) < 0
    return text.isprintable()


class Summary(NamedTuple):
    """What the response-level rules read of one cookie, as sent.

    ``path`` is the Path the app wrote, where the per-cookie rules read the
    request's default-path when it is missing or relative (the cookie
    layer keys its memo on that); ``sent_path`` is the Path as sent, which
    a fix may have added or changed.
    """

    name: str
    domain: str  # as sent: lower-case, no leading dot; "" when host-only
    path: str | None
    has_domain: bool  # as sent; False for no Domain, Domain= and Domain=.
    sent_path: str | None
    # The verdict may change within VERDICT_TTL (see time_bound): not kept.
    time_bound: bool = False
    # Browsers drop it (an error is left on it as sent): it neither wastes
    # nor shadows another. A deletion as sent shadows nothing either.
    dropped: bool = False
    deletion: bool = False


def summarize(
    c: SetCookie, sent: SetCookie | None = None, dropped: bool = False
) -> Summary:
    """``c`` as the app wrote it, ``sent`` as it goes out (default: ``c``);
    ``dropped``: an error is left on it."""
    path = c.get("path")
    bound = time_bound(c, _KEPT_AT_MOST)
    if sent is None or sent is c:
        sent = c
        sent_path = path
    else:
        sent_path = sent.get("path")
        bound = bound or time_bound(sent, _KEPT_AT_MOST)
    domain = (sent.get("domain") or "").lower().removeprefix(".")
    summary: Summary = _NEW_TUPLE(
        Summary,
        (
            c.name,
            domain,
            path,
            bool(domain),
            sent_path,
            bound,
            dropped,
            is_deletion(sent),
        ),
    )
    return summary


def time_bound(c: SetCookie, within: float) -> bool:
    """Whether the verdict on ``c`` may change within ``within`` seconds:
    the Expires browsers read (when there is no valid Max-Age) passes, and
    the cookie becomes a deletion, or comes within 400 days, and is no
    longer capped. A verdict may be kept for up to three VERDICT_TTLs (it
    passes from cache to cache): such a cookie's is judged anew each time
    instead."""
    expires = c.get("expires")
    if expires is None:
        return False
    max_age = c.get("max-age")
    if max_age is not None and parse_max_age(max_age) is not None:
        return False  # a valid Max-Age wins: no wall-clock instant matters
    date = parse_cookie_date(expires)
    if date is None:
        return False
    left = (date - datetime.now(UTC)).total_seconds()
    cap = MAX_LIFETIME.total_seconds()
    # A second's slack either side: the clock moves while a response is judged.
    return -1.0 <= left <= within + 1.0 or -1.0 <= left - cap <= within + 1.0


def response_rules(
    headers: list[str], cookies: Sequence[Summary], e: Request
) -> list[tuple[Finding, Verdicts]]:
    """Rules judged over one response: duplicates, shadowing, counts."""
    found: list[tuple[Finding, Verdicts]] = []
    problem = _PROBLEM
    if len(cookies) > 1:
        seen_keys: set[tuple[str, str, str]] = set()
        with_domain: set[str] = set()
        without_domain: set[str] = set()
        for c in cookies:
            if c.dropped:  # (browsers keep the others only)
                continue
            path = c.sent_path
            if not path or path[0] != "/":  # (path-invalid: browsers use it)
                path = default_path(e.path)
            key = (c.name, c.domain, path)
            if key in seen_keys:
                found.append(
                    (
                        _finding(
                            "duplicate-cookie",
                            WARNING,
                            c.name,
                            f"{_who(c.name)} is set twice with the same domain and "
                            f"path in one response on {e.url}; the first value is "
                            "wasted.",
                            False,
                        ),
                        problem,
                    )
                )
            seen_keys.add(key)
            if not c.deletion:  # (deleting one copy while setting the other)
                (with_domain if c.has_domain else without_domain).add(c.name)
        for name in sorted(with_domain & without_domain):
            found.append(
                (
                    _finding(
                        "domain-shadowing",
                        WARNING,
                        name,
                        f"{_who(name)} is set both with and without Domain in one "
                        f"response on {e.url}: browsers keep two cookies and send "
                        "both, in no defined order. Set it one way only.",
                        False,
                    ),
                    problem,
                )
            )
    crowded = too_many_cookies(headers, e.url)
    if crowded is not None:
        found.append((crowded, problem))
    return found


def too_many_cookies(headers: list[str], url: str) -> Finding | None:
    """The response sets over 20 cookies or 8192 bytes of Set-Cookie."""
    total = total_length(headers)  # latin-1 text: one octet per character
    if total * 4 > MAX_HEADER_BYTES:  # only then can the exact count matter
        total = sum(octet_length(h) for h in headers)
    if len(headers) <= MAX_COOKIES and total <= MAX_HEADER_BYTES:
        return None
    return _finding(
        "too-many-cookies",
        WARNING,
        None,
        f"one response on {url} sets {len(headers)} cookies "
        f"({total} bytes of Set-Cookie); browsers evict beyond 180 per "
        "host and servers reject large Cookie headers. Store less in "
        "cookies.",
        False,
    )


_MAX_KEY_TEXT: Final = 2048


class VerdictCache:
    """Verdicts keyed by what the rules read, never by a cookie's value.

    The key is the header's attribute text, the cookie's name, a few facts
    about its value (too large, odd characters) and the facts of the
    request the rules read. Bounded in entries, and emptied every minute so
    that date-based verdicts (Expires) do not go stale. One cache serves
    one set of :class:`Settings` (one wrapped app).

    An entry is kept from the second time its key is put (see
    :class:`wsgifix.memo.SecondSight`): what an app sends once (a Path or
    Expires of its own per response, a client's new directory for cookies
    without Path) is judged and forgotten, costing no entry, no eviction
    and no garbage-collector work; what it sends again is judged once more
    and then remembered.
    """

    def __init__(self, maxsize: int = 2048, ttl: float = VERDICT_TTL) -> None:
        self.maxsize = maxsize
        self.ttl = ttl
        self._data: dict[Any, Any] = {}
        self._seen = SecondSight(maxsize)  # hashes of keys put once
        self._born = _now()

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: Any) -> Any:
        return self.table(_now()).get(key)

    def entries(self) -> dict[Any, Any]:
        """The entries as of the last :meth:`table` call, without reading
        the clock: for a caller that knows which entries may be stale (the
        cookie layer's memo: see its _Quiet.dated)."""
        return self._data

    def table(self, now: float) -> dict[Any, Any]:
        """The entries as of ``now`` (a time.monotonic() reading): for
        callers that look up several keys at one time."""
        if now - self._born > self.ttl:
            self._data = {}
            self._born = now
        return self._data

    def admits(self, key: Any) -> bool:
        """Whether :meth:`put` would keep ``key`` now (its second put);
        ``put(key, value, admitted=True)`` then keeps it, for a caller
        whose value costs something to make."""
        return self._seen.second(hash(key))

    def put(self, key: Any, value: Any, admitted: bool = False) -> None:
        """Keep ``value`` under ``key`` if the key was put before (or the
        caller ``admitted`` it, having seen it twice itself)."""
        if not admitted and not self._seen.second(hash(key)):
            return
        if len(self._data) >= self.maxsize:
            self._data = {}
        self._data[key] = value


_now = time.monotonic


_WIDE: Final = re.compile(r"[^\x00-\xff]")
# 0 for the ASCII controls, 1 for every other octet (see printable_ascii).
_CONTROLS: Final = bytes(0 if c < 0x20 or c == 0x7F else 1 for c in range(256))


# This module as a compiled extension (COMPILE_WSGIFIX=1) or as source.
_COMPILED: Final = not (__file__ or "").endswith(".py")


def _c_scan() -> Callable[[str, int], bool] | None:
    """The compiled build's scan in C (wsgifix/_plain.c); None in the pure
    build, which reads text Python's ways (see printable_ascii)."""
    try:
        from wsgifix._plain import plain
    except ImportError:
        return None
    return plain


_SCAN: Final = _c_scan()
# Characters from which the compiled build reads text in C: the loop in
# printable_ascii is as quick up to ~30 characters (the call costs ~20 ns
# before the first one), but the call's code beside it is more to fetch
# per request (cachesim.py: 28 more lines of code for two cookies read in
# C at 33 and 10 characters); most names and values are shorter than this.
_SCAN_FROM: Final = 256


def printable_ascii(text: str, end: int = -1) -> bool:
    """``text.isascii() and text.isprintable()``, quicker: isprintable looks
    up each character's Unicode category (~1.4 ns a character: 5.5 us for
    a 4 KB session cookie, on every response that sets it), where ASCII
    text can be read as octets through a table (~0.4 ns an octet).
    Compiled, a plain loop over short text is quicker still (~1.2 ns a
    character and no method calls), and from 256 characters on the octets
    are read in C, 16 at a time (wsgifix/_plain.c: ~100 ns instead of
    1.6 us for 4 KB); as source, such a loop would cost 50 times that, so
    each build takes its way.

    With ``end``, only ``text[:end]`` needs to be plain (the caller keeps
    the rest as it is): compiled, the reading stops there; the other ways
    read the whole text (True then says the whole text is plain)."""
    size: i64 = len(text)
    if 0 <= end < size:
        size = end
    if _SCAN is not None and size >= _SCAN_FROM:
        return _SCAN(text, end)
    if _COMPILED and size < 256:
        i: i64 = 0
        while i < size:
            code: i64 = ord(text[i])
            if code < 0x20 or code > 0x7E:
                return False
            i += 1
        return True
    if not text.isascii():
        return False
    if size < 256:
        return text.isprintable()
    return text.encode("ascii").translate(_CONTROLS).find(0) < 0


def value_facts(value: str, name: str, max_size: int) -> tuple[Any, ...] | None:
    """What the rules read of a cookie's value (``value`` as in the header,
    ``name`` stripped): None for printable ASCII well within ``max_size``
    (the common case), else its size when over the limit and whether it
    holds characters beyond latin-1, CR or LF, other controls, and a tab."""
    if 4 * len(name) + len(value) <= max_size and printable_ascii(value):
        return None
    stripped = value.strip(" \t")
    octets = octet_length(name) + octet_length(stripped)
    return (
        octets if octets > max_size else 0,
        _WIDE.search(value) is not None,
        "\r" in value or "\n" in value,
        _CONTROL.search(value) is not None,
        "\t" in stripped,
    )


def _cache_key(
    header: str, e_key: tuple[Any, ...], e_len: int, e: Request, s: Settings
) -> tuple[int, Any]:
    """(pair end, key): what the rules read of this header, values excluded.

    The key is None for a nameless cookie, whose message quotes its value.
    """
    semi = header.find(";")
    pair = header if semi < 0 else header[:semi]
    pair_end = len(pair.rstrip(" \t"))
    name, eq, value = pair.partition("=")
    name = name.strip(" \t")
    if not eq or not name:
        return pair_end, None  # a nameless cookie's message quotes its value
    if len(header) + e_len > _MAX_KEY_TEXT:
        return pair_end, None  # long client text is judged, not kept
    facts = (value_facts(value, name, s.max_size), "\t" in name, name in e.cookies)
    return pair_end, (header[pair_end:], name, facts, e_key)


def audit(
    headers: Sequence[str],
    e: Request,
    s: Settings,
    cache: VerdictCache | None = None,
    summaries: list[Summary] | None = None,
) -> tuple[list[str], list[tuple[Finding, Verdicts]]]:
    """Judge every Set-Cookie value of one response against E.

    Returns the headers to send (fixed where allowed) and the findings with
    each browser family's verdict. Pure but for the optional ``cache``,
    which remembers verdicts for attribute strings seen before, and the
    optional ``summaries`` list, which receives what the response-level
    rules read of each cookie (:class:`Summary`).
    """
    fixed: list[str] = []
    if summaries is None:
        summaries = []
    per_cookie: list[tuple[Finding, Verdicts]] = []
    e_key: tuple[Any, ...] = ()
    e_len = 0
    if cache is not None:  # (made only for the cache's keys)
        e_key = (
            e.url,
            e.scheme,
            e.host,
            e.script_name,
            default_path(e.path),
            e.sec_fetch_site,
            e.sec_fetch_dest,
            e.peer_hint,
        )
        for part in e_key:  # (a loop: sum(map(...)) is generic compiled)
            if part is not None:
                e_len += len(part)
    for header in headers:
        entry = None
        key = None
        if cache is not None:
            pair_end, key = _cache_key(header, e_key, e_len, e, s)
            if key is not None:
                entry = cache.get(key)
        if entry is None:
            c = SetCookie.parse(header)
            report = judge(header, e, s, c)
            # The response-level rules judge the cookies as sent (after the
            # cookie_domain rewrite and the fixes): as written when the
            # fixes only appended attributes that a Summary does not read
            # (most fixes: SameSite, Secure, HttpOnly; last wins, so the
            # header's own Domain, Path, Expires and Max-Age still hold).
            sent = None
            if report.header != header and not (
                report.header.startswith(header)
                and not _summary_words(report.header[len(header) :])
            ):
                sent = SetCookie.parse(report.header)
            entry = (
                None if report.header == header else report.header[c.pair_end :],
                _one_line_messages(report.issues),
                summarize(c, sent, _dropped_as_sent(report.issues)),
            )
            if (
                cache is not None
                and key is not None
                and c.pair_end == pair_end
                and report.header.startswith(header[:pair_end])
                and not entry[2].time_bound
            ):
                cache.put(key, entry)
            fixed.append(report.header)
        else:
            suffix = entry[0]
            fixed.append(header if suffix is None else header[:pair_end] + suffix)
        per_cookie.extend(entry[1])
        summaries.append(entry[2])
    findings: list[tuple[Finding, Verdicts]] = []
    tls = untrusted_tls_proxy(e)
    if tls is not None:
        findings.extend(_one_line_messages([(tls, _PROBLEM)]))
    findings.extend(per_cookie)
    findings.extend(_one_line_messages(response_rules(fixed, summaries, e)))
    return fixed, findings


def _dropped_as_sent(found: Iterable[tuple[Finding, Verdicts]]) -> bool:
    """An error is left on the cookie as sent: browsers drop it."""
    return any(finding.severity == ERROR and not finding.fixed for finding, _ in found)


def _summary_words(text: str) -> bool:
    """Whether ``text`` may hold an attribute that :func:`summarize` reads."""
    low = text.lower()
    return "domain" in low or "path" in low or "expires" in low or "max-age" in low


def _one_line_messages(
    found: Sequence[tuple[Finding, Verdicts]],
) -> tuple[tuple[Finding, Verdicts], ...]:
    """The findings with control characters escaped in their messages."""
    for f, _ in found:
        # isprintable() is False for every character _UNPRINTABLE finds.
        if not printable(f.message) and _UNPRINTABLE.search(f.message):
            return tuple((f._replace(message=one_line(f.message)), v) for f, v in found)
    return tuple(found)
