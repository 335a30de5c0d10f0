"""The SQL of the control-plane records (``ticks``, ``cursors``, ``run_keys``, ``leases`` and
queued runs), shared by the SQLite and PostgreSQL backends.

Every write is one transaction of the backend's ``_write``; the statements use only what
both dialects have (``INSERT ... ON CONFLICT``, ``RETURNING`` is not needed).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import msgspec

from catchment.storage.base import (
    ACTIVE_RUN_STATUSES,
    RUN_COLUMNS,
    RunRecord,
    encode_run_info,
    run_from_row,
)
from catchment.storage.control import (
    AssetEventMark,
    LeaseRecord,
    SubmittedRun,
    TickRecord,
)

T = TypeVar("T")

_CHUNK = 500
RETRY_KEY_PREFIX = "retry-of:"  # run_keys row naming the retry that holds a parent run


def run_params(run: RunRecord) -> tuple[Any, ...]:
    """The values of ``RUN_COLUMNS`` for ``run``, in order."""
    return (
        run.run_id,
        run.status,
        run.created_at,
        run.finished_at,
        run.heartbeat_at,
        run.pid,
        run.host,
        run.parent_run_id,
        run.selection,
        encode_run_info(run),
    )


_json = msgspec.json.Encoder()
_ids = msgspec.json.Decoder(tuple[str, ...])


def control_statements(seq_column: str) -> list[str]:
    """CREATE statements of the control-plane tables (schema version 2)."""
    return [
        f"""CREATE TABLE IF NOT EXISTS ticks (
            tick_id {seq_column},
            kind TEXT NOT NULL,
            name TEXT NOT NULL,
            started_at DOUBLE PRECISION NOT NULL,
            finished_at DOUBLE PRECISION,
            status TEXT NOT NULL,
            error TEXT,
            body TEXT NOT NULL,
            run_ids TEXT NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS ticks_loop ON ticks (kind, name, tick_id)",
        "CREATE INDEX IF NOT EXISTS ticks_status ON ticks (status, started_at)",
        """CREATE TABLE IF NOT EXISTS cursors (
            name TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            updated_at DOUBLE PRECISION NOT NULL
        )""",
        """CREATE TABLE IF NOT EXISTS run_keys (
            run_key TEXT PRIMARY KEY,
            run_id TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL
        )""",
        """CREATE TABLE IF NOT EXISTS leases (
            name TEXT PRIMARY KEY,
            holder TEXT NOT NULL,
            acquired_at DOUBLE PRECISION NOT NULL,
            expires_at DOUBLE PRECISION NOT NULL
        )""",
    ]


_TICK_COLUMNS = "tick_id, kind, name, started_at, finished_at, status, error, body, run_ids"


def _tick_from_row(row: Sequence[Any]) -> TickRecord:
    return TickRecord(
        tick_id=int(row[0]),
        kind=row[1],
        name=row[2],
        started_at=row[3],
        finished_at=row[4],
        status=row[5],
        error=row[6],
        body=msgspec.json.decode(row[7]) if row[7] else {},
        run_ids=_ids.decode(row[8]) if row[8] else (),
    )


