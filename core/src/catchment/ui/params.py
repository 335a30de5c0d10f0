"""Query parameters of the UI's pages and API, checked: a bad value is a ``BadRequest`` that
names the parameter and says what it accepts (shown as a 400 page, never a traceback)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import get_args

from catchment.storage.base import RunStatus


class BadRequest(Exception):
    """A request the UI cannot serve as asked: a 400 with this message."""


KNOWN_STATUSES: tuple[str, ...] = get_args(RunStatus)
"""Every run status, for the runs list's filter."""


def int_param(
    query: Mapping[str, str], name: str, default: int, low: int = 1, high: int = 10_000
) -> int:
    """``query[name]`` as an integer in ``low..high`` (``default`` when absent)."""
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name}={raw!r} is not a whole number; use {low}..{high}") from None
    if not low <= value <= high:
        raise BadRequest(f"{name}={value} is out of range; use {low}..{high}")
    return value


def choice_param(
    query: Mapping[str, str], name: str, choices: Collection[str], label: str | None = None
) -> str | None:
    """``query[name]`` when it is one of ``choices`` (None when absent or empty)."""
    raw = query.get(name)
    if not raw:
        return None
    if raw not in choices:
        known = ", ".join(sorted(choices)[:20]) or "none"
        raise BadRequest(f"unknown {label or name} {raw!r}; known: {known}")
    return raw


def text_param(query: Mapping[str, str], name: str, max_len: int = 500) -> str:
    """``query[name]`` stripped (empty when absent), at most ``max_len`` characters."""
    raw = (query.get(name) or "").strip()
    if len(raw) > max_len:
        raise BadRequest(f"{name} is {len(raw)} characters long; at most {max_len}")
    return raw
