"""Dataframes: which library a value's frame comes from (pandas, pyarrow or polars), told from
its type alone, so asking imports no dataframe library."""

from __future__ import annotations

from typing import Any

__all__ = ["FRAME_LIBRARIES", "frame_library"]

FRAME_LIBRARIES = ("pandas", "pyarrow", "polars")
"""The dataframe libraries IO managers store and load."""


def frame_library(obj: Any) -> str | None:
    """``pandas``, ``pyarrow`` or ``polars`` for a frame of that library (a ``DataFrame``, or a
    pyarrow ``Table``), else None."""
    root = type(obj).__module__.partition(".")[0]
    if root in FRAME_LIBRARIES and type(obj).__name__ in ("DataFrame", "Table"):
        return root
    return None
