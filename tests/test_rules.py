"""Tests for wsgifix.rules: one table per rule id of COOKIE_RULES.md.

Each table row is a Set-Cookie header, the effective request E it is
judged against, the cookie settings, and what :func:`wsgifix.rules.audit`
must report for that rule: nothing (``None``), or one finding with its
severity and ``fixed`` flag, plus the exact header wsgifix sends.
``session-after-stream`` and ``concurrent-overwrite`` are tested with the
Flask extension and the race detector.

Sources cited per row: COOKIE_RULES.md (the rule table and "Browsers and
their words"), CONTRACT.md section 7 (one cause gives one finding, fix
bytes, setting gates, the localhost/Safari cases, ``Domain=`` vs
``Domain=.``), RFC 6265bis (draft-ietf-httpbis-rfc6265bis) sections 4.1.3
(cookie name prefixes), 5.1.1 (dates), 5.1.3 (domain matching), 5.1.4
(paths), 5.6 (parsing) and 5.7 (storage), and Chromium's
net/cookies/canonical_cookie_unittest.cc (CreationCornerCases, Create,
SecureCookiePrefix, HostCookiePrefix) and parsed_cookie_unittest.cc,
whose cases are mirrored here, not copied.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wsgifix.cookies import effective_request
from wsgifix.rules import (
    BROWSERS,
    DROPPED,
    ERROR,
    INFO,
    PROBLEM,
    STORED,
    WARNING,
    Finding,
    Request,
    Settings,
    audit,
    default_path,
    is_localhost,
    is_public_suffix,
)
from wsgifix.setcookie import SetCookie


def E(
    url: str,
    *,
    script: str = "",
    site: str = "",
    dest: str = "",
    cookie: str = "",
    hint: str | None = None,
) -> Request:
    """The effective request for ``url`` (its path includes SCRIPT_NAME)."""
    parts = urlsplit(url)
    path = parts.path or "/"
    assert path.startswith(script)
    cookies: dict[str, str] = {}
    for item in cookie.split(";"):
        name, sep, value = item.partition("=")
        if sep:
            cookies.setdefault(name.strip(), value.strip())
    return Request(
        scheme=parts.scheme,
        host=parts.hostname or "",
        script_name=script,
        path=path,
        sec_fetch_site=site,
        sec_fetch_dest=dest,
        cookies=cookies,
        peer_hint=hint,
        url=f"{parts.scheme}://{parts.netloc}{script}",
    )


HTTPS = E("https://lab.test/")
HTTP = E("http://lab.test/")
HTTPS_DIR = E("https://lab.test/account/login")  # default-path /account
HTTP_DIR = E("http://lab.test/account/login")
LOCALHOST = E("http://localhost:8080/")
LOOPBACK4 = E("http://127.0.0.1:8000/")
LOOPBACK6 = E("http://[::1]:8000/")
SUB_LOCALHOST = E("http://app.localhost/")
IP_HTTP = E("http://192.0.2.10/")
MOUNT = E("http://lab.test/app/login", script="/app")  # default-path /app
MOUNT_HTTPS = E("https://lab.test/app/login", script="/app")
MOUNT_ROOT = E("http://lab.test/app", script="/app")  # default-path /

FIX = Settings()
REPORT = Settings(policy="report")
KEEP_SECURE = Settings(secure="keep")
KEEP_DOMAIN = Settings(domain="keep")
SCOPE = Settings(path="scope")
LAX = Settings(samesite="lax")
STRICT = Settings(samesite="strict")
NONE = Settings(samesite="none")

#: ``out`` value meaning "the header goes out exactly as the app wrote it".
SAME = "<same>"

#: The Chromium reason each rule's error (or warning) message must quote
#: verbatim (CONTRACT.md section 7, "Finding"); info findings need none.
TOKENS = {
    "control-char": "DisallowedCharacter",
    "not-latin1": "DisallowedCharacter",
    "empty-cookie": "NoCookieContent",
    "too-large": "NameValuePairExceedsMaxSize",
    "domain-mismatch": "InvalidDomain",
    "domain-public-suffix": "InvalidDomain",
    "domain-invalid": "InvalidDomain",
    "domain-ip": "InvalidDomain",
    "domain-empty": "InvalidDomain",  # only Domain=. (the error) is dropped
    "secure-over-http": "SecureOnly",
    "overwrite-secure": "OverwriteSecure",
    "samesite-none-insecure": "SameSiteNoneInsecure",
    "secure-prefix": "InvalidPrefix",
    "host-prefix": "InvalidPrefix",
}

ROW = ("header", "e", "s", "severity", "fixed", "out")


def _names_cookie(finding: Finding) -> bool:
    name = finding.cookie
    if not name or not name.isprintable() or "\\" in name:
        return True  # shown escaped (repr) or as "a nameless cookie"
    return name in finding.message


def run(
    headers: list[str], e: Request, s: Settings
) -> tuple[list[str], list[tuple[Finding, Any]]]:
    """audit(), plus the invariants every finding of every row must keep."""
    out, found = audit(headers, e, s)
    assert len(out) == len(headers)
    for header, sent in zip(headers, out, strict=True):
        # A fix never touches the name=value bytes (COOKIE_RULES.md).
        pair_end = SetCookie.parse(header).pair_end
        assert sent[:pair_end] == header[:pair_end]
        if s.policy != "fix":
            assert sent is header or sent == header
    for finding, browsers in found:
        assert isinstance(finding, Finding)
        assert finding.severity in (ERROR, WARNING, INFO)
        assert isinstance(finding.fixed, bool)
        assert set(browsers) == set(BROWSERS)
        for verdict, _reason in browsers.values():
            assert verdict in (DROPPED, STORED, PROBLEM)
        chromium_reason = browsers["chromium"][1]
        if chromium_reason is not None:
            assert chromium_reason in finding.message, finding
        assert _names_cookie(finding), finding
        if s.policy != "fix":
            assert finding.fixed is False
    return out, found


def check(
    rule: str,
    header: str,
    e: Request,
    s: Settings,
    severity: str | None,
    fixed: bool | None,
    out: str,
) -> Finding | None:
    sent, found = run([header], e, s)
    assert sent == [header if out == SAME else out]
    mine = [f for f, _ in found if f.rule == rule]
    if severity is None:
        assert mine == [], found
        return None
    assert len(mine) == 1, found  # one cause gives one finding
    finding = mine[0]
    assert finding.severity == severity
    assert finding.cookie == SetCookie.parse(header).name
    assert finding.fixed is fixed
    token = TOKENS.get(rule)
    if token and (severity == ERROR or rule == "overwrite-secure"):
        assert token in finding.message
    return finding


# -- control-char ---------------------------------------------------------------

CONTROL_CHAR = [
    # Chromium CanonicalCookieTest.CreationCornerCases: "bar=\b" and "\b=foo"
    # are EXCLUDE_DISALLOWED_CHARACTER.
    pytest.param("bar=\b", HTTP, FIX, ERROR, False, SAME, id="backspace in value"),
    pytest.param("\b=foo", HTTP, FIX, ERROR, False, SAME, id="backspace in name"),
    # RFC 6265bis 5.6: a CTL other than HTAB anywhere in the
    # set-cookie-string makes the user agent ignore it entirely.
    pytest.param("a=b\x00c", HTTP, FIX, ERROR, False, SAME, id="NUL in value"),
    pytest.param("a=b\x1f", HTTP, FIX, ERROR, False, SAME, id="US 0x1f in value"),
    pytest.param("a=b\x7f", HTTP, FIX, ERROR, False, SAME, id="DEL in value"),
    pytest.param(
        "a=b; Path=/\x07", HTTP, FIX, ERROR, False, SAME, id="BEL in an attribute"
    ),
    pytest.param(
        "a=b; \x0bSecure", HTTP, FIX, ERROR, False, SAME, id="VT before an attribute"
    ),
    # A fix for another rule still applies; the cookie stays dropped, so
    # the finding is not fixed (CONTRACT.md 7: no error left).
    pytest.param(
        "a=b\x01", HTTPS, FIX, ERROR, False, "a=b\x01; Secure", id="https adds Secure"
    ),
    # COOKIE_RULES.md: "Chromium also rejects an internal TAB".
    pytest.param("a=b\tc", HTTP, FIX, ERROR, False, SAME, id="TAB inside the value"),
    pytest.param("a\tb=c", HTTP, FIX, ERROR, False, SAME, id="TAB inside the name"),
    pytest.param("a=b\x01", HTTP, REPORT, ERROR, False, SAME, id="report mode"),
    # RFC 6265bis 5.6: WSP (SP and HTAB) around name and value is trimmed.
    pytest.param("a=\tb\t", HTTP, FIX, None, None, SAME, id="leading/trailing TAB"),
    pytest.param("a=b;\tPath=/", HTTP, FIX, None, None, SAME, id="TAB before attr"),
    # Chromium 156 (measured) drops a TAB inside an attribute's trimmed
    # name or value too, DisallowedCharacter; Firefox and Safari keep it.
    pytest.param(
        "a=b; Foo=x\ty", HTTP, FIX, ERROR, False, SAME, id="TAB inside an attribute"
    ),
    pytest.param("a=b; Path=/s\tx", HTTP, FIX, ERROR, False, SAME, id="TAB in Path"),
    pytest.param("a=b; Fo\to=x", HTTP, FIX, ERROR, False, SAME, id="TAB in a name"),
    pytest.param("a=b; Path=/\t", HTTP, FIX, None, None, SAME, id="TAB ending attr"),
    # Chromium CreationCornerCases: a space in the name is fine.
    pytest.param("A C=2", HTTP, FIX, None, None, SAME, id="space in the name"),
    pytest.param("a=b c", HTTP, FIX, None, None, SAME, id="space in the value"),
    # %x80-FF are cookie-octets for browsers, not CTLs.
    pytest.param("a=\x80\xff", HTTP, FIX, None, None, SAME, id="high latin-1 bytes"),
    # CONTRACT.md 7: CR or LF is not-latin1, not also control-char.
    pytest.param("a=b\rc", HTTP, FIX, None, None, SAME, id="CR is not-latin1"),
    pytest.param("a=b\nc", HTTP, FIX, None, None, SAME, id="LF is not-latin1"),
    pytest.param(
        "a=\u20ac\x01", HTTP, FIX, None, None, SAME, id="non-latin-1 wins over CTL"
    ),
]


@pytest.mark.parametrize(ROW, CONTROL_CHAR)
def test_control_char(
    header: str, e: Request, s: Settings, severity: Any, fixed: Any, out: str
) -> None:
    check("control-char", header, e, s, severity, fixed, out)


@settings(max_examples=500, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(list("a=; b\t\x01\x1f\x7f\x80\xe9\u20ac\r\n")),
        max_size=24,
    )
)
def test_control_char_equals_its_definition(header: str) -> None:
    # The rule answers printable ASCII without its regex: the same as a
    # control character (not CR or LF) anywhere, or a TAB in the name, the
    # value or inside an attribute's trimmed name or value.
    import wsgifix.rules as rules

    cookie = SetCookie.parse(header)
    expected = rules._CONTROL.search(header) is not None or (
        "\t" in cookie.name
        or "\t" in cookie.value
        or ("\t" in header and rules._tab_inside(cookie))
    )
    found = rules.control_char(cookie, HTTP, FIX, {})
    assert (found is not None) == expected


# -- not-latin1 -----------------------------------------------------------------

NOT_LATIN1 = [
    # COOKIE_RULES.md: CR/LF is header injection; reported instead of
    # control-char, and no fix is attempted on such a header.
    pytest.param(
        "a=b\r\nSet-Cookie: x=y", HTTPS, FIX, ERROR, False, SAME, id="CRLF injection"
    ),
    pytest.param("a=b\nc", HTTP, FIX, ERROR, False, SAME, id="bare LF"),
    pytest.param("a=b\rc", HTTPS, FIX, ERROR, False, SAME, id="bare CR on https"),
    pytest.param("a=b; Path=/\n", HTTP, FIX, ERROR, False, SAME, id="LF in attr"),
    # PEP 3333: header values are latin-1 strings; a WSGI server fails.
    pytest.param("a=\u20ac", HTTP, FIX, ERROR, False, SAME, id="euro sign"),
    pytest.param("a=\u65e5\u672c", HTTPS, FIX, ERROR, False, SAME, id="CJK value"),
    pytest.param("\u20ac=1", HTTP, FIX, ERROR, False, SAME, id="non-latin-1 name"),
    pytest.param(
        "a=1; Path=/\u20ac", HTTPS, FIX, ERROR, False, SAME, id="non-latin-1 attr"
    ),
    pytest.param("a=\ud800", HTTP, FIX, ERROR, False, SAME, id="lone surrogate"),
    pytest.param("a=b\nc", HTTP, REPORT, ERROR, False, SAME, id="report mode"),
    pytest.param("a=\xe9", HTTP, FIX, None, None, SAME, id="latin-1 e-acute"),
    pytest.param("a=\xff\xfe", HTTP, FIX, None, None, SAME, id="latin-1 0xff"),
    pytest.param("a=b", HTTP, FIX, None, None, SAME, id="ascii"),
]


@pytest.mark.parametrize(ROW, NOT_LATIN1)
def test_not_latin1(
    header: str, e: Request, s: Settings, severity: Any, fixed: Any, out: str
) -> None:
    check("not-latin1", header, e, s, severity, fixed, out)


def test_not_latin1_is_the_only_finding() -> None:
    # CONTRACT.md 7: CR or LF gives not-latin1 (not also control-char),
    # and nothing else is judged on a header the server cannot send.
    _, found = run(["__Host-a=\x01\r\n; SameSite=None"], HTTPS, FIX)
    assert [f.rule for f, _ in found] == ["not-latin1"]


# -- empty-cookie ---------------------------------------------------------------

EMPTY_COOKIE = [
    # RFC 6265bis 5.6: "If both the name string and the value string are
    # empty, ignore the set-cookie-string entirely."
    pytest.param("", HTTP, FIX, ERROR, False, SAME, id="empty header"),
    pytest.param("=", HTTP, FIX, ERROR, False, SAME, id="lone equals sign"),
    pytest.param(" = ", HTTP, FIX, ERROR, False, SAME, id="whitespace around ="),
    pytest.param("; Path=/", HTTP, FIX, ERROR, False, SAME, id="attributes only"),
    pytest.param("=; Secure", HTTPS, FIX, ERROR, False, SAME, id="=; Secure"),
    pytest.param("\t", HTTPS, FIX, ERROR, False, SAME, id="only a TAB"),
    pytest.param("=", HTTP, REPORT, ERROR, False, SAME, id="report mode"),
    pytest.param("a=", HTTP, FIX, None, None, SAME, id="empty value, named"),
    pytest.param("=b", HTTP, FIX, None, None, SAME, id="empty name, value"),
    pytest.param("b", HTTP, FIX, None, None, SAME, id="value without ="),
]


@pytest.mark.parametrize(ROW, EMPTY_COOKIE)
def test_empty_cookie(
    header: str, e: Request, s: Settings, severity: Any, fixed: Any, out: str
) -> None:
    check("empty-cookie", header, e, s, severity, fixed, out)


def test_empty_cookie_is_the_only_finding() -> None:
    # Code's choice: an empty cookie is not also "nameless" (one cause).
    _, found = run(["=; SameSite=None; Partitioned"], HTTPS, FIX)
    assert [(f.rule, f.cookie) for f, _ in found] == [("empty-cookie", "")]


# -- nameless -------------------------------------------------------------------

NAMELESS = [
    # RFC 6265bis 5.6: no "=" -> empty name, the whole pair is the value.
    pytest.param("abc", HTTP, FIX, WARNING, False, SAME, id="no equals sign"),
    pytest.param("abc; Path=/", HTTP, FIX, WARNING, False, SAME, id="no = with attrs"),
    # An empty name before "=" is a nameless cookie too.
    pytest.param("=abc", HTTP, FIX, WARNING, False, SAME, id="empty name"),
    pytest.param(" =abc", HTTP, FIX, WARNING, False, SAME, id="blank name"),
    # Other rules still run and fix; Finding.cookie is "" (CONTRACT.md 7).
    pytest.param("=abc", HTTPS, FIX, WARNING, False, "=abc; Secure", id="on https"),
    pytest.param("abc", HTTP, REPORT, WARNING, False, SAME, id="report mode"),
    pytest.param(
        "=__Host-x; Secure; Path=/", HTTPS, FIX, WARNING, False, SAME, id="prefixed"
    ),
    pytest.param("a=b", HTTP, FIX, None, None, SAME, id="named"),
    pytest.param("a=", HTTP, FIX, None, None, SAME, id="named, empty value"),
    # Chromium ParsedCookieTest.MultipleEquals: the first "=" splits.
    pytest.param("a==b", HTTP, FIX, None, None, SAME, id="value starts with ="),
]


@pytest.mark.parametrize(ROW, NAMELESS)
def test_nameless(
    header: str, e: Request, s: Settings, severity: Any, fixed: Any, out: str
) -> None:
    check("nameless", header, e, s, severity, fixed, out)


# -- too-large ------------------------------------------------------------------

TOO_LARGE = [
    # Chromium CreationCornerCases: kMaxCookieNamePlusValueSize + 1 octets
    # is EXCLUDE_NAME_VALUE_PAIR_EXCEEDS_MAX_SIZE; exactly 4096 is fine.
    pytest.param("a=" + "x" * 4096, HTTP, FIX, ERROR, False, SAME, id="4097 octets"),
    pytest.param("a=" + "x" * 4095, HTTP, FIX, None, None, SAME, id="4096 octets"),
    pytest.param("n" * 4097 + "=", HTTP, FIX, ERROR, False, SAME, id="long name"),
    pytest.param("x" * 4097, HTTP, FIX, ERROR, False, SAME, id="nameless, long"),
    # Latin-1 text is one octet per character on the wire (PEP 3333).
    pytest.param("a=" + "\xe9" * 4095, HTTP, FIX, None, None, SAME, id="latin-1 4096"),
    # The pair is trimmed before it is measured (RFC 6265bis 5.6).
    pytest.param(
        "a=" + "x" * 4095 + "   ", HTTP, FIX, None, None, SAME, id="trailing spaces"
    ),
    # Attributes do not count towards the name+value limit.
    pytest.param(
        "a=" + "x" * 4000 + "; Path=/" + "p" * 200,
        HTTP,
        FIX,
        None,
        None,
        SAME,
        id="attributes not counted",
    ),
    # cookie_max_size (CONTRACT.md section 2) moves the limit.
    pytest.param(
        "a=" + "x" * 100,
        HTTP,
        Settings(max_size=100),
        ERROR,
        False,
        SAME,
        id="cookie_max_size 100, 101 octets",
    ),
    pytest.param(
        "a=" + "x" * 99,
        HTTP,
        Settings(max_size=100),
        None,
        None,
        SAME,
        id="cookie_max_size 100, 100 octets",
    ),
    pytest.param(
        "a=" + "x" * 4096,
        HTTP,
        Settings(max_size=8192),
        None,
        None,
        SAME,
        id="cookie_max_size raised",
    ),
    # A fix elsewhere does not make it fixed: the error stays.
    pytest.param(
        "a=" + "x" * 4096,
        HTTPS,
        FIX,
        ERROR,
        False,
        "a=" + "x" * 4096 + "; Secure",
        id="https adds Secure, still too large",
    ),
]


@pytest.mark.parametrize(ROW, TOO_LARGE)
def test_too_large(
    header: str, e: Request, s: Settings, severity: Any, fixed: Any, out: str
) -> None:
    check("too-large", header, e, s, severity, fixed, out)


# -- attr-too-long --------------------------------------------------------------

LONG = "x" * 1025

ATTR_TOO_LONG = [
    # RFC 6265bis 5.6: an attribute value over 1024 octets is ignored.
    pytest.param(
        "a=b; Path=/" + "x" * 1024, HTTP, FIX, WARNING, False, SAME, id="Path 1025"
    ),
    pytest.param(
        "a=b; Path=/" + "x" * 1023, HTTP, FIX, None, None, SAME, id="Path 1024"
    ),
    pytest.param(
        "a=b; Foo=" + LONG, HTTP, FIX, WARNING, False, SAME, id="unknown attr"
    ),
    # CONTRACT.md 7: an over-long Domain is attr-too-long (and ignored, so
    # no domain rule sees it).
    pytest.param(
        "a=b; Domain=" + LONG, HTTP, FIX, WARNING, False, SAME, id="over-long Domain"
    ),
    pytest.param(
        "a=b; Expires=" + LONG, HTTP, FIX, WARNING, False, SAME, id="over-long Expires"
    ),
    pytest.param("a=b; Path=/", HTTP, FIX, None, None, SAME, id="short attributes"),
    pytest.param("a=b; Foo=" + LONG, HTTP, REPORT, WARNING, False, SAME, id="report"),
]


@pytest.mark.parametrize(ROW, ATTR_TOO_LONG)
def test_attr_too_long(
    header: str, e: Request, s: Settings, severity: Any, fixed: Any, out: str
) -> None:
    check("attr-too-long", header, e, s, severity, fixed, out)


def test_over_long_domain_is_not_judged_as_a_domain() -> None:
    _, found = run(["a=b; Domain=" + LONG], HTTP, FIX)
    assert not [f for f, _ in found if f.rule.startswith("domain-")]


# -- domain-mismatch ------------------------------------------------------------

PAST = "Thu, 01 Jan 1970 00:00:00 GMT"

DOMAIN_MISMATCH = [
    # RFC 6265bis 5.7 and 5.1.3: the host must domain-match Domain.
    pytest.param(
        "a=1; Domain=other.test", HTTP, FIX, ERROR, True, "a=1", id="other site"
    ),
    pytest.param(
        "a=1; Domain=sub.lab.test", HTTP, FIX, ERROR, True, "a=1", id="subdomain of E"
    ),
    # 5.1.3: the match is on a "." boundary.
    pytest.param(
        "a=1; Domain=ab.test", HTTP, FIX, ERROR, True, "a=1", id="suffix, no dot"
    ),
    # CONTRACT.md 7 "Fix bytes": a removed attribute takes its ";" along.
    pytest.param(
        "a=1; Domain=other.test; Path=/",
        HTTP,
        FIX,
        ERROR,
        True,
        "a=1; Path=/",
        id="removed mid-header",
    ),
    pytest.param(
        "a=1; Path=/; DOMAIN=other.test; HttpOnly",
        HTTP,
        FIX,
        ERROR,
        True,
        "a=1; Path=/; HttpOnly",
        id="removed, any case",
    ),
    pytest.param(
        "a=1; Domain=other.test; Max-Age=60",
        HTTP,
        FIX,
        ERROR,
        True,
        "a=1; Max-Age=60",
        id="not a deletion: removed",
    ),
    pytest.param(
        "a=1; Domain=other.test",
        HTTPS,
        FIX,
        ERROR,
        True,
        "a=1; Secure",
        id="on https also Secure",
    ),
    # COOKIE_RULES.md: "remove Domain (host-only) unless the cookie is a
    # deletion": un-Domaining a deletion would delete another cookie.
    pytest.param(
        "a=; Max-Age=0; Domain=other.test",
        HTTP,
        FIX,
        ERROR,
        False,
        SAME,
        id="deletion by Max-Age=0 kept",
    ),
    pytest.param(
        "a=; Max-Age=-1; Domain=other.test",
        HTTP,
        FIX,
        ERROR,
        False,
        SAME,
        id="deletion by Max-Age=-1 kept",
    ),
    pytest.param(
        f"a=; Expires={PAST}; Domain=other.test",
        HTTP,
        FIX,
        ERROR,
        False,
        SAME,
        id="deletion by past Expires kept",
    ),
    # Setting gates (CONTRACT.md 7).
    pytest.param(
        "a=1; Domain=other.test", HTTP, KEEP_DOMAIN, ERROR, False, SAME, id="keep"
    ),
    pytest.param(
        "a=1; Domain=other.test", HTTP, REPORT, ERROR, False, SAME, id="report"
    ),
    # cookie_domain=<domain>: existing Domain rewritten, then judged.
    pytest.param(
        "a=1; Domain=other.test",
        HTTP,
        Settings(domain="lab.test"),
        None,
        None,
        "a=1; Domain=lab.test",
        id="cookie_domain rewrites to the host",
    ),
    pytest.param(
        "a=1; Domain=x.test",
        HTTP,
        Settings(domain="elsewhere.test"),
        ERROR,
        False,
        "a=1; Domain=elsewhere.test",
        id="cookie_domain rewrite still mismatched",
    ),
    pytest.param("a=1; Domain=lab.test", HTTP, FIX, None, None, SAME, id="the host"),
    # RFC 6265bis 5.6.3: a leading "." is ignored; names are compared in
    # lower case.
    pytest.param("a=1; Domain=.lab.test", HTTP, FIX, None, None, SAME, id="dot"),
    pytest.param("a=1; Domain=LAB.Test", HTTP, FIX, None, None, SAME, id="case"),
    pytest.param(
        "a=1; Domain=lab.test",
        E("http://www.lab.test/"),
        FIX,
        None,
        None,
        SAME,
        id="parent domain",
    ),
    pytest.param(
        "a=1; Domain=lab.test",
        E("http://a.b.lab.test/"),
        FIX,
        None,
        None,
        SAME,
        id="grandparent domain",
    ),
    # CONTRACT.md 7, host-prefix: a __Host- cookie's Domain "is reported,
    # not changed" (it stays invalid: nothing is fixed).
    pytest.param(
        "__Host-a=1; Secure; Path=/; Domain=other.test",
        HTTPS,
        FIX,
        ERROR,
        False,
        SAME,
        id="__Host-: reported, not removed",
    ),
    pytest.param(
        "__host-a=1; Domain=other.test",
        HTTPS,
        FIX,
        ERROR,
        False,
        "__host-a=1; Domain=other.test; Path=/; Secure",
        id="__Host- any case: Domain kept, the rest added",
    ),
    # CONTRACT.md 7 order: an IP host gives domain-ip, not domain-mismatch.
    pytest.param(
        "a=1; Domain=lab.test", IP_HTTP, FIX, None, None, "a=1", id="IP host: domain-ip"
    ),
]


@pytest.mark.parametrize(ROW, DOMAIN_MISMATCH)
def test_domain_mismatch(
    header: str, e: Request, s: Settings, severity: Any, fixed: Any, out: str
) -> None:
    check("domain-mismatch", header, e, s, severity, fixed, out)


# -- domain-public-suffix -------------------------------------------------------

HEROKU = E("http://myapp.herokuapp.com/")
GITHUB = E("http://me.github.io/")
CO_UK = E("http://shop.co.uk/")

DOMAIN_PUBLIC_SUFFIX = [
    # COOKIE_RULES.md: the private section counts, as in Chromium.
    pytest.param(
        "a=1; Domain=herokuapp.com", HEROKU, FIX, ERROR, True, "a=1", id="herokuapp.com"
    ),
    pytest.param(
        "a=1; Domain=github.io", GITHUB, FIX, ERROR, True, "a=1", id="github.io"
    ),
    pytest.param(
        "a=1; Domain=.github.io", GITHUB, FIX, ERROR, True, "a=1", id=".github.io"
    ),
    pytest.param("a=1; Domain=co.uk", CO_UK, FIX, ERROR, True, "a=1", id="co.uk"),
    pytest.param("a=1; Domain=uk", CO_UK, FIX, ERROR, True, "a=1", id="listed TLD uk"),
    pytest.param(
        "a=1; Domain=com", E("http://lab.com/"), FIX, ERROR, True, "a=1", id="com"
    ),
    # CONTRACT.md 7 order: domain-public-suffix before domain-mismatch.
    pytest.param(
        "a=1; Domain=co.uk", HTTP, FIX, ERROR, True, "a=1", id="and a mismatch"
    ),
    # COOKIE_RULES.md gives the deletion exception to domain-mismatch only.
    pytest.param(
        "a=; Max-Age=0; Domain=co.uk",
        CO_UK,
        FIX,
        ERROR,
        True,
        "a=; Max-Age=0",
        id="a deletion is fixed too",
    ),
    # CONTRACT.md 7, host-prefix: a __Host- cookie's Domain is reported,
    # not changed.
    pytest.param(
        "__Host-a=1; Secure; Path=/; Domain=co.uk",
        E("https://shop.co.uk/"),
        FIX,
        ERROR,
        False,
        SAME,
        id="__Host-: reported, not removed",
    ),
    pytest.param(
        "a=1; Domain=co.uk", CO_UK, KEEP_DOMAIN, ERROR, False, SAME, id="keep"
    ),
    pytest.param("a=1; Domain=co.uk", CO_UK, REPORT, ERROR, False, SAME, id="report"),
    # RFC 6265bis 5.7: a public suffix equal to the host is a
    # host-only cookie, not an error ("and not E.host").
    pytest.param(
        "a=1; Domain=github.io",
        E("http://github.io/"),
        FIX,
        None,
        None,
        SAME,
        id="suffix equal to the host",
    ),
    pytest.param(
        "a=1; Domain=myapp.herokuapp.com",
        HEROKU,
        FIX,
        None,
        None,
        SAME,
        id="registrable under private suffix",
    ),
    pytest.param(
        "a=1; Domain=shop.co.uk",
        E("http://www.shop.co.uk/"),
        FIX,
        None,
        None,
        SAME,
        id="registrable under co.uk",
    ),
    # COOKIE_RULES.md: "single-label hosts are decided before the lookup":
    # a single-label Domain other than the host is a public suffix by the
    # list's default rule, as Chromium 156 reads it (it drops these two,
    # InvalidDomain); a single-label host may still name itself (below).
    pytest.param(
        "a=1; Domain=test", HTTP, FIX, ERROR, True, "a=1", id="unlisted TLD test"
    ),
    pytest.param(
        "a=1; Domain=localhost",
        SUB_LOCALHOST,
        FIX,
        ERROR,
        True,
        "a=1",
        id="unlisted label localhost",
    ),
    pytest.param(
        "a=1; Domain=intranet",
        E("http://intranet/"),
        FIX,
        None,
        None,
        SAME,
        id="single-label host",
    ),
]


@pytest.mark.parametrize(ROW, DOMAIN_PUBLIC_SUFFIX)
def test_domain_public_suffix(
    header: str, e: Request, s: Settings, severity: Any, fixed: Any, out: str
) -> None:
    check("domain-public-suffix", header, e, s, severity, fixed, out)


@pytest.mark.parametrize(
    ("domain", "public"),
    [
        # publicsuffixlist, private section included (COOKIE_RULES.md).
        pytest.param("co.uk", True, id="co.uk"),
        pytest.param("herokuapp.com", True, id="herokuapp.com"),
        pytest.param("github.io", True, id="github.io"),
        pytest.param("com", True, id="com"),
        pytest.param("io", True, id="io"),
        pytest.param("me.github.io", False, id="me.github.io"),
        pytest.param("example.co.uk", False, id="example.co.uk"),
        pytest.param("lab.test", False, id="lab.test"),
        # IP literals and single labels: decided before the lookup; a single
        # label is public by the list's default rule, as Chromium reads it
        # (Domain=test on lab.test dropped, InvalidDomain, Chromium 156).
        pytest.param("127.0.0.1", False, id="IPv4"),
        pytest.param("::1", False, id="IPv6"),
        pytest.param("test", True, id="unlisted test"),
        pytest.param("localhost", True, id="unlisted localhost"),
    ],
)
def test_is_public_suffix(domain: str, public: bool) -> None:
    assert is_public_suffix(domain) is public


# -- domain-invalid -------------------------------------------------------------

DOMAIN_INVALID = [
    # COOKIE_RULES.md: strip port / trailing dot, IDNA-encode; a replaced
    # value keeps the attribute name as the app spelled it (CONTRACT.md 7).
    pytest.param(
        "a=1; Domain=lab.test:8080",
        HTTP,
        FIX,
        ERROR,
        True,
        "a=1; Domain=lab.test",
        id="port stripped",
    ),
    pytest.param(
        "a=1; domain=lab.test:8080",
        HTTP,
        FIX,
        ERROR,
        True,
        "a=1; domain=lab.test",
        id="app spelling kept",
    ),
    pytest.param(
        "a=1; Domain=lab.test.; Path=/",
        HTTP,
        FIX,
        ERROR,
        True,
        "a=1; Domain=lab.test; Path=/",
        id="trailing dot stripped",
    ),
    pytest.param(
        "a=1; Domain=.LAB.test.",
        HTTP,
        FIX,
        ERROR,
        True,
        "a=1; Domain=lab.test",
        id="leading and trailing dot",
    ),
    pytest.param(
        "a=1; Domain=b\xfccher.test",
        E("http://xn--bcher-kva.test/"),
        FIX,
        ERROR,
        True,
        "a=1; Domain=xn--bcher-kva.test",
        id="IDNA-encoded",
    ),
    # Not repairable: removed.
    pytest.param(
        "a=1; Domain=la%62.test", HTTP, FIX, ERROR, True, "a=1", id="percent removed"
    ),
    pytest.param(
        "a=1; Domain=lab .test", HTTP, FIX, ERROR, True, "a=1", id="space removed"
    ),
    # CONTRACT.md 7 order: domain-invalid before domain-mismatch and
    # domain-public-suffix; a repair that would not be accepted removes.
    pytest.param(
        "a=1; Domain=other.test:80",
        HTTP,
        FIX,
        ERROR,
        True,
        "a=1",
        id="repaired but mismatched",
    ),
    pytest.param(
        "a=1; Domain=co.uk:443", CO_UK, FIX, ERROR, True, "a=1", id="repaired suffix"
    ),
    pytest.param(
        "a=; Domain=lab.test:8080; Max-Age=0",
        HTTP,
        FIX,
        ERROR,
        True,
        "a=; Domain=lab.test; Max-Age=0",
        id="deletion repaired",
    ),
    # CONTRACT.md 7, host-prefix: a __Host- cookie's Domain is reported,
    # not changed (not even repaired).
    pytest.param(
        "__Host-a=1; Secure; Path=/; Domain=lab.test:8080",
        HTTPS,
        FIX,
        ERROR,
        False,
        SAME,
        id="__Host-: reported, not repaired",
    ),
    pytest.param(
        "a=1; Domain=lab.test:8080", HTTP, KEEP_DOMAIN, ERROR, False, SAME, id="keep"
    ),
    pytest.param(
        "a=1; Domain=lab.test:8080", HTTP, REPORT, ERROR, False, SAME, id="report"
    ),
    pytest.param("a=1; Domain=lab.test", HTTP, FIX, None, None, SAME, id="valid"),
    # CONTRACT.md 7: Domain= and Domain=. are domain-empty.
    pytest.param("a=1; Domain=", HTTP, FIX, None, None, "a=1", id="Domain= is empty"),
    pytest.param("a=1; Domain=.", HTTP, FIX, None, None, "a=1", id="Domain=. is empty"),
    # An IPv6 literal's colons are not a port.
    pytest.param("a=1; Domain=[::1]", LOOPBACK6, FIX, None, None, SAME, id="IPv6"),
    pytest.param("a=1; Domain=127.0.0.1", LOOPBACK4, FIX, None, None, SAME, id="IPv4"),
]


@pytest.mark.parametrize(ROW, DOMAIN_INVALID)
def test_domain_invalid(
    header: str, e: Request, s: Settings, severity: Any, fixed: Any, out: str
) -> None:
    check("domain-invalid", header, e, s, severity, fixed, out)


# -- domain-ip ------------------------------------------------------------------

DOMAIN_IP = [
    # RFC 6265bis 5.1.3: an IP host domain-matches only itself.
    pytest.param(
        "a=1; Domain=localhost", LOOPBACK4, FIX, ERROR, True, "a=1", id="name on IP"
    ),
    pytest.param(
        "a=1; Domain=192.0.2.11", IP_HTTP, FIX, ERROR, True, "a=1", id="another IP"
    ),
    pytest.param(
        "a=1; Domain=0.2.10", IP_HTTP, FIX, ERROR, True, "a=1", id="IP suffix"
    ),
    pytest.param(
        "a=1; Domain=lab.test; Path=/",
        LOOPBACK6,
        FIX,
        ERROR,
        True,
        "a=1; Path=/",
        id="IPv6",
    ),
    # Chromium 156 measured on http://[::1]/: Domain=::1 dropped
    # (InvalidDomain), Domain=[::1] kept: an IPv6 Domain is written as in a
    # URL.
    pytest.param(
        "a=1; Domain=::1; Path=/",
        LOOPBACK6,
        FIX,
        ERROR,
        True,
        "a=1; Path=/",
        id="IPv6 without brackets",
    ),
    pytest.param(
        "a=1; Domain=[::1]; Path=/", LOOPBACK6, FIX, None, None, SAME, id="[::1]"
    ),
    # CONTRACT.md 7 order: domain-ip before domain-public-suffix.
    pytest.param("a=1; Domain=co.uk", IP_HTTP, FIX, ERROR, True, "a=1", id="suffix"),
    # CONTRACT.md 7, host-prefix: a __Host- cookie's Domain is reported,
    # not changed.
    pytest.param(
        "__Host-a=1; Path=/; Domain=lab.test",
        LOOPBACK4,
        FIX,
        ERROR,
        False,
        "__Host-a=1; Path=/; Domain=lab.test; Secure",
        id="__Host-: reported, not removed",
    ),
    pytest.param(
        "a=1; Domain=lab.test", IP_HTTP, KEEP_DOMAIN, ERROR, False, SAME, id="keep"
    ),
    pytest.param(
        "a=1; Domain=lab.test", IP_HTTP, REPORT, ERROR, False, SAME, id="report"
    ),
    # Chromium HostCookiePrefix: Domain=127.0.0.1 on https://127.0.0.1 is
    # accepted (the IP itself).
    pytest.param(
        "a=1; Domain=127.0.0.1", LOOPBACK4, FIX, None, None, SAME, id="same IP"
    ),
    pytest.param("a=1; Domain=[::1]", LOOPBACK6, FIX, None, None, SAME, id="same IPv6"),
    pytest.param("a=1", IP_HTTP, FIX, None, None, SAME, id="no Domain"),
    pytest.param("a=1; Domain=lab.test", HTTP, FIX, None, None, SAME, id="name host"),
]


@pytest.mark.parametrize(ROW, DOMAIN_IP)
def test_domain_ip(
    header: str, e: Request, s: Settings, severity: Any, fixed: Any, out: str
) -> None:
    check("domain-ip", header, e, s, severity, fixed, out)


# -- domain-empty ---------------------------------------------------------------

DOMAIN_EMPTY = [
    # CONTRACT.md 7: "Domain= (empty) is a warning, Domain=. an error
    # (Chromium drops it), both domain-empty"; the fix removes it.
    pytest.param("a=1; Domain=", HTTP, FIX, WARNING, True, "a=1", id="Domain="),
    pytest.param("a=1; Domain=.", HTTP, FIX, ERROR, True, "a=1", id="Domain=."),
    # RFC 6265bis 5.6: a cookie-av without "=" has the empty value.
    pytest.param("a=1; Domain", HTTP, FIX, WARNING, True, "a=1", id="Domain flag"),
    # The whitespace after "Domain=" leads the next attribute, so it stays.
    pytest.param(
        "a=1; Domain= ; Path=/", HTTP, FIX, WARNING, True, "a=1 ; Path=/", id="blank"
    ),
    pytest.param(
        "a=1; domain=.; Path=/", HTTP, FIX, ERROR, True, "a=1; Path=/", id="dot, mid"
    ),
    # CONTRACT.md 7, host-prefix: a __Host- cookie's Domain is reported,
    # not changed.
    pytest.param(
        "__Host-a=1; Secure; Path=/; Domain=",
        HTTPS,
        FIX,
        WARNING,
        False,
        SAME,
        id="__Host- Domain=: reported, not removed",
    ),
    pytest.param(
        "__Host-a=1; Secure; Path=/; Domain=.",
        HTTPS,
        FIX,
        ERROR,
        False,
        SAME,
        id="__Host- Domain=.: reported, not removed",
    ),
    pytest.param("a=1; Domain=", HTTP, KEEP_DOMAIN, WARNING, False, SAME, id="keep"),
    pytest.param("a=1; Domain=.", HTTP, KEEP_DOMAIN, ERROR, False, SAME, id="keep ."),
    pytest.param("a=1; Domain=.", HTTP, REPORT, ERROR, False, SAME, id="report"),
    # CONTRACT.md 2 and 7: cookie_domain=<domain> rewrites every existing
    # Domain attribute (like nginx proxy_cookie_domain), an empty one too,
    # and the rewritten cookie is judged.
    pytest.param(
        "a=1; Domain=",
        HTTP,
        Settings(domain="lab.test"),
        None,
        None,
        "a=1; Domain=lab.test",
        id="cookie_domain=<domain> rewrites Domain=",
    ),
    pytest.param(
        "a=1; Domain; Path=/",
        HTTP,
        Settings(domain="lab.test"),
        None,
        None,
        "a=1; Domain=lab.test; Path=/",
        id="cookie_domain=<domain> rewrites a Domain flag",
    ),
    # CONTRACT.md 7, host-prefix: a __Host- cookie's Domain is reported,
    # not changed, also by cookie_domain=<domain>.
    pytest.param(
        "__Host-a=1; Secure; Path=/; Domain=",
        HTTPS,
        Settings(domain="lab.test"),
        WARNING,
        False,
        SAME,
        id="cookie_domain=<domain> leaves a __Host- Domain=",
    ),
    pytest.param(
        "a=1; Domain=..", HTTP, FIX, None, None, "a=1", id="two dots: invalid"
    ),
    pytest.param("a=1; Domain=lab.test", HTTP, FIX, None, None, SAME, id="a domain"),
]


@pytest.mark.parametrize(ROW, DOMAIN_EMPTY)
def test_domain_empty(
    header: str, e: Request, s: Settings, severity: Any, fixed: Any, out: str
) -> None:
    check("domain-empty", header, e, s, severity, fixed, out)


# -- response-level rules: domain-shadowing, duplicate-cookie, too-many ----------

RESPONSE_ROW = ("headers", "e", "expected")

DOMAIN_SHADOWING = [
    # COOKIE_RULES.md / CONTRACT.md 7: judged within one response.
    pytest.param(
        ["a=1", "a=2; Domain=lab.test"], HTTP, ["a"], id="host-only and Domain"
    ),
    pytest.param(
        ["a=2; Domain=.lab.test", "a=1; Path=/x"], HTTP, ["a"], id="other order, path"
    ),
    pytest.param(
        ["a=1; Domain=lab.test", "b=1", "a=3", "b=2; Domain=lab.test"],
        HTTP,
        ["a", "b"],
        id="two names",
    ),
    pytest.param(["a=1", "b=1; Domain=lab.test"], HTTP, [], id="different names"),
    pytest.param(
        ["a=1; Domain=lab.test", "a=2; Domain=.LAB.test"], HTTP, [], id="both Domain"
    ),
    pytest.param(["a=1", "a=2"], HTTP, [], id="both host-only"),
    # Code's choice: an empty Domain= is host-only, like no Domain.
    pytest.param(["a=1; Domain=", "a=2"], HTTP, [], id="Domain= is host-only"),
    pytest.param(["a=1; Domain=lab.test"], HTTP, [], id="one cookie"),
]


@pytest.mark.parametrize(RESPONSE_ROW, DOMAIN_SHADOWING)
def test_domain_shadowing(headers: list[str], e: Request, expected: list[str]) -> None:
    _, found = run(headers, e, FIX)
    mine = [f for f, _ in found if f.rule == "domain-shadowing"]
    assert [f.cookie for f in mine] == expected
    assert all(f.severity == WARNING and f.fixed is False for f in mine)


DUPLICATE_COOKIE = [
    # COOKIE_RULES.md: the same (name, domain, path) twice in one response.
    pytest.param(["a=1", "a=2"], HTTP, ["a"], id="same name twice"),
    pytest.param(["a=1; Path=/", "a=2; Path=/"], HTTP, ["a"], id="same path"),
    pytest.param(
        ["a=1; Domain=lab.test", "a=2; Domain=.LAB.test"],
        HTTP,
        ["a"],
        id="same domain, other spelling",
    ),
    # RFC 6265bis 5.1.4: no Path means the default-path (here also the
    # SCRIPT_NAME the missing-path fix gives it; see AS_SENT).
    pytest.param(["a=1; Path=/app", "a=2"], MOUNT, ["a"], id="explicit = default-path"),
    pytest.param(["a=1", "a=2", "a=3"], HTTP, ["a", "a"], id="three times"),
    # path-invalid: an empty or relative Path is ignored, the default-path
    # used (and the request's path is read: a directory of its own).
    pytest.param(
        ["a=1; Path=rel", "a=2; Path=/x"],
        E("http://lab.test/x/page"),
        ["a"],
        id="relative Path = default-path",
    ),
    pytest.param(["a=1; Path=", "a=2; Path=x"], HTTP, ["a"], id="empty and relative"),
    pytest.param(
        ["a=1; Path=rel", "a=2; Path=/x"],
        E("http://lab.test/y/page"),
        [],
        id="relative Path, another default-path",
    ),
    pytest.param(["a=1; Path=/x", "a=2; Path=/y"], HTTP, [], id="other paths"),
    pytest.param(["a=1", "b=1"], HTTP, [], id="other names"),
    pytest.param(["a=1", "A=1"], HTTP, [], id="names are case-sensitive"),
    pytest.param(["a=1; Domain=lab.test", "a=1"], HTTP, [], id="domain vs host-only"),
]


@pytest.mark.parametrize(RESPONSE_ROW, DUPLICATE_COOKIE)
def test_duplicate_cookie(headers: list[str], e: Request, expected: list[str]) -> None:
    _, found = run(headers, e, FIX)
    mine = [f for f, _ in found if f.rule == "duplicate-cookie"]
    assert [f.cookie for f in mine] == expected
    assert all(f.severity == WARNING and f.fixed is False for f in mine)


AS_SENT = [
    # The response-level rules judge the cookies as sent: after the
    # cookie_domain=<domain> rewrite (CONTRACT.md 2, like nginx
    # proxy_cookie_domain) and the fixes of COOKIE_RULES.md.
    pytest.param(
        ["a=1; Path=/; Domain=other.test", "a=2; Path=/; Domain=lab.test"],
        E("http://www.lab.test/"),
        Settings(domain="lab.test"),
        {"duplicate-cookie": ["a"], "domain-shadowing": []},
        id="rewritten to one Domain: duplicates",
    ),
    pytest.param(
        ["a=1; Path=/", "a=2; Path=/; Domain=."],
        E("http://www.lab.test/"),
        Settings(domain="lab.test"),
        {"duplicate-cookie": [], "domain-shadowing": ["a"]},
        id="Domain=. rewritten: shadowing, not a duplicate",
    ),
    pytest.param(
        ["a=1; Domain=other.test", "a=2"],
        HTTP,
        FIX,
        {"duplicate-cookie": ["a"], "domain-shadowing": []},
        id="Domain removed: both host-only",
    ),
    pytest.param(
        ["a=1", "a=2; Path=/"],
        HTTP_DIR,
        FIX,
        {"duplicate-cookie": ["a"]},
        id="Path=/ added: duplicates",
    ),
    # RFC 6265bis 5.1.4: no Path means the default-path, unless the
    # missing-path fix gives it Path=/.
    pytest.param(
        ["a=1; Path=/account", "a=2"],
        HTTP_DIR,
        REPORT,
        {"duplicate-cookie": ["a"]},
        id="report: explicit = default-path",
    ),
    pytest.param(
        ["a=1; Path=/account", "a=2"],
        HTTP_DIR,
        FIX,
        {"duplicate-cookie": []},
        id="fix: the default-path became Path=/",
    ),
    # RFC 6265bis 5.6.3: an empty Domain (after its leading "." is cut)
    # leaves the cookie host-only, so nothing shadows it; Chromium drops
    # Domain=. (an error): left as it is, it wastes nothing either.
    pytest.param(
        ["a=1", "a=2; Domain=."],
        HTTP,
        REPORT,
        {"duplicate-cookie": [], "domain-shadowing": []},
        id="report: Domain=. dropped",
    ),
    pytest.param(
        ["a=1", "a=2; Domain=."],
        HTTP,
        FIX,
        {"duplicate-cookie": ["a"], "domain-shadowing": []},
        id="fix: Domain=. removed, host-only",
    ),
    # Only the cookies browsers keep: one dropped (an error left on it)
    # neither wastes nor shadows another, and deleting the Domain copy
    # while setting the host-only one (moving a cookie) shadows nothing.
    pytest.param(
        ["a=1", "a=2; Domain=other.test"],
        HTTP,
        REPORT,
        {"duplicate-cookie": [], "domain-shadowing": []},
        id="report: the Domain copy is dropped",
    ),
    pytest.param(
        ["a=1\x01", "a=2"],
        HTTP,
        FIX,
        {"duplicate-cookie": []},
        id="the first is dropped: not wasted",
    ),
    pytest.param(
        ["a=; Domain=lab.test; Max-Age=0", "a=1"],
        HTTP,
        FIX,
        {"duplicate-cookie": [], "domain-shadowing": []},
        id="the Domain copy deleted",
    ),
    pytest.param(
        ["a=; Max-Age=0", "a=1"],
        HTTP,
        FIX,
        {"duplicate-cookie": ["a"], "domain-shadowing": []},
        id="deleted, then set again: the deletion is wasted",
    ),
]


@pytest.mark.parametrize(("headers", "e", "s", "expected"), AS_SENT)
def test_response_rules_judge_the_cookies_as_sent(
    headers: list[str], e: Request, s: Settings, expected: dict[str, list[str]]
) -> None:
    _, found = run(headers, e, s)
    for rule, names in expected.items():
        assert [f.cookie for f, _ in found if f.rule == rule] == names, rule


def _sized(n: int, length: int) -> list[str]:
    """n headers of exactly ``length`` characters each."""
    headers = []
    for i in range(n):
        prefix = f"c{i}="
        headers.append(prefix + "x" * (length - len(prefix)))
    return headers


TOO_MANY_COOKIES = [
    # COOKIE_RULES.md: > 20 cookies or > 8 KiB of Set-Cookie per response.
    pytest.param(_sized(21, 10), HTTP, [None], id="21 cookies"),
    pytest.param(_sized(20, 10), HTTP, [], id="20 cookies"),
    pytest.param(_sized(3, 3000), HTTP, [None], id="9000 bytes"),
    pytest.param(_sized(2, 4096), HTTP, [], id="exactly 8192 bytes"),
    pytest.param(_sized(1, 4096) + _sized(1, 4097), HTTP, [None], id="8193 bytes"),
    pytest.param(["a=1"], HTTP, [], id="one cookie"),
]


@pytest.mark.parametrize(RESPONSE_ROW, TOO_MANY_COOKIES)
def test_too_many_cookies(headers: list[str], e: Request, expected: list[None]) -> None:
    _, found = run(headers, e, FIX)
    mine = [f for f, _ in found if f.rule == "too-many-cookies"]
    # Finding.cookie is None for the response as a whole (CONTRACT.md 7).
    assert [f.cookie for f in mine] == expected
    assert all(f.severity == WARNING and f.fixed is False for f in mine)


# -- secure-over-http -----------------------------------------------------------

SECURE_OVER_HTTP = [
    # Chromium EnforceSecureCookiesRequireSecureScheme / 6265bis 5.7:
    # a Secure cookie from a non-secure origin is dropped (SecureOnly).
    pytest.param("a=1; Secure", HTTP, FIX, ERROR, False, SAME, id="http name host"),
    pytest.param("a=1; secure", HTTP, FIX, ERROR, False, SAME, id="lower-case flag"),
    pytest.param("a=1; Secure=yes", HTTP, FIX, ERROR, False, SAME, id="Secure=value"),
    pytest.param("a=1; Secure", IP_HTTP, FIX, ERROR, False, SAME, id="http IP host"),
    pytest.param(
        "a=1; Secure",
        E("http://localhost.example/"),
        FIX,
        ERROR,
        False,
        SAME,
        id="localhost.example is not localhost",
    ),
    pytest.param(
        "a=1; Secure",
        E("http://mylocalhost/"),
        FIX,
        ERROR,
        False,
        SAME,
        id="mylocalhost is not localhost",
    ),
    # CONTRACT.md 7: on a localhost-family host over http it is info and
    # names Safari (the only browser that drops it there).
    pytest.param("a=1; Secure", LOCALHOST, FIX, INFO, False, SAME, id="localhost"),
    pytest.param("a=1; Secure", LOOPBACK4, FIX, INFO, False, SAME, id="127.0.0.1"),
    pytest.param(
        "a=1; Secure", E("http://127.0.0.2/"), FIX, INFO, False, SAME, id="127.0.0.2"
    ),
    pytest.param("a=1; Secure", LOOPBACK6, FIX, INFO, False, SAME, id="[::1]"),
    pytest.param(
        "a=1; Secure", SUB_LOCALHOST, FIX, INFO, False, SAME, id="*.localhost"
    ),
    pytest.param("a=1; Secure", HTTP, REPORT, ERROR, False, SAME, id="report"),
    pytest.param("a=1; Secure", HTTPS, FIX, None, None, SAME, id="https"),
    pytest.param(
        "a=1; Secure", E("https://localhost/"), FIX, None, None, SAME, id="https local"
    ),
    pytest.param("a=1", HTTP, FIX, None, None, SAME, id="no Secure"),
]


@pytest.mark.parametrize(ROW, SECURE_OVER_HTTP)
def test_secure_over_http(
    header: str, e: Request, s: Settings, severity: Any, fixed: Any, out: str
) -> None:
    finding = check("secure-over-http", header, e, s, severity, fixed, out)
    if finding is not None and finding.severity == INFO:
        assert "Safari" in finding.message


def test_secure_over_http_carries_the_tls_hint() -> None:
    # COOKIE_RULES.md: "hint: trust the TLS proxy's X-Forwarded-Proto".
    hint = "10.0.0.1 sent X-Forwarded-Proto https but is not a trusted proxy"
    _, found = run(["a=1; Secure"], E("http://lab.test/", hint=hint), FIX)
    messages = {f.rule: f.message for f, _ in found}
    assert hint in messages["secure-over-http"]
    _, found = run(["a=1; Secure"], HTTP, FIX)
    assert "X-Forwarded-Proto" in found[0][0].message


# -- https-without-secure -------------------------------------------------------

HTTPS_WITHOUT_SECURE = [
    # COOKIE_RULES.md / CONTRACT.md 7 "Fix bytes": "; Secure" appended.
    pytest.param("a=1", HTTPS, FIX, WARNING, True, "a=1; Secure", id="appended"),
    pytest.param(
        "a=1; Path=/", HTTPS, FIX, WARNING, True, "a=1; Path=/; Secure", id="after Path"
    ),
    pytest.param(
        "a=1; HttpOnly; SameSite=Lax",
        HTTPS,
        FIX,
        WARNING,
        True,
        "a=1; HttpOnly; SameSite=Lax; Secure",
        id="after the app's attributes",
    ),
    # Every byte of the app's header stays, odd spacing included.
    pytest.param(
        "a=1 ", HTTPS, FIX, WARNING, True, "a=1 ; Secure", id="trailing space"
    ),
    pytest.param("a=1;", HTTPS, FIX, WARNING, True, "a=1;; Secure", id="trailing ;"),
    pytest.param(
        " a = 1 ;Path=/",
        HTTPS,
        FIX,
        WARNING,
        True,
        " a = 1 ;Path=/; Secure",
        id="spaces in the pair kept",
    ),
    pytest.param(
        'a="x y"', HTTPS, FIX, WARNING, True, 'a="x y"; Secure', id="quoted value"
    ),
    pytest.param(
        "a=1; Priority=High",
        HTTPS,
        FIX,
        WARNING,
        True,
        "a=1; Priority=High; Secure",
        id="unknown attribute kept",
    ),
    pytest.param(
        "a=1",
        E("https://localhost/"),
        FIX,
        WARNING,
        True,
        "a=1; Secure",
        id="https localhost",
    ),
    pytest.param(
        "a=1",
        E("https://192.0.2.10/"),
        FIX,
        WARNING,
        True,
        "a=1; Secure",
        id="https IP",
    ),
    # Setting gates (CONTRACT.md 7).
    pytest.param(
        "a=1", HTTPS, KEEP_SECURE, WARNING, False, SAME, id="cookie_secure=keep"
    ),
    pytest.param("a=1", HTTPS, REPORT, WARNING, False, SAME, id="report"),
    pytest.param("a=1; Secure", HTTPS, FIX, None, None, SAME, id="has Secure"),
    pytest.param("a=1; SECURE", HTTPS, FIX, None, None, SAME, id="has SECURE"),
    pytest.param("a=1", HTTP, FIX, None, None, SAME, id="http"),
    pytest.param("a=1", LOCALHOST, FIX, None, None, SAME, id="http localhost"),
    # CONTRACT.md 7 Secure order: the earlier rule reports it.
    pytest.param(
        "__Secure-a=1",
        HTTPS,
        FIX,
        None,
        None,
        "__Secure-a=1; Secure",
        id="secure-prefix",
    ),
    pytest.param(
        "a=1; SameSite=None",
        HTTPS,
        FIX,
        None,
        None,
        "a=1; SameSite=None; Secure",
        id="samesite-none-insecure",
    ),
    pytest.param(
        "a=1; Partitioned",
        HTTPS,
        FIX,
        None,
        None,
        "a=1; Partitioned; Secure",
        id="partitioned-insecure",
    ),
]


@pytest.mark.parametrize(ROW, HTTPS_WITHOUT_SECURE)
def test_https_without_secure(
    header: str, e: Request, s: Settings, severity: Any, fixed: Any, out: str
) -> None:
    check("https-without-secure", header, e, s, severity, fixed, out)


# -- untrusted-tls-proxy --------------------------------------------------------

HINT = "10.0.0.1 sent X-Forwarded-Proto https but is not a trusted proxy"

UNTRUSTED_TLS_PROXY = [
    # COOKIE_RULES.md: E is http but the raw request shows a TLS proxy.
    pytest.param(["a=1; Secure"], E("http://lab.test/", hint=HINT), [None], id="hint"),
    # One finding per response, however many cookies.
    pytest.param(
        ["a=1; Secure", "b=1; Secure", "c=1"],
        E("http://lab.test/", hint=HINT),
        [None],
        id="once per response",
    ),
    pytest.param(["a=1"], E("https://lab.test/", hint=HINT), [], id="E is https"),
    pytest.param(["a=1; Secure"], HTTP, [], id="no TLS proxy seen"),
]


@pytest.mark.parametrize(RESPONSE_ROW, UNTRUSTED_TLS_PROXY)
def test_untrusted_tls_proxy(
    headers: list[str], e: Request, expected: list[None]
) -> None:
    _, found = run(headers, e, FIX)
    mine = [f for f, _ in found if f.rule == "untrusted-tls-proxy"]
    # Finding.cookie is None: a finding about the request (CONTRACT.md 7).
    assert [f.cookie for f in mine] == expected
    for f in mine:
        assert (f.severity, f.fixed) == (WARNING, False)
        assert HINT in f.message


ENVIRON_TLS = [
    # The same finding reached through effective_request() on an environ
    # whose untrusted peer says https (COOKIE_RULES.md: X-Forwarded-Proto
    # https, Forwarded proto=https, X-Forwarded-Ssl on).
    pytest.param({"HTTP_X_FORWARDED_PROTO": "https"}, True, id="X-Forwarded-Proto"),
    pytest.param({"HTTP_FORWARDED": "for=1.2.3.4;proto=https"}, True, id="Forwarded"),
    pytest.param({"HTTP_X_FORWARDED_SSL": "on"}, True, id="X-Forwarded-Ssl"),
    pytest.param({"HTTP_X_FORWARDED_PROTO": "http"}, False, id="proxy says http"),
    pytest.param({}, False, id="no proxy headers"),
]


@pytest.mark.parametrize(("extra", "reported"), ENVIRON_TLS)
def test_untrusted_tls_proxy_from_environ(
    extra: dict[str, str], reported: bool
) -> None:
    environ = {
        "wsgi.url_scheme": "http",
        "HTTP_HOST": "lab.test",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/",
        "REMOTE_ADDR": "10.0.0.1",
        **extra,
    }
    e = effective_request(environ)
    _, found = run(["a=1; Secure"], e, FIX)
    mine = [f for f, _ in found if f.rule == "untrusted-tls-proxy"]
    assert len(mine) == (1 if reported else 0)
    if reported:
        assert "10.0.0.1" in mine[0].message


# -- overwrite-secure -----------------------------------------------------------

OVERWRITE_SECURE = [
    # Chromium OverwriteSecure (6265bis 5.7): a non-Secure cookie
    # from an insecure origin may not shadow a Secure one; heuristic, a
    # warning (CONTRACT.md 7).
    pytest.param(
        "a=1",
        E("http://lab.test/", cookie="a=old"),
        FIX,
        WARNING,
        False,
        SAME,
        id="http",
    ),
    pytest.param(
        "a=1",
        E("http://lab.test/", cookie="x=1; a=old"),
        FIX,
        WARNING,
        False,
        SAME,
        id="second cookie of the request",
    ),
    pytest.param(
        "a=1",
        E("http://localhost/", cookie="a=old"),
        FIX,
        WARNING,
        False,
        SAME,
        id="localhost",
    ),
    pytest.param(
        "a=1",
        E("http://lab.test/", cookie="a=old"),
        REPORT,
        WARNING,
        False,
        SAME,
        id="report",
    ),
    pytest.param(
        "a=1; Secure",
        E("http://lab.test/", cookie="a=old"),
        FIX,
        None,
        None,
        SAME,
        id="has Secure",
    ),
    pytest.param(
        "a=1",
        E("https://lab.test/", cookie="a=old"),
        FIX,
        None,
        None,
        "a=1; Secure",
        id="https",
    ),
    pytest.param(
        "a=1",
        E("http://lab.test/", cookie="b=old"),
        FIX,
        None,
        None,
        SAME,
        id="other name",
    ),
    pytest.param(
        "a=1", E("http://lab.test/", cookie="A=old"), FIX, None, None, SAME, id="case"
    ),
    pytest.param("a=1", HTTP, FIX, None, None, SAME, id="no Cookie header"),
]


@pytest.mark.parametrize(ROW, OVERWRITE_SECURE)
def test_overwrite_secure(
    header: str, e: Request, s: Settings, severity: Any, fixed: Any, out: str
) -> None:
    check("overwrite-secure", header, e, s, severity, fixed, out)


# -- samesite-none-insecure -----------------------------------------------------

SAMESITE_NONE_INSECURE = [
    # RFC 6265bis 5.7 / Chromium SameSiteNoneInsecure.
    pytest.param("a=1; SameSite=None", HTTP, FIX, ERROR, False, SAME, id="http"),
    pytest.param(
        "a=1; SameSite=none",
        HTTPS,
        FIX,
        ERROR,
        True,
        "a=1; SameSite=none; Secure",
        id="https: Secure added",
    ),
    pytest.param(
        "a=1; SameSite=None",
        LOCALHOST,
        FIX,
        ERROR,
        True,
        "a=1; SameSite=None; Secure",
        id="localhost is trustworthy",
    ),
    pytest.param(
        "a=1; SameSite=None",
        LOOPBACK6,
        FIX,
        ERROR,
        True,
        "a=1; SameSite=None; Secure",
        id="[::1] is trustworthy",
    ),
    pytest.param(
        "a=1; SameSite=Lax; SameSite=None",
        HTTP,
        FIX,
        ERROR,
        False,
        "a=1; SameSite=None",  # duplicate-attr removed the earlier one
        id="last SameSite wins",
    ),
    pytest.param(
        "a=1; SameSite=None", HTTPS, KEEP_SECURE, ERROR, False, SAME, id="keep"
    ),
    pytest.param("a=1; SameSite=None", HTTPS, REPORT, ERROR, False, SAME, id="report"),
    pytest.param("a=1; SameSite=None; Secure", HTTPS, FIX, None, None, SAME, id="ok"),
    pytest.param("a=1; SameSite=Lax", HTTP, FIX, None, None, SAME, id="Lax"),
    pytest.param(
        "a=1; SameSite=None; SameSite=Lax",
        HTTP,
        FIX,
        None,
        None,
        "a=1; SameSite=Lax",
        id="Lax last",
    ),
    # CONTRACT.md 7 Secure order.
    pytest.param(
        "__Secure-a=1; SameSite=None",
        HTTPS,
        FIX,
        None,
        None,
        "__Secure-a=1; SameSite=None; Secure",
        id="secure-prefix first",
    ),
    pytest.param(
        "__Host-a=1; Path=/; SameSite=None",
        HTTPS,
        FIX,
        None,
        None,
        "__Host-a=1; Path=/; SameSite=None; Secure",
        id="host-prefix first",
    ),
]


@pytest.mark.parametrize(ROW, SAMESITE_NONE_INSECURE)
def test_samesite_none_insecure(
    header: str, e: Request, s: Settings, severity: Any, fixed: Any, out: str
) -> None:
    check("samesite-none-insecure", header, e, s, severity, fixed, out)


# -- samesite-invalid -----------------------------------------------------------

SAMESITE_INVALID = [
    # Chromium CanonicalCookieTest.Create: SameSite=Extended is UNSPECIFIED.
    pytest.param(
        "a=1; SameSite=Extended", HTTP, FIX, WARNING, False, SAME, id="Extended"
    ),
    pytest.param("a=1; SameSite", HTTP, FIX, WARNING, False, SAME, id="flag"),
    pytest.param("a=1; SameSite=", HTTP, FIX, WARNING, False, SAME, id="empty"),
    pytest.param("a=1; SameSite=Lax!", HTTP, FIX, WARNING, False, SAME, id="typo"),
    # With cookie_samesite set: replaced, app's spelling of the name kept.
    pytest.param(
        "a=1; SameSite=Extended",
        HTTP,
        LAX,
        WARNING,
        True,
        "a=1; SameSite=Lax",
        id="replaced by lax",
    ),
    pytest.param(
        "a=1; samesite=bogus; Path=/",
        HTTP,
        STRICT,
        WARNING,
        True,
        "a=1; samesite=Strict; Path=/",
        id="replaced by strict, spelling kept",
    ),
    pytest.param(
        "a=1; SameSite",
        HTTP,
        LAX,
        WARNING,
        True,
        "a=1; SameSite=Lax",
        id="flag given =Lax",
    ),
    # CONTRACT.md section 2: none only where Secure is present or added.
    pytest.param(
        "a=1; SameSite=bogus", HTTP, NONE, WARNING, False, SAME, id="none, no Secure"
    ),
    pytest.param(
        "a=1; SameSite=bogus",
        HTTPS,
        NONE,
        WARNING,
        True,
        "a=1; SameSite=None; Secure",
        id="none with Secure added",
    ),
    pytest.param(
        "a=1; Secure; SameSite=bogus",
        LOCALHOST,
        NONE,
        WARNING,
        True,
        "a=1; Secure; SameSite=None",
        id="none with Secure present",
    ),
    pytest.param(
        "a=1; SameSite=bogus",
        HTTPS,
        Settings(samesite="none", secure="keep"),
        WARNING,
        False,
        SAME,
        id="none, Secure blocked by keep",
    ),
    pytest.param(
        "a=1; SameSite=bogus",
        HTTP,
        Settings(policy="report", samesite="lax"),
        WARNING,
        False,
        SAME,
        id="report",
    ),
    pytest.param("a=1; SameSite=Lax", HTTP, LAX, None, None, SAME, id="Lax"),
    pytest.param("a=1; SameSite=STRICT", HTTP, FIX, None, None, SAME, id="STRICT"),
    pytest.param(
        "a=1; SameSite=none; Secure", LOCALHOST, FIX, None, None, SAME, id="none"
    ),
    pytest.param("a=1", HTTP, FIX, None, None, SAME, id="missing: samesite-missing"),
]


@pytest.mark.parametrize(ROW, SAMESITE_INVALID)
def test_samesite_invalid(
    header: str, e: Request, s: Settings, severity: Any, fixed: Any, out: str
) -> None:
    check("samesite-invalid", header, e, s, severity, fixed, out)


# -- samesite-missing -----------------------------------------------------------

SAMESITE_MISSING = [
    pytest.param("a=1", HTTP, FIX, INFO, False, SAME, id="keep: reported only"),
    pytest.param("a=1", HTTP, LAX, INFO, True, "a=1; SameSite=Lax", id="lax added"),
    pytest.param("a=1", HTTP, STRICT, INFO, True, "a=1; SameSite=Strict", id="strict"),
    # CONTRACT.md section 2: none only with Secure present or added.
    pytest.param("a=1", HTTP, NONE, INFO, False, SAME, id="none without Secure"),
    pytest.param(
        "a=1",
        HTTPS,
        NONE,
        INFO,
        True,
        "a=1; Secure; SameSite=None",
        id="none, Secure added",
    ),
    pytest.param(
        "a=1; Secure",
        LOCALHOST,
        NONE,
        INFO,
        True,
        "a=1; Secure; SameSite=None",
        id="none, Secure present",
    ),
    pytest.param(
        "a=1",
        HTTPS,
        Settings(samesite="none", secure="keep"),
        INFO,
        False,
        SAME,
        id="none, cookie_secure=keep",
    ),
    pytest.param(
        "a=1; Path=/",
        HTTPS,
        LAX,
        INFO,
        True,
        "a=1; Path=/; Secure; SameSite=Lax",
        id="order Secure, SameSite",
    ),
    pytest.param(
        "a=1",
        HTTP,
        Settings(policy="report", samesite="lax"),
        INFO,
        False,
        SAME,
        id="report",
    ),
    pytest.param("a=1; SameSite=Lax", HTTP, FIX, None, None, SAME, id="has SameSite"),
    pytest.param(
        "a=1; SameSite=bogus",
        HTTP,
        LAX,
        None,
        None,
        "a=1; SameSite=Lax",
        id="invalid: other rule",
    ),
]


@pytest.mark.parametrize(ROW, SAMESITE_MISSING)
def test_samesite_missing(
    header: str, e: Request, s: Settings, severity: Any, fixed: Any, out: str
) -> None:
    check("samesite-missing", header, e, s, severity, fixed, out)


# -- cross-site-set -------------------------------------------------------------

X_IFRAME = E("https://lab.test/", site="cross-site", dest="iframe")
X_FETCH = E("https://lab.test/", site="cross-site", dest="empty")
X_NODEST = E("https://lab.test/", site="cross-site")

CROSS_SITE_SET = [
    # CONTRACT.md 7 "Reason tokens": the one that applies.
    pytest.param(
        "a=1; SameSite=Lax; Secure", X_IFRAME, "SameSiteLax", id="Lax in iframe"
    ),
    pytest.param(
        "a=1; SameSite=Strict; Secure", X_IFRAME, "SameSiteStrict", id="Strict"
    ),
    pytest.param(
        "a=1; Secure", X_IFRAME, "SameSiteUnspecifiedTreatedAsLax", id="no SameSite"
    ),
    pytest.param(
        "a=1; Secure; SameSite=bogus",
        X_IFRAME,
        "SameSiteUnspecifiedTreatedAsLax",
        id="invalid SameSite",
    ),
    pytest.param(
        "a=1; SameSite=None; Secure",
        X_IFRAME,
        "UserPreferences",
        id="None unpartitioned",
    ),
    pytest.param("a=1; SameSite=lax; Secure", X_FETCH, "SameSiteLax", id="fetch()"),
    pytest.param(
        "a=1; Secure", X_NODEST, "SameSiteUnspecifiedTreatedAsLax", id="no Dest"
    ),
    pytest.param(
        "a=1; SameSite=Lax; Secure",
        E("https://lab.test/", site="cross-site", dest="image"),
        "SameSiteLax",
        id="image",
    ),
    pytest.param(
        "a=1; SameSite=None; Secure; Partitioned", X_IFRAME, None, id="partitioned None"
    ),
    pytest.param(
        "a=1; SameSite=Lax; Secure",
        E("https://lab.test/", site="cross-site", dest="document"),
        None,
        id="top-level navigation",
    ),
    pytest.param(
        "a=1; SameSite=Lax; Secure",
        E("https://lab.test/", site="same-site", dest="iframe"),
        None,
        id="same-site",
    ),
    pytest.param(
        "a=1; SameSite=Lax; Secure",
        E("https://lab.test/", site="same-origin", dest="empty"),
        None,
        id="same-origin",
    ),
    pytest.param(
        "a=1; SameSite=Lax; Secure",
        E("https://lab.test/", site="none", dest="document"),
        None,
        id="user-initiated",
    ),
    pytest.param("a=1; SameSite=Lax; Secure", HTTPS, None, id="no Sec-Fetch-*"),
]

CROSS_SITE_TOKENS = (
    "SameSiteLax",
    "SameSiteStrict",
    "SameSiteUnspecifiedTreatedAsLax",
    "UserPreferences",
)


@pytest.mark.parametrize(("header", "e", "token"), CROSS_SITE_SET)
def test_cross_site_set(header: str, e: Request, token: str | None) -> None:
    out, found = run([header], e, FIX)
    assert out == [header]
    mine = [(f, b) for f, b in found if f.rule == "cross-site-set"]
    if token is None:
        assert mine == []
        return
    assert len(mine) == 1
    finding, browsers = mine[0]
    assert (finding.severity, finding.cookie, finding.fixed) == (WARNING, "a", False)
    assert token in finding.message
    for other in CROSS_SITE_TOKENS:
        if other != token:
            assert other not in finding.message
    assert browsers["chromium"] == (DROPPED, token)
    assert browsers["firefox"] == (DROPPED, "RejectedForNonSameSiteness")
    assert "Partitioned" in finding.message  # the suggested remedy


@pytest.mark.parametrize(
    ("header", "settings", "sent", "token"),
    [
        pytest.param(
            "a=1; Secure",
            Settings(samesite="strict"),
            "a=1; Secure; SameSite=Strict",
            "SameSiteStrict",
            id="Strict added",
        ),
        pytest.param(
            "a=1; Secure; SameSite=bogus",
            Settings(samesite="lax"),
            "a=1; Secure; SameSite=Lax",
            "SameSiteLax",
            id="Lax replaced",
        ),
        pytest.param(
            "a=1; Secure",
            Settings(samesite="none"),
            "a=1; Secure; SameSite=None",
            "UserPreferences",
            id="None added",
        ),
        pytest.param(
            "a=1; Secure; Partitioned",
            Settings(samesite="none"),
            "a=1; Secure; Partitioned; SameSite=None",
            None,
            id="None added to a partitioned cookie",
        ),
        pytest.param(
            "a=1; Secure",
            Settings(policy="report", samesite="strict"),
            "a=1; Secure",
            "SameSiteUnspecifiedTreatedAsLax",
            id="report mode: as written",
        ),
    ],
)
def test_cross_site_set_judges_the_cookie_as_sent(
    header: str, settings: Settings, sent: str, token: str | None
) -> None:
    """CONTRACT.md 7: the token "that applies" is the one for the SameSite
    the browser gets, which cookie_samesite may have added."""
    out, found = run([header], X_IFRAME, settings)
    assert out == [sent]
    mine = [(f, b) for f, b in found if f.rule == "cross-site-set"]
    if token is None:
        assert mine == []
        return
    [(finding, browsers)] = mine
    assert f"(Chromium: {token})" in finding.message
    assert browsers["chromium"] == (DROPPED, token)


# -- secure-prefix --------------------------------------------------------------

SECURE_PREFIX = [
    # RFC 6265bis 5.7: a nameless cookie whose value begins with a prefix
    # is ignored (Chromium 156 measured: dropped, InvalidPrefix); nothing
    # wsgifix may change helps.
    pytest.param(
        "=__Secure-x; Secure", HTTPS, FIX, ERROR, False, SAME, id="nameless value"
    ),
    pytest.param(
        "__secure-x; Secure", LOCALHOST, FIX, ERROR, False, SAME, id="no =, lower"
    ),
    pytest.param("=x__Secure-; Secure", HTTPS, FIX, None, None, SAME, id="not first"),
    # Chromium SecureCookiePrefix / RFC 6265bis 4.1.3.1: __Secure- needs
    # Secure; prefixes match in any case (CONTRACT.md 7, 6265bis).
    pytest.param(
        "__Secure-a=1", HTTPS, FIX, ERROR, True, "__Secure-a=1; Secure", id="https: add"
    ),
    pytest.param(
        "__secure-a=1", HTTPS, FIX, ERROR, True, "__secure-a=1; Secure", id="lower case"
    ),
    pytest.param(
        "__SECURE-a=1", HTTPS, FIX, ERROR, True, "__SECURE-a=1; Secure", id="upper case"
    ),
    pytest.param("__Secure-a=1", HTTP, FIX, ERROR, False, SAME, id="http: no fix"),
    # "__Secure- cookie can't be set on a non-secure origin" (Chromium).
    pytest.param(
        "__Secure-a=1; Secure", HTTP, FIX, ERROR, False, SAME, id="Secure over http"
    ),
    # CONTRACT.md 7: __Secure- without Secure stays an error on localhost
    # (and localhost is trustworthy, so Secure is added) ...
    pytest.param(
        "__Secure-a=1",
        LOCALHOST,
        FIX,
        ERROR,
        True,
        "__Secure-a=1; Secure",
        id="localhost: add Secure",
    ),
    # ... while one that has Secure is info there, naming Safari.
    pytest.param("__Secure-a=1; Secure", LOCALHOST, FIX, INFO, False, SAME, id="local"),
    pytest.param(
        "__Secure-a=1; Secure", LOOPBACK4, FIX, INFO, False, SAME, id="127.0.0.1"
    ),
    pytest.param("__Secure-a=1", HTTPS, KEEP_SECURE, ERROR, False, SAME, id="keep"),
    pytest.param("__Secure-a=1", HTTPS, REPORT, ERROR, False, SAME, id="report"),
    pytest.param("__Secure-a=1; Secure", HTTPS, FIX, None, None, SAME, id="valid"),
    # Chromium: "Rules don't apply for a typoed prefix".
    pytest.param(
        "__SecureA=1", HTTPS, FIX, None, None, "__SecureA=1; Secure", id="typo"
    ),
    pytest.param("_Secure-a=1", HTTP, FIX, None, None, SAME, id="one underscore"),
    pytest.param("a__Secure-=1", HTTP, FIX, None, None, SAME, id="not at the start"),
]


@pytest.mark.parametrize(ROW, SECURE_PREFIX)
def test_secure_prefix(
    header: str, e: Request, s: Settings, severity: Any, fixed: Any, out: str
) -> None:
    finding = check("secure-prefix", header, e, s, severity, fixed, out)
    if finding is not None and finding.severity == INFO:
        assert "Safari" in finding.message


# -- host-prefix ----------------------------------------------------------------

HOST_PREFIX = [
    # RFC 6265bis 5.7, as above (the GHSA-px8h-6qxv-m22q header).
    pytest.param(
        "=__Host-x=y; Secure; Path=/", HTTPS, FIX, ERROR, False, SAME, id="nameless"
    ),
    pytest.param(
        "__HOST-x; Secure; Path=/", HTTPS, FIX, ERROR, False, SAME, id="no =, upper"
    ),
    # Chromium HostCookiePrefix / RFC 6265bis 4.1.3.2: Secure, no Domain,
    # Path=/. CONTRACT.md 7: add Path=/ (when missing) and Secure wherever
    # possible, additions in the order Path, Secure.
    pytest.param(
        "__Host-a=1", HTTPS, FIX, ERROR, True, "__Host-a=1; Path=/; Secure", id="both"
    ),
    pytest.param(
        "__Host-a=1; Secure",
        HTTPS,
        FIX,
        ERROR,
        True,
        "__Host-a=1; Secure; Path=/",
        id="Path added",
    ),
    pytest.param(
        "__Host-a=1; Path=/",
        HTTPS,
        FIX,
        ERROR,
        True,
        "__Host-a=1; Path=/; Secure",
        id="Secure",
    ),
    pytest.param(
        "__host-a=1; Path=/",
        HTTPS,
        FIX,
        ERROR,
        True,
        "__host-a=1; Path=/; Secure",
        id="any case",
    ),
    # "an existing other Path, an empty Path=, or a Domain is reported,
    # not changed"; the fix leaves the error, so fixed is False.
    pytest.param(
        "__Host-a=1; Path=/foo; Secure", HTTPS, FIX, ERROR, False, SAME, id="/foo"
    ),
    pytest.param(
        "__Host-a=1; Path=/foo",
        HTTPS,
        FIX,
        ERROR,
        False,
        "__Host-a=1; Path=/foo; Secure",
        id="/foo, Secure still added",
    ),
    pytest.param(
        "__Host-a=1; Path=; Secure", HTTPS, FIX, ERROR, False, SAME, id="Path="
    ),
    pytest.param(
        "__Host-a=1; Domain=lab.test; Path=/; Secure",
        HTTPS,
        FIX,
        ERROR,
        False,
        SAME,
        id="Domain",
    ),
    pytest.param(
        "__Host-a=1; Domain=lab.test",
        HTTPS,
        FIX,
        ERROR,
        False,
        "__Host-a=1; Domain=lab.test; Path=/; Secure",
        id="Domain kept, the rest added",
    ),
    # Not trustworthy: Path=/ only; the error stays.
    pytest.param(
        "__Host-a=1", HTTP, FIX, ERROR, False, "__Host-a=1; Path=/", id="http"
    ),
    pytest.param(
        "__Host-a=1",
        LOCALHOST,
        FIX,
        ERROR,
        True,
        "__Host-a=1; Path=/; Secure",
        id="localhost",
    ),
    # cookie_secure=keep blocks Secure but not Path=/ ("wherever it can").
    pytest.param(
        "__Host-a=1", HTTPS, KEEP_SECURE, ERROR, False, "__Host-a=1; Path=/", id="keep"
    ),
    pytest.param("__Host-a=1", HTTPS, REPORT, ERROR, False, SAME, id="report"),
    # The fix is always Path=/ for __Host- (not SCRIPT_NAME, not the
    # default-path), also under cookie_path=scope.
    pytest.param(
        "__Host-a=1; Secure",
        HTTPS_DIR,
        FIX,
        ERROR,
        True,
        "__Host-a=1; Secure; Path=/",
        id="sub-path request",
    ),
    pytest.param(
        "__Host-a=1",
        MOUNT_HTTPS,
        SCOPE,
        ERROR,
        True,
        "__Host-a=1; Path=/; Secure",
        id="mounted, scope",
    ),
    # CONTRACT.md 7 Secure order: host-prefix reports the missing Secure.
    pytest.param(
        "__Host-a=1; SameSite=None; Partitioned",
        HTTPS,
        FIX,
        ERROR,
        True,
        "__Host-a=1; SameSite=None; Partitioned; Path=/; Secure",
        id="also SameSite=None, Partitioned",
    ),
    pytest.param(
        "__Host-a=1; Secure; Path=/", HTTPS, FIX, None, None, SAME, id="valid"
    ),
    pytest.param(
        "__HOST-a=1; secure; path=/", HTTPS, FIX, None, None, SAME, id="valid case"
    ),
    # cookie_path=scope exempts __Host- cookies (CONTRACT.md section 2).
    pytest.param(
        "__Host-a=1; Path=/; Secure",
        MOUNT_HTTPS,
        SCOPE,
        None,
        None,
        SAME,
        id="scope exempt",
    ),
    # Chromium: "Rules don't apply for a typoed prefix".
    pytest.param("__HostA=1; Domain=lab.test", HTTP, FIX, None, None, SAME, id="typo"),
    # Secure, Path=/ and no Domain: host-prefix is satisfied; the http
    # origin is secure-over-http's business (code's choice).
    pytest.param("__Host-a=1; Secure; Path=/", HTTP, FIX, None, None, SAME, id="http"),
    pytest.param(
        "__Host-a=1; Secure; Path=/",
        LOCALHOST,
        FIX,
        None,
        None,
        SAME,
        id="localhost ok",
    ),
]


@pytest.mark.parametrize(ROW, HOST_PREFIX)
def test_host_prefix(
    header: str, e: Request, s: Settings, severity: Any, fixed: Any, out: str
) -> None:
    check("host-prefix", header, e, s, severity, fixed, out)


# -- missing-path ---------------------------------------------------------------

MISSING_PATH = [
    # RFC 6265bis 5.1.4: no Path -> the directory of the request path.
    pytest.param("a=1", HTTP_DIR, FIX, WARNING, True, "a=1; Path=/", id="added"),
    pytest.param(
        "a=1; HttpOnly",
        HTTP_DIR,
        FIX,
        WARNING,
        True,
        "a=1; HttpOnly; Path=/",
        id="appended",
    ),
    # COOKIE_RULES.md: "add Path= SCRIPT_NAME or /".
    pytest.param("a=1", MOUNT, FIX, WARNING, True, "a=1; Path=/app", id="SCRIPT_NAME"),
    pytest.param(
        "a=1",
        E("http://lab.test/app/x/y", script="/app"),
        FIX,
        WARNING,
        True,
        "a=1; Path=/app",
        id="deeper under the mount",
    ),
    pytest.param("a=1", MOUNT, SCOPE, WARNING, True, "a=1; Path=/app", id="scope"),
    pytest.param(
        "a=1", HTTPS_DIR, FIX, WARNING, True, "a=1; Path=/; Secure", id="https"
    ),
    pytest.param("a=1", HTTP_DIR, REPORT, WARNING, False, SAME, id="report"),
    pytest.param("a=1", HTTP, FIX, None, None, SAME, id="request to /"),
    pytest.param("a=1", E("http://lab.test/login"), FIX, None, None, SAME, id="/login"),
    pytest.param("a=1; Path=/", HTTP_DIR, FIX, None, None, SAME, id="has Path"),
    pytest.param("a=1; Path=/account", HTTP_DIR, FIX, None, None, SAME, id="own Path"),
    # SCRIPT_NAME=/app, PATH_INFO="" -> default-path "/": nothing to report;
    # cookie_path=scope still gives it Path=SCRIPT_NAME (CONTRACT.md 7).
    pytest.param("a=1", MOUNT_ROOT, FIX, None, None, SAME, id="mount root, keep"),
    pytest.param(
        "a=1", MOUNT_ROOT, SCOPE, None, None, "a=1; Path=/app", id="mount root, scope"
    ),
    pytest.param(
        "__Host-a=1; Secure",
        HTTPS_DIR,
        FIX,
        None,
        None,
        "__Host-a=1; Secure; Path=/",
        id="__Host-",
    ),
    pytest.param(
        "a=1; Path=", HTTP_DIR, FIX, None, None, SAME, id="empty: path-invalid"
    ),
]


@pytest.mark.parametrize(ROW, MISSING_PATH)
def test_missing_path(
    header: str, e: Request, s: Settings, severity: Any, fixed: Any, out: str
) -> None:
    check("missing-path", header, e, s, severity, fixed, out)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        # RFC 6265bis 5.1.4 default-path.
        pytest.param("/", "/", id="root"),
        pytest.param("/login", "/", id="one segment"),
        pytest.param("/account/login", "/account", id="two segments"),
        pytest.param("/account/", "/account", id="trailing slash"),
        pytest.param("/a/b/c", "/a/b", id="three segments"),
        pytest.param("", "/", id="empty"),
        pytest.param("login", "/", id="relative"),
    ],
)
def test_default_path(path: str, expected: str) -> None:
    assert default_path(path) == expected


# -- path-invalid ---------------------------------------------------------------

PATH_INVALID = [
    # RFC 6265bis 5.6.4: an empty Path or one not starting with "/" is
    # replaced by the default-path; CONTRACT.md 7: present but empty or
    # relative. No fix (COOKIE_RULES.md "-").
    pytest.param("a=1; Path=", HTTP_DIR, FIX, WARNING, False, SAME, id="empty"),
    pytest.param("a=1; Path", HTTP_DIR, FIX, WARNING, False, SAME, id="flag"),
    pytest.param("a=1; Path= ", HTTP_DIR, FIX, WARNING, False, SAME, id="blank"),
    pytest.param(
        "a=1; Path=account", HTTP_DIR, FIX, WARNING, False, SAME, id="relative"
    ),
    pytest.param("a=1; Path=./x", HTTP, FIX, WARNING, False, SAME, id="dot-relative"),
    pytest.param("a=1; Path=%2Fx", HTTP, FIX, WARNING, False, SAME, id="encoded slash"),
    # CONTRACT.md 2: cookie_path=scope gives every cookie whose Path does
    # not lie under SCRIPT_NAME Path=SCRIPT_NAME; an invalid one too.
    pytest.param(
        "a=1; Path=rel", MOUNT, SCOPE, WARNING, True, "a=1; Path=/app", id="scope"
    ),
    pytest.param(
        "a=1; Path=",
        MOUNT_ROOT,
        SCOPE,
        WARNING,
        True,
        "a=1; Path=/app",
        id="scope, empty",
    ),
    pytest.param("a=1; Path=", HTTP, REPORT, WARNING, False, SAME, id="report"),
    pytest.param("a=1; Path=/", HTTP, FIX, None, None, SAME, id="root"),
    pytest.param("a=1; Path=/a/b/", HTTP, FIX, None, None, SAME, id="absolute"),
    pytest.param("a=1", HTTP_DIR, FIX, None, None, "a=1; Path=/", id="missing"),
]


@pytest.mark.parametrize(ROW, PATH_INVALID)
def test_path_invalid(
    header: str, e: Request, s: Settings, severity: Any, fixed: Any, out: str
) -> None:
    check("path-invalid", header, e, s, severity, fixed, out)


@given(path=st.text(alphabet=st.characters(max_codepoint=0xFF), max_size=40))
def test_url_path_is_the_path_as_browsers_send_it(path: str) -> None:
    """A decoded WSGI path (latin-1 text) percent-encoded where browsers
    encode: printable ASCII out, the same octets back when decoded."""
    from urllib.parse import unquote_to_bytes

    from wsgifix.rules import url_path

    sent = url_path(path)
    assert sent.isascii()
    assert sent.isprintable()
    assert not set(sent) & set(' "#<>?`{}\\')
    assert unquote_to_bytes(sent) == path.encode("latin-1")
    if path.isascii() and path.isprintable() and not set(path) & set(' "#<>?`{}%\\'):
        assert sent is path


@pytest.mark.parametrize(
    ("script", "header", "sent", "rules"),
    [
        pytest.param(
            "/caf\xc3\xa9",  # /café as WSGI gives it: UTF-8 octets as latin-1
            "a=1",
            "a=1; Path=/caf%C3%A9",
            ["missing-path"],
            id="missing Path: the mount as the browser sends it",
        ),
        pytest.param(
            "/my app", "a=1", "a=1; Path=/my%20app", ["missing-path"], id="space"
        ),
        pytest.param(
            "/caf\xc3\xa9",
            "a=1; Path=/caf%C3%A9/x",
            "a=1; Path=/caf%C3%A9/x",
            [],
            id="an encoded Path under the mount",
        ),
        pytest.param(
            "/caf\xc3\xa9",
            "a=1; Path=/other",
            "a=1; Path=/caf%C3%A9",
            ["path-outside-mount"],
            id="scope",
        ),
    ],
)
def test_paths_are_compared_as_browsers_send_them(
    script: str, header: str, sent: str, rules: list[str]
) -> None:
    """Browsers compare a cookie's Path with the URL's path as they sent
    it, percent-encoded; the WSGI environ holds it decoded."""
    e = effective_request(
        {
            "wsgi.url_scheme": "http",
            "HTTP_HOST": "lab.test",
            "SCRIPT_NAME": script,
            "PATH_INFO": "/x/login",
        }
    )
    out, found = run([header], e, FIX._replace(path="scope"))
    assert out == [sent]
    assert [f.rule for f, _ in found if f.rule.startswith("path")] + [
        f.rule for f, _ in found if f.rule == "missing-path"
    ] == rules


# -- path-outside-mount ---------------------------------------------------------

PATH_OUTSIDE_MOUNT = [
    # CONTRACT.md 7: SCRIPT_NAME not empty and Path neither covers it nor
    # lies under it (on a segment boundary).
    pytest.param("a=1; Path=/other", MOUNT, FIX, WARNING, False, SAME, id="keep"),
    pytest.param(
        "a=1; Path=/other", MOUNT, SCOPE, WARNING, True, "a=1; Path=/app", id="scope"
    ),
    pytest.param(
        "a=1; Path=/appx", MOUNT, SCOPE, WARNING, True, "a=1; Path=/app", id="/appx"
    ),
    pytest.param(
        "a=1; path=/other; HttpOnly",
        MOUNT,
        SCOPE,
        WARNING,
        True,
        "a=1; path=/app; HttpOnly",
        id="spelling kept",
    ),
    pytest.param(
        "a=1; Path=/ap", MOUNT, FIX, WARNING, False, SAME, id="/ap is no cover"
    ),
    pytest.param(
        "a=1; Path=/a/c",
        E("http://lab.test/a/b/x", script="/a/b"),
        FIX,
        WARNING,
        False,
        SAME,
        id="sibling of a deep mount",
    ),
    pytest.param(
        "a=1; Path=/other",
        MOUNT,
        Settings(policy="report", path="scope"),
        WARNING,
        False,
        SAME,
        id="report",
    ),
    # Covering the mount: no finding; scope moves it under SCRIPT_NAME
    # without a finding (CONTRACT.md section 2).
    pytest.param("a=1; Path=/", MOUNT, FIX, None, None, SAME, id="/ covers, keep"),
    pytest.param(
        "a=1; Path=/", MOUNT, SCOPE, None, None, "a=1; Path=/app", id="/ covers, scope"
    ),
    pytest.param("a=1; Path=/app", MOUNT, SCOPE, None, None, SAME, id="the mount"),
    pytest.param("a=1; Path=/app/", MOUNT, SCOPE, None, None, SAME, id="the mount + /"),
    pytest.param("a=1; Path=/app/x", MOUNT, SCOPE, None, None, SAME, id="under"),
    pytest.param(
        "a=1; Path=/a",
        E("http://lab.test/a/b/x", script="/a/b"),
        SCOPE,
        None,
        None,
        "a=1; Path=/a/b",
        id="parent covers, scope",
    ),
    pytest.param(
        "a=1; Path=/other", HTTP, SCOPE, None, None, SAME, id="no SCRIPT_NAME"
    ),
    pytest.param(
        "__Host-a=1; Path=/; Secure",
        MOUNT_HTTPS,
        SCOPE,
        None,
        None,
        SAME,
        id="__Host- exempt",
    ),
]


@pytest.mark.parametrize(ROW, PATH_OUTSIDE_MOUNT)
def test_path_outside_mount(
    header: str, e: Request, s: Settings, severity: Any, fixed: Any, out: str
) -> None:
    check("path-outside-mount", header, e, s, severity, fixed, out)


# -- lifetime-capped ------------------------------------------------------------

FAR = "Fri, 01 Jan 2100 00:00:00 GMT"

LIFETIME_CAPPED = [
    # RFC 6265bis 5.6.1/5.6.2: capped at 400 days (34560000 seconds).
    pytest.param(
        "a=1; Max-Age=34560001", HTTP, FIX, INFO, False, SAME, id="400 days + 1s"
    ),
    pytest.param("a=1; Max-Age=" + "9" * 30, HTTP, FIX, INFO, False, SAME, id="huge"),
    pytest.param(
        f"a=1; Expires={FAR}", HTTP, FIX, INFO, False, SAME, id="Expires 2100"
    ),
    pytest.param("a=1; Max-Age=34560001", HTTP, REPORT, INFO, False, SAME, id="report"),
    pytest.param("a=1; Max-Age=34560000", HTTP, FIX, None, None, SAME, id="400 days"),
    pytest.param("a=1; Max-Age=3600", HTTP, FIX, None, None, SAME, id="an hour"),
    # RFC 6265bis 5.7: Max-Age wins over Expires.
    pytest.param(
        f"a=1; Max-Age=60; Expires={FAR}",
        HTTP,
        FIX,
        None,
        None,
        SAME,
        id="Max-Age wins",
    ),
    # RFC 6265bis 5.6.2: an invalid Max-Age is ignored, so Expires counts.
    pytest.param(
        f"a=1; Max-Age=junk; Expires={FAR}",
        HTTP,
        FIX,
        INFO,
        False,
        SAME,
        id="invalid Max-Age: Expires counts",
    ),
    pytest.param(
        f"a=1; Expires={FAR}; Max-Age=",
        HTTP,
        FIX,
        INFO,
        False,
        SAME,
        id="empty Max-Age: Expires counts",
    ),
    pytest.param(
        f"a=1; Max-Age=junk; Expires={PAST}",
        HTTP,
        FIX,
        None,
        None,
        SAME,
        id="invalid Max-Age, past Expires",
    ),
    pytest.param(f"a=1; Expires={PAST}", HTTP, FIX, None, None, SAME, id="past"),
    pytest.param("a=1", HTTP, FIX, None, None, SAME, id="session cookie"),
]


@pytest.mark.parametrize(ROW, LIFETIME_CAPPED)
def test_lifetime_capped(
    header: str, e: Request, s: Settings, severity: Any, fixed: Any, out: str
) -> None:
    check("lifetime-capped", header, e, s, severity, fixed, out)


# -- max-age-invalid ------------------------------------------------------------

MAX_AGE_INVALID = [
    # RFC 6265bis 5.6.2: "-"? DIGIT+ else ignore the attribute.
    pytest.param("a=1; Max-Age=+5", HTTP, FIX, WARNING, False, SAME, id="+5"),
    pytest.param("a=1; Max-Age=abc", HTTP, FIX, WARNING, False, SAME, id="letters"),
    pytest.param("a=1; Max-Age=5s", HTTP, FIX, WARNING, False, SAME, id="unit"),
    pytest.param("a=1; Max-Age=", HTTP, FIX, WARNING, False, SAME, id="empty"),
    pytest.param("a=1; Max-Age", HTTP, FIX, WARNING, False, SAME, id="flag"),
    pytest.param("a=1; Max-Age=1.5", HTTP, FIX, WARNING, False, SAME, id="decimal"),
    pytest.param("a=1; Max-Age=--1", HTTP, FIX, WARNING, False, SAME, id="two minus"),
    pytest.param(
        "a=1; Max-Age=\xb2", HTTP, FIX, WARNING, False, SAME, id="superscript 2"
    ),
    pytest.param(
        "a=1; Max-Age=5; Max-Age=x",
        HTTP,
        FIX,
        WARNING,
        False,
        "a=1; Max-Age=x",  # duplicate-attr removed the earlier one
        id="last wins",
    ),
    pytest.param("a=1; Max-Age=x", HTTP, REPORT, WARNING, False, SAME, id="report"),
    pytest.param("a=1; Max-Age=0", HTTP, FIX, None, None, SAME, id="0"),
    pytest.param("a=1; Max-Age=-1", HTTP, FIX, None, None, SAME, id="-1"),
    pytest.param("a=1; Max-Age=007", HTTP, FIX, None, None, SAME, id="leading zeros"),
    pytest.param(
        "a=1; Max-Age=x; Max-Age=5",
        HTTP,
        FIX,
        None,
        None,
        "a=1; Max-Age=5",
        id="valid last",
    ),
]


@pytest.mark.parametrize(ROW, MAX_AGE_INVALID)
def test_max_age_invalid(
    header: str, e: Request, s: Settings, severity: Any, fixed: Any, out: str
) -> None:
    check("max-age-invalid", header, e, s, severity, fixed, out)


# -- expires-invalid ------------------------------------------------------------

EXPIRES_INVALID = [
    # RFC 6265bis 5.1.1: no time, day, month or year -> not a date.
    pytest.param("a=1; Expires=tomorrow", HTTP, FIX, WARNING, False, SAME, id="word"),
    pytest.param("a=1; Expires=", HTTP, FIX, WARNING, False, SAME, id="empty"),
    pytest.param("a=1; Expires=2030-01-01", HTTP, FIX, WARNING, False, SAME, id="ISO"),
    pytest.param(
        "a=1; Expires=Wed, 31 Apr 2030 10:00:00 GMT",
        HTTP,
        FIX,
        WARNING,
        False,
        SAME,
        id="31 April",
    ),
    pytest.param(
        "a=1; Expires=Wed, 09 Jun 1600 10:18:14 GMT",
        HTTP,
        FIX,
        WARNING,
        False,
        SAME,
        id="1600",
    ),
    pytest.param(
        "a=1; Expires=Wed, 09 Jun 2030 25:00:00 GMT",
        HTTP,
        FIX,
        WARNING,
        False,
        SAME,
        id="25h",
    ),
    pytest.param("a=1; Expires=x", HTTP, REPORT, WARNING, False, SAME, id="report"),
    # COOKIE_RULES.md "Dates": forms email.utils rejects are valid.
    pytest.param(
        "a=1; Expires=Wed, 09-Jun-2021 10:18:14 GMT",
        HTTP,
        FIX,
        None,
        None,
        SAME,
        id="dashes",
    ),
    pytest.param(
        "a=1; Expires=Wed, 09 Jun 2021 10:18:14 GMT",
        HTTP,
        FIX,
        None,
        None,
        SAME,
        id="IMF",
    ),
    pytest.param(
        "a=1; Expires=Thu Apr 18 2007 22:50:12",
        HTTP,
        FIX,
        None,
        None,
        SAME,
        id="asctime-like",
    ),
    pytest.param(
        "a=1; Expires=Sun, 06 Nov 94 08:49:37 GMT",
        HTTP,
        FIX,
        None,
        None,
        SAME,
        id="2-digit year",
    ),
    # 6265bis 5.6.2: an invalid Max-Age is ignored, so browsers read
    # Expires (and both findings are reported).
    pytest.param(
        "a=1; Max-Age=junk; Expires=junk",
        HTTP,
        FIX,
        WARNING,
        False,
        SAME,
        id="invalid Max-Age too",
    ),
    pytest.param(
        "a=1; Expires=junk; Max-Age=+5",
        HTTP,
        FIX,
        WARNING,
        False,
        SAME,
        id="Max-Age=+5 (Chromium reads it)",
    ),
    # 6265bis 5.7: with a valid Max-Age, Expires is not used (code's
    # choice: not reported).
    pytest.param(
        "a=1; Max-Age=60; Expires=garbage",
        HTTP,
        FIX,
        None,
        None,
        SAME,
        id="Max-Age present",
    ),
]


@pytest.mark.parametrize(ROW, EXPIRES_INVALID)
def test_expires_invalid(
    header: str, e: Request, s: Settings, severity: Any, fixed: Any, out: str
) -> None:
    check("expires-invalid", header, e, s, severity, fixed, out)


# -- partitioned-insecure -------------------------------------------------------

PARTITIONED_INSECURE = [
    # CHIPS (draft-cutler-httpbis-partitioned-cookies): Partitioned
    # requires Secure.
    pytest.param("a=1; Partitioned", HTTP, FIX, ERROR, False, SAME, id="http"),
    pytest.param(
        "a=1; Partitioned",
        HTTPS,
        FIX,
        ERROR,
        True,
        "a=1; Partitioned; Secure",
        id="https",
    ),
    pytest.param(
        "a=1; partitioned",
        LOCALHOST,
        FIX,
        ERROR,
        True,
        "a=1; partitioned; Secure",
        id="local",
    ),
    pytest.param("a=1; Partitioned", HTTPS, KEEP_SECURE, ERROR, False, SAME, id="keep"),
    pytest.param("a=1; Partitioned", HTTPS, REPORT, ERROR, False, SAME, id="report"),
    pytest.param("a=1; Partitioned; Secure", HTTPS, FIX, None, None, SAME, id="valid"),
    pytest.param(
        "a=1; partitioned; secure", HTTPS, FIX, None, None, SAME, id="valid case"
    ),
    # CONTRACT.md 7 Secure order: samesite-none-insecure comes first.
    pytest.param(
        "a=1; SameSite=None; Partitioned",
        HTTPS,
        FIX,
        None,
        None,
        "a=1; SameSite=None; Partitioned; Secure",
        id="samesite-none-insecure first",
    ),
]


@pytest.mark.parametrize(ROW, PARTITIONED_INSECURE)
def test_partitioned_insecure(
    header: str, e: Request, s: Settings, severity: Any, fixed: Any, out: str
) -> None:
    check("partitioned-insecure", header, e, s, severity, fixed, out)


# -- duplicate-attr -------------------------------------------------------------

DUPLICATE_ATTR = [
    # RFC 6265bis 5.6: the last occurrence wins; the fix removes the
    # earlier ones (each with its ";").
    pytest.param(
        "a=1; Path=/a; Path=/b", HTTP, FIX, INFO, True, "a=1; Path=/b", id="Path twice"
    ),
    pytest.param(
        "a=1; path=/a; Path=/b; HttpOnly",
        HTTP,
        FIX,
        INFO,
        True,
        "a=1; Path=/b; HttpOnly",
        id="any case",
    ),
    pytest.param(
        "a=1; Secure; Secure", HTTPS, FIX, INFO, True, "a=1; Secure", id="flag"
    ),
    pytest.param(
        "a=1; Max-Age=1; max-age=2",
        HTTP,
        FIX,
        INFO,
        True,
        "a=1; max-age=2",
        id="Max-Age",
    ),
    pytest.param(
        "a=1; Priority=High; priority=Low",
        HTTP,
        FIX,
        INFO,
        True,
        "a=1; priority=Low",
        id="unknown attribute",
    ),
    pytest.param(
        "a=1; Path=/a; Secure; Path=/b; Secure",
        HTTPS,
        FIX,
        INFO,
        True,
        "a=1; Path=/b; Secure",
        id="two names, one finding",
    ),
    pytest.param(
        "a=1; Domain=x.test; Domain=lab.test",
        HTTP,
        FIX,
        INFO,
        True,
        "a=1; Domain=lab.test",
        id="Domain, auto",
    ),
    # CONTRACT.md 7: cookie_domain=keep blocks every Domain edit.
    pytest.param(
        "a=1; Domain=x.test; Domain=lab.test",
        HTTP,
        KEEP_DOMAIN,
        INFO,
        False,
        SAME,
        id="Domain, keep",
    ),
    # CONTRACT.md 7, host-prefix: a __Host- cookie's Domain is reported,
    # not changed; its other repeats are still removed.
    pytest.param(
        "__Host-a=1; Secure; Secure; Path=/; Domain=x.test; Domain=lab.test",
        HTTPS,
        FIX,
        INFO,
        False,
        "__Host-a=1; Secure; Path=/; Domain=x.test; Domain=lab.test",
        id="__Host-: Domain repeats kept",
    ),
    pytest.param("a=1; Path=/a; Path=/b", HTTP, REPORT, INFO, False, SAME, id="report"),
    pytest.param("a=1; Path=/", HTTP, FIX, None, None, SAME, id="once"),
    pytest.param("a=1;;", HTTP, FIX, None, None, SAME, id="empty attributes"),
    # A too-long occurrence is ignored by browsers, so it does not count.
    pytest.param(
        "a=1; Path=/a; Path=/" + "x" * 1024, HTTP, FIX, None, None, SAME, id="too long"
    ),
]


@pytest.mark.parametrize(ROW, DUPLICATE_ATTR)
def test_duplicate_attr(
    header: str, e: Request, s: Settings, severity: Any, fixed: Any, out: str
) -> None:
    check("duplicate-attr", header, e, s, severity, fixed, out)


# -- httponly-missing -----------------------------------------------------------

HO = Settings(httponly=frozenset({"session"}))

HTTPONLY_MISSING = [
    # CONTRACT.md section 2 cookie_httponly; "Fix bytes" order.
    pytest.param("session=1", HTTP, HO, INFO, True, "session=1; HttpOnly", id="added"),
    pytest.param(
        "session=1; Path=/; SameSite=Lax",
        HTTP,
        HO,
        INFO,
        True,
        "session=1; Path=/; SameSite=Lax; HttpOnly",
        id="appended",
    ),
    pytest.param(
        "session=1",
        HTTPS,
        HO,
        INFO,
        True,
        "session=1; Secure; HttpOnly",
        id="after Secure",
    ),
    pytest.param(
        "session=1",
        HTTPS_DIR,
        Settings(httponly=frozenset({"session"}), samesite="lax"),
        INFO,
        True,
        "session=1; Path=/; Secure; HttpOnly; SameSite=Lax",
        id="order Path, Secure, HttpOnly, SameSite",
    ),
    pytest.param(
        "session=1",
        HTTP,
        Settings(policy="report", httponly=frozenset({"session"})),
        INFO,
        False,
        SAME,
        id="report",
    ),
    pytest.param("session=1; HttpOnly", HTTP, HO, None, None, SAME, id="has HttpOnly"),
    pytest.param("session=1; httponly", HTTP, HO, None, None, SAME, id="has httponly"),
    pytest.param("other=1", HTTP, HO, None, None, SAME, id="not listed"),
    # Code's choice: cookie names match case-sensitively, as browsers
    # compare them (RFC 6265bis 5.7).
    pytest.param("Session=1", HTTP, HO, None, None, SAME, id="other case"),
    pytest.param("session=1", HTTP, FIX, None, None, SAME, id="empty setting"),
]


@pytest.mark.parametrize(ROW, HTTPONLY_MISSING)
def test_httponly_missing(
    header: str, e: Request, s: Settings, severity: Any, fixed: Any, out: str
) -> None:
    check("httponly-missing", header, e, s, severity, fixed, out)


# -- one cause gives one finding (CONTRACT.md section 7) ------------------------

SECURE_RULES = (
    "host-prefix",
    "secure-prefix",
    "samesite-none-insecure",
    "partitioned-insecure",
    "https-without-secure",
)
DOMAIN_RULES = (
    "domain-invalid",
    "domain-empty",
    "domain-ip",
    "domain-public-suffix",
    "domain-mismatch",
)
LINE_RULES = ("not-latin1", "control-char")

DEDUP = [
    # Secure: host-prefix, secure-prefix, samesite-none-insecure,
    # partitioned-insecure, https-without-secure.
    pytest.param(
        "__Host-a=1; SameSite=None; Partitioned",
        HTTPS,
        SECURE_RULES,
        "host-prefix",
        id="host",
    ),
    pytest.param(
        "__Host-a=1; Partitioned", HTTP, SECURE_RULES, "host-prefix", id="host, http"
    ),
    pytest.param(
        "__Secure-a=1; SameSite=None; Partitioned",
        HTTPS,
        SECURE_RULES,
        "secure-prefix",
        id="secure",
    ),
    pytest.param(
        "a=1; SameSite=None; Partitioned",
        HTTPS,
        SECURE_RULES,
        "samesite-none-insecure",
        id="samesite none",
    ),
    pytest.param(
        "a=1; Partitioned", HTTPS, SECURE_RULES, "partitioned-insecure", id="part"
    ),
    pytest.param("a=1", HTTPS, SECURE_RULES, "https-without-secure", id="https"),
    # Domain: domain-invalid, domain-empty, domain-ip, domain-public-suffix,
    # domain-mismatch.
    pytest.param(
        "a=1; Domain=other.test:80", HTTP, DOMAIN_RULES, "domain-invalid", id="inv"
    ),
    pytest.param(
        "a=1; Domain=co.uk.", HTTP, DOMAIN_RULES, "domain-invalid", id="inv suffix"
    ),
    pytest.param(
        "a=1; Domain=a b", IP_HTTP, DOMAIN_RULES, "domain-invalid", id="inv on IP"
    ),
    pytest.param(
        "a=1; Domain=.", IP_HTTP, DOMAIN_RULES, "domain-empty", id="empty on IP"
    ),
    pytest.param("a=1; Domain=co.uk", IP_HTTP, DOMAIN_RULES, "domain-ip", id="ip"),
    pytest.param(
        "a=1; Domain=herokuapp.com",
        HTTP,
        DOMAIN_RULES,
        "domain-public-suffix",
        id="suffix",
    ),
    pytest.param(
        "a=1; Domain=x.test", HTTP, DOMAIN_RULES, "domain-mismatch", id="mismatch"
    ),
    # CR or LF: not-latin1, not also control-char.
    pytest.param("a=\x01\r\n", HTTP, LINE_RULES, "not-latin1", id="CTL and CRLF"),
    pytest.param("a=\x00\n", HTTP, LINE_RULES, "not-latin1", id="NUL and LF"),
    pytest.param("a=\x00", HTTP, LINE_RULES, "control-char", id="NUL only"),
]


@pytest.mark.parametrize(("header", "e", "group", "rule"), DEDUP)
def test_one_cause_one_finding(
    header: str, e: Request, group: tuple[str, ...], rule: str
) -> None:
    _, found = run([header], e, FIX)
    assert [f.rule for f, _ in found if f.rule in group] == [rule]


def test_secure_prefix_over_http_reports_both_rules() -> None:
    # Code's choice (the dedup orders are about a *missing* Secure): a
    # __Secure- cookie that has Secure but comes over http is reported by
    # secure-prefix (InvalidPrefix) and by secure-over-http (SecureOnly).
    _, found = run(["__Secure-a=1; Secure"], HTTP, FIX)
    assert [(f.rule, f.severity) for f, _ in found if f.severity != INFO] == [
        ("secure-prefix", ERROR),
        ("secure-over-http", ERROR),
    ]


# -- Finding.fixed and Finding.cookie (CONTRACT.md section 7) -------------------

FIXED = [
    # "True when this finding's fix was applied and no error remains on
    # the cookie".
    pytest.param(
        "a=1; Domain=other.test",
        HTTPS,
        {"domain-mismatch": True, "https-without-secure": True},
        id="all fixed",
    ),
    pytest.param(
        "a=; Max-Age=0; Domain=other.test",
        HTTPS,
        {"domain-mismatch": False, "https-without-secure": False},
        id="deletion error left",
    ),
    pytest.param(
        "a=\x01",
        HTTPS,
        {"control-char": False, "https-without-secure": False},
        id="control char left",
    ),
    pytest.param(
        "__Host-a=1; Path=/x",
        HTTPS,
        {"host-prefix": False},
        id="host-prefix partly fixed",
    ),
    pytest.param(
        "a=1; SameSite=None; Domain=co.uk",
        E("http://shop.co.uk/"),
        {"samesite-none-insecure": False, "domain-public-suffix": False},
        id="domain fixed, Secure not possible",
    ),
    pytest.param(
        "a=1; Max-Age=+5; Path=/a; Path=/b",
        HTTP,
        {"max-age-invalid": False, "duplicate-attr": True},
        id="warning without fix",
    ),
    # "fixed" follows the header as sent: a __Host- cookie's Domain stays
    # (CONTRACT.md 7, host-prefix), so its error does, whatever was added.
    pytest.param(
        "__Host-a=1; Secure; Domain=other.test",
        HTTPS,
        {"domain-mismatch": False, "host-prefix": False},
        id="__Host- Domain kept: error left",
    ),
    pytest.param(
        "__Host-a=1; Path=/; Domain=co.uk",
        E("https://shop.co.uk/"),
        {"domain-public-suffix": False, "host-prefix": False},
        id="__Host- Secure added, Domain kept: error left",
    ),
    pytest.param(
        "__Host-a=1",
        HTTPS,
        {"host-prefix": True, "samesite-missing": False},
        id="__Host- made valid",
    ),
    # An error whose cause went with an attribute a fix removed is gone
    # from the cookie as sent: fixed too (not an unfixed error beside
    # fixed findings, which doctor would count as dropped).
    pytest.param(
        "a=1; Path=/a\x01; Path=/",
        HTTPS,
        {"control-char": True, "duplicate-attr": True, "https-without-secure": True},
        id="control char in a repeated attribute removed",
    ),
    pytest.param(
        "a=1\x01; Path=/a; Path=/",
        HTTPS,
        {"control-char": False, "duplicate-attr": False},
        id="control char in the value stays",
    ),
]


@pytest.mark.parametrize(("header", "e", "expected"), FIXED)
def test_fixed_flag(header: str, e: Request, expected: dict[str, bool]) -> None:
    _, found = run([header], e, FIX)
    got = {f.rule: f.fixed for f, _ in found if f.rule in expected}
    assert got == expected


COOKIE_NAMES = [
    pytest.param(["=abc"], "nameless", "", id="empty name"),
    pytest.param(["abc"], "nameless", "", id="no equals sign"),
    pytest.param([" a =1; Secure"], "secure-over-http", "a", id="trimmed name"),
    pytest.param(["a=1"] * 21, "too-many-cookies", None, id="response as a whole"),
]


@pytest.mark.parametrize(("headers", "rule", "cookie"), COOKIE_NAMES)
def test_finding_cookie(headers: list[str], rule: str, cookie: str | None) -> None:
    _, found = run(headers, HTTP, FIX)
    assert [f.cookie for f, _ in found if f.rule == rule] == [cookie]


def test_finding_shape() -> None:
    # CONTRACT.md 7: a NamedTuple with exactly these fields in this order.
    assert Finding._fields == ("rule", "severity", "cookie", "message", "fixed")


# -- the browsers verdicts audit() returns --------------------------------------

BROWSER_VERDICTS = [
    # COOKIE_RULES.md "Browsers and their words".
    pytest.param(
        "a=1; Secure",
        LOCALHOST,
        "secure-over-http",
        {"chromium": STORED, "firefox": STORED, "safari": DROPPED},
        id="Secure over http localhost: Safari only",
    ),
    pytest.param(
        "__Secure-a=1; Secure",
        LOOPBACK4,
        "secure-prefix",
        {"chromium": STORED, "firefox": STORED, "safari": DROPPED},
        id="__Secure- over http 127.0.0.1: Safari only",
    ),
    pytest.param(
        "a=1; Secure",
        HTTP,
        "secure-over-http",
        {
            "chromium": (DROPPED, "SecureOnly"),
            "firefox": (DROPPED, "RejectedSecureButNonHttps"),
            "safari": DROPPED,
        },
        id="Secure over http elsewhere: all",
    ),
    pytest.param(
        "a=1",
        HTTP,
        "samesite-missing",
        {"chromium": PROBLEM, "firefox": STORED, "safari": STORED},
        id="no SameSite: Lax in Chromium only",
    ),
    pytest.param(
        "__Host-a=1; Secure",
        HTTPS,
        "host-prefix",
        {"chromium": (DROPPED, "InvalidPrefix"), "firefox": STORED, "safari": DROPPED},
        id="__Host- without Path on /: Firefox keeps it",
    ),
    pytest.param(
        "__Host-a=1; Secure",
        HTTPS_DIR,
        "host-prefix",
        {
            "chromium": (DROPPED, "InvalidPrefix"),
            "firefox": (DROPPED, "RejectedInvalidPrefix"),
            "safari": DROPPED,
        },
        id="__Host- without Path on a sub-path: all drop",
    ),
    pytest.param(
        "a=b\tc",
        HTTP,
        "control-char",
        {
            "chromium": (DROPPED, "DisallowedCharacter"),
            "firefox": STORED,
            "safari": STORED,
        },
        id="TAB in value: Chromium only",
    ),
    pytest.param(
        "a=b\x01",
        HTTP,
        "control-char",
        {
            "chromium": (DROPPED, "DisallowedCharacter"),
            "firefox": (DROPPED, "RejectedInvalidCharValue"),
            "safari": DROPPED,
        },
        id="CTL: all",
    ),
    pytest.param(
        "a=1; Max-Age=+5",
        HTTP,
        "max-age-invalid",
        {"chromium": STORED, "firefox": PROBLEM, "safari": PROBLEM},
        id="Max-Age=+5 accepted by Chromium",
    ),
    pytest.param(
        "a=1; Max-Age=x",
        HTTP,
        "max-age-invalid",
        {"chromium": PROBLEM, "firefox": PROBLEM, "safari": PROBLEM},
        id="Max-Age=x ignored by all",
    ),
    pytest.param(
        "a=1; Max-Age=+5; Expires=x",
        HTTP,
        "expires-invalid",
        {"chromium": STORED, "firefox": PROBLEM, "safari": PROBLEM},
        id="Expires=x beside Max-Age=+5: Chromium reads the Max-Age",
    ),
    pytest.param(
        "a=1; Domain=.",
        HTTP,
        "domain-empty",
        {"chromium": (DROPPED, "InvalidDomain"), "firefox": PROBLEM, "safari": PROBLEM},
        id="Domain=.: Chromium drops",
    ),
    pytest.param(
        "a=1; Domain=",
        HTTP,
        "domain-empty",
        {"chromium": PROBLEM, "firefox": PROBLEM, "safari": PROBLEM},
        id="Domain=: host-only everywhere",
    ),
    pytest.param(
        "a=1; Domain=x.test",
        HTTP,
        "domain-mismatch",
        {
            "chromium": (DROPPED, "InvalidDomain"),
            "firefox": (DROPPED, "RejectedInvalidDomain"),
            "safari": DROPPED,
        },
        id="mismatch",
    ),
    pytest.param(
        "a=1; SameSite=None",
        HTTP,
        "samesite-none-insecure",
        {
            "chromium": (DROPPED, "SameSiteNoneInsecure"),
            "firefox": (DROPPED, "RejectedNoneRequiresSecure"),
            "safari": DROPPED,
        },
        id="SameSite=None without Secure",
    ),
    pytest.param(
        "a=1; Partitioned",
        HTTP,
        "partitioned-insecure",
        {
            "chromium": (DROPPED, None),
            "firefox": (DROPPED, "RejectedPartitionedRequiresSecure"),
            "safari": DROPPED,
        },
        id="Partitioned without Secure",
    ),
    pytest.param(
        "=",
        HTTP,
        "empty-cookie",
        {
            "chromium": (DROPPED, "NoCookieContent"),
            "firefox": (DROPPED, "RejectedEmptyNameAndValue"),
            "safari": DROPPED,
        },
        id="empty",
    ),
    pytest.param(
        "a=" + "x" * 4096,
        HTTP,
        "too-large",
        {
            "chromium": (DROPPED, "NameValuePairExceedsMaxSize"),
            "firefox": (DROPPED, "RejectedNameValueOversize"),
            "safari": DROPPED,
        },
        id="too large",
    ),
    pytest.param(
        "a=1",
        E("http://lab.test/", cookie="a=0"),
        "overwrite-secure",
        {
            "chromium": (PROBLEM, "OverwriteSecure"),
            "firefox": (PROBLEM, "RejectedNonsecureOverSecure"),
            "safari": PROBLEM,
        },
        id="overwrite-secure",
    ),
]


@pytest.mark.parametrize(("header", "e", "rule", "expected"), BROWSER_VERDICTS)
def test_browsers(header: str, e: Request, rule: str, expected: dict[str, Any]) -> None:
    _, found = run([header], e, FIX)
    [browsers] = [b for f, b in found if f.rule == rule]
    for browser, want in expected.items():
        if isinstance(want, tuple):
            assert browsers[browser] == want, browser
        else:
            assert browsers[browser][0] == want, browser


@pytest.mark.parametrize(("header", "e", "rule", "expected"), BROWSER_VERDICTS)
def test_safari_has_no_reason_name(
    header: str, e: Request, rule: str, expected: dict[str, Any]
) -> None:
    """COOKIE_RULES names the reasons of Chromium and Firefox only: doctor
    and the inspector say "dropped" for Safari, never another's word."""
    _, found = run([header], e, FIX)
    for _, browsers in found:
        assert browsers["safari"][1] is None


