"""PasteDeploy filter factories.

``use = egg:wsgifix`` (entry point ``main``) is the whole stack;
``egg:wsgifix#proxy``, ``#prefix`` and ``#cookies`` are one layer each;
``use = call:wsgifix.paste:filter_factory`` works too. The .ini values are
strings and go through the settings table when the .ini is loaded, so a
bad value fails at ``loadapp()``, not on the first request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from wsgifix import build, config
from wsgifix.cookies import CookieMiddleware
from wsgifix.prefix import PrefixMiddleware
from wsgifix.proxy import ProxyMiddleware

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

Filter = Callable[["WSGIApplication"], "WSGIApplication"]


def filter_factory(global_conf: dict[str, str], **local_conf: str) -> Filter:
    """The whole wsgifix stack as a PasteDeploy filter."""
    settings = config.resolve(local_conf)

    def wsgifix_filter(app: WSGIApplication) -> WSGIApplication:
        return build(app, settings)

    return wsgifix_filter


def _layer_factory(
    layer: str, middleware: Callable[..., WSGIApplication]
) -> Callable[..., Filter]:
    def factory(global_conf: dict[str, str], **local_conf: str) -> Filter:
        settings: dict[str, Any] = config.resolve(local_conf, layer=layer)

        def layer_filter(app: WSGIApplication) -> WSGIApplication:
            return middleware(app, **settings)

        return layer_filter

    factory.__name__ = factory.__qualname__ = f"{layer}_filter_factory"
    factory.__doc__ = f"The {layer} layer alone as a PasteDeploy filter."
    return factory


proxy_filter_factory = _layer_factory("proxy", ProxyMiddleware)
prefix_filter_factory = _layer_factory("prefix", PrefixMiddleware)
cookies_filter_factory = _layer_factory("cookies", CookieMiddleware)
