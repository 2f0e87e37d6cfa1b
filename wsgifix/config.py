"""The one table of wsgifix settings.

Every setting has one name that works as a keyword to :func:`wsgifix.wrap`,
a PasteDeploy .ini key, a ``WSGIFIX_<NAME>`` environment variable and a
``--kebab-case`` CLI flag. Text from any of those, and typed Python values
from keywords, go through the same converter here. Unknown names and bad
values raise :class:`ValueError` naming the setting, at construction time.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

from wsgifix.trust import parse_entry

#: The environment variable naming the app for ``wrap()`` and the CLI.
APP_VARIABLE = "WSGIFIX_APP"
ENV_PREFIX = "WSGIFIX_"

FORWARDING_HEADERS = (
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-forwarded-host",
    "x-forwarded-port",
    "x-forwarded-prefix",
)
LAYERS = ("proxy", "prefix", "cookies", "stack")

_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})
_LIST_SPLIT = re.compile(r"[\s,]+")
_DOMAIN = re.compile(r"\.?([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_-]+")


class Setting(NamedTuple):
    """One row of the table: how text becomes a value, and where it acts."""

    name: str
    layer: str
    default: str
    convert: Callable[[object], Any]
    help: str
    is_list: bool = False


# Converters: each takes text (or an already typed value) and returns the
# typed value, raising ValueError with a reason; the caller adds the name.


def to_bool(value: object) -> bool:
    """Strict booleans: true/false/yes/no/on/off/1/0, any case."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        low = value.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
    raise ValueError(f"{value!r} is not a boolean (true/false/yes/no/on/off/1/0)")


def to_list(value: object) -> tuple[str, ...]:
    """Items separated by spaces, commas or newlines; empty items dropped.

    A list or tuple of strings is accepted too (each item split the same
    way, so repeated CLI flags and ``"a, b"`` mean the same).
    """
    if value is None:
        return ()
    if isinstance(value, str):
        parts: Iterable[object] = [value]
    elif isinstance(value, list | tuple | set | frozenset):
        parts = value
    else:
        raise ValueError(f"{value!r} is not a list")
    items: list[str] = []
    for part in parts:
        if not isinstance(part, str):
            raise ValueError(f"{part!r} is not a string")
        items.extend(p for p in _LIST_SPLIT.split(part) if p)
    return tuple(items)


def _int_in(low: int, high: int | None) -> Callable[[object], int]:
    def convert(value: object) -> int:
        if isinstance(value, bool):
            raise ValueError(f"{value!r} is not an integer")
        if isinstance(value, int):
            number = value
        elif (
            isinstance(value, str)
            and value.strip().isascii()
            and value.strip().removeprefix("-").isdigit()  # "-1": out of range
        ):
            number = int(value.strip())
        else:
            raise ValueError(f"{value!r} is not an integer")
        if number < low or (high is not None and number > high):
            upper = "" if high is None else f"-{high}"
            span = f"{low}{upper}" if upper else f">= {low}"
            raise ValueError(f"{number} is out of range ({span})")
        return number

    return convert


def _choice(*choices: str) -> Callable[[object], str]:
    def convert(value: object) -> str:
        if isinstance(value, str) and value.strip().lower() in choices:
            return value.strip().lower()
        shown = ", ".join(c or "(empty)" for c in choices)
        raise ValueError(f"{value!r} is not one of: {shown}")

    return convert


def to_trusted_proxies(value: object) -> tuple[str, ...]:
    """Addresses, CIDR networks, loopback/private/linklocal/unix or ``*``."""
    items = to_list(value)
    for item in items:
        try:
            parse_entry(item)
        except ValueError as exc:
            # parse_entry names the setting already; the caller adds it again.
            raise ValueError(str(exc).removeprefix("trusted_proxies: ")) from None
    return items


def to_trusted_headers(value: object) -> tuple[str, ...]:
    """A subset of the six forwarding headers, case-insensitive.

    ``forwarded`` together with X-Forwarded-For/Proto/Host/Port is refused
    (as waitress does): two sources for one fact can disagree.
    """
    names: list[str] = []
    for item in to_list(value):
        low = item.lower()
        if low not in FORWARDING_HEADERS:
            raise ValueError(
                f"{item!r} is not a forwarding header; use any of: "
                + " ".join(FORWARDING_HEADERS)
            )
        if low not in names:
            names.append(low)
    clash = [n for n in names if n not in ("forwarded", "x-forwarded-prefix")]
    if "forwarded" in names and clash:
        raise ValueError(
            f"'forwarded' cannot be combined with {', '.join(clash)} "
            "(only x-forwarded-prefix may accompany it)"
        )
    return tuple(names)


