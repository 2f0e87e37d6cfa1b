"""End to end through waitress: wsgifix next to the bare app, ProxyFix and waitress's.

    python benchmarks/throughput.py            # full run (a few minutes)
    python benchmarks/throughput.py --quick    # a smoke run (~30 s), no thresholds
    python benchmarks/throughput.py --other TREE   # also wsgifix from TREE

``--other`` adds a stack served by the wsgifix found in another directory
(another commit's checkout, or a compiled build of it), rotated with the
others in the same run: a paired comparison of two versions, which runs
of one version after the other cannot give (their spread is about a
point of server CPU on a shared machine).

Each round starts a fresh waitress server process per stack (threads=4,
clear_untrusted_proxy_headers=False, pinned to one CPU) and drives it from
this process, pinned to another CPU: keep-alive http.client connections, one
thread each, a fixed number of requests per round after a short warm-up.
The stacks change order from round to round so that noise spreads evenly
(a balanced design, see balanced_orders: each stack follows every other
equally often, which a plain rotation does not), and each server starts with
arguments of a random length (see LAYOUTS: where its objects land in
memory moved a server's CPU per request by a quarter with the hostile
header). Two
request kinds: overhead.py's request (15 browser headers, X-Forwarded-For/
Proto/Host/Port/Prefix from 127.0.0.1, a response with 2 Set-Cookie) and
the same with a hostile X-Forwarded-For of 1,000 entries (~13 KB).

Per stack: requests/s; server CPU per request (the run time of the server's
threads from /proc/<pid>/task/*/schedstat, in ns, over the measured window,
divided by the requests; utime+stime in clock ticks where schedstat is
missing); and the server's peak RSS (VmHWM), the largest over rounds. The
ratio columns are medians of per-round ratios to the bare app measured in
the same round; "spread" is the middle half of the per-round CPU ratios
(first to third quartile), what one run can tell apart. "busy" is the
server's and the client's CPU time over the window's wall time: throughput
compares servers only while the server is the busy side (CPU per request
does not depend on it). With ``--other``, a last line per request kind pairs
the two wsgifix stacks round by round: the median difference of their CPU
per request, its middle half, and in how many rounds each was the cheaper.

A calibration row, "app + 8 us of Python", runs the bare app after a plain
Python loop that costs about 8 us in process (measured here first): what
any pure-Python work per request costs through waitress. The threads of one
server share one core, and the time a request holds the GIL also delays
waitress's I/O thread, so server CPU per request grows by a multiple of
the work's in-process cost; the last line prints that multiple, the factor
by which to read every middleware's row.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any, NamedTuple

import overhead
from waitress.proxy_headers import proxy_headers_middleware
from werkzeug.middleware.proxy_fix import ProxyFix

import wsgifix

CALIBRATION = "app + 8 us of Python"
STACKS = (
    "bare app",
    "werkzeug ProxyFix",
    "waitress middleware",
    CALIBRATION,
    "wsgifix.wrap",
)
OTHER = "wsgifix, --other"
# Each server process gets an argument of a random length below LAYOUTS
# (--layout, unread). The length of a process's arguments moves where its
# objects land in memory, and with the 14 KB hostile header that alone
# moved a server's CPU per request by a quarter (the bare app: ~205 or
# ~265 us, by argument length, on an Intel Xeon). With fixed arguments a
# stack had the same luck in every round: the same build served as
# wsgifix.wrap and as --other differed by 58 us a request in 12 of 12
# rounds. Random lengths spread the luck over every stack's rounds.
LAYOUTS = 2048
LAYOUT_SEED = 20261125
CALIBRATION_NS = 8000  # what the calibration row's loop costs in process
FIVE = " ".join(f"x-forwarded-{h}" for h in ("for", "proto", "host", "port", "prefix"))
CONNECTIONS = 4
CLK_TCK = os.sysconf("SC_CLK_TCK")


def spin(iterations: int) -> int:
    """Pure Python work for the calibration row: a loop of ``iterations``."""
    total = 0
    for i in range(iterations):
        total += i
    return total


def calibrate() -> tuple[int, float]:
    """Loop iterations costing about CALIBRATION_NS in this process, and the
    ns they cost (median of a few timings)."""

    def median_ns(count: int) -> float:
        timings = []
        for _ in range(201):
            t0 = time.perf_counter_ns()
            spin(count)
            timings.append(time.perf_counter_ns() - t0)
        return statistics.median(timings)

    iterations = 1000
    for _ in range(3):  # an estimate, refined
        iterations = max(1, round(iterations * CALIBRATION_NS / median_ns(iterations)))
    return iterations, median_ns(iterations)


def build(stack: str, iterations: int = 0) -> Any:
    app = overhead.app_with_cookies
    if stack == CALIBRATION:

        def calibration(environ: Any, start_response: Any) -> Any:
            spin(iterations)
            return app(environ, start_response)

        return calibration
    if stack == "werkzeug ProxyFix":
        return ProxyFix(app, x_for=1, x_proto=1, x_host=1, x_port=1, x_prefix=1)
    if stack == "waitress middleware":  # as in overhead.py
        return proxy_headers_middleware(
            app,
            trusted_proxy="127.0.0.1",
            trusted_proxy_count=1,
            trusted_proxy_headers=set(FIVE.split()) - {"x-forwarded-prefix"},
        )
    if stack in ("wsgifix.wrap", OTHER):
        return wsgifix.wrap(app, trusted_proxies="127.0.0.1", trusted_headers=FIVE)
    return app


def serve(stack: str, cpu: int | None, iterations: int) -> None:
    """The server process: prints 'Serving on http://127.0.0.1:PORT'."""
    import logging

    import waitress

    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    logging.getLogger("waitress").setLevel(logging.INFO)
    waitress.serve(
        build(stack, iterations),
        host="127.0.0.1",
        port=0,
        threads=4,
        clear_untrusted_proxy_headers=False,
    )


def request_headers(hostile: bool) -> list[tuple[str, str]]:
    """overhead.py's environ as HTTP header lines."""
    environ = {**overhead.BROWSER_HEADERS, **overhead.FORWARDED}
    if hostile:
        environ["HTTP_X_FORWARDED_FOR"] = overhead.xff(1000)
    return [(k[5:].title().replace("_", "-"), v) for k, v in environ.items()]


