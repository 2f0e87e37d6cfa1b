"""Every example runs as is: real waitress subprocesses on port 0."""

from __future__ import annotations

import json
import sys
import urllib.request
from typing import Any

import pytest
from conftest import EXAMPLES

import wsgifix

pytestmark = pytest.mark.e2e


def get_json(url: str, headers: dict[str, str] | None = None) -> Any:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=10) as resp:
        return json.load(resp)


def test_waitress_serve_call_wrap(server_factory: Any) -> None:
    # CONTRACT.md section 1: waitress-serve --call wsgifix:wrap with WSGIFIX_APP.
    server = server_factory(
        [
            "waitress-serve",
            "--no-clear-untrusted-proxy-headers",
            "--listen=127.0.0.1:0",
            "--call",
            "wsgifix:wrap",
        ],
        env={"WSGIFIX_APP": "plain_app:app", "WSGIFIX_TRUSTED_PROXIES": "loopback"},
        cwd=EXAMPLES,
    )
    assert get_json(server.url + "/called")["PATH_INFO"] == "/called"


def test_waitress_serve_call_without_app_says_one_line(tmp_path: Any) -> None:
    import subprocess

    result = subprocess.run(
        [
            str(sys.executable),
            "-m",
            "waitress",
            "--listen=127.0.0.1:0",
            "--call",
            "wsgifix:wrap",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"},
        stdin=subprocess.DEVNULL,
        timeout=30,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "wsgifix: error: WSGIFIX_APP is not set; set it to MODULE:APP, "
        "e.g. WSGIFIX_APP=myapp:app"
    ]


def test_waitress_call_script(server_factory: Any) -> None:
    server = server_factory(
        ["sh", str(EXAMPLES / "waitress-call.sh")], env={"LISTEN": "127.0.0.1:0"}
    )
    assert get_json(server.url + "/script")["PATH_INFO"] == "/script"


def test_serve_py(server_factory: Any) -> None:
    server = server_factory(
        [sys.executable, str(EXAMPLES / "serve.py"), "--port", "0"], cwd=EXAMPLES
    )
    assert get_json(server.url + "/served")["PATH_INFO"] == "/served"


def test_wsgifix_serve_flask_app(server_factory: Any) -> None:
    server = server_factory(
        ["wsgifix", "serve", "flask_app:app", "--port", "0"], cwd=EXAMPLES
    )
    doc = get_json(server.url + "/")
    assert doc["url"] == server.url + "/"
    assert doc["remote_addr"] == "127.0.0.1"


def test_flask_app_session_round_trip(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(EXAMPLES))
    import flask_app

    client = flask_app.app.test_client()
    flask_app.app.wsgi_app = wsgifix.wrap(flask_app.app.wsgi_app)  # type: ignore[method-assign]
    response = client.get("/set")
    assert response.status_code == 302
    assert client.get("/check").get_json() == {"user": "alice"}
