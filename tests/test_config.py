"""The settings table: every converter, every error (CONTRACT.md 1, 2, 7)."""

from __future__ import annotations

from typing import Any

import pytest

from wsgifix import config

# -- every setting accepts its default text and has one layer -----------------


def test_every_contract_setting_is_in_the_table() -> None:
    # CONTRACT.md section 2, in its order.
    assert list(config.SETTINGS) == [
        "trusted_proxies",
        "trusted_hops",
        "trusted_headers",
        "clear_untrusted",
        "on_invalid",
        "url_scheme",
        "allowed_hosts",
        "prefix",
        "cookie_policy",
        "cookie_secure",
        "cookie_samesite",
        "cookie_domain",
        "cookie_path",
        "cookie_httponly",
        "cookie_max_size",
        "detect_races",
        "debug_path",
    ]


def test_defaults() -> None:
    # CONTRACT.md section 2, "default" column.
    assert config.resolve({}) == {
        "trusted_proxies": (),
        "trusted_hops": 0,
        "trusted_headers": ("x-forwarded-for", "x-forwarded-proto"),
        "clear_untrusted": True,
        "on_invalid": "reject",
        "url_scheme": "",
        "allowed_hosts": ("*",),
        "prefix": "",
        "cookie_policy": "fix",
        "cookie_secure": "auto",
        "cookie_samesite": "keep",
        "cookie_domain": "auto",
        "cookie_path": "keep",
        "cookie_httponly": (),
        "cookie_max_size": 4096,
        "detect_races": True,
        "debug_path": "",
    }


def test_layers_partition_the_settings() -> None:
    # CONTRACT.md section 7, "Settings by layer".
    assert config.names("proxy") == (
        "trusted_proxies",
        "trusted_hops",
        "trusted_headers",
        "clear_untrusted",
        "on_invalid",
        "url_scheme",
        "allowed_hosts",
    )
    assert config.names("prefix") == ("prefix",)
    assert config.names("cookies") == (
        "cookie_policy",
        "cookie_secure",
        "cookie_samesite",
        "cookie_domain",
        "cookie_path",
        "cookie_httponly",
        "cookie_max_size",
        "detect_races",
    )
    assert config.names("stack") == ("debug_path",)


# -- good values ---------------------------------------------------------------

