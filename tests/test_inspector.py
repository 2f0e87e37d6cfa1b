"""The minimal inspector page and the debug_path route."""

from __future__ import annotations

import json
from typing import Any

import pytest

import wsgifix
from wsgifix import wrap
from wsgifix.inspector import make_inspector


def app(environ: Any, start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"app"]


def request(
    wsgi: Any, path: str = "/", query: str = "", **extra: str
) -> tuple[str, bytes]:
    environ = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "8080",
        "HTTP_HOST": "localhost:8080",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        **extra,
    }
    status: list[str] = []
    body = b"".join(wsgi(environ, lambda s, h, e=None: status.append(s)))
    return status[0], body


def test_the_page_names_the_version_and_the_build() -> None:
    # Not in the contract (more keys may be added): which wsgifix answers.
    page = make_inspector({})
    _, body = request(page, query="format=json")
    build = wsgifix.build_name()
    expected = {"version": wsgifix.__version__, "build": build}
    assert json.loads(body)["wsgifix"] == expected
    _, html_body = request(page)
    assert f"wsgifix {wsgifix.__version__} ({build})".encode() in html_body


def test_json_masks_secrets() -> None:
    # CONTRACT.md section 7: masked headers.
    page = make_inspector({})
    _, body = request(
        page,
        query="format=json",
        HTTP_AUTHORIZATION="Basic c2VjcmV0",
        HTTP_PROXY_AUTHORIZATION="x",
        HTTP_COOKIE="session=abc",
        HTTP_X_API_KEY="k",
        HTTP_X_CSRF_TOKEN="t",
        HTTP_X_SESSION_ID="s",
        HTTP_X_MY_SECRET="s",
        HTTP_ACCEPT="text/html",
    )
    doc = json.loads(body)
    for key in [
        "HTTP_AUTHORIZATION",
        "HTTP_PROXY_AUTHORIZATION",
        "HTTP_COOKIE",
        "HTTP_X_API_KEY",
        "HTTP_X_CSRF_TOKEN",
        "HTTP_X_SESSION_ID",
        "HTTP_X_MY_SECRET",
    ]:
        assert doc["effective"][key] == "********", key
        assert doc["raw"][key] == "********", key
    assert doc["effective"]["HTTP_ACCEPT"] == "text/html"
    assert "c2VjcmV0" not in body.decode()


def test_html_page_escapes_and_shows_the_effective_url() -> None:
    _, body = request(make_inspector({}), HTTP_X_EVIL="<script>")
    page = body.decode()
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    assert "http://localhost:8080" in page


def test_raw_comes_from_wsgifix_orig() -> None:
    _, body = request(
        make_inspector({}),
        query="format=json",
        REMOTE_ADDR="203.0.113.7",
        **{"wsgifix.orig": {"REMOTE_ADDR": "127.0.0.1", "HTTPS": None}},  # type: ignore[dict-item]
    )
    doc = json.loads(body)
    assert doc["raw"]["REMOTE_ADDR"] == "127.0.0.1"
    assert doc["effective"]["REMOTE_ADDR"] == "203.0.113.7"


@pytest.mark.parametrize(
    ("extra", "status"),
    [
        pytest.param({}, "200 OK", id="loopback peer"),
        pytest.param({"REMOTE_ADDR": "::1"}, "200 OK", id="IPv6 loopback peer"),
        pytest.param({"REMOTE_ADDR": "10.0.0.1"}, "404 Not Found", id="other peer"),
        pytest.param(
            {"HTTP_X_FORWARDED_FOR": "127.0.0.1"},
            "404 Not Found",
            id="forwarded request",
        ),
        pytest.param(
            {"HTTP_FORWARDED": "for=127.0.0.1"}, "404 Not Found", id="Forwarded request"
        ),
    ],
)
def test_debug_path_only_for_local_clients(extra: dict[str, str], status: str) -> None:
    # CONTRACT.md section 7: the page is never exposed through a proxy.
    wrapped = wrap(app, debug_path="/_wsgifix")
    assert request(wrapped, "/_wsgifix", **extra)[0] == status
    assert request(wrapped, "/other", **extra) == ("200 OK", b"app")


PROXY = {"trusted_proxies": "10.0.0.5", "trusted_headers": "x-forwarded-for"}


