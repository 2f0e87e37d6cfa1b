"""WSGI apps for the robustness tests, served by real waitress subprocesses
(``wsgifix serve robust_app:echo_app``, or bare ``waitress-serve
robust_app:echo_app`` for comparison) and called in process.

``echo_app`` (tests/test_load.py, benchmarks/soak.py): every request is
answered with JSON holding the request id it got (``X-Request-Id``), the
environ values it saw (:data:`ECHO_KEYS`) and the findings the cookie layer
made on its own response. It sets one cookie per name the request carried
in ``Cookie`` (value ``out-<id>``, attributes from ``?c=<variant>``, see
:data:`VARIANTS`), so that each request writes its own entries into the
race table and its own ``(rule, cookie)`` keys into the log de-duplication.
``/__sizes`` answers the sizes of every bounded table of the wsgifix stack
serving it (found by walking ``.app`` from the outermost layer), the
server's RSS and its thread count.

``fault_app`` (tests/test_robustness.py): one route per way an app can
misbehave (``/raise-before``, ``/raise-after``, ``/exc-info``,
``/exc-info-late``, ``/gen-raises``, ``/close-body``, ``/file-wrapper``,
``/write``, ``/stream``). Bodies that have ``close()`` record how often it
was called in :data:`EVENTS` under the request's ``X-Request-Id``;
``/__events?id=ID`` returns that record as JSON, so a test can ask a
server subprocess whether close() was called exactly once.
"""

from __future__ import annotations

import gc
import io
import json
import sys
import threading
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import parse_qs

import wsgifix.forwarded
from wsgifix.cookies import CookieMiddleware
from wsgifix.prefix import PrefixMiddleware
from wsgifix.proxy import ProxyMiddleware

#: The environ values the echo reports (None when absent).
ECHO_KEYS = (
    "REMOTE_ADDR",
    "REMOTE_PORT",
    "wsgi.url_scheme",
    "HTTPS",
    "HTTP_HOST",
    "SERVER_NAME",
    "SERVER_PORT",
    "SCRIPT_NAME",
    "PATH_INFO",
    "QUERY_STRING",
    "HTTP_X_REQUEST_ID",
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_X_FORWARDED_PREFIX",
    "HTTP_X_FORWARDED_BY",
    "HTTP_FORWARDED",
    "HTTP_COOKIE",
)

#: ``?c=`` -> the attributes of every cookie the echo sets.
VARIANTS = {
    "plain": "",
    "path": "; Path=/",
    "secure": "; Path=/; Secure; HttpOnly",
    "none": "; Path=/; SameSite=None",
    "domain": "; Path=/; Domain=example.com",
    "wrong-domain": "; Domain=other.test; Path=/x",
    "priority": "; Path=/; Priority=High; Partitioned; SameSite=Lax",
}

_MIDDLEWARES = (ProxyMiddleware, PrefixMiddleware, CookieMiddleware)


# -- echo ------------------------------------------------------------------------


def echo_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    path: str = environ.get("PATH_INFO", "")
    if path.endswith("/__sizes"):
        return _json(start_response, sizes(echo_app))
    query = parse_qs(environ.get("QUERY_STRING", ""))
    attributes = VARIANTS.get(query.get("c", ["plain"])[0], "")
    rid = environ.get("HTTP_X_REQUEST_ID", "")
    headers = [("Content-Type", "application/json")]
    for part in environ.get("HTTP_COOKIE", "").split(";"):
        name, eq, _ = part.strip().partition("=")
        if eq and name:
            headers.append(("Set-Cookie", f"{name}=out-{rid}{attributes}"))
    start_response("200 OK", headers)
    # Findings are made in start_response: read them only now.
    seen = {key: environ.get(key) for key in ECHO_KEYS}
    found = environ.get("wsgifix.findings", [])
    seen["findings"] = [[f.rule, f.cookie, f.fixed] for f in found]
    return [json.dumps(seen, sort_keys=True).encode()]


def _json(start_response: Any, data: Any) -> list[bytes]:
    body = json.dumps(data, sort_keys=True).encode()
    start_response(
        "200 OK",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]


def find_stack(app: Any) -> list[Any]:
    """The wsgifix layers serving ``app``, outermost first ([] when bare).

    The server built the stack, so the app finds it from the other end:
    every wsgifix middleware object in the process, kept if walking its
    ``.app`` attributes reaches ``app``; the outermost is the one that is
    no other's ``.app``.
    """
    layers = [
        obj
        for obj in gc.get_objects()
        if isinstance(obj, _MIDDLEWARES) and _reaches(obj, app)
    ]
    inner = {id(getattr(obj, "app", None)) for obj in layers}
    tops = [obj for obj in layers if id(obj) not in inner]
    if not tops:
        return []
    stack = [tops[0]]
    while getattr(stack[-1], "app", app) is not app:
        stack.append(stack[-1].app)
    return stack


def _reaches(obj: Any, app: Any) -> bool:
    for _ in range(16):
        obj = getattr(obj, "app", None)
        if obj is app:
            return True
        if obj is None:
            return False
    return False


_stacks: dict[int, list[Any]] = {}


