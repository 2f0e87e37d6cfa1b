"""Pure Set-Cookie parsing and minimal-diff editing (RFC 6265bis section 5.6).

Nothing here knows about WSGI, requests or settings: the cookie audit reads
a :class:`SetCookie` and asks a :class:`CookieEditor` for the fixed header.
``http.cookies.SimpleCookie`` is not used: it drops whole headers that
browsers accept (``Partitioned``, a space in the value).

Parsing follows the user-agent algorithm of RFC 6265bis section 5.6, not the
server grammar of section 4.1, so the audit sees what a browser sees:

* The name-value-pair is everything before the first ``;``. It is split at
  its first ``=``; name and value are trimmed of spaces and tabs. Without a
  ``=`` the name is empty and the whole trimmed pair is the value (a
  *nameless* cookie, :attr:`SetCookie.nameless`). Quotes mean nothing:
  ``a="x; y"`` has the value ``"x`` and an attribute ``y"``.
* Every ``;`` starts an attribute, also an empty one (``;;``). Its name is
  split at the first ``=``; name and value are trimmed. An attribute
  without ``=`` is a flag: :attr:`Attribute.value` is ``None`` (the RFC
  gives it the empty value, and so does :meth:`SetCookie.get`).
* Attribute names compare case-insensitively (ASCII only), the last
  occurrence wins, and a value longer than 1024 octets makes the browser
  skip that occurrence entirely (:attr:`Attribute.too_long`), so an earlier
  occurrence of the same name stays in force.

The parser never rejects and never raises: control characters, CR/LF,
text that is not latin-1 and empty headers are parsed like anything else
and left for the rules to report. ``str(SetCookie.parse(h)) == h`` and
``SetCookie.parse(h).edit().render() == h`` for any string ``h``.

Spans. ``raw[pair_start:pair_end]`` is the name-value-pair without its
surrounding whitespace. Each attribute's ``raw[start:end]`` runs from the
whitespace before its ``;`` to the end of its value (the last attribute
also takes the header's trailing whitespace), so the spans tile the
header: leading whitespace, the pair, then the attributes in order.
Removing a span removes the attribute with its ``;`` and the whitespace
around it and leaves the neighbours as they were.

Editing. :meth:`SetCookie.edit` returns a :class:`CookieEditor`. Edits
touch only bytes after ``pair_end``, so the name=value bytes are never
re-rendered; with no edits :meth:`CookieEditor.render` returns the input
string itself. Added attributes are appended as ``; Name=Value`` or
``; Flag`` in the order Path, Domain, Secure, HttpOnly, SameSite,
Partitioned, then any other in call order (CONTRACT.md section 7, "Fix
bytes").

Helpers for the rules: :func:`parse_cookie_date` (RFC 6265bis section
5.1.1), :func:`parse_max_age` and :func:`max_age_has_plus`,
:func:`octet_length`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final, NamedTuple

__all__ = [
    "MAX_ATTRIBUTE_VALUE_OCTETS",
    "Attribute",
    "CookieEditor",
    "ParseCache",
    "SetCookie",
    "max_age_has_plus",
    "octet_length",
    "parse_cookie_date",
    "parse_max_age",
]

#: RFC 6265bis section 5.6: an attribute whose value is longer is ignored.
MAX_ATTRIBUTE_VALUE_OCTETS: Final = 1024

# WSP of RFC 5234: what 6265bis trims around names and values.
_WSP: Final = " \t"

# A value of at most this many code points cannot exceed 1024 octets even
# in UTF-8 (4 octets per code point), so short values skip the count.
_SHORT_VALUE: Final = MAX_ATTRIBUTE_VALUE_OCTETS // 4

_ASCII_LOWER: Final = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"
)

# Spellings of attributes the audit may add (CONTRACT.md section 7).
_CANONICAL_NAMES: Final = {
    "path": "Path",
    "domain": "Domain",
    "secure": "Secure",
    "httponly": "HttpOnly",
    "samesite": "SameSite",
    "partitioned": "Partitioned",
    "expires": "Expires",
    "max-age": "Max-Age",
    "priority": "Priority",
}
_CANONICAL_SAMESITE: Final = {"lax": "Lax", "strict": "Strict", "none": "None"}
_ADD_ORDER: Final = {
    "path": 0,
    "domain": 1,
    "secure": 2,
    "httponly": 3,
    "samesite": 4,
    "partitioned": 5,
}
_ADD_ORDER_OTHER: Final = len(_ADD_ORDER)

# Characters an edit may not write: ";" would start another attribute,
# CR/LF would split the header, other CTLs (TAB included, which Chromium
# rejects inside a value) make browsers drop the cookie.
_FORBIDDEN: Final = frozenset([chr(c) for c in range(0x20)] + ["\x7f", ";"])


def _ascii_lower(text: str) -> str:
    # str.lower() also folds non-ASCII letters (U+212A KELVIN SIGN -> "k"),
    # while 6265bis compares attribute names ASCII case-insensitively.
    return text.lower() if text.isascii() else text.translate(_ASCII_LOWER)


def octet_length(text: str) -> int:
    """Octets *text* takes on the wire.

    One per code point for latin-1 text, which is how a WSGI server sends
    header strings (PEP 3333); UTF-8 for anything else (such a header
    cannot be sent through WSGI at all, the count only has to be sane).
    """
    if text.isascii() or max(text) <= "\xff":
        return len(text)
    return len(text.encode("utf-8", "surrogatepass"))


class Attribute(NamedTuple):
    """One ``;``-separated cookie-av of a Set-Cookie header."""

    #: The name as written, trimmed; ``""`` for an empty cookie-av.
    name: str
    #: *name* in ASCII lower case, the key for lookups.
    key: str
    #: The trimmed value, ``""`` for ``Name=``; ``None`` when there is no
    #: ``=`` at all (a flag such as ``Secure``).
    value: str | None
    #: ``raw[start:end]`` is the attribute with the whitespace before its
    #: ``;`` (and, for the last one, the header's trailing whitespace).
    start: int
    end: int
    #: The value is over 1024 octets, so browsers ignore this occurrence.
    too_long: bool = False


# Attributes are kept as plain tuples in Attribute's field order while
# parsing (building a NamedTuple costs more than the parse of its text)
# and turned into Attribute objects when someone asks for them.
_Item = tuple[str, str, str | None, int, int, bool]
_Items = tuple[_Item, ...]
_NAME: Final = 0
_KEY: Final = 1
_VALUE: Final = 2
_START: Final = 3
_END: Final = 4
_TOO_LONG: Final = 5
_new_attribute = tuple.__new__

# Shared by every cookie without attributes; never mutated.
_NO_ITEMS: Final[dict[str, _Item]] = {}


class ParseCache:
    """A bounded memo for :meth:`SetCookie.parse`, owned by its caller.

    An app sends the same attributes (``; Path=/; HttpOnly; SameSite=Lax``)
    on every response, so the parsed attribute list is kept per attribute
    text (everything after the name-value-pair) and reused while the pair
    ends at the same offset. It holds no cookie name or value, at most
    *maxsize* entries of at most *max_text* characters, and is emptied
    when full. Safe to share between threads (single dict operations on
    immutable entries). Results are identical with or without a cache.
    """

    __slots__ = ("_entries", "max_text", "maxsize")

    _entries: dict[str, tuple[int, _Items, dict[str, _Item]]]
    maxsize: int
    max_text: int

    def __init__(self, maxsize: int = 256, max_text: int = 512) -> None:
        self._entries = {}
        self.maxsize = maxsize
        self.max_text = max_text

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        self._entries.clear()


# Attribute names as apps write them (after "; " or ";"), each with its
# name and key: taken from here, not made anew per header.
_KNOWN_NAMES: Final[dict[str, tuple[str, str]]] = {
    lead + spelling: (spelling, spelling.lower())
    for name in (
        "Path",
        "Domain",
        "Expires",
        "Max-Age",
        "Secure",
        "HttpOnly",
        "SameSite",
        "Partitioned",
        "Priority",
    )
    for spelling in (name, name.lower())
    for lead in ("", " ")
}


def _parse_attributes(
    header: str, semi: int, start: int
) -> tuple[_Items, dict[str, _Item]]:
    """The attributes after the first ``;`` (at *semi*), and the live ones.

    *start* is where the first attribute's span begins (``pair_end``). The
    second result maps each key to its effective (last, not too long)
    occurrence.
    """
    items: list[_Item] = []
    effective: dict[str, _Item] = {}
    ascii_only = header.isascii()
    size = len(header)
    wsp = _WSP  # a local is cheaper than a global in this loop
    pos = semi  # index of the ";" that opens the current attribute
    for part in header[semi + 1 :].split(";"):
        after = pos + 1 + len(part)  # the next ";" or the end of the header
        body = part.rstrip(wsp)
        # The last attribute keeps the header's trailing whitespace; the
        # others leave theirs to the next one as its leading whitespace.
        end = after if after == size else pos + 1 + len(body)
        at = body.find("=")
        value: str | None
        if at >= 0:
            written = body[:at]
            value = body[at + 1 :].lstrip(wsp)
            too_long = (
                len(value) > _SHORT_VALUE
                and octet_length(value) > MAX_ATTRIBUTE_VALUE_OCTETS
            )
        else:
            written = body
            value = None
            too_long = False
        known = _KNOWN_NAMES.get(written)
        if known is not None:  # (no new strings; the key's hash known)
            name, key = known
        else:
            name = written.strip(wsp) if at >= 0 else written.lstrip(wsp)
            key = name.lower() if ascii_only else _ascii_lower(name)
        item = (name, key, value, start, end, too_long)
        items.append(item)  # (compiled: a native append; a bound one is generic)
        if key and not too_long:
            effective[key] = item
        start = end
        pos = after
    return tuple(items), effective


class SetCookie:
    """A parsed Set-Cookie header value; build one with :meth:`parse`."""

    __slots__ = (
        "_attributes",
        "_effective",
        "_items",
        "name",
        "nameless",
        "pair_end",
        "pair_start",
        "raw",
        "value",
    )

    #: The header value as given.
    raw: str
    #: Cookie name, trimmed; ``""`` for a nameless cookie or ``=value``.
    name: str
    #: Cookie value, trimmed (quotes kept).
    value: str
    #: True when the pair has no ``=``, so the whole pair is the value.
    nameless: bool
    #: ``raw[pair_start:pair_end]`` is the pair without surrounding
    #: whitespace; edits never touch ``raw[:pair_end]``.
    pair_start: int
    pair_end: int
    _items: _Items
    _effective: dict[str, _Item]
    _attributes: tuple[Attribute, ...] | None

    @classmethod
    def parse(cls, header: str, cache: ParseCache | None = None) -> SetCookie:
        """Parse one Set-Cookie header value (without ``Set-Cookie:``).

        Never raises; see the module docstring for the exact semantics.
        A :class:`ParseCache` makes repeated attribute lists cheaper.
        """
        self = cls()
        self.raw = header
        self._attributes = None
        semi = header.find(";")
        pair = header if semi < 0 else header[:semi]
        name, eq, value = pair.partition("=")
        if eq:
            self.name = name.strip(_WSP)
            self.value = value.strip(_WSP)
            self.nameless = False
        else:
            self.name = ""
            self.value = pair.strip(_WSP)
            self.nameless = True
        stripped = pair.lstrip(_WSP)
        pair_start = len(pair) - len(stripped)
        pair_end = pair_start + len(stripped.rstrip(_WSP))
        self.pair_start = pair_start
        self.pair_end = pair_end
        if semi < 0:
            self._items = ()
            self._effective = _NO_ITEMS
        elif cache is None:
            self._items, self._effective = _parse_attributes(header, semi, pair_end)
        else:
            tail = header[pair_end:]
            entries = cache._entries
            entry = entries.get(tail)
            if entry is not None and entry[0] == pair_end:
                self._items = entry[1]
                self._effective = entry[2]
            else:
                items, effective = _parse_attributes(header, semi, pair_end)
                self._items = items
                self._effective = effective
                if len(tail) <= cache.max_text:
                    if len(entries) >= cache.maxsize:
                        entries.clear()
                    entries[tail] = (pair_end, items, effective)
        return self

    # -- reading ---------------------------------------------------------

    @property
    def attributes(self) -> tuple[Attribute, ...]:
        """Every ``;``-separated attribute in header order, ``;;`` included."""
        attributes = self._attributes
        if attributes is None:
            attributes = tuple(
                [_new_attribute(Attribute, item) for item in self._items]
            )
            self._attributes = attributes
        return attributes

    @property
    def pair(self) -> str:
        """The name-value-pair as written, without surrounding whitespace."""
        return self.raw[self.pair_start : self.pair_end]

    def attribute(self, key: str) -> Attribute | None:
        """The occurrence of *key* (lower case) that browsers use, or None.

        That is the last one whose value is not too long.
        """
        item = self._effective.get(key)
        return None if item is None else _new_attribute(Attribute, item)

    def get(self, key: str) -> str | None:
        """The effective value of attribute *key* (lower case).

        ``None`` when the attribute is absent (or only present with values
        over 1024 octets); ``""`` for a flag such as ``Secure``, as 6265bis
        gives a cookie-av without ``=`` the empty value. Use
        :meth:`attribute` to tell ``Domain`` from ``Domain=``.
        """
        item = self._effective.get(key)
        if item is None:
            return None
        value = item[_VALUE]
        return "" if value is None else value

    def has(self, key: str) -> bool:
        """Whether browsers see attribute *key* (lower case) at all."""
        return key in self._effective

    def count(self, key: str) -> int:
        """Occurrences of *key* that browsers process (too-long ones excluded)."""
        if key not in self._effective:
            return 0
        return sum(1 for i in self._items if i[_KEY] == key and not i[_TOO_LONG])

    def occurrences(self, key: str) -> tuple[Attribute, ...]:
        """Every occurrence of *key* as written, too-long ones included."""
        return tuple(a for a in self.attributes if a.key == key)

    @property
    def names_in_order(self) -> tuple[str, ...]:
        """Lower-case names of all attributes in header order.

        Repeats and too-long occurrences are kept; empty cookie-avs
        (``;;``, ``; =x``) are left out.
        """
        return tuple(item[_KEY] for item in self._items if item[_KEY])

    @property
    def repeated(self) -> list[str]:
        """Lower-case names that browsers process more than once, sorted
        (too-long occurrences and empty cookie-avs left out)."""
        if len(self._effective) == len(self._items):
            # Each attribute named, not too long and its key's only
            # occurrence (the effective ones are one per key): most headers.
            return []
        once: set[str] = set()
        twice: set[str] = set()
        for item in self._items:  # one pass: a header may carry thousands
            key = item[_KEY]
            if key and not item[_TOO_LONG]:
                (twice if key in once else once).add(key)
        return sorted(twice)

    @property
    def too_long(self) -> tuple[Attribute, ...]:
        """Attributes ignored because their value is over 1024 octets."""
        for item in self._items:
            if item[_TOO_LONG]:
                return tuple(a for a in self.attributes if a.too_long)
        return ()  # the common case, without making the attributes

    def edit(self) -> CookieEditor:
        """A new editor that starts from this header."""
        return CookieEditor(self)

    def __str__(self) -> str:
        return self.raw

    def __repr__(self) -> str:
        return f"SetCookie.parse({self.raw!r})"


def _check_text(what: str, text: str) -> None:
    if not _FORBIDDEN.isdisjoint(text):
        raise ValueError(f"{what} {text!r} contains ';' or a control character")
    if text and max(text) > "\xff":
        raise ValueError(f"{what} {text!r} is not latin-1 text")
    if text != text.strip(_WSP):
        raise ValueError(f"{what} {text!r} has leading or trailing whitespace")


def _canonical_value(key: str, value: str) -> str:
    if key == "samesite":
        return _CANONICAL_SAMESITE.get(_ascii_lower(value), value)
    return value


class CookieEditor:
    """Collects edits to one Set-Cookie header; :meth:`render` applies them.

    Edits refer to the header as parsed, compose in any order and never
    touch the name-value-pair. Methods return the editor for chaining.
    New names and values may not contain ``;``, control characters (TAB
    included), text outside latin-1, or leading/trailing whitespace: those
    raise ``ValueError`` instead of producing a header that smuggles
    attributes or that a browser or the WSGI server would refuse.
    """

    __slots__ = ("_added", "_removed", "_values", "cookie")

    #: The parsed header the edits apply to.
    cookie: SetCookie
    _removed: set[int]
    _values: dict[int, str]
    _added: list[tuple[str, str, str | None]]  # (key, name, value)

    def __init__(self, cookie: SetCookie) -> None:
        self.cookie = cookie
        self._removed = set()
        self._values = {}
        self._added = []

    @property
    def changed(self) -> bool:
        """Whether any edit is pending (else :meth:`render` is the input)."""
        return bool(self._removed or self._values or self._added)

    def add(self, name: str, value: str | None = None) -> CookieEditor:
        """Append ``; Name=Value`` (``; Name`` for ``value=None``).

        Known names take their canonical spelling (``Path``, ``Domain``,
        ``Secure``, ``HttpOnly``, ``SameSite``, ``Partitioned``, ``Expires``,
        ``Max-Age``, ``Priority``) and a SameSite value its canonical case
        (``Lax``, ``Strict``, ``None``). Existing occurrences of the name
        are left alone.
        """
        _check_text("attribute name", name)
        if not name or "=" in name:
            raise ValueError(f"attribute name {name!r} is empty or contains '='")
        key = _ascii_lower(name)
        if value is not None:
            _check_text("attribute value", value)
            value = _canonical_value(key, value)
        self._added.append((key, _CANONICAL_NAMES.get(key, name), value))
        return self

    def remove(self, key: str) -> CookieEditor:
        """Remove every occurrence of *key* (lower case), pending additions too.

        Each occurrence goes with its ``;`` and the whitespace around it.
        Removing an absent attribute changes nothing.
        """
        for index, item in enumerate(self.cookie._items):
            if item[_KEY] == key:
                self._removed.add(index)
                self._values.pop(index, None)
        self._added = [added for added in self._added if added[0] != key]
        return self

    def replace_value(self, key: str, new_value: str) -> CookieEditor:
        """Set the value of the effective (last) occurrence of *key*.

        The name keeps the app's spelling and every other byte stays; a
        flag gets ``=new_value`` right after its name. With no live
        occurrence in the header the last pending addition of *key* is
        changed instead; ``KeyError`` when there is neither.
        """
        _check_text("attribute value", new_value)
        new_value = _canonical_value(key, new_value)
        items = self.cookie._items
        for index in range(len(items) - 1, -1, -1):
            item = items[index]
            if item[_KEY] == key and not item[_TOO_LONG] and index not in self._removed:
                self._values[index] = new_value
                return self
        for position in range(len(self._added) - 1, -1, -1):
            added_key, added_name, _ = self._added[position]
            if added_key == key:
                self._added[position] = (added_key, added_name, new_value)
                return self
        raise KeyError(key)

    def replace_values(self, key: str, new_value: str) -> CookieEditor:
        """Set the value of every occurrence of *key* (lower case).

        Like :meth:`replace_value` for each one, also the earlier and the
        too-long occurrences and flags (``Domain`` becomes
        ``Domain=new_value``): a rewrite such as nginx
        ``proxy_cookie_domain`` leaves no other value behind. Removed
        occurrences stay removed; nothing changes when there is none.
        """
        _check_text("attribute value", new_value)
        new_value = _canonical_value(key, new_value)
        for index, item in enumerate(self.cookie._items):
            if item[_KEY] == key and index not in self._removed:
                self._values[index] = new_value
        return self

    def remove_earlier_duplicates(self, key: str) -> CookieEditor:
        """Keep only the effective (last) occurrence of *key*.

        Too-long occurrences are ignored by browsers anyway; they stay for
        ``attr-too-long`` to report. Pending additions are not touched.
        """
        items = self.cookie._items
        kept = False
        for index in range(len(items) - 1, -1, -1):
            item = items[index]
            if item[_KEY] != key or item[_TOO_LONG] or index in self._removed:
                continue
            if kept:
                self._removed.add(index)
                self._values.pop(index, None)
            kept = True
        return self

    def render(self) -> str:
        """The header with the edits applied (the input itself without edits)."""
        cookie = self.cookie
        raw = cookie.raw
        if not self.changed:
            return raw
        out = [raw[: cookie.pair_end]]
        if not cookie._items:
            out.append(raw[cookie.pair_end :])
        for index, item in enumerate(cookie._items):
            if index in self._removed:
                continue
            segment = raw[item[_START] : item[_END]]
            if index in self._values:
                segment = _with_value(segment, item, self._values[index])
            out.append(segment)
        added = sorted(
            self._added, key=lambda a: _ADD_ORDER.get(a[0], _ADD_ORDER_OTHER)
        )
        for _, name, value in added:
            out.append(f"; {name}" if value is None else f"; {name}={value}")
        return "".join(out)


def _with_value(segment: str, item: _Item, new_value: str) -> str:
    """*segment* (one attribute's span) with its value replaced."""
    semi = segment.index(";")
    old_value = item[_VALUE]
    if old_value is None:
        # A flag: insert "=value" right after the name as written.
        cut = len(segment) - len(segment[semi + 1 :].lstrip(_WSP)) + len(item[_NAME])
        return f"{segment[:cut]}={new_value}{segment[cut:]}"
    eq = segment.index("=", semi)
    if not old_value:
        return f"{segment[: eq + 1]}{new_value}{segment[eq + 1 :]}"
    value_start = len(segment) - len(segment[eq + 1 :].lstrip(_WSP))
    value_end = value_start + len(old_value)
    return f"{segment[:value_start]}{new_value}{segment[value_end:]}"


# -- Expires: the cookie-date algorithm of RFC 6265bis section 5.1.1 --------

# delimiter = %x09 / %x20-2F / %x3B-40 / %x5B-60 / %x7B-7E. Everything else
# (CTLs, digits, ":", letters, %x7F-FF, and any wider code point) belongs
# to a date-token. Delimiters become spaces, then the text splits on " ".
_DATE_DELIMITERS: Final = [
    0x09,
    *range(0x20, 0x30),
    *range(0x3B, 0x41),
    *range(0x5B, 0x61),
    *range(0x7B, 0x7F),
]
_DATE_BYTES: Final = bytes(
    0x20 if octet in _DATE_DELIMITERS else octet for octet in range(256)
)
_DATE_TEXT: Final = str.maketrans(dict.fromkeys(_DATE_DELIMITERS, " "))
_DIGITS: Final = "0123456789"
_MONTHS: Final = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}


