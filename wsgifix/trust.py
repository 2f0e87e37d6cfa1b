"""Which socket peers may speak for the client (pure, no WSGI).

A ``trusted_proxies`` list is compiled once into :class:`TrustedPeers`; each
request then asks one question, ``peers.match(REMOTE_ADDR)``, whose answer is
cached per address, so the per-request cost is a dictionary look-up.

Entries:

- an IPv4 or IPv6 address (``10.0.0.1``, ``::1``);
- a CIDR network (``10.0.0.0/8``, ``fd00::/8``); host bits set
  (``10.0.0.1/8``) is an error, because it usually means a typo;
- ``loopback`` (127.0.0.0/8, ::1), ``private`` (10/8, 172.16/12,
  192.168/16, fc00::/7), ``linklocal`` (169.254/16, fe80::/10);
- ``unix``: a Unix-socket peer as servers report it (waitress:
  ``localhost``; an empty REMOTE_ADDR);
- ``*``: every peer.

IPv4 rules, named ranges included, also match IPv4-mapped IPv6 peers
(``::ffff:10.0.0.1``), since dual-stack sockets report IPv4 clients so.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from typing import Final

from wsgifix.forwarded import IPV4

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

NAMED_RANGES: dict[str, tuple[str, ...]] = {
    "loopback": ("127.0.0.0/8", "::1/128"),
    "private": ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"),
    "linklocal": ("169.254.0.0/16", "fe80::/10"),
}

#: What servers put in REMOTE_ADDR for a peer on a Unix socket.
UNIX_PEERS: Final = frozenset({"localhost", ""})
# The detail of a forwarding header's "not in trusted_headers" status (see
# wsgifix.proxy) where adding it to trusted_headers as they are would be
# refused: forwarded excludes x-forwarded-for/proto/host/port (CONTRACT.md
# 7). The advice (inspector, cookie findings) names what wrap() accepts.
FORWARDED_TRUSTED: Final = "forwarded is trusted"
X_FORWARDED_TRUSTED: Final = "x-forwarded-* is trusted"

_CACHE_SIZE: Final = 4096
_MISSING: Final = object()


def parse_entry(entry: str) -> tuple[Network, ...] | str:
    """One ``trusted_proxies`` entry -> its networks, or ``"*"``/``"unix"``.

    Raises ValueError naming the entry when it is not an address, a network
    without host bits, or a known name.
    """
    text = entry.strip()
    low = text.lower()
    if low in ("*", "unix"):
        return low
    if low in NAMED_RANGES:
        return tuple(ipaddress.ip_network(n) for n in NAMED_RANGES[low])
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        return (ipaddress.ip_network(text, strict=True),)
    except ValueError as exc:
        if "/" in text and "has host bits set" in str(exc):
            reason = "has host bits set (did you mean the network address?)"
        else:
            reason = (
                "is not an IP address, a CIDR network, or one of "
                "loopback, private, linklocal, unix, *"
            )
        raise ValueError(f"trusted_proxies: {entry!r} {reason}") from None


class TrustedPeers:
    """A compiled ``trusted_proxies`` list.

    ``match(addr)`` returns the entry that trusts ``addr`` (for the
    inspector's "trusted by" line) or None; ``addr in peers`` is the
    boolean form. Both are cached per address (bounded).
    """

    def __init__(self, entries: Iterable[str]) -> None:
        self.entries = tuple(entries)
        self.everyone = False
        self.unix: str | None = None
        v4: list[tuple[ipaddress.IPv4Network, str]] = []
        v6: list[tuple[ipaddress.IPv6Network, str]] = []
        for entry in self.entries:
            parsed = parse_entry(entry)
            if parsed == "*":
                self.everyone = True
            elif parsed == "unix":
                self.unix = entry
            else:
                for net in parsed:
                    if isinstance(net, ipaddress.IPv4Network):
                        v4.append((net, entry))
                    elif isinstance(net, ipaddress.IPv6Network):
                        v6.append((net, entry))
        self._v4 = tuple(v4)
        self._v6 = tuple(v6)
        # The IPv4 networks as (address & mask, mask, entry) integers.
        self._v4_ints = tuple(
            (int(net.network_address), int(net.netmask), entry) for net, entry in v4
        )
        self._cache: dict[str, str | None] = {}

    def __bool__(self) -> bool:
        return bool(self.entries)

    def __contains__(self, addr: object) -> bool:
        return isinstance(addr, str) and self.match(addr) is not None

    def match(self, addr: str) -> str | None:
        """The entry trusting ``addr`` (``"*"`` for everyone), else None."""
        found = self._cache.get(addr, _MISSING)
        if found is not _MISSING:
            return found  # type: ignore[return-value]
        found = self._match(addr)
        if len(self._cache) >= _CACHE_SIZE:
            self._cache.clear()
        self._cache[addr] = found
        return found

    def _match(self, addr: str) -> str | None:
        if self.everyone:
            return "*"
        if addr in UNIX_PEERS:
            return self.unix
        if IPV4.fullmatch(addr) is not None:  # the common case, in integers
            number = int.from_bytes(socket.inet_aton(addr), "big")
            for network, mask, entry in self._v4_ints:
                if number & mask == network:
                    return entry
            return None
        text = addr[1:-1] if addr.startswith("[") and addr.endswith("]") else addr
        try:
            ip = ipaddress.ip_address(text)
        except ValueError:
            return None
        if isinstance(ip, ipaddress.IPv6Address):
            # An IPv4-mapped peer (::ffff:a.b.c.d) matches the IPv4 rules
            # (CONTRACT.md 7) and the IPv6 rules written for it as well.
            mapped = ip.ipv4_mapped
            if mapped is not None:
                for net4, entry in self._v4:
                    if mapped in net4:
                        return entry
            for net6, entry in self._v6:
                if ip in net6:
                    return entry
            return None
        for net4, entry in self._v4:
            if ip in net4:
                return entry
        return None


def is_loopback(addr: str) -> bool:
    """True for 127.0.0.0/8, ::1 and their IPv4-mapped forms."""
    return _LOOPBACK.match(addr) is not None


_LOOPBACK: Final = TrustedPeers(["loopback"])
