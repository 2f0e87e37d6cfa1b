"""trusted_proxies entries and peer matching (CONTRACT.md sections 2 and 7)."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wsgifix.trust import TrustedPeers, is_loopback, parse_entry

MATCH = [
    # (entries, peer, the entry that trusts it or None)
    pytest.param("10.0.0.1", "10.0.0.1", "10.0.0.1", id="exact IPv4"),
    pytest.param("10.0.0.1", "10.0.0.2", None, id="other IPv4"),
    pytest.param("10.0.0.0/8", "10.255.1.2", "10.0.0.0/8", id="IPv4 network"),
    pytest.param("10.0.0.0/8", "11.0.0.1", None, id="outside IPv4 network"),
    # CONTRACT.md section 7: IPv4 rules match IPv4-mapped IPv6 peers.
    pytest.param("10.0.0.0/8", "::ffff:10.0.0.1", "10.0.0.0/8", id="mapped IPv6 peer"),
    pytest.param("10.0.0.1", "::ffff:10.0.0.1", "10.0.0.1", id="mapped exact"),
    pytest.param("loopback", "::ffff:127.0.0.1", "loopback", id="mapped loopback"),
    pytest.param("private", "::ffff:192.168.1.1", "private", id="mapped private"),
    # ... and IPv6 rules written for them match them too.
    pytest.param("::ffff:10.0.0.1", "::ffff:10.0.0.1", "::ffff:10.0.0.1", id="v6 rule"),
    pytest.param(
        "::ffff:0:0/96", "::ffff:10.0.0.1", "::ffff:0:0/96", id="v6 mapped net"
    ),
    pytest.param("::/0", "::ffff:10.0.0.1", "::/0", id="v6 everything"),
    pytest.param("::ffff:10.0.0.2", "::ffff:10.0.0.1", None, id="v6 rule, other"),
    pytest.param("::1", "::1", "::1", id="IPv6 exact"),
    pytest.param("[::1]", "::1", "[::1]", id="bracketed entry"),
    pytest.param("::1", "[::1]", "::1", id="bracketed peer"),
    pytest.param("2001:db8::/32", "2001:db8:1::5", "2001:db8::/32", id="IPv6 network"),
    pytest.param("2001:db8::/32", "2001:db9::1", None, id="outside IPv6 network"),
    # uvicorn tests/middleware/test_proxy_headers.py: named and literal ranges.
    pytest.param("loopback", "127.0.0.1", "loopback", id="loopback v4"),
    pytest.param("loopback", "127.8.9.10", "loopback", id="loopback /8"),
    pytest.param("loopback", "::1", "loopback", id="loopback v6"),
    pytest.param("loopback", "10.0.0.1", None, id="not loopback"),
    pytest.param("private", "10.1.2.3", "private", id="private 10/8"),
    pytest.param("private", "172.16.0.1", "private", id="private 172.16/12"),
    pytest.param("private", "172.31.255.255", "private", id="private 172.31"),
    pytest.param("private", "172.32.0.1", None, id="not private 172.32"),
    pytest.param("private", "192.168.0.1", "private", id="private 192.168/16"),
    pytest.param("private", "fd12::1", "private", id="private fc00::/7"),
    pytest.param("private", "8.8.8.8", None, id="public"),
    pytest.param("linklocal", "169.254.1.1", "linklocal", id="linklocal v4"),
    pytest.param("linklocal", "fe80::1", "linklocal", id="linklocal v6"),
    # FIELD-NOTES: waitress reports a Unix-socket peer as 'localhost'.
    pytest.param("unix", "localhost", "unix", id="unix socket waitress"),
    pytest.param("unix", "", "unix", id="unix socket empty"),
    pytest.param("unix", "127.0.0.1", None, id="unix is not loopback"),
    pytest.param("loopback", "localhost", None, id="localhost name is not loopback"),
    pytest.param("*", "203.0.113.9", "*", id="star trusts everyone"),
    pytest.param("*", "localhost", "*", id="star trusts unix"),
    pytest.param("10.0.0.1 loopback", "::1", "loopback", id="second entry"),
    pytest.param("", "127.0.0.1", None, id="empty trusts nobody"),
    pytest.param("loopback", "garbage", None, id="non-IP peer"),
    pytest.param("loopback", "127.0.0.1%lo", None, id="peer with zone"),
]


@pytest.mark.parametrize(("entries", "peer", "expected"), MATCH)
def test_match(entries: str, peer: str, expected: str | None) -> None:
    peers = TrustedPeers(entries.split())
    assert peers.match(peer) == expected
    assert peers.match(peer) == expected  # cached answer is the same
    assert (peer in peers) is (expected is not None)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        pytest.param("10.0.0.1/8", "has host bits set", id="host bits"),
        pytest.param("fd00::1/8", "has host bits set", id="IPv6 host bits"),
        pytest.param("example.com", "is not an IP address", id="hostname"),
        pytest.param("10.0.0.0/99", "is not an IP address", id="bad length"),
        pytest.param("public", "is not an IP address", id="unknown name"),
    ],
)
def test_bad_entries_name_the_entry(entry: str, message: str) -> None:
    with pytest.raises(ValueError, match=rf"^trusted_proxies: '{entry}' {message}"):
        parse_entry(entry)


def test_cache_is_bounded() -> None:
    peers = TrustedPeers(["10.0.0.0/8"])
    for i in range(10_000):
        peers.match(f"192.0.{i // 256 % 256}.{i % 256}")
    assert len(peers._cache) <= 4096


@pytest.mark.parametrize(
    ("addr", "expected"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("10.0.0.1", False),
        ("localhost", False),
    ],
)
def test_is_loopback(addr: str, expected: bool) -> None:
    assert is_loopback(addr) is expected


# -- the integer fast path for IPv4 peers (issue 7) agrees with ipaddress ----------

OCTETS = st.one_of(
    st.integers(0, 255).map(str),
    st.sampled_from(["00", "01", "256", "999", "", "1a", "+1", " 1", "٣", "0x1"]),
)
ADDRESSES = st.one_of(
    st.lists(OCTETS, min_size=3, max_size=5).map(".".join),
    st.ip_addresses(v=4).map(str),
    st.text(alphabet="0123456789.", max_size=16),
)
NETWORKS = st.lists(
    st.one_of(
        st.ip_addresses(v=4).map(lambda ip: f"{ip}/32"),
        st.tuples(st.ip_addresses(v=4), st.integers(0, 32)).map(
            lambda t: str(ipaddress.ip_network(f"{t[0]}/{t[1]}", strict=False))
        ),
        st.sampled_from(["loopback", "private", "linklocal", "10.0.0.0/8"]),
    ),
    min_size=1,
    max_size=4,
)


def reference_match(entries: list[str], addr: str) -> str | None:
    """What the entries say by ipaddress alone (the pre-issue-7 way)."""
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return None
    for entry in entries:
        names = {
            "loopback": ["127.0.0.0/8"],
            "private": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"],
            "linklocal": ["169.254.0.0/16"],
        }
        for net in names.get(entry, [entry]):
            network = ipaddress.ip_network(net)
            if network.version == 4 and ip.version == 4 and ip in network:
                return entry
    return None


@given(entries=NETWORKS, addr=ADDRESSES)
def test_ipv4_peers_match_as_ipaddress_says(entries: list[str], addr: str) -> None:
    assert TrustedPeers(entries).match(addr) == reference_match(entries, addr)
