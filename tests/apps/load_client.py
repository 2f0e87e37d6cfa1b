"""A keep-alive HTTP load client for ``robust_app:echo_app`` behind wsgifix,
and the oracle that says what each response must be.

Shared by tests/test_load.py (CI, a few thousand requests) and
benchmarks/soak.py (64 connections, 200,000 requests). Run as a script it
sends requests from its own process::

    python tests/apps/load_client.py --port 8080 --count 5000 --connections 8

Each request ``i`` is a pure function of ``(seed, i)``
(:func:`make_request`): a unique id (``X-Request-Id``, also in the path
and the cookie names), a socket peer (connection ``i % connections``
is bound to one of :data:`PEERS`, so trusted and untrusted peers mix),
and a mix of Host and forwarding headers, some forged, some invalid.
After the load (timed on its own) every response is compared with
:func:`expected`: the same request run in process through a freshly
built wsgifix stack, so nothing a server-side cache or another request
left behind can be in it. ``--check echo`` (for the bare app, without
wsgifix) checks only the status and the echoed id.

The last line printed is a JSON summary: requests sent, transport errors,
status counts, the load's start and end (wall clock), and mismatches with
the first few described.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import logging
import random
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any, NamedTuple
from urllib.parse import unquote

from robust_app import VARIANTS, echo_app

import wsgifix

#: Socket peers (client source addresses); the first two are the trusted
#: proxies. Linux routes all of 127.0.0.0/8 to lo, so a client may bind any.
PEERS = ("127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4")
TRUSTED = PEERS[:2]
#: The wrapped server's settings (also given to the oracle).
SETTINGS = {
    "trusted_proxies": " ".join(TRUSTED),
    "trusted_headers": (
        "x-forwarded-for x-forwarded-proto x-forwarded-host "
        "x-forwarded-port x-forwarded-prefix"
    ),
    "allowed_hosts": ".example.com 127.0.0.1 localhost [::1]",
    "prefix": "/mnt",
    "cookie_samesite": "lax",
    "cookie_path": "scope",
}
#: The race detector may report this shared cookie (its incoming value is
#: shared by many concurrent requests): the one finding the oracle cannot
#: predict.
RACY_COOKIE = "t"
_SOCKET_PORT = "<the server's socket port>"


def serve_command() -> list[str]:
    """``wsgifix serve`` for ``echo_app`` on a free port, 8 threads, SETTINGS
    as flags (run in tests/apps, where ``robust_app`` is importable)."""
    command = ["wsgifix", "serve", "robust_app:echo_app", "--threads", "8"]
    command += ["--port", "0"]
    for name, value in SETTINGS.items():
        command += ["--" + name.replace("_", "-"), value]
    return command


class Request(NamedTuple):
    index: int
    rid: str
    peer: str
    path: str
    headers: list[tuple[str, str]]


def _pick(rng: random.Random, options: Sequence[tuple[float, Any]]) -> Any:
    total = sum(weight for weight, _ in options)
    point = rng.random() * total
    for weight, value in options:
        point -= weight
        if point < 0:
            return value
    return options[-1][1]


def make_request(
    seed: int, i: int, port: int, connections: int, profile: str = "hostile"
) -> Request:
    """Request ``i`` of a run: the same for the client and the oracle.

    ``hostile`` (the default) makes every request new to the server's
    tables (its own cookie names, many new Hosts and addresses) and mixes
    in forged and invalid values: the worst case for bounded state.
    ``typical`` is a site behind its proxy: the trusted peers forward a
    client over https, the others come direct without forwarding headers,
    and every request carries the one session cookie. ``fill`` (see
    :func:`_fill`) takes every bounded table to its bound within a few
    thousand requests.
    """
    rid = f"{seed}-{i}"
    peer = PEERS[(i % connections) % len(PEERS)]
    if profile == "typical":
        return _typical(i, rid, peer, port)
    if profile == "fill":
        return _fill(i, rid, peer)
    rng = random.Random(f"{seed}/{i}")
    a, b = i % 250, (i // 250) % 250
    host = _pick(
        rng,
        [
            (3, f"127.0.0.1:{port}"),
            (3, "shop.example.com"),
            (1, "Shop.Example.COM:8443"),
            (4, f"h{i}.example.com"),  # a new Host: fills the host cache
            (1, "example.com."),
            (1, f"[::1]:{port}"),
            (1, "localhost"),
            (0.5, "evil.test"),  # not in allowed_hosts: 400
            (0.3, "ex.com@evil"),  # not a host: 400
        ],
    )
    headers = [("Host", host), ("X-Request-Id", rid)]
    xff = _pick(
        rng,
        [
            (3, None),
            (3, f"203.0.{b}.{a}"),
            (2, f"198.51.{b}.{a}, 127.0.0.2"),  # new values: fill the memo
            (1, "6.6.6.6, 203.0.113.9"),
            (0.5, "unknown"),
            (0.3, "not-an-ip"),  # from a trusted peer: 400
            (1, "203.0.113.9:4711"),
            (0.5, "[2001:db8::5]:8443"),
            (0.3, ", ".join(["7.7.7.7"] * 100 + ["127.0.0.1"] * 3)),
            (0.5, ("1.1.1.1", "203.0.113.8")),  # two header lines
        ],
    )
    if isinstance(xff, tuple):
        headers += [("X-Forwarded-For", item) for item in xff]
    elif xff is not None:
        headers.append(("X-Forwarded-For", xff))
    for name, options in [
        (
            "X-Forwarded-Proto",
            [(4, None), (3, "https"), (1, "http"), (1, "https, http"), (0.2, "ftp")],
        ),
        (
            "X-Forwarded-Host",
            [
                (5, None),
                (2, "shop.example.com"),
                (1, "Api.Example.com:8443"),
                (0.2, "evil.test"),
                (0.2, "a b"),
            ],
        ),
        ("X-Forwarded-Port", [(6, None), (1, "443"), (1, "8443"), (0.2, "0")]),
        (
            "X-Forwarded-Prefix",
            [(5, None), (2, "/app"), (1, "/a/b/"), (0.5, "/x/../y"), (0.2, "//evil")],
        ),
        ("Forwarded", [(9, None), (1, "for=192.0.2.60;proto=https;host=evil.test")]),
        ("X-Forwarded-By", [(9, None), (1, "10.0.0.1")]),
    ]:
        value = _pick(rng, options)
        if value is not None:
            headers.append((name, value))
    if rng.random() < 0.85:
        # Names (or an incoming value) unique to this request: race table
        # and log de-duplication entries of their own, so that a few
        # thousand requests fill both past their bounds. One shared name
        # may race with other requests.
        cookie = f"a-{rid}=in; b-{rid}=in; c-{rid}=in; s={rid}; {RACY_COOKIE}={i % 7}"
        headers.append(("Cookie", cookie))
    path = _pick(
        rng,
        [(4, f"/mnt/echo/{rid}"), (2, f"/echo/{rid}"), (0.3, "/mnt"), (0.3, "/mntx")],
    )
    variant = rng.choice(sorted(VARIANTS))
    return Request(i, rid, peer, f"{path}?c={variant}", headers)


def _typical(i: int, rid: str, peer: str, port: int) -> Request:
    headers = [("X-Request-Id", rid), ("Cookie", f"session={rid}")]
    if peer in TRUSTED:
        headers += [
            ("Host", f"127.0.0.1:{port}"),
            ("X-Forwarded-For", f"203.0.113.{i % 50}"),
            ("X-Forwarded-Proto", "https"),
            ("X-Forwarded-Host", "shop.example.com"),
        ]
    else:
        headers.append(("Host", "shop.example.com" if i % 3 else f"127.0.0.1:{port}"))
    return Request(i, rid, peer, f"/mnt/echo/{rid}?c=secure", headers)


def _fill(i: int, rid: str, peer: str) -> Request:
    """Request ``i`` of the ``fill`` profile: new to each of the server's
    bounded tables (soak.py's warm-up). A Host of its own (the proxy's
    Host table), from a trusted peer a client address of its own (the
    proxy's memo), cookie names of its own (the race table and the log
    de-duplication) and a response setting cookies, with findings. The
    proxy's memo keeps a client's answer from its fourth sight (walked
    twice, then answered by its shape twice: see wsgifix.proxy): requests
    ``i + 4 * k`` (k < 4) share the Host and address (and the peer, with
    connections a multiple of 4)."""
    j = i // 16 * 4 + i % 4
    a, b = j % 250, (j // 250) % 250
    headers = [("Host", f"f{j}.example.com"), ("X-Request-Id", rid)]
    if peer in TRUSTED:
        headers.append(("X-Forwarded-For", f"198.18.{b}.{a}"))
    headers.append(("Cookie", f"a-{rid}=in; b-{rid}=in; s={rid}"))
    variants = sorted(VARIANTS)
    variant = variants[i % len(variants)]
    return Request(i, rid, peer, f"/mnt/echo/{rid}?c={variant}", headers)


# -- the oracle ------------------------------------------------------------------


class Expected(NamedTuple):
    status: int
    set_cookies: list[str]
    content_type: str
    body: bytes


def server_environ(req: Request, port: int) -> dict[str, Any]:
    """The environ waitress builds for ``req`` (FIELD-NOTES: header lines
    joined with ", ", values stripped, SERVER_NAME waitress.invalid)."""
    path, _, query = req.path.partition("?")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote(path, encoding="latin-1"),
        "QUERY_STRING": query,
        "SERVER_NAME": "waitress.invalid",
        "SERVER_PORT": str(port),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "SERVER_SOFTWARE": "waitress (wsgifix)",
        "REMOTE_ADDR": req.peer,
        "REMOTE_HOST": req.peer,
        "REMOTE_PORT": _SOCKET_PORT,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in req.headers:
        key = "HTTP_" + name.upper().replace("-", "_")
        environ[key] = f"{environ[key]}, {value}" if key in environ else value
    return environ


def expected(req: Request, port: int) -> Expected:
    """What the server must answer: ``req`` through a fresh wsgifix stack."""
    stack = wsgifix.wrap(echo_app, **SETTINGS)
    started: list[Any] = []
    body = b"".join(
        stack(server_environ(req, port), lambda s, h, e=None: started.append((s, h)))
    )
    status, headers = started[-1]
    return Expected(
        int(status.split()[0]),
        [v for n, v in headers if n.lower() == "set-cookie"],
        next(v for n, v in headers if n.lower() == "content-type"),
        body,
    )


class Response(NamedTuple):
    index: int
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def compare(req: Request, resp: Response, port: int) -> str | None:
    """None when ``resp`` is right for ``req``, else what is wrong."""
    want = expected(req, port)
    got_cookies = [v for n, v in resp.headers if n.lower() == "set-cookie"]
    got_type = next((v for n, v in resp.headers if n.lower() == "content-type"), "")
    problems = []
    if resp.status != want.status:
        problems.append(f"status {resp.status} != {want.status}")
    if got_cookies != want.set_cookies:
        problems.append(f"Set-Cookie {got_cookies} != {want.set_cookies}")
    if got_type != want.content_type:
        problems.append(f"Content-Type {got_type!r} != {want.content_type!r}")
    if want.status != 200 or resp.status != 200:
        if resp.body != want.body:
            problems.append(f"body {resp.body[:200]!r} != {want.body[:200]!r}")
    else:
        got = json.loads(resp.body)
        wanted = json.loads(want.body)
        if wanted["REMOTE_PORT"] == _SOCKET_PORT and str(got["REMOTE_PORT"]).isdigit():
            wanted["REMOTE_PORT"] = got["REMOTE_PORT"]
        got["findings"] = [
            f
            for f in got["findings"]
            if not (f[0] == "concurrent-overwrite" and f[1] == RACY_COOKIE)
        ]
        for key in sorted(set(got) | set(wanted)):
            if got.get(key) != wanted.get(key):
                problems.append(f"{key}: {got.get(key)!r} != {wanted.get(key)!r}")
    if not problems:
        return None
    return f"request {req.rid} from {req.peer} {req.path} {req.headers}: " + "; ".join(
        problems
    )


def compare_echo(req: Request, resp: Response) -> str | None:
    """For the bare app: a 200 that echoes this request's own id."""
    if resp.status != 200:
        return f"request {req.rid}: status {resp.status}"
    if json.loads(resp.body).get("HTTP_X_REQUEST_ID") != req.rid:
        return f"request {req.rid}: echoed {resp.body[:200]!r}"
    return None