def sizes(app: Any) -> dict[str, Any]:
    """Lengths of the stack's bounded tables, RSS (kB) and thread count."""
    stack = _stacks.get(id(app))
    if stack is None:
        stack = _stacks[id(app)] = find_stack(app)
    out: dict[str, Any] = {
        "layers": [type(layer).__name__ for layer in stack],
        "rss_kb": rss_kb(),
        "threads": threading.active_count(),
    }
    for layer in stack:
        if isinstance(layer, ProxyMiddleware):
            out["proxy_log"] = len(layer._logged)
            out["proxy_memo"] = len(layer._memo)
            out["proxy_shapes"] = len(layer._shapes)
            out["proxy_host_shapes"] = len(layer._host_shapes)
            out["proxy_quiet"] = len(layer._quiet_cache)
            out["proxy_hosts"] = len(layer._host_cache)
        elif isinstance(layer, CookieMiddleware):
            out["races"] = None if layer.races is None else len(layer.races)
            out["races_flying"] = None if layer.races is None else layer.races.in_flight
            out["cookie_log"] = len(layer._logged)
            out["verdicts"] = len(layer.verdicts)
            out["responses"] = len(layer.responses)
            out["recent"] = len(layer.recent)
            out["counts"] = dict(layer.counts)
    for name in dir(wsgifix.forwarded):
        info = getattr(getattr(wsgifix.forwarded, name), "cache_info", None)
        if info is not None:
            out[f"lru{name}"] = info().currsize
    return out


def rss_kb() -> int:
    """This process's resident set size in kB (Linux), else 0."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:  # pragma: no cover - not Linux
        pass
    return 0


# -- faults ----------------------------------------------------------------------

#: request id -> {"close": calls, "chunks": chunks produced}
EVENTS: dict[str, dict[str, int]] = {}
_events_lock = threading.Lock()

TEXT = [("Content-Type", "text/plain")]
# A cookie no rule changes over http: the response bytes are the same with
# and without wsgifix.
CLEAN_COOKIE = ("Set-Cookie", "f=1; Path=/; HttpOnly; SameSite=Lax")
FILE_BYTES = bytes(range(256)) * 40
STREAM_CHUNK = b"x" * 65536


def record(rid: str, event: str, count: int = 1) -> None:
    with _events_lock:
        entry = EVENTS.setdefault(rid, {"close": 0, "chunks": 0})
        entry[event] += count


class ClosingBody:
    """An iterable whose close() counts its calls under a request id."""

    def __init__(self, rid: str, chunks: Iterable[bytes]) -> None:
        self.rid = rid
        self.chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            record(self.rid, "chunks")
            yield chunk

    def close(self) -> None:
        record(self.rid, "close")


class ClosingFile(io.BytesIO):
    """A file for wsgi.file_wrapper whose close() counts its calls."""

    def __init__(self, rid: str, data: bytes) -> None:
        super().__init__(data)
        self.rid = rid

    def close(self) -> None:
        record(self.rid, "close")
        super().close()


class Boom(RuntimeError):
    """The app's own failure (tests tell it from anything else)."""


def _failing(rid: str) -> Iterator[bytes]:
    yield b"first part, "
    record(rid, "chunks")
    raise Boom("mid-stream")


def _stream(rid: str, count: int) -> Iterator[bytes]:
    for _ in range(count):
        yield STREAM_CHUNK


def fault_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    path: str = environ.get("PATH_INFO", "")
    rid: str = environ.get("HTTP_X_REQUEST_ID", "")
    headers = [*TEXT, CLEAN_COOKIE]
    if path == "/__events":
        wanted = parse_qs(environ.get("QUERY_STRING", "")).get("id", [""])[0]
        with _events_lock:
            return _json(start_response, EVENTS.get(wanted))
    if path == "/raise-before":
        raise Boom("before start_response")
    if path == "/raise-after":
        start_response("200 OK", headers)
        raise Boom("after start_response, before the body")
    if path == "/exc-info":
        # PEP 3333: before any byte is sent, exc_info lets the app replace
        # the headers (here: an error page instead of the 200).
        start_response("200 OK", headers)
        try:
            raise Boom("replaced")
        except Boom:
            start_response(
                "500 Internal Server Error",
                [*TEXT, ("Set-Cookie", "f=; Max-Age=0; Path=/")],
                sys.exc_info(),
            )
        return ClosingBody(rid, [b"error page\n"])
    if path == "/exc-info-late":
        return ClosingBody(rid, _late_exc_info(start_response, headers))
    if path == "/gen-raises":
        start_response("200 OK", headers)
        return ClosingBody(rid, _failing(rid))
    if path == "/close-body":
        start_response("200 OK", headers)
        return ClosingBody(rid, [b"one, ", b"two, ", b"three\n"])
    if path == "/file-wrapper":
        start_response("200 OK", [*headers, ("Content-Length", str(len(FILE_BYTES)))])
        wrapper = environ["wsgi.file_wrapper"]
        result: Iterable[bytes] = wrapper(ClosingFile(rid, FILE_BYTES), 4096)
        return result
    if path == "/write":
        write = start_response("200 OK", headers)
        write(b"written, ")
        write(b"by write()")
        return ClosingBody(rid, [b", then returned\n"])
    if path == "/stream":
        # A large body produced lazily: the client may leave at any point.
        count = int(parse_qs(environ.get("QUERY_STRING", "")).get("n", ["64"])[0])
        start_response("200 OK", headers)
        return ClosingBody(rid, _stream(rid, count))
    if path == "/bad-header":  # the server refuses it, with or without wsgifix
        start_response("200 OK", [*TEXT, None])
        return [b"never sent\n"]
    if path == "/bytes-cookie":  # a Set-Cookie value that is not str: the same
        start_response("200 OK", [*TEXT, ("Set-Cookie", b"a=b")])
        return [b"never sent\n"]
    start_response("404 Not Found", TEXT)
    return [b"no such fault\n"]


def _late_exc_info(start_response: Any, headers: list[tuple[str, str]]) -> Any:
    """Headers and a first chunk go out, then the app reports an error with
    exc_info: the server must re-raise it (PEP 3333), ending the response."""
    start_response("200 OK", headers)
    yield b"sent before the error, "
    try:
        raise Boom("too late")
    except Boom:
        start_response("500 Internal Server Error", TEXT, sys.exc_info())
    yield b"never sent"  # pragma: no cover - start_response re-raised