def to_path(value: object) -> str:
    """A URL path prefix: '' (none) or '/segment/...' without a trailing '/'.

    The value is compared with PATH_INFO as the server decoded it, so write
    it unencoded. '/' means no prefix (waitress would give SCRIPT_NAME '/').
    """
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a path")
    text = value.strip()
    if not text or text == "/":
        return ""
    if not text.startswith("/"):
        raise ValueError(f"{value!r} must start with '/'")
    if text.startswith("//") or any(c in text for c in "?#\\ \t\r\n"):
        raise ValueError(f"{value!r} is not a plain path")
    segments = text.strip("/").split("/")
    if any(s in ("", ".", "..") for s in segments):
        raise ValueError(f"{value!r} has an empty, '.' or '..' segment")
    return "/" + "/".join(segments)


def to_allowed_hosts(value: object) -> tuple[str, ...]:
    """``*``, ``example.com``, ``.example.com``, ``*.example.com``, IPs, ``[::1]``.

    Entries are lower-cased and lose one trailing dot; a port is an error
    (hosts are matched without their port).
    """
    entries: list[str] = []
    for item in to_list(value):
        low = item.lower()
        if low == "*":
            entries.append(low)
            continue
        bare = low[2:] if low.startswith("*.") else low.removeprefix(".")
        try:
            ipaddress.ip_address(bare)
        except ValueError:
            pass
        else:
            if bare != low:  # an address has no subdomains
                raise ValueError(f"{item!r}: an IP address takes no '.' or '*.'")
            entries.append(f"[{bare}]" if ":" in bare else bare)
            continue
        from wsgifix.forwarded import HeaderError, parse_host

        try:
            host, port = parse_host(bare)
        except HeaderError:
            raise ValueError(f"{item!r} is not a host name or IP address") from None
        if port is not None:
            raise ValueError(f"{item!r}: allowed_hosts entries carry no port")
        if host.startswith("[") and bare != low:
            raise ValueError(f"{item!r}: an IP address takes no '.' or '*.'")
        entries.append(low.removesuffix(".") if host.endswith(".") else low)
    if not entries:
        # Every request would get a 400: surely not what was meant.
        raise ValueError("empty (no host would be served); '*' allows any host")
    return tuple(entries)


def to_cookie_domain(value: object) -> str:
    """``auto``, ``keep``, or a domain to rewrite Domain attributes to."""
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not 'auto', 'keep' or a domain")
    low = value.strip().lower()
    if low in ("auto", "keep"):
        return low
    if len(low) > 253 or not _DOMAIN.fullmatch(low):
        raise ValueError(f"{value!r} is not 'auto', 'keep' or a domain name")
    return low


def _table(*rows: Setting) -> dict[str, Setting]:
    return {row.name: row for row in rows}


