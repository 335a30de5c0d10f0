"""``Problem``: something in a project that did not load (what, where, what to do about it).

Plain data with no dependency beyond the standard library, so the loader (which needs
pydantic) and the snapshot's read-only view (which must not import it) share one class.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Problem", "ProblemKind"]

ProblemKind = Literal[
    "adapter", "component", "graph", "project", "workspace", "collision", "policy"
]
"""What failed: a project's parts, or (in a workspace) the workspace file, a key claimed by
two projects, or a cross-project policy."""


@dataclass(frozen=True)
class Problem:
    """Something in the project that did not load: what, where (file:line, adapter), and
    what to do about it."""

    kind: ProblemKind
    where: str
    message: str
    hint: str | None = None

    def __post_init__(self) -> None:
        # an adapter's or a driver's message may quote a connection URL or DSN
        from catchment.secrets import redact

        object.__setattr__(self, "message", redact(self.message))
        if self.hint:
            object.__setattr__(self, "hint", redact(self.hint))

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}"
        return f"{text}\n  hint: {self.hint}" if self.hint else text

    def to_dict(self) -> dict[str, str | None]:
        return {"kind": self.kind, "where": self.where, "message": self.message, "hint": self.hint}