# -- the client ------------------------------------------------------------------


def _connection_loop(
    port: int,
    peer: str,
    requests: list[Request],
    deadline: float,
    out: list[Response],
    errors: list[str],
) -> None:
    conn = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=30, source_address=(peer, 0)
    )
    try:
        for req in requests:
            if time.monotonic() > deadline:
                break
            try:
                conn.putrequest(
                    "GET", req.path, skip_host=True, skip_accept_encoding=True
                )
                for name, value in req.headers:
                    conn.putheader(name, value)
                conn.endheaders()
                resp = conn.getresponse()
                body = resp.read()
            except (OSError, http.client.HTTPException) as exc:
                errors.append(f"request {req.rid}: {type(exc).__name__}: {exc}")
                conn.close()
                continue
            out.append(Response(req.index, resp.status, resp.getheaders(), body))
            if resp.will_close:
                conn.close()
    finally:
        conn.close()


def run_load(
    port: int,
    seed: int,
    count: int,
    connections: int,
    seconds: float,
    procs: int = 1,
    proc_index: int = 0,
    profile: str = "hostile",
) -> tuple[list[Request], list[Response], list[str], float, float]:
    """Send this process's share of requests ``0..count-1``: the
    connections ``c`` with ``c % procs == proc_index``, one thread each."""
    mine = [c for c in range(connections) if c % procs == proc_index]
    per_connection = {
        c: [
            make_request(seed, i, port, connections, profile)
            for i in range(c, count, connections)
        ]
        for c in mine
    }
    outs: dict[int, list[Response]] = {c: [] for c in mine}
    errors: list[str] = []
    start = time.time()
    deadline = time.monotonic() + seconds
    threads = [
        threading.Thread(
            target=_connection_loop,
            args=(
                port,
                PEERS[c % len(PEERS)],
                per_connection[c],
                deadline,
                outs[c],
                errors,
            ),
        )
        for c in mine
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    end = time.time()
    requests = [req for c in mine for req in per_connection[c]]
    responses = [resp for c in mine for resp in outs[c]]
    return requests, responses, errors, start, end


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--procs", type=int, default=1)
    parser.add_argument("--proc-index", type=int, default=0)
    parser.add_argument("--check", choices=["oracle", "echo", "none"], default="oracle")
    parser.add_argument(
        "--profile", choices=["hostile", "typical", "fill"], default="hostile"
    )
    args = parser.parse_args(argv)
    # The oracle's stacks would log every finding again: this process is a
    # client, and its checks report through the summary.
    quiet = logging.getLogger("wsgifix")
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False
    requests, responses, errors, start, end = run_load(
        args.port,
        args.seed,
        args.count,
        args.connections,
        args.seconds,
        args.procs,
        args.proc_index,
        args.profile,
    )
    by_index = {req.index: req for req in requests}
    mismatches: list[str] = []
    for resp in responses:
        req = by_index[resp.index]
        if args.check == "oracle":
            problem = compare(req, resp, args.port)
        elif args.check == "echo":
            problem = compare_echo(req, resp)
        else:
            problem = None
        if problem is not None:
            mismatches.append(problem)
    summary = {
        "planned": len(requests),
        "sent": len(responses),
        "errors": len(errors),
        "error_examples": errors[:5],
        "statuses": dict(Counter(str(r.status) for r in responses)),
        "start": start,
        "end": end,
        "mismatches": len(mismatches),
        "examples": mismatches[:5],
    }
    sys.stdout.write(json.dumps(summary) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
