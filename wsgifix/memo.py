"""A bounded record of what was seen once, for memo admission.

The proxy and cookie layers keep a memo entry only from the second sight
of its key, so that a stream of requests each unlike the others (invented
Hosts, new clients) leaves no entries behind and evicts none.
"""

from __future__ import annotations

from collections.abc import Hashable


class SecondSight(set[Hashable]):
    """Tokens seen once, at most ``limit`` (emptied when full)."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def second(self, token: Hashable) -> bool:
        """True on the second sight of ``token`` (which is then forgotten)."""
        if token in self:
            self.discard(token)
            return True
        if len(self) >= self.limit:
            self.clear()
        self.add(token)
        return False
