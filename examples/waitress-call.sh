#!/bin/sh
# Serve an app with plain waitress-serve, wrapped by wsgifix.
#
#   examples/waitress-call.sh [waitress-serve options]
#   LISTEN=127.0.0.1:0 examples/waitress-call.sh     (any free port)
#
# --call makes waitress-serve call wsgifix.wrap() with no arguments: the app
# comes from WSGIFIX_APP and settings from WSGIFIX_* variables.
# --no-clear-untrusted-proxy-headers keeps the forwarding headers that
# waitress 3 would otherwise delete before wsgifix sees them.
cd "$(dirname "$0")" || exit 1
export WSGIFIX_APP="${WSGIFIX_APP:-plain_app:app}"
export WSGIFIX_TRUSTED_PROXIES="${WSGIFIX_TRUSTED_PROXIES:-loopback}"
exec waitress-serve --no-clear-untrusted-proxy-headers \
    --listen="${LISTEN:-127.0.0.1:8080}" "$@" --call wsgifix:wrap
