"""In-process cost of wsgifix next to werkzeug ProxyFix and waitress's middleware.

    python benchmarks/overhead.py            # full run (~1 minute)
    python benchmarks/overhead.py --quick    # a smoke run, no thresholds

Every stack serves the same request (15 browser headers, X-Forwarded-For/
Proto/Host/Port/Prefix from a trusted 127.0.0.1) to an app that sets two
cookies. Each row is the median over rounds of the mean ns per request,
minus the bare app's; the ratio column compares with werkzeug ProxyFix
measured in the same run (timings on a shared machine are noisy, ratios
much less so): the main table's rows are measured once per round in
rotating order, a ratio is the median of its per-round ratios. Environs
are copied before the clock starts and each is let go after its request,
as a server does (kept alive, what the middlewares store in them would
make the garbage collector's passes ever longer). The issue's targets are
printed beside the measured ratios.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

# This checkout's wsgifix first, unless a directory on PYTHONPATH holds one
# (a compiled build elsewhere, or throughput.py --other's tree).
if not any(
    Path(entry, "wsgifix").is_dir()
    for entry in os.environ.get("PYTHONPATH", "").split(os.pathsep)
    if entry
):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from waitress.proxy_headers import proxy_headers_middleware
from werkzeug.middleware.proxy_fix import ProxyFix

import wsgifix

BROWSER_HEADERS = {
    "HTTP_HOST": "127.0.0.1:8080",
    "HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0 Safari/537.36",
    "HTTP_ACCEPT": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "HTTP_ACCEPT_LANGUAGE": "en-GB,en;q=0.9",
    "HTTP_ACCEPT_ENCODING": "gzip, deflate, br",
    "HTTP_CONNECTION": "keep-alive",
    "HTTP_COOKIE": "session=eyJ1c2VyIjoiYWxpY2UifQ.Zx; theme=dark",
    "HTTP_UPGRADE_INSECURE_REQUESTS": "1",
    "HTTP_SEC_FETCH_SITE": "same-origin",
    "HTTP_SEC_FETCH_MODE": "navigate",
    "HTTP_SEC_FETCH_DEST": "document",
    "HTTP_SEC_FETCH_USER": "?1",
    "HTTP_CACHE_CONTROL": "max-age=0",
    "HTTP_REFERER": "https://shop.example.com/app/cart",
    "HTTP_DNT": "1",
}
FORWARDED = {
    "HTTP_X_FORWARDED_FOR": "203.0.113.9, 198.51.100.7",
    "HTTP_X_FORWARDED_PROTO": "https",
    "HTTP_X_FORWARDED_HOST": "shop.example.com",
    "HTTP_X_FORWARDED_PORT": "443",
    "HTTP_X_FORWARDED_PREFIX": "/app",
}
BASE = {
    "REQUEST_METHOD": "GET",
    "SCRIPT_NAME": "",
    "PATH_INFO": "/cart",
    "QUERY_STRING": "",
    "SERVER_NAME": "waitress.invalid",
    "SERVER_PORT": "8080",
    "SERVER_PROTOCOL": "HTTP/1.1",
    "SERVER_SOFTWARE": "waitress",
    "REMOTE_ADDR": "127.0.0.1",
    "REMOTE_PORT": "40000",
    "wsgi.url_scheme": "http",
}
COOKIES = [
    ("Set-Cookie", "session=eyJ1c2VyIjoiYWxpY2UifQ.Zy; HttpOnly; Path=/; SameSite=Lax"),
    ("Set-Cookie", "theme=dark; Path=/; Max-Age=31536000"),
]
# The same cookies as an app sets them once it follows wsgifix's advice:
# nothing to fix, nothing to report.
CLEAN_COOKIES = [
    (name, value + ("; SameSite=Lax" if "SameSite" not in value else "") + "; Secure")
    for name, value in COOKIES
]
BODY = [b"ok"]


def app_with_cookies(environ: Any, start_response: Any) -> Any:
    start_response("200 OK", [("Content-Type", "text/plain"), *COOKIES])
    return BODY


def app_with_clean_cookies(environ: Any, start_response: Any) -> Any:
    start_response("200 OK", [("Content-Type", "text/plain"), *CLEAN_COOKIES])
    return BODY


def app_plain(environ: Any, start_response: Any) -> Any:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return BODY


def passthrough(app: Any) -> Any:
    def call(environ: Any, start_response: Any) -> Any:
        return app(environ, start_response)

    return call


def passthrough_start_response(app: Any) -> Any:
    def call(environ: Any, start_response: Any) -> Any:
        def sr(status: str, headers: Any, exc_info: Any = None) -> Any:
            return start_response(status, headers, exc_info)

        return app(environ, sr)

    return call


def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
    return None


def header_app(batches: list[list[tuple[str, str]]]) -> Any:
    """An app answering call i with the headers ``batches[i % len]``."""
    state = {"i": 0}

    def app(environ: Any, start_response: Any) -> Any:
        i = state["i"]
        state["i"] = i + 1
        start_response("200 OK", batches[i % len(batches)])
        return BODY

    return app


def measure(
    app: Any, environ: dict[str, str] | list[dict[str, str]], n: int, rounds: int
) -> float:
    """Median over rounds of the mean ns per call (a fresh environ each call,
    copied from ``environ`` or in turn from each of a list of them)."""
    results = []
    models = environ if isinstance(environ, list) else [environ]
    for _ in range(rounds):
        envs = [models[i % len(models)].copy() for i in range(n)]
        results.append(timed(app, envs))
    return statistics.median(results)


class Fresh:
    """A request as a server gives it: every header value (and SERVER_PORT)
    a new string, its hash not yet computed, as waitress's parser makes
    them; the other values are the server's own objects, shared."""

    def __init__(self, model: dict[str, str]) -> None:
        self.model = model

    def make(self) -> dict[str, str]:
        return {
            key: "".join(list(value))
            if key.startswith("HTTP_") or key == "SERVER_PORT"
            else value
            for key, value in self.model.items()
        }

    def timed(self, app: Any, n: int) -> float:
        """Mean ns per call, each request made just before its call (its
        strings in the CPU's caches, as a server's just parsed ones are)
        and timed alone (the clock's cost is in the bare app's row too)."""
        clock = time.perf_counter_ns
        total = 0
        for _ in range(n):
            env = self.make()
            t0 = clock()
            app(env, start_response)
            total += clock() - t0
        return total / n


