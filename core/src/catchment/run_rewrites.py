"""Files a tool rewrites on every run although the definitions they hold stay the same, kept
out of the definitions snapshot's key (``catchment.snapshot.key``).

The key keeps a few files inside folders it otherwise skips, because a load may read them:
dbt's ``target/manifest.json`` (the dbt adapter uses a manifest the user's own ``dbt parse``
left there). dbt also rewrites that file at every ``dbt build`` catchment runs, from the
manifest catchment parsed and passed in: same nodes, new timestamps. Counted as it is, every
dbt run would look like an edit of the project (the daemon reloading it, each read-only
command loading it again).

An adapter wraps such a run in :func:`rewritten_by_run`. The file's stat line after the run
is recorded beside it (``.catchment-run-rewrites.json``), with the line the key took for it
before the run; while the file keeps that stat, the key takes the old line (:func:`key_line`),
as if the run had not touched it. Any other write (the user's ``dbt parse --vars ...``) gives
it another stat, so the key sees it again.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from catchment.atomic_write import write_cache

__all__ = ["RECORD_FILE", "key_line", "rewritten_by_run"]

RECORD_FILE = ".catchment-run-rewrites.json"
"""Beside the rewritten file: its name -> [its ``size\\0mtime_ns`` after the run, the one the
key took before it (None: none, the file was absent)]."""


def _stamp(path: str) -> str | None:
    """``size\\0mtime_ns`` of ``path`` (its key line without the path, so the record holds
    however the key spells the path), None when absent."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return f"{st.st_size}\0{st.st_mtime_ns}"


def _records(path: str) -> dict[str, list[str | None]]:
    try:
        with open(os.path.join(os.path.dirname(path), RECORD_FILE), "rb") as f:
            text = f.read()
    except OSError:
        return {}
    import json  # only where a run left a record: the key's walk imports nothing more

    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def key_line(path: str) -> str | None:
    """The line the key takes for ``path``, ``path\\0size\\0mtime_ns``: the one it took
    before catchment's own runs rewrote the file, while the file is still as the last of them
    left it; else its stat now. None: nothing (the file is absent, or was before a run wrote
    it)."""
    seen = _seen(path)
    return None if seen is None else f"{path}\0{seen}"


def _seen(path: str) -> str | None:
    """The ``size\\0mtime_ns`` the key takes for ``path`` (see :func:`key_line`)."""
    now = _stamp(path)
    if now is None:
        return None
    record = _records(path).get(os.path.basename(path))
    if isinstance(record, list) and len(record) == 2 and record[0] == now:
        before = record[1]
        return before if before is None or isinstance(before, str) else now
    return now


@contextmanager
def rewritten_by_run(path: Path) -> Iterator[None]:
    """Around a run that may rewrite ``path`` with what the definitions were loaded from (no
    change to them): afterwards the key still sees ``path`` as it did before. Only for files
    the key keeps inside a folder it skips (a record file in a walked folder would itself
    change the key); a lost record (read-only folder) only costs a reload."""
    where = str(path)
    before = _seen(where)
    raw = _stamp(where)
    try:
        yield
    finally:
        after = _stamp(where)
        if after is not None and after != raw:
            import json

            records = _records(where)
            records[os.path.basename(where)] = [after, before]
            write_cache(path.with_name(RECORD_FILE), json.dumps(records).encode())
