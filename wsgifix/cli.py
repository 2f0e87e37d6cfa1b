"""The ``wsgifix`` command (also ``python -m wsgifix``).

``wsgifix serve [MODULE:APP]`` runs the wrapped app on waitress with
waitress's own forwarding-header stripping turned off (wsgifix decides what
to trust); with no app it serves the inspector page. ``wsgifix config``
prints the resolved settings and where each came from.

Exit codes: 0 fine, 1 a bad setting value or app or an address ``serve``
cannot listen on, 2 a usage error.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from wsgifix import (
    AppLoadError,
    __version__,
    build,
    build_inspector,
    build_name,
    config,
    load_app,
)

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080

Serve = Callable[..., Any]


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None


def _port(text: str) -> int:
    """``--port``: 0 (any free port) to 65535. waitress would take 70000 as
    70000 % 65536 and serve on 4464 without a word."""
    port = _int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a TCP port (0-65535)")
    return port


def _listen(text: str) -> str:
    """``--listen HOST:PORT``: the port checked as ``--port`` is; the rest
    (``*``, ``[::1]``, names) is left to waitress."""
    _, sep, port = text.rpartition(":")
    if sep and port.isascii() and port.isdigit():
        _port(port)
    return text


def _threads(text: str) -> int:
    """``--threads``: at least 1 (waitress accepts 0 and then never answers)."""
    threads = _int(text)
    if threads < 1:
        raise argparse.ArgumentTypeError(f"{threads} is not at least 1")
    return threads


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _add_settings(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "wsgifix settings",
        "Each also works as WSGIFIX_<NAME> in the environment (a flag wins). "
        "List settings take items separated by spaces or commas, and may be "
        "repeated. Booleans: true/false/yes/no/on/off/1/0.",
    )
    for setting in config.SETTINGS.values():
        default = setting.default or "empty"
        group.add_argument(
            _flag(setting.name),
            dest=setting.name,
            metavar="VALUE",
            action="append" if setting.is_list else "store",
            default=None,
            help=f"{setting.help} (default: {default})",
        )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wsgifix",
        allow_abbrev=False,
        description=(
            "WSGI middlewares for apps behind reverse proxies: trusted "
            "forwarding headers, mount prefixes and a Set-Cookie audit."
        ),
        epilog=(
            f"{config.APP_VARIABLE}=MODULE:APP names the app when none is given. "
            "Exit codes: 0 ok, 1 bad setting, app or address, 2 usage error."
        ),
    )
    parser.add_argument(
        "--version", action="version", version=f"wsgifix {__version__} ({build_name()})"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    serve = commands.add_parser(
        "serve",
        allow_abbrev=False,
        help="run an app (or the inspector page) on waitress, wrapped",
        description=(
            "Serve MODULE:APP (or $WSGIFIX_APP, or else the inspector page) "
            "on waitress, wrapped in wsgifix. waitress's own forwarding-header "
            "stripping is turned off (clear_untrusted_proxy_headers=False): "
            "wsgifix decides which headers to trust."
        ),
    )
    serve.add_argument(
        "app",
        nargs="?",
        metavar="MODULE:APP",
        help="the WSGI app, e.g. myapp:app or pkg.web:make_app.wsgi",
    )
    server = serve.add_argument_group("waitress")
    server.add_argument(
        "--host", help=f"interface to listen on (default: {DEFAULT_HOST})"
    )
    server.add_argument(
        "--port",
        type=_port,
        help=f"TCP port, 0 for any free one (default: {DEFAULT_PORT})",
    )
    server.add_argument(
        "--listen",
        type=_listen,
        action="append",
        metavar="HOST:PORT",
        help="listen on HOST:PORT instead of --host/--port (may be repeated)",
    )
    server.add_argument(
        "--threads", type=_threads, default=4, help="worker threads (default: 4)"
    )
    server.add_argument(
        "--unix-socket", metavar="PATH", help="listen on this Unix socket instead"
    )
    _add_settings(serve)

    doctor = commands.add_parser(
        "doctor",
        allow_abbrev=False,
        help="which cookies would a browser drop, and why",
        description=(
            "Request URL (redirects followed, each hop reported) and judge "
            "every Set-Cookie as a browser would; or, with --app and --url, "
            "send the request in-process through the app wrapped by wsgifix "
            "and print the environ before and after. Exit 0 when no cookie "
            "would be dropped, 1 when one would, 2 on usage errors, an "
            "unreachable URL or an app that raised."
        ),
    )
    doctor.add_argument("target", nargs="?", metavar="URL", help="the URL to fetch")
    doctor.add_argument(
        "-H",
        "--header",
        action="append",
        metavar="'NAME: VALUE'",
        help="a request header (may be repeated)",
    )
    doctor.add_argument("--json", action="store_true", help="print JSON")
    doctor.add_argument(
        "--insecure", action="store_true", help="do not verify TLS certificates"
    )
    doctor.add_argument(
        "--app", metavar="MODULE:APP", help="run the request in-process through APP"
    )
    doctor.add_argument("--url", help="the URL the in-process request stands for")
    doctor.add_argument(
        "--peer",
        default="127.0.0.1",
        metavar="IP",
        help="the socket peer of the in-process request (default: 127.0.0.1)",
    )
    _add_settings(doctor)

    show = commands.add_parser(
        "config",
        allow_abbrev=False,
        help="print the resolved settings and where each came from",
        description=(
            "Print every setting with its value and source (default, env, "
            "flag). Exit 1 naming the setting on a bad value."
        ),
    )
    _add_settings(show)
    return parser


def resolve_with_sources(
    args: argparse.Namespace, environ: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Settings with precedence flag > environment > default, and sources."""
    from_env = config.from_environ(environ)
    given: dict[str, object] = {}
    sources: dict[str, str] = {}
    for name in config.SETTINGS:
        flag_value = getattr(args, name, None)
        if flag_value is not None:
            given[name] = flag_value
            sources[name] = "flag"
        elif name in from_env:
            given[name] = from_env[name]
            sources[name] = "env"
        else:
            sources[name] = "default"
    return config.resolve(given), sources


