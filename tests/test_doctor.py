"""wsgifix doctor: against a real waitress app, and in-process (--app)."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from wsgifix import cli

TESTS = Path(__file__).resolve().parent


def doctor(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(["doctor", *argv], {})
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def served() -> Any:
    # A plain waitress server (no wsgifix): doctor judges what it sends.
    from conftest import start_server

    server = start_server(
        ["waitress-serve", "--listen=127.0.0.1:0", "doctor_app:app"], cwd=TESTS
    )
    yield server
    server.stop()


def rules_of(doc: dict[str, Any]) -> dict[str | None, list[str]]:
    return {c["name"]: [f["rule"] for f in c["findings"]] for c in doc["cookies"]}


@pytest.mark.e2e
def test_known_bad_cookies_exit_1_with_the_right_rules(
    served: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # 127.0.0.1 is trustworthy for Chromium; ask as a browser on a real name.
    url = served.url.replace("127.0.0.1", "localhost") + "/bad"
    code, out, err = doctor([url, "--json"], capsys)
    assert code == 1
    doc = json.loads(out)
    assert doc["url"] == url
    assert doc["dropped"] is True
    assert doc["hops"] == [{"url": url, "status": 200}]
    rules = rules_of(doc)
    assert "samesite-none-insecure" in rules["pref"]
    assert "domain-mismatch" in rules["wide"]
    # On a localhost name Secure over http is kept by Chromium and Firefox.
    session = next(c for c in doc["cookies"] if c["name"] == "session")
    finding = next(f for f in session["findings"] if f["rule"] == "secure-over-http")
    assert finding["severity"] == "info"
    assert finding["browsers"]["safari"].startswith("dropped")
    pref = next(c for c in doc["cookies"] if c["name"] == "pref")["findings"][0]
    assert pref["browsers"] == {
        "chromium": "dropped (SameSiteNoneInsecure)",
        "firefox": "dropped (RejectedNoneRequiresSecure)",
        "safari": "dropped",
    }
    assert set(pref) == {"rule", "severity", "message", "fixed", "browsers"}
    assert "requesting" in err  # the progress line


@pytest.mark.e2e
def test_known_good_cookies_exit_0(
    served: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = doctor([served.url + "/good"], capsys)
    assert code == 0
    assert "No Set-Cookie problems found." in out
    assert "no cookie is dropped" in out


@pytest.mark.e2e
def test_redirects_are_followed_and_each_hop_reported(
    served: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = doctor([served.url + "/redirect", "--json"], capsys)
    doc = json.loads(out)
    assert [h["status"] for h in doc["hops"]] == [302, 200]
    assert doc["hops"][1]["url"] == served.url + "/bad"
    assert rules_of(doc)["hop"] == ["samesite-missing"]  # judged on its own hop
    assert code == 1


def test_credentials_and_cookies_stay_with_their_host(
    served: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # As curl (7.58 on) and browsers: a redirect to another host gets no
    # Authorization and no Cookie given with -H, and its cookies are judged
    # without the first host's (no overwrite-secure from them).
    _, out, _ = doctor(
        [
            f"http://127.0.0.1:{served.port}/elsewhere",
            "-H",
            "Authorization: Bearer SECRETX",
            "-H",
            "Cookie: creds_dropped=0; creds_sent=0",
            "--json",
        ],
        capsys,
    )
    doc = json.loads(out)
    assert [hop["url"].split("/")[2] for hop in doc["hops"]] == [
        f"127.0.0.1:{served.port}",
        f"localhost:{served.port}",
    ]
    found = rules_of(doc)
    assert "creds_dropped" in found
    assert "creds_sent" not in found
    assert "overwrite-secure" not in found["creds_dropped"]


def test_unreachable_url_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code, _, err = doctor([f"http://127.0.0.1:{port}/"], capsys)
    assert code == 2
    assert "cannot fetch" in err


@pytest.fixture
def answering() -> Iterator[Any]:
    """``answering(payload)``: the URL of a server that reads a request and
    sends ``payload`` as the whole response, whatever it holds."""
    listeners: list[socket.socket] = []
    threads: list[threading.Thread] = []

    def serve(listener: socket.socket, payload: bytes) -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:  # closed by the fixture: done
                return
            with conn:
                try:
                    request = b""
                    while b"\r\n\r\n" not in request:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        request += chunk
                    conn.sendall(payload)
                except OSError:
                    pass

    def start(payload: bytes) -> str:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listeners.append(listener)
        thread = threading.Thread(target=serve, args=(listener, payload), daemon=True)
        thread.start()
        threads.append(thread)
        return f"http://127.0.0.1:{listener.getsockname()[1]}/"

    yield start
    for listener in listeners:
        # shutdown() wakes the thread blocked in accept(); close() alone may not.
        with contextlib.suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)
        listener.close()
    for thread in threads:
        thread.join(timeout=10)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        # http.client raises HTTPException subclasses, which are neither
        # OSError nor ValueError, for answers it cannot read as HTTP.
        pytest.param(
            b"garbage\r\n\r\n", "BadStatusLine: garbage\\x0d\\x0a", id="not HTTP"
        ),
        pytest.param(
            b"HTTP/1.1 200 OK\r\n"
            + b"".join(b"X-%d: 1\r\n" % i for i in range(101))
            + b"\r\n",
            "HTTPException: got more than 100 headers",
            id="over 100 headers",
        ),
    ],
)
def test_broken_response_is_one_line_and_exit_2(
    payload: bytes, reason: str, answering: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # CONTRACT.md section 5: exit 2 when the URL cannot be fetched.
    url = answering(payload)
    code, out, err = doctor([url], capsys)
    assert code == 2
    assert out == ""
    assert err.splitlines() == [
        f"wsgifix doctor: requesting {url} ...",
        f"wsgifix doctor: error: cannot fetch {url}: the response is not valid "
        f"HTTP ({reason})",
    ]


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param([], id="nothing to diagnose"),
        pytest.param(["ftp://example.com/"], id="not http"),
        pytest.param(["http://x/", "-H", "no colon"], id="bad header"),
        pytest.param(["--app", "doctor_app:app"], id="--app without --url"),
        pytest.param(["--app", "nope_xyz:app", "--url", "http://x/"], id="bad app"),
        pytest.param(
            ["--app", "doctor_app:app", "--url", "http://x/", "--trusted-proxies", "x"],
            id="bad setting",
        ),
        pytest.param(["--frobnicate"], id="unknown flag"),
        pytest.param(
            ["--app", "doctor_app:app", "--url", "http://x/", "--peer", "nope"],
            id="peer not an IP",
        ),
    ],
)
def test_usage_errors_exit_2(
    argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(TESTS))
    code, _, _ = doctor(argv, capsys)
    assert code == 2


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        # urlsplit raises ValueError for an unclosed IPv6 bracket, and
        # SplitResult.port for a port outside 0-65535 (CONTRACT.md section 5:
        # a usage error is exit 2, not a traceback).
        pytest.param(["http://[::1/"], "Invalid IPv6 URL", id="URL bracket"),
        pytest.param(["http://example.com:99999/"], "Port out of range", id="URL port"),
        pytest.param(  # http.client.InvalidURL, an HTTPException
            ["http://exa mple.com/"], "control characters", id="URL space"
        ),
        pytest.param(
            ["--app", "doctor_app:app", "--url", "http://[::1/"],
            "Invalid IPv6 URL",
            id="--url bracket",
        ),
        pytest.param(
            ["--app", "doctor_app:app", "--url", "http://example.com:99999/"],
            "Port out of range",
            id="--url port",
        ),
        pytest.param(
            ["--app", "doctor_app:app", "--url", "http://x:port/"],
            "could not be cast to integer",
            id="--url port not a number",
        ),
    ],
)
def test_malformed_url_is_a_one_line_usage_error(
    argv: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.syspath_prepend(str(TESTS))
    code, out, err = doctor(argv, capsys)
    assert code == 2
    assert out == ""
    # One error line (after the progress line where http.client judged it).
    *progress, last = err.splitlines()
    assert all(line.startswith("wsgifix doctor: requesting ") for line in progress)
    assert last.startswith("wsgifix doctor: error: ")
    assert "is not a valid URL" in last
    assert message in last


@pytest.mark.parametrize(
    ("app", "message"),
    [
        pytest.param(
            "doctor_app:raises",
            "the app raised RuntimeError: boom\\x0asecond line",
            id="before start_response",
        ),
        pytest.param(
            "doctor_app:raises_in_body",
            "the app raised LookupError: lost mid-stream",
            id="while iterating the body",
        ),
        pytest.param(
            "doctor_app:raises_bare",
            "the app raised NotImplementedError",
            id="no message",
        ),
    ],
)
def test_app_that_raises_is_one_line_and_exit_2(
    app: str,
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No verdict on cookies (exit 1 or 0) when the request never finished.
    monkeypatch.syspath_prepend(str(TESTS))
    code, out, err = doctor(["--app", app, "--url", "http://lab.test/"], capsys)
    assert code == 2
    assert out == ""
    assert err == f"wsgifix doctor: error: {message}\n"


def test_in_process_prints_environ_before_and_after(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(TESTS))
    code, out, _ = doctor(
        [
            "--app",
            "doctor_app:app",
            "--url",
            "http://lab.test/bad",
            "--peer",
            "10.0.0.5",
            "-H",
            "X-Forwarded-Proto: https",
            "--trusted-proxies",
            "10.0.0.0/8",
        ],
        capsys,
    )
    assert "* wsgi.url_scheme" in out
    assert "http  ->  https" in out
    # Behind the trusted proxy the request is https: Secure is fine, the
    # SameSite=None cookie gets Secure (fixed) and the Domain is removed.
    assert code == 0
    assert "samesite-none-insecure" in out


def test_in_process_json_and_exit_1_without_trust(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(TESTS))
    code, out, _ = doctor(
        [
            "--app",
            "doctor_app:app",
            "--url",
            "http://lab.test/bad",
            "--peer",
            "10.0.0.5",
            "-H",
            "X-Forwarded-Proto: https",
            "--json",
        ],
        capsys,
    )
    doc = json.loads(out)
    assert code == 1
    assert doc["dropped"] is True
    rules = rules_of(doc)
    assert "secure-over-http" in rules["session"]
    assert "untrusted-tls-proxy" in rules[None]
    assert doc["environ"]["after"]["wsgi.url_scheme"] == "http"
    wide = next(c for c in doc["cookies"] if c["name"] == "wide")["findings"][0]
    assert wide["rule"] == "domain-mismatch"
    assert wide["fixed"] is True
    # As the browser gets it: the Domain is gone, the cookie stored.
    assert wide["browsers"] == dict.fromkeys(
        ("chromium", "firefox", "safari"), "stored"
    )


def test_in_process_a_host_header_given_replaces_the_urls(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # -H 'Host: ...' as with curl: the request goes to the URL, with that
    # Host (it had been joined to the URL's: "lab.test, shop.test", a 400).
    monkeypatch.syspath_prepend(str(TESTS))
    code, out, _ = doctor(
        [
            "--app",
            "doctor_app:app",
            "--url",
            "http://lab.test/bad",
            "-H",
            "Host: shop.test",
            "-H",
            "X-Trace: a",
            "-H",
            "X-Trace: b",
            "--json",
        ],
        capsys,
    )
    doc = json.loads(out)
    assert doc["environ"]["before"]["HTTP_HOST"] == "shop.test"
    assert doc["environ"]["after"]["HTTP_HOST"] == "shop.test"
    assert doc["environ"]["before"]["HTTP_X_TRACE"] == "a, b"
    assert doc["cookies"]  # the app answered: its cookies were judged
    assert code == 1


@pytest.mark.e2e
def test_url_mode_reads_the_settings_the_rules_read(
    served: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # The good page's cookies are small; with cookie_max_size below their
    # size browsers would drop them, and doctor says so. A bad value is a
    # usage error in URL mode too (it had been ignored).
    code, out, _ = doctor([served.url + "/good", "--cookie-max-size", "8"], capsys)
    assert code == 1
    assert "too-large" in out
    code, _, err = doctor([served.url + "/good", "--cookie-max-size", "x"], capsys)
    assert code == 2
    assert "cookie_max_size" in err


def test_in_process_judges_what_goes_out_with_the_audit_off(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # cookie_policy=off: the app's headers go out as written, and the
    # browser drops what it drops: doctor says so (exit 1).
    monkeypatch.syspath_prepend(str(TESTS))
    argv = ["--app", "doctor_app:app", "--url", "http://lab.test/bad", "--json"]
    code, out, _ = doctor([*argv, "--cookie-policy", "off"], capsys)
    doc = json.loads(out)
    assert code == 1
    assert doc["dropped"] is True
    assert "domain-mismatch" in rules_of(doc)["wide"]


def test_in_process_credentials_in_the_url_are_not_a_host(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # No browser sends user:password@ in Host: the authority without it.
    monkeypatch.syspath_prepend(str(TESTS))
    code, out, _ = doctor(
        ["--app", "doctor_app:app", "--url", "http://user:SECRETPW@lab.test/good"],
        capsys,
    )
    assert code == 0
    assert "SECRETPW" not in out
    assert "lab.test" in out


def test_in_process_an_app_never_called_is_exit_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # wsgifix answered (a Host outside allowed_hosts): no cookie was judged,
    # so doctor does not say none is dropped.
    monkeypatch.syspath_prepend(str(TESTS))
    code, out, err = doctor(
        [
            "--app",
            "doctor_app:app",
            "--url",
            "http://lab.test/bad",
            "--allowed-hosts",
            "other.test",
        ],
        capsys,
    )
    assert code == 2
    assert "the app was not called: wsgifix answered 400 Bad Request" in err
    assert "allowed_hosts" in err
    assert "no cookie is dropped" not in out
