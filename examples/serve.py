"""Wrap an app yourself and serve it with waitress.

    python serve.py                 (http://127.0.0.1:8080)
    python serve.py --port 0        (any free port; waitress prints it)

waitress 3 deletes X-Forwarded-For/Host/Proto/Port and Forwarded before any
middleware runs unless ``clear_untrusted_proxy_headers=False``: wsgifix then
decides which of them to trust.
"""

from __future__ import annotations

import argparse
import logging

import waitress
from plain_app import app

import wsgifix

application = wsgifix.wrap(
    app,
    trusted_proxies="loopback",
    trusted_headers="x-forwarded-for x-forwarded-proto x-forwarded-host",
)

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080)
    port = parser.parse_args().port
    logging.basicConfig(level=logging.INFO)
    waitress.serve(
        application,
        host="127.0.0.1",
        port=port,
        clear_untrusted_proxy_headers=False,
    )
