"""Pure parsers for forwarding headers (no WSGI, no logging, no state).

Everything a reverse proxy tells the application arrives as header text, as
the WSGI server gave it (the header bytes decoded as latin-1). The functions
here turn that text into plain values or raise :class:`HeaderError`; the
proxy middleware decides what is trusted and what to do with an error.

- :func:`iter_from_right` and :func:`nth_from_right` walk a comma-separated
  list (RFC 9110 section 5.6.1) from the right, the end that the nearest
  proxies appended, and touch only the items they return.
- :func:`parse_xff_item` and :func:`parse_node` read one client or proxy
  address (X-Forwarded-For item, RFC 7239 section 6 node).
- :func:`parse_forwarded` reads a whole RFC 7239 ``Forwarded`` header.
- :func:`parse_host` reads a Host-style ``host[:port]``.
- :func:`normalize_prefix` turns ``X-Forwarded-Prefix`` into SCRIPT_NAME text.

Per-value functions whose inputs repeat from request to request (hosts,
proxy addresses, prefixes) are cached with :func:`functools.lru_cache`;
only values short enough to be valid go through the caches, so a client
cannot pin large strings in memory.

Error messages are one line of ASCII that quote the offending value
(shortened) but not the header's name, which the caller knows and prefixes:
``f"X-Forwarded-Port: {exc}"``. Nothing here raises anything but
HeaderError for any text input.
"""

from __future__ import annotations

import ipaddress
import re
import string
from collections.abc import Iterator
from functools import lru_cache
from typing import Final, NamedTuple

__all__ = [
    "MAX_EMPTY",
    "MAX_HOPS",
    "HeaderError",
    "Node",
    "is_ip",
    "iter_from_right",
    "normalize_prefix",
    "nth_from_right",
    "parse_forwarded",
    "parse_host",
    "parse_node",
    "parse_xff_item",
]

#: The most list items (or Forwarded elements) the proxy layer walks.
MAX_HOPS: Final = 64
#: The most empty list items read (RFC 9110 5.6.1: ignored): a list ends
#: after that many, so that runs of commas cannot make a walk as long as
#: the header (no proxy writes more than a few).
MAX_EMPTY: Final = 64

_CACHE_SIZE: Final = 1024
# Valid hosts are at most 253 + 1 + 6 characters; longer values of any kind
# are parsed without the caches so that cache entries stay small.
_CACHEABLE: Final = 260
# "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255" is the longest IP text.
_MAX_IP_LEN: Final = 45

_OWS: Final = " \t"
_DIGITS: Final = string.digits
_HEX: Final = string.hexdigits
_ALNUM: Final = string.ascii_letters + string.digits
# RFC 7239 section 6.3: obfnode / obfport = "_" 1*(ALPHA / DIGIT / "." / "_" / "-")
_OBF_CHARS: Final = _ALNUM + "._-"
_LABEL_CHARS: Final = _ALNUM + "-_"

# A regex is used only where str methods cannot do the job in one C-level
# pass: matching a run of token characters at a position, and searching for
# any character of a class.
# RFC 9110 section 5.6.2: tchar.
_TOKEN_RE: Final = re.compile(r"[-!#$%&'*+.^_`|~0-9A-Za-z]+")
# An unquoted value: a token, leniently also ':' '[' ']' (as waitress reads
# them), because proxies configured by hand send ``for=192.0.2.1:8080`` and
# ``host=example.com:8080`` unquoted although RFC 7239 section 4 says to
# quote them. These characters separate nothing, so accepting them lets no
# value smuggle a parameter or element.
_VALUE_RE: Final = re.compile(r"[-!#$%&'*+.^_`|~0-9A-Za-z:\[\]]+")
# Not allowed anywhere in a Forwarded header, quoted or not (RFC 9110 5.6.4:
# qdtext and quoted-pair admit HTAB, SP, VCHAR and obs-text only). Text
# beyond latin-1 cannot come from header bytes.
_FORWARDED_BAD_RE: Final = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\u0100-\U0010ffff]")
# Not allowed in a prefix, raw or percent-decoded (see normalize_prefix).
_PREFIX_BAD_RE: Final = re.compile(r"[\x00-\x20\x7f?#\\\u0100-\U0010ffff]")
# After decoding, only control characters and a backslash are refused: an
# encoded space or '?' is a legitimate path character (frameworks quote
# SCRIPT_NAME when they build URLs).
_PREFIX_BAD_DECODED_RE: Final = re.compile(r"[\x00-\x1f\x7f\\]")


