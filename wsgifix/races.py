"""The concurrent-overwrite detector (CONTRACT.md section 4, ``detect_races``).

The lost update it finds: two requests carry the same value V of cookie N
(the browser sent them in parallel). The first response sets N to X, the
second, computed from the stale V, sets N to Y != X. The browser keeps Y;
X (and whatever it recorded, such as a key added to a cookie session) is
lost. The second response is the one reported.

Only requests that carried N are compared, and only a different new value
counts. Values never stay in memory: they are compared through a keyed
hash, Python's SipHash (keyed per process) of the value with a random salt
per detector, 64 bits kept per value; a write's key is such a hash of the
cookie's name and incoming value (a plain integer: no tuple to hash again
on every table operation). The table is bounded in
entries (checked on every write; a full table loses its oldest eighth) and
in age (swept at most once a second), and guarded by a lock.

"Since its request started" is told by a count, not a clock: ``writes``
counts the responses recorded so far; a request reads it when it starts
(its *mark*, one attribute read instead of a clock reading on every
request), and a write numbered above the mark came after the start.

Most responses need no table at all. A write can only be lost to a
request that was in flight when it was made (started, response not yet
audited), so ``flying`` counts the requests in flight and a response
goes through the table only when another request is in flight or a write
was recorded since its own request started. Requests one after another
(one client, one connection) cost no lock, no hashing and no entry. A
request that never reaches its response stays counted: an app that
returns a body but never calls start_response, and the body is never
iterated or fails before its first item (the server then answers with
its own error page; wsgifix never wraps the body, so it cannot see
that). Later responses then always go through the table, as they would
without the count: the count can err only upwards; past MAX_FLYING it
is cut back and every response goes through the table (``cut_back``).

Writes that never reached the browser are taken back (``withdraw``):
headers replaced through exc_info, and the cookies of an app that raised
after start_response (the server sends its error page instead; an app
that wrote part of its body through ``write()`` first is the exception).
If the server refuses the replacing headers because the first ones were
sent, those are put back (``restore``).
"""

from __future__ import annotations

import os
import threading
import time
from typing import Final

MAX_ENTRIES: Final = 10_000
MAX_AGE: Final = 60.0
MAX_FLYING: Final = 4096
_BASE: Final = 8  # items of RaceDetector.flying that stay
# The length of RaceDetector.flying past which it is cut back (MAX_FLYING
# requests in flight).
FLYING_LIMIT: Final = MAX_FLYING + _BASE

_Entry = tuple[float, int, int]  # time written, new value digest, write number
# What withdraw needs of one write: its key, the entry it replaced, its number.
Undo = list[tuple[int, _Entry | None, int]]
# What withdraw took out, for restore: each key and the entry it held.
Taken = list[tuple[int, _Entry]]


