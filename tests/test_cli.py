"""The wsgifix command: functions called with argv and environ, and for real."""

from __future__ import annotations

import errno
import json
import os
import socket
import subprocess
import sys
import urllib.request
from typing import Any

import pytest
from conftest import EXAMPLES

import wsgifix
from wsgifix import cli


class Recorder:
    """Stands in for waitress.serve and remembers how it was called."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, dict[str, Any]]] = []

    def __call__(self, app: Any, **options: Any) -> None:
        self.calls.append((app, options))


def run(argv: list[str], environ: dict[str, str] | None = None) -> tuple[int, Recorder]:
    recorder = Recorder()
    code = cli.main(argv, environ or {}, serve=recorder)
    return code, recorder


def test_serve_defaults_to_loopback_8080_without_header_stripping() -> None:
    # CONTRACT.md sections 6 and 7: 127.0.0.1:8080, waitress stripping off.
    code, rec = run(["serve"])
    assert code == 0
    [(_app, options)] = rec.calls
    assert options["host"] == "127.0.0.1"
    assert options["port"] == 8080
    assert options["clear_untrusted_proxy_headers"] is False


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        pytest.param(
            ["--host", "0.0.0.0", "--port", "9000"],
            {"host": "0.0.0.0", "port": 9000},
            id="host port",
        ),
        pytest.param(
            ["--listen", "127.0.0.1:1", "--listen", "[::1]:2"],
            {"listen": "127.0.0.1:1 [::1]:2"},
            id="listen repeated",
        ),
        pytest.param(
            ["--unix-socket", "/tmp/x.sock"],
            {"unix_socket": "/tmp/x.sock"},
            id="unix socket",
        ),
        pytest.param(["--threads", "8"], {"threads": 8}, id="threads"),
        pytest.param(["--port", "0"], {"port": 0}, id="any free port"),
        pytest.param(["--port", "65535"], {"port": 65535}, id="highest port"),
        pytest.param(["--threads", "1"], {"threads": 1}, id="one thread"),
        pytest.param(
            ["--listen", "[::1]:65535", "--listen", "*:0"],
            {"listen": "[::1]:65535 *:0"},
            id="listen ports at the ends",
        ),
    ],
)
def test_serve_waitress_options(argv: list[str], expected: dict[str, Any]) -> None:
    code, rec = run(["serve", *argv])
    assert code == 0
    options = rec.calls[0][1]
    assert {k: options[k] for k in expected} == expected


def test_serve_without_app_serves_the_inspector() -> None:
    code, rec = run(["serve"])
    assert code == 0
    app = rec.calls[0][0]
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/",
        "QUERY_STRING": "format=json",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "8080",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
    }
    seen: list[str] = []
    body = b"".join(app(environ, lambda status, headers, exc=None: seen.append(status)))
    assert seen == ["200 OK"]
    assert json.loads(body)["effective"]["PATH_INFO"] == "/"


def test_serve_app_from_argument_and_from_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.syspath_prepend(str(EXAMPLES))
    for argv, env in [
        (["serve", "plain_app:app"], {}),
        (["serve"], {"WSGIFIX_APP": "plain_app:app"}),
    ]:
        code, rec = run(argv, env)
        assert code == 0
        app = rec.calls[0][0]
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": "/x",
            "SERVER_NAME": "h",
            "SERVER_PORT": "80",
            "wsgi.url_scheme": "http",
        }
        body = b"".join(app(environ, lambda *a: None))
        assert json.loads(body)["PATH_INFO"] == "/x"


def test_serve_bad_app_is_one_line_and_exit_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, rec = run(["serve", "no_such_module_xyz:app"])
    assert code == 1
    assert rec.calls == []
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "cannot import 'no_such_module_xyz'" in err


@pytest.mark.parametrize(
    ("argv", "where"),
    [
        pytest.param([], "127.0.0.1:8080", id="default"),
        pytest.param(["--host", "::1", "--port", "9000"], "[::1]:9000", id="IPv6"),
        pytest.param(
            ["--listen", "127.0.0.1:1", "--listen", "[::1]:2"],
            "127.0.0.1:1 [::1]:2",
            id="listen",
        ),
        pytest.param(["--unix-socket", "/run/x.sock"], "/run/x.sock", id="unix"),
    ],
)
def test_serve_cannot_listen_is_one_line_and_exit_1(
    argv: list[str], where: str, capsys: pytest.CaptureFixture[str]
) -> None:
    def in_use(app: Any, **options: Any) -> None:
        raise OSError(errno.EADDRINUSE, os.strerror(errno.EADDRINUSE))

    assert cli.main(["serve", *argv], {}, serve=in_use) == 1
    assert capsys.readouterr().err == (
        f"wsgifix: error: cannot listen on {where}: address already in use\n"
    )


@pytest.mark.e2e
def test_serve_on_a_port_in_use_for_real() -> None:
    # README: a bad setting or a server that cannot start is one line, exit 1
    # (waitress raises OSError errno 98 from its bind).
    env = {k: v for k, v in os.environ.items() if not k.startswith("WSGIFIX_")}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "wsgifix", "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            check=False,
            stdin=subprocess.DEVNULL,
            env=env,
            timeout=60,  # only if it served after all: then the test fails
        )
    assert result.returncode == 1
    assert result.stderr == (
        f"wsgifix: error: cannot listen on 127.0.0.1:{port}: address already in use\n"
    )


def test_config_prints_values_and_sources(capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run(
        [
            "config",
            "--trusted-proxies",
            "10.0.0.0/8",
            "--trusted-proxies",
            "loopback",
            "--prefix",
            "/app",
        ],
        {"WSGIFIX_PREFIX": "/ignored", "WSGIFIX_COOKIE_POLICY": "report"},
    )
    assert code == 0
    lines = {
        line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()
    }
    assert lines["trusted_proxies"] == [
        "trusted_proxies",
        "10.0.0.0/8",
        "loopback",
        "[flag]",
    ]
    assert lines["prefix"] == [
        "prefix",
        "/app",
        "[flag]",
    ]  # a flag beats the environment
    assert lines["cookie_policy"] == ["cookie_policy", "report", "[env]"]
    assert lines["detect_races"] == ["detect_races", "true", "[default]"]
    assert len(lines) == 17


@pytest.mark.parametrize(
    ("argv", "environ", "code", "message"),
    [
        pytest.param(
            ["config", "--trusted-proxies", "10.0.0.1/8"],
            {},
            1,
            "trusted_proxies: ",
            id="bad value",
        ),
        pytest.param(
            ["config", "--clear-untrusted", "maybe"],
            {},
            1,
            "clear_untrusted: ",
            id="bad bool",
        ),
        pytest.param(
            ["config"],
            {"WSGIFIX_TRUSTED_HOPS": "99"},
            1,
            "trusted_hops: ",
            id="bad env value",
        ),
        pytest.param(
            ["config"],
            {"WSGIFIX_TRUSTED_PROXY": "x"},
            1,
            "WSGIFIX_TRUSTED_PROXY: unknown",
            id="unknown variable",
        ),
        pytest.param(
            ["config", "--trusted-proxy", "x"],
            {},
            2,
            "unrecognized arguments",
            id="unknown flag",
        ),
        pytest.param(
            ["config", "--trusted-prox", "x"],
            {},
            2,
            "unrecognized arguments",
            id="no abbreviations",
        ),
        pytest.param(["serve", "--port", "x"], {}, 2, "invalid int", id="bad port"),
        # waitress takes a port modulo 65536 (70000 serves on 4464) and
        # zero threads; both are usage errors before anything starts.
        pytest.param(
            ["serve", "--port", "70000"],
            {},
            2,
            "argument --port: 70000 is not a TCP port (0-65535)",
            id="port too big",
        ),
        pytest.param(
            ["serve", "--port", "-1"],
            {},
            2,
            "argument --port: -1 is not a TCP port (0-65535)",
            id="negative port",
        ),
        pytest.param(
            ["serve", "--listen", "127.0.0.1:70000"],
            {},
            2,
            "argument --listen: 70000 is not a TCP port (0-65535)",
            id="listen port too big",
        ),
        pytest.param(
            ["serve", "--threads", "0"],
            {},
            2,
            "argument --threads: 0 is not at least 1",
            id="no threads",
        ),
        pytest.param(
            ["serve", "--threads", "x"], {}, 2, "invalid int", id="bad threads"
        ),
        pytest.param([], {}, 2, "required", id="no command"),
        pytest.param(["frobnicate"], {}, 2, "invalid choice", id="unknown command"),
        pytest.param(
            ["serve", "--trusted-headers", "forwarded x-forwarded-for"],
            {},
            1,
            "trusted_headers: ",
            id="serve bad value",
        ),
    ],
)
def test_errors(
    argv: list[str],
    environ: dict[str, str],
    code: int,
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    got, rec = run(argv, environ)
    assert got == code
    assert rec.calls == []
    assert message in capsys.readouterr().err


def test_help_lists_every_setting_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["serve", "--help"], {}) == 0
    out = capsys.readouterr().out
    for flag in ["--host", "--port", "--listen", "--threads", "--unix-socket"]:
        assert flag in out
    from wsgifix import config

    for name in config.SETTINGS:
        assert "--" + name.replace("_", "-") in out


def test_version_names_the_build(capsys: pytest.CaptureFixture[str]) -> None:
    # For bug reports (SECURITY.rst): the version and which build runs.
    assert cli.main(["--version"], {}) == 0
    build = "compiled with mypyc" if wsgifix.compiled() else "pure Python"
    assert wsgifix.build_name() == build
    assert capsys.readouterr().out == f"wsgifix {wsgifix.__version__} ({build})\n"


def test_python_dash_m_is_the_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "wsgifix", "config", "--url-scheme", "HTTPS"],
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    assert "url_scheme       https  [flag]" in result.stdout


@pytest.mark.e2e
def test_wsgifix_serve_for_real(server_factory: Any) -> None:
    # The README's first command, on a free port: the inspector page.
    server = server_factory(["wsgifix", "serve", "--port", "0"])
    with urllib.request.urlopen(server.url + "/hello?format=json", timeout=10) as resp:
        doc = json.load(resp)
    assert doc["effective"]["PATH_INFO"] == "/hello"
    assert set(doc) >= {"raw", "effective", "trust", "findings", "settings"}
    with urllib.request.urlopen(server.url + "/", timeout=10) as resp:
        page = resp.read().decode()
    assert "<h1>wsgifix inspector</h1>" in page


@pytest.mark.e2e
def test_wsgifix_serve_keeps_forwarding_headers_for_wsgifix(
    server_factory: Any,
) -> None:
    # CONTRACT.md section 6: waitress 3 would delete X-Forwarded-Proto before
    # any middleware runs; `wsgifix serve` turns that off.
    server = server_factory(["wsgifix", "serve", "--port", "0"])
    request = urllib.request.Request(
        server.url + "/?format=json", headers={"X-Forwarded-Proto": "https"}
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        doc = json.load(resp)
    assert doc["raw"]["HTTP_X_FORWARDED_PROTO"] == "https"


@pytest.mark.e2e
def test_wsgifix_serve_app_argument_from_cwd(server_factory: Any) -> None:
    server = server_factory(
        ["wsgifix", "serve", "plain_app:app", "--port", "0"], cwd=EXAMPLES
    )
    with urllib.request.urlopen(server.url + "/x", timeout=10) as resp:
        assert json.load(resp)["PATH_INFO"] == "/x"


def test_config_into_a_closed_pipe_is_quiet() -> None:
    # `wsgifix config | head -1`: the reader is gone before the output is
    # written; no BrokenPipeError traceback (audit finding).
    read, write = os.pipe()
    os.close(read)  # nobody will read: the first write gets EPIPE
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "wsgifix", "config"],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            env={k: v for k, v in os.environ.items() if not k.startswith("WSGIFIX_")},
        )
    finally:
        os.close(write)
    assert "Traceback" not in proc.stderr
    assert "BrokenPipeError" not in proc.stderr
    assert proc.returncode == 0