# -- fix bytes, report mode, setting gates --------------------------------------

FIX_BYTES = [
    # CONTRACT.md 7 "Fix bytes": appended "; Name=Value" or "; Flag", in
    # the order Path, Secure, HttpOnly, SameSite; removals take their
    # leading ";" and whitespace; replacements keep the app's spelling.
    pytest.param(
        "a=1",
        HTTPS_DIR,
        Settings(samesite="strict", httponly=frozenset({"a"})),
        "a=1; Path=/; Secure; HttpOnly; SameSite=Strict",
        id="four additions in order",
    ),
    pytest.param(
        "a=1; Domain=other.test; Path=/", HTTP, FIX, "a=1; Path=/", id="removal, spaced"
    ),
    pytest.param(
        "a=1;Domain=other.test;Path=/", HTTP, FIX, "a=1;Path=/", id="removal, unspaced"
    ),
    pytest.param(
        "a=1;   Domain=other.test  ;Path=/",
        HTTP,
        FIX,
        "a=1  ;Path=/",
        id="removal takes the whitespace before its ;",
    ),
    pytest.param("a=1; Domain=other.test  ", HTTP, FIX, "a=1", id="removal at the end"),
    pytest.param(
        "a=1; Domain=other.test; Domain=.",
        HTTP,
        FIX,
        "a=1",
        id="every occurrence removed",
    ),
    pytest.param(
        "a=1; DOMAIN=lab.test:8080", HTTP, FIX, "a=1; DOMAIN=lab.test", id="DOMAIN kept"
    ),
    pytest.param(
        "a=1; SAMESITE=bogus", HTTP, STRICT, "a=1; SAMESITE=Strict", id="SAMESITE kept"
    ),
    pytest.param(
        "a=1; SameSite = bogus ; Path=/",
        HTTP,
        LAX,
        "a=1; SameSite = Lax ; Path=/",
        id="whitespace around a replaced value kept",
    ),
    pytest.param(
        "A=B ; Path=/x ; Partitioned ; Priority=High",
        HTTPS,
        FIX,
        "A=B ; Path=/x ; Partitioned ; Priority=High; Secure",
        id="unknown attributes and spacing kept",
    ),
    pytest.param(
        "a=1; Path=/a; Path=/b; Domain=x.test",
        HTTPS,
        FIX,
        "a=1; Path=/b; Secure",
        id="dedupe and removal together",
    ),
    pytest.param(
        "a=1; Max-Age=0; Domain=co.uk; SameSite=bogus",
        E("https://shop.co.uk/"),
        LAX,
        "a=1; Max-Age=0; SameSite=Lax; Secure",
        id="removal, replacement and addition",
    ),
]


