"""wsgifix: WSGI middlewares for apps behind reverse proxies.

``wrap(app, **settings)`` builds the stack
proxy normalization -> host check -> prefix -> Set-Cookie audit -> app.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from wsgifix import config
from wsgifix.cookies import CookieMiddleware
from wsgifix.inspector import DebugRoute, make_inspector
from wsgifix.prefix import PrefixMiddleware
from wsgifix.proxy import ProxyMiddleware
from wsgifix.rules import Finding

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

__all__ = [
    "CookieMiddleware",
    "DebugRoute",
    "Finding",
    "PrefixMiddleware",
    "ProxyMiddleware",
    "SettingsError",
    "build_name",
    "compiled",
    "load_app",
    "wrap",
]
__version__ = "0.1.0.dev0"

# The modules a request runs through, compiled by ``COMPILE_WSGIFIX=1`` builds
# (setup.py lists the same).
_REQUEST_PATH = (
    "cookies",
    "forwarded",
    "memo",
    "prefix",
    "proxy",
    "races",
    "rules",
    "setcookie",
    "trust",
)


def compiled() -> bool:
    """True when the modules a request runs through are mypyc-compiled C
    extensions (a ``COMPILE_WSGIFIX=1`` build), False for the pure-Python
    build. A mix (some compiled) counts as not compiled."""
    for name in _REQUEST_PATH:
        module = importlib.import_module(f"wsgifix.{name}")
        if (module.__file__ or "").endswith(".py"):
            return False
    return True


def build_name() -> str:
    """The build in words, as ``wsgifix --version`` and the inspector say it."""
    return "compiled with mypyc" if compiled() else "pure Python"


class AppLoadError(SystemExit):
    """``WSGIFIX_APP`` (or MODULE:APP) is missing or broken.

    A SystemExit carrying one line: under ``waitress-serve --call
    wsgifix:wrap`` the user sees that line, not a traceback.
    """


class SettingsError(AppLoadError, ValueError):
    """A bad or unknown setting for ``wrap()`` without an app: one line that
    ends the process as an :class:`AppLoadError` does, and a ValueError
    naming the setting, as everywhere else (CONTRACT.md 1)."""


def load_app(spec: str | None) -> WSGIApplication:
    """Import ``module:attr`` (``attr`` may be dotted: ``module:attr.sub``)."""
    if not spec:
        raise AppLoadError(
            f"wsgifix: error: {config.APP_VARIABLE} is not set; "
            f"set it to MODULE:APP, e.g. {config.APP_VARIABLE}=myapp:app"
        )
    module_name, sep, attr_path = spec.partition(":")
    if not sep or not module_name or not attr_path:
        raise AppLoadError(
            f"wsgifix: error: {spec!r} is not MODULE:APP (e.g. myapp:app)"
        )
    try:
        obj: Any = importlib.import_module(module_name)
    except Exception as exc:
        raise AppLoadError(
            f"wsgifix: error: cannot import {module_name!r} from {spec!r}: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    for attr in attr_path.split("."):
        try:
            obj = getattr(obj, attr)
        except AttributeError:
            raise AppLoadError(
                f"wsgifix: error: {spec!r}: {module_name!r} has no attribute "
                f"{attr_path!r}"
            ) from None
    if not callable(obj):
        raise AppLoadError(f"wsgifix: error: {spec!r} is not a WSGI application")
    app: WSGIApplication = obj
    return app


def wrap(app: WSGIApplication | None = None, **settings: Any) -> WSGIApplication:
    """Wrap ``app`` in the whole wsgifix stack.

    Settings are the names of the settings table (CONTRACT.md section 2),
    as typed values or text. Without ``app``, the app comes from
    ``WSGIFIX_APP=module:attr`` and settings also from ``WSGIFIX_<NAME>``
    variables (keywords win); problems there end the process with one
    line, since this is what ``waitress-serve --call wsgifix:wrap`` runs.
    """
    if app is None:
        return _wrap_from_environ(os.environ, settings)
    return build(app, config.resolve(settings))


def _wrap_from_environ(
    environ: Mapping[str, str], settings: Mapping[str, Any]
) -> WSGIApplication:
    try:
        merged = {**config.from_environ(environ), **settings}
        resolved = config.resolve(merged)
    except ValueError as exc:
        raise SettingsError(f"wsgifix: error: {exc}") from None
    return build(load_app(environ.get(config.APP_VARIABLE)), resolved)


def build(app: WSGIApplication, settings: Mapping[str, Any]) -> WSGIApplication:
    """The stack from already resolved settings (see :func:`config.resolve`)."""

    def layer(name: str) -> dict[str, Any]:
        return {key: settings[key] for key in config.names(name)}

    cookies = CookieMiddleware(app, **layer("cookies"))
    inner: WSGIApplication = cookies
    if settings["debug_path"]:
        inner = DebugRoute(inner, settings["debug_path"], settings, cookies)
    if settings["prefix"]:  # a layer with nothing to do is left out
        inner = PrefixMiddleware(inner, **layer("prefix"))
    return ProxyMiddleware(inner, **layer("proxy"))


def build_inspector(settings: Mapping[str, Any]) -> WSGIApplication:
    """The inspector page as the whole app (``wsgifix serve`` with no app).

    Its responses are audited in report mode (CONTRACT.md section 5), so
    the round trip's test cookies reach the browser as written.
    """
    layers: list[CookieMiddleware] = []
    inspector = make_inspector(settings, lambda: layers[0] if layers else None)
    stack = build(inspector, settings)
    outer: Any = stack
    while not isinstance(outer.app, CookieMiddleware):
        outer = outer.app
    cookies = outer.app
    outer.app = cookies.sibling(inspector, "report")
    layers.append(cookies)
    return stack
