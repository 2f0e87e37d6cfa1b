"""Instructions and cache lines per request, counted by valgrind's cache simulator.

    python benchmarks/cachesim.py            # every row (~3 minutes)
    python benchmarks/cachesim.py --quick    # a smoke run: three rows, few requests

Timings on a shared machine are noisy; these counts are not (the same
build and request give the same counts, whatever else the machine does).
Each stack serves overhead.py's request, its header values new strings as
a server's parser makes them, in a child process run under valgrind's
cache simulator (``valgrind --tool=callgrind --cache-sim=yes``) with fixed
cache sizes (L1 32 KB code and 48 KB data, a last level of 2 MB, 64-byte
lines), counting only inside the app calls measured (made through
``operator.call``, which nothing else in the child calls: start-up,
imports, the warm-up requests and the making of each environ are not
counted, though the simulated caches see them). Two regimes:

warm
    requests back to back: instructions per request, what the CPU runs.
cold
    each request after 2 MB of other data was written (the last level's
    size, as overhead.py's "caches cold" row): the lines of code and of
    data the request must fetch from beyond the last level. A server's own
    work between two requests evicts a middleware this way, and a line
    fetched costs the time of tens of instructions: a stack that runs
    fewer instructions may still cost a server more (README.rst,
    "Performance").

Another build or checkout: ``PYTHONPATH=TREE python benchmarks/cachesim.py``
(as overhead.py; the children inherit the path). Each row is counted over
its base row: the bare app, or (indented) the bare app without cookies for
the request with nothing to do (from an untrusted peer, no forwarding
headers) and the pass-through floor. Needs
valgrind (Debian: ``apt-get install valgrind``) and a libpython with its
symbol table (``_operator_call``), as CPython builds have unless stripped.
"""

from __future__ import annotations

import argparse
import operator
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import overhead  # (this directory's sibling; it finds wsgifix)

import wsgifix

CACHES = ["--I1=32768,8,64", "--D1=49152,12,64", "--LL=2097152,16,64"]
FILL = 1 << 21  # bytes written before each cold request: the last level's size
FIVE = " ".join(f"x-forwarded-{h}" for h in ("for", "proto", "host", "port", "prefix"))
FULL_ENV = {**overhead.BASE, **overhead.BROWSER_HEADERS, **overhead.FORWARDED}
IDLE_ENV = {**overhead.BASE, **overhead.BROWSER_HEADERS, "REMOTE_ADDR": "192.0.2.50"}

# (row, the row it is counted over, its request); a row without a base is
# counted absolute.
BARE = "bare app (absolute)"
PLAIN = "bare app without cookies (absolute)"
PROXYFIX = "werkzeug ProxyFix, 5 headers"
FULL = "wsgifix full default stack, 2 cookies fixed"
FLOOR = "pass-through wrapping start_response"
IDLE = "wsgifix, nothing to do"
ROWS: list[tuple[str, str | None, dict[str, str]]] = [
    (BARE, None, FULL_ENV),
    (PROXYFIX, BARE, FULL_ENV),
    ("waitress proxy_headers_middleware", BARE, FULL_ENV),
    ("wsgifix proxy layer, 5 headers", BARE, FULL_ENV),
    (FULL, BARE, FULL_ENV),
    (PLAIN, None, IDLE_ENV),
    (FLOOR, PLAIN, IDLE_ENV),
    (IDLE, PLAIN, IDLE_ENV),
]
QUICK_ROWS = (BARE, PROXYFIX, FULL)
WARM_UP = 100


def build(row: str) -> Any:
    """The WSGI app a row serves."""
    app = overhead.app_with_cookies
    if row == BARE:
        return app
    if row == PLAIN:
        return overhead.app_plain
    if row == PROXYFIX:
        return overhead.ProxyFix(
            app, x_for=1, x_proto=1, x_host=1, x_port=1, x_prefix=1
        )
    if row == "waitress proxy_headers_middleware":  # as in overhead.py
        return overhead.proxy_headers_middleware(
            app,
            trusted_proxy="127.0.0.1",
            trusted_proxy_count=1,
            trusted_proxy_headers=set(FIVE.split()) - {"x-forwarded-prefix"},
        )
    if row == "wsgifix proxy layer, 5 headers":
        return wsgifix.ProxyMiddleware(
            app, trusted_proxies="127.0.0.1", trusted_headers=FIVE
        )
    if row == FULL:
        return wsgifix.wrap(app, trusted_proxies="127.0.0.1", trusted_headers=FIVE)
    if row == FLOOR:
        return overhead.passthrough_start_response(overhead.app_plain)
    if row == IDLE:  # as in overhead.py: an untrusted peer, no forwarding
        return wsgifix.wrap(overhead.app_plain, trusted_proxies="10.0.0.0/8")
    raise SystemExit(f"unknown row: {row}")