@pytest.mark.parametrize(("header", "e", "s", "out"), FIX_BYTES)
def test_fix_bytes(header: str, e: Request, s: Settings, out: str) -> None:
    sent, _ = run([header], e, s)
    assert sent == [out]


CHANGED_IN_FIX_MODE = [
    pytest.param("a=1", HTTPS, id="Secure added"),
    pytest.param("__Host-a=1", HTTPS, id="Path and Secure added"),
    pytest.param("a=1; Domain=other.test", HTTP, id="Domain removed"),
    pytest.param("a=1; Domain=lab.test:1", HTTP, id="Domain repaired"),
    pytest.param("a=1; Domain=.", HTTP, id="Domain=. removed"),
    pytest.param("a=1; Domain=; Domain=x.test", HTTP, id="every Domain rewritten"),
    pytest.param("a=1", HTTP_DIR, id="Path added"),
    pytest.param("a=1; Path=/x; Path=/y", HTTP, id="duplicate removed"),
    pytest.param("a=1; SameSite=None", LOCALHOST, id="Secure for SameSite=None"),
]


@pytest.mark.parametrize(("header", "e"), CHANGED_IN_FIX_MODE)
def test_report_mode_changes_nothing(header: str, e: Request) -> None:
    # CONTRACT.md 7: cookie_policy=report changes nothing, whatever else
    # the settings ask for; no finding is fixed.
    everything = Settings(
        policy="report",
        samesite="lax",
        domain="lab.test",
        path="scope",
        httponly=frozenset({"a", "__Host-a"}),
    )
    fixed, _ = run([header], e, FIX)
    assert fixed != [header]
    sent, found = run([header], e, everything)
    assert sent == [header]
    assert found
    assert not any(f.fixed for f, _ in found)