@pytest.mark.parametrize(
    ("settings", "extra", "status"),
    [
        # CONTRACT.md section 7, debug_path: through a trusted proxy only a
        # forwarded client that is loopback or a trusted proxy gets the page.
        pytest.param(
            PROXY, {"REMOTE_ADDR": "10.0.0.5"}, "200 OK", id="trusted proxy itself"
        ),
        pytest.param(
            PROXY,
            {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": "127.0.0.1"},
            "200 OK",
            id="forwarded loopback client",
        ),
        pytest.param(
            PROXY,
            {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": "203.0.113.9"},
            "404 Not Found",
            id="forwarded internet client",
        ),
        pytest.param(
            PROXY,
            {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": "unknown"},
            "404 Not Found",
            id="forwarded unknown client",
        ),
        pytest.param(
            PROXY,
            {
                "REMOTE_ADDR": "10.0.0.5",
                "HTTP_X_FORWARDED_FOR": "127.0.0.1",
                "HTTP_X_FORWARDED_HOST": "a.example",
            },
            "404 Not Found",
            id="a header that was not honoured",
        ),
        pytest.param(
            {**PROXY, "on_invalid": "ignore"},
            {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": "127.0.0.1, junk"},
            "404 Not Found",
            id="an ignored invalid header",
        ),
        pytest.param(
            {"trusted_proxies": "*"},
            {"REMOTE_ADDR": "10.0.0.5"},
            "404 Not Found",
            id="star: a non-loopback peer",
        ),
        pytest.param(
            {"trusted_proxies": "*"},
            {"HTTP_X_FORWARDED_FOR": "127.0.0.1"},
            "404 Not Found",
            id="star: a forwarded request",
        ),
        pytest.param({"trusted_proxies": "*"}, {}, "200 OK", id="star: loopback peer"),
        pytest.param(
            {"trusted_hops": "1"},
            {"HTTP_X_FORWARDED_FOR": "127.0.0.1"},
            "404 Not Found",
            id="hop mode: a forwarded request",
        ),
    ],
)
def test_debug_path_behind_a_proxy(
    settings: dict[str, str], extra: dict[str, str], status: str
) -> None:
    wrapped = wrap(app, debug_path="/_wsgifix", **settings)
    assert request(wrapped, "/_wsgifix", **extra)[0] == status


def test_json_reports_the_trust_decision() -> None:
    wrapped = wrap(app, debug_path="/_wsgifix", trusted_proxies="10.0.0.5")
    _, body = request(
        wrapped,
        "/_wsgifix",
        query="format=json",
        REMOTE_ADDR="10.0.0.5",
        HTTP_X_FORWARDED_FOR="127.0.0.1",
        HTTP_X_FORWARDED_PROTO="https",
    )
    trust = json.loads(body)["trust"]
    assert trust["peer"] == "10.0.0.5"
    assert trust["trusted_by"] == "10.0.0.5"
    assert trust["client"] == "127.0.0.1"
    assert trust["headers"]["HTTP_X_FORWARDED_FOR"]["status"] == "honoured"
    assert trust["headers"]["HTTP_X_FORWARDED_FOR"]["fate"] == "honoured"


@pytest.mark.parametrize(
    ("clear", "fates"),
    [
        pytest.param(
            "true",
            {"HTTP_X_FORWARDED_FOR": "honoured", "HTTP_X_FORWARDED_HOST": "removed"},
            id="clear_untrusted",
        ),
        pytest.param(
            "false",
            {"HTTP_X_FORWARDED_FOR": "honoured", "HTTP_X_FORWARDED_HOST": "ignored"},
            id="kept",
        ),
    ],
)
def test_json_tells_each_header_honoured_ignored_or_removed(
    clear: str, fates: dict[str, str]
) -> None:
    # C5: "each forwarding header honoured, ignored or removed, and why".
    # The inspector as the whole app (wsgifix serve): debug_path would not
    # answer a request with a header it did not honour (C7).
    from wsgifix import build_inspector, config

    wrapped = build_inspector(
        config.resolve({"trusted_proxies": "loopback", "clear_untrusted": clear})
    )
    _, body = request(
        wrapped,
        "/",
        query="format=json",
        HTTP_X_FORWARDED_FOR="127.0.0.1",
        HTTP_X_FORWARDED_HOST="evil.test",
    )
    headers = json.loads(body)["trust"]["headers"]
    assert {key: info["fate"] for key, info in headers.items()} == fates
    assert headers["HTTP_X_FORWARDED_HOST"]["status"] == "not in trusted_headers"
    _, page = request(wrapped, "/", HTTP_X_FORWARDED_HOST="evil.test")
    assert f"<td>{fates['HTTP_X_FORWARDED_HOST']}</td>".encode() in page


@pytest.mark.parametrize(
    ("trusted", "headers"),
    [
        pytest.param(
            {"trusted_proxies": "loopback", "trusted_headers": "forwarded"},
            {"HTTP_FORWARDED": "for=192.0.2.1", "HTTP_X_FORWARDED_PROTO": "https"},
            id="Forwarded trusted, X-Forwarded-Proto sent",
        ),
        pytest.param(
            {"trusted_proxies": "loopback"},
            {"HTTP_X_FORWARDED_FOR": "192.0.2.1", "HTTP_FORWARDED": "for=192.0.2.1"},
            id="X-Forwarded-For trusted, Forwarded sent",
        ),
        pytest.param(
            {"trusted_proxies": "10.0.0.1"},
            {
                "HTTP_X_FORWARDED_FOR": "192.0.2.1",
                "HTTP_X_FORWARDED_HOST": "a.test",
                "HTTP_FORWARDED": "for=192.0.2.1",
            },
            id="untrusted peer, both kinds sent",
        ),
    ],
)
def test_trust_advice_names_only_settings_wrap_accepts(
    trusted: dict[str, str], headers: dict[str, str]
) -> None:
    # forwarded cannot be combined with x-forwarded-for/proto/host/port
    # (CONTRACT.md 7): every trusted_headers the page suggests is accepted.
    import re

    from wsgifix import build_inspector, config

    wrapped = build_inspector(config.resolve(trusted))
    _, body = request(wrapped, "/", query="format=json", **headers)
    trust = json.loads(body)["trust"]
    texts = [trust["advice"], *(h["change"] for h in trust["headers"].values())]
    suggested = re.findall(r"trusted_headers=([a-z-]+(?: x-[a-z-]+)*)", " ".join(texts))
    for names in suggested:  # (no ValueError)
        wrap(lambda e, s: [], trusted_proxies="loopback", trusted_headers=names)
    assert all("add forwarded" not in text for text in texts)
    if "HTTP_X_FORWARDED_PROTO" in headers:
        assert "add x-forwarded-proto" not in " ".join(texts)


@pytest.mark.parametrize(
    ("settings", "headers", "why"),
    [
        pytest.param(
            {"trusted_hops": 2},
            {"HTTP_X_FORWARDED_FOR": "192.0.2.1"},
            "lower trusted_hops",
            id="too short for trusted_hops",
        ),
        pytest.param(
            {"trusted_proxies": "loopback", "on_invalid": "ignore"},
            {"HTTP_X_FORWARDED_FOR": "192.0.2.1", "HTTP_X_FORWARDED_PROTO": "ftp"},
            "fix the proxy's value",
            id="an invalid value skipped",
        ),
    ],
)
def test_trust_advice_does_not_ask_for_what_is_set(
    settings: dict[str, Any], headers: dict[str, str], why: str
) -> None:
    # A header already in trusted_headers that was not honoured for
    # another reason is explained by that reason, not by "add it".
    from wsgifix import build_inspector, config

    wrapped = build_inspector(config.resolve(settings))
    _, body = request(wrapped, "/", query="format=json", **headers)
    advice = json.loads(body)["trust"]["advice"]
    assert "to trusted_headers" not in advice
    assert why in advice


def test_links_keep_an_encoded_question_mark_in_the_path() -> None:
    # PATH_INFO is decoded: /x%3Fy arrives as /x?y; the page's links must
    # send it back encoded, or their query would start inside the path.
    from wsgifix import build_inspector, config

    wrapped = build_inspector(config.resolve({}))
    _, page = request(wrapped, "/x?y")
    assert b'href="/x%3Fy?format=json"' in page
    assert b'href="/x%3Fy?cookies=set"' in page


def cookie_jar_from(headers: list[tuple[str, str]]) -> str:
    return "; ".join(v.split(";", 1)[0] for k, v in headers if k == "Set-Cookie")


def call_with_headers(
    wsgi: Any, query: str, **extra: str
) -> tuple[str, list[Any], bytes]:
    environ = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/_wsgifix",
        "QUERY_STRING": query,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "8080",
        "HTTP_HOST": "lab.test:8080",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        **extra,
    }
    seen: list[Any] = []
    body = b"".join(wsgi(environ, lambda s, h, e=None: seen.append((s, h))))
    return seen[0][0], seen[0][1], body


def test_cookie_round_trip_sets_cookies_as_written_and_explains_the_missing() -> None:
    # CONTRACT.md section 5: the inspector's responses are audited in report
    # mode, so the Secure test cookie over http is sent as written.
    wrapped = wrap(app, debug_path="/_wsgifix")
    status, headers, body = call_with_headers(wrapped, "cookies=set")
    assert status == "200 OK"
    set_cookies = [v for k, v in headers if k == "Set-Cookie"]
    assert "wsgifix_secure=1; Path=/; Max-Age=600; Secure; SameSite=Lax" in set_cookies
    assert "wsgifix_domain=1; Path=/; Max-Age=600; Domain=lab.test; SameSite=Lax" in (
        set_cookies
    )
    assert b"cookies=check" in body
    # Over http on lab.test a browser keeps only the non-Secure ones.
    kept = "wsgifix_plain=1; wsgifix_domain=1"
    _, _, body = call_with_headers(
        wrapped, "cookies=check&format=json", HTTP_COOKIE=kept
    )
    result = json.loads(body)["cookies"]
    assert result["returned"] == ["wsgifix_plain", "wsgifix_domain"]
    assert [w["rule"] for w in result["missing"]["wsgifix_secure"]] == [
        "secure-over-http"
    ]
    assert "SecureOnly" in result["missing"]["wsgifix_secure"][0]["message"]
    assert [w["rule"] for w in result["missing"]["__Host-wsgifix"]] == [
        "secure-over-http"
    ]
    # The page itself, not only JSON.
    _, _, page = call_with_headers(wrapped, "cookies=check", HTTP_COOKIE=kept)
    text = page.decode()
    assert "came back" in text
    assert "missing" in text
    assert "secure-over-http" in text
    assert "wsgifix_plain=1" not in text  # values never shown


def test_recent_findings_and_counts_of_the_wrapped_app() -> None:
    def cookie_app(environ: Any, start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Set-Cookie", "sid=1; SameSite=None")])
        return [b""]

    wrapped = wrap(cookie_app, debug_path="/_wsgifix")
    for _ in range(3):
        request(wrapped, "/login")
    _, body = request(wrapped, "/_wsgifix", query="format=json")
    doc = json.loads(body)
    assert doc["finding_counts"]["samesite-none-insecure"] == 3
    assert doc["findings"][0]["rule"] in doc["finding_counts"]
    assert doc["findings"][0]["cookie"] == "sid"
    assert len(doc["findings"]) <= 50
    _, page = request(wrapped, "/_wsgifix")
    assert "samesite-none-insecure: 3" in page.decode()


@pytest.mark.parametrize(
    ("settings", "extra", "advice"),
    [
        pytest.param(
            {},
            {"HTTP_X_FORWARDED_PROTO": "https", "HTTP_X_FORWARDED_FOR": "1.2.3.4"},
            "set trusted_proxies=127.0.0.1 and trusted_headers=x-forwarded-for "
            "x-forwarded-proto",
            id="untrusted peer: what to trust",
        ),
        pytest.param(
            {"trusted_proxies": "loopback"},
            {"HTTP_X_FORWARDED_HOST": "shop.example"},
            "add x-forwarded-host to trusted_headers",
            id="trusted peer: which header to add",
        ),
        pytest.param(
            {"trusted_proxies": "loopback"},
            {"HTTP_X_FORWARDED_PROTO": "https"},
            "every header was honoured",
            id="all honoured",
        ),
        pytest.param(
            {}, {"SERVER_SOFTWARE": "waitress"}, "waitress deleted them", id="nothing"
        ),
    ],
)
def test_the_page_says_what_to_trust(
    settings: dict[str, str], extra: dict[str, str], advice: str
) -> None:
    # Issue 6: behind a proxy this page alone must tell what to put in
    # trusted_proxies and trusted_headers. The untrusted request is not
    # local, so ask through the whole page as `wsgifix serve` builds it.
    from wsgifix import build_inspector, config

    page = build_inspector(config.resolve(settings))
    _, body = request(page, "/", query="format=json", **extra)
    trust = json.loads(body)["trust"]
    assert advice in trust["advice"]
    _, html_body = request(page, "/", **extra)
    assert advice.split(" and ")[0] in html_body.decode()