class Server:
    """A fresh server process for one stack; its output drained as it comes."""

    def __init__(
        self,
        stack: str,
        cpu: int | None,
        iterations: int = 0,
        other: str = "",
        layout: int = 0,
    ) -> None:
        argv = [sys.executable, __file__, "--serve", stack, "--spin", str(iterations)]
        argv += ["--layout", "x" * layout]  # see LAYOUTS
        if cpu is not None:
            argv += ["--cpu", str(cpu)]
        env = None
        if stack == OTHER:  # that tree's wsgifix first on the path
            env = {**os.environ, "PYTHONPATH": other}
            argv.append("--expect-other")
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        self.port = 0
        self.output: list[str] = []
        ready = threading.Event()
        assert self.proc.stderr is not None
        threading.Thread(
            target=self._drain, args=(self.proc.stderr, ready), daemon=True
        ).start()
        if not ready.wait(20) or not self.port:
            self.stop()
            raise SystemExit(f"{stack}: server did not start: {''.join(self.output)}")

    def _drain(self, stream: IO[str], ready: threading.Event) -> None:
        for line in stream:
            if len(self.output) < 50:
                self.output.append(line)
            if not self.port and "Serving on http://127.0.0.1:" in line:
                self.port = int(line.rsplit(":", 1)[1])
                ready.set()
        ready.set()

    def cpu_seconds(self) -> float:
        """The server's CPU time so far: the run time of each of its threads
        in ns (/proc/PID/task/TID/schedstat, user and system), else
        utime + stime in clock ticks (10 ms: ~0.5% of a 2 s round)."""
        try:
            total = 0
            for tid in os.listdir(f"/proc/{self.proc.pid}/task"):
                with open(f"/proc/{self.proc.pid}/task/{tid}/schedstat") as f:
                    total += int(f.read().split()[0])
            return total / 1e9
        except (OSError, ValueError, IndexError):
            pass
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime

    def peak_rss_mb(self) -> float:
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Sample(NamedTuple):
    rps: float
    cpu_us: float  # server CPU per request
    rss_mb: float
    server_busy: float
    client_busy: float
    failures: int  # transport errors and non-200 answers