GATES = [
    # CONTRACT.md 7 "Setting gates": cookie_secure=keep blocks every
    # addition of Secure.
    pytest.param("a=1", HTTPS, KEEP_SECURE, "a=1", id="secure keep: https"),
    pytest.param(
        "__Secure-a=1", HTTPS, KEEP_SECURE, "__Secure-a=1", id="secure keep: prefix"
    ),
    pytest.param(
        "a=1; SameSite=None",
        HTTPS,
        KEEP_SECURE,
        "a=1; SameSite=None",
        id="secure keep: None",
    ),
    pytest.param(
        "a=1; Partitioned",
        HTTPS,
        KEEP_SECURE,
        "a=1; Partitioned",
        id="secure keep: CHIPS",
    ),
    pytest.param(
        "__Host-a=1",
        HTTPS,
        KEEP_SECURE,
        "__Host-a=1; Path=/",
        id="secure keep: Path only",
    ),
    # cookie_domain=keep blocks every Domain edit.
    pytest.param(
        "a=1; Domain=x.test",
        HTTP,
        KEEP_DOMAIN,
        "a=1; Domain=x.test",
        id="domain keep: mismatch",
    ),
    pytest.param(
        "a=1; Domain=lab.test.",
        HTTP,
        KEEP_DOMAIN,
        "a=1; Domain=lab.test.",
        id="domain keep: dot",
    ),
    pytest.param(
        "a=1; Domain=.", HTTP, KEEP_DOMAIN, "a=1; Domain=.", id="domain keep: empty"
    ),
    pytest.param(
        "a=1; Domain=co.uk",
        CO_UK,
        KEEP_DOMAIN,
        "a=1; Domain=co.uk",
        id="domain keep: suffix",
    ),
    # cookie_domain=<domain> rewrites existing Domain attributes only.
    pytest.param(
        "a=1; Domain=old.test",
        HTTP,
        Settings(domain="lab.test"),
        "a=1; Domain=lab.test",
        id="domain rewrite",
    ),
    pytest.param(
        "a=1; domain=OLD.test; Path=/",
        HTTP,
        Settings(domain="lab.test"),
        "a=1; domain=lab.test; Path=/",
        id="domain rewrite keeps spelling",
    ),
    pytest.param(
        "a=1", HTTP, Settings(domain="lab.test"), "a=1", id="domain never added"
    ),
    # Every occurrence is rewritten, as nginx proxy_cookie_domain does: an
    # earlier Domain=other.test would otherwise stay in the header (the
    # duplicate is reported; removing it is a Domain edit the setting
    # blocks).
    pytest.param(
        "a=1; Domain=other.test; Domain=x.test; Path=/",
        HTTP,
        Settings(domain="lab.test"),
        "a=1; Domain=lab.test; Domain=lab.test; Path=/",
        id="domain rewrite: every occurrence",
    ),
    pytest.param(
        "a=1; Domain=.; Domain=",
        HTTP,
        Settings(domain="lab.test"),
        "a=1; Domain=lab.test; Domain=lab.test",
        id="domain rewrite: empty ones too",
    ),
    # CONTRACT.md 7, host-prefix: a __Host- cookie's Domain is reported,
    # not changed.
    pytest.param(
        "__Host-a=1; Secure; Path=/; Domain=old.test",
        HTTPS,
        Settings(domain="lab.test"),
        "__Host-a=1; Secure; Path=/; Domain=old.test",
        id="domain rewrite: __Host- exempt",
    ),
    pytest.param(
        "a=1; Domain=old.test",
        HTTP,
        Settings(domain="bad;domain"),
        "a=1; Domain=old.test",
        id="unsafe rewrite value: untouched",
    ),
    # cookie_samesite: none only with Secure present or added.
    pytest.param("a=1", HTTP, NONE, "a=1", id="samesite none: no Secure"),
    pytest.param(
        "a=1", HTTPS, NONE, "a=1; Secure; SameSite=None", id="samesite none: added"
    ),
    pytest.param("a=1", HTTP, LAX, "a=1; SameSite=Lax", id="samesite lax"),
    pytest.param(
        "a=1; SameSite=Strict", HTTP, LAX, "a=1; SameSite=Strict", id="samesite kept"
    ),
    # cookie_path=scope.
    pytest.param("a=1", MOUNT_ROOT, SCOPE, "a=1; Path=/app", id="scope: no Path"),
    pytest.param("a=1; Path=/", MOUNT, SCOPE, "a=1; Path=/app", id="scope: Path=/"),
    pytest.param("a=1; Path=/", MOUNT, FIX, "a=1; Path=/", id="keep: Path=/ stays"),
    pytest.param(
        "__Host-a=1; Path=/; Secure",
        MOUNT_HTTPS,
        SCOPE,
        "__Host-a=1; Path=/; Secure",
        id="scope: __Host- exempt",
    ),
    # cookie_httponly.
    pytest.param(
        "a=1", HTTP, Settings(httponly=frozenset({"a"})), "a=1; HttpOnly", id="httponly"
    ),
]


