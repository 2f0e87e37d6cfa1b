"""Two wsgifix processes behind one nginx upstream (issue 8, scale-out).

Each waitress process has its own wsgifix state (race table, finding
counts, caches); nothing a request needs is shared, so whichever process
answers, the effective environ and the cookie verdict are the same.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from .proxies import (
    _WRAPPERS,
    Site,
    Tls,
    _argv,
    _wait_until_listening,
    free_ports,
    get,
)
from .recipes import HOST

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).parents[2]

SERVER = """\
    upstream wsgifix_app {{
        server 127.0.0.1:{first};
        server 127.0.0.1:{second};
    }}
    server {{
        listen 127.0.0.1:{port} ssl;
        server_name {host};
        ssl_certificate     {cert};
        ssl_certificate_key {key};
        location / {{
            proxy_pass http://wsgifix_app;
            proxy_set_header Host              $http_host;
            proxy_set_header X-Forwarded-For   $remote_addr;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host  $http_host;
        }}
    }}
"""


def test_two_processes_give_the_same_view_and_verdicts(
    server_factory: Any, tmp_path: Path, tls: Tls
) -> None:
    argv = [
        "wsgifix",
        "serve",
        "tests.e2e.apps.scaleapp:app",
        "--port",
        "0",
        "--trusted-proxies",
        "127.0.0.1",
        "--trusted-headers",
        "x-forwarded-for x-forwarded-proto x-forwarded-host",
    ]
    backends = [server_factory(argv, cwd=ROOT) for _ in range(2)]
    (port,) = free_ports(1)
    server = SERVER.format(
        first=backends[0].port,
        second=backends[1].port,
        port=port,
        host=HOST,
        cert=tls.cert,
        key=tls.key,
    )
    config = tmp_path / "nginx.conf"
    config.write_text(_WRAPPERS["nginx"].format(work=tmp_path, includes=server))
    with (tmp_path / "output.log").open("wb") as out:
        process = subprocess.Popen(
            _argv("nginx", config),
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    site = Site("nginx", port, port, process, (tmp_path / "output.log",))
    try:
        _wait_until_listening(site)
        answers = []
        for i in range(20):
            reply = get(tls, port, "/x", [("X-Request-Id", f"r{i}")])
            answers.append(
                (reply.status, reply.json(), reply.headers.get_all("Set-Cookie"))
            )
    finally:
        site.stop()
    assert {status for status, _, _ in answers} == {200}
    assert len({doc["pid"] for _, doc, _ in answers}) == 2  # both processes served
    for i, (_, doc, cookies) in enumerate(answers):
        assert doc["id"] == f"r{i}"  # each answer is for its own request
        assert doc["remote_addr"] == "127.0.0.1"
        assert doc["scheme"] == "https"
        assert doc["host"] == f"{HOST}:{port}"
        # The same verdict in both processes: Secure added behind https.
        assert cookies == ["pref=1; Path=/; SameSite=None; Secure"]
