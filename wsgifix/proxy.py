"""The proxy layer: trusted forwarding headers -> the environ, then host checks.

For every request:

1. Trust is decided once, from the socket peer (``REMOTE_ADDR`` as the
   server set it): chain mode trusts peers in ``trusted_proxies``; hop mode
   (``trusted_hops=N``) trusts the N nearest proxies, the peer having to
   match ``trusted_proxies`` when that is set too.
2. From a trusted peer, the headers named in ``trusted_headers`` are read
   and validated: X-Forwarded-For (or Forwarded elements) walked from the
   right to find the client; X-Forwarded-Proto/Host/Port/Prefix at
   position -h (h = 1 + trusted hops skipped; N in hop mode), else their
   leftmost value; Forwarded fields from the client's element.
3. The environ is rewritten: ``REMOTE_ADDR``/``REMOTE_PORT``,
   ``wsgi.url_scheme`` and ``HTTPS``, ``HTTP_HOST`` (lower-case, default
   port omitted), ``SERVER_NAME``/``SERVER_PORT``, ``SCRIPT_NAME`` (the
   forwarded prefix in front). Forwarding headers that were not honoured
   are removed (``clear_untrusted``) and honoured lists cut to their
   trusted part, so no library can read a forged value. The original of
   everything changed is kept in ``environ["wsgifix.orig"]``.
4. The Host (effective, or as sent) is validated and checked against
   ``allowed_hosts``: a bad one gets ``400`` with a one-line reason.

A malformed value from a trusted proxy gets the same 400 under
``on_invalid=reject``, or is skipped under ``ignore``; either way it is
logged (once a minute per header and reason). ``environ["wsgifix.trust"]``
records the decision for the inspector.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from itertools import islice
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from wsgifix import config
from wsgifix.cookies import CookieMiddleware, _equal
from wsgifix.forwarded import (
    MAX_EMPTY,
    MAX_HOPS,
    HeaderError,
    Node,
    iter_from_right,
    normalize_prefix,
    parse_forwarded,
    parse_host,
    parse_node,
    parse_xff_item,
)
from wsgifix.memo import SecondSight
from wsgifix.rules import _COMPILED  # (the request path is compiled together)
from wsgifix.trust import FORWARDED_TRUSTED, X_FORWARDED_TRUSTED, TrustedPeers

if TYPE_CHECKING:
    from collections.abc import Iterable

    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger("wsgifix.proxy")

FORWARDED: Final = "HTTP_FORWARDED"
XFF: Final = "HTTP_X_FORWARDED_FOR"
XFPROTO: Final = "HTTP_X_FORWARDED_PROTO"
XFHOST: Final = "HTTP_X_FORWARDED_HOST"
XFPORT: Final = "HTTP_X_FORWARDED_PORT"
XFPREFIX: Final = "HTTP_X_FORWARDED_PREFIX"
XFBY: Final = "HTTP_X_FORWARDED_BY"
#: Every header the layer may remove, environ key -> header name.
HEADER_NAMES: Final = {
    FORWARDED: "Forwarded",
    XFF: "X-Forwarded-For",
    XFPROTO: "X-Forwarded-Proto",
    XFHOST: "X-Forwarded-Host",
    XFPORT: "X-Forwarded-Port",
    XFPREFIX: "X-Forwarded-Prefix",
    XFBY: "X-Forwarded-By",
}
# Every environ value the walk reads but X-Forwarded-For: with it, the memo
# key (see _apply_and_remember and _client_of).
_INPUTS: Final = (
    *(key for key in HEADER_NAMES if key != XFF),
    "REMOTE_ADDR",
    "HTTP_HOST",
    "wsgi.url_scheme",
    "HTTPS",
    "SCRIPT_NAME",
    "SERVER_NAME",
    "SERVER_PORT",
    "SERVER_SOFTWARE",
)
_XFH_AT: Final = _INPUTS.index(XFHOST)
_INPUT_COUNT: Final = len(_INPUTS)


def _inputs(environ: WSGIEnvironment) -> tuple[Any, ...]:
    """``tuple(map(environ.get, _INPUTS))``, written out: 2 to 3 times
    quicker (no map object, no tuple grown item by item; compiled, direct
    dict lookups). tests/test_proxy.py keeps the two alike."""
    return (
        environ.get(FORWARDED),
        environ.get(XFPROTO),
        environ.get(XFHOST),
        environ.get(XFPORT),
        environ.get(XFPREFIX),
        environ.get(XFBY),
        environ.get("REMOTE_ADDR"),
        environ.get("HTTP_HOST"),
        environ.get("wsgi.url_scheme"),
        environ.get("HTTPS"),
        environ.get("SCRIPT_NAME"),
        environ.get("SERVER_NAME"),
        environ.get("SERVER_PORT"),
        environ.get("SERVER_SOFTWARE"),
    )


def _as_before(environ: WSGIEnvironment, prior: tuple[Any, ...]) -> bool:
    """``_inputs(environ) == prior``, without making the tuple: the last
    request's values, as most requests' are (one proxy, one site). May
    raise what comparing a value raises. Compiled only: ~20 ns less than
    making the tuple; as source, ~70 ns more."""
    if len(prior) != _INPUT_COUNT:
        return False
    # (a generator in all(): a compiled build's own loop)
    return all(_equal(environ.get(_INPUTS[i]), prior[i]) for i in range(_INPUT_COUNT))


def _host_text(value: Any) -> str:
    """The Host header's value; HeaderError when it is not text (no server
    sends that: a middleware or test harness before wsgifix)."""
    if type(value) is not str:
        raise HeaderError(f"not text ({type(value).__name__})")
    text: str = value
    return text


def _peer(environ: WSGIEnvironment) -> str:
    """The socket peer's address, ``""`` when there is none or it is not
    text (no server sends that; a test harness may): an address no
    ``trusted_proxies`` entry trusts."""
    peer: Any = environ.get("REMOTE_ADDR")
    return peer if type(peer) is str else ""


# In a memo key, X-Forwarded-Host's place when its item is applied per
# request (see _by_host); and the keys that item decides.
_HOST_APART: Final = ("host apart",)
_BY_HOST: Final = ("HTTP_HOST", "SERVER_NAME", "SERVER_PORT")
# The keys a shape entry with the client apart makes per request (_to_client).
_PER_CLIENT: Final = ("REMOTE_ADDR", "REMOTE_PORT", XFF)
# A request whose memo key would hold more text is walked every time.
_MEMO_TEXT: Final = 2048
# X-Forwarded-For in a memo key: its text, or one of these (see __call__).
_UNREAD: Final = ("unread",)
_CLIENT: Final = "client"
_TAIL: Final = "tail"
_WINDOW: Final = 128  # characters of a long X-Forwarded-For in an exact key
_OWN: Final[Any] = object()  # in a memo entry's originals: the request's own value
# The originals of what the layer changed (environ["wsgifix.orig"]), as the
# server gave them: PEP 3333 says str, and a value of another type is kept
# as it came (typed Any, so that a compiled build passes it on as Python does).
Originals = dict[str, Any]
_NEW_TUPLE: Final = tuple.__new__  # a NamedTuple without a Python-level call
_SETTING_KEYS: Final = {
    "forwarded": FORWARDED,
    "x-forwarded-for": XFF,
    "x-forwarded-proto": XFPROTO,
    "x-forwarded-host": XFHOST,
    "x-forwarded-port": XFPORT,
    "x-forwarded-prefix": XFPREFIX,
}
# waitress 3 deletes these by default (FIELD-NOTES); X-Forwarded-Prefix passes.
_WAITRESS_DELETES: Final = frozenset((FORWARDED, XFF, XFPROTO, XFHOST, XFPORT, XFBY))
_LIST_KEYS: Final = (XFPROTO, XFHOST, XFPORT, XFPREFIX)
_NOT_WITH_FORWARDED: Final = (
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-forwarded-host",
    "x-forwarded-port",
)
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}
_LOG_INTERVAL: Final = 60.0
_LOG_KEYS: Final = 1024
_CACHE_SIZE: Final = 4096
_MAX_HOST: Final = 270  # 253 for the name, brackets, ':' and a port
_TOKEN: Final = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)

# Header statuses in the trust decision.
HONOURED: Final = "honoured"
UNTRUSTED_PEER: Final = "untrusted peer"
NOT_TRUSTED_HEADER: Final = "not in trusted_headers"
INVALID: Final = "invalid"
IGNORED: Final = "ignored"
TOO_SHORT: Final = "too short for trusted_hops"
UNUSED: Final = "not used"
# The headers forwarded excludes (see FORWARDED_TRUSTED).
_EXCLUSIVE: Final = (XFF, XFPROTO, XFHOST, XFPORT)


class TrustDecision(NamedTuple):
    """What the layer decided for one request (for the inspector).

    ``headers`` maps each forwarding header that arrived to ``(status,
    detail)``; ``client`` is the IP reached by the walk (None when no
    address list was honoured or the client was ``unknown``/obfuscated).
    """

    peer: str
    trusted_by: str | None
    mode: str
    client: str | None
    headers: dict[str, tuple[str, str]]


# A memo entry (see ProxyMiddleware._entry): the originals to record, the
# values to set, the keys to delete, the values taken live from the request,
# the trust decision and the X-Forwarded-For tail it was walked with. Typed
# in full: a compiled build unpacks it natively.
_Entry = tuple[
    Originals,
    dict[str, Any],
    tuple[str, ...],
    tuple[tuple[str, Any], ...],
    TrustDecision,
    str,
]


class Rejected(Exception):
    """A request answered with 400; ``str()`` is the one-line reason."""


class _Hosts:
    """A compiled ``allowed_hosts`` list."""

    def __init__(self, entries: Iterable[str]) -> None:
        self.everyone = False
        self.exact: set[str] = set()
        self.suffixes: list[str] = []  # ".example.com": apex and subdomains
        self.subdomains: list[str] = []  # "*.example.com": subdomains only
        for entry in entries:
            if entry == "*":
                self.everyone = True
            elif entry.startswith("*."):
                self.subdomains.append(entry[1:])
            elif entry.startswith("."):
                self.suffixes.append(entry)
                self.exact.add(entry[1:])
            else:
                self.exact.add(_canonical_ip(entry) or entry)
        self._endings = (*self.suffixes, *self.subdomains)

    def allows(self, host: str) -> bool:
        if self.everyone:
            return True
        name = host.lower().removesuffix(".")
        if name in self.exact or (_canonical_ip(name) or "") in self.exact:
            return True
        return name.endswith(self._endings)


def _canonical_ip(text: str) -> str | None:
    bare = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    if not bare or not (bare[0].isdigit() or ":" in bare):
        return None
    try:
        ip = ipaddress.ip_address(bare)
    except ValueError:
        return None
    return f"[{ip.compressed}]" if ip.version == 6 else ip.compressed


def _rightmost(value: str, h: int) -> tuple[str | None, str]:
    """The item at position -h (else the leftmost) and the rightmost h items."""
    if "," not in value:  # the common case: one value
        item = value.strip(" \t")
        return (item, item) if item else (None, "")
    items = list(islice(iter_from_right(value), h))
    if not items:
        return None, ""
    return items[-1], ", ".join(reversed(items))


def _key_text(key: tuple[Any, ...]) -> int:
    """Characters of text in a memo key (inputs, and X-Forwarded-For as the
    key holds it); more than _MEMO_TEXT for a value that is not text."""
    inputs, xkey = key
    if isinstance(xkey, tuple):
        xkey = xkey[1] if len(xkey) > 1 else ""
    try:
        total = len(xkey or "")
        for text in inputs:  # (not sum(map(len, ...)): generic calls compiled)
            if text:
                total += len(text)
        return total
    except TypeError:
        return _MEMO_TEXT + 1


_View = tuple[str, str, str]  # HTTP_HOST, SERVER_NAME, SERVER_PORT


def _host_view(host: str, port: int | None, scheme: str) -> _View:
    """(HTTP_HOST, SERVER_NAME, SERVER_PORT): the port omitted from HTTP_HOST
    when it is the scheme's default, SERVER_PORT always digits."""
    default = _DEFAULT_PORTS[scheme]
    port = port or default
    return (host if port == default else f"{host}:{port}"), host, str(port)