@pytest.mark.parametrize(("header", "e", "s", "out"), GATES)
def test_setting_gates(header: str, e: Request, s: Settings, out: str) -> None:
    sent, _ = run([header], e, s)
    assert sent == [out]


# -- E from an environ ----------------------------------------------------------

ENVIRONS = [
    pytest.param(
        {"wsgi.url_scheme": "https", "HTTP_HOST": "LAB.test:8443", "PATH_INFO": "/x"},
        ("https", "lab.test", "", "/x"),
        id="host lower-cased, port dropped",
    ),
    pytest.param(
        {"wsgi.url_scheme": "http", "HTTP_HOST": "[::1]:8080", "PATH_INFO": "/"},
        ("http", "::1", "", "/"),
        id="IPv6 without brackets",
    ),
    pytest.param(
        {
            "wsgi.url_scheme": "http",
            "HTTP_HOST": "lab.test",
            "SCRIPT_NAME": "/app",
            "PATH_INFO": "/login",
        },
        ("http", "lab.test", "/app", "/app/login"),
        id="path is SCRIPT_NAME + PATH_INFO",
    ),
    pytest.param(
        {"wsgi.url_scheme": "http", "SERVER_NAME": "127.0.0.1", "PATH_INFO": "/"},
        ("http", "127.0.0.1", "", "/"),
        id="no Host: SERVER_NAME",
    ),
]