class ControlSql:
    """``ControlStore`` on the backend's ``_read`` / ``_write`` / ``_sql`` (mixed into
    ``SqlStorage``)."""

    _sql: Callable[[str], str]
    _enqueue: Callable[[Any, RunRecord], None]  # the queue's row of a queued run (queue_sql)

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def _write(self, fn: Callable[[Any], T]) -> T:
        raise NotImplementedError

    def _insert_returning_id(self, cur: Any, sql: str, params: Sequence[Any], column: str) -> int:
        """Run an INSERT and return the generated ``column`` (dialect-specific)."""
        raise NotImplementedError

    # -- queued runs --------------------------------------------------------------------------
    def submit_run(self, run: RunRecord, run_key: str | None = None) -> SubmittedRun:
        return self._write(lambda cur: self._submit(cur, run, run_key))

    def submit_runs(self, runs: Sequence[tuple[RunRecord, str | None]]) -> list[SubmittedRun]:
        """``submit_run`` for many runs in ONE transaction (a backfill's thousands of runs)."""
        return self._write(lambda cur: [self._submit(cur, run, key) for run, key in runs])

    def _submit(self, cur: Any, run: RunRecord, run_key: str | None) -> SubmittedRun:
        if run_key is not None:
            cur.execute(
                self._sql(
                    "INSERT INTO run_keys (run_key, run_id, created_at) VALUES (?, ?, ?) "
                    "ON CONFLICT (run_key) DO NOTHING"
                ),
                (run_key, run.run_id, run.created_at),
            )
            if cur.rowcount == 0:
                cur.execute(self._sql("SELECT run_id FROM run_keys WHERE run_key = ?"), (run_key,))
                return SubmittedRun(run_id=cur.fetchone()[0], created=False)
        cur.execute(
            self._sql(f"INSERT INTO runs ({RUN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
            run_params(run),
        )
        if run.status == "queued":
            self._enqueue(cur, run)
        return SubmittedRun(run_id=run.run_id, created=True)

    def claim_retry(self, parent_run_id: str, run: RunRecord) -> str | None:
        key = RETRY_KEY_PREFIX + parent_run_id
        claim = self._sql(
            "INSERT INTO run_keys (run_key, run_id, created_at) VALUES (?, ?, ?) "
            "ON CONFLICT (run_key) DO NOTHING"
        )
        holder = self._sql(
            "SELECT k.run_id, r.status FROM run_keys k LEFT JOIN runs r ON r.run_id = k.run_id "
            "WHERE k.run_key = ?"
        )
        take_over = self._sql(
            "UPDATE run_keys SET run_id = ?, created_at = ? WHERE run_key = ? AND run_id = ?"
        )
        insert_run = self._sql(
            f"INSERT INTO runs ({RUN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        started = msgspec.structs.replace(
            run, status="started", heartbeat_at=run.heartbeat_at or time.time()
        )

        def write(cur: Any) -> str | None:
            cur.execute(claim, (key, run.run_id, run.created_at))
            if cur.rowcount == 0:
                cur.execute(holder, (key,))
                held_by, status = cur.fetchone()
                if status in ACTIVE_RUN_STATUSES:
                    return str(held_by)  # that retry is still going: refuse
                cur.execute(take_over, (run.run_id, run.created_at, key, held_by))
                if cur.rowcount == 0:  # another retry took it over first
                    cur.execute(holder, (key,))
                    return str(cur.fetchone()[0])
            cur.execute(insert_run, run_params(started))
            return None

        return self._write(write)

    def claim_run(self, run_id: str, pid: int, host: str, now: float) -> bool:
        sql = self._sql(
            "UPDATE runs SET status = 'started', pid = ?, host = ?, heartbeat_at = ? "
            "WHERE run_id = ? AND status IN ('queued', 'starting')"
        )

        def write(cur: Any) -> bool:
            cur.execute(sql, (pid, host, now, run_id))
            return bool(cur.rowcount == 1)

        return self._write(write)

    def queued_runs(self, limit: int = 100) -> list[RunRecord]:
        sql = self._sql(
            f"SELECT {RUN_COLUMNS} FROM runs WHERE status = 'queued' "
            "ORDER BY created_at, run_id LIMIT ?"
        )
        return [run_from_row(r) for r in self._read(sql, (limit,))]

    def run_ids_for_keys(self, run_keys: Iterable[str]) -> dict[str, str]:
        wanted = sorted(set(run_keys))
        out: dict[str, str] = {}
        for i in range(0, len(wanted), _CHUNK):
            chunk = wanted[i : i + _CHUNK]
            marks = ", ".join("?" for _ in chunk)
            sql = self._sql(f"SELECT run_key, run_id FROM run_keys WHERE run_key IN ({marks})")
            out.update(dict(self._read(sql, chunk)))
        return out

    # -- ticks --------------------------------------------------------------------------------
    def start_tick(self, tick: TickRecord) -> int:
        sql = self._sql(
            "INSERT INTO ticks (kind, name, started_at, finished_at, status, error, body, "
            "run_ids) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        )
        params = (
            tick.kind,
            tick.name,
            tick.started_at,
            tick.finished_at,
            tick.status,
            tick.error,
            _json.encode(tick.body).decode(),
            _json.encode(list(tick.run_ids)).decode(),
        )
        tick_id = self._write(lambda cur: self._insert_returning_id(cur, sql, params, "tick_id"))
        tick.tick_id = tick_id
        return tick_id

    def finish_tick(self, tick: TickRecord) -> None:
        sql = self._sql(
            "UPDATE ticks SET finished_at = ?, status = ?, error = ?, body = ?, run_ids = ? "
            "WHERE tick_id = ?"
        )
        params = (
            tick.finished_at,
            tick.status,
            tick.error,
            _json.encode(tick.body).decode(),
            _json.encode(list(tick.run_ids)).decode(),
            tick.tick_id,
        )
        self._write(lambda cur: cur.execute(sql, params))

    def list_ticks(
        self,
        kind: str | None = None,
        name: str | None = None,
        limit: int = 50,
        statuses: Sequence[str] | None = None,
    ) -> list[TickRecord]:
        where: list[str] = []
        params: list[Any] = []
        if kind is not None:
            where.append("kind = ?")
            params.append(kind)
        if name is not None:
            where.append("name = ?")
            params.append(name)
        if statuses:
            where.append(f"status IN ({', '.join('?' for _ in statuses)})")
            params.extend(statuses)
        clause = f"WHERE {' AND '.join(where)} " if where else ""
        sql = self._sql(f"SELECT {_TICK_COLUMNS} FROM ticks {clause}ORDER BY tick_id DESC LIMIT ?")
        return [_tick_from_row(r) for r in self._read(sql, (*params, limit))]

    def latest_ticks(self, kind: str | None = None) -> dict[tuple[str, str], TickRecord]:
        where, params = ("WHERE kind = ? ", (kind,)) if kind is not None else ("", ())
        sql = self._sql(
            f"SELECT {', '.join('t.' + c.strip() for c in _TICK_COLUMNS.split(','))} FROM ticks t "
            f"JOIN (SELECT max(tick_id) AS m FROM ticks {where}GROUP BY kind, name) latest "
            "ON t.tick_id = latest.m"
        )
        ticks = (_tick_from_row(r) for r in self._read(sql, params))
        return {(t.kind, t.name): t for t in ticks}

    def interrupt_ticks(self, now: float) -> int:
        sql = self._sql(
            "UPDATE ticks SET status = 'interrupted', finished_at = ?, "
            "error = 'the daemon stopped during this tick' WHERE status = 'started'"
        )

        def write(cur: Any) -> int:
            cur.execute(sql, (now,))
            return int(cur.rowcount)

        return self._write(write)

    def purge_ticks(self, before: float, statuses: Sequence[str] = ("skipped",)) -> int:
        if not statuses:
            return 0
        marks = ", ".join("?" for _ in statuses)
        sql = self._sql(f"DELETE FROM ticks WHERE status IN ({marks}) AND started_at < ?")

        def write(cur: Any) -> int:
            cur.execute(sql, (*statuses, before))
            return int(cur.rowcount)

        return self._write(write)

    # -- cursors ------------------------------------------------------------------------------
    def get_cursors(self, names: Iterable[str] | None = None) -> dict[str, str]:
        if names is None:
            return dict(self._read("SELECT name, value FROM cursors"))
        wanted = sorted(set(names))
        out: dict[str, str] = {}
        for i in range(0, len(wanted), _CHUNK):
            chunk = wanted[i : i + _CHUNK]
            marks = ", ".join("?" for _ in chunk)
            sql = self._sql(f"SELECT name, value FROM cursors WHERE name IN ({marks})")
            out.update(dict(self._read(sql, chunk)))
        return out

    def set_cursors(self, values: Mapping[str, str], now: float) -> None:
        if not values:
            return
        sql = self._sql(
            "INSERT INTO cursors (name, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) "
            "DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at"
        )
        rows = [(n, v, now) for n, v in values.items()]
        self._write(lambda cur: cur.executemany(sql, rows))

    # -- leases -------------------------------------------------------------------------------
    def acquire_lease(self, name: str, holder: str, now: float, ttl: float) -> bool:
        sql = self._sql(
            "INSERT INTO leases (name, holder, acquired_at, expires_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, "
            "expires_at = excluded.expires_at, acquired_at = CASE WHEN leases.holder = "
            "excluded.holder THEN leases.acquired_at ELSE excluded.acquired_at END "
            "WHERE leases.holder = excluded.holder OR leases.expires_at <= ?"
        )

        def write(cur: Any) -> bool:
            cur.execute(sql, (name, holder, now, now + ttl, now))
            return bool(cur.rowcount == 1)

        return self._write(write)

    def release_lease(self, name: str, holder: str) -> None:
        sql = self._sql("DELETE FROM leases WHERE name = ? AND holder = ?")
        self._write(lambda cur: cur.execute(sql, (name, holder)))

    def get_lease(self, name: str) -> LeaseRecord | None:
        sql = self._sql("SELECT name, holder, acquired_at, expires_at FROM leases WHERE name = ?")
        rows = self._read(sql, (name,))
        if not rows:
            return None
        n, holder, acquired, expires = rows[0]
        return LeaseRecord(name=n, holder=holder, acquired_at=acquired, expires_at=expires)

    # -- push ---------------------------------------------------------------------------------
    def asset_events_since(
        self, seq: int, types: Sequence[str] = ("materialization",)
    ) -> list[AssetEventMark]:
        if not types:
            return []
        marks = ", ".join("?" for _ in types)
        sql = self._sql(
            "SELECT asset_key, partition_key, type, max(seq) FROM events "
            f"WHERE seq > ? AND type IN ({marks}) AND asset_key IS NOT NULL "
            "GROUP BY asset_key, partition_key, type ORDER BY max(seq)"
        )
        return [
            AssetEventMark(asset_key=a, partition=p, type=t, seq=int(s))
            for a, p, t, s in self._read(sql, (seq, *types))
        ]