class HeaderError(ValueError):
    """A malformed forwarding value.

    ``str(exc)`` is a one-line ASCII reason fit for a 400 body, naming the
    value but not the header; the caller prefixes the header name, e.g.
    ``"X-Forwarded-Port: 'abc' is not a port 1-65535"``.
    """


class Node(NamedTuple):
    """A client or proxy address from X-Forwarded-For or Forwarded.

    ``ip`` is the IP address text as given minus brackets (case and zero
    compression untouched), None for ``unknown`` or an obfuscated
    identifier. ``port`` is the decimal port text as given, None when
    absent, obfuscated, or when ``ip`` is None (a port without an address
    tells the application nothing it can use).
    """

    ip: str | None
    port: str | None


def _show(text: str) -> str:
    """``text`` quoted for an error message: ASCII, one line, shortened."""
    if len(text) > 64:
        return ascii(text[:64]) + "..."
    return ascii(text)


# -- comma-separated lists (RFC 9110 section 5.6.1) -------------------------


def iter_from_right(value: str) -> Iterator[str]:
    """Items of a comma-separated list, rightmost first.

    Each item is stripped of spaces and tabs (the list's OWS); empty items
    are skipped, as RFC 9110 section 5.6.1 asks of recipients, so
    ``"a, , b,"`` yields ``b`` then ``a``. Duplicate header lines arrive
    joined by the server with ``", "`` and are one list.

    Lazy: each step looks only at the text between two commas, found with
    ``rfind``, so consuming k items costs the length of those k items and
    never the length of the whole header (nor runs of commas: the list ends
    after MAX_EMPTY empty items). No quoting is understood: the
    X-Forwarded-* lists have none (use :func:`parse_forwarded` for
    Forwarded).
    """
    end = len(value)
    empty = 0
    while end >= 0:
        comma = value.rfind(",", 0, end)
        item = value[comma + 1 : end].strip(_OWS)
        if item:
            yield item
        else:
            empty += 1
            if empty > MAX_EMPTY:
                return
        end = comma