def _serve(
    args: argparse.Namespace,
    settings: Mapping[str, Any],
    environ: Mapping[str, str],
    serve: Serve,
) -> int:
    spec = args.app or environ.get(config.APP_VARIABLE)
    if spec:
        if os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())
        app: WSGIApplication | None = load_app(spec)
    else:
        app = None
    options: dict[str, Any] = {
        "threads": args.threads,
        # waitress 3 deletes X-Forwarded-* and Forwarded before any
        # middleware runs unless told not to; wsgifix does the trusting.
        "clear_untrusted_proxy_headers": False,
        "ident": "waitress (wsgifix)",
    }
    if args.unix_socket:
        options["unix_socket"] = where = args.unix_socket
    elif args.listen:
        options["listen"] = where = " ".join(args.listen)
    else:
        host = options["host"] = args.host or DEFAULT_HOST
        port = options["port"] = DEFAULT_PORT if args.port is None else args.port
        where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    # The command (not the library) owns logging: show waitress's
    # "Serving on ..." line and wsgifix's advice.
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    wrapped = build_inspector(settings) if app is None else build(app, settings)
    try:
        serve(wrapped, **options)
    except OSError as exc:
        # waitress makes its listening sockets before it serves, and handles
        # its connections' socket errors itself: an OSError here is about
        # listening (port in use, address not on this machine, no
        # permission, unknown host name), a one-line error like a bad value.
        reason = exc.strerror or str(exc)
        reason = reason[:1].lower() + reason[1:]
        sys.stderr.write(f"wsgifix: error: cannot listen on {where}: {reason}\n")
        return 1
    return 0


def _print_config(
    settings: Mapping[str, Any], sources: Mapping[str, str], out: TextIO
) -> int:
    width = max(len(name) for name in settings)
    try:
        for name, value in settings.items():
            text = config.text_of(value) or "(empty)"
            out.write(f"{name:<{width}}  {text}  [{sources[name]}]\n")
        out.flush()
    except BrokenPipeError:
        # The reader went away (wsgifix config | head -1): no traceback, and
        # nothing left for the interpreter to flush at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())
    return 0


def main(
    argv: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    serve: Serve | None = None,
) -> int:
    """Run the command line; returns the exit code.

    ``serve`` replaces ``waitress.serve`` (tests pass a recorder).
    """
    env = os.environ if environ is None else environ
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse: --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else 2
    if args.command == "doctor":
        from wsgifix import doctor

        if os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())
        return doctor.run(args, env, sys.stdout, sys.stderr)
    try:
        settings, sources = resolve_with_sources(args, env)
        if args.command == "config":
            return _print_config(settings, sources, sys.stdout)
        if serve is None:
            import waitress

            serve = waitress.serve
        return _serve(args, settings, env, serve)
    except ValueError as exc:
        sys.stderr.write(f"wsgifix: error: {exc}\n")
        return 1
    except AppLoadError as exc:
        sys.stderr.write(f"{exc.code}\n")
        return 1
