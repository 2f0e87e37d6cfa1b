"""Tests for wsgifix.setcookie: Set-Cookie parsing, editing, dates, Max-Age.

Sources cited per table: RFC 6265bis (draft-ietf-httpbis-rfc6265bis)
sections 5.1.1 (cookie-date) and 5.6 (Set-Cookie parsing), Chromium's
net/cookies/parsed_cookie_unittest.cc (cases mirrored, not copied), and
the http-state test suite (abarth/http-state tests/data/dates, whose
bsd-examples.json came from Chromium).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wsgifix.setcookie import (
    MAX_ATTRIBUTE_VALUE_OCTETS,
    Attribute,
    ParseCache,
    SetCookie,
    max_age_has_plus,
    octet_length,
    parse_cookie_date,
    parse_max_age,
)

INT64_MAX = 2**63 - 1
LONG = "x" * (MAX_ATTRIBUTE_VALUE_OCTETS + 1)


def attrs(header: str) -> list[tuple[str, str | None]]:
    return [(a.name, a.value) for a in SetCookie.parse(header).attributes]


# -- parsing: name, value and attributes ------------------------------------

PARSE_CASES = [
    # RFC 6265bis 5.6: split at the first ";" then at the first "=".
    pytest.param(
        "session=abc; Path=/; HttpOnly; SameSite=Lax",
        ("session", "abc", False),
        [("Path", "/"), ("HttpOnly", None), ("SameSite", "Lax")],
        id="typical session cookie",
    ),
    # Chromium ParsedCookieTest.Whitespace: WSP trimmed around name, value
    # and attributes; ";;" gives empty attributes that are kept in place.
    pytest.param(
        "  A  = BC  ;secure;;;   samesite = lax     ",
        ("A", "BC", False),
        [("secure", None), ("", None), ("", None), ("samesite", "lax")],
        id="whitespace trimmed and empty attributes kept",
    ),
    # RFC 6265bis 5.6: only SP and HTAB are trimmed; inner spaces stay
    # (SimpleCookie drops such a header, see STYLE.md "Don't copy").
    pytest.param(
        "a=b c  d ; Path=/",
        ("a", "b c  d", False),
        [("Path", "/")],
        id="spaces inside the value",
    ),
    pytest.param(
        "my cookie=x",
        ("my cookie", "x", False),
        [],
        id="space inside the name",
    ),
    pytest.param(
        "a=\tb\t;\tPath=\t/\t",
        ("a", "b", False),
        [("Path", "/")],
        id="tabs are whitespace too",
    ),
    # Chromium ParsedCookieTest.MultipleEquals: the first "=" splits.
    pytest.param(
        "  A=== BC  ;secure;;;   httponly",
        ("A", "== BC", False),
        [("secure", None), ("", None), ("", None), ("httponly", None)],
        id="value starting with equals signs",
    ),
    # Chromium ParsedCookieTest.QuotedTrailingWhitespace: quotes are part
    # of the value, whitespace after them is trimmed.
    pytest.param(
        'ID="zohNum"  ; expires=Sun, 18-Apr-2027 21:06:29 GMT ; path=/  ;  ',
        ("ID", '"zohNum"', False),
        [("expires", "Sun, 18-Apr-2027 21:06:29 GMT"), ("path", "/"), ("", None)],
        id="quoted value and trailing empty attribute",
    ),
    # Chromium ParsedCookieTest.TestQuoted: a ";" inside quotes still
    # ends the pair; quoted attribute values keep their quotes.
    pytest.param(
        'aBc="zz;pp" ; path="/"  ; httponly ',
        ("aBc", '"zz', False),
        [('pp"', None), ("path", '"/"'), ("httponly", None)],
        id="semicolon inside quotes splits",
    ),
    # Chromium ParsedCookieTest.TestBasic: Priority and Partitioned are
    # ordinary attributes here (CHIPS; Chromium's priority extension).
    pytest.param(
        "c=d; secure; httponly; path=/foo; domain=bar.test; max-age=60; "
        "samesite=lax; priority=high; partitioned;",
        ("c", "d", False),
        [
            ("secure", None),
            ("httponly", None),
            ("path", "/foo"),
            ("domain", "bar.test"),
            ("max-age", "60"),
            ("samesite", "lax"),
            ("priority", "high"),
            ("partitioned", None),
            ("", None),
        ],
        id="Priority and Partitioned",
    ),
    pytest.param(
        "a=b; Foo=bar; Baz; X-Y = z",
        ("a", "b", False),
        [("Foo", "bar"), ("Baz", None), ("X-Y", "z")],
        id="unknown attributes are kept",
    ),
    # RFC 6265bis 5.6: "Domain=" has the empty value; without "=" the RFC
    # also gives the empty value, we keep None so rules can tell them apart.
    pytest.param(
        "a=b; Domain=; Domain; Domain=.",
        ("a", "b", False),
        [("Domain", ""), ("Domain", None), ("Domain", ".")],
        id="empty Domain, flag Domain and Domain dot",
    ),
    pytest.param(
        "a=b; Path=/a=b",
        ("a", "b", False),
        [("Path", "/a=b")],
        id="equals sign inside an attribute value",
    ),
    pytest.param(
        "a=b; =x; = ",
        ("a", "b", False),
        [("", "x"), ("", "")],
        id="attribute with a value and no name",
    ),
    # Chromium ParsedCookieTest.TestNameless, RFC 6265bis 5.6 step 3:
    # no "=" means an empty name and the whole pair as the value.
    pytest.param(
        "BLAHHH; path=/; secure;",
        ("", "BLAHHH", True),
        [("path", "/"), ("secure", None), ("", None)],
        id="nameless cookie",
    ),
    # Chromium ParsedCookieTest.MissingName: "=ABC" has a "=", so it is not
    # nameless in the 6265bis sense although the name is empty.
    pytest.param("=ABC", ("", "ABC", False), [], id="empty name before equals"),
    # Chromium ParsedCookieTest.MissingValue.
    pytest.param(
        "ABC=;  path = /wee",
        ("ABC", "", False),
        [("path", "/wee")],
        id="empty value",
    ),
    pytest.param("", ("", "", True), [], id="empty header"),
    pytest.param(" \t ", ("", "", True), [], id="whitespace-only header"),
    pytest.param("=", ("", "", False), [], id="only an equals sign"),
    pytest.param(";", ("", "", True), [("", None)], id="only a semicolon"),
    # Chromium ParsedCookieTest.LotsOfPairs.
    pytest.param(
        "a=b;;;;;;;;secure",
        ("a", "b", False),
        [("", None)] * 7 + [("secure", None)],
        id="many semicolons",
    ),
    # The parser never rejects: CR/LF and CTLs are left to the rules.
    pytest.param(
        "a=b\r\nSet-Cookie: x=y; Path=/",
        ("a", "b\r\nSet-Cookie: x=y", False),
        [("Path", "/")],
        id="CRLF is not whitespace",
    ),
    pytest.param(
        "a=\x00b\x7f; Pa\x01th=/",
        ("a", "\x00b\x7f", False),
        [("Pa\x01th", "/")],
        id="control characters are kept",
    ),
    pytest.param(
        "na\u00efve=\u20ac\u2603; Path=/\u00e9",
        ("na\u00efve", "\u20ac\u2603", False),
        [("Path", "/\u00e9")],
        id="text outside latin-1",
    ),
]


@pytest.mark.parametrize(("header", "pair", "attributes"), PARSE_CASES)
def test_parse(
    header: str,
    pair: tuple[str, str, bool],
    attributes: list[tuple[str, str | None]],
) -> None:
    cookie = SetCookie.parse(header)
    assert (cookie.name, cookie.value, cookie.nameless) == pair
    assert attrs(header) == attributes
    assert str(cookie) == header
    assert cookie.edit().render() is header


def test_attribute_fields() -> None:
    # The NamedTuple shape the rules rely on.
    cookie = SetCookie.parse("a=b; SameSite=Lax ;Secure")
    assert cookie.attributes == (
        Attribute("SameSite", "samesite", "Lax", 3, 17),
        Attribute("Secure", "secure", None, 17, 25),
    )
    assert cookie.attributes[0].too_long is False


# -- spans ------------------------------------------------------------------

SPAN_CASES = [
    # Each span runs from the whitespace before its ";" to the end of its
    # value; the last one also takes the trailing whitespace.
    pytest.param("a=b; Path=/; Secure", "a=b", ["; Path=/", "; Secure"], id="plain"),
    pytest.param(
        "a=b ; Path=/ ; Secure ",
        "a=b",
        [" ; Path=/", " ; Secure "],
        id="whitespace before semicolons",
    ),
    pytest.param("  a = b  ", "a = b", [], id="pair without attributes"),
    pytest.param(";;", "", [";", ";"], id="empty pair and attributes"),
    pytest.param("a=b; ;Secure", "a=b", [";", " ;Secure"], id="blank attribute"),
    pytest.param(
        "x; Domain= ; Path=/",
        "x",
        ["; Domain=", " ; Path=/"],
        id="empty value before whitespace",
    ),
]


@pytest.mark.parametrize(("header", "pair", "spans"), SPAN_CASES)
def test_spans(header: str, pair: str, spans: list[str]) -> None:
    cookie = SetCookie.parse(header)
    assert cookie.pair == pair
    assert [header[a.start : a.end] for a in cookie.attributes] == spans


# -- effective attributes (RFC 6265bis 5.6: last wins, 1024-octet limit) ----

ACCESS_CASES = [
    # (header, key, get, has, count, occurrences)
    pytest.param("a=b; Path=/", "path", "/", True, 1, 1, id="present"),
    pytest.param("a=b; Path=/", "domain", None, False, 0, 0, id="absent"),
    pytest.param("a=b; Secure", "secure", "", True, 1, 1, id="flag reads as empty"),
    pytest.param("a=b; Domain=", "domain", "", True, 1, 1, id="empty value"),
    pytest.param(
        "a=b; Path=/one; path=/two; PATH=/three",
        "path",
        "/three",
        True,
        3,
        3,
        id="last of a repeated attribute wins, any case",
    ),
    # RFC 6265bis 5.6: the over-long occurrence is ignored entirely, so the
    # earlier one stays in force.
    pytest.param(
        f"a=b; Path=/ok; Path={LONG}",
        "path",
        "/ok",
        True,
        1,
        2,
        id="too-long value does not win",
    ),
    pytest.param(
        f"a=b; Domain={LONG}",
        "domain",
        None,
        False,
        0,
        1,
        id="only a too-long value",
    ),
    pytest.param("a=b;; ;", "", None, False, 0, 3, id="empty names are no attribute"),
    # ASCII case-insensitivity only: U+212A KELVIN SIGN is not "k".
    pytest.param("a=b; \u212aey=1", "key", None, False, 0, 0, id="non-ASCII case"),
]


@pytest.mark.parametrize(
    ("header", "key", "value", "present", "count", "occurrences"), ACCESS_CASES
)
def test_access(
    header: str,
    key: str,
    value: str | None,
    present: bool,
    count: int,
    occurrences: int,
) -> None:
    cookie = SetCookie.parse(header)
    assert cookie.get(key) == value
    assert cookie.has(key) is present
    assert cookie.count(key) == count
    assert len(cookie.occurrences(key)) == occurrences


def test_attribute_tells_flag_from_empty_value() -> None:
    cookie = SetCookie.parse("a=b; Domain=x; Domain")
    assert cookie.attribute("domain") == Attribute("Domain", "domain", None, 13, 21)
    assert SetCookie.parse("a=b; Domain=x; Domain=").get("domain") == ""
    assert cookie.attribute("path") is None


def test_names_in_order_and_too_long() -> None:
    cookie = SetCookie.parse(f"a=b; Secure;; path=/; Max-Age={LONG}; PATH=/x")
    assert cookie.names_in_order == ("secure", "path", "max-age", "path")
    assert [a.key for a in cookie.too_long] == ["max-age"]
    assert cookie.repeated == ["path"]
    assert SetCookie.parse("a=b; Path=/").too_long == ()


@pytest.mark.parametrize(
    ("header", "repeated"),
    [
        pytest.param("a=b; Path=/; Secure", [], id="each once"),
        pytest.param("a=b; Secure; path=/; PATH=/x; secure", ["path", "secure"],
                     id="any case, sorted"),
        pytest.param(f"a=b; Max-Age=1; Max-Age={LONG}", [],
                     id="a too-long one is not processed"),
        pytest.param("a=b;;; =x; =y", [], id="empty cookie-avs are no name"),
    ],
)  # fmt: skip
def test_repeated_names_are_those_browsers_process_twice(
    header: str, repeated: list[str]
) -> None:
    # RFC 6265bis 5.6: every cookie-av is processed in order, the last wins.
    assert SetCookie.parse(header).repeated == repeated


LENGTH_CASES = [
    # RFC 6265bis 5.6: "longer than 1024 octets"; latin-1 text is one octet
    # per character on the wire (PEP 3333).
    pytest.param("x" * 1024, False, id="1024 octets is allowed"),
    pytest.param("x" * 1025, True, id="1025 octets is too long"),
    pytest.param("\u00e9" * 1024, False, id="latin-1 counts one octet each"),
    pytest.param("\u20ac" * 342, True, id="non-latin-1 counts UTF-8 octets"),
    pytest.param("\u20ac" * 341, False, id="1023 UTF-8 octets"),
]


@pytest.mark.parametrize(("value", "too_long"), LENGTH_CASES)
def test_attribute_value_length(value: str, too_long: bool) -> None:
    cookie = SetCookie.parse(f"a=b; Path={value}")
    assert cookie.attributes[0].too_long is too_long
    assert cookie.has("path") is not too_long


@pytest.mark.parametrize(
    ("text", "octets"),
    [
        pytest.param("", 0, id="empty"),
        pytest.param("abc", 3, id="ascii"),
        pytest.param("\u00e9\u00ff", 2, id="latin-1"),
        pytest.param("\u20ac", 3, id="utf-8 fallback"),
    ],
)
def test_octet_length(text: str, octets: int) -> None:
    assert octet_length(text) == octets


# -- edits: exact output bytes (CONTRACT.md section 7, "Fix bytes") --------

EDIT_CASES = [
    # add: appended at the end as "; Name=Value" or "; Flag".
    pytest.param(
        "a=b; Path=/",
        [("add", "Secure")],
        "a=b; Path=/; Secure",
        id="add a flag",
    ),
    pytest.param(
        "a=b",
        [("add", "samesite", "lax")],
        "a=b; SameSite=Lax",
        id="add uses canonical spelling",
    ),
    pytest.param(
        "a=b",
        [
            ("add", "Partitioned"),
            ("add", "SameSite", "None"),
            ("add", "HttpOnly"),
            ("add", "Secure"),
            ("add", "Path", "/app"),
        ],
        "a=b; Path=/app; Secure; HttpOnly; SameSite=None; Partitioned",
        id="several additions come out in contract order",
    ),
    pytest.param(
        "a=b",
        [("add", "X-Two", "2"), ("add", "Secure"), ("add", "X-One", "1")],
        "a=b; Secure; X-Two=2; X-One=1",
        id="unknown additions follow in call order",
    ),
    pytest.param(
        "a=b  ",
        [("add", "Secure")],
        "a=b  ; Secure",
        id="add keeps trailing whitespace",
    ),
    pytest.param(
        "a=b;",
        [("add", "Secure")],
        "a=b;; Secure",
        id="add after a trailing semicolon",
    ),
    # remove: each occurrence goes with its ";" and surrounding whitespace.
    pytest.param(
        "a=b; Domain=x.test; Path=/",
        [("remove", "domain")],
        "a=b; Path=/",
        id="remove from the middle",
    ),
    pytest.param(
        "a=b ; Domain=x.test ; Path=/",
        [("remove", "domain")],
        "a=b ; Path=/",
        id="remove with whitespace around semicolons",
    ),
    pytest.param(
        "a=b; Path=/; Domain=x.test  ",
        [("remove", "domain")],
        "a=b; Path=/",
        id="remove the last with trailing whitespace",
    ),
    pytest.param(
        "a=b ;Domain=x.test",
        [("remove", "domain")],
        "a=b",
        id="remove the only attribute",
    ),
    pytest.param(
        "a=b; domain=x; Path=/; DOMAIN=y",
        [("remove", "domain")],
        "a=b; Path=/",
        id="remove every occurrence",
    ),
    pytest.param(
        f"a=b; Domain={LONG}; Path=/",
        [("remove", "domain")],
        "a=b; Path=/",
        id="remove also takes too-long occurrences",
    ),
    pytest.param(
        "a=b; Path=/",
        [("remove", "domain")],
        "a=b; Path=/",
        id="remove an absent attribute",
    ),
    # replace_value: the effective occurrence, the app's spelling kept.
    pytest.param(
        "a=b; domain=Example.COM:8080; Path=/",
        [("replace_value", "domain", "example.com")],
        "a=b; domain=example.com; Path=/",
        id="replace keeps the name as written",
    ),
    pytest.param(
        "a=b; Path=/a; path=/b; Secure",
        [("replace_value", "path", "/c")],
        "a=b; Path=/a; path=/c; Secure",
        id="replace the last occurrence",
    ),
    pytest.param(
        "a=b; Path = /x ; Secure",
        [("replace_value", "path", "/y")],
        "a=b; Path = /y ; Secure",
        id="replace keeps whitespace around the value",
    ),
    pytest.param(
        "a=b; Domain=; Path=/",
        [("replace_value", "domain", "x.test")],
        "a=b; Domain=x.test; Path=/",
        id="replace an empty value",
    ),
    pytest.param(
        "a=b; Domain= ",
        [("replace_value", "domain", "x.test")],
        "a=b; Domain=x.test ",
        id="replace an empty value before trailing whitespace",
    ),
    pytest.param(
        "a=b; SameSite ; Secure",
        [("replace_value", "samesite", "lax")],
        "a=b; SameSite=Lax ; Secure",
        id="replace the value of a flag",
    ),
    pytest.param(
        "a=b; samesite=Laxx",
        [("replace_value", "samesite", "strict")],
        "a=b; samesite=Strict",
        id="replace gives SameSite values their canonical case",
    ),
    pytest.param(
        f"a=b; Path=/ok; Path={LONG}",
        [("replace_value", "path", "/new")],
        f"a=b; Path=/new; Path={LONG}",
        id="replace skips too-long occurrences",
    ),
    # replace_values: every occurrence (a rewrite such as nginx
    # proxy_cookie_domain), flags and too-long ones too.
    pytest.param(
        f"a=b; Domain=x.test; domain=; Path=/; DOMAIN; Domain={LONG}",
        [("replace_values", "domain", "lab.test")],
        "a=b; Domain=lab.test; domain=lab.test; Path=/; DOMAIN=lab.test; "
        "Domain=lab.test",
        id="replace every occurrence",
    ),
    pytest.param(
        "a=b; Path=/",
        [("replace_values", "domain", "lab.test")],
        "a=b; Path=/",
        id="replace every occurrence of an absent attribute",
    ),
    pytest.param(
        "a=b; Domain=x.test; Path=/",
        [("remove", "domain"), ("replace_values", "domain", "lab.test")],
        "a=b; Path=/",
        id="replace every occurrence: removed ones stay removed",
    ),
    # remove_earlier_duplicates: only the effective occurrence stays.
    pytest.param(
        "a=b; Path=/a; Secure; path=/b; PATH=/c",
        [("remove_earlier_duplicates", "path")],
        "a=b; Secure; PATH=/c",
        id="keep only the last",
    ),
    pytest.param(
        f"a=b; Path=/a; Path=/b; Path={LONG}",
        [("remove_earlier_duplicates", "path")],
        f"a=b; Path=/b; Path={LONG}",
        id="keep the last that browsers use",
    ),
    pytest.param(
        "a=b; Path=/",
        [("remove_earlier_duplicates", "path")],
        "a=b; Path=/",
        id="nothing to remove",
    ),
    # Composed edits.
    pytest.param(
        'sid="x;y"; domain=a.test; SameSite=lax; SameSite=Bogus; HttpOnly',
        [
            ("remove", "domain"),
            ("remove_earlier_duplicates", "samesite"),
            ("replace_value", "samesite", "Lax"),
            ("add", "Secure"),
            ("add", "Path", "/"),
        ],
        'sid="x;y"; SameSite=Lax; HttpOnly; Path=/; Secure',
        id="composed edits keep the pair bytes",
    ),
    pytest.param(
        "a=b; Path=/x",
        [("replace_value", "path", "/y"), ("remove", "path")],
        "a=b",
        id="remove after replace wins",
    ),
    pytest.param(
        "a=b",
        [("add", "Path", "/"), ("replace_value", "path", "/app")],
        "a=b; Path=/app",
        id="replace a pending addition",
    ),
    pytest.param(
        "a=b",
        [("add", "Secure"), ("remove", "secure")],
        "a=b",
        id="remove drops a pending addition",
    ),
    pytest.param(
        "a=b; Path=/x; Secure",
        [("remove", "path"), ("add", "Path", "/")],
        "a=b; Secure; Path=/",
        id="remove then add moves the attribute to the end",
    ),
    pytest.param(
        "  BLAH ; Path=/",
        [("add", "Secure")],
        "  BLAH ; Path=/; Secure",
        id="nameless cookie keeps its leading whitespace",
    ),
]


def apply(header: str, edits: list[tuple[str, ...]]) -> str:
    editor = SetCookie.parse(header).edit()
    for op, key, *value in edits:
        if op == "add":
            editor.add(key, *value)
        elif op == "remove":
            editor.remove(key)
        elif op == "replace_value":
            editor.replace_value(key, *value)
        elif op == "replace_values":
            editor.replace_values(key, *value)
        else:
            editor.remove_earlier_duplicates(key)
    return editor.render()


@pytest.mark.parametrize(("header", "edits", "expected"), EDIT_CASES)
def test_edit(header: str, edits: list[tuple[str, ...]], expected: str) -> None:
    assert apply(header, edits) == expected


def test_editor_chains_and_reports_changes() -> None:
    editor = SetCookie.parse("a=b").edit()
    assert editor.changed is False
    assert editor.add("Secure").remove("domain") is editor
    assert editor.changed is True


@pytest.mark.parametrize(
    ("header", "remove_first"),
    [
        pytest.param("a=b", False, id="absent"),
        pytest.param(f"a=b; Path={LONG}", False, id="only too long"),
        pytest.param("a=b; Path=/", True, id="removed before"),
    ],
)
def test_replace_value_without_live_occurrence(header: str, remove_first: bool) -> None:
    editor = SetCookie.parse(header).edit()
    if remove_first:
        editor.remove("path")
    with pytest.raises(KeyError):
        editor.replace_value("path", "/")


BAD_EDITS = [
    # The editor never writes a header that smuggles attributes or that a
    # browser (CTLs, RFC 6265bis 5.6) or the WSGI server (PEP 3333) drops.
    pytest.param("Path", "/a;Domain=evil.test", id="semicolon in a value"),
    pytest.param("Path", "/\r\nX-Evil: 1", id="CRLF in a value"),
    pytest.param("Path", "/a\tb", id="tab in a value"),
    pytest.param("Path", "/\u20ac", id="value outside latin-1"),
    pytest.param("Path", " /", id="leading whitespace in a value"),
    pytest.param("", None, id="empty name"),
    pytest.param("a=b", None, id="equals sign in a name"),
    pytest.param("Se;cure", None, id="semicolon in a name"),
    pytest.param("Secure ", None, id="trailing whitespace in a name"),
]


@pytest.mark.parametrize(("name", "value"), BAD_EDITS)
def test_add_rejects_unsafe_text(name: str, value: str | None) -> None:
    editor = SetCookie.parse("a=b; Path=/").edit()
    with pytest.raises(ValueError, match="attribute"):
        editor.add(name, value)
    assert editor.changed is False


def test_replace_value_rejects_unsafe_text() -> None:
    editor = SetCookie.parse("a=b; Path=/").edit()
    with pytest.raises(ValueError, match="control character"):
        editor.replace_value("path", "/\n")
    with pytest.raises(ValueError, match="control character"):
        editor.replace_values("path", "/;Domain=evil.test")
    assert editor.changed is False


# -- ParseCache --------------------------------------------------------------


def test_cache_gives_the_same_result() -> None:
    cache = ParseCache()
    for header in ["a=b; Path=/", "ab=c; Path=/", "a=b; Path=/", "a; Path=/"]:
        cached = SetCookie.parse(header, cache)
        plain = SetCookie.parse(header)
        assert cached.attributes == plain.attributes
        assert [header[a.start : a.end] for a in cached.attributes] == ["; Path=/"]
    assert len(cache) == 1


def test_cache_is_bounded() -> None:
    cache = ParseCache(maxsize=4, max_text=20)
    for number in range(10):
        SetCookie.parse(f"a=b; Max-Age={number}", cache)
        assert len(cache) <= 4
    SetCookie.parse(f"a=b; Path=/{'x' * 20}", cache)
    assert all(len(tail) <= 20 for tail in cache._entries)
    cache.clear()
    assert len(cache) == 0


# -- cookie dates (RFC 6265bis section 5.1.1) -------------------------------


def utc(year: int, month: int, day: int, hour: int, minute: int, sec: int) -> datetime:
    return datetime(year, month, day, hour, minute, sec, tzinfo=UTC)


DATE_CASES = [
    # Common forms: IMF-fixdate (RFC 9110), Netscape, RFC 850, asctime.
    pytest.param(
        "Wed, 09 Jun 2021 10:18:14 GMT", utc(2021, 6, 9, 10, 18, 14), id="IMF-fixdate"
    ),
    pytest.param(
        "Wed, 09-Jun-2021 10:18:14 GMT",
        utc(2021, 6, 9, 10, 18, 14),
        id="Netscape dashes, rejected by email.utils",
    ),
    pytest.param(
        "Wednesday, 09-Jun-21 10:18:14 GMT",
        utc(2021, 6, 9, 10, 18, 14),
        id="RFC 850 two-digit year",
    ),
    pytest.param("Wed Jun  9 10:18:14 2021", utc(2021, 6, 9, 10, 18, 14), id="asctime"),
    pytest.param(
        "Thu, 01-Jan-1970 00:00:00 GMT", utc(1970, 1, 1, 0, 0, 0), id="the epoch"
    ),
    # http-state bsd-examples.json (from Chromium): what browsers accept.
    pytest.param(
        "Mon, 18-Apr-77 22:50:13 GMT", utc(1977, 4, 18, 22, 50, 13), id="77 is 1977"
    ),
    pytest.param("Sat, 15-Apr-17 21:01:22", utc(2017, 4, 15, 21, 1, 22), id="no zone"),
    pytest.param(
        "Thu, 19/Apr\\2007 16:00:00 GMT",
        utc(2007, 4, 19, 16, 0, 0),
        id="slash and backslash delimit",
    ),
    pytest.param("1-Jan-2003 00:00:00 GMT", utc(2003, 1, 1, 0, 0, 0), id="no weekday"),
    pytest.param(
        "WillyWonka  ,  18-apr-07   22:50:12",
        utc(2007, 4, 18, 22, 50, 12),
        id="junk weekday and lower-case month",
    ),
    pytest.param(
        "Partyday, 18- April-07 22:50:12",
        utc(2007, 4, 18, 22, 50, 12),
        id="full month name",
    ),
    pytest.param(
        "Wednes, 1-Januar-2003 00:00:00 GMT",
        utc(2003, 1, 1, 0, 0, 0),
        id="month prefix is enough",
    ),
    pytest.param(
        "Sat, 15-Apr-17 21:01:22 GMT-0400 (EDT)",
        utc(2017, 4, 15, 21, 1, 22),
        id="zone offset is not read",
    ),
    pytest.param(
        "Sat, 15-Apr-17 ::00 21:01:22",
        utc(2017, 4, 15, 21, 1, 22),
        id="colons without digits are no time",
    ),
    pytest.param(
        "Sat, 15-Apr-17 21:01:22 11:22:33",
        utc(2017, 4, 15, 21, 1, 22),
        id="first time wins",
    ),
    pytest.param(
        "22:50:12 Thu Apr 18 2007 GMT",
        utc(2007, 4, 18, 22, 50, 12),
        id="time first",
    ),
    pytest.param(
        "2017 April 15 21:01:22", utc(2017, 4, 15, 21, 1, 22), id="year first"
    ),
    pytest.param(
        "15 17 Apr 21:01:22", utc(2017, 4, 15, 21, 1, 22), id="second number is year"
    ),
    pytest.param(
        '"Sat, 15-Apr-17\\"21:01:22\\"GMT"',
        utc(2017, 4, 15, 21, 1, 22),
        id="quotes delimit",
    ),
    # http-state examples.json.
    pytest.param(
        "Thu, 10 Dec 2009 13:57:2 GMT",
        utc(2009, 12, 10, 13, 57, 2),
        id="one-digit second",
    ),
    pytest.param(
        "Wednesday, 01-Jan-10 0:0:00 GMT",
        utc(2010, 1, 1, 0, 0, 0),
        id="one-digit hour and minute",
    ),
    # RFC 6265bis 5.1.1 grammar details and the two-digit year rule.
    pytest.param(
        "9th Jun 2021 10:18:14", utc(2021, 6, 9, 10, 18, 14), id="day with suffix"
    ),
    pytest.param(
        "Wed, 09 JUN 2021 10:18:14 GMT",
        utc(2021, 6, 9, 10, 18, 14),
        id="upper-case month",
    ),
    pytest.param(
        "Wed,\t09 Jun 2021\t10:18:14", utc(2021, 6, 9, 10, 18, 14), id="tabs delimit"
    ),
    pytest.param("09 Jun 00 10:18:14", utc(2000, 6, 9, 10, 18, 14), id="00 is 2000"),
    pytest.param("09 Jun 69 10:18:14", utc(2069, 6, 9, 10, 18, 14), id="69 is 2069"),
    pytest.param("09 Jun 70 10:18:14", utc(1970, 6, 9, 10, 18, 14), id="70 is 1970"),
    pytest.param("09 Jun 99 10:18:14", utc(1999, 6, 9, 10, 18, 14), id="99 is 1999"),
    pytest.param("01 Jan 1601 00:00:00", utc(1601, 1, 1, 0, 0, 0), id="year 1601"),
    pytest.param("31 Dec 9999 23:59:59", utc(9999, 12, 31, 23, 59, 59), id="year 9999"),
    pytest.param("29 Feb 2024 12:00:00", utc(2024, 2, 29, 12, 0, 0), id="leap day"),
    # Invalid: some part missing or out of range.
    pytest.param("", None, id="empty"),
    pytest.param("IAintNoDateFool", None, id="no date at all"),
    pytest.param("Wed, 09 Jun 2021", None, id="no time"),
    pytest.param("Wed, 09 2021 10:18:14", None, id="no month"),
    pytest.param("Wed, Jun 2021 10:18:14", None, id="no day"),
    pytest.param("Wed, 09 Jun 10:18:14", None, id="no year"),
    pytest.param("Sat, 15-Apr-17 91:22:33 21:01:22", None, id="hour 91"),
    pytest.param("98 April 17 21:01:22", None, id="day 98"),
    pytest.param(
        "Thu, 012-Aug-2008 20:49:07 GMT", None, id="three-digit day is a year"
    ),
    pytest.param("Thu, 12-Aug-31841 20:49:07 GMT", None, id="five-digit year"),
    pytest.param("Thu, 12-Aug-2007 20:61:99999999999 GMT", None, id="long seconds"),
    # examples.json lists this as valid, but by the 5.1.1 grammar neither
    # "00:" nor "00:00" is a time token.
    pytest.param("Mon, 01-Jan-2011 00: 00:00 GMT", None, id="space inside the time"),
    pytest.param("Wed, 09 Jun 1600 10:18:14 GMT", None, id="year before 1601"),
    pytest.param("09 Jun 100 10:18:14", None, id="three-digit year 100"),
    pytest.param("Wed, 00 Jun 2021 10:18:14", None, id="day 0"),
    pytest.param("Wed, 32 Jun 2021 10:18:14", None, id="day 32"),
    pytest.param("31 Apr 2021 10:18:14", None, id="31 April"),
    pytest.param("29 Feb 2023 10:18:14", None, id="29 February of a common year"),
    pytest.param("09 Jun 2021 24:00:00", None, id="hour 24"),
    pytest.param("09 Jun 2021 10:60:00", None, id="minute 60"),
    pytest.param("09 Jun 2021 23:59:60", None, id="leap second"),
    pytest.param("09 Jun 2021 10:18:145", None, id="three-digit second"),
    pytest.param("09 Jun 2021 10:18", None, id="time without seconds"),
    pytest.param(
        "\u0660\u0669 Jun \u0662\u0660\u0662\u0661 \u0661\u0660:\u0661\u0668:00",
        None,
        id="non-ASCII digits",
    ),
]


@pytest.mark.parametrize(("text", "expected"), DATE_CASES)
def test_parse_cookie_date(text: str, expected: datetime | None) -> None:
    assert parse_cookie_date(text) == expected


# -- Max-Age (RFC 6265bis section 5.6.2) ------------------------------------

MAX_AGE_CASES = [
    pytest.param("0", 0, False, id="zero"),
    pytest.param("3600", 3600, False, id="an hour"),
    pytest.param("-1", -1, False, id="negative"),
    pytest.param("-0", 0, False, id="minus zero"),
    pytest.param("007", 7, False, id="leading zeros"),
    # COOKIE_RULES.md max-age-invalid: Chromium accepts a leading "+".
    pytest.param("+5", None, True, id="leading plus"),
    pytest.param("+05", None, True, id="leading plus and zero"),
    pytest.param("", None, False, id="empty"),
    pytest.param("-", None, False, id="only a minus"),
    pytest.param("+", None, False, id="only a plus"),
    pytest.param("--1", None, False, id="two minus signs"),
    pytest.param("+-5", None, False, id="plus minus"),
    pytest.param(" 5", None, False, id="whitespace is not trimmed here"),
    pytest.param("5s", None, False, id="unit suffix"),
    pytest.param("1.5", None, False, id="fraction"),
    pytest.param("1e3", None, False, id="exponent"),
    pytest.param("0x10", None, False, id="hexadecimal"),
    pytest.param("\u0663", None, False, id="Arabic-Indic digit"),
    pytest.param("+\u0663", None, False, id="plus and a non-ASCII digit"),
    pytest.param("\u00b2", None, False, id="superscript two"),
    pytest.param(str(INT64_MAX), INT64_MAX, False, id="int64 max"),
    pytest.param(str(INT64_MAX + 1), INT64_MAX, False, id="past int64 is clamped"),
    pytest.param("9" * 20, INT64_MAX, False, id="twenty digits"),
    pytest.param("-" + "9" * 20, -INT64_MAX, False, id="large negative"),
    pytest.param("1" * 5000, INT64_MAX, False, id="longer than int() accepts"),
    pytest.param("0" * 5000 + "42", 42, False, id="many leading zeros"),
]


@pytest.mark.parametrize(("text", "seconds", "plus"), MAX_AGE_CASES)
def test_parse_max_age(text: str, seconds: int | None, plus: bool) -> None:
    assert parse_max_age(text) == seconds
    assert max_age_has_plus(text) is plus


# -- properties ---------------------------------------------------------------

# Text rich in the characters the parser cares about.
SPECIAL = st.sampled_from([";", "=", " ", "\t", '"', "\r", "\n", ",", "\x00"])
WORDS = st.sampled_from(
    ["Path", "path", "Secure", "SameSite", "Domain", "Max-Age", "Expires", "a", "/"]
)
HEADERS = st.one_of(
    st.text(),
    st.text(alphabet=st.one_of(SPECIAL, st.characters())),
    st.binary().map(lambda raw: raw.decode("latin-1")),
    st.lists(st.one_of(SPECIAL, WORDS, st.text(max_size=3))).map("".join),
    st.lists(st.one_of(SPECIAL, WORDS)).map("".join),
)
ADD_NAMES = ["Path", "domain", "Secure", "httponly", "SameSite", "Partitioned", "X-Y"]
EDIT_KEYS = [*(name.lower() for name in ADD_NAMES), "max-age", "", "expires"]
SAFE_VALUES = st.text(alphabet="abcXYZ/.-_=019 ", max_size=8).map(
    lambda value: value.strip()
)
EDITS = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.sampled_from(ADD_NAMES), st.none() | SAFE_VALUES),
        st.tuples(st.just("remove"), st.sampled_from(EDIT_KEYS), st.none()),
        st.tuples(st.just("replace_value"), st.sampled_from(EDIT_KEYS), SAFE_VALUES),
        st.tuples(
            st.just("remove_earlier_duplicates"), st.sampled_from(EDIT_KEYS), st.none()
        ),
    ),
    max_size=8,
)


@given(HEADERS)
@settings(max_examples=400)
def test_any_text_round_trips(header: str) -> None:
    cookie = SetCookie.parse(header)
    assert str(cookie) == header
    assert cookie.edit().render() is header
    # The spans tile the header: whitespace, pair, attributes in order.
    assert header[: cookie.pair_start].strip(" \t") == ""
    assert cookie.pair_start <= cookie.pair_end
    position = cookie.pair_end
    for attribute in cookie.attributes:
        assert attribute.start == position
        span = header[attribute.start : attribute.end].lstrip(" \t")
        assert span[:1] == ";"
        # Its name trimmed and its key in ASCII lower case (the common
        # names are taken from a table: the same).
        assert attribute.name == span[1:].partition("=")[0].strip(" \t")
        assert attribute.key == "".join(
            c.lower() if c.isascii() else c for c in attribute.name
        )
        position = attribute.end
    if cookie.attributes:
        assert position == len(header)
    else:
        assert header[position:].strip(" \t") == ""
    # The cached parse is the same parse.
    cache = ParseCache()
    for _ in range(2):
        cached = SetCookie.parse(header, cache)
        assert cached.attributes == cookie.attributes
        assert (cached.name, cached.value) == (cookie.name, cookie.value)
    # get() agrees with the attribute list (last live occurrence wins).
    for key in set(cookie.names_in_order):
        live = [a for a in cookie.attributes if a.key == key and not a.too_long]
        expected = None if not live else (live[-1].value or "")
        assert cookie.get(key) == expected
        assert cookie.count(key) == len(live)
    # repeated and too_long agree with the attribute list.
    processed = [a.key for a in cookie.attributes if a.key and not a.too_long]
    assert cookie.repeated == sorted({k for k in processed if processed.count(k) > 1})
    assert cookie.too_long == tuple(a for a in cookie.attributes if a.too_long)


@given(HEADERS, EDITS)
@settings(max_examples=400)
def test_edits_never_touch_the_pair(
    header: str, edits: list[tuple[str, str, str | None]]
) -> None:
    cookie = SetCookie.parse(header)
    editor = cookie.edit()
    last_op: dict[str, tuple[str, str | None]] = {}
    for op, name, value in edits:
        key = name.lower()
        if op == "add":
            editor.add(name, value)
        elif op == "remove":
            editor.remove(key)
        elif op == "replace_value":
            assert value is not None
            try:
                editor.replace_value(key, value)
            except KeyError:
                continue
        else:
            editor.remove_earlier_duplicates(key)
            continue
        last_op[key] = (op, value)
    output = editor.render()
    assert output[: cookie.pair_end] == header[: cookie.pair_end]
    again = SetCookie.parse(output)
    assert (again.name, again.value, again.pair) == (
        cookie.name,
        cookie.value,
        cookie.pair,
    )
    for key, (op, value) in last_op.items():
        if op == "remove":
            assert key not in again.names_in_order
        elif op == "add":
            expected = "" if value is None else value
            if key == "samesite":
                expected = {"lax": "Lax", "strict": "Strict", "none": "None"}.get(
                    expected.lower(), expected
                )
            assert again.get(key) == expected


@given(st.text())
def test_dates_and_max_age_never_raise(text: str) -> None:
    result = parse_cookie_date(text)
    assert result is None or result.tzinfo is UTC
    parse_max_age(text)
    max_age_has_plus(text)


@given(
    st.datetimes(
        min_value=datetime(1601, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)
    ).map(lambda moment: moment.replace(microsecond=0, tzinfo=UTC))
)
def test_formatted_dates_parse_back(moment: datetime) -> None:
    # The forms servers send (werkzeug/http.cookies write the first two).
    for pattern in ("%a, %d %b %Y %H:%M:%S GMT", "%a, %d-%b-%Y %H:%M:%S GMT"):
        text = f"{moment:{pattern}}"
        assert parse_cookie_date(text) == moment


@given(st.integers(min_value=-INT64_MAX, max_value=INT64_MAX))
def test_max_age_integers_parse_back(seconds: int) -> None:
    assert parse_max_age(str(seconds)) == seconds
    assert max_age_has_plus(f"+{abs(seconds)}")