class RaceDetector:
    """Remembers, per (cookie name, incoming value) digest, the last write.

    ``check(name, incoming, new, started)`` records this response's write
    and returns True when another response, finished after this request
    started and computed from the same incoming value, already set the
    cookie to a different value. ``started`` is the request's mark: the
    value of ``writes`` when it started.
    """

    def __init__(
        self, max_entries: int = MAX_ENTRIES, max_age: float = MAX_AGE
    ) -> None:
        self.max_entries = max_entries
        self.max_age = max_age
        # (An object to the compiler: a random int of 63 bits is a small or
        # a big int to it by chance, and each use would check which.)
        self._salt: object = int.from_bytes(os.urandom(8), "big") >> 1
        self._lock = threading.Lock()
        # digest of (name, incoming) -> (time written, new value digest,
        # write number), oldest write first (a write moves its key to the end).
        self._table: dict[int, _Entry] = {}
        self.writes = 0  # responses recorded; a request's mark (see check)
        # One item per request in flight (see the module docstring) after
        # _BASE that stay: the count is its length less _BASE
        # (``in_flight``). list.append and list.pop are atomic, and a list
        # kept at 8 to 16 items is never reallocated (CPython shrinks a list
        # below half its storage: emptied, one request cost two reallocs).
        self.flying: list[None] = [None] * _BASE
        self.saturated = False  # see cut_back
        self._swept = 0.0
        self._sweep_every = min(1.0, max_age / 4)  # seconds between age sweeps

    def __len__(self) -> int:
        return len(self._table)

    @property
    def in_flight(self) -> int:
        """Requests counted in flight."""
        return max(len(self.flying) - _BASE, 0)

    def digest(self, value: str) -> int:
        """A keyed hash of a cookie value (the value itself is not kept)."""
        return hash((value, self._salt))

    def check(self, name: str, incoming: str, new: str, started: int) -> bool:
        """Record this write (``started``: the request's mark, see the
        class); True when it overwrites a concurrent one."""
        now = time.monotonic()
        return bool(self.check_many({name: (incoming, new)}, started, now))

    def check_many(
        self,
        writes: dict[str, tuple[str, str]],
        started: int,
        now: float,
        undo: Undo | None = None,
    ) -> list[str] | None:
        """Record one response's writes, ``{name: (incoming value, new
        value)}`` (values compared without surrounding spaces and tabs), at
        ``now`` (a time.monotonic() reading, for the age bound) for a request
        marked ``started``; the names whose write overwrites a concurrent
        one, or None. ``undo`` receives what :meth:`withdraw` needs to take
        the writes back."""
        salt = self._salt
        table = self._table
        raced = None
        lock = self._lock
        lock.acquire()
        try:
            self.writes = number = self.writes + 1
            for name, pair in writes.items():
                key = hash((name, pair[0], salt))
                digest = hash((pair[1].strip(" \t"), salt))
                previous = table.pop(key, None)
                table[key] = (now, digest, number)
                if undo is not None:
                    undo.append((key, previous, number))
                # An earlier write that set the incoming value again (a
                # session refreshed unchanged) lost nothing: this response
                # was computed from what it wrote.
                if (
                    previous is not None
                    and previous[2] > started
                    and previous[1] != digest
                    and previous[1] != hash((pair[0].strip(" \t"), salt))
                ):
                    if raced is None:
                        raced = [name]
                    else:
                        raced.append(name)
            if len(table) > self.max_entries or now - self._swept > self._sweep_every:
                self._sweep(now)
        finally:
            lock.release()
        return raced

    def withdraw(self, undo: Undo) -> Taken:
        """Take back writes recorded with ``undo`` (headers never sent:
        replaced through exc_info, or the app failed): each entry they made,
        unless written again since, is as it was before them. Returns what
        was taken, for :meth:`restore`."""
        table = self._table
        taken: Taken = []
        with self._lock:
            for key, previous, number in reversed(undo):
                current = table.get(key)
                if current is not None and current[2] == number:
                    taken.append((key, current))
                    if previous is None:
                        del table[key]
                    else:
                        table[key] = previous
        undo.clear()
        return taken

    def restore(self, taken: Taken) -> None:
        """Put back writes :meth:`withdraw` took (the server refused the
        replacing headers: the first ones were sent), unless a later write
        holds their key now."""
        table = self._table
        with self._lock:
            for key, entry in taken:
                current = table.get(key)
                if current is None or current[2] < entry[2]:
                    table[key] = entry

    def needed(self, started: int, listed: bool = True) -> bool:
        """Whether a response of a request marked ``started`` (``listed`` in
        ``flying`` while it is audited) must go through the table: another
        request is in flight (it may need this write), or a write was
        recorded since the request started (this one may overwrite it)."""
        return (
            self.saturated or len(self.flying) > _BASE + listed or self.writes > started
        )

    def cut_back(self) -> None:
        """Past MAX_FLYING requests counted in flight (the cookie layer
        appends one per request, on entry: requests that never reached
        their response, see the module docstring, or truly that many), the
        list is cut back to half and the detector stays *saturated*: every
        response goes through the table from then on, whatever the count
        (which may then be below the real one)."""
        self.saturated = True
        del self.flying[MAX_FLYING // 2 + _BASE :]

    def land(self) -> None:
        """A request counted in flight has been audited (the cookie layer
        calls this once per request)."""
        try:
            self.flying.pop()  # into the _BASE items only when cut back
        except IndexError:  # cut back below the real count (see cut_back)
            return

    def _sweep(self, now: float) -> None:
        """Drop the oldest entries: past ``max_age``, and beyond
        ``max_entries`` down to 7/8 of it (so that a full table is swept once
        per max_entries/8 writes, not on every write)."""
        self._swept = now
        table = self._table
        excess = len(table) - self.max_entries
        if excess > 0:
            excess += self.max_entries // 8
        doomed = []
        for key, (written, _, _) in table.items():
            if excess <= 0 and now - written <= self.max_age:
                break
            doomed.append(key)
            excess -= 1
        for key in doomed:
            del table[key]