@pytest.mark.parametrize(("environ", "expected"), ENVIRONS)
def test_effective_request(environ: dict[str, str], expected: tuple[str, ...]) -> None:
    e = effective_request(environ)
    assert (e.scheme, e.host, e.script_name, e.path) == expected


def test_effective_request_headers() -> None:
    e = effective_request(
        {
            "wsgi.url_scheme": "http",
            "HTTP_HOST": "localhost:8000",
            "PATH_INFO": "/",
            "HTTP_SEC_FETCH_SITE": "Cross-Site",
            "HTTP_SEC_FETCH_DEST": "IFrame",
            "HTTP_COOKIE": "a=1; b = 2; a=3",
        }
    )
    assert (e.sec_fetch_site, e.sec_fetch_dest) == ("cross-site", "iframe")
    assert dict(e.cookies) == {"a": "1", "b": "2"}
    assert e.localhost
    assert e.trustworthy
    assert not e.secure


@pytest.mark.parametrize(
    ("host", "local"),
    [
        # COOKIE_RULES.md: localhost, *.localhost, 127.0.0.0/8, [::1].
        pytest.param("localhost", True, id="localhost"),
        pytest.param("app.localhost", True, id="*.localhost"),
        pytest.param("127.0.0.1", True, id="127.0.0.1"),
        pytest.param("127.255.0.9", True, id="127/8"),
        pytest.param("::1", True, id="::1"),
        pytest.param("[::1]", True, id="[::1]"),
        pytest.param("localhost.example", False, id="localhost.example"),
        pytest.param("notlocalhost", False, id="notlocalhost"),
        pytest.param("128.0.0.1", False, id="128.0.0.1"),
        pytest.param("lab.test", False, id="lab.test"),
    ],
)
def test_is_localhost(host: str, local: bool) -> None:
    assert is_localhost(host) is local