GOOD = [
    # Booleans are strict (CONTRACT.md section 1).
    *(
        pytest.param("clear_untrusted", text, value, id=f"bool {text!r}")
        for text, value in [
            ("true", True),
            ("TRUE", True),
            ("yes", True),
            ("on", True),
            ("1", True),
            (" On ", True),
            ("false", False),
            ("no", False),
            ("off", False),
            ("0", False),
            (True, True),
            (False, False),
            (1, True),
            (0, False),
        ]
    ),
    pytest.param("detect_races", "No", False, id="detect_races bool"),
    # Lists: spaces, commas or newlines (CONTRACT.md section 7).
    pytest.param(
        "trusted_proxies", "10.0.0.1 10.0.0.2", ("10.0.0.1", "10.0.0.2"), id="spaces"
    ),
    pytest.param(
        "trusted_proxies", "10.0.0.1, 10.0.0.2", ("10.0.0.1", "10.0.0.2"), id="commas"
    ),
    pytest.param(
        "trusted_proxies",
        "\n10.0.0.1\n  10.0.0.2\n",
        ("10.0.0.1", "10.0.0.2"),
        id="ini multi-line",
    ),
    pytest.param(
        "trusted_proxies",
        ["10.0.0.1, ::1", "loopback"],
        ("10.0.0.1", "::1", "loopback"),
        id="list of strings (repeated CLI flags)",
    ),
    pytest.param("trusted_proxies", ",, ,", (), id="only separators"),
    pytest.param("trusted_proxies", "", (), id="empty list"),
    pytest.param(
        "trusted_proxies",
        "loopback private linklocal unix *",
        ("loopback", "private", "linklocal", "unix", "*"),
        id="named ranges",
    ),
    pytest.param(
        "trusted_proxies",
        "10.0.0.0/8 fd00::/8 [::1] 2001:db8::1",
        ("10.0.0.0/8", "fd00::/8", "[::1]", "2001:db8::1"),
        id="networks and IPv6",
    ),
    pytest.param("trusted_hops", "0", 0, id="hops 0"),
    pytest.param("trusted_hops", "64", 64, id="hops 64"),
    pytest.param("trusted_hops", 2, 2, id="hops int"),
    pytest.param(
        "trusted_headers",
        "X-Forwarded-For, X-FORWARDED-HOST x-forwarded-for",
        ("x-forwarded-for", "x-forwarded-host"),
        id="headers case-insensitive, deduplicated",
    ),
    pytest.param(
        "trusted_headers",
        "forwarded x-forwarded-prefix",
        ("forwarded", "x-forwarded-prefix"),
        id="forwarded with prefix",
    ),
    pytest.param("trusted_headers", "", (), id="no headers"),
    pytest.param("on_invalid", "IGNORE", "ignore", id="on_invalid case"),
    pytest.param("url_scheme", "HTTPS", "https", id="scheme case"),
    pytest.param("url_scheme", "", "", id="scheme empty"),
    pytest.param("prefix", "/app", "/app", id="prefix"),
    pytest.param("prefix", "/app/", "/app", id="prefix trailing slash"),
    pytest.param("prefix", "/", "", id="prefix root is none"),
    pytest.param("prefix", "/a/b", "/a/b", id="prefix two segments"),
    pytest.param(
        "allowed_hosts",
        "Example.COM .example.org *.example.net 10.0.0.1 [::1] ::2 *",
        (
            "example.com",
            ".example.org",
            "*.example.net",
            "10.0.0.1",
            "[::1]",
            "[::2]",
            "*",
        ),
        id="allowed host forms",
    ),
    pytest.param(
        "allowed_hosts", "example.com.", ("example.com",), id="trailing dot ignored"
    ),
    pytest.param("cookie_policy", "report", "report", id="policy report"),
    pytest.param("cookie_policy", "OFF", "off", id="policy off"),
    pytest.param("cookie_secure", "keep", "keep", id="secure keep"),
    pytest.param("cookie_samesite", "None", "none", id="samesite none"),
    pytest.param("cookie_samesite", "lax", "lax", id="samesite lax"),
    pytest.param("cookie_domain", "keep", "keep", id="domain keep"),
    pytest.param("cookie_domain", "Example.com", "example.com", id="domain rewrite"),
    pytest.param("cookie_domain", ".example.com", ".example.com", id="domain dot"),
    pytest.param("cookie_path", "scope", "scope", id="path scope"),
    pytest.param(
        "cookie_httponly", "session, csrf", ("session", "csrf"), id="httponly names"
    ),
    pytest.param("cookie_max_size", "8192", 8192, id="max size"),
    pytest.param("debug_path", "/_wsgifix", "/_wsgifix", id="debug path"),
]


@pytest.mark.parametrize(("name", "text", "expected"), GOOD)
def test_convert(name: str, text: Any, expected: Any) -> None:
    assert config.convert(name, text) == expected


def test_converted_values_convert_again_unchanged() -> None:
    # Keyword values may be typed already; wrap() resolves layer subsets twice.
    once = config.resolve({"trusted_proxies": "10.0.0.0/8", "prefix": "/a/"})
    assert config.resolve(once) == once


# -- bad values: ValueError naming the setting ---------------------------------

