"""Start nginx, Apache httpd, HAProxy and Caddy from the README's recipes.

Each proxy runs in the foreground from a config written to a temp dir,
terminates TLS with a certificate made for this run (trustme), listens on
loopback ports found free at runtime (a proxy cannot report a port-0 bind),
and is stopped by PID with TERM (issue 5; FIELD-NOTES "Proxies from Debian").
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import trustme
from conftest import Server, require_binary, start_server

from .recipes import HOST, RECIPES, ROOT, backend_argv, fill, serve_commands

PROXIES = tuple(RECIPES)


@dataclass(frozen=True)
class Tls:
    """A per-run CA and a server certificate for ``lab.test``."""

    cert: Path  # certificate chain
    key: Path
    pem: Path  # both in one file
    client: ssl.SSLContext  # trusts the CA

    @classmethod
    def make(cls, directory: Path) -> Tls:
        ca = trustme.CA()
        issued = ca.issue_cert(HOST, "127.0.0.1")
        chain = b"".join(blob.bytes() for blob in issued.cert_chain_pems)
        private = issued.private_key_pem.bytes()
        cert, key, pem = (directory / name for name in ("cert", "key", "pem"))
        cert.write_bytes(chain)
        key.write_bytes(private)
        pem.write_bytes(chain + private)
        client = ssl.create_default_context()
        ca.configure_trust(client)
        return cls(cert, key, pem, client)


def free_ports(count: int) -> list[int]:
    """Ports nobody listens on now: bind to port 0, read it, close it."""
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


@dataclass
class Site:
    """A running proxy: ``port`` serves the app at ``/`` and, stripped, at
    ``/app/``; ``unstripped_port`` forwards ``/app/`` unchanged."""

    proxy: str
    port: int
    unstripped_port: int
    process: subprocess.Popen[bytes]
    logs: tuple[Path, ...]

    def url(self, path: str, port: int | None = None) -> str:
        return f"https://{HOST}:{port or self.port}{path}"

    def log_text(self) -> str:
        return "\n".join(
            f"--- {log}\n{log.read_text(errors='replace')}"
            for log in self.logs
            if log.exists()
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# The part of each config that is not the recipe: the process (foreground,
# files in ``work``, quiet) and, for Apache, the modules and listeners.
# ``{includes}`` are the recipe's files, in the proxy's own syntax.
_WRAPPERS = {
    "nginx": """\
daemon off;
worker_processes 1;
pid {work}/nginx.pid;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {work}/client_body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
{includes}}}
""",
    # FIELD-NOTES: a standalone Apache config needs ServerRoot, an absolute
    # PidFile and ErrorLog, and DefaultRuntimeDir.
    "apache": """\
ServerRoot /etc/apache2
DefaultRuntimeDir {work}
PidFile {work}/httpd.pid
ErrorLog {work}/error.log
LogLevel warn
ServerName localhost
User www-data
Group www-data
{modules}SSLSessionCache shmcb:{work}/ssl_cache(512000)
{listen}{includes}""",
    "haproxy": """\
defaults
    timeout connect 5s
    timeout client 30s
    timeout server 30s

{includes}""",
    # FIELD-NOTES: a quiet Caddy (the recipe's sites also get ``bind``).
    "caddy": """\
{{
    admin off
    auto_https disable_redirects
    skip_install_trust
    servers {{
        protocols h1 h2
    }}
}}

