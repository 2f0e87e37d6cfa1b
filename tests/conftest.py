"""Shared fixtures: real servers started as subprocesses on free ports."""

from __future__ import annotations

import os
import re
import selectors
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

# Property tests hold no time limit per example: tests make no timing
# assertions (a pause of a shared CI machine would fail one; speed lives
# in benchmarks/). Tests that set their own settings inherit this.
settings.register_profile("wsgifix", deadline=None)
settings.load_profile("wsgifix")


def load_benchmark(name: str) -> Any:
    """The module benchmarks/NAME.py (the scripts are not a package); one
    that imports a sibling needs benchmarks/ on sys.path first."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        name, ROOT / "benchmarks" / f"{name}.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_wsgi(app: Any, environ: dict[str, Any]) -> tuple[str, list[Any], bytes]:
    """Call a WSGI app in process as a server would: the status and headers
    of the last start_response call (PEP 3333: an exc_info call replaces
    the earlier ones), the joined body, ``close()`` called."""
    started: list[tuple[str, list[Any]]] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        started.append((status, list(headers)))
        return lambda data: None

    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    status, headers = started[-1]
    return status, headers, body


ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
BIN = Path(sys.executable).parent
_SERVING = re.compile(r"Serving on http://127\.0\.0\.1:(\d+)")


class Server:
    """A server subprocess and the port it reported."""

    def __init__(self, proc: subprocess.Popen[str], port: int, output: str) -> None:
        self.proc = proc
        self.port = port
        self.output = output
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> str:
        """TERM the process and return what it printed after start-up."""
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            rest, _ = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rest, _ = self.proc.communicate()
        return rest or ""


def start_server(
    argv: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 15.0,
) -> Server:
    """Start ``argv`` and wait for waitress's ``Serving on`` line (port 0)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("WSGIFIX_")}
    full_env["PATH"] = f"{BIN}{os.pathsep}{full_env.get('PATH', '')}"
    full_env["PYTHONUNBUFFERED"] = "1"
    full_env.update(env or {})
    proc = subprocess.Popen(
        list(argv),
        cwd=cwd,
        env=full_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not selector.select(timeout=deadline - time.monotonic()):
            break
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        match = _SERVING.search(line)
        if match:
            selector.close()
            return Server(proc, int(match.group(1)), "".join(seen))
    selector.close()
    proc.kill()
    rest, _ = proc.communicate()
    raise AssertionError(
        f"{argv!r} did not report a port; output:\n{''.join(seen)}{rest}"
    )


@pytest.fixture
def server_factory() -> Iterator[type[Server] | object]:
    """Start servers with ``server_factory(argv, ...)``; all stopped after."""
    started: list[Server] = []

    def factory(argv: Sequence[str], **kwargs: object) -> Server:
        server = start_server(argv, **kwargs)  # type: ignore[arg-type]
        started.append(server)
        return server

    yield factory
    for server in started:
        server.stop()


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Against a compiled build (``COMPILE_WSGIFIX=1``), leave out the tests
    marked ``python_seams``: they replace a module's function or a method
    to observe the pure-Python build from inside, and compiled modules
    call their own functions directly. The pure-Python run covers them."""
    import wsgifix

    if not wsgifix.compiled():
        return
    kept = [item for item in items if item.get_closest_marker("python_seams") is None]
    if len(kept) < len(items):
        config.hook.pytest_deselected(
            items=[item for item in items if item not in kept]
        )
        items[:] = kept


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Under E2E_REQUIRED=1 (CI) a skipped test is a failure: CI cannot pass
    by skipping the real-server tests because a binary is missing."""
    outcome = yield
    report = outcome.get_result()
    skipped = report.skipped and not hasattr(report, "wasxfail")
    if skipped and os.environ.get("E2E_REQUIRED") == "1":
        report.outcome = "failed"
        report.longrepr = f"skipped under E2E_REQUIRED=1: {report.longrepr}"


def require_binary(path: str) -> str:
    """The binary's path, or a skip naming it (a failure under E2E_REQUIRED=1)."""
    import shutil

    found = shutil.which(path)
    if found is None:
        pytest.skip(f"{path} is not installed (apt-get install it; CI does)")
    return found