def nth_from_right(value: str, n: int) -> str | None:
    """The list item at position ``-n`` (``n`` >= 1), as :func:`iter_from_right`.

    When the list has fewer than ``n`` non-empty items, its leftmost item;
    None when it has none. This is the value choice of CONTRACT.md section 7
    for X-Forwarded-Proto/Host/Port/Prefix. Cost proportional to
    ``min(n, items)``. Raises ValueError (a programming error, not a
    HeaderError) for ``n`` < 1.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, not {n}")
    found: str | None = None
    for count, item in enumerate(iter_from_right(value), 1):
        found = item
        if count == n:
            break
    return found


# -- addresses ---------------------------------------------------------------


#: A dotted-quad IPv4 address exactly as :mod:`ipaddress` accepts one: four
#: decimal octets 0-255 of ASCII digits, without leading zeros.
IPV4: Final = re.compile(
    r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
    r"(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}"
)


def _ip_version(text: str) -> int:
    """4 or 6 for an IP address text without brackets or zone id, else 0."""
    if len(text) > _MAX_IP_LEN:
        return 0
    return _ip_version_cached(text)


@lru_cache(maxsize=_CACHE_SIZE)
def _ip_version_cached(text: str) -> int:
    if IPV4.fullmatch(text) is not None:
        return 4  # the common case, without ipaddress's cost
    # ipaddress accepts "fe80::1%eth0"; a zone id names an interface of the
    # machine that wrote it and means nothing here, so it is rejected.
    if "%" in text:
        return 0
    try:
        return ipaddress.ip_address(text).version
    except ValueError:
        return 0


def is_ip(text: str) -> bool:
    """True when ``text`` is an IPv4 or IPv6 address.

    As Python's :mod:`ipaddress` reads it (IPv4 octets without leading
    zeros, IPv6 with or without an embedded IPv4 tail), with no brackets,
    no zone id (``fe80::1%eth0`` is False) and no surrounding spaces.
    """
    return _ip_version(text) != 0


def _is_unknown(name: str) -> bool:
    # ABNF literals are case-insensitive (RFC 5234 section 2.3); isascii()
    # keeps e.g. a Kelvin sign from lower-casing into "k".
    return len(name) == 7 and name.isascii() and name.lower() == "unknown"


def _is_obfuscated(text: str) -> bool:
    """RFC 7239 section 6.3: "_" followed by ALPHA, DIGIT, ".", "_", "-"."""
    return len(text) > 1 and text[0] == "_" and not text[1:].strip(_OBF_CHARS)


def _port_text(text: str) -> str | None:
    """``text`` when it is 1-5 ASCII digits of value 1-65535, else None.

    RFC 7239 section 6 has ``port = 1*5DIGIT``; port 0 is never a real
    peer's port. Leading zeros are accepted within the five digits and kept.
    """
    if 0 < len(text) <= 5 and not text.strip(_DIGITS) and 0 < int(text) <= 65535:
        return text
    return None


def _node(value: str, bare_ipv6: bool) -> Node:
    """The shared node grammar of :func:`parse_node` and :func:`parse_xff_item`."""
    if not value:
        raise HeaderError("empty address")
    if value[0] == "[":
        close = value.find("]")
        ipv6 = value[1:close]
        if close < 0 or _ip_version(ipv6) != 6:
            raise HeaderError(f"{_show(value)} is not a valid [IPv6] address")
        if close + 1 == len(value):
            return Node(ipv6, None)
        if value[close + 1] != ":":
            raise HeaderError(f"{_show(value)} has text after ']'")
        return Node(ipv6, _node_port(value[close + 2 :], value))
    name, colon, port = value.partition(":")
    if colon and bare_ipv6 and ":" in port:
        if _ip_version(value) == 6:
            return Node(value, None)
        raise HeaderError(f"{_show(value)} is not an IP address")
    ip: str | None
    if _ip_version(name) == 4:
        ip = name
    elif _is_unknown(name) or _is_obfuscated(name):
        ip = None
    else:
        raise HeaderError(
            f"{_show(value)} is not an IPv4 address, [IPv6], unknown "
            "or an _obfuscated identifier"
        )
    if not colon:
        return Node(ip, None)
    checked = _node_port(port, value)
    return Node(ip, checked if ip is not None else None)


def _node_port(port: str, value: str) -> str | None:
    """A node-port: digits (kept) or an obfuscated port (None)."""
    if _is_obfuscated(port):
        return None
    if _port_text(port) is None:
        raise HeaderError(f"{_show(value)}: {_show(port)} is not a port 1-65535")
    return port


_NEW_NODE: Final = tuple.__new__  # Node(ip, port) without a Python-level call


@lru_cache(maxsize=_CACHE_SIZE)
def _parse_xff_cached(item: str) -> Node:
    return _node(item, bare_ipv6=True)


def parse_xff_item(item: str) -> Node:
    """One X-Forwarded-For item -> :class:`Node`.

    Accepted, after stripping spaces and tabs: IPv4 (``192.0.2.1``), bare
    IPv6 (``2001:db8::1``, as most proxies write it), ``ip4:port``,
    ``[IPv6]`` and ``[IPv6]:port`` (as some proxies write it), and, as in
    RFC 7239 section 6, ``unknown`` and ``_obfuscated`` identifiers (with
    an optional port), which give ``Node(None, None)``. Ports are 1-65535.

    Anything else raises HeaderError: a host name (X-Forwarded-For carries
    addresses, and a name would be resolved by nobody), an empty item,
    a port out of range or not digits, text after ``]``, an IPv6 zone id
    (``fe80::1%eth0``).
    """
    text = item.strip(_OWS)
    if IPV4.fullmatch(text) is not None:  # the common case, uncached
        return _NEW_NODE(Node, (text, None))
    if len(text) > _CACHEABLE:
        return _node(text, bare_ipv6=True)
    return _parse_xff_cached(text)


@lru_cache(maxsize=_CACHE_SIZE)
def _parse_node_cached(value: str) -> Node:
    return _node(value, bare_ipv6=False)


def parse_node(value: str) -> Node:
    """An RFC 7239 section 6 node (the unquoted ``for=`` or ``by=`` value).

    ``node = nodename [":" node-port]``, where nodename is an IPv4 address,
    ``"[" IPv6 "]"``, ``unknown`` (any case, as ABNF literals are) or an
    obfuscated identifier (``_hidden``), and node-port is a port 1-65535 or
    an obfuscated port (``_p1``). ``unknown`` and obfuscated nodes give
    ``Node(None, None)``; an obfuscated port gives ``port`` None.

    Raises HeaderError for anything else, including a bare IPv6 address
    without brackets (section 6.1 requires them, and ``::1:80`` would be
    ambiguous), a host name, an empty value and spaces.
    """
    if len(value) > _CACHEABLE:
        return _node(value, bare_ipv6=False)
    return _parse_node_cached(value)


# -- Forwarded (RFC 7239) ----------------------------------------------------


def parse_forwarded(value: str) -> list[dict[str, str]]:
    """A whole RFC 7239 ``Forwarded`` header -> its elements, left to right.

    Each element is a dict of lower-cased parameter names to their values,
    unquoted and with quoted-pairs unescaped. Grammar (RFC 7239 section 4)::

        Forwarded         = 1#forwarded-element
        forwarded-element = [ forwarded-pair ] *( ";" [ forwarded-pair ] )
        forwarded-pair    = token "=" value
        value             = token / quoted-string

    Optional whitespace (spaces, tabs) around ``;`` and ``,`` is accepted,
    around ``=`` it is not. Empty list elements and empty pairs are ignored
    (RFC 9110 section 5.6.1), as are elements without any pair, so an
    empty or all-comma header gives ``[]``.

    Raises HeaderError for: a parameter repeated within one element, an
    unterminated quoted string, a name that is not a token, a missing
    ``=``, a value that is neither token nor quoted string (leniently,
    unquoted values may also hold ``:``, ``[`` and ``]``, as waitress
    accepts: ``for=192.0.2.1:80``, ``host=a:80``, ``for=[::1]``), anything but OWS
    then ``;`` or ``,`` after a value, and control characters. Commas and
    semicolons inside a quoted string belong to the value, so
    ``for="1.2.3.4;host=evil"`` is one ``for`` value and never sets host.

    Only the syntax is checked; node, host and proto values are validated
    by the caller with :func:`parse_node` and :func:`parse_host`. One pass
    from left to right, linear in ``len(value)`` whatever the input.
    """
    bad = _FORWARDED_BAD_RE.search(value)
    if bad is not None:
        raise HeaderError(
            f"character {bad.group()!a} at offset {bad.start()} is not allowed"
        )
    elements: list[dict[str, str]] = []
    element: dict[str, str] = {}
    end = len(value)
    pos = 0
    while True:
        while pos < end and value[pos] in _OWS:
            pos += 1
        if pos >= end:
            break
        char = value[pos]
        if char == ",":
            if element:
                elements.append(element)
                element = {}
            pos += 1
            continue
        if char == ";":
            pos += 1
            continue
        match = _TOKEN_RE.match(value, pos)
        if match is None:
            raise HeaderError(
                f"expected a parameter name at offset {pos}, found {char!a}"
            )
        name = match.group().lower()
        pos = match.end()
        if pos >= end or value[pos] != "=":
            raise HeaderError(f"parameter {_show(name)} is not followed by '='")
        pos += 1
        if pos < end and value[pos] == '"':
            text, pos = _quoted_string(value, pos)
        else:
            match = _VALUE_RE.match(value, pos)
            if match is None:
                raise HeaderError(
                    f"the value of {_show(name)} at offset {pos} is neither "
                    "a token nor a quoted string"
                )
            text = match.group()
            pos = match.end()
        if name in element:
            raise HeaderError(f"parameter {_show(name)} repeated in one element")
        element[name] = text
        while pos < end and value[pos] in _OWS:
            pos += 1
        if pos < end and value[pos] not in ",;":
            raise HeaderError(
                f"unexpected {value[pos]!a} at offset {pos} after the "
                f"value of {_show(name)}"
            )
    if element:
        elements.append(element)
    return elements


def _quoted_string(value: str, pos: int) -> tuple[str, int]:
    """The unescaped quoted string opening at ``value[pos]`` and the offset after it.

    Linear: the closing quote is searched again only after an escaped quote
    moved past it, and every backslash search starts after the previous one.
    """
    start = pos + 1
    close = value.find('"', start)
    if close < 0:
        raise HeaderError(f"unterminated quoted string at offset {pos}")
    backslash = value.find("\\", start, close)
    if backslash < 0:
        return value[start:close], close + 1
    parts: list[str] = []
    while backslash >= 0:
        # backslash < close, so the escaped character exists.
        parts.append(value[start:backslash])
        parts.append(value[backslash + 1])
        start = backslash + 2
        if start > close:
            close = value.find('"', start)
            if close < 0:
                raise HeaderError(f"unterminated quoted string at offset {pos}")
        backslash = value.find("\\", start, close)
    parts.append(value[start:close])
    return "".join(parts), close + 1


# -- Host ---------------------------------------------------------------------


def _looks_numeric(label: str) -> bool:
    """True for a label the WHATWG URL host parser reads as a number."""
    if label.isdigit():
        return True
    return label[:2] in ("0x", "0X") and not label[2:].strip(_HEX)


def _host_name(name: str, value: str) -> str:
    """A DNS-style name or IPv4 address, lower-cased; HeaderError otherwise."""
    if not name:
        raise HeaderError(f"{_show(value)} is not a valid host: empty name")
    trailing_dot = name.endswith(".")
    if len(name) > (254 if trailing_dot else 253):
        raise HeaderError(f"{_show(value)} is not a valid host: over 253 characters")
    labels = name[:-1].split(".") if trailing_dot else name.split(".")
    for label in labels:
        if not label or len(label) > 63 or label.strip(_LABEL_CHARS):
            raise HeaderError(
                f"{_show(value)} is not a valid host: labels are 1-63 letters, "
                "digits, '-' or '_' between single dots"
            )
    # A browser reads a host whose last label is a number as an IPv4
    # address ("1.2.3" is 1.2.0.3, "256.1.1.1" fails), so such names must
    # be exact dotted quads for us to mean the same host as the browser.
    if _looks_numeric(labels[-1]) and (trailing_dot or _ip_version(name) != 4):
        raise HeaderError(
            f"{_show(value)} is not a valid host: numeric but not an IPv4 address"
        )
    return name.lower()


def _host_port(port: str, value: str) -> int:
    if _port_text(port) is None:
        raise HeaderError(
            f"{_show(value)} is not a valid host: port {_show(port)} is not 1-65535"
        )
    return int(port)


def _parse_host(value: str) -> tuple[str, int | None]:
    if value.startswith("["):
        close = value.find("]")
        inner = value[1:close]
        if close < 0 or _ip_version(inner) != 6:
            raise HeaderError(f"{_show(value)} is not a valid host: bad [IPv6]")
        host = "[" + inner.lower() + "]"
        if close + 1 == len(value):
            return host, None
        if value[close + 1] != ":":
            raise HeaderError(f"{_show(value)} is not a valid host: text after ']'")
        return host, _host_port(value[close + 2 :], value)
    name, colon, port = value.partition(":")
    host = _host_name(name, value)
    return host, (_host_port(port, value) if colon else None)


_parse_host_cached = lru_cache(maxsize=_CACHE_SIZE)(_parse_host)


def parse_host(value: str) -> tuple[str, int | None]:
    """A Host-style ``host[:port]`` -> ``(host, port)`` (CONTRACT.md section 7).

    host is a DNS-style name (labels of 1-63 ASCII letters, digits, ``-``
    and ``_``, separated by single dots, at most 253 characters, one
    trailing dot allowed and kept), an IPv4 address, or ``"[" IPv6 "]"``
    (checked with :mod:`ipaddress`, no zone id). A name whose last label is
    numeric must be an exact IPv4 address, since browsers read it as one.
    Then optionally ``:`` and a port of 1-5 digits, 1-65535 (an empty port
    is invalid).

    Returns the host lower-cased as it appears in a URL (IPv6 kept in
    brackets, trailing dot kept) and the port as an int, or None without
    one. Everything else raises HeaderError: ``ex.com@evil``, ``ex.com/x``,
    ``[::1]evil``, ``host:abc``, spaces, backslashes, non-ASCII, an empty
    value. Results are cached (bounded).
    """
    if len(value) > _CACHEABLE:
        return _parse_host(value)
    return _parse_host_cached(value)


# -- X-Forwarded-Prefix -----------------------------------------------------


def _percent_decode(value: str) -> str:
    """``%XX`` -> the latin-1 character of byte XX, as WSGI servers decode paths."""
    parts = value.split("%")
    out = [parts[0]]
    for part in parts[1:]:
        pair = part[:2]
        if len(pair) != 2 or pair.strip(_HEX):
            raise HeaderError(f"{_show(value)} has a bad %-escape")
        byte = int(pair, 16)
        if byte == 0x2F:
            raise HeaderError(f"{_show(value)} contains an encoded slash (%2F)")
        out.append(chr(byte))
        out.append(part[2:])
    return "".join(out)


def _normalize_prefix(value: str) -> str:
    if not value:
        return ""
    if value.startswith("//"):
        raise HeaderError(
            f"{_show(value)} starts with '//' (a URL naming another host)"
        )
    bad = _PREFIX_BAD_RE.search(value)
    if bad is not None:
        raise HeaderError(f"{_show(value)} contains {bad.group()!a}")
    text = _percent_decode(value) if "%" in value else value
    bad = _PREFIX_BAD_DECODED_RE.search(text)
    if bad is not None:
        raise HeaderError(f"{_show(value)} contains an encoded {bad.group()!a}")
    segments: list[str] = []
    for segment in text.split("/"):
        if segment == "..":
            if not segments:
                raise HeaderError(f"{_show(value)} climbs above '/' with '..'")
            segments.pop()
        elif segment and segment != ".":
            segments.append(segment)
    return "/" + "/".join(segments) if segments else ""


_normalize_prefix_cached = lru_cache(maxsize=_CACHE_SIZE)(_normalize_prefix)


def normalize_prefix(value: str) -> str:
    """An X-Forwarded-Prefix value -> the SCRIPT_NAME text it stands for.

    Percent-decoded as WSGI servers decode paths (each ``%XX`` becomes the
    byte XX, and the bytes are read as latin-1, so UTF-8 arrives as its
    latin-1 spelling), then normalized: one leading ``/`` (added when
    missing), no trailing ``/``, ``//`` runs collapsed, ``.`` segments
    dropped and ``..`` segments resolved. ``""`` and ``"/"`` give ``""``
    (SCRIPT_NAME is never ``"/"``).

    Raises HeaderError for a value that starts with ``//`` (before
    decoding: a browser reads ``//host`` as another host), a ``..`` that
    climbs above ``/``, an encoded slash ``%2F``, a bad ``%`` escape, raw
    ``?``, ``#``, ``\\``, whitespace or control characters (no proxy sends
    those unencoded), and encoded control characters or backslashes.
    Results are cached (bounded).
    """
    if len(value) > _CACHEABLE:
        return _normalize_prefix(value)
    return _normalize_prefix_cached(value)
