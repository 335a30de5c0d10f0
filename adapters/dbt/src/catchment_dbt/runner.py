"""Running dbt in-process (``dbtRunner``): one invocation at a time, telemetry off.

dbt keeps process-global state (flags, adapters, the working directory it resolves relative
DuckDB paths against), so invocations are serialised by a lock, run with the dbt project as the
working directory, and see ``DO_NOT_TRACK=1`` plus catchment's variables unless the user set them.

dbt runs in this process, so it cannot be killed: a step's deadline is honoured by waiting for
the lock no longer than the deadline and by :func:`cancel_running`, which cancels the queries
dbt has open (dbt then ends the invocation with errors).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from catchment.run_rewrites import rewritten_by_run
from catchment.timeouts import StepTimeout, remaining

_LOCK = threading.RLock()

DEFAULT_ENV = {"DO_NOT_TRACK": "1"}


@contextlib.contextmanager
def dbt_environment(
    project_dir: Path,
    env: Mapping[str, str],
    *,
    deadline: float | None = None,
    limit: float | None = None,
) -> Iterator[None]:
    """Hold the dbt lock, chdir to ``project_dir`` and set ``env`` where unset; restore after.
    With a ``deadline``, waiting for another invocation's lock ends in ``StepTimeout``."""
    left = remaining(deadline)
    if not _LOCK.acquire(timeout=-1 if left is None else left):
        raise StepTimeout(
            limit if limit is not None else 0.0,
            what="waiting for another dbt invocation in this process",
        )
    try:
        saved_cwd = os.getcwd()
        added = [k for k in env if k not in os.environ]
        for key in added:
            os.environ[key] = env[key]
        try:
            os.chdir(project_dir)
            yield
        finally:
            os.chdir(saved_cwd)
            for key in added:
                os.environ.pop(key, None)
    finally:
        _LOCK.release()


def invoke(
    args: Sequence[str],
    *,
    project_dir: Path,
    env: Mapping[str, str],
    manifest: Any = None,
    callbacks: Sequence[Callable[[Any], None]] = (),
    deadline: float | None = None,
    limit: float | None = None,
    rewrites: Path | None = None,
) -> Any:
    """Run ``dbt <args>`` in-process and return dbt's ``dbtRunnerResult``.

    ``rewrites``: the project's ``target/manifest.json``, which dbt rewrites from the manifest
    it is given (or parses from the project's files): the definitions snapshot's key is told
    so (``catchment.run_rewrites``), under the lock, so a run does not look like an edit.

    Afterwards the adapter's connections are closed: dbt-duckdb otherwise keeps the database
    file open (and locked) for the life of the process, so the next tool in the run (a Sling
    stream, a spark-submit job) could not open the warehouse.
    """
    with (
        dbt_environment(project_dir, {**DEFAULT_ENV, **env}, deadline=deadline, limit=limit),
        rewritten_by_run(rewrites) if rewrites is not None else contextlib.nullcontext(),
    ):
        from dbt.cli.main import dbtRunner

        runner = dbtRunner(manifest=manifest, callbacks=list(callbacks))
        try:
            return runner.invoke(list(args))
        finally:
            release_connections()


def release_connections() -> None:
    """Close every connection dbt-duckdb holds, if dbt-duckdb was used in this process."""
    if "dbt.adapters.duckdb" not in sys.modules:
        return
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    DuckDBConnectionManager.close_all_connections()


def cancel_running() -> list[str]:
    """Cancel the queries every loaded dbt adapter has open (what dbt itself does on Ctrl-C);
    returns the names of the cancelled connections. Never raises."""
    if "dbt.adapters.factory" not in sys.modules:
        return []
    cancelled: list[str] = []
    try:
        from dbt.adapters.factory import FACTORY

        for adapter in list(FACTORY.adapters.values()):
            cancel = getattr(adapter, "cancel_open_connections", None)  # every SQL adapter
            if cancel is None:
                continue
            with contextlib.suppress(Exception):
                cancelled.extend(cancel() or [])
    except Exception:
        return cancelled
    return cancelled
