"""Load (issue 8, item 1; CI-sized): a real waitress with 8 threads serving
``robust_app:echo_app`` wrapped by ``wsgifix serve``, driven by a keep-alive
client in another process (tests/apps/load_client.py, 8 connections from
four loopback source addresses, two of them trusted proxies).

Every request carries a unique id and a mix of Host and forwarding headers
(forged, trusted, invalid); the app echoes the id with the environ and the
findings it saw, and sets cookies. The client compares every response with
the same request run in process through a freshly built stack: no response
may carry another request's environ, findings or cookies, and none may be
a 5xx. Then the server's own tables (race table, log de-duplication, memo
and caches) must be within their bounds, which these requests exceed.

At most 5,000 requests and about 20 s; benchmarks/soak.py is the long run.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest
from conftest import Server, start_server

from wsgifix import cookies, proxy, races

pytestmark = pytest.mark.e2e

APPS = Path(__file__).resolve().parent / "apps"
sys.path.insert(0, str(APPS))

from load_client import PEERS, serve_command  # noqa: E402

COUNT = 4800
CONNECTIONS = 8
SECONDS = 20.0


def _drain(stream: IO[str], lines: list[str]) -> None:
    # The server logs a finding per new cookie name: read its output as it
    # comes, or a full pipe would block its worker threads.
    for line in stream:
        lines.append(line)


@pytest.fixture
def served() -> Iterator[tuple[Server, list[str]]]:
    server = start_server(
        serve_command(),
        cwd=APPS,
    )
    assert server.proc.stdout is not None
    lines: list[str] = []
    reader = threading.Thread(target=_drain, args=(server.proc.stdout, lines))
    reader.start()
    try:
        yield server, lines
    finally:
        server.proc.terminate()
        try:
            server.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - a hung server
            server.proc.kill()
            server.proc.wait()
        reader.join(timeout=10)
        server.proc.stdout.close()


def table_sizes(port: int) -> dict[str, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/__sizes", headers={"Host": "127.0.0.1"})
        resp = conn.getresponse()
        assert resp.status == 200
        sizes: dict[str, Any] = json.loads(resp.read())
        return sizes
    finally:
        conn.close()


def test_every_response_is_its_own_and_the_tables_stay_bounded(
    served: tuple[Server, list[str]],
) -> None:
    server, output = served
    client = subprocess.run(
        [
            sys.executable,
            str(APPS / "load_client.py"),
            "--port",
            str(server.port),
            "--count",
            str(COUNT),
            "--connections",
            str(CONNECTIONS),
            "--seconds",
            str(SECONDS),
        ],
        cwd=APPS,
        capture_output=True,
        text=True,
        timeout=SECONDS + 60,
    )
    assert client.returncode == 0, client.stderr
    summary = json.loads(client.stdout.splitlines()[-1])
    elapsed = summary["end"] - summary["start"]
    print(
        f"\n{summary['sent']} requests over {CONNECTIONS} keep-alive connections "
        f"in {elapsed:.1f} s: {summary['sent'] / elapsed:.0f} requests/s "
        f"(statuses {summary['statuses']})"
    )
    assert summary["errors"] == 0, summary["error_examples"]
    assert summary["sent"] == COUNT  # all within the time bound
    assert summary["mismatches"] == 0, "\n".join(summary["examples"])
    # No 5xx: 400 only where wsgifix rejects a bad Host or forwarded value.
    assert set(summary["statuses"]) == {"200", "400"}

    sizes = table_sizes(server.port)
    print(f"server tables after the load: {sizes}")
    assert sizes["layers"] == [
        "ProxyMiddleware",
        "PrefixMiddleware",
        "CookieMiddleware",
    ]
    # These requests wrote more than MAX_ENTRIES distinct race keys (four
    # cookies with their own name or incoming value each) and more than
    # _LOG_KEYS distinct (rule, cookie) log keys. A write is recorded only
    # while another request is in flight (wsgifix.races), which is most of
    # the time over several connections, not always.
    assert 0 < sizes["races"] <= races.MAX_ENTRIES
    # Every request of the load landed; this one is in flight.
    assert sizes["races_flying"] == 1
    assert 0 < sizes["cookie_log"] <= cookies._LOG_KEYS
    assert sizes["recent"] == cookies._RECENT
    assert 0 < sizes["verdicts"] <= 2048
    assert 0 < sizes["proxy_memo"] <= proxy._CACHE_SIZE
    assert 0 < sizes["proxy_shapes"] <= proxy._CACHE_SIZE
    assert 0 < sizes["proxy_host_shapes"] <= proxy._CACHE_SIZE
    # Whole responses are kept from their key's second sight: this load's
    # responses (random cookie sets) may never repeat.
    assert sizes["responses"] <= 2048
    assert 0 < sizes["proxy_hosts"] <= proxy._CACHE_SIZE
    assert 0 < sizes["proxy_quiet"] <= len(PEERS)
    assert sizes["proxy_log"] <= proxy._LOG_KEYS
    for name, size in sizes.items():
        if name.startswith("lru"):
            assert size <= 1024, name
    assert sizes["threads"] <= 8 + 3  # waitress's workers and main loop

    text = "".join(output)
    assert "Traceback" not in text
    assert "audit failed" not in text
    # The log is limited per rule and cookie name (and its table is emptied
    # when full): a name every request sets is logged a few times, not once
    # per request.
    shared = [line for line in text.splitlines() if "cookie 's' set on" in line]
    assert 0 < len(shared) < COUNT / 10


def test_the_fill_profile_takes_the_proxy_tables_to_their_bound() -> None:
    """benchmarks/soak.py's warm-up (load_client's ``fill`` profile) is to
    leave no table's first fill for the soak: run in process, it takes the
    proxy's memo and Host table past their bound (they empty and refill)
    and the log de-duplication to its bound. (The race table records only
    while another request is in flight: the server run fills it.)"""
    import logging

    from load_client import SETTINGS, make_request, server_environ
    from robust_app import echo_app

    import wsgifix

    stack = wsgifix.wrap(echo_app, **SETTINGS)
    layer = stack.app.app
    assert isinstance(layer, wsgifix.CookieMiddleware)
    most = {"memo": 0, "hosts": 0, "log": 0}
    quiet = logging.getLogger("wsgifix")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)
    try:
        for i in range(8 * proxy._CACHE_SIZE + 64):
            request = make_request(8, i, 8080, 64, "fill")
            for _ in stack(server_environ(request, 8080), lambda *args: None):
                pass
            if i % 64 == 63:
                for name, size in (
                    ("memo", len(stack._memo)),
                    ("hosts", len(stack._host_cache)),
                    ("log", len(layer._logged)),
                ):
                    most[name] = max(most[name], size)
    finally:
        quiet.setLevel(level)
    # Emptied when full: the largest size seen is within 64 of the bound.
    assert most["memo"] > proxy._CACHE_SIZE - 64, most
    assert most["hosts"] > proxy._CACHE_SIZE - 64, most
    assert len(stack._memo) < most["memo"]  # and emptied since
    assert most["log"] > cookies._LOG_KEYS - 64, most
