"""Fuzz target for wsgifix.setcookie and the Set-Cookie audit (atheris).

    pip install atheris
    python benchmarks/fuzz_setcookie.py -max_total_time=60     # libFuzzer flags
    python benchmarks/fuzz_setcookie.py --plain 60             # no atheris

Each input becomes one Set-Cookie header value as an app might send it
(odd bytes read as latin-1, even ones as UTF-8 with surrogate escapes, so
text outside latin-1 occurs too). Checked for every input:

* :meth:`SetCookie.parse` never raises (no exception at all escapes: the
  parser has no error to report); ``str()`` and an edit without changes
  give the input back exactly (round trip), with and without a
  :class:`ParseCache`;
* the spans tile the header: leading whitespace, the name-value pair, then
  each attribute's ``raw[start:end]`` in order, up to the last character;
* a few edits chosen from the input (add, remove, replace a value, drop
  earlier duplicates) raise only ``ValueError`` for text the editor must
  refuse (``;``, controls, non-latin-1, outer whitespace) and ``KeyError``
  for a value replaced on an attribute that is absent; the rendered header
  keeps every byte up to the end of the pair and parses back to the same
  name and value;
* the whole audit (:class:`wsgifix.CookieMiddleware`, fix policy, over http
  and https) keeps those bytes too and never needs its safety net (the
  ``audit failed`` log line).

benchmarks/soak.py runs this for a bounded time; tests/test_robustness.py
feeds ``TestOneInput`` random bytes with hypothesis in every CI run.
"""

from __future__ import annotations

import logging
import random
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from wsgifix.cookies import CookieMiddleware
from wsgifix.setcookie import ParseCache, SetCookie

_WSP = " \t"
_NAMES = ["Path", "Domain", "Secure", "HttpOnly", "SameSite", "Partitioned", "x-y"]
_VALUES = ["/", "/app", "example.com", "Lax", "None", "", "a;b", " x", "\x00", "é"]
_CACHE = ParseCache()


class _Failures(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if "audit failed" in record.getMessage():
            self.messages.append(record.getMessage())


_failures = _Failures()


def _refused(text: str, *, name: bool = False) -> bool:
    """Whether the editor must refuse ``text`` (CookieEditor's docstring)."""
    if any(c == ";" or c < " " or c == "\x7f" or c > "\xff" for c in text):
        return True
    if text != text.strip(_WSP):
        return True
    return name and (not text or "=" in text)


def check_parse(header: str) -> SetCookie:
    cookie = SetCookie.parse(header)
    assert str(cookie) == header
    assert cookie.edit().render() is header
    cached = SetCookie.parse(header, _CACHE)
    assert cached.attributes == cookie.attributes, header
    assert (cached.name, cached.value) == (cookie.name, cookie.value)
    # The spans tile the header.
    assert not header[: cookie.pair_start].strip(_WSP), header
    assert header[cookie.pair_start : cookie.pair_end] == cookie.pair
    pos = cookie.pair_end
    for attribute in cookie.attributes:
        assert attribute.start == pos, (header, attribute)
        pos = attribute.end
    if cookie.attributes:
        assert pos == len(header), header
    else:
        assert not header[pos:].strip(_WSP), header
    pair = header.split(";", 1)[0]
    if cookie.nameless:
        assert "=" not in pair
        assert cookie.value == pair.strip(_WSP)
    else:
        name, _, value = pair.partition("=")
        assert (cookie.name, cookie.value) == (name.strip(_WSP), value.strip(_WSP))
    return cookie


def check_edits(cookie: SetCookie, rng: random.Random) -> None:
    header = cookie.raw
    editor = cookie.edit()
    for _ in range(rng.randrange(0, 5)):
        op = rng.randrange(4)
        name = rng.choice([*_NAMES, *(a.name for a in cookie.attributes)])
        value = rng.choice([*_VALUES, header[: rng.randrange(0, 8)]])
        flag = op == 0 and rng.random() < 0.3
        try:
            if op == 0:
                editor.add(name, None if flag else value)
            elif op == 1:
                editor.remove(name.lower())
            elif op == 2:
                editor.replace_value(name.lower(), value)
            else:
                editor.remove_earlier_duplicates(name.lower())
        except ValueError:
            refused = _refused(value) and not flag
            if op == 0:
                refused = refused or _refused(name, name=True)
            assert op in (0, 2), (header, op)
            assert refused, (header, op, name, value)
        except KeyError:
            assert op == 2, (header, op)
    rendered = editor.render()
    assert rendered[: cookie.pair_end] == header[: cookie.pair_end], (header, rendered)
    again = SetCookie.parse(rendered)
    assert (again.name, again.value, again.nameless) == (
        cookie.name,
        cookie.value,
        cookie.nameless,
    ), (header, rendered)
    assert str(again) == rendered


def _app(header: str) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response(
            "200 OK", [("Content-Type", "text/plain"), ("Set-Cookie", header)]
        )
        return [b""]

    return app


_HTTP = {
    "REQUEST_METHOD": "GET",
    "SCRIPT_NAME": "/app",
    "PATH_INFO": "/x",
    "SERVER_NAME": "shop.example.com",
    "SERVER_PORT": "80",
    "HTTP_HOST": "shop.example.com",
    "HTTP_COOKIE": "sid=old",
    "wsgi.url_scheme": "http",
}
_HTTPS = {**_HTTP, "wsgi.url_scheme": "https", "HTTPS": "on", "SERVER_PORT": "443"}


def check_audit(cookie: SetCookie) -> None:
    logger = logging.getLogger("wsgifix.cookies")
    logger.addHandler(_failures)
    try:
        _audit_twice(cookie)
    finally:
        logger.removeHandler(_failures)


def _audit_twice(cookie: SetCookie) -> None:
    for environ in (_HTTP, _HTTPS):
        sent: list[list[tuple[str, str]]] = []

        def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
            sent.append(headers)  # noqa: B023 - called before the loop moves on

        layer = CookieMiddleware(_app(cookie.raw), cookie_path="scope")
        layer(dict(environ), start_response)
        (name, value) = sent[0][1]
        assert name == "Set-Cookie"
        assert value[: cookie.pair_end] == cookie.raw[: cookie.pair_end], value
        assert not _failures.messages, _failures.messages


def TestOneInput(data: bytes) -> None:  # atheris's name
    if data[:1] and data[0] % 2:
        header = data[1:].decode("latin-1")
    else:
        header = data[1:].decode("utf-8", "surrogateescape")
    cookie = check_parse(header)
    check_edits(cookie, random.Random(data))
    check_audit(cookie)


SEEDS = [
    b"\x01sid=abc; Path=/; Secure; HttpOnly; SameSite=Lax",
    b"\x01__Host-id=1; Path=/; Secure; Partitioned",
    b"\x01a=b; Domain=.example.com; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
    b'\x01 q = "x; y" ;; Priority=High ; samesite=none  ',
    b"\x00nameless; path=",
    "\x00caf\u00e9=\u2603; Domain=\u00fcber.example".encode(),
]


def main(argv: list[str]) -> int:
    from fuzz_forwarded import fuzz, plain_loop

    # Findings are not what this run is about: keep them off stderr.
    logging.getLogger("wsgifix").addHandler(logging.NullHandler())
    logging.getLogger("wsgifix").propagate = False

    if len(argv) >= 2 and argv[1] == "--plain":
        seconds = float(argv[2]) if len(argv) > 2 else 10.0
        return plain_loop(TestOneInput, SEEDS, seconds)
    return fuzz(argv, TestOneInput, SEEDS)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