def client_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def one_round(
    stack: str,
    headers: list[tuple[str, str]],
    count: int,
    warmup: int,
    cpu: int | None,
    seconds: float,
    iterations: int = 0,
    other: str = "",
    layout: int = 0,
) -> Sample:
    server = Server(stack, cpu, iterations, other, layout)
    warmed = threading.Barrier(CONNECTIONS + 1, timeout=seconds)
    go = threading.Barrier(CONNECTIONS + 1, timeout=seconds)
    failures = [0] * CONNECTIONS
    deadline = time.monotonic() + seconds

    def connection(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        try:
            for i in range(warmup + count // CONNECTIONS):
                if i == warmup:
                    warmed.wait()
                    go.wait()
                if time.monotonic() > deadline:
                    failures[index] += 1
                    continue
                try:
                    conn.putrequest(
                        "GET", "/cart", skip_host=True, skip_accept_encoding=True
                    )
                    for name, value in headers:
                        conn.putheader(name, value)
                    conn.endheaders()
                    response = conn.getresponse()
                    response.read()
                    failures[index] += response.status != 200
                except (OSError, http.client.HTTPException):
                    failures[index] += 1
                    conn.close()
        except threading.BrokenBarrierError:
            failures[index] += count
        finally:
            conn.close()

    threads = [
        threading.Thread(target=connection, args=(i,)) for i in range(CONNECTIONS)
    ]
    try:
        for thread in threads:
            thread.start()
        warmed.wait()
        cpu0, client0, t0 = server.cpu_seconds(), client_cpu(), time.perf_counter()
        go.wait()
        for thread in threads:
            thread.join(seconds + 60)
        wall = time.perf_counter() - t0
        server_cpu = server.cpu_seconds() - cpu0
        client = client_cpu() - client0
        rss = server.peak_rss_mb()
    finally:
        for barrier in (warmed, go):
            barrier.abort()
        server.stop()
    sent = count // CONNECTIONS * CONNECTIONS
    return Sample(
        sent / wall,
        server_cpu / sent * 1e6,
        rss,
        server_cpu / wall,
        client / wall,
        sum(failures),
    )


def balanced_orders(count: int) -> list[list[int]]:
    """Orders of ``range(count)``, one per round, in which every item comes
    first, last and in each place as often as any other, and follows every
    other item equally often (a Williams design; for an odd count, each
    order and its reverse). A plain rotation gives a stack the same
    predecessor in every round: whatever one server leaves behind for the
    next (the machine's caches, the client's state) would favour or burden
    the same stack every time."""
    first = [0]
    low, high = 1, count - 1
    while len(first) < count:
        first.append(low)
        low += 1
        if len(first) < count:
            first.append(high)
            high -= 1
    orders = [[(item + shift) % count for item in first] for shift in range(count)]
    if count % 2:
        orders += [order[::-1] for order in orders]
    return orders


def machine() -> str:
    model = platform.processor() or "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    return (
        f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}, "
        f"wsgifix {wsgifix.build_name()}, "
        f"{datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}, "
        f"load average {load}"
    )


def middle_half(values: list[float]) -> tuple[float, float]:
    """The first and third quartiles (the values themselves below 4)."""
    if len(values) < 4:
        return min(values), max(values)
    quartiles = statistics.quantiles(values, n=4)
    return quartiles[0], quartiles[2]


def paired(title: str, samples: dict[str, list[Sample]]) -> None:
    """wsgifix.wrap against the --other stack, round by round."""
    diffs = [
        s.cpu_us - o.cpu_us
        for s, o in zip(samples["wsgifix.wrap"], samples[OTHER], strict=True)
    ]
    low, high = middle_half(diffs)
    cheaper = sum(d < 0 for d in diffs)
    print(
        f"{title}: wsgifix.wrap minus {OTHER!r}, server CPU per request: "
        f"median {statistics.median(diffs):+.2f} us (middle half {low:+.2f}.."
        f"{high:+.2f}); wsgifix.wrap cheaper in {cheaper} of {len(diffs)} rounds"
    )


