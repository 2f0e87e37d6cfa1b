"""Tests for wsgifix.forwarded: pure parsing of forwarding headers.

Rows cite where they come from: RFC 7239 (Forwarded), RFC 9110 section 5.6.1
(lists), CONTRACT.md section 7, or the peer test they mirror (werkzeug
tests/middleware/test_proxy_fix.py, waitress tests/test_proxy_headers.py,
uvicorn tests/middleware/test_proxy_headers.py, Django
tests/requests_tests/tests.py HostValidationTests). Where a peer accepts a
value we reject (or the reverse), the row's id says so.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wsgifix.forwarded import (
    MAX_EMPTY,
    MAX_HOPS,
    HeaderError,
    Node,
    is_ip,
    iter_from_right,
    normalize_prefix,
    nth_from_right,
    parse_forwarded,
    parse_host,
    parse_node,
    parse_xff_item,
)

# -- iter_from_right / nth_from_right ------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # RFC 9110 5.6.1: empty list elements are ignored, OWS around commas.
        pytest.param("", [], id="empty header"),
        pytest.param("a,b,c", ["c", "b", "a"], id="rightmost first"),
        pytest.param("\ta\t,\t b ", ["b", "a"], id="spaces and tabs stripped"),
        pytest.param("a b, c", ["c", "a b"], id="inner spaces kept"),
        pytest.param(",a,,b,", ["b", "a"], id="leading, doubled, trailing commas"),
        # uvicorn test_proxy_headers_trusted_hosts_malformed
        pytest.param(" , ", [], id="uvicorn: only OWS and a comma"),
        pytest.param(", , ", [], id="uvicorn: only commas"),
        pytest.param(" , 10.0.0.1", ["10.0.0.1"], id="uvicorn: empty then one"),
        pytest.param(
            "9.9.9.9 , , , 10.0.0.1",
            ["10.0.0.1", "9.9.9.9"],
            id="uvicorn: empties in the middle",
        ),
        pytest.param(", , 9.9.9.9, , ", ["9.9.9.9"], id="uvicorn: empties around"),
        # uvicorn test_proxy_headers_duplicate_x_forwarded_for_is_combined:
        # two header lines, joined by the server, are one list.
        pytest.param(
            "203.0.113.66, 198.51.100.23, 127.0.0.1",
            ["127.0.0.1", "198.51.100.23", "203.0.113.66"],
            id="uvicorn: joined duplicate lines",
        ),
        # X-Forwarded-* lists have no quoting (RFC 7239 is parsed separately).
        pytest.param('a,"b,c"', ['c"', '"b', "a"], id="quotes are not understood"),
    ],
)
def test_iter_from_right(value: str, expected: list[str]) -> None:
    assert list(iter_from_right(value)) == expected


def test_a_list_ends_after_max_empty_empty_items() -> None:
    # Runs of commas cannot make a walk as long as the header (a 250 KB
    # one walked item by item cost ~90 ms): empty items are ignored up to
    # MAX_EMPTY, and the list ends there.
    # (n + 1 commas between two items: n empty items)
    assert list(iter_from_right("a" + "," * (MAX_EMPTY + 1) + "b")) == ["b", "a"]
    assert list(iter_from_right("a" + ", " * (MAX_EMPTY + 2) + "b")) == ["b"]
    assert list(iter_from_right("," * 250_000)) == []


@pytest.mark.parametrize(
    ("value", "n", "expected"),
    [
        # werkzeug "prefix < for": X-Forwarded-Prefix "/ham, /eggs", x_prefix=1
        pytest.param("/ham, /eggs", 1, "/eggs", id="werkzeug: last of two"),
        pytest.param("/ham, /eggs", 2, "/ham", id="second from the right"),
        # CONTRACT.md section 7: "the value at position -N, else the leftmost"
        pytest.param("/ham, /eggs", 3, "/ham", id="fewer than n: leftmost"),
        pytest.param("a", MAX_HOPS, "a", id="one item, n=MAX_HOPS"),
        # waitress ..._forwarded_host_multiple_with_forwarded_port(_limit_one)
        pytest.param(
            "example.com, example.org", 1, "example.org", id="waitress: count 1"
        ),
        pytest.param(
            "example.com, example.org", 2, "example.com", id="waitress: count 2"
        ),
        # RFC 9110 5.6.1: empty items do not count as positions.
        pytest.param("a, ,b", 2, "a", id="empty items are not positions"),
        pytest.param("", 1, None, id="empty header: None"),
        pytest.param(" , ,", 2, None, id="only empty items: None"),
    ],
)
def test_nth_from_right(value: str, n: int, expected: str | None) -> None:
    assert nth_from_right(value, n) == expected


def test_nth_from_right_rejects_n_below_one() -> None:
    with pytest.raises(ValueError, match="n must be >= 1"):
        nth_from_right("a, b", 0)


def test_iter_from_right_long_list_walks_only_what_is_consumed() -> None:
    # CONTRACT.md section 7: at most MAX_HOPS entries are walked, whatever the
    # header's length. Not a timing test: the 64 rightmost items must come out
    # in order, and a lazy walk makes that cheap for 10,000 items.
    addresses = [f"10.{i // 65536}.{i // 256 % 256}.{i % 256}" for i in range(10_000)]
    value = ", ".join(addresses)
    walked = list(itertools.islice(iter_from_right(value), MAX_HOPS))
    assert walked == addresses[::-1][:MAX_HOPS]
    assert nth_from_right(value, MAX_HOPS) == addresses[-MAX_HOPS]


def test_iter_from_right_with_empty_items_and_spaces() -> None:
    # RFC 9110 5.6.1 example shapes: "foo,bar", "foo ,bar,", "foo , ,bar,charlie"
    value = " ,\t1.1.1.1 , ,2.2.2.2,,\t3.3.3.3\t, "
    walk = iter_from_right(value)
    assert next(walk) == "3.3.3.3"
    assert next(walk) == "2.2.2.2"
    assert next(walk) == "1.1.1.1"
    assert next(walk, None) is None


# -- parse_xff_item -------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        # werkzeug test_proxy_fix "for"
        pytest.param("192.168.0.1", Node("192.168.0.1", None), id="werkzeug: IPv4"),
        # waitress ..._forwarded_for_v6_missing_brackets
        pytest.param("2001:db8::0", Node("2001:db8::0", None), id="waitress: bare v6"),
        # waitress test_get_environment_warning_other_proxy_headers
        pytest.param("[2001:db8::1]", Node("2001:db8::1", None), id="bracketed v6"),
        # uvicorn test_proxy_headers_x_forwarded_for_port_shapes
        pytest.param("1.2.3.4:1234", Node("1.2.3.4", "1234"), id="uvicorn: v4:port"),
        pytest.param(
            "[2001:db8::1]:443", Node("2001:db8::1", "443"), id="uvicorn: [v6]:port"
        ),
        pytest.param("2001:db8::1", Node("2001:db8::1", None), id="uvicorn: bare v6"),
        # uvicorn test_proxy_headers_multiple_proxies_with_ports
        pytest.param(
            "192.168.0.2:9000", Node("192.168.0.2", "9000"), id="uvicorn: proxy:port"
        ),
        # Our choices: the text is kept as given (case, zeros), OWS stripped.
        pytest.param(" \t1.2.3.4 ", Node("1.2.3.4", None), id="OWS stripped"),
        pytest.param("2001:DB8::A", Node("2001:DB8::A", None), id="v6 case kept"),
        pytest.param("::ffff:10.0.0.1", Node("::ffff:10.0.0.1", None), id="mapped"),
        pytest.param("1.2.3.4:08080", Node("1.2.3.4", "08080"), id="port as given"),
        pytest.param("1.2.3.4:65535", Node("1.2.3.4", "65535"), id="max port"),
        # RFC 7239 6.2 / 6.3 identifiers, also found in X-Forwarded-For.
        pytest.param("unknown", Node(None, None), id="unknown"),
        pytest.param("Unknown:1234", Node(None, None), id="unknown:port drops port"),
        pytest.param("_hidden", Node(None, None), id="obfuscated"),
        pytest.param("1.2.3.4:_p1", Node("1.2.3.4", None), id="obfuscated port"),
    ],
)
def test_parse_xff_item(item: str, expected: Node) -> None:
    assert parse_xff_item(item) == expected


@pytest.mark.parametrize(
    "item",
    [
        # uvicorn test_proxy_headers_x_forwarded_for_port_shapes: uvicorn keeps
        # these as text; we reject them.
        pytest.param("1.2.3.4:notaport", id="uvicorn: port not digits"),
        pytest.param("[2001:db8::1]:notaport", id="uvicorn: [v6] port not digits"),
        pytest.param("[2001:db8::1]extra", id="uvicorn: text after ]"),
        pytest.param("[2001:db8::1", id="uvicorn: unclosed bracket"),
        # uvicorn test_proxy_headers_invalid_x_forwarded_for
        pytest.param("\xf0\xfd\xfd\xfd", id="uvicorn: latin-1 garbage"),
        pytest.param("unix:", id="uvicorn: unix:"),
        # waitress test_parse_forwarded_for_bad_quote
        pytest.param('"foo', id="waitress: bad quote"),
        pytest.param('"1.2.3.4"', id="quoted address"),
        pytest.param("example.com", id="host name"),
        pytest.param("", id="empty"),
        pytest.param(" \t", id="only OWS"),
        pytest.param("fe80::1%eth0", id="zone id"),
        pytest.param("[fe80::1%eth0]:80", id="bracketed zone id"),
        pytest.param("1.2.3.4:0", id="port 0"),
        pytest.param("1.2.3.4:65536", id="port too big"),
        pytest.param("1.2.3.4:000080", id="port over 5 digits"),
        pytest.param("1.2.3.4:", id="empty port"),
        pytest.param("1.2.3.256", id="octet too big"),
        pytest.param("01.2.3.4", id="leading zero octet"),
        pytest.param("1.2.3", id="three octets"),
        pytest.param("1.2.3.4 5.6.7.8", id="two addresses without comma"),
        pytest.param("1.2.3.4:80:81", id="two ports"),
        pytest.param("[1.2.3.4]", id="IPv4 in brackets"),
        pytest.param("_", id="obfuscated without characters"),
        pytest.param("_a/b", id="obfuscated with a bad character"),
        pytest.param("1.2.3.4:\u0661\u0662", id="non-ASCII digits"),
    ],
)
def test_parse_xff_item_invalid(item: str) -> None:
    with pytest.raises(HeaderError):
        parse_xff_item(item)


# -- parse_node -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # RFC 7239 section 6 examples
        pytest.param("192.0.2.43:47011", Node("192.0.2.43", "47011"), id="v4:port"),
        pytest.param(
            "[2001:db8:cafe::17]:47011",
            Node("2001:db8:cafe::17", "47011"),
            id="[v6]:port",
        ),
        # RFC 7239 section 7.1 example
        pytest.param("192.0.2.43", Node("192.0.2.43", None), id="v4"),
        pytest.param("[2001:db8:cafe::17]", Node("2001:db8:cafe::17", None), id="[v6]"),
        # RFC 7239 section 6.2; ABNF literals are case-insensitive (RFC 5234)
        pytest.param("unknown", Node(None, None), id="unknown"),
        pytest.param("UNKNOWN", Node(None, None), id="unknown upper case"),
        pytest.param("unknown:_p1", Node(None, None), id="unknown with obfport"),
        # RFC 7239 section 6.3 example
        pytest.param("_hidden", Node(None, None), id="obfnode"),
        pytest.param("_SEVKISEK", Node(None, None), id="obfnode upper case"),
        pytest.param("_a.b-c_d", Node(None, None), id="obfnode punctuation"),
        # RFC 7239 section 6: node-port = port / obfport
        pytest.param("192.0.2.43:_abc", Node("192.0.2.43", None), id="obfport"),
        # waitress test_parse_forwarded_multiple_proxies
        pytest.param(
            "[2001:db8::1]:3821", Node("2001:db8::1", "3821"), id="waitress: [v6]:port"
        ),
        pytest.param(
            "[::ffff:192.0.2.1]:80", Node("::ffff:192.0.2.1", "80"), id="mapped v6"
        ),
    ],
)
def test_parse_node(value: str, expected: Node) -> None:
    assert parse_node(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        # RFC 7239 section 6.1: "IPv6 addresses are always enclosed in brackets"
        pytest.param("2001:db8::1", id="bare v6"),
        pytest.param("::1", id="bare loopback v6"),
        pytest.param("example.com", id="host name"),
        pytest.param("", id="empty"),
        pytest.param(" 192.0.2.43", id="leading space (value is already unquoted)"),
        pytest.param("192.0.2.43:", id="empty port"),
        pytest.param("192.0.2.43:0", id="port 0"),
        pytest.param("192.0.2.43:65536", id="port too big"),
        pytest.param("192.0.2.43:123456", id="port of 6 digits (port = 1*5DIGIT)"),
        pytest.param("192.0.2.43:abc", id="port not digits nor obfport"),
        pytest.param("192.0.2.43:_", id="obfport without characters"),
        pytest.param("[2001:db8::1", id="unclosed bracket"),
        pytest.param("[2001:db8::1]x", id="text after bracket"),
        pytest.param("[192.0.2.1]", id="v4 in brackets"),
        pytest.param("[fe80::1%eth0]", id="zone id"),
        pytest.param("_a b", id="space in obfnode"),
        pytest.param("unknownx", id="not quite unknown"),
        pytest.param("un\u212anown", id="Kelvin sign look-alike of unknown"),
    ],
)
def test_parse_node_invalid(value: str) -> None:
    with pytest.raises(HeaderError):
        parse_node(value)


# -- parse_forwarded ----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # RFC 7239 section 4 examples
        pytest.param('for="_gazonk"', [{"for": "_gazonk"}], id="rfc 4: quoted obf"),
        pytest.param(
            'For="[2001:db8:cafe::17]:4711"',
            [{"for": "[2001:db8:cafe::17]:4711"}],
            id="rfc 4: name case folded, quoted v6",
        ),
        pytest.param(
            "for=192.0.2.60;proto=http;by=203.0.113.43",
            [{"for": "192.0.2.60", "proto": "http", "by": "203.0.113.43"}],
            id="rfc 4: three pairs",
        ),
        pytest.param(
            "for=192.0.2.43, for=198.51.100.17",
            [{"for": "192.0.2.43"}, {"for": "198.51.100.17"}],
            id="rfc 4: two elements",
        ),
        # RFC 7239 section 7.1: with and without spaces after commas
        pytest.param(
            'for=192.0.2.43,for="[2001:db8:cafe::17]",for=unknown',
            [{"for": "192.0.2.43"}, {"for": "[2001:db8:cafe::17]"}, {"for": "unknown"}],
            id="rfc 7.1: no spaces",
        ),
        pytest.param(
            'for=192.0.2.43, for="[2001:db8:cafe::17]", for=unknown',
            [{"for": "192.0.2.43"}, {"for": "[2001:db8:cafe::17]"}, {"for": "unknown"}],
            id="rfc 7.1: spaces",
        ),
        # RFC 7239 section 6.3 example
        pytest.param(
            "for=_hidden, for=_SEVKISEK",
            [{"for": "_hidden"}, {"for": "_SEVKISEK"}],
            id="rfc 6.3: obfuscated",
        ),
        # Smuggling: separators inside a quoted string belong to the value.
        pytest.param(
            'for="1.2.3.4;host=evil"',
            [{"for": "1.2.3.4;host=evil"}],
            id="quoted semicolon never sets host",
        ),
        pytest.param(
            'for="1.2.3.4, for=6.6.6.6"',
            [{"for": "1.2.3.4, for=6.6.6.6"}],
            id="quoted comma is not a new element",
        ),
        pytest.param(
            'for="a\\";host=evil";proto=https',
            [{"for": 'a";host=evil', "proto": "https"}],
            id="escaped quote does not close the string",
        ),
        # RFC 9110 5.6.4: quoted-pair
        pytest.param('for="a\\\\"', [{"for": "a\\"}], id="escaped backslash"),
        pytest.param('for="\\_x"', [{"for": "_x"}], id="escaped ordinary char"),
        pytest.param('for="a\\\tb"', [{"for": "a\tb"}], id="escaped tab"),
        pytest.param('for=""', [{"for": ""}], id="empty quoted string"),
        pytest.param('ext="caf\xe9"', [{"ext": "caf\xe9"}], id="obs-text in quotes"),
        # CONTRACT.md section 7: OWS around ";" and "," is accepted
        pytest.param(
            "for=1.2.3.4 ; proto=https , for=5.6.7.8",
            [{"for": "1.2.3.4", "proto": "https"}, {"for": "5.6.7.8"}],
            id="spaces around ; and ,",
        ),
        pytest.param(
            "for=1.2.3.4\t;\tproto=https",
            [{"for": "1.2.3.4", "proto": "https"}],
            id="tabs around ;",
        ),
        pytest.param("  for=1.2.3.4  ", [{"for": "1.2.3.4"}], id="OWS around header"),
        # RFC 9110 5.6.1: empty list elements are ignored
        pytest.param(", ,for=1.2.3.4,,", [{"for": "1.2.3.4"}], id="empty elements"),
        pytest.param("", [], id="empty header"),
        pytest.param(" , , ", [], id="only commas"),
        pytest.param(";, for=1.2.3.4", [{"for": "1.2.3.4"}], id="element of only ;"),
        # waitress test_parse_forwarded_empty_pair
        pytest.param(
            "For=198.51.100.2;;proto=https;by=_unused",
            [{"for": "198.51.100.2", "proto": "https", "by": "_unused"}],
            id="waitress: empty pair",
        ),
        # waitress test_parse_forwarded_warning_unknown_token: kept, ignored later
        pytest.param(
            'for=198.51.100.2;unknown="yolo"',
            [{"for": "198.51.100.2", "unknown": "yolo"}],
            id="waitress: unknown parameter kept",
        ),
        # waitress test_parse_forwarded_multiple_proxies (quoted form)
        pytest.param(
            'for="[2001:db8::1]:3821";host="example.com:8443";proto="https", '
            'for=192.0.2.1;host="example.internal:8080"',
            [
                {
                    "for": "[2001:db8::1]:3821",
                    "host": "example.com:8443",
                    "proto": "https",
                },
                {"for": "192.0.2.1", "host": "example.internal:8080"},
            ],
            id="waitress: quoted host:port and v6",
        ),
        # RFC 7239 section 4: parameter names are case-insensitive
        pytest.param(
            "FOR=1.2.3.4;Proto=HTTPS;HoSt=Example.com",
            [{"for": "1.2.3.4", "proto": "HTTPS", "host": "Example.com"}],
            id="names lower-cased, values kept",
        ),
        # RFC 9110 5.6.2: every tchar is allowed in a token value
        pytest.param(
            "x=!#$%&'*+-.^_`|~09AZaz",
            [{"x": "!#$%&'*+-.^_`|~09AZaz"}],
            id="all tchars",
        ),
        pytest.param(
            "for=1.2.3.4;proto=http, for=5.6.7.8;proto=https",
            [
                {"for": "1.2.3.4", "proto": "http"},
                {"for": "5.6.7.8", "proto": "https"},
            ],
            id="same name in different elements",
        ),
    ],
)
def test_parse_forwarded(value: str, expected: list[dict[str, str]]) -> None:
    assert parse_forwarded(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # waitress tests/test_proxy_headers.py test_parse_forwarded: RFC 7239
        # section 4 wants ":" and "[" quoted; we accept them unquoted, as
        # waitress does, since they separate nothing.
        pytest.param(
            "For=198.51.100.2:5858;host=example.com:8080;proto=https",
            [
                {
                    "for": "198.51.100.2:5858",
                    "host": "example.com:8080",
                    "proto": "https",
                }
            ],
            id="waitress: unquoted node-port and host:port",
        ),
        pytest.param(
            "for=[2001:db8::1]:80", [{"for": "[2001:db8::1]:80"}], id="unquoted v6"
        ),
    ],
)
def test_parse_forwarded_lenient(value: str, expected: list[dict[str, str]]) -> None:
    assert parse_forwarded(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        # waitress test_parse_forwarded_pair_no_equals
        pytest.param("For", id="waitress: no equals"),
        # waitress test_parse_forwarded_pair_token_whitespace
        pytest.param("For=198.51.100.2; proto =https", id="waitress: space before ="),
        # waitress test_parse_forwarded_pair_value_whitespace
        pytest.param('For= "198.51.100.2"', id="waitress: space after ="),
        pytest.param("for=", id="empty token value"),
        pytest.param("for=;proto=http", id="empty token value before ;"),
        pytest.param("=1.2.3.4", id="no name"),
        pytest.param('"for"=1.2.3.4', id="quoted name"),
        pytest.param("f@r=1.2.3.4", id="name not a token"),
        pytest.param('for="1.2.3.4', id="unterminated quote"),
        pytest.param('for="1.2.3.4\\"', id="unterminated: final quote escaped"),
        pytest.param('for="1.2.3.4\\', id="unterminated: trailing backslash"),
        pytest.param("for=1.2.3.4;for=5.6.7.8", id="repeated parameter"),
        pytest.param("for=1.2.3.4;FOR=5.6.7.8", id="repeated, other case"),
        pytest.param('for="1.2.3.4"x', id="text after quoted string"),
        pytest.param('for="a" "b"', id="two quoted strings"),
        pytest.param("for=1.2.3.4 5.6.7.8", id="two tokens"),
        pytest.param("for=a=b", id="= in token value"),
        pytest.param('for=a"b"', id="quote inside token"),
        pytest.param("for=1.2.3.4\r\nhost=evil", id="CRLF"),
        pytest.param('for="a\x00b"', id="NUL in quotes"),
        pytest.param('for="a\\\x7f"', id="quoted-pair of DEL"),
        pytest.param("for=\u0100", id="beyond latin-1"),
        pytest.param("for=1.2.3.4, garbage", id="syntax error in a later element"),
    ],
)
def test_parse_forwarded_invalid(value: str) -> None:
    with pytest.raises(HeaderError):
        parse_forwarded(value)


def test_parse_forwarded_is_linear_on_hostile_input() -> None:
    # Not a timing test: a quadratic parser would not finish these in the
    # test run. Many escapes in one quoted string, many escaped quotes, many
    # pairs, many empty elements.
    escapes = 'for="' + "\\a" * 100_000 + '"'
    assert parse_forwarded(escapes) == [{"for": "a" * 100_000}]
    quotes = 'for="' + '\\"' * 100_000 + '"'
    assert parse_forwarded(quotes) == [{"for": '"' * 100_000}]
    pairs = ";".join(f"p{i}=v" for i in range(20_000))
    assert len(parse_forwarded(pairs)[0]) == 20_000
    assert parse_forwarded("," * 100_000 + "for=_x") == [{"for": "_x"}]
    with pytest.raises(HeaderError):
        parse_forwarded('for="' + "\\a" * 100_000)


# -- parse_host -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # Django HostValidationTests legit_hosts
        pytest.param("example.com", ("example.com", None), id="django: name"),
        pytest.param("example.com:80", ("example.com", 80), id="django: name:port"),
        pytest.param("12.34.56.78", ("12.34.56.78", None), id="django: v4"),
        pytest.param("12.34.56.78:443", ("12.34.56.78", 443), id="django: v4:port"),
        pytest.param(
            "[2001:19f0:feee::dead:beef:cafe]",
            ("[2001:19f0:feee::dead:beef:cafe]", None),
            id="django: [v6]",
        ),
        pytest.param(
            "[2001:19f0:feee::dead:beef:cafe]:8080",
            ("[2001:19f0:feee::dead:beef:cafe]", 8080),
            id="django: [v6]:port",
        ),
        pytest.param("xn--4ca9at.com", ("xn--4ca9at.com", None), id="django: punycode"),
        pytest.param("INSENSITIVE.com", ("insensitive.com", None), id="django: case"),
        pytest.param(
            "example.com.", ("example.com.", None), id="django: trailing dot kept"
        ),
        pytest.param(
            "example.com.:80", ("example.com.", 80), id="django: trailing dot, port"
        ),
        pytest.param(
            "[::ffff:169.254.169.254]",
            ("[::ffff:169.254.169.254]", None),
            id="django: mapped v6",
        ),
        # werkzeug test_proxy_fix hosts
        pytest.param("spam:9000", ("spam", 9000), id="werkzeug: single label"),
        pytest.param(
            "[2001:db8::a]:9000", ("[2001:db8::a]", 9000), id="werkzeug: [v6]:port"
        ),
        # CONTRACT.md section 7 host grammar
        pytest.param("[2001:DB8::A]", ("[2001:db8::a]", None), id="v6 lower-cased"),
        pytest.param("under_score.example", ("under_score.example", None), id="_"),
        pytest.param("a-b.c-d", ("a-b.c-d", None), id="hyphens"),
        pytest.param("localhost:1", ("localhost", 1), id="port 1"),
        pytest.param("localhost:65535", ("localhost", 65535), id="port 65535"),
        pytest.param("localhost:080", ("localhost", 80), id="leading zero port"),
        pytest.param("a" * 63 + ".com", ("a" * 63 + ".com", None), id="63-char label"),
        pytest.param(
            ".".join(["a" * 63] * 3 + ["b" * 61]),
            (".".join(["a" * 63] * 3 + ["b" * 61]), None),
            id="253-char name",
        ),
        pytest.param(
            ".".join(["a" * 63] * 3 + ["b" * 61]) + ".",
            (".".join(["a" * 63] * 3 + ["b" * 61]) + ".", None),
            id="253-char name and trailing dot",
        ),
        pytest.param("1.example", ("1.example", None), id="numeric first label"),
        pytest.param("example.1a", ("example.1a", None), id="alphanumeric last label"),
    ],
)
def test_parse_host(value: str, expected: tuple[str, int | None]) -> None:
    assert parse_host(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        # Django HostValidationTests poisoned_hosts
        pytest.param("example.com@evil.tld", id="django: userinfo"),
        pytest.param("example.com:dr.frankenstein@evil.tld", id="django: user:pass"),
        pytest.param("example.com:dr.frankenstein@evil.tld:80", id="django: +port"),
        pytest.param("example.com:80/badpath", id="django: path"),
        pytest.param("example.com: recovermypassword.com", id="django: space"),
        pytest.param("example.com..", id="django: two trailing dots"),
        # CONTRACT.md sections 3 and 7
        pytest.param("ex.com/x", id="slash"),
        pytest.param("ex.com\\x", id="backslash"),
        pytest.param("[::1]evil", id="text after ]"),
        pytest.param("host:abc", id="port not digits"),
        pytest.param("host:", id="empty port"),
        pytest.param("host:0", id="port 0"),
        pytest.param("host:65536", id="port too big"),
        pytest.param("host:+80", id="signed port"),
        pytest.param("host:8 0", id="space in port"),
        pytest.param("", id="empty"),
        pytest.param(":80", id="port only"),
        pytest.param(" example.com", id="leading space"),
        pytest.param("exa mple.com", id="inner space"),
        pytest.param("example.com\t", id="trailing tab"),
        pytest.param("::1", id="bare v6"),
        pytest.param("[::1", id="unclosed bracket"),
        pytest.param("[1.2.3.4]", id="v4 in brackets"),
        pytest.param("[fe80::1%25eth0]", id="zone id"),
        pytest.param("[v1.x]", id="IPvFuture"),
        pytest.param(".example.com", id="leading dot"),
        pytest.param("a..b", id="empty label"),
        pytest.param(".", id="only a dot"),
        pytest.param("a" * 64 + ".com", id="64-char label"),
        pytest.param(".".join(["a" * 63] * 3 + ["b" * 62]), id="254-char name"),
        pytest.param("b\xfccher.de", id="non-ASCII (use punycode)"),
        pytest.param("ex*ample.com", id="star"),
        # WHATWG URL reads a numeric last label as IPv4: must be a real one.
        pytest.param("1.2.3", id="short dotted number"),
        pytest.param("256.1.1.1", id="octet too big"),
        pytest.param("01.2.3.4", id="leading zero octet"),
        pytest.param("0x7f.1", id="hex number"),
        pytest.param("example.0x1f", id="hex last label"),
        pytest.param("1.2.3.4.", id="v4 with trailing dot"),
        pytest.param("x" * 10_000, id="long value, uncached path"),
    ],
)
def test_parse_host_invalid(value: str) -> None:
    with pytest.raises(HeaderError):
        parse_host(value)


# -- is_ip --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # uvicorn test_forwarded_hosts addresses and literals
        pytest.param("127.0.0.1", True, id="uvicorn: v4"),
        pytest.param("::", True, id="uvicorn: unspecified v6"),
        pytest.param("::1", True, id="uvicorn: loopback v6"),
        pytest.param("2001:db8:3333:4444:5555:6666:1.2.3.4", True, id="uvicorn: dual"),
        pytest.param("::b16:212c", True, id="uvicorn: compressed"),
        pytest.param("a:b:c:d::", True, id="uvicorn: trailing ::"),
        pytest.param("some-literal", False, id="uvicorn: literal"),
        pytest.param("unix:///foo/bar", False, id="uvicorn: unix url"),
        pytest.param("*", False, id="uvicorn: star"),
        pytest.param("", False, id="uvicorn: empty"),
        # Our rules: no brackets, no zone, no port, no spaces.
        pytest.param("[::1]", False, id="brackets"),
        pytest.param("fe80::1%eth0", False, id="zone id"),
        pytest.param("1.2.3.4:80", False, id="with port"),
        pytest.param(" 1.2.3.4", False, id="leading space"),
        pytest.param("01.2.3.4", False, id="leading zero"),
        pytest.param("1" * 100, False, id="long"),
    ],
)
def test_is_ip(text: str, expected: bool) -> None:
    assert is_ip(text) is expected


# -- normalize_prefix -----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # werkzeug test_proxy_fix "prefix" and "all"
        pytest.param("/eggs", "/eggs", id="werkzeug: prefix"),
        pytest.param("/ham", "/ham", id="werkzeug: all"),
        # CONTRACT.md section 3: SCRIPT_NAME normalization
        pytest.param("", "", id="empty"),
        pytest.param("/", "", id="root is empty (STYLE: waitress url_prefix=/)"),
        pytest.param("/a/", "/a", id="trailing slash dropped"),
        pytest.param("/a//b///", "/a/b", id="inner // collapsed"),
        pytest.param("/a/./b/.", "/a/b", id="dot segments dropped"),
        pytest.param("/.", "", id="only a dot"),
        pytest.param("/a/%2e/b", "/a/b", id="encoded dot segment dropped"),
        pytest.param("/a.b/..c", "/a.b/..c", id="dots inside names kept"),
        # PEP 3333: SCRIPT_NAME is decoded, bytes as latin-1 text
        pytest.param("/caf%C3%A9", "/caf\xc3\xa9", id="UTF-8 as latin-1"),
        pytest.param("/caf\xc3\xa9", "/caf\xc3\xa9", id="raw UTF-8 bytes as latin-1"),
        pytest.param("/%e0", "/\xe0", id="lower-case hex, one byte"),
        pytest.param("/a%25b", "/a%b", id="decoded once"),
        pytest.param("/a%252Fb", "/a%2Fb", id="double-encoded slash is text"),
        pytest.param("/a;v=1/~u", "/a;v=1/~u", id="sub-delims kept"),
        # CONTRACT.md section 3 "normalized": one leading /, .. resolved;
        # encoded characters other than / and controls decode as in paths.
        pytest.param("a", "/a", id="leading / added"),
        pytest.param("/a/../b", "/b", id=".. resolved"),
        pytest.param("/a/b/%2e%2e", "/a", id="encoded .. resolved"),
        pytest.param("/a%3Fx", "/a?x", id="encoded question mark decoded"),
        pytest.param("/a%20b", "/a b", id="encoded space decoded"),
        pytest.param("/" + "a/" * 200, "/" + "/".join(["a"] * 200), id="long"),
    ],
)
def test_normalize_prefix(value: str, expected: str) -> None:
    assert normalize_prefix(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        # CONTRACT.md section 3: "a prefix starting with //" is invalid
        pytest.param("//evil.example", id="starts with //"),
        pytest.param("///a", id="starts with ///"),
        pytest.param(" /a", id="leading space"),
        pytest.param("/..", id="only .. (above /)"),
        pytest.param("/a/../..", id=".. above / after a segment"),
        pytest.param("/%2e%2E/a", id="encoded .. segment"),
        pytest.param("/a%2Fb", id="encoded slash upper"),
        pytest.param("/a%2fb", id="encoded slash lower"),
        pytest.param("/a%", id="truncated escape"),
        pytest.param("/a%2", id="one hex digit"),
        pytest.param("/a%g0", id="not hex"),
        pytest.param("/a%+1", id="sign in escape"),
        pytest.param("/a?x=1", id="question mark"),
        pytest.param("/a#f", id="hash"),
        pytest.param("/a\\b", id="backslash"),
        pytest.param("/a%5Cb", id="encoded backslash"),
        pytest.param("/a b", id="space"),
        pytest.param("/a\tb", id="tab"),
        pytest.param("/a%0D%0ASet-Cookie:x", id="encoded CRLF"),
        pytest.param("/a\x7f", id="DEL"),
        pytest.param("/a%00", id="encoded NUL"),
        pytest.param("/\u20ac", id="beyond latin-1"),
    ],
)
def test_normalize_prefix_invalid(value: str) -> None:
    with pytest.raises(HeaderError):
        normalize_prefix(value)


# -- the API's shape ------------------------------------------------------------


def test_header_error_is_value_error_with_one_line_reason() -> None:
    with pytest.raises(HeaderError) as info:
        parse_host("bad\r\nhost\xe9" * 20)
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    assert message.isascii()
    assert "\n" not in message
    assert "\r" not in message
    assert len(message) < 200


def test_node_fields() -> None:
    assert Node._fields == ("ip", "port")
    assert MAX_HOPS == 64


# -- properties (hypothesis) ----------------------------------------------------

# Header text as servers hand it over: arbitrary bytes decoded as latin-1.
header_text = st.binary(max_size=200).map(lambda b: b.decode("latin-1"))
# Text made of the characters these grammars care about, to reach deep paths.
grammar_text = st.text(
    alphabet=' \t,;="\\:[]._-%/?#@unknowUNKfor0123456789abcdefABCDEF\xe9\x00',
    max_size=200,
)
# Long lists and deep quote nesting.
long_lists = st.lists(
    st.sampled_from(
        ["1.2.3.4", "[::1]:80", "unknown", "_x", "", " ", '"', "for=a", "::1"]
    ),
    max_size=300,
).map(", ".join)
nested_quotes = st.tuples(
    st.sampled_from(['"', '\\"', "\\", '"\\', "for=", ";", ","]),
    st.integers(min_value=0, max_value=400),
).map(lambda pair: 'for="' + pair[0] * pair[1])
anything = st.one_of(header_text, grammar_text, long_lists, nested_quotes, st.text())

FUNCTIONS: list[Callable[[str], object]] = [
    parse_xff_item,
    parse_node,
    parse_forwarded,
    parse_host,
    is_ip,
    normalize_prefix,
    lambda value: list(iter_from_right(value)),
    lambda value: nth_from_right(value, 3),
]


@given(anything)
def test_only_header_error_escapes(value: str) -> None:
    for function in FUNCTIONS:
        try:
            function(value)
        except HeaderError as exc:
            message = str(exc)
            assert message.isascii()
            assert "\n" not in message
            assert "\r" not in message


@given(anything)
def test_nodes_carry_real_ips(value: str) -> None:
    for function in (parse_xff_item, parse_node):
        try:
            node = function(value)
        except HeaderError:
            continue
        assert node.ip is None or is_ip(node.ip)
        assert node.port is None or 1 <= int(node.port) <= 65535
        if node.ip is None:
            assert node.port is None


@given(anything)
def test_prefix_is_a_safe_script_name(value: str) -> None:
    try:
        prefix = normalize_prefix(value)
    except HeaderError:
        return
    assert prefix == "" or prefix.startswith("/")
    assert not prefix.startswith("//")
    assert "//" not in prefix
    assert not prefix.endswith("/")
    assert ".." not in prefix.split("/")


@given(anything)
def test_host_result_is_normalized(value: str) -> None:
    try:
        host, port = parse_host(value)
    except HeaderError:
        return
    assert host == host.lower()
    assert host.isascii()
    again = host if port is None else f"{host}:{port}"
    assert parse_host(again) == (host, port)


@given(st.one_of(header_text, grammar_text, long_lists))
def test_iter_from_right_matches_split(value: str) -> None:
    # RFC 9110 5.6.1, the slow way: split, strip, drop empties, reverse.
    expected = [s.strip(" \t") for s in reversed(value.split(",")) if s.strip(" \t")]
    assert list(iter_from_right(value)) == expected
    for n in (1, 2, 5):
        want: str | None = None
        if expected:
            want = expected[min(n, len(expected)) - 1]
        assert nth_from_right(value, n) == want


token = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyz-_.!#$%&'*+^`|~0123456789", min_size=1
)
# qdtext and quoted-pair characters: HTAB, SP, VCHAR, obs-text.
qdvalue = st.text(
    alphabet=st.characters(
        min_codepoint=0x20,
        max_codepoint=0xFF,
        exclude_characters="\x7f",
        include_characters="\t",
    ),
    max_size=30,
)


@given(st.lists(st.dictionaries(token, qdvalue, min_size=1, max_size=4), max_size=5))
def test_parse_forwarded_round_trip(elements: list[dict[str, str]]) -> None:
    # RFC 7239 section 4 / RFC 9110 5.6.4: whatever a proxy quotes correctly
    # (backslash before " and \) comes back unchanged, commas and semicolons
    # in values included.
    def quote(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    header = " , ".join(
        " ; ".join(f"{name}={quote(text)}" for name, text in element.items())
        for element in elements
    )
    assert parse_forwarded(header) == elements


@given(
    st.one_of(
        st.lists(
            st.one_of(
                st.integers(0, 300).map(str),
                st.sampled_from(["00", "01", "", "1a", "٣", " 1", "0x1", "1\n"]),
            ),
            min_size=3,
            max_size=5,
        ).map(".".join),
        st.text(alphabet="0123456789.:abcdef%", max_size=20),
    )
)
def test_the_ipv4_pattern_accepts_what_ipaddress_accepts(text: str) -> None:
    import ipaddress

    from wsgifix.forwarded import IPV4

    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        accepted = False
    else:
        accepted = True
    assert (IPV4.fullmatch(text) is not None) == accepted
    assert is_ip(text) == _reference_is_ip(text)


def _reference_is_ip(text: str) -> bool:
    import ipaddress

    if "%" in text:
        return False
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
