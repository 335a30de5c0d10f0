"""Errors users meet: each carries what went wrong, where, and what to do about it."""

from __future__ import annotations

__all__ = [
    "CatchmentError",
    "ConfigError",
    "DefinitionError",
    "ExecutionError",
    "GraphError",
    "InvalidKeyError",
    "SelectionError",
]


class CatchmentError(Exception):
    """Base of every error catchment raises on purpose.

    ``where`` names the file, field, adapter or asset involved; ``hint`` says what to do.
    The CLI prints these as one clear message instead of a traceback.
    """

    def __init__(self, message: str, *, where: str | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.where = where
        self.hint = hint

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        return f"{text}\n  hint: {self.hint}" if self.hint else text


class InvalidKeyError(CatchmentError, ValueError):
    """An asset key string or segment is malformed."""


class DefinitionError(CatchmentError):
    """An asset, check or resource definition is inconsistent."""


class GraphError(CatchmentError):
    """The asset graph cannot be built (duplicate keys, two writers of a table, a cycle)."""

    def __init__(self, problems: list[str], *, hint: str | None = None):
        self.problems = problems
        super().__init__("; ".join(problems), hint=hint)

    def __str__(self) -> str:
        lines = ["the asset graph is invalid:", *(f"  - {p}" for p in self.problems)]
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)


class SelectionError(CatchmentError, ValueError):
    """A selection expression does not parse or names nothing that exists."""

    def __init__(self, message: str, *, text: str = "", position: int | None = None):
        self.text = text
        self.position = position
        where = None
        if position is not None and text:
            where = f"selection {text!r} at column {position + 1}"
        super().__init__(message, where=where)

    def __str__(self) -> str:
        base = super().__str__()
        if self.position is None or not self.text:
            return base
        return f"{base}\n    {self.text}\n    {' ' * self.position}^"


class ExecutionError(CatchmentError):
    """A step or run failed in a way the engine reports to the user."""


class ConfigError(CatchmentError):
    """A project file, component attribute or resource setting is invalid."""
