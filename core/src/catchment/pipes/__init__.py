"""catchment pipes: external compute (subprocesses, Spark jobs, containers) reports back.

The remote side (:mod:`catchment.pipes.remote`) needs only the standard library; the
orchestrator side turns its JSON-lines messages into results. See docs/reference/pipes.md.
Exports resolve lazily, so importing the remote module alone stays dependency-free.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from catchment.lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "open_pipes": "catchment.pipes.remote",
    "is_pipes_process": "catchment.pipes.remote",
    "PipesContext": "catchment.pipes.remote",
    "PipesError": "catchment.pipes.remote",
    "PROTOCOL_VERSION": "catchment.pipes.remote",
    "CONTEXT_ENV": "catchment.pipes.remote",
    "MESSAGES_ENV": "catchment.pipes.remote",
    "STDOUT_PREFIX": "catchment.pipes.remote",
    "INLINE_CONTEXT_LIMIT": "catchment.pipes.session",
    "LineSplitter": "catchment.pipes.lines",
    "PipesSession": "catchment.pipes.session",
    "PipesSubprocessClient": "catchment.pipes.client",
    "remote_module_path": "catchment.pipes.files",
    "copy_remote_module": "catchment.pipes.files",
}

__all__ = [
    "CONTEXT_ENV",
    "INLINE_CONTEXT_LIMIT",
    "MESSAGES_ENV",
    "PROTOCOL_VERSION",
    "STDOUT_PREFIX",
    "LineSplitter",
    "PipesContext",
    "PipesError",
    "PipesSession",
    "PipesSubprocessClient",
    "copy_remote_module",
    "is_pipes_process",
    "open_pipes",
    "remote_module_path",
]


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)


if TYPE_CHECKING:
    from catchment.pipes.client import PipesSubprocessClient
    from catchment.pipes.files import copy_remote_module, remote_module_path
    from catchment.pipes.lines import LineSplitter
    from catchment.pipes.remote import (
        CONTEXT_ENV,
        MESSAGES_ENV,
        PROTOCOL_VERSION,
        STDOUT_PREFIX,
        PipesContext,
        PipesError,
        is_pipes_process,
        open_pipes,
    )
    from catchment.pipes.session import INLINE_CONTEXT_LIMIT, PipesSession