# -- properties -----------------------------------------------------------------

REQUESTS = [
    HTTPS,
    HTTP,
    HTTPS_DIR,
    LOCALHOST,
    LOOPBACK6,
    IP_HTTP,
    MOUNT,
    MOUNT_HTTPS,
    CO_UK,
    X_IFRAME,
    E("http://lab.test/", cookie="a=1; __Host-x=2", hint=HINT),
]

SOUP_PIECES = [
    *(";", "=", " ", "\t", ".", ":", "/", "a", "b", "\r", "\x00", "\xe9", "\u20ac"),
    *("Secure", "HttpOnly", "Path", "Domain", "SameSite", "None", "Lax"),
    *("Partitioned", "Max-Age", "Expires", "__Host-", "__Secure-"),
    *("lab.test", "co.uk", "0", "-1"),
]

#: ';'/'='-heavy soups of attribute names and values.
SOUP = st.lists(st.sampled_from(SOUP_PIECES), max_size=30).map("".join)

HEADERS = st.one_of(
    st.text(max_size=60),
    st.binary(max_size=60).map(lambda b: b.decode("latin-1")),
    SOUP,
)

SETTINGS = st.builds(
    Settings,
    policy=st.sampled_from(["fix", "report", "off"]),
    secure=st.sampled_from(["auto", "keep"]),
    samesite=st.sampled_from(["keep", "lax", "strict", "none"]),
    domain=st.one_of(
        st.sampled_from(["auto", "keep", "lab.test", ".lab.test", "co.uk"]),
        st.text(max_size=12),
    ),
    path=st.sampled_from(["keep", "scope"]),
    httponly=st.frozensets(st.sampled_from(["a", "", "__Host-", "session"])),
    max_size=st.integers(min_value=0, max_value=5000),
)


