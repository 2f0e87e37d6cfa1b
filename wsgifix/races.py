"""The concurrent-overwrite detector (CONTRACT.md section 4, ``detect_races``).

The lost update it finds: two requests carry the same value V of cookie N
(the browser sent them in parallel). The first response sets N to X, the
second, computed from the stale V, sets N to Y != X. The browser keeps Y;
X (and whatever it recorded, such as a key added to a cookie session) is
lost. The second response is the one reported.

Only requests that carried N are compared, and only a different new value
counts. Values never stay in memory: they are compared through a keyed
hash, Python's SipHash (keyed per process) of the value mixed with a random
salt per detector, 64 bits kept per value. The table is bounded in
entries and in age, and guarded by a lock.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict

MAX_ENTRIES = 10_000
MAX_AGE = 60.0


class RaceDetector:
    """Remembers, per (cookie name, incoming value digest), the last write.

    ``check(name, incoming, new, started)`` records this response's write
    and returns True when another response, finished after this request
    started and computed from the same incoming value, already set the
    cookie to a different value.
    """

    def __init__(
        self, max_entries: int = MAX_ENTRIES, max_age: float = MAX_AGE
    ) -> None:
        self.max_entries = max_entries
        self.max_age = max_age
        self._salt = int.from_bytes(os.urandom(8), "big")
        self._lock = threading.Lock()
        # (name, incoming digest) -> (time written, new value digest)
        self._table: OrderedDict[tuple[str, int], tuple[float, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._table)

    def digest(self, value: str) -> int:
        """A keyed hash of a cookie value (the value itself is not kept)."""
        return hash((self._salt, value))

    def check(self, name: str, incoming: str, new: str, started: float) -> bool:
        """Record this write; True when it overwrites a concurrent one."""
        key = (name, self.digest(incoming))
        new_digest = self.digest(new)
        now = time.monotonic()
        with self._lock:
            previous = self._table.pop(key, None)
            self._table[key] = (now, new_digest)
            self._expire(now)
        if previous is None:
            return False
        written, previous_digest = previous
        return written >= started and previous_digest != new_digest

    def _expire(self, now: float) -> None:
        """Drop the oldest entries: past ``max_age`` or beyond ``max_entries``."""
        table = self._table
        while table:
            oldest_key = next(iter(table))
            if (
                len(table) <= self.max_entries
                and now - table[oldest_key][0] <= self.max_age
            ):
                break
            del table[oldest_key]