def table(title: str, samples: dict[str, list[Sample]], hostile: bool) -> None:
    bare = samples["bare app"]
    print(title)
    print(
        f"{'stack':<20} {'req/s':>7} {'x bare':>7} {'target':>8}"
        f" {'CPU us/req':>11} {'vs bare':>8} {'spread':>17} {'target':>7}"
        f" {'peak RSS MB':>12} {'busy srv/cli':>13} {'failed':>6}"
    )
    for stack, rows in samples.items():
        ratio = statistics.median(
            s.rps / b.rps for s, b in zip(rows, bare, strict=True)
        )
        extras = [s.cpu_us / b.cpu_us - 1 for s, b in zip(rows, bare, strict=True)]
        extra = statistics.median(extras)
        low, high = middle_half(extras)
        spread = f"{low:+.1%}..{high:+.1%}" if stack != "bare app" else ""
        rps_target = cpu_target = ""
        if stack == "wsgifix.wrap":
            rps_target = ">= 0.95" if hostile else ""
            cpu_target = "<= +5%"
        elif stack == "werkzeug ProxyFix" and hostile:
            rps_target = "(.21-.27)"
        busy = (
            f"{statistics.median(s.server_busy for s in rows):.0%}/"
            f"{statistics.median(s.client_busy for s in rows):.0%}"
        )
        print(
            f"{stack:<20} {statistics.median(s.rps for s in rows):>7.0f}"
            f" {ratio:>7.2f} {rps_target:>8}"
            f" {statistics.median(s.cpu_us for s in rows):>11.1f}"
            f" {extra:>+8.1%} {spread:>17} {cpu_target:>7}"
            f" {max(s.rss_mb for s in rows):>12.1f} {busy:>13}"
            f" {sum(s.failures for s in rows):>6}"
        )
    print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--rounds", type=int, help="rounds (default 8, quick 2)")
    parser.add_argument(
        "--other",
        metavar="TREE",
        help="also serve wsgifix from this directory (another version), paired",
    )
    parser.add_argument("--serve", choices=(*STACKS, OTHER), help=argparse.SUPPRESS)
    parser.add_argument("--expect-other", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--cpu", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--spin", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--layout", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        tree = Path(os.environ.get("PYTHONPATH", ".")).resolve()
        if args.expect_other and not Path(wsgifix.__file__).resolve().is_relative_to(
            tree
        ):
            raise SystemExit(f"--other: {tree}'s wsgifix was not the one imported")
        serve(args.serve, args.cpu, args.spin)
        return 0
    if args.other and not Path(args.other, "wsgifix", "__init__.py").is_file():
        raise SystemExit(f"--other {args.other}: no wsgifix package there")
    stacks = (*STACKS, OTHER) if args.other else STACKS
    rounds = args.rounds or (2 if args.quick else 8)
    # requests per round (normal, hostile), warm-up per connection
    counts = (3000, 1000) if args.quick else (20000, 8000)
    warmup = 25 if args.quick else 100
    cpus = sorted(os.sched_getaffinity(0))
    server_cpu: int | None = None
    if len(cpus) >= 2:
        server_cpu = cpus[0]
        os.sched_setaffinity(0, {cpus[1]})
    print(f"machine: {machine()}")
    iterations, spun = calibrate()
    pinning = (
        f"server on CPU {server_cpu}, client on CPU {cpus[1]}"
        if server_cpu is not None
        else "NOT pinned (one CPU)"
    )
    print(
        f"waitress threads=4, {CONNECTIONS} keep-alive connections, {pinning}, "
        f"{rounds} rounds, a fresh server per stack per round"
    )
    print(
        f"{CALIBRATION!r}: the bare app after a loop of {iterations} iterations, "
        f"{spun / 1000:.1f} us in process here"
    )
    print()
    kinds = [
        ("normal request", False, counts[0]),
        ("hostile X-Forwarded-For (1,000 entries)", True, counts[1]),
    ]
    results: dict[bool, dict[str, list[Sample]]] = {
        hostile: {stack: [] for stack in stacks} for _, hostile, _ in kinds
    }
    started = time.monotonic()
    designs = balanced_orders(len(stacks))
    layouts = random.Random(LAYOUT_SEED)  # the same draws in every run
    for round_ in range(rounds):
        order = [stacks[i] for i in designs[round_ % len(designs)]]
        for _, hostile, count in kinds:
            headers = request_headers(hostile)
            for stack in order:
                sample = one_round(
                    stack,
                    headers,
                    count,
                    warmup,
                    server_cpu,
                    120.0,
                    iterations,
                    args.other or "",
                    layouts.randrange(LAYOUTS),
                )
                results[hostile][stack].append(sample)
    for title, hostile, count in kinds:
        size = sum(len(n) + len(v) + 4 for n, v in request_headers(hostile))
        table(
            f"== {title}: {count} requests x {rounds} rounds, "
            f"~{size / 1000:.1f} KB of headers; medians",
            results[hostile],
            hostile,
        )
    if args.other:
        for title, hostile, _ in kinds:
            paired(title, results[hostile])
    normal = results[False]
    added = statistics.median(
        s.cpu_us - b.cpu_us
        for s, b in zip(normal[CALIBRATION], normal["bare app"], strict=True)
    )
    print(
        f"{CALIBRATION!r} added {added:.1f} us of server CPU per request for "
        f"{spun / 1000:.1f} us of Python in process: {added * 1000 / spun:.1f} x "
        "(work in the app's thread also delays waitress's I/O thread)"
    )
    print(
        f"ran {time.monotonic() - started:.0f} s; targets from issue 7 (6: <= +5% "
        "server CPU per request, >= 0.95 x bare throughput with the hostile "
        "header; ProxyFix's measured earlier in brackets; 7: peak RSS)"
    )
    failed = sum(
        s.failures for kind in results.values() for r in kind.values() for s in r
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