@settings(max_examples=400, deadline=None)
@given(
    headers=st.lists(HEADERS, min_size=1, max_size=4),
    e=st.sampled_from(REQUESTS),
    s=SETTINGS,
)
def test_audit_never_raises_and_keeps_the_pair(
    headers: list[str], e: Request, s: Settings
) -> None:
    out, found = audit(headers, e, s)
    assert len(out) == len(headers)
    for header, sent in zip(headers, out, strict=True):
        before = SetCookie.parse(header)
        assert SetCookie.parse(sent).pair == before.pair
        assert sent[: before.pair_end] == header[: before.pair_end]
    for finding, _ in found:
        assert isinstance(finding.fixed, bool)


@settings(max_examples=200, deadline=None)
@given(
    headers=st.lists(HEADERS, min_size=1, max_size=4),
    e=st.sampled_from(REQUESTS),
    s=SETTINGS,
)
def test_report_mode_returns_the_input(
    headers: list[str], e: Request, s: Settings
) -> None:
    out, found = audit(headers, e, s._replace(policy="report"))
    assert out == headers
    assert not any(f.fixed for f, _ in found)


@settings(max_examples=300, deadline=None)
@given(header=HEADERS, e=st.sampled_from(REQUESTS), s=SETTINGS)
def test_fix_mode_is_idempotent(header: str, e: Request, s: Settings) -> None:
    # A fixed header judged again needs no further edit.
    fix = s._replace(policy="fix")
    out, _ = audit([header], e, fix)
    again, _ = audit(out, e, fix)
    assert again == out


@settings(max_examples=300, deadline=None)
@given(header=HEADERS, e=st.sampled_from(REQUESTS), s=SETTINGS)
def test_fixed_means_no_error_is_left(header: str, e: Request, s: Settings) -> None:
    # CONTRACT.md 7: fixed is True only when no error remains on the
    # cookie: an unfixed error makes every finding on it unfixed, and a
    # header with a fixed finding has no error when judged again.
    fix = s._replace(policy="fix")
    out, found = audit([header], e, fix)
    mine = [f for f, _ in found if f.cookie is not None]
    if any(f.severity == ERROR and not f.fixed for f in mine):
        assert not any(f.fixed for f in mine)
    if any(f.fixed for f in mine):
        _, again = audit(out, e, fix)
        assert not [f for f, _ in again if f.severity == ERROR]


@settings(max_examples=300, deadline=None)
@given(
    headers=st.lists(
        st.one_of(HEADERS, SOUP.map(lambda soup: "a=1" + soup)), max_size=3
    ),
    e=st.sampled_from(REQUESTS),
    s=SETTINGS,
)
def test_the_summaries_read_the_cookies_as_sent(
    headers: list[str], e: Request, s: Settings
) -> None:
    # What the response-level rules read of each cookie is summarize() of
    # the header as written and as sent (audit skips parsing the sent one
    # when the fixes only appended attributes a summary does not read).
    from wsgifix.rules import summarize

    summaries: list[Any] = []
    out, _ = audit(headers, e, s, None, summaries)
    assert [summary._replace(dropped=False) for summary in summaries] == [
        summarize(SetCookie.parse(header), SetCookie.parse(sent))
        for header, sent in zip(headers, out, strict=True)
    ]
    # "dropped": an error is left on that cookie as sent.
    for k, summary in enumerate(summaries):
        _, mine = audit([headers[k]], e, s)
        assert summary.dropped is any(
            f.severity == ERROR and not f.fixed for f, _ in mine if f.cookie is not None
        )


# -- the verdict cache (issue 7: cache keyed by what the rules read) ----------

_SOUP = st.lists(
    st.sampled_from(
        [
            "sid=1",
            "sid=2",
            "__Host-x=1",
            "a",
            " b = c ",
            "=v",
            "Path=/",
            "Path=/app",
            "Domain=lab.test",
            "Domain=other.example",
            "Secure",
            "HttpOnly",
            "SameSite=None",
            "SameSite=lax",
            "Max-Age=0",
            "Max-Age=+5",
            "Partitioned",
            "x\ty=1",
            "",
        ]
    ),
    min_size=1,
    max_size=6,
).map("; ".join)


@given(
    headers=st.lists(_SOUP, min_size=1, max_size=4),
    url=st.sampled_from(
        ["http://lab.test/a/b", "https://lab.test/", "http://localhost/"]
    ),
    policy=st.sampled_from(["fix", "report"]),
)
@settings(max_examples=300, deadline=None)
def test_cached_verdicts_equal_fresh_ones(
    headers: list[str], url: str, policy: str
) -> None:
    from wsgifix.rules import VerdictCache

    s = Settings(policy=policy)
    e = E(url, cookie="sid=0")
    fresh = audit(headers, e, s)
    cache = VerdictCache()
    assert audit(headers, e, s, cache) == fresh  # first sight: judged
    assert audit(headers, e, s, cache) == fresh  # second: kept
    assert audit(headers, e, s, cache) == fresh  # answered from it


def test_the_cache_holds_no_values() -> None:
    from wsgifix.rules import VerdictCache

    cache = VerdictCache()
    for value in ("topsecretvalue", "anothersecret"):  # kept from the second
        audit(
            [f"sid={value}; Path=/; Secure"], E("https://lab.test/"), Settings(), cache
        )
    assert len(cache) == 1
    assert "anothersecret" not in repr(cache._data)
    assert "topsecretvalue" not in repr(cache._data)


@given(
    head=st.text(max_size=300),
    pad=st.integers(min_value=0, max_value=600),
    tail=st.text(max_size=3),
)
def test_printable_ascii_is_isascii_and_isprintable(
    head: str, pad: int, tail: str
) -> None:
    """The quick check for long text answers as the str methods do, on
    either side of the length where it switches to reading octets."""
    from wsgifix.rules import printable_ascii

    for text in (head, head + "x" * pad + tail, "x" * pad + head):
        assert printable_ascii(text) == (text.isascii() and text.isprintable())


@given(
    head=st.text(alphabet=st.characters(max_codepoint=0x17F), max_size=40),
    pad=st.integers(min_value=0, max_value=5000),
    tail=st.text(alphabet=st.characters(max_codepoint=0x17F), max_size=40),
    end=st.integers(min_value=-1, max_value=5100),
)
def test_printable_ascii_reads_up_to_end(
    head: str, pad: int, tail: str, end: int
) -> None:
    """With ``end``, True says ``text[:end]`` is printable ASCII; plain text
    is always told so, short or long (the compiled build reads from 256
    characters on in C, wsgifix/_plain.c, 16 octets at a time)."""
    from wsgifix.rules import printable_ascii

    for text in (head + "x" * pad + tail, "x" * pad + head, head, "x" * pad):
        part = text if end < 0 else text[:end]
        answer = printable_ascii(text, end)
        if answer:
            assert part.isascii()
            assert part.isprintable()
        if text.isascii() and text.isprintable():
            assert answer


def test_the_c_scan_answers_for_every_octet() -> None:
    """Each octet in each place of a long text (the C scan's vector part
    and its tail): plain only from 0x20 to 0x7E."""
    from wsgifix.rules import _COMPILED, printable, printable_ascii

    for size in (31, 32, 33, 47, 64, 100, 4097):
        for at in (0, size // 2, size - 1):
            for code in range(0x100):
                text = "x" * at + chr(code) + "x" * (size - at - 1)
                plain = 0x20 <= code <= 0x7E
                assert printable_ascii(text) is plain, (size, at, code)
                assert printable(text) is text.isprintable()
                assert printable_ascii(text, at + 1) is plain
                # Compiled, nothing past ``end`` is read; as source, the
                # whole text is (its answer then holds for all of it).
                assert printable_ascii(text, at) is (True if _COMPILED else plain)


@given(
    head=st.text(max_size=300),
    pad=st.integers(min_value=0, max_value=300),
    tail=st.text(alphabet=st.characters(max_codepoint=0xFF), max_size=3),
)
def test_printable_is_isprintable(head: str, pad: int, tail: str) -> None:
    """The quick check of messages (ASCII through an octet table) answers as
    str.isprintable does, ASCII controls and DEL included."""
    from wsgifix.rules import printable

    for text in (head, "x" * pad + tail, head + "x" * pad + tail, tail):
        assert printable(text) == text.isprintable()
    for code in range(0x100):
        assert printable(f"message {chr(code)} end") == chr(code).isprintable()


def test_the_verdict_cache_is_bounded_for_keys_that_come_back() -> None:
    """Keys put twice are kept, up to maxsize entries (then emptied); the
    record of keys put once is bounded the same way."""
    from wsgifix.rules import VerdictCache

    cache = VerdictCache(maxsize=8)
    largest = 0
    for i in range(100):
        for _ in range(2):
            cache.put(("key", i), i)
        largest = max(largest, len(cache))
        assert cache.get(("key", i)) == i
        assert len(cache._seen) <= 8
    assert largest == 8
    for i in range(100, 120):  # once each: nothing kept, nothing evicted
        cache.put(("key", i), i)
    assert cache.get(("key", 99)) == 99


def test_messages_are_escaped_to_one_line_for_every_code_point() -> None:
    # one_line and the findings' check skip text that isprintable() passes:
    # every character they escape must fail it (each code point, and one
    # among printable text).
    import wsgifix.rules as rules

    for code in range(0x110000):
        ch = chr(code)
        escaped = ch.translate(rules._ESCAPES)
        assert rules.one_line(ch) == escaped, hex(code)
        assert rules.one_line(f"a{ch}b") == f"a{escaped}b", hex(code)
        if rules._UNPRINTABLE.search(ch):
            assert escaped != ch, hex(code)
    found = [(Finding("r", WARNING, "c", "line\u2028two\x85", False), {})]
    assert rules._one_line_messages(found)[0][0].message == "line\\u2028two\\x85"
    assert rules._one_line_messages([(found[0][0]._replace(message="é ok"), {})]) == (
        (found[0][0]._replace(message="é ok"), {}),
    )


def test_the_rules_run_one_by_one_in_cookie_rules_order() -> None:
    # rules._issues calls the rules written out (a compiled build's direct
    # calls): the same functions, in COOKIE_RULES's order.
    import ast
    from pathlib import Path

    import wsgifix
    import wsgifix.rules as rules

    # (the package's own file: a compiled module's __file__ is elsewhere)
    source = (Path(wsgifix.__file__).parent / "rules.py").read_text()
    (function,) = [
        node
        for node in ast.parse(source).body
        if isinstance(node, ast.FunctionDef) and node.name == "_issues"
    ]
    called = [
        node.func.id
        for node in ast.walk(function)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id != "_stop"
    ]
    assert called == [rule.__name__ for rule in rules.COOKIE_RULES]


_ATTRIBUTES = st.sampled_from(
    [
        "Secure",
        "HttpOnly",
        "Path=/",
        "Path=/app",
        "Path=x",
        "Domain=lab.test",
        "Domain=.lab.test",
        "Domain=other.test",
        "Domain=test",
        "SameSite=None",
        "SameSite=Lax",
        "SameSite=bogus",
        "Max-Age=0",
        "Max-Age=+5",
        "Expires=Wed, 21 Oct 2015 07:28:00 GMT",
        "Partitioned",
        "Secure; Secure",
        "x" * 1100,
        "",
    ]
)


@settings(max_examples=400, deadline=None)
@given(
    name=st.sampled_from(["sid", "__Host-id", "__Secure-id", "", " ", "a\x01", "é"]),
    value=st.sampled_from(["1", "", "x" * 5000, "a b", "\x7f"]),
    attributes=st.lists(_ATTRIBUTES, max_size=5),
    url=st.sampled_from(
        ["https://lab.test/app/x", "http://lab.test/", "http://localhost:8080/a"]
    ),
    carried=st.booleans(),
    site=st.sampled_from(["", "cross-site"]),
)
def test_the_rules_one_by_one_match_a_loop_over_cookie_rules(
    name: str, value: str, attributes: list[str], url: str, carried: bool, site: str
) -> None:
    import wsgifix.rules as rules

    header = "; ".join([f"{name}={value}" if name != " " else value, *attributes])
    e = E(url, site=site, cookie=f"{name}=0" if carried else "")
    c = SetCookie.parse(header)
    for s in (Settings(), Settings(policy="report", samesite="lax", path="scope")):
        seen: dict[str, Any] = {}
        expected = []
        for rule in rules.COOKIE_RULES:
            issue = rule(c, e, s, seen)
            if issue is not None:
                expected.append(issue)
                if seen.get("broken") or seen.get("empty"):
                    break
        other: dict[str, Any] = {}
        assert rules._issues(c, e, s, other) == expected
        assert other == seen


@given(st.lists(st.text(max_size=8)))
def test_total_length_is_the_sum_of_the_lengths(texts: list[str]) -> None:
    from wsgifix.rules import total_length

    assert total_length(texts) == sum(map(len, texts))