def _one(value: str) -> tuple[str, ...]:
    """A list without commas as the items ``iter_from_right`` would give."""
    item = value.strip(" \t")
    return (item,) if item else ()


def _render_forwarded(elements: list[dict[str, str]]) -> str:
    """Forwarded elements back to header text (values quoted where needed)."""

    def pair(name: str, value: str) -> str:
        if value and all(c in _TOKEN for c in value):
            return f"{name}={value}"
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'{name}="{escaped}"'

    return ", ".join(";".join(pair(k, v) for k, v in el.items()) for el in elements)


class ProxyMiddleware:
    """Apply forwarding headers from trusted proxies; validate the Host.

    Settings (CONTRACT.md section 2): ``trusted_proxies``, ``trusted_hops``,
    ``trusted_headers``, ``clear_untrusted``, ``on_invalid``, ``url_scheme``,
    ``allowed_hosts``; text or typed values, checked here once.
    """

    def __init__(self, app: WSGIApplication, **settings: Any) -> None:
        self.app = app
        self.settings = config.resolve(settings, layer="proxy")
        self.peers = TrustedPeers(self.settings["trusted_proxies"])
        self.hops: int = self.settings["trusted_hops"]
        self.mode = "hops" if self.hops else "chain"
        self._hops_label = f"trusted_hops={self.hops}"
        trusted = {_SETTING_KEYS[name] for name in self.settings["trusted_headers"]}
        self.trusted_keys = frozenset(trusted)
        self._excluded: dict[str, str] = {}  # see FORWARDED_TRUSTED
        if FORWARDED in trusted:
            self._excluded = dict.fromkeys(_EXCLUSIVE, FORWARDED_TRUSTED)
        elif self.trusted_keys.intersection(_EXCLUSIVE):
            self._excluded = {FORWARDED: X_FORWARDED_TRUSTED}
        self._xff_read = XFF in trusted  # see _reads_xff
        self._forwarded_read = FORWARDED in trusted
        self.clear_untrusted: bool = self.settings["clear_untrusted"]
        self.reject: bool = self.settings["on_invalid"] == "reject"
        self.url_scheme: str = self.settings["url_scheme"]
        self.hosts = _Hosts(self.settings["allowed_hosts"])
        # Nothing can be trusted: no peer list and no hop count.
        self.trust_nobody = not self.peers and not self.hops
        self._logged: dict[tuple[str, ...], float] = {}
        self._quiet_cache: dict[str, TrustDecision] = {}
        self._memo: dict[tuple[Any, ...], _Entry] = {}  # exact keys
        # The last memo key's two parts and its entry (see __call__).
        self._last: tuple[tuple[Any, ...], Any, _Entry | None] = ((), None, None)
        self._shapes: dict[tuple[Any, ...], _Entry] = {}  # see _client_of
        self._host_shapes: dict[tuple[Any, ...], tuple[Any, ...]] = {}  # _by_host
        self._xfh_read = XFHOST in trusted  # see _host_key
        self._seen = SecondSight(_CACHE_SIZE)  # X-Forwarded-For, see _promote
        self._walked = SecondSight(_CACHE_SIZE)  # hashes, see _second_walk
        self._log_calls = 0
        # Host value -> its (HTTP_HOST, SERVER_NAME, SERVER_PORT) over http
        # and over https, or the reason it is refused (see _host_header).
        self._host_cache: dict[str, tuple[_View, _View] | str] = {}

    # -- the request ------------------------------------------------------------

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        orig: Originals
        try:
            if (  # any of HEADER_NAMES (written out: no view, no set walk)
                XFF in environ
                or FORWARDED in environ
                or XFPROTO in environ
                or XFHOST in environ
                or XFPORT in environ
                or XFPREFIX in environ
                or XFBY in environ
            ):
                xff: Any = environ.get(XFF)
                # Compiled, compared in place first (see _as_before); as
                # source, the tuple and its compare in C are quicker.
                inputs: Any = None if _COMPILED else _inputs(environ)
                # The last memo key (inputs, X-Forwarded-For as keyed) and
                # its entry.
                prior, prior_xkey, prior_memo = self._last
                memo: _Entry | None = None
                try:
                    # The same values as the last request's (one proxy, one
                    # site): that tuple's text, its hashes computed already;
                    # the same client too (its next request on a keep-alive
                    # connection): the same key, so the same entry, without
                    # a lookup (a long X-Forwarded-For by its last characters,
                    # compared in place).
                    if (
                        _as_before(environ, prior)
                        if inputs is None
                        else inputs == prior
                    ):
                        inputs = prior
                        if prior_memo is not None and type(xff) is str:
                            text: str = xff  # (typed: native str operations)
                            if len(text) <= _MEMO_TEXT:
                                if (
                                    _equal(text, prior_xkey)
                                    if _COMPILED
                                    else text == prior_xkey
                                ):
                                    memo = prior_memo
                            elif type(prior_xkey) is tuple:
                                window: str = prior_xkey[1]
                                if text.endswith(window):
                                    memo = prior_memo
                except Exception:  # a value that cannot be compared
                    pass
                if inputs is None:
                    inputs = _inputs(environ)
                exact: Any = None
                if memo is None:
                    # This very request seen before (a client's next one); a
                    # long X-Forwarded-For by its last characters (_promote).
                    if xff is None or (type(xff) is str and len(xff) <= _MEMO_TEXT):
                        exact = (inputs, xff)
                    elif type(xff) is str:
                        exact = (inputs, (_TAIL, xff[-_WINDOW:]))
                    try:
                        memo = self._memo.get(exact) if exact is not None else None
                    except TypeError:  # a value that is not text: no memo
                        exact = None
                    if exact is not None:
                        self._last = (inputs, exact[1], memo)
                if memo is None:
                    self._by_shape(environ, xff, inputs, exact)
                else:
                    self._replay(environ, xff, memo)
            else:
                # Nothing forwarded: only the scheme and the Host. This runs
                # on most requests, so it is written out, with cached verdicts.
                environ["wsgifix.orig"] = orig = {}
                peer: Any = environ.get("REMOTE_ADDR") or ""
                try:  # (a verdict cached for the peer: most requests)
                    decision = self._quiet_cache.get(peer)
                except TypeError:  # not hashable: not text either
                    decision = None
                if decision is None:
                    decision = self._quiet(_peer(environ))  # (text, or "")
                environ["wsgifix.trust"] = decision
                server_scheme: Any = environ.get("wsgi.url_scheme")
                scheme: str = self.url_scheme
                if scheme:  # the url_scheme setting
                    if scheme != server_scheme:
                        orig["wsgi.url_scheme"] = server_scheme
                        environ["wsgi.url_scheme"] = scheme
                elif isinstance(server_scheme, str) and (
                    server_scheme == "http" or server_scheme == "https"
                ):
                    scheme = server_scheme  # the common case: nothing to change
                else:
                    scheme = str(server_scheme or "http").lower()
                    scheme = scheme if scheme in _DEFAULT_PORTS else "http"
                    orig["wsgi.url_scheme"] = server_scheme
                    environ["wsgi.url_scheme"] = scheme
                if scheme == "https":
                    if environ.get("HTTPS") != "on":
                        orig.setdefault("HTTPS", environ.get("HTTPS"))
                        environ["HTTPS"] = "on"
                elif "HTTPS" in environ:
                    orig["HTTPS"] = environ.pop("HTTPS")
                value = environ.get("HTTP_HOST")
                if value is None:
                    self._rewrite(environ, orig, None, scheme, None, None, None, None)
                else:
                    try:
                        cached = self._host_cache.get(value)
                    except TypeError:  # not text, nor hashable (see _host_text)
                        cached = None
                    if cached is None or isinstance(cached, str):
                        view = self._host_header(value, scheme)
                    else:
                        view = cached[1] if scheme == "https" else cached[0]
                    shown, name, port_text = view
                    if value != shown:
                        orig["HTTP_HOST"] = value
                        environ["HTTP_HOST"] = shown
                    old = environ.get("SERVER_NAME")
                    if old != name:
                        orig["SERVER_NAME"] = old
                        environ["SERVER_NAME"] = name
                    old = environ.get("SERVER_PORT")
                    if old != port_text:
                        orig["SERVER_PORT"] = old
                        environ["SERVER_PORT"] = port_text
        except Rejected as exc:
            return self._bad_request(str(exc), start_response)
        app = self.app
        if type(app) is CookieMiddleware:  # compiled: a direct call
            # (through the class, as a call of the object would: an
            # instance attribute named __call__ is not used either way)
            return CookieMiddleware.__call__(app, environ, start_response)
        return app(environ, start_response)

    def _replay(
        self,
        environ: WSGIEnvironment,
        xff: Any,
        memo: _Entry,
        client: tuple[str, Node, str, int] | None = None,
    ) -> Originals:
        """Apply a memo entry (see _entry) to this request; its originals."""
        template: Originals  # typed: a compiled build copies it directly
        template, updates, deletes, live, remembered, tail = memo
        orig = template.copy()
        environ["wsgifix.orig"] = orig
        if XFF in orig:
            orig[XFF] = xff  # the request's own (see _entry)
        environ.update(updates)
        for name in deletes:
            del environ[name]
        for name, value in live:  # values outside the memo key
            old = environ.get(name)
            if not (_equal(old, value) if _COMPILED else old == value):
                orig[name] = old
                if value is None:
                    del environ[name]
                else:
                    environ[name] = value
        if client is not None:
            remembered = self._to_client(environ, orig, client, remembered, tail)
        _follow_host(environ, orig)
        environ["wsgifix.trust"] = remembered
        return orig

    def _by_shape(
        self,
        environ: WSGIEnvironment,
        xff: Any,
        inputs: tuple[Any, ...],
        exact: tuple[Any, ...] | None,
    ) -> None:
        """A request not seen before: answered from its shape's entry (see
        _client_of), else walked and remembered."""
        shape: Any = None
        client = None
        if exact is not None and xff is not None:
            # X-Forwarded-For as far as the walk reads it, the client apart.
            if not self._reads_xff(environ):
                shape = (inputs, _UNREAD)
            else:
                client = self._client_of(xff)
                if client is not None:
                    node, right = client[1], client[2]
                    shape = (
                        inputs,
                        (_CLIENT, right, node.ip is None, node.port is None),
                    )
        memo = self._shapes.get(shape) if shape is not None else None
        if memo is None:
            # A Host not seen before (a new tenant, or a client inventing
            # them): the walk for another host, its host made per request.
            hkey = None
            if exact is not None and (shape is not None or xff is None):
                hkey = self._host_key(inputs, exact[1] if shape is None else shape[1])
                if hkey is not None:
                    apart = self._host_shapes.get(hkey)
                    if apart is not None and self._by_host(environ, xff, apart, client):
                        # A host's second such request: its own entry.
                        own = exact if shape is None else shape
                        if self._second_walk(own):
                            self._keep_own(environ, own, shape is None, client, apart)
                        return
            walked: Originals = {}
            environ["wsgifix.orig"] = walked
            self._apply_and_remember(environ, walked, exact, shape, client, hkey)
            return
        orig = self._replay(environ, xff, memo, client)
        self._promote(environ, orig, exact, shape, client)

    def _keep_own(
        self,
        environ: WSGIEnvironment,
        own: tuple[Any, ...],
        exact: bool,
        client: tuple[str, Node, str, int] | None,
        apart: tuple[Any, ...],
    ) -> None:
        """Keep a request answered by _by_host under its own key (``exact``:
        the very request's, else its shape's), as its walk would have been:
        a host that comes back is then answered as cheaply as one walked."""
        orig: Originals = environ["wsgifix.orig"]
        decision: TrustDecision = environ["wsgifix.trust"]
        if exact:
            self._keep(self._memo, own, environ, orig, decision, (), "")
            return
        per_client = _PER_CLIENT if client is not None else ()
        tail = apart[0][5]  # the X-Forwarded-For text right of the client
        self._keep(self._shapes, own, environ, orig, decision, per_client, tail)

    def _host_key(self, inputs: tuple[Any, ...], xkey: Any) -> tuple[Any, ...] | None:
        """The memo key with X-Forwarded-Host apart (see _by_host): None
        unless the layer reads it and it is one item (no comma)."""
        value = inputs[_XFH_AT]
        if not self._xfh_read or type(value) is not str or "," in value:
            return None
        return (inputs[:_XFH_AT] + _HOST_APART + inputs[_XFH_AT + 1 :], xkey)

    def _by_host(
        self,
        environ: WSGIEnvironment,
        xff: Any,
        apart: tuple[Any, ...],
        client: tuple[str, Node, str, int] | None,
    ) -> bool:
        """Answer from the walk of a request that differed only in its
        X-Forwarded-Host item (see _keep_apart): the remembered changes, then
        the Host, SERVER_NAME and SERVER_PORT made from this request's item
        as the walk makes them. False, with the environ untouched, for an
        item the walk would refuse (invalid, or not in allowed_hosts): the
        walk answers those, with its log line or its 400."""
        memo, port = apart
        value: str = environ[XFHOST]
        item = value.strip(" \t")
        if not item:
            return False
        try:
            host, host_port = parse_host(item)
        except HeaderError:
            return False
        if not self.hosts.allows(host):
            return False
        orig = self._replay(environ, xff, memo, client)
        view = _host_view(host, port or host_port, environ["wsgi.url_scheme"])
        for key, new in zip(_BY_HOST, view, strict=True):
            _set(environ, orig, key, new)
        if self.clear_untrusted and value != item:
            orig[XFHOST] = value
            environ[XFHOST] = item
        decision: TrustDecision = environ["wsgifix.trust"]
        statuses = {**decision.headers, XFHOST: (HONOURED, item)}
        peer, trusted_by, mode, ip, _ = decision
        environ["wsgifix.trust"] = _NEW_TUPLE(
            TrustDecision, (peer, trusted_by, mode, ip, statuses)
        )
        return True

    def _apply_and_remember(
        self,
        environ: WSGIEnvironment,
        orig: Originals,
        exact: tuple[Any, ...] | None,
        shape: tuple[Any, ...] | None,
        client: tuple[str, Node, str, int] | None,
        hkey: tuple[Any, ...] | None = None,
    ) -> None:
        """Run the walk, and remember its effect for requests with the same key.

        Requests through one proxy repeat the same header values, so the
        environ changes are kept, bounded, from the second walk for a key
        (:meth:`_second_walk`), under two keys: ``shape`` (every
        environ value the walk reads, X-Forwarded-For as far as the walk
        reads it with the client apart: every client's requests, a hostile
        header keyed by its last items) and ``exact`` (X-Forwarded-For's text
        too: a client's next requests, kept from its second request on, see
        :meth:`_promote`). An entry holds the originals (known from the key),
        the new values and the removals; REMOTE_PORT (not in the key: it
        varies per socket) is compared per request, X-Forwarded-For's
        original is always the request's own, and under ``shape`` with a
        ``client`` (see :meth:`_client_of`), the client's address, port,
        X-Forwarded-For cut and trust decision are made per request
        (:meth:`_to_client`). Under ``hkey`` the same with X-Forwarded-Host's
        item apart (:meth:`_keep_apart`). A walk that logged or was rejected
        is not remembered, so its log line keeps its own limits.
        """
        logged = self._log_calls
        self._apply(environ, orig)
        if self._log_calls != logged:
            return
        decision: TrustDecision = environ["wsgifix.trust"]
        per_client: tuple[str, ...] = ()
        tail = ""
        if client is not None:
            item, node = client[0], client[1]
            cut = environ.get(XFF)
            if (
                decision.client != node.ip
                or decision.headers.get(XFF, ("",))[0] != HONOURED
                or (node.ip is not None and environ.get("REMOTE_ADDR") != node.ip)
                or (self.clear_untrusted and not (cut or "").startswith(item))
            ):
                return  # not the walk _client_of foresaw: keep nothing
            per_client = _PER_CLIENT
            tail = (cut or "")[len(item) :]
        if hkey is not None and self._second_walk(hkey):
            self._keep_apart(hkey, environ, orig, decision, per_client, tail)
        if shape is None:
            # No shape: only this very request, if its key holds all the
            # walk read.
            if (
                exact is not None
                and not isinstance(exact[1], tuple)
                and self._second_walk(exact)
            ):
                self._keep(self._memo, exact, environ, orig, decision, (), "")
            return
        if self._second_walk(shape):
            self._keep(self._shapes, shape, environ, orig, decision, per_client, tail)

    def _keep_apart(
        self,
        key: tuple[Any, ...],
        environ: WSGIEnvironment,
        orig: Originals,
        decision: TrustDecision,
        per_client: tuple[str, ...],
        tail: str,
    ) -> None:
        """Keep a walk under ``key`` (see _host_key) if it did with the
        X-Forwarded-Host item what _by_host does with any item: honoured it,
        and made HTTP_HOST, SERVER_NAME and SERVER_PORT of it and of the
        trusted X-Forwarded-Port (if any) and the scheme alone."""
        value: Any = orig.get(XFHOST, environ.get(XFHOST))
        if type(value) is not str:
            return
        item = value.strip(" \t")
        statuses = decision.headers
        if statuses.get(XFHOST) != (HONOURED, item):
            return
        port = None
        forwarded_port = statuses.get(XFPORT)
        if forwarded_port is not None and forwarded_port[0] == HONOURED:
            port = _port(forwarded_port[1])
        host, host_port = parse_host(item)  # honoured: it parses
        view = _host_view(host, port or host_port, environ["wsgi.url_scheme"])
        if (
            tuple(map(environ.get, _BY_HOST)) != view
            or environ.get(XFHOST) != (item if self.clear_untrusted else value)
            or _key_text(key) > _MEMO_TEXT
        ):
            return  # not the walk _by_host foresees: keep nothing
        apart = (*per_client, *_BY_HOST, XFHOST)
        memo = self._host_shapes
        if len(memo) >= _CACHE_SIZE:
            memo.clear()
        memo[key] = (self._entry(environ, orig, decision, apart, tail), port)

    def _second_walk(self, key: tuple[Any, ...]) -> bool:
        """True on the second walk for ``key`` (only its hash is kept): a
        stream of requests each unlike the others (invented Hosts, say)
        then leaves no entries behind and evicts none."""
        try:
            token = hash(key)
        except TypeError:
            return False
        return self._walked.second(token)

    def _promote(
        self,
        environ: WSGIEnvironment,
        orig: Originals,
        exact: tuple[Any, ...] | None,
        shape: tuple[Any, ...],
        client: tuple[str, Node, str, int] | None,
    ) -> None:
        """A request answered from its shape: on the second sight of its
        X-Forwarded-For, keep what it changed (in ``orig``) under its
        ``exact`` key, so a returning client gets the cheapest answer while
        a stream of new clients adds one set entry each."""
        # X-Forwarded-For as the key holds it is enough to tell requests apart.
        if exact is None or not self._seen.second(exact[1]):
            return
        if isinstance(exact[1], tuple) and client is not None:
            # A long X-Forwarded-For keyed by its last _WINDOW characters:
            # right only when the walk stopped inside them (without a client
            # the shape is _UNREAD: the text never mattered).
            xff = orig.get(XFF, environ.get(XFF)) or ""
            if client[3] < len(xff) - _WINDOW:
                return
        decision: TrustDecision = environ["wsgifix.trust"]
        self._keep(self._memo, exact, environ, orig, decision, (), "")

    @staticmethod
    def _keep(
        memo: dict[tuple[Any, ...], _Entry],
        key: tuple[Any, ...],
        environ: WSGIEnvironment,
        orig: Originals,
        decision: TrustDecision,
        per_client: tuple[str, ...],
        tail: str,
    ) -> None:
        """Store an entry (see _entry) unless its key holds long text."""
        if _key_text(key) > _MEMO_TEXT:
            return
        if len(memo) >= _CACHE_SIZE:
            memo.clear()
        memo[key] = ProxyMiddleware._entry(environ, orig, decision, per_client, tail)

    @staticmethod
    def _entry(
        environ: WSGIEnvironment,
        orig: Originals,
        decision: TrustDecision,
        per_client: tuple[str, ...],
        tail: str,
    ) -> _Entry:
        """A memo entry from one walk's changes (see _apply_and_remember)."""
        changed = list(orig)
        if decision.client is not None:
            # The client's address and port replace the peer's whatever they
            # were (REMOTE_PORT is not part of the key: it varies per socket).
            changed += ["REMOTE_ADDR", "REMOTE_PORT"]
        template: Originals = {}
        updates: dict[str, Any] = {}
        deletes: list[str] = []
        live: list[tuple[str, Any]] = []
        for name in dict.fromkeys(changed):
            if name in per_client or name == "REMOTE_HOST":  # (see _follow_host)
                continue
            value = environ.get(name)
            if name == "REMOTE_PORT":
                live.append((name, value))
                continue
            old: Any = orig.get(name, environ.get(name))
            if name == XFF:
                old = _OWN  # the request's own, set from it on every use
            elif old == value:
                continue
            template[name] = old
            if value is None:
                deletes.append(name)
            else:
                updates[name] = value
        return template, updates, tuple(deletes), tuple(live), decision, tail

    def _reads_xff(self, environ: WSGIEnvironment) -> bool:
        """Whether the walk reads X-Forwarded-For's text (see _apply)."""
        return (
            self._xff_read
            and not (self._forwarded_read and environ.get(FORWARDED) is not None)
            and self._trusted_by(_peer(environ)) is not None
        )

    def _client_of(self, value: str) -> tuple[str, Node, str, int] | None:
        """What the X-Forwarded-For walk (:meth:`_xff`) finds: the client's
        item, its node, the text right of it (the trusted hops) and the
        index of the comma left of it (-1: none), or None when the walk
        would fail, fall short or find no item.

        The walk never reads left of the client's item, and what it does
        with the client's address does not depend on the address, so a memo
        key holding the text right of it serves every client (and a hostile
        header is keyed by its last items only).
        """
        if "," not in value and (self.hops or 0) <= 1:  # one item: the client
            item = value.strip(" \t")
            if not item:
                return None
            try:
                return item, parse_xff_item(item), "", -1
            except HeaderError:
                return None
        end = len(value)
        count = 0
        empty = 0
        last = None
        while end >= 0:
            comma = value.rfind(",", 0, end)
            item = value[comma + 1 : end].strip(" \t")
            if not item:
                empty += 1
                if empty > MAX_EMPTY:  # the list ends (as iter_from_right)
                    break
            else:
                count += 1
                if not self.hops and count > MAX_HOPS:
                    return None  # "still trusted after 64 hops"
                try:
                    node = parse_xff_item(item)
                except HeaderError:
                    return None
                if self.hops:
                    if count == self.hops:
                        return item, node, value[end:], comma
                elif node.ip is None or node.ip not in self.peers:
                    return item, node, value[end:], comma
                last = (item, node, value[end:], comma)
            end = comma
        return None if self.hops else last

    def _to_client(
        self,
        environ: WSGIEnvironment,
        orig: Originals,
        client: tuple[str, Node, str, int],
        remembered: TrustDecision,
        tail: str,
    ) -> TrustDecision:
        """A remembered walk applied to this request's client (see
        _client_of): its address and port, the X-Forwarded-For cut and the
        trust decision naming it."""
        item, node = client[0], client[1]
        ip = node.ip
        if ip is not None:
            old = environ.get("REMOTE_ADDR")
            if old != ip:
                orig["REMOTE_ADDR"] = old
                environ["REMOTE_ADDR"] = ip
            if node.port is not None:
                old = environ.get("REMOTE_PORT")
                if old != node.port:
                    orig["REMOTE_PORT"] = old
                    environ["REMOTE_PORT"] = node.port
            elif "REMOTE_PORT" in environ:
                orig["REMOTE_PORT"] = environ.pop("REMOTE_PORT")
        if self.clear_untrusted:
            cut = item + tail
            raw = environ[XFF]
            if raw != cut:
                orig[XFF] = raw
                environ[XFF] = cut
        statuses = {**remembered.headers, XFF: (HONOURED, ip or "unknown client")}
        peer, trusted_by, mode, _, _ = remembered
        return _NEW_TUPLE(TrustDecision, (peer, trusted_by, mode, ip, statuses))

    def _quiet(self, peer: str) -> TrustDecision:
        """The decision for a request without forwarding headers (cached)."""
        decision = self._quiet_cache.get(peer)
        if decision is None:
            decision = TrustDecision(peer, self._trusted_by(peer), self.mode, None, {})
            if len(self._quiet_cache) >= _CACHE_SIZE:
                self._quiet_cache.clear()
            self._quiet_cache[peer] = decision
        return decision

    def _host_header(self, value: Any, scheme: str) -> _View:
        """Host header -> (HTTP_HOST, SERVER_NAME, SERVER_PORT), checked and
        cached per value (the views for both schemes: one key, no tuple to
        build per request); raises Rejected."""
        try:
            value = _host_text(value)
        except HeaderError as exc:
            raise Rejected(f"Host: {exc}") from None
        found = self._host_cache.get(value)
        if found is None:
            try:
                host, host_port = parse_host(value)
            except HeaderError as exc:
                found = f"Host: {exc}"
            else:
                if self.hosts.allows(host):
                    found = (
                        _host_view(host, host_port, "http"),
                        _host_view(host, host_port, "https"),
                    )
                else:
                    found = f"Host: {host!r} is not in allowed_hosts"
            if len(value) <= _MAX_HOST:  # a valid Host is short; keep no long text
                if len(self._host_cache) >= _CACHE_SIZE:
                    self._host_cache.clear()
                self._host_cache[value] = found
        if isinstance(found, str):
            raise Rejected(found)
        return found[1] if scheme == "https" else found[0]

    def _trusted_by(self, peer: str) -> str | None:
        """The ``trusted_proxies`` entry trusting the socket peer, else None."""
        if self.hops and not self.peers:
            return self._hops_label
        return self.peers.match(peer)

    def _apply(self, environ: WSGIEnvironment, orig: Originals) -> None:
        peer = _peer(environ)
        trusted_by = self._trusted_by(peer)
        # A header whose value is None is no header, as environ.get reads
        # it (and the memo keys: see __call__); not text otherwise is
        # invalid from a trusted proxy (below).
        present = [key for key in HEADER_NAMES if environ.get(key) is not None]
        statuses: dict[str, tuple[str, str]] = {}
        client: Node | None = None
        scheme = host = prefix = None
        host_port = port = None

        if present and trusted_by is not None:
            for key in present:
                value: Any = environ[key]
                if key in self.trusted_keys and type(value) is not str:
                    # Not from a client (PEP 3333 says str): a server or a
                    # middleware before wsgifix put it there. Invalid, so
                    # that it gets the one-line answer, never a traceback.
                    kind = type(value).__name__
                    self._invalid(environ, key, f"not text ({kind})", statuses)
            h = self.hops or 1
            if (
                FORWARDED in self.trusted_keys
                and FORWARDED in present
                and FORWARDED not in statuses
            ):
                walked = self._forwarded(environ, orig, statuses)
                if walked is not None:
                    client, h, scheme, host, host_port = walked
            elif XFF in self.trusted_keys and XFF in present and XFF not in statuses:
                found = self._xff(environ, orig, statuses)
                if found is not None:
                    client, h = found
            for key in _LIST_KEYS:
                if (
                    key not in self.trusted_keys
                    or key not in present
                    or key in statuses
                ):
                    continue
                value = self._list_value(environ, orig, key, h)
                if value is None:
                    continue
                try:
                    if key == XFPROTO:
                        scheme = _proto(value)
                    elif key == XFHOST:
                        host, host_port = parse_host(value)
                    elif key == XFPORT:
                        port = _port(value)
                    else:
                        prefix = normalize_prefix(value)
                except HeaderError as exc:
                    self._invalid(environ, key, str(exc), statuses)
                    continue
                statuses[key] = (HONOURED, value)
            self._check_waitress(environ, present)

        for key in present:
            if key in statuses and statuses[key][0] == HONOURED:
                continue
            if key not in statuses:
                if trusted_by is None:
                    statuses[key] = (UNTRUSTED_PEER, peer)
                elif key in self.trusted_keys:
                    statuses[key] = (UNUSED, "")
                else:
                    statuses[key] = (NOT_TRUSTED_HEADER, self._excluded.get(key, ""))
            if self.clear_untrusted:
                orig.setdefault(key, environ.pop(key))
        if present and self.trust_nobody:
            self._advise_untrusted(peer, present)

        environ["wsgifix.trust"] = TrustDecision(
            peer,
            trusted_by,
            self.mode,
            client.ip if client is not None else None,
            statuses,
        )
        self._rewrite(environ, orig, client, scheme, host, host_port, port, prefix)

    # -- reading trusted headers ------------------------------------------------

    def _xff(
        self,
        environ: WSGIEnvironment,
        orig: Originals,
        statuses: dict[str, tuple[str, str]],
    ) -> tuple[Node, int] | None:
        """Walk X-Forwarded-For: the client node and h (entries walked)."""
        value: str = environ[XFF]
        items: list[str] = []
        client: Node | None = None
        try:
            if self.hops:
                items = list(islice(iter_from_right(value), self.hops))
                if len(items) < self.hops:
                    statuses[XFF] = (TOO_SHORT, f"{len(items)} < {self.hops}")
                    return None
                for item in items[:-1]:
                    parse_xff_item(item)
                client = parse_xff_item(items[-1])
            else:
                walk = iter_from_right(value) if "," in value else _one(value)
                for item in walk:
                    if len(items) == MAX_HOPS:
                        raise HeaderError(f"still trusted after {MAX_HOPS} hops")
                    node = parse_xff_item(item)
                    items.append(item)
                    client = node
                    if node.ip is None or node.ip not in self.peers:
                        break
        except HeaderError as exc:
            self._invalid(environ, XFF, str(exc), statuses)
            return None
        if client is None:  # only empty items
            return None
        statuses[XFF] = (HONOURED, client.ip or "unknown client")
        self._cut(environ, orig, XFF, ", ".join(reversed(items)))
        return client, len(items)

    def _forwarded(
        self,
        environ: WSGIEnvironment,
        orig: Originals,
        statuses: dict[str, tuple[str, str]],
    ) -> tuple[Node, int, str | None, str | None, int | None] | None:
        """Walk Forwarded elements: the client node, h, scheme, host and port.

        A field missing in the client's element comes from the nearest
        element to its right that carries it (CONTRACT.md section 7).
        """
        try:
            elements = parse_forwarded(environ[FORWARDED])
            if self.hops:
                if len(elements) < self.hops:
                    statuses[FORWARDED] = (
                        TOO_SHORT,
                        f"{len(elements)} < {self.hops}",
                    )
                    return None
                walked = elements[-self.hops :]
                client = _for_node(walked[0])
                for element in walked[1:]:
                    _for_node(element)
            else:
                walked = []
                client = Node(None, None)
                for element in reversed(elements):
                    if len(walked) == MAX_HOPS:
                        raise HeaderError(f"still trusted after {MAX_HOPS} hops")
                    client = _for_node(element)
                    walked.insert(0, element)
                    if client.ip is None or client.ip not in self.peers:
                        break
            if not walked:
                return None
            fields: dict[str, str] = {}
            for element in reversed(walked):  # right to left: the client's wins
                fields.update(element)
            scheme = _proto(fields["proto"]) if "proto" in fields else None
            host, port = (
                parse_host(fields["host"]) if "host" in fields else (None, None)
            )
        except HeaderError as exc:
            self._invalid(environ, FORWARDED, str(exc), statuses)
            return None
        statuses[FORWARDED] = (HONOURED, client.ip or "unknown client")
        self._cut(environ, orig, FORWARDED, _render_forwarded(walked))
        return client, len(walked), scheme, host, port

    def _list_value(
        self,
        environ: WSGIEnvironment,
        orig: Originals,
        key: str,
        h: int,
    ) -> str | None:
        """X-Forwarded-Proto/Host/Port/Prefix: the value at -h, else leftmost."""
        if self.hops:
            h = self.hops
        value, tail = _rightmost(environ[key], h)
        if value is None:
            return None
        self._cut(environ, orig, key, tail)
        return value

    # -- changing the environ -----------------------------------------------------

    def _cut(
        self,
        environ: WSGIEnvironment,
        orig: Originals,
        key: str,
        tail: str,
    ) -> None:
        """Rewrite an honoured list to its trusted part (``clear_untrusted``)."""
        if not self.clear_untrusted or environ[key] == tail:
            return
        orig.setdefault(key, environ[key])
        environ[key] = tail

    def _invalid(
        self,
        environ: WSGIEnvironment,
        key: str,
        reason: str,
        statuses: dict[str, tuple[str, str]],
    ) -> None:
        message = f"{HEADER_NAMES[key]}: {reason}"
        peer = environ.get("REMOTE_ADDR", "")
        if self.reject:
            self._log_once(
                ("reject", key),
                logging.WARNING,
                "400 Bad Request for a request from trusted proxy %s: %s "
                "(on_invalid=ignore would skip the header instead)",
                peer,
                message,
            )
            raise Rejected(message)
        self._log_once(
            ("ignore", key),
            logging.WARNING,
            "ignored a malformed header from trusted proxy %s: %s",
            peer,
            message,
        )
        statuses[key] = (IGNORED, reason)

    def _rewrite(
        self,
        environ: WSGIEnvironment,
        orig: Originals,
        client: Node | None,
        scheme: str | None,
        host: str | None,
        host_port: int | None,
        port: int | None,
        prefix: str | None,
    ) -> None:
        """Write the effective request into the environ; check the Host."""
        if client is not None and client.ip is not None:
            _set(environ, orig, "REMOTE_ADDR", client.ip)
            if client.port is not None:
                _set(environ, orig, "REMOTE_PORT", client.port)
            elif "REMOTE_PORT" in environ:
                orig.setdefault("REMOTE_PORT", environ.pop("REMOTE_PORT"))
            _follow_host(environ, orig)

        # Any: the server's value, whatever its type (see Originals).
        chosen: Any = (
            scheme or self.url_scheme or environ.get("wsgi.url_scheme", "http")
        )
        if type(chosen) is not str or chosen not in _DEFAULT_PORTS:
            low = chosen.lower() if type(chosen) is str else ""
            chosen = low if low in _DEFAULT_PORTS else "http"
        scheme = chosen
        _set(environ, orig, "wsgi.url_scheme", scheme)
        if scheme == "https":
            _set(environ, orig, "HTTPS", "on")
        elif "HTTPS" in environ:
            orig.setdefault("HTTPS", environ.pop("HTTPS"))

        given: Any = environ.get("HTTP_HOST")  # (None: no Host header)
        if host is None and port is None and given is not None:
            # The Host header alone decides (the common case): cached.
            shown, name, port_text = self._host_header(given, scheme)
            _set(environ, orig, "HTTP_HOST", shown)
            _set(environ, orig, "SERVER_NAME", name)
            _set(environ, orig, "SERVER_PORT", port_text)
        else:
            if host is None and given is not None:
                try:
                    host, host_port = parse_host(_host_text(given))
                except HeaderError as exc:
                    raise Rejected(f"Host: {exc}") from None
            if host is not None:
                shown, name, port_text = _host_view(host, port or host_port, scheme)
                _set(environ, orig, "HTTP_HOST", shown)
                _set(environ, orig, "SERVER_NAME", name)
                _set(environ, orig, "SERVER_PORT", port_text)
            elif port is not None:
                _set(environ, orig, "SERVER_PORT", str(port))
            checked: Any = host if host is not None else environ.get("SERVER_NAME")
            if type(checked) is not str:  # no Host, no SERVER_NAME text: no name
                checked = ""
            if not self.hosts.allows(checked):
                raise Rejected(f"Host: {checked!r} is not in allowed_hosts")

        if prefix:
            script: Any = environ.get("SCRIPT_NAME")
            base = script.rstrip("/") if type(script) is str else ""  # (see prefix.py)
            _set(environ, orig, "SCRIPT_NAME", prefix + base)

    # -- answers and advice -------------------------------------------------------

    @staticmethod
    def _bad_request(reason: str, start_response: StartResponse) -> Iterable[bytes]:
        line = reason.replace("\r", " ").replace("\n", " ")
        # ASCII (non-ASCII escaped), so the body is what its charset says.
        body = f"400 Bad Request: {line}\n".encode("ascii", "backslashreplace")
        start_response(
            "400 Bad Request",
            [
                ("Content-Type", "text/plain; charset=utf-8"),
                ("Content-Length", str(len(body))),
            ],
        )
        return [body]

    def _log_once(
        self,
        key: tuple[str, ...],
        level: int,
        msg: str,
        *args: Any,
        every: float = _LOG_INTERVAL,
    ) -> None:
        """Log at most once per ``every`` seconds per key (bounded), so logs
        cannot flood; ``every=math.inf`` logs once per wrapped app."""
        now = time.monotonic()
        last = self._logged.get(key)
        if last is not None and now - last < every:
            # A request whose line is held back may be remembered only when
            # the line is never due again (see _apply_and_remember).
            self._log_calls += every != math.inf
            return
        self._log_calls += 1
        if len(self._logged) >= _LOG_KEYS:
            self._logged.clear()
        self._logged[key] = now
        log.log(level, msg, *args)

    def _check_waitress(self, environ: WSGIEnvironment, present: list[str]) -> None:
        """A trusted proxy's X-Forwarded-Prefix arrived alone under waitress:
        waitress deleted the other headers before wsgifix could see them."""
        software: Any = environ.get("SERVER_SOFTWARE")
        if (
            XFPREFIX in present
            and type(software) is str
            and "waitress" in software
            and _WAITRESS_DELETES.isdisjoint(present)
        ):
            self._log_once(
                ("waitress",),
                logging.WARNING,
                "a trusted proxy sent X-Forwarded-Prefix but no Forwarded or "
                "X-Forwarded-For/Proto/Host/Port reached wsgifix: waitress "
                "deleted them (clear_untrusted_proxy_headers=True is its "
                "default). Serve with `wsgifix serve`, or waitress.serve(app, "
                "clear_untrusted_proxy_headers=False), or waitress-serve "
                "--no-clear-untrusted-proxy-headers.",
                every=math.inf,  # CONTRACT.md 6: "logs once"
            )

    def _advise_untrusted(self, peer: str, present: list[str]) -> None:
        names = ", ".join(HEADER_NAMES[key] for key in present)
        action = "removed" if self.clear_untrusted else "ignored"
        suggest = [name for name, key in _SETTING_KEYS.items() if key in present]
        if "forwarded" in suggest and any(n in _NOT_WITH_FORWARDED for n in suggest):
            # Config refuses forwarded beside these (CONTRACT.md 7).
            suggest.remove("forwarded")
        wanted = " ".join(suggest)
        self._log_once(
            ("untrusted",),
            logging.INFO,
            "a request from %s carries %s, %s because no proxy is trusted. If "
            "%s is your reverse proxy, set trusted_proxies=%s "
            "(--trusted-proxies / WSGIFIX_TRUSTED_PROXIES) and "
            "trusted_headers=%r to honour them.",
            peer or "(no address)",
            names,
            action,
            peer or "the peer",
            peer or "unix",
            wanted or "x-forwarded-for x-forwarded-proto",
            every=math.inf,
        )