def child(row: str, env_name: str, requests: int, cold: bool) -> None:
    """The measured loop (run under valgrind): ``requests`` requests made
    through operator.call (counted) after a warm-up (not counted), each
    environ made just before its call."""
    app = build(row)
    fresh = overhead.Fresh(FULL_ENV if env_name == "full" else IDLE_ENV)
    start_response = overhead.start_response
    buffer = bytearray(FILL if cold else 0)
    fills = (bytes(len(buffer)), b"\x01" * len(buffer))
    call = operator.call
    for i in range(WARM_UP + requests):
        if cold:
            buffer[:] = fills[i % 2]
        environ = fresh.make()
        if i < WARM_UP:
            app(environ, start_response)
        else:
            call(app, environ, start_response)


_EVENTS = re.compile(r"^==\d+== Events\s*:\s*(.+)$", re.M)
_COLLECTED = re.compile(r"^==\d+== Collected\s*:\s*(.+)$", re.M)


def parse_summary(text: str) -> dict[str, int]:
    """callgrind's closing summary (its stderr) as {event: count}: "Ir"
    instructions, "ILmr"/"DLmr"/"DLmw" last-level misses of code, data
    read and data written, ...; None counted: {}."""
    events = _EVENTS.search(text)
    collected = _COLLECTED.search(text)
    if events is None or collected is None:
        return {}
    names = events[1].split()
    values = [int(v) for v in collected[1].split()]
    # (callgrind leaves trailing zeros out)
    return dict(zip(names, values + [0] * (len(names) - len(values)), strict=True))


def per_request(
    valgrind: str, row: str, env_name: str, requests: int, cold: bool
) -> dict[str, float]:
    """One child's counts, per request measured."""
    argv = [valgrind, "--tool=callgrind", "--cache-sim=yes", *CACHES]
    argv += ["--collect-atstart=no", "--toggle-collect=_operator_call"]
    argv += ["--callgrind-out-file=/dev/null", sys.executable, __file__]
    argv += ["--child", row, "--env", env_name, "--requests", str(requests)]
    if cold:
        argv.append("--cold")
    # A fixed hash seed: the same counts on every run.
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    ran = subprocess.run(
        argv, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL,
        check=False, timeout=900,
    )  # fmt: skip
    counts = parse_summary(ran.stderr)
    if ran.returncode != 0 or not counts.get("Ir"):
        tail = "\n".join(ran.stderr.strip().splitlines()[-5:])
        why = "nothing counted: is libpython stripped of _operator_call?"
        raise SystemExit(
            f"callgrind run of {row!r} failed ({ran.returncode}, {why}):\n{tail}"
        )
    return {key: value / requests for key, value in counts.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--env", default="full", help=argparse.SUPPRESS)
    parser.add_argument("--requests", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--cold", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.env, args.requests, args.cold)
        return 0
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    rows = [r for r in ROWS if not args.quick or r[0] in QUICK_ROWS]
    warm_requests, cold_requests = (100, 20) if args.quick else (1000, 200)
    tasks = {}
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for row, _, env in rows:
            env_name = "full" if env is FULL_ENV else "idle"
            for cold, requests in ((False, warm_requests), (True, cold_requests)):
                tasks[row, cold] = pool.submit(
                    per_request, valgrind, row, env_name, requests, cold
                )
    counted = {key: task.result() for key, task in tasks.items()}

    def over(row: str, base: str | None, cold: bool) -> dict[str, float]:
        mine = counted[row, cold]
        if base is None:
            return mine
        theirs = counted[base, cold]
        return {key: mine[key] - theirs[key] for key in mine}

    table = {
        (row, cold): over(row, base, cold)
        for row, base, _ in rows
        for cold in (False, True)
    }
    pf_warm = table[PROXYFIX, False]["Ir"]
    pf_cold = table[PROXYFIX, True]
    pf_lines = pf_cold["ILmr"] + pf_cold["DLmr"] + pf_cold["DLmw"]
    print(
        "valgrind (callgrind --cache-sim=yes), per request; wsgifix "
        f"{wsgifix.build_name()}; Python {sys.version.split()[0]}; caches: L1 "
        "32 KB code + 48 KB data, last level 2 MB, 64-byte lines"
    )
    print(
        f"warm: {warm_requests} requests back to back; cold: "
        f"{cold_requests} requests, each after 2 MB of other "
        "data; lines fetched from beyond the last level"
    )
    print(
        f"{'stack (over its base)':<46} {'instructions':>12} {'x PF':>5}  "
        f"{'code lines':>10} {'data lines':>10} {'lines':>7} {'x PF':>5}"
    )
    for row, base, _ in rows:
        warm = table[row, False]
        cold = table[row, True]
        data = cold["DLmr"] + cold["DLmw"]
        lines = cold["ILmr"] + data
        sign = "" if base is None else "+"  # (a base row: absolute counts)
        ratio = ratio_lines = ""
        if base == BARE:
            ratio = f"{warm['Ir'] / pf_warm:.2f}"
            ratio_lines = f"{lines / pf_lines:.2f}"
        label = row if base in (None, BARE) else f"  {row}"
        print(
            f"{label:<46} {warm['Ir']:>{sign}12,.0f} {ratio:>5}  "
            f"{cold['ILmr']:>{sign}10,.0f} {data:>{sign}10,.0f} "
            f"{lines:>{sign}7,.0f} {ratio_lines:>5}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
