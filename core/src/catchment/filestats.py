"""File stats shared within one project load: the definitions snapshot's key stats every
project file, and an adapter checking its own files' freshness (dbt: is the manifest newer
than the models?) reuses those results instead of a second ``stat`` per file.

Sharing is scoped (:func:`sharing`, a context variable): outside it, or for a file the key did
not stat, :func:`stat_of` stats the file, so a long-running process never reads an old result.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["current", "sharing", "stat_of"]

_shared: ContextVar[dict[str, os.stat_result] | None] = ContextVar(
    "catchment_shared_stats", default=None
)


@contextmanager
def sharing() -> Iterator[dict[str, os.stat_result]]:
    """Share the stats taken inside this block (by path); a nested block shares the outer's."""
    outer = _shared.get()
    stats: dict[str, os.stat_result] = {} if outer is None else outer
    token = _shared.set(stats)
    try:
        yield stats
    finally:
        _shared.reset(token)


def current() -> dict[str, os.stat_result] | None:
    """The stats shared in this context (to record into), or None outside :func:`sharing`."""
    return _shared.get()


def stat_of(entry: os.DirEntry[str]) -> os.stat_result:
    """``entry.stat()``, or the result already taken for its path in this sharing scope."""
    shared = _shared.get()
    if shared is not None:
        st = shared.get(entry.path)
        if st is not None:
            return st
    return entry.stat()