BAD = [
    pytest.param("clear_untrusted", "maybe", id="bool word"),
    pytest.param("clear_untrusted", "", id="bool empty"),
    pytest.param("clear_untrusted", "2", id="bool 2"),
    pytest.param("clear_untrusted", 2, id="bool int 2"),
    pytest.param("detect_races", "tru", id="bool typo"),
    pytest.param("trusted_proxies", "10.0.0.1/8", id="host bits set"),
    pytest.param("trusted_proxies", "proxy.example.com", id="hostname"),
    pytest.param("trusted_proxies", "10.0.0.256", id="bad IPv4"),
    pytest.param("trusted_proxies", "10.0.0.0/33", id="bad prefix length"),
    pytest.param("trusted_proxies", "localhost", id="localhost is not a range"),
    pytest.param("trusted_proxies", 10, id="not a list"),
    pytest.param("trusted_proxies", [10], id="list of int"),
    pytest.param("trusted_hops", "-1", id="hops negative"),
    pytest.param("trusted_hops", "65", id="hops too many"),
    pytest.param("trusted_hops", "two", id="hops word"),
    pytest.param("trusted_hops", True, id="hops bool"),
    pytest.param("trusted_hops", "\u0663", id="hops non-ASCII digit"),
    pytest.param("trusted_headers", "x-real-ip", id="unknown header"),
    pytest.param("trusted_headers", "forwarded x-forwarded-for", id="forwarded + xff"),
    pytest.param(
        "trusted_headers", "Forwarded, X-Forwarded-Host", id="forwarded + host"
    ),
    pytest.param("on_invalid", "drop", id="on_invalid word"),
    pytest.param("url_scheme", "ftp", id="scheme ftp"),
    pytest.param("prefix", "app", id="prefix relative"),
    pytest.param("prefix", "//app", id="prefix double slash"),
    pytest.param("prefix", "/a/../b", id="prefix dotdot"),
    pytest.param("prefix", "/a//b", id="prefix empty segment"),
    pytest.param("prefix", "/a?b", id="prefix query"),
    pytest.param("prefix", 5, id="prefix not text"),
    pytest.param("allowed_hosts", "example.com:8080", id="host with port"),
    pytest.param("allowed_hosts", "[::1]:80", id="IPv6 with port"),
    pytest.param("allowed_hosts", "ex.com@evil", id="host with @"),
    pytest.param("allowed_hosts", "ex.com/x", id="host with /"),
    # Choices: an address has no subdomains; an empty list would answer
    # every request with 400.
    pytest.param("allowed_hosts", "*.10.0.0.1", id="subdomains of an IP"),
    pytest.param("allowed_hosts", ".10.0.0.1", id="dot IP"),
    pytest.param("allowed_hosts", "*.[::1]", id="subdomains of IPv6"),
    pytest.param("allowed_hosts", "", id="empty"),
    pytest.param("cookie_policy", "strict", id="policy word"),
    pytest.param("cookie_secure", "always", id="secure word"),
    pytest.param("cookie_samesite", "nope", id="samesite word"),
    pytest.param("cookie_domain", "exa mple.com", id="domain space"),
    pytest.param("cookie_domain", "example.com:80", id="domain port"),
    pytest.param("cookie_path", "root", id="path word"),
    pytest.param("cookie_max_size", "0", id="max size zero"),
    pytest.param("cookie_max_size", "4k", id="max size unit"),
    pytest.param("debug_path", "inspect", id="debug path relative"),
]


@pytest.mark.parametrize(("name", "text"), BAD)
def test_bad_value_names_the_setting(name: str, text: Any) -> None:
    with pytest.raises(ValueError, match=rf"^{name}: "):
        config.convert(name, text)


@pytest.mark.parametrize(("name", "text"), BAD)
def test_bad_value_fails_in_resolve(name: str, text: Any) -> None:
    with pytest.raises(ValueError, match=rf"^{name}: "):
        config.resolve({name: text})


def test_unknown_setting_is_an_error_with_a_hint() -> None:
    # A misspelt trusted_proxy= must fail loudly, not be ignored.
    with pytest.raises(ValueError, match=r"^trusted_proxy: unknown.*trusted_proxies"):
        config.resolve({"trusted_proxy": "10.0.0.1"})


def test_setting_of_another_layer_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"^prefix: belongs to the prefix layer"):
        config.resolve({"prefix": "/app"}, layer="proxy")


# -- the environment -----------------------------------------------------------

ENVIRON = [
    pytest.param({}, {}, id="nothing"),
    pytest.param({"PATH": "/bin", "HOME": "/root"}, {}, id="other variables"),
    pytest.param({"WSGIFIX_APP": "x:y"}, {}, id="WSGIFIX_APP is not a setting"),
    pytest.param(
        {"WSGIFIX_TRUSTED_PROXIES": "loopback", "WSGIFIX_PREFIX": "/app"},
        {"trusted_proxies": "loopback", "prefix": "/app"},
        id="settings",
    ),
]


@pytest.mark.parametrize(("environ", "expected"), ENVIRON)
def test_from_environ(environ: dict[str, str], expected: dict[str, str]) -> None:
    assert config.from_environ(environ) == expected


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("WSGIFIX_TRUSTED_PROXY", id="misspelt"),
        pytest.param("WSGIFIX_trusted_proxies", id="lower case"),
        pytest.param("WSGIFIX_", id="empty name"),
    ],
)
def test_unknown_variable_is_an_error(key: str) -> None:
    with pytest.raises(ValueError, match=rf"^{key}: unknown"):
        config.from_environ({key: "1"})


@pytest.mark.parametrize(
    ("value", "text"),
    [
        pytest.param(True, "true", id="bool"),
        pytest.param(("a", "b"), "a b", id="list"),
        pytest.param(7, "7", id="int"),
        pytest.param("", "", id="empty"),
    ],
)
def test_text_of(value: object, text: str) -> None:
    assert config.text_of(value) == text
