"""A bounded record of what was seen once, for memo admission.

The proxy and cookie layers keep a memo entry only from the second sight
of its key, so that a stream of requests each unlike the others (invented
Hosts, new clients) leaves no entries behind and evicts none.
"""

from __future__ import annotations

from collections.abc import Hashable


class SecondSight:
    """Tokens seen once, at most ``limit`` (emptied when full).

    A plain class holding a set (not a set subclass): a compiled build
    makes it native, and ``second`` runs on every memo miss.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.tokens: set[Hashable] = set()

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: Hashable) -> bool:
        return token in self.tokens

    def second(self, token: Hashable) -> bool:
        """True on the second sight of ``token`` (which is then forgotten)."""
        tokens = self.tokens
        if token in tokens:
            tokens.discard(token)
            return True
        if len(tokens) >= self.limit:
            tokens.clear()
        tokens.add(token)
        return False