def _date_tokens(text: str) -> list[str]:
    try:
        octets = text.encode("latin-1")
    except UnicodeEncodeError:
        spaced = text.translate(_DATE_TEXT)
    else:  # the usual case, and much faster than str.translate
        spaced = octets.translate(_DATE_BYTES).decode("latin-1")
    return spaced.split(" ")


def _is_digits(text: str) -> bool:
    # str.isdigit() alone accepts non-ASCII digits such as "²" or "٣".
    return text.isascii() and text.isdigit()


def _time(token: str) -> tuple[int, int, int] | None:
    """``hms-time [ non-digit *OCTET ]`` -> (hour, minute, second), else None."""
    fields = token.split(":", 2)
    if len(fields) != 3:
        return None
    hour, minute, rest = fields
    if not (0 < len(hour) <= 2 and _is_digits(hour)):
        return None
    if not (0 < len(minute) <= 2 and _is_digits(minute)):
        return None
    run = len(rest) - len(rest.lstrip(_DIGITS))
    if not 0 < run <= 2:
        return None
    return int(hour), int(minute), int(rest[:run])


def parse_cookie_date(text: str) -> datetime | None:
    """An ``Expires`` value as an aware UTC datetime (RFC 6265bis 5.1.1).

    Date-tokens are taken in order: the first that is a time
    (``h:m:s``, 1-2 digits each), the first day-of-month (1-2 digits),
    the first month (a token starting with a month's three-letter
    abbreviation, any case) and the first year (2-4 digits); each may be
    followed by a non-digit and anything. Years 70-99 become 19xx and
    0-69 become 20xx. ``None`` when a part is missing, the day is not
    1-31, the year is before 1601, the time is out of range (no leap
    seconds) or the date does not exist (31 April). Accepts what browsers
    accept, e.g. ``Wed, 09-Jun-2021 10:18:14 GMT`` or
    ``Thu Apr 18 2007 22:50:12``; zones are not read (the time is UTC).
    """
    time: tuple[int, int, int] | None = None
    day: int | None = None
    month: int | None = None
    year: int | None = None
    for token in _date_tokens(text):
        if not token:
            continue
        if "0" <= token[0] <= "9":
            # Only time, day-of-month and year start with a digit.
            if time is None and ":" in token:
                time = _time(token)
                if time is not None:
                    continue
            run = len(token) - len(token.lstrip(_DIGITS))
            if day is None and run <= 2:
                day = int(token[:run])
            elif year is None and 2 <= run <= 4:
                year = int(token[:run])
        elif month is None:
            prefix = token[:3]
            if prefix.isascii():
                month = _MONTHS.get(prefix.lower())
    if time is None or day is None or month is None or year is None:
        return None
    if 70 <= year <= 99:
        year += 1900
    elif year <= 69:
        year += 2000
    hour, minute, second = time
    if not 1 <= day <= 31 or year < 1601 or hour > 23 or minute > 59 or second > 59:
        return None
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:  # 31 April, 29 February of a common year
        return None


# -- Max-Age: RFC 6265bis section 5.6.2 -------------------------------------

_INT64_MAX: Final = 2**63 - 1


def parse_max_age(text: str) -> int | None:
    """A ``Max-Age`` value, ``-?DIGIT+`` (ASCII digits), as an int, else None.

    ``+5`` gives None although Chromium accepts it, see
    :func:`max_age_has_plus`. Magnitudes beyond 64 bits are clamped to
    2**63 - 1, far past the 400-day cap browsers apply, so a long digit
    string costs no big-integer work (and cannot hit Python's limit on
    int() of long strings).
    """
    negative = text[:1] == "-"
    digits = text[1:] if negative else text
    if not _is_digits(digits):
        return None
    digits = digits.lstrip("0")
    number = _INT64_MAX if len(digits) > 19 else min(int(digits or "0"), _INT64_MAX)
    return -number if negative else number


def max_age_has_plus(text: str) -> bool:
    """Whether *text* is ``+DIGIT+``: invalid per 6265bis, accepted by Chromium."""
    return text[:1] == "+" and _is_digits(text[1:])