{includes}""",
}
_APACHE_MODULES = (
    "mpm_event authz_core alias headers proxy proxy_http socache_shmcb ssl"
)


def _config(proxy: str, work: Path, files: dict[str, str], ports: list[int]) -> str:
    if proxy == "nginx":
        # `include snippets/wsgifix.conf` resolves against the config's dir.
        (work / "snippets").mkdir()
        (work / "wsgifix.conf").rename(work / "snippets" / "wsgifix.conf")
        includes = "".join(
            f"    include {name};\n" for name in files if name != "wsgifix.conf"
        )
    elif proxy == "apache":
        includes = "".join(f"Include {work / name}\n" for name in files)
    else:
        includes = "\n".join(files.values())
    return _WRAPPERS[proxy].format(
        work=work,
        includes=includes,
        listen="".join(f"Listen 127.0.0.1:{port}\n" for port in ports),
        modules="".join(
            f"LoadModule {name}_module /usr/lib/apache2/modules/mod_{name}.so\n"
            for name in _APACHE_MODULES.split()
        ),
    )


def _argv(proxy: str, config: Path) -> list[str]:
    if proxy == "nginx":
        nginx = require_binary(_sbin("nginx"))
        return [nginx, "-p", str(config.parent), "-c", str(config), "-e", "error.log"]
    if proxy == "apache":
        return [require_binary(_sbin("apache2")), "-f", str(config), "-DFOREGROUND"]
    if proxy == "haproxy":
        return [require_binary(_sbin("haproxy")), "-db", "-f", str(config)]
    caddy = require_binary("caddy")
    return [caddy, "run", "--adapter", "caddyfile", "--config", str(config)]


def _sbin(name: str) -> str:
    return shutil.which(name) or f"/usr/sbin/{name}"


def start_site(
    proxy: str, work: Path, tls: Tls, backend: int, unstripped_backend: int
) -> Site:
    """Run ``proxy`` with its README recipe in front of the two backends."""
    ports = free_ports(2)
    files = fill(
        RECIPES[proxy],
        ports={"site": ports[0], "unstripped": ports[1]},
        backends={"site": backend, "unstripped": unstripped_backend},
        cert=tls.cert,
        key=tls.key,
        pem=tls.pem,
    )
    for name, text in files.items():
        (work / name).write_text(text)
    config = work / f"{proxy}.conf"
    config.write_text(_config(proxy, work, files, ports))
    # Caddy keeps its state under XDG_DATA_HOME / XDG_CONFIG_HOME.
    env = {**os.environ, "XDG_DATA_HOME": str(work), "XDG_CONFIG_HOME": str(work)}
    output = work / "output.log"
    with output.open("wb") as out:
        process = subprocess.Popen(
            _argv(proxy, config),
            cwd=work,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    site = Site(proxy, *ports, process, (output, work / "error.log"))
    _wait_until_listening(site)
    return site


def _wait_until_listening(site: Site, timeout: float = 15) -> None:
    """Return once both ports accept connections; fail with the proxy's
    output and error log if it exits or does not listen in time."""
    deadline = time.monotonic() + timeout
    for port in (site.port, site.unstripped_port):
        while True:
            if site.process.poll() is not None:
                code = site.process.returncode
                pytest.fail(f"{site.proxy} exited ({code}):\n{site.log_text()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    site.stop()
                    pytest.fail(f"{site.proxy} is not on {port}:\n{site.log_text()}")
                time.sleep(0.02)


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def get(
    tls: Tls, port: int, path: str, headers: Iterable[tuple[str, str]] = ()
) -> Reply:
    """``GET https://lab.test:port/path`` (connecting to 127.0.0.1, verifying
    the certificate) with exactly these extra header lines, repeats allowed."""
    conn = http.client.HTTPSConnection(HOST, port, context=tls.client, timeout=10)
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    conn.sock = tls.client.wrap_socket(raw, server_hostname=HOST)
    try:
        conn.putrequest("GET", path, skip_accept_encoding=True)
        for name, value in headers:
            conn.putheader(name, value)
        conn.endheaders()
        response = conn.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        conn.close()


def start_backends(proxy: str, app: str) -> dict[str, Server]:
    """The README's two ``wsgifix serve`` commands for ``proxy``, serving
    ``app`` (``site`` and ``unstripped``) from the repository root."""
    commands = serve_commands(RECIPES[proxy])
    started: dict[str, Server] = {}
    try:
        for role, command in commands.items():
            started[role] = start_server(backend_argv(command, app), cwd=ROOT)
    except BaseException:
        for server in started.values():
            server.stop()
        raise
    return started
