"""The compiled build's scan for printable ASCII (wsgifix/_plain.c)."""

def plain(text: str, end: int, /) -> bool:
    """``text[:end]`` (all of it when ``end`` < 0) is printable ASCII."""
