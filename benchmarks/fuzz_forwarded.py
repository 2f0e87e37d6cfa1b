"""Fuzz target for wsgifix.forwarded's parsers (atheris, coverage-guided).

    pip install atheris
    python benchmarks/fuzz_forwarded.py -max_total_time=60   # libFuzzer flags
    python benchmarks/fuzz_forwarded.py --plain 60           # without atheris

Every input is read as header text (bytes decoded as latin-1, as a WSGI
server does) and given to each parser: :func:`parse_forwarded`,
:func:`parse_host`, :func:`parse_xff_item`, :func:`parse_node`,
:func:`normalize_prefix`, :func:`iter_from_right` and
:func:`nth_from_right`. Only :class:`HeaderError` may escape a parser, and
what they return must hold up:

* ``parse_forwarded``: the elements, rendered back to header text the way
  the proxy layer cuts an honoured header, parse to the same elements
  (round trip exact);
* ``parse_host``: a lower-case host and a port 1-65535; ``host:port``
  parses back to the same pair;
* ``parse_xff_item``/``parse_node``: an IP address (or None) and a port
  1-65535 (or None);
* ``normalize_prefix``: empty or ``/``-led, never ``//``-led, no trailing
  ``/``, no ``.``/``..`` segments;
* the list walkers agree with a plain ``split(",")``.

benchmarks/soak.py runs this for a bounded time; tests/test_robustness.py
feeds ``TestOneInput`` random bytes with hypothesis in every CI run. A
failing input makes libFuzzer write ``crash-<sha1>`` and exit non-zero.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from wsgifix.forwarded import (
    HeaderError,
    is_ip,
    iter_from_right,
    normalize_prefix,
    nth_from_right,
    parse_forwarded,
    parse_host,
    parse_node,
    parse_xff_item,
)
from wsgifix.proxy import _render_forwarded

_OWS = " \t"


def _check_node(node: object, text: str) -> None:
    ip, port = node  # type: ignore[misc]
    assert ip is None or is_ip(ip), (text, node)
    assert port is None or (port.isdigit() and 0 < int(port) < 65536), (text, node)
    assert ip is not None or port is None, (text, node)


def check_forwarded(text: str) -> None:
    try:
        elements = parse_forwarded(text)
    except HeaderError:
        return
    for element in elements:
        assert element, (text, elements)
        for name in element:
            assert name == name.lower(), (text, name)
    rendered = _render_forwarded(elements)
    assert parse_forwarded(rendered) == elements, (text, rendered)


def check_host(text: str) -> None:
    try:
        host, port = parse_host(text)
    except HeaderError:
        return
    assert host, text
    assert host == host.lower(), (text, host)
    assert port is None or 0 < port < 65536, (text, port)
    shown = host if port is None else f"{host}:{port}"
    assert parse_host(shown) == (host, port), (text, shown)


def check_prefix(text: str) -> None:
    try:
        prefix = normalize_prefix(text)
    except HeaderError:
        return
    if prefix:
        assert prefix.startswith("/"), (text, prefix)
        assert not prefix.startswith("//"), (text, prefix)
        assert not prefix.endswith("/"), (text, prefix)
        segments = prefix.split("/")[1:]
        assert all(s and s not in (".", "..") for s in segments), (text, prefix)


def check_lists(text: str, n: int) -> None:
    expected = [item.strip(_OWS) for item in reversed(text.split(","))]
    expected = [item for item in expected if item]
    assert list(iter_from_right(text)) == expected, text
    found = nth_from_right(text, n)
    if expected:
        assert found == expected[min(n, len(expected)) - 1], (text, n, found)
    else:
        assert found is None, (text, found)


def TestOneInput(data: bytes) -> None:  # atheris's name
    text = data.decode("latin-1")
    check_forwarded(text)
    check_host(text)
    for parse in (parse_xff_item, parse_node):
        try:
            node = parse(text)
        except HeaderError:
            continue
        _check_node(node, text)
    check_prefix(text)
    check_lists(text, 1 + (data[0] % 70 if data else 0))


SEEDS = [
    b"for=192.0.2.60;proto=http;by=203.0.113.43",
    b'for="[2001:db8:cafe::17]:4711", for=unknown;host=example.com',
    b'for="_gazonk";host="a\\"b"',
    b"203.0.113.9, 10.0.0.1:80, [::1]:443",
    b"Example.COM.:8443",
    b"[::ffff:10.0.0.1]",
    b"/app/%2e%2e/./x//y/",
    b"//evil.example",
]


def plain_loop(target: Any, seeds: list[bytes], seconds: float) -> int:
    """Without atheris: random bytes and mutated seeds for ``seconds``."""
    import random

    rng = random.Random(int.from_bytes(os.urandom(8), "big"))
    runs = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if rng.random() < 0.5:
            data = rng.randbytes(rng.randrange(0, 200))
        else:
            mutated = bytearray(rng.choice(seeds))
            for _ in range(rng.randrange(1, 6)):
                pos = rng.randrange(0, len(mutated) + 1)
                mutated[pos:pos] = rng.randbytes(rng.randrange(1, 4))
            data = bytes(mutated)
        try:
            target(data)
        except Exception:
            print(f"failing input: {data!r}", file=sys.stderr)
            raise
        runs += 1
    print(f"plain fuzzing: {runs} inputs in {seconds:.0f} s, no failure")
    return 0


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[1] == "--plain":
        seconds = float(argv[2]) if len(argv) > 2 else 10.0
        return plain_loop(TestOneInput, SEEDS, seconds)
    return fuzz(argv, TestOneInput, SEEDS)


def fuzz(argv: list[str], target: Any, seeds: list[bytes]) -> int:
    """Run ``target`` under atheris; without a corpus directory among the
    arguments, start from ``seeds`` in a temporary one."""
    import tempfile

    import atheris

    atheris.instrument_all()  # coverage of wsgifix, already imported
    with tempfile.TemporaryDirectory(prefix="wsgifix-fuzz-") as corpus:
        if not any(not arg.startswith("-") for arg in argv[1:]):
            for i, seed in enumerate(seeds):
                Path(corpus, f"seed-{i}").write_bytes(seed)
            argv = [*argv, corpus]
        atheris.Setup(argv, target)
        atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
