"""The README's proxy recipes, as files the e2e tests run (issue 5).

Each proxy's config lives once, under ``examples/proxies/``, with the values
the README shows (``example.com``, ports 443/8443, backends on 8080/8081,
certificates under ``/etc``). The README shows those files verbatim
(``test_recipes.py`` checks it); the tests fill in the run's ports, host
name and certificate paths and run them. The ``wsgifix serve`` commands the
tests start behind each proxy are read from the same README subsection.

Every recipe has two sites: the *site* (443) serves the app at ``/`` and,
with the prefix stripped and sent as ``X-Forwarded-Prefix``, at ``/app/``;
the *unstripped* site (8443) forwards ``/app/...`` unchanged to a second
``wsgifix serve --prefix /app``.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.rst"
PROXY_EXAMPLES = ROOT / "examples" / "proxies"
HOST = "lab.test"  # the name clients use; Chromium maps it to 127.0.0.1


@dataclass(frozen=True)
class Recipe:
    name: str
    title: str  # the README subsection
    files: tuple[str, ...]  # under examples/proxies/, in README order


RECIPES = {
    recipe.name: recipe
    for recipe in (
        Recipe(
            "nginx",
            "nginx",
            ("nginx/wsgifix.conf", "nginx/site.conf", "nginx/unstripped.conf"),
        ),
        Recipe(
            "apache",
            "Apache httpd (mod_proxy + mod_headers)",
            ("apache/site.conf", "apache/unstripped.conf"),
        ),
        Recipe("haproxy", "HAProxy", ("haproxy/site.cfg", "haproxy/unstripped.cfg")),
        Recipe("caddy", "Caddy", ("caddy/site.caddy", "caddy/unstripped.caddy")),
    )
}

# How each proxy spells "listen on this port": the README's 443 is the site,
# 8443 the unstripped site. The tests listen on loopback only.
_LISTEN = {
    "nginx": (r"listen (\d+) ssl;", "listen 127.0.0.1:{port} ssl;"),
    "apache": (r"<VirtualHost \*:(\d+)>", "<VirtualHost 127.0.0.1:{port}>"),
    "haproxy": (r"bind :(\d+) ssl", "bind 127.0.0.1:{port} ssl"),
    # A Caddy site address without a port is https on 443.
    "caddy": (r"^example\.com(?::(\d+))? \{", "{host}:{port} {{\n    bind 127.0.0.1"),
}
# README values that must all be gone from a filled config (comments aside).
_DEPLOYMENT_VALUES = re.compile(r"example\.com|/etc/|\b(?:443|8443|8080|8081)\b")


def section(title: str, text: str | None = None) -> str:
    """The body of the README subsection ``title`` (underlined with ``~``)."""
    text = README.read_text() if text is None else text
    pattern = rf"^{re.escape(title)}\n~+\n(.*?)(?=^[^\n]+\n[~=-]{{3,}}\n|\Z)"
    match = re.search(pattern, text, re.MULTILINE | re.DOTALL)
    assert match, f"README.rst has no subsection {title!r}"
    return match.group(1)


def code_blocks(body: str) -> list[tuple[str, str]]:
    """``(language, dedented text)`` of every ``.. code-block::`` in ``body``."""
    blocks = []
    for match in re.finditer(
        r"^\.\. code-block:: (\S+)\n\n((?:(?: {4}.*)?\n)+)", body, re.MULTILINE
    ):
        lines = match.group(2).rstrip("\n").split("\n")
        blocks.append((match.group(1), "".join(line[4:] + "\n" for line in lines)))
    return blocks


def config_blocks(recipe: Recipe) -> list[str]:
    """The README's config blocks of ``recipe`` (everything but console)."""
    blocks = code_blocks(section(recipe.title))
    return [text for language, text in blocks if language != "console"]


def serve_commands(recipe: Recipe) -> dict[str, list[str]]:
    """The README's ``wsgifix serve`` commands: ``site`` and ``unstripped``
    (the one with ``--prefix``), as argv lists."""
    commands: dict[str, list[str]] = {}
    for language, text in code_blocks(section(recipe.title)):
        if language != "console":
            continue
        argv = shlex.split(text.replace("\\\n", " ").removeprefix("$ "))
        assert argv[:3] == ["wsgifix", "serve", "myapp:app"], argv
        commands["unstripped" if "--prefix" in argv else "site"] = argv
    assert sorted(commands) == ["site", "unstripped"], commands
    return commands


def backend_argv(command: list[str], app: str) -> list[str]:
    """A README ``wsgifix serve`` command serving ``app`` on a free port."""
    argv = [app if arg == "myapp:app" else arg for arg in command]
    if "--port" in argv:
        del argv[argv.index("--port") : argv.index("--port") + 2]
    return [*argv, "--port", "0"]


def fill(
    recipe: Recipe,
    *,
    ports: dict[str, int],
    backends: dict[str, int],
    cert: Path,
    key: Path,
    pem: Path,
) -> dict[str, str]:
    """The recipe's files with this run's values, by file name.

    ``ports`` and ``backends`` are keyed ``site`` and ``unstripped``; ``pem``
    is the certificate and key in one file (HAProxy's ``crt``).
    """
    by_readme_port = {"443": ports["site"], "8443": ports["unstripped"]}
    pattern, template = _LISTEN[recipe.name]
    filled = {}
    for name in recipe.files:
        text = (PROXY_EXAMPLES / name).read_text()
        text = re.sub(
            pattern,
            lambda m: template.format(
                host=HOST, port=by_readme_port[m.group(1) or "443"]
            ),
            text,
            flags=re.MULTILINE,
        )
        for old, new in (
            ("/etc/ssl/example.com.pem", str(cert)),
            ("/etc/ssl/example.com.key", str(key)),
            ("/etc/haproxy/example.com.pem", str(pem)),
            ("127.0.0.1:8080", f"127.0.0.1:{backends['site']}"),
            ("127.0.0.1:8081", f"127.0.0.1:{backends['unstripped']}"),
            ("example.com", HOST),
        ):
            text = text.replace(old, new)
        code = [ln for ln in text.splitlines() if not ln.lstrip().startswith("#")]
        left = _DEPLOYMENT_VALUES.findall("\n".join(code))
        assert not left, f"{name}: README values not filled in: {left}"
        filled[Path(name).name] = text
    return filled