class Cold(Fresh):
    """The same, with the CPU's caches filled with other data before each
    request (2 MB written, outside the clock), as a server's own work
    between two requests of a thread leaves them: what a stack's code and
    tables cost when they must come from memory. Fewer requests per round
    (the writing costs ~0.1 ms a request)."""

    SIZE = 1 << 21

    def __init__(self, model: dict[str, str]) -> None:
        super().__init__(model)
        self.buffer = bytearray(self.SIZE)
        self.fills = (bytes(self.SIZE), b"\x01" * self.SIZE)

    def timed(self, app: Any, n: int) -> float:
        clock = time.perf_counter_ns
        total = 0
        n = max(n // 10, 20)
        for i in range(n):
            self.buffer[:] = self.fills[i % 2]
            env = self.make()
            t0 = clock()
            app(env, start_response)
            total += clock() - t0
        return total / n


def timed(app: Any, envs: list[dict[str, str]]) -> float:
    """Mean ns per call of ``app`` on each environ of ``envs`` (emptied: each
    environ is let go after its request, as a server does, so that what a
    request leaves in its environ is freed, not kept for the collector to
    walk through on the next requests)."""
    n = len(envs)
    envs.reverse()
    pop = envs.pop
    t0 = time.perf_counter_ns()
    while envs:
        app(pop(), start_response)
    return (time.perf_counter_ns() - t0) / n


def xff(entries: int) -> str:
    hops = [f"198.51.{i // 250 % 250}.{i % 250 + 1}" for i in range(entries - 1)]
    return ", ".join([*hops, "203.0.113.9"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    args = parser.parse_args(argv)
    n, rounds = (200, 3) if args.quick else (5000, 15)

    five = " ".join(
        f"x-forwarded-{h}" for h in ("for", "proto", "host", "port", "prefix")
    )
    full_env = {**BASE, **BROWSER_HEADERS, **FORWARDED}
    idle_env = {**BASE, **BROWSER_HEADERS, "REMOTE_ADDR": "192.0.2.50"}
    proxyfix = ProxyFix(
        app_with_cookies, x_for=1, x_proto=1, x_host=1, x_port=1, x_prefix=1
    )
    waitress_mw = proxy_headers_middleware(
        app_with_cookies,
        trusted_proxy="127.0.0.1",
        trusted_proxy_count=1,
        trusted_proxy_headers={
            "x-forwarded-for",
            "x-forwarded-proto",
            "x-forwarded-host",
            "x-forwarded-port",
        },
    )
    proxy_only = wsgifix.ProxyMiddleware(
        app_with_cookies, trusted_proxies="127.0.0.1", trusted_headers=five
    )
    full = wsgifix.wrap(
        app_with_cookies, trusted_proxies="127.0.0.1", trusted_headers=five
    )
    idle = wsgifix.wrap(app_plain, trusted_proxies="10.0.0.0/8")

    clean = wsgifix.wrap(
        app_with_clean_cookies, trusted_proxies="127.0.0.1", trusted_headers=five
    )
    calls = n * rounds + 1

    def each(header: str, value: Any) -> list[dict[str, str]]:
        """The request with ``header`` set to ``value(i)``, once per call."""
        return [{**full_env, header: value(i)} for i in range(calls)]

    # A public site: every request from a client not seen before.
    clients = each(
        "HTTP_X_FORWARDED_FOR", lambda i: f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"
    )
    # URLs with ids: every request in another directory (/orders/<id>/edit).
    paths = [{**full_env, "PATH_INFO": f"/orders/{i}/edit"} for i in range(997)]
    # A client (or many tenants) sending a Host never seen before each time.
    hosts = each("HTTP_X_FORWARDED_HOST", lambda i: f"t{i}.shop.example.com")
    # No proxy: clients connect directly, one inventing a Host each time.
    direct = {**BASE, **BROWSER_HEADERS, "REMOTE_ADDR": "192.0.2.50"}
    direct_hosts = [
        {**direct, "HTTP_HOST": f"t{i}.shop.example.com"} for i in range(calls)
    ]
    # Many tenants: 100 hosts in turn, each seen again and again.
    tenants = [
        {**full_env, "HTTP_X_FORWARDED_HOST": f"t{i}.shop.example.com"}
        for i in range(100)
    ]

    def layer() -> Any:
        return wsgifix.ProxyMiddleware(
            app_with_cookies, trusted_proxies="127.0.0.1", trusted_headers=five
        )

    def stack(**settings: Any) -> Any:
        return wsgifix.wrap(
            app_with_cookies,
            trusted_proxies="127.0.0.1",
            trusted_headers=five,
            **settings,
        )

    def busy() -> Any:
        """The full stack with another request in flight throughout (as on
        a server under concurrent load): every response with a carried
        cookie goes through the race table (see wsgifix.races)."""
        wrapped = stack()
        layer = wrapped
        while not isinstance(layer, wsgifix.CookieMiddleware):
            layer = layer.app
        assert layer.races is not None
        layer.races.flying.append(None)  # what a request in flight leaves
        return wrapped

    # (row, app, requests, the row whose time is its base, once, target);
    # "once": each request of the list is used once (requests unlike those
    # before), else the requests are copied in turn.
    bare_row = "bare app (absolute ns, not overhead)"
    plain_row = "bare app without cookies"
    clean_row = "bare app with clean cookies"
    paths_row = "bare app, a new directory per request"
    floor_row = "pass-through wrapping start_response"
    idle_row = "wsgifix, nothing to do (x start_response floor)"
    fresh_row = "bare app, header values new strings"
    fresh_pf_row = "ProxyFix, header values new strings as a server's"
    fresh_plain_row = "bare app without cookies, header values new strings"
    fresh_floor_row = "pass-through wrapping start_response, the same"
    cold_row = "bare app, caches cold"
    cold_pf_row = "ProxyFix, caches cold before each request"
    fresh_idle_row = "wsgifix, nothing to do, the same (x its floor)"
    cases: list[tuple[str, Any, Any, str | None, bool, str]] = [
        (bare_row, app_with_cookies, full_env, None, False, ""),
        (plain_row, app_plain, idle_env, None, False, ""),
        (clean_row, app_with_clean_cookies, full_env, None, False, ""),
        (paths_row, app_with_cookies, paths, None, False, ""),
        ("pass-through function", passthrough(app_with_cookies), full_env,
         bare_row, False, ""),
        (floor_row, passthrough_start_response(app_plain), idle_env, plain_row,
         False, ""),
        ("werkzeug ProxyFix, 5 headers", proxyfix, full_env, bare_row, False, ""),
        ("waitress proxy_headers_middleware", waitress_mw, full_env, bare_row,
         False, ""),
        ("wsgifix proxy layer, 5 headers", proxy_only, full_env, bare_row, False,
         "<= 0.25"),
        ("  the same, a new client per request", layer(), clients, bare_row, True,
         ""),
        ("  ProxyFix, a new client per request", proxyfix, clients, bare_row, True,
         ""),
        ("wsgifix full default stack, 2 cookies fixed", full, full_env, bare_row,
         False, "<= 0.5"),
        ("  the same, a new directory per request", stack(), paths, paths_row,
         False, "<= 0.5"),
        ("  the same, a new Host per request", stack(), hosts, bare_row, True, ""),
        ("  the same, 100 hosts in turn", stack(), tenants, bare_row, False, ""),
        ("  direct clients (no proxy), the same Host", stack(), direct, bare_row,
         False, ""),
        ("  direct clients, a new Host per request", stack(), direct_hosts,
         bare_row, True, ""),
        ("  the same, another request in flight", busy(), full_env, bare_row,
         False, ""),
        ("  the same, detect_races=false", stack(detect_races=False), full_env,
         bare_row, False, ""),
        ("  the same, cookie_policy=report", stack(cookie_policy="report"),
         full_env, bare_row, False, ""),
        ("  the same, cookie_policy=off", stack(cookie_policy="off"), full_env,
         bare_row, False, ""),
        ("wsgifix full default stack, 2 clean cookies", clean, full_env,
         clean_row, False, "<= 0.5"),
        (idle_row, idle, idle_env, plain_row, False, "<= 3"),
        # A server parses each request anew: its header values (and here
        # SERVER_PORT) are new strings whose hashes are not computed yet.
        (fresh_row, app_with_cookies, Fresh(full_env), None, False, ""),
        (fresh_pf_row, proxyfix, Fresh(full_env), fresh_row, False, ""),
        ("  wsgifix proxy layer, the same", proxy_only, Fresh(full_env),
         fresh_row, False, "<= 0.25"),
        ("  wsgifix full default stack, the same", full, Fresh(full_env),
         fresh_row, False, "<= 0.5"),
        (fresh_plain_row, app_plain, Fresh(idle_env), None, False, ""),
        (fresh_floor_row, passthrough_start_response(app_plain),
         Fresh(idle_env), fresh_plain_row, False, ""),
        (fresh_idle_row, idle, Fresh(idle_env), fresh_plain_row, False, "<= 3"),
        (cold_row, app_with_cookies, Cold(full_env), None, False, ""),
        (cold_pf_row, proxyfix, Cold(full_env), cold_row, False, ""),
        ("  wsgifix full default stack, caches cold", full, Cold(full_env),
         cold_row, False, ""),
    ]  # fmt: skip
    # Every row is measured once per round, the rows in another order each
    # round, so that a noisy moment touches all rows alike; a row's ratio is
    # the median of its per-round ratios.
    times: dict[str, list[float]] = {case[0]: [] for case in cases}
    for r in range(rounds):
        turn = cases[r % len(cases) :] + cases[: r % len(cases)]
        for name, app, requests, _, once, _ in turn:
            if once:
                envs = [env.copy() for env in requests[r * n : (r + 1) * n]]
            elif isinstance(requests, Fresh):
                times[name].append(requests.timed(app, n))
                continue
            else:
                models = requests if isinstance(requests, list) else [requests]
                envs = [models[i % len(models)].copy() for i in range(n)]
            times[name].append(timed(app, envs))

    def overhead(name: str) -> list[float]:
        base = next(case[3] for case in cases if case[0] == name)
        if base is None:
            return times[name]
        return [max(t - b, 1.0) for t, b in zip(times[name], times[base], strict=True)]

    pf = overhead("werkzeug ProxyFix, 5 headers")
    floor = overhead(floor_row)
    python = sys.version.split()[0]
    print(
        f"n={n} x {rounds} rounds, rows interleaved; medians; Python {python}; "
        f"wsgifix {wsgifix.build_name()}"
    )
    print(f"{'stack':<52} {'ns':>10} {'x ProxyFix':>11} {'target':>8}")
    for name, _, _, base, _, target in cases:
        if base is None and name != bare_row:
            continue  # a base for other rows
        ns = statistics.median(overhead(name))
        against = pf
        if name == idle_row:
            against = floor
        elif name == fresh_idle_row:
            against = overhead(fresh_floor_row)
        elif base == fresh_row:
            against = overhead(fresh_pf_row)
        elif base == cold_row:
            against = overhead(cold_pf_row)
        ratio = ""
        if base is not None:
            pairs = zip(overhead(name), against, strict=True)
            ratio = f"{statistics.median(o / p for o, p in pairs):.2f}"
        print(f"{name:<52} {ns:>10.0f} {ratio:>11} {target:>8}")

    bare = statistics.median(times[bare_row])

    def over(app: Any, env: dict[str, str]) -> float:
        return max(measure(app, env, n, rounds) - bare, 1.0)

    print()
    print("hostile X-Forwarded-For (wsgifix proxy layer, overhead vs 2 entries):")
    print(f"{'entries':>8} {'wsgifix ns':>11} {'ratio':>7} {'ProxyFix ns':>12}")
    base2 = None
    for entries in (2, 1000, 10000):
        env = {**full_env, "HTTP_X_FORWARDED_FOR": xff(entries)}
        cost = over(proxy_only, env)
        # ProxyFix costs milliseconds here: fewer calls give the same median.
        fix = max(measure(proxyfix, env, max(n // 50, 20), 3) - bare, 1.0)
        base2 = base2 or cost
        print(f"{entries:>8} {cost:>11.0f} {cost / base2:>7.2f} {fix:>12.0f}")

    print()
    print(cookie_table(n, rounds))
    return 0


def cookie_table(n: int, rounds: int) -> str:
    """Per Set-Cookie header: first sight, seen before, and 1 to 50 headers.

    The cookie layer alone (default settings, races on; the request carries
    no cookie) over an app answering from prepared header lists; a header
    costs the layer's time minus that for a response without Set-Cookie,
    divided by the number of headers. First sight: every header has an
    attribute string never seen before (no Domain, so no public-suffix
    lookup). Seen before: the attributes repeat, the values never do.
    """
    env = {**BASE, **BROWSER_HEADERS, "wsgi.url_scheme": "https"}
    del env["HTTP_COOKIE"]
    plain = [("Content-Type", "text/plain")]

    def cost(batches: list[list[tuple[str, str]]], calls: int) -> float:
        layer = wsgifix.CookieMiddleware(header_app(batches))
        bare = measure(header_app(batches), env, calls, rounds)
        return measure(layer, env, calls, rounds) - bare

    floor = cost([plain], n)
    lines = ["Set-Cookie audit, cookie layer alone (ns per header over a response "]
    lines[0] += "without Set-Cookie):"
    lines.append(f"{'case':<44} {'ns/header':>10} {'target':>8}")
    fresh = max(n // 5, 100)
    batches = [
        [*plain, ("Set-Cookie", f"id={i}; Path=/p{i}; HttpOnly; Secure")]
        for i in range(fresh * rounds + 10)
    ]
    first = cost(batches, fresh) - floor
    lines.append(
        f"{'first sight (new attribute string)':<44} {first:>10.0f} {'<= 2000':>8}"
    )
    for count in (1, 2, 10, 50):
        batches = [
            [
                *plain,
                *(
                    (
                        "Set-Cookie",
                        f"c{k}=v{i}x{k}; Path=/; HttpOnly; Secure; SameSite=Lax",
                    )
                    for k in range(count)
                ),
            ]
            for i in range(97)
        ]
        per = (cost(batches, n) - floor) / count
        label = f"seen before, {count} per response"
        lines.append(f"{label:<44} {per:>10.0f} {'<= 400':>8}")
    # A server-side session in a signed cookie (Flask's default) is often
    # 1 to 4 KB: its value is read on every response for controls.
    for size in (1000, 4000):
        batches = [
            [
                *plain,
                (
                    "Set-Cookie",
                    f"session={i:04}{'x' * (size - 4)}; Path=/; HttpOnly; Secure; "
                    "SameSite=Lax",
                ),
            ]
            for i in range(97)
        ]
        per = cost(batches, n) - floor
        label = f"seen before, 1 per response, {size:,}-byte value"
        lines.append(f"{label:<44} {per:>10.0f} {'<= 400':>8}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
