"""The project's own promises: README commands, CI script, packaging."""

from __future__ import annotations

import ast
import configparser
import os
import re

import pytest
from conftest import ROOT, load_benchmark

import wsgifix


def readme_commands() -> list[str]:
    text = (ROOT / "README.rst").read_text()
    return re.findall(r"^    (python3 -m venv .*)$", text, flags=re.MULTILINE)[:2]


def test_readme_opens_with_run_and_test_commands() -> None:
    run, test = readme_commands()
    assert run.endswith("wsgifix serve")
    assert test.endswith("pytest")


def test_ci_runs_the_readme_test_command() -> None:
    _, test = readme_commands()
    ci = (ROOT / ".ci" / "run").read_text()
    assert f"\n{test}\n" in ci
    assert "E2E_REQUIRED=1" in ci
    assert "DEBIAN_FRONTEND=noninteractive" in ci


def test_entry_points() -> None:
    # CONTRACT.md section 1.
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    points = cfg["options.entry_points"]
    assert points["console_scripts"].split() == ["wsgifix", "=", "wsgifix.cli:main"]
    filters = dict(
        line.replace(" ", "").split("=")
        for line in points["paste.filter_factory"].strip().splitlines()
    )
    assert filters == {
        "main": "wsgifix.paste:filter_factory",
        "proxy": "wsgifix.paste:proxy_filter_factory",
        "prefix": "wsgifix.paste:prefix_filter_factory",
        "cookies": "wsgifix.paste:cookies_filter_factory",
    }


def test_readme_settings_table_lists_each_setting_once_with_its_default() -> None:
    from wsgifix import config

    text = (ROOT / "README.rst").read_text()
    table = text[
        text.index("\nSettings\n") : text.index("\nWhat the proxy layer changes\n")
    ]
    for name, setting in config.SETTINGS.items():
        rows = [line for line in table.splitlines() if line.startswith(f"``{name}``")]
        assert len(rows) == 1, name
        default = setting.default
        if default:
            assert f"``{default}``" in rows[0], name
        else:
            assert "empty" in rows[0], name


def test_setup_py_compiles_the_request_path_modules() -> None:
    # setup.py's list (what COMPILE_WSGIFIX=1 compiles) and wsgifix.compiled()'s.
    tree = ast.parse((ROOT / "setup.py").read_text())
    (listed,) = [
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign)
        and [getattr(t, "id", None) for t in node.targets] == ["COMPILED"]
    ]
    assert listed == [f"wsgifix/{name}.py" for name in wsgifix._REQUEST_PATH]


def test_the_build_under_test_is_the_one_ci_asked_for() -> None:
    # .ci/run runs the suite twice: pure Python, then with COMPILE_WSGIFIX=1
    # against a compiled build in place (a failed compile must not pass as a
    # second pure-Python run). The variable has no WSGIFIX_ prefix: those
    # are settings, and an unknown one is an error (CONTRACT.md 7).
    expected = os.environ.get("COMPILE_WSGIFIX", "") not in ("", "0")
    assert wsgifix.compiled() is expected, (
        "COMPILE_WSGIFIX says which build to test: set it to 1 for a compiled "
        "build in place (python setup.py build_ext --inplace), unset for pure "
        "Python (delete wsgifix/*.so)"
    )
    # The compiled build's one module in C (wsgifix/_plain.c) is built and
    # found with the others; the pure build reads text Python's ways.
    from wsgifix import rules

    assert (rules._SCAN is not None) is expected


def test_the_profile_training_runs() -> None:
    # setup.py trains the compiled build on it (python -m wsgifix._training)
    # and falls back to a build without a profile when it fails: run here,
    # a short one, so that a change that breaks it fails a test too.
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "wsgifix._training", "400"],
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
        timeout=300,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"trained: wsgifix {wsgifix.build_name()}"


def _benchmark(script: str, *args: str) -> str:
    """A smoke run of one of benchmarks/ (no timing assertions: those live
    in the scripts); what it printed."""
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args],
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_benchmark_smoke_run() -> None:
    printed = _benchmark("overhead.py", "--quick")
    assert "werkzeug ProxyFix, 5 headers" in printed
    assert "hostile X-Forwarded-For" in printed
    assert "seen before, 50 per response" in printed


def test_throughput_smoke_run() -> None:
    # Real waitress servers, the paired --other stack included.
    printed = _benchmark("throughput.py", "--quick", "--other", str(ROOT))
    assert "wsgifix, --other" in printed
    assert "minus 'wsgifix, --other'" in printed


def test_cachesim_smoke_run() -> None:
    # Real valgrind children; the rows' counts are read from its summaries.
    from conftest import require_binary

    require_binary("valgrind")
    printed = _benchmark("cachesim.py", "--quick")
    rows = {}
    for line in printed.splitlines():
        label, _, numbers = line.partition("  ")
        if label in (
            "bare app (absolute)",
            "wsgifix full default stack, 2 cookies fixed",
        ):
            rows[label] = [
                float(n.strip("+").replace(",", "")) for n in numbers.split()
            ]
    assert len(rows) == 2, printed
    assert all(n > 0 for n in rows["bare app (absolute)"]), printed
    # instructions, x ProxyFix, code lines, data lines, lines, x ProxyFix
    assert len(rows["wsgifix full default stack, 2 cookies fixed"]) == 6, printed


def test_cachesim_reads_callgrinds_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))  # (restored after)
    module = load_benchmark("cachesim")
    stderr = (
        "==31124== Events    : Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw\n"
        "==31124== Collected : 151700 41400 27000 5614 502 151 2\n"
        "==31124== I   refs:      151,700\n"
    )
    counts = module.parse_summary(stderr)
    assert counts["Ir"] == 151700
    assert counts["ILmr"] == 2
    assert counts["DLmr"] == counts["DLmw"] == 0  # left out when zero
    assert module.parse_summary("==1== no summary\n") == {}


def test_throughput_orders_every_stack_after_every_other_equally_often(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))  # its sibling overhead
    module = load_benchmark("throughput")
    for count in range(2, 9):
        orders = module.balanced_orders(count)
        assert all(sorted(order) == list(range(count)) for order in orders)
        follows = {
            (order[i], order[i + 1]) for order in orders for i in range(count - 1)
        }
        assert len(follows) == count * (count - 1)  # every ordered pair
        places = [[order[i] for order in orders] for i in range(count)]
        assert all(sorted(p) == sorted(places[0]) for p in places)


def test_documents_are_valid_restructuredtext() -> None:
    import io

    import docutils.core

    for name in ("README.rst", "CHANGES.rst", "SECURITY.rst", "benchmarks/README.rst"):
        errors = io.StringIO()
        docutils.core.publish_doctree(
            (ROOT / name).read_text(),
            source_path=str(ROOT / name),
            settings_overrides={"halt_level": 2, "warning_stream": errors},
        )
        assert errors.getvalue() == "", name


def test_the_middleware_classes_subclass_in_the_pure_build_only() -> None:
    # README "Compiled build": the one documented difference between builds
    # (a subclass of a compiled class fails when it is instantiated).
    def app(environ: object, start_response: object) -> list[bytes]:
        return []

    for cls in (
        wsgifix.ProxyMiddleware,
        wsgifix.PrefixMiddleware,
        wsgifix.CookieMiddleware,
    ):
        mine = type("Mine", (cls,), {})
        if wsgifix.compiled():
            with pytest.raises(TypeError, match="cannot inherit from compiled"):
                mine(app)
        else:
            assert isinstance(mine(app), cls)
