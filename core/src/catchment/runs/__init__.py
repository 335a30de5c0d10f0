"""Runs asked for by something other than a person at the CLI: the shared request shape."""

from __future__ import annotations

from catchment.runs.request import RunOrigin, RunRequest

__all__ = ["RunOrigin", "RunRequest"]