SETTINGS: dict[str, Setting] = _table(
    Setting(
        "trusted_proxies",
        "proxy",
        "",
        to_trusted_proxies,
        "peers whose forwarding headers are honoured: IPs, CIDR networks, "
        "loopback, private, linklocal, unix, or *",
        is_list=True,
    ),
    Setting(
        "trusted_hops",
        "proxy",
        "0",
        _int_in(0, 64),
        "hop-count mode: trust the N nearest proxies whatever their address",
    ),
    Setting(
        "trusted_headers",
        "proxy",
        "x-forwarded-for x-forwarded-proto",
        to_trusted_headers,
        "headers a trusted proxy may set: " + " ".join(FORWARDING_HEADERS),
        is_list=True,
    ),
    Setting(
        "clear_untrusted",
        "proxy",
        "true",
        to_bool,
        "remove forwarding headers that were not honoured",
    ),
    Setting(
        "on_invalid",
        "proxy",
        "reject",
        _choice("reject", "ignore"),
        "a malformed value from a trusted proxy: 400 (reject) or skip (ignore)",
    ),
    Setting(
        "url_scheme",
        "proxy",
        "",
        _choice("", "http", "https"),
        "scheme for requests no trusted header overrides",
    ),
    Setting(
        "allowed_hosts",
        "proxy",
        "*",
        to_allowed_hosts,
        "accepted Host values: example.com, .example.com, *.example.com, IPs, *",
        is_list=True,
    ),
    Setting(
        "prefix",
        "prefix",
        "",
        to_path,
        "fixed mount prefix stripped from PATH_INFO and added to SCRIPT_NAME",
    ),
    Setting(
        "cookie_policy",
        "cookies",
        "fix",
        _choice("off", "report", "fix"),
        "Set-Cookie audit: off, report (findings only) or fix",
    ),
    Setting(
        "cookie_secure",
        "cookies",
        "auto",
        _choice("auto", "keep"),
        "auto: add Secure to cookies set over effective https",
    ),
    Setting(
        "cookie_samesite",
        "cookies",
        "keep",
        _choice("keep", "lax", "strict", "none"),
        "SameSite given to cookies that have none",
    ),
    Setting(
        "cookie_domain",
        "cookies",
        "auto",
        to_cookie_domain,
        "auto (repair or drop a Domain browsers reject), keep, or a domain",
    ),
    Setting(
        "cookie_path",
        "cookies",
        "keep",
        _choice("keep", "scope"),
        "scope: keep cookies under SCRIPT_NAME",
    ),
    Setting(
        "cookie_httponly",
        "cookies",
        "",
        to_list,
        "cookie names that get HttpOnly",
        is_list=True,
    ),
    Setting(
        "cookie_max_size",
        "cookies",
        "4096",
        _int_in(1, None),
        "name+value bytes above which browsers drop a cookie",
    ),
    Setting(
        "detect_races",
        "cookies",
        "true",
        to_bool,
        "report concurrent requests that overwrite each other's cookie",
    ),
    Setting(
        "debug_path",
        "stack",
        "",
        to_path,
        "serve the inspector page at this path to local clients",
    ),
)

DEFAULTS: dict[str, Any] = {s.name: s.convert(s.default) for s in SETTINGS.values()}


def names(layer: str | None = None) -> tuple[str, ...]:
    """Setting names of one layer, or all of them."""
    return tuple(s.name for s in SETTINGS.values() if layer in (None, s.layer))


def convert(name: str, value: object) -> Any:
    """Convert one setting, or raise ValueError naming it."""
    try:
        setting = SETTINGS[name]
    except KeyError:
        raise ValueError(_unknown(name)) from None
    try:
        return setting.convert(value)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


def resolve(values: Mapping[str, object], layer: str | None = None) -> dict[str, Any]:
    """Every setting of ``layer`` (all when None): given values converted,
    the rest defaulted. A name from another layer is an error, so a
    setting given to the wrong PasteDeploy filter is not silently ignored.
    """
    allowed = names(layer)
    for name in values:
        if name not in allowed:
            if name in SETTINGS:
                raise ValueError(
                    f"{name}: belongs to the {SETTINGS[name].layer} layer, "
                    f"not the {layer} layer"
                )
            raise ValueError(_unknown(name))
    return {
        name: convert(name, values[name]) if name in values else DEFAULTS[name]
        for name in allowed
    }


def from_environ(environ: Mapping[str, str]) -> dict[str, str]:
    """The ``WSGIFIX_<NAME>`` variables as settings (``WSGIFIX_APP`` excepted).

    An unknown ``WSGIFIX_*`` variable is an error, like an unknown keyword.
    """
    found: dict[str, str] = {}
    for key, value in environ.items():
        if not key.startswith(ENV_PREFIX) or key == APP_VARIABLE:
            continue
        name = key[len(ENV_PREFIX) :].lower()
        if name not in SETTINGS or key != ENV_PREFIX + name.upper():
            raise ValueError(f"{key}: unknown wsgifix variable ({_hint(name)})")
        found[name] = value
    return found


def text_of(value: object) -> str:
    """A converted value back as the text one would write in an .ini file."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return " ".join(value)
    return str(value)


def _unknown(name: str) -> str:
    return f"{name}: unknown wsgifix setting ({_hint(name)})"


def _hint(name: str) -> str:
    import difflib

    close = difflib.get_close_matches(name, SETTINGS, n=1)
    return f"did you mean {close[0]}?" if close else "see `wsgifix config`"