def _for_node(element: dict[str, str]) -> Node:
    """The ``for`` node of a Forwarded element (absent: an unknown client)."""
    value = element.get("for")
    return Node(None, None) if value is None else parse_node(value)


def _proto(value: str) -> str:
    scheme = value.lower()
    if scheme not in _DEFAULT_PORTS:
        raise HeaderError(f"{value[:64]!a} is not http or https")
    return scheme


def _port(value: str) -> int:
    if not (0 < len(value) < 6 and value.isascii() and value.isdigit()):
        raise HeaderError(f"{value[:64]!a} is not a port 1-65535")
    if not 0 < int(value) < 65536:
        raise HeaderError(f"{value[:64]!a} is not a port 1-65535")
    return int(value)


def _follow_host(environ: WSGIEnvironment, orig: Originals) -> None:
    """REMOTE_HOST follows a rewritten REMOTE_ADDR where the server put the
    peer's address there (waitress does, and its own proxy middleware
    rewrites both); a name a server looked up is left as it is."""
    if "REMOTE_ADDR" in orig:
        old: Any = orig["REMOTE_ADDR"]
        if old is not None and environ.get("REMOTE_HOST") == old:
            orig["REMOTE_HOST"] = old
            environ["REMOTE_HOST"] = environ.get("REMOTE_ADDR")


def _set(environ: WSGIEnvironment, orig: Originals, key: str, value: str) -> None:
    """Set ``environ[key]``, remembering the first original value."""
    old = environ.get(key)
    if old != value:
        orig.setdefault(key, old)
        environ[key] = value
