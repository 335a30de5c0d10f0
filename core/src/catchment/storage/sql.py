"""The SQL both backends share: one ``runs`` table, one append-only ``events`` table.

A backend supplies a connection, a placeholder style and a way to run a function inside one
write transaction; everything else (queries, encoding, abandoned-run detection) lives here.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from operator import itemgetter
from typing import Any, TypeVar

from catchment.events import Event, EventType, RunFinishedData, decode_event, encode_event
from catchment.keys import AssetKey
from catchment.storage.base import (
    ACTIVE_RUN_STATUSES,
    RUN_COLUMNS,
    SCHEMA_VERSION,
    STALE_HEARTBEAT_SECONDS,
    CheckRecord,
    FailureRecord,
    MaterializationRecord,
    RunRecord,
    RunStatus,
    StorageError,
    Subject,
    encode_run_info,
    is_abandoned,
    run_from_row,
)
from catchment.storage.control_sql import ControlSql, control_statements
from catchment.storage.queue_sql import QUEUE_UPGRADE, QueueSql, queue_statements

T = TypeVar("T")

_PER_SUBJECT_TYPES = ("materialization", "asset_failed")
"""Event types indexed by (asset_key, partition_key, seq)."""

MAX_IN_VALUES = 500
"""Longest ``IN (...)`` list a query sends; longer filters are applied to the rows instead, so
a query's count never grows with the number of assets or partitions asked for."""


RUNS_BY_AGE = "CREATE INDEX IF NOT EXISTS runs_by_age ON runs (created_at DESC, run_id)"
"""Version 4: ``list_runs`` (newest first, ties by run id) reads the first rows of this index
instead of sorting the whole runs table."""


def schema_statements(seq_column: str) -> list[str]:
    """CREATE statements for both dialects (only the ``seq`` column type differs): runs,
    events and what automation reads, then the control plane's tables (all idempotent)."""
    return [*_run_statements(seq_column), *control_statements(seq_column), *queue_statements()]


UPGRADES: dict[int, tuple[str, ...]] = {
    # v2 (dynamic_partitions, the asset_failed index; the control plane's ticks, cursors,
    # run_keys, leases; runs may be `queued`) only adds tables and indexes, which the
    # CREATE ... IF NOT EXISTS statements above make in an existing store.
    2: (),
    # v3 (run_queue, pools, pool_claims, backfills): runs left queued join the queue.
    3: QUEUE_UPGRADE,
    # v4: the index of the newest runs first (RUNS_BY_AGE), made by the statements above.
    4: (),
}
"""Statements that bring a store from version ``n - 1`` to ``n``, beyond creating tables."""


def _run_statements(seq_column: str) -> list[str]:
    return [
        "CREATE TABLE IF NOT EXISTS schema_version "
        "(version INTEGER NOT NULL, applied_at DOUBLE PRECISION)",
        """CREATE TABLE IF NOT EXISTS runs (
            run_id TEXT PRIMARY KEY,
            status TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            finished_at DOUBLE PRECISION,
            heartbeat_at DOUBLE PRECISION,
            pid INTEGER,
            host TEXT,
            parent_run_id TEXT,
            selection TEXT,
            info TEXT
        )""",
        "CREATE INDEX IF NOT EXISTS runs_status ON runs (status, created_at)",
        RUNS_BY_AGE,
        f"""CREATE TABLE IF NOT EXISTS events (
            seq {seq_column},
            run_id TEXT NOT NULL,
            type TEXT NOT NULL,
            timestamp DOUBLE PRECISION NOT NULL,
            step_key TEXT,
            asset_key TEXT,
            partition_key TEXT,
            check_name TEXT,
            body TEXT NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS events_run ON events (run_id, seq)",
        # Partial indexes: only materializations and checks are queried by asset, and log /
        # step events (most of the volume) then cost no index maintenance.
        "CREATE INDEX IF NOT EXISTS events_materialization ON events "
        "(asset_key, partition_key, seq) WHERE type = 'materialization'",
        "CREATE INDEX IF NOT EXISTS events_check ON events "
        "(asset_key, check_name, seq) WHERE type = 'check_evaluated'",
        # -- version 2 -------------------------------------------------------------------
        "CREATE INDEX IF NOT EXISTS events_asset_failed ON events "
        "(asset_key, partition_key, seq) WHERE type = 'asset_failed'",
        """CREATE TABLE IF NOT EXISTS dynamic_partitions (
            set_name TEXT NOT NULL,
            partition_key TEXT NOT NULL,
            position INTEGER NOT NULL,
            added_at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (set_name, partition_key)
        )""",
    ]


def _decode(seq: int, body: str | bytes) -> Event:
    event = decode_event(body)
    event.seq = seq
    return event


def _in_filter(
    column: str, values: Iterable[AssetKey] | Iterable[str] | None
) -> tuple[frozenset[str] | None, str, list[str]]:
    """``(wanted, "column IN (?, ...)", params)`` for a query that one statement answers
    however many values there are: past ``MAX_IN_VALUES`` the condition is ``1 = 1`` and the
    caller keeps only the ``wanted`` rows. ``wanted`` is None (and the condition ``1 = 1``)
    when ``values`` is None: nothing is filtered."""
    if values is None:
        return None, "1 = 1", []
    wanted = frozenset(str(v) for v in values)
    if len(wanted) > MAX_IN_VALUES:
        return wanted, "1 = 1", []
    if not wanted:
        return wanted, "1 = 0", []
    return wanted, f"{column} IN ({', '.join('?' for _ in wanted)})", sorted(wanted)


class SqlStorage(ControlSql, QueueSql):
    """Storage on a DB-API connection; subclasses implement ``_read`` and ``_write``."""

    url: str
    ph: str = "?"  # the parameter placeholder of the dialect
    reads: int = 0
    """Read queries issued so far: ticks and benchmarks report it, tests bound it."""

    # -- supplied by the backend ------------------------------------------------------------

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def _write(self, fn: Callable[[Any], T]) -> T:
        """Run ``fn(cursor)`` in one write transaction (committed, or rolled back on error)."""
        raise NotImplementedError

    def _insert_events(self, cur: Any, rows: list[tuple[Any, ...]]) -> list[int]:
        """Insert event rows and return their assigned ``seq`` values, in order."""
        raise NotImplementedError

    def _json_rows(self, columns: Sequence[str]) -> str:
        """A FROM item ``w`` with text ``columns``, read from ONE parameter holding a JSON
        list of objects: how a query takes thousands of values without an ``IN`` list."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    # -- shared -----------------------------------------------------------------------------

    def _sql(self, text: str) -> str:
        return text.replace("?", self.ph) if self.ph != "?" else text

    def _init_schema(self, cur: Any, statements: Iterable[str]) -> None:
        for statement in statements:
            cur.execute(statement)
        cur.execute("SELECT max(version) FROM schema_version")
        row = cur.fetchone()
        found = row[0] if row else None
        record = self._sql("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)")
        if found is None:
            cur.execute(record, (SCHEMA_VERSION, time.time()))
        elif found < SCHEMA_VERSION:
            for version in range(found + 1, SCHEMA_VERSION + 1):
                for statement in UPGRADES.get(version, ()):
                    cur.execute(statement)
                cur.execute(record, (version, time.time()))
        elif found > SCHEMA_VERSION:
            raise StorageError(
                f"the run store has schema version {found}, newer than this catchment "
                f"understands ({SCHEMA_VERSION})",
                where=self.url,
                hint="upgrade catchment, or point storage at another database",
            )

    def schema_version(self) -> int:
        rows = self._read("SELECT max(version) FROM schema_version")
        return int(rows[0][0]) if rows and rows[0][0] is not None else 0

    def create_run(self, run: RunRecord) -> None:
        now = time.time()
        params = (
            run.run_id,
            run.status,
            run.created_at,
            run.finished_at,
            run.heartbeat_at or now,
            run.pid,
            run.host,
            run.parent_run_id,
            run.selection,
            encode_run_info(run),
        )
        # A run that was queued (``submit_run``) and claimed by this process (``claim_run``)
        # is adopted: the engine's record of what it runs replaces the request's.
        sql = self._sql(
            f"INSERT INTO runs ({RUN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (run_id) DO UPDATE SET selection = excluded.selection, "
            "info = excluded.info, parent_run_id = excluded.parent_run_id, "
            "heartbeat_at = excluded.heartbeat_at WHERE runs.status IN ('started', 'canceling') "
            "AND runs.pid = excluded.pid AND runs.host = excluded.host"
        )

        def write(cur: Any) -> None:
            cur.execute(sql, params)
            if cur.rowcount != 1:
                raise StorageError(
                    f"run {run.run_id} is already recorded by another process",
                    where=self.url,
                    hint="a run id is used once; queued runs are claimed before they start",
                )

        self._write(write)

    def update_run_status(self, run_id: str, status: RunStatus) -> None:
        finished = None if status == "started" else time.time()
        sql = self._sql("UPDATE runs SET status = ?, finished_at = ? WHERE run_id = ?")
        self._write(lambda cur: cur.execute(sql, (status, finished, run_id)))

    def heartbeat(self, run_id: str) -> None:
        sql = self._sql("UPDATE runs SET heartbeat_at = ? WHERE run_id = ?")
        renew = self._sql("UPDATE pool_claims SET expires_at = ? + ttl WHERE run_id = ?")

        def write(cur: Any) -> None:
            now = time.time()
            cur.execute(sql, (now, run_id))
            cur.execute(renew, (now, run_id))  # the run's pool slots live as long as it does

        self._write(write)

    def append_events(self, events: Sequence[Event]) -> None:
        if not events:
            return
        rows = [
            (
                e.run_id,
                e.type.value,
                e.timestamp,
                e.step_key,
                e.asset_key,
                e.partition,
                e.check.check_name if e.type is EventType.CHECK_EVALUATED else None,
                encode_event(e).decode(),
            )
            for e in events
        ]
        seqs = self._write(lambda cur: self._insert_events(cur, rows))
        for event, seq in zip(events, seqs, strict=True):
            event.seq = seq

    def get_run(self, run_id: str) -> RunRecord | None:
        rows = self._read(self._sql(f"SELECT {RUN_COLUMNS} FROM runs WHERE run_id = ?"), (run_id,))
        return run_from_row(rows[0]) if rows else None

    def list_runs(self, limit: int = 50, status: str | None = None) -> list[RunRecord]:
        where, params = ("WHERE status = ? ", [status]) if status else ("", [])
        sql = self._sql(
            f"SELECT {RUN_COLUMNS} FROM runs {where}ORDER BY created_at DESC, run_id LIMIT ?"
        )
        return [run_from_row(r) for r in self._read(sql, (*params, limit))]

    def events_for_run(
        self, run_id: str, types: Iterable[EventType] | None = None, after: int = 0
    ) -> list[Event]:
        params: list[Any] = [run_id, int(after)]
        extra = ""
        if types is not None:
            values = [EventType(t).value for t in types]
            if not values:
                return []
            extra = f" AND type IN ({', '.join('?' for _ in values)})"
            params.extend(values)
        sql = self._sql(
            f"SELECT seq, body FROM events WHERE run_id = ? AND seq > ?{extra} ORDER BY seq"
        )
        return [_decode(seq, body) for seq, body in self._read(sql, params)]

    def latest_materializations(
        self, keys: Iterable[AssetKey] | None = None
    ) -> dict[AssetKey, MaterializationRecord]:
        if keys is None:
            sql = self._sql(
                "SELECT e.seq, e.body FROM events e JOIN (SELECT asset_key, max(seq) AS m "
                "FROM events WHERE type = 'materialization' GROUP BY asset_key) latest "
                "ON e.seq = latest.m"
            )
            rows = self._read(sql)
            records = (MaterializationRecord.from_event(_decode(s, b)) for s, b in rows)
            return {r.asset_key: r for r in records}
        # one seek per asked key (fed by one JSON parameter), not a scan of every asset's
        by_name = {key.to_string(): key for key in keys}
        if not by_name:
            return {}
        sql = self._sql(
            "SELECT e.seq, e.body FROM (SELECT (SELECT max(x.seq) FROM events x WHERE "
            "x.type = 'materialization' AND x.asset_key = w.k) AS m "
            f"FROM {self._json_rows(('k',))}) latest JOIN events e ON e.seq = latest.m"
        )
        payload = json.dumps([{"k": k} for k in sorted(by_name)])
        out: dict[AssetKey, MaterializationRecord] = {}
        for seq, body in self._read(sql, (payload,)):
            event = _decode(seq, body)
            key = by_name.get(event.asset_key or "")
            if key is not None:
                out[key] = MaterializationRecord.from_event(event, key)
        return out

    def latest_materializations_by_partition(
        self, key: AssetKey
    ) -> dict[str | None, MaterializationRecord]:
        return self.partition_materializations([key]).get(key, {})

    def partition_materializations(
        self, keys: Iterable[AssetKey] | None = None, partitions: Iterable[str] | None = None
    ) -> dict[AssetKey, dict[str | None, MaterializationRecord]]:
        names, key_where, key_params = _in_filter("asset_key", keys)
        wanted, part_where, part_params = _in_filter("partition_key", partitions)
        sql = self._sql(
            "SELECT e.seq, e.body FROM events e JOIN (SELECT max(seq) AS m FROM events "
            f"WHERE type = 'materialization' AND {key_where} "
            f"AND (partition_key IS NULL OR {part_where}) "
            "GROUP BY asset_key, partition_key) latest ON e.seq = latest.m"
        )
        out: dict[AssetKey, dict[str | None, MaterializationRecord]] = {}
        for seq, body in self._read(sql, [*key_params, *part_params]):
            record = MaterializationRecord.from_event(_decode(seq, body))
            if names is not None and record.asset_key.to_string() not in names:
                continue
            part = record.partition
            if wanted is not None and part is not None and part not in wanted:
                continue
            out.setdefault(record.asset_key, {})[record.partition] = record
        return out

    def check_history(
        self, key: AssetKey, check_name: str | None = None, limit: int = 20
    ) -> list[CheckRecord]:
        params: list[Any] = [key.to_string()]
        extra = ""
        if check_name is not None:
            extra = " AND check_name = ?"
            params.append(check_name)
        sql = self._sql(
            f"SELECT seq, body FROM events WHERE type = 'check_evaluated' AND asset_key = ?{extra} "
            "ORDER BY seq DESC LIMIT ?"
        )
        rows = self._read(sql, (*params, limit))
        return [CheckRecord.from_event(_decode(seq, body)) for seq, body in rows]

    def materialization_history(
        self, key: AssetKey, limit: int = 30
    ) -> list[MaterializationRecord]:
        sql = self._sql(
            "SELECT seq, body FROM events WHERE type = 'materialization' AND asset_key = ? "
            "ORDER BY seq DESC LIMIT ?"
        )
        rows = self._read(sql, (key.to_string(), int(limit)))
        return [MaterializationRecord.from_event(_decode(seq, body), key) for seq, body in rows]

    # -- what automation reads --------------------------------------------------------------

    def latest_event_seq(self) -> int:
        rows = self._read("SELECT max(seq) FROM events")
        return int(rows[0][0]) if rows and rows[0][0] is not None else 0

    def _latest_per_subject(
        self, type: str, subjects: Iterable[Subject], up_to: int | None
    ) -> Iterator[tuple[Subject, Event]]:
        """``(subject, event)`` for the newest ``type`` event of each subject that has one:
        one index seek per subject, in ONE statement fed by a JSON parameter. The subjects
        are the caller's own objects (dict lookups on them then need no key comparisons)."""
        by_name = {(key.to_string(), part): (key, part) for key, part in subjects}
        if not by_name:
            return
        if type not in _PER_SUBJECT_TYPES:
            raise ValueError(f"no per-subject index for {type!r} events")
        bound = "" if up_to is None else f" AND x.seq <= {int(up_to)}"
        # The type is written into the SQL, not bound: only then can the planner use the
        # partial index of that type (a bound parameter could be anything).
        newest = (
            f"SELECT max(x.seq) FROM events x WHERE x.type = '{type}' AND x.asset_key = w.k "
            "AND x.partition_key {cond}" + bound
        )
        sql = self._sql(
            "SELECT e.seq, e.body FROM (SELECT CASE WHEN w.p IS NULL THEN ("
            + newest.format(cond="IS NULL")
            + ") ELSE ("
            + newest.format(cond="= w.p")
            + f") END AS m FROM {self._json_rows(('k', 'p'))}) latest "
            "JOIN events e ON e.seq = latest.m"
        )
        # in index order: neighbouring seeks then read neighbouring pages
        ordered = sorted(by_name, key=itemgetter(0))
        payload = json.dumps([{"k": k, "p": p} for k, p in ordered])
        for seq, body in self._read(sql, (payload,)):
            event = _decode(seq, body)
            subject = by_name.get((event.asset_key or "", event.partition))
            if subject is not None:
                yield subject, event

    def materializations_of(
        self, subjects: Iterable[Subject], up_to: int | None = None
    ) -> dict[Subject, MaterializationRecord]:
        out: dict[Subject, MaterializationRecord] = {}
        for subject, event in self._latest_per_subject("materialization", subjects, up_to):
            out[subject] = MaterializationRecord.from_event(event, subject[0])
        return out

    def failures_of(
        self, subjects: Iterable[Subject], up_to: int | None = None
    ) -> dict[Subject, FailureRecord]:
        out: dict[Subject, FailureRecord] = {}
        for subject, event in self._latest_per_subject("asset_failed", subjects, up_to):
            out[subject] = FailureRecord.from_event(event, subject[0])
        return out

    def latest_checks(
        self, checks: Iterable[tuple[AssetKey, str]], up_to: int | None = None
    ) -> dict[tuple[AssetKey, str], CheckRecord]:
        wanted = [{"k": k.to_string(), "c": c} for k, c in dict.fromkeys(checks)]
        if not wanted:
            return {}
        bound = "" if up_to is None else f" AND x.seq <= {int(up_to)}"
        sql = self._sql(
            "SELECT e.seq, e.body FROM (SELECT (SELECT max(x.seq) FROM events x WHERE "
            "x.type = 'check_evaluated' AND x.asset_key = w.k AND x.check_name = w.c"
            f"{bound}) AS m FROM {self._json_rows(('k', 'c'))}) latest "
            "JOIN events e ON e.seq = latest.m"
        )
        out: dict[tuple[AssetKey, str], CheckRecord] = {}
        for seq, body in self._read(sql, (json.dumps(wanted),)):
            record = CheckRecord.from_event(_decode(seq, body))
            out[(record.asset_key, record.check_name)] = record
        return out

    def active_runs(self) -> list[RunRecord]:
        marks = ", ".join("?" for _ in ACTIVE_RUN_STATUSES)
        sql = self._sql(
            f"SELECT {RUN_COLUMNS} FROM runs WHERE status IN ({marks}) ORDER BY created_at"
        )
        return [run_from_row(r) for r in self._read(sql, ACTIVE_RUN_STATUSES)]

    def runs_by_id(self, run_ids: Iterable[str]) -> dict[str, RunRecord]:
        wanted = sorted(set(run_ids))
        if not wanted:
            return {}
        sql = self._sql(
            f"SELECT {RUN_COLUMNS} FROM runs JOIN {self._json_rows(('i',))} ON run_id = w.i"
        )
        rows = self._read(sql, (json.dumps([{"i": i} for i in wanted]),))
        return {run.run_id: run for run in map(run_from_row, rows)}

    # -- dynamic partitions ------------------------------------------------------------------

    def add_dynamic_partitions(
        self, set_name: str, keys: Iterable[str], now: float | None = None
    ) -> list[str]:
        wanted = list(dict.fromkeys(keys))
        bad = [
            k
            for k in wanted
            if not isinstance(k, str)
            or not k.strip()
            or k != k.strip()
            or len(k) > 255
            or not k.isprintable()
        ]
        if bad:
            raise StorageError(
                f"dynamic partition keys must be non-empty strings, got {bad!r}",
                where=f"dynamic partition set {set_name!r}",
                hint="at most 255 printable characters, no surrounding spaces",
            )
        if not wanted:
            return []
        when = time.time() if now is None else now
        existing = self._sql(
            "SELECT partition_key FROM dynamic_partitions WHERE set_name = ? "
            f"AND partition_key IN (SELECT w.k FROM {self._json_rows(('k',))})"
        )
        last = self._sql("SELECT max(position) FROM dynamic_partitions WHERE set_name = ?")
        insert = self._sql(
            "INSERT INTO dynamic_partitions (set_name, partition_key, position, added_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING"
        )
        payload = json.dumps([{"k": k} for k in wanted])

        def write(cur: Any) -> list[str]:
            cur.execute(existing, (set_name, payload))
            there = {row[0] for row in cur.fetchall()}
            new = [k for k in wanted if k not in there]
            cur.execute(last, (set_name,))
            row = cur.fetchone()
            start = (row[0] if row and row[0] is not None else 0) + 1
            if new:
                cur.executemany(insert, [(set_name, k, start + i, when) for i, k in enumerate(new)])
            return new

        return self._write(write)

    def delete_dynamic_partitions(self, set_name: str, keys: Iterable[str]) -> int:
        payload = json.dumps([{"k": k} for k in dict.fromkeys(keys)])
        sql = self._sql(
            "DELETE FROM dynamic_partitions WHERE set_name = ? "
            f"AND partition_key IN (SELECT w.k FROM {self._json_rows(('k',))})"
        )

        def write(cur: Any) -> int:
            cur.execute(sql, (set_name, payload))
            return int(cur.rowcount or 0)

        return self._write(write)

    def dynamic_partitions(self, set_names: Iterable[str] | None = None) -> dict[str, list[str]]:
        names, where, params = _in_filter("set_name", set_names)
        sql = self._sql(
            "SELECT set_name, partition_key FROM dynamic_partitions "
            f"WHERE {where} ORDER BY set_name, position"
        )
        out: dict[str, list[str]] = {n: [] for n in names or ()}
        for name, key in self._read(sql, params):
            if names is None or name in names:
                out.setdefault(name, []).append(key)
        return out

    def mark_abandoned_runs(self, stale_after: float = STALE_HEARTBEAT_SECONDS) -> list[str]:
        select = self._sql(f"SELECT {RUN_COLUMNS} FROM runs WHERE status = ?")
        update = self._sql(
            "UPDATE runs SET status = 'abandoned', finished_at = ? WHERE run_id = ? "
            "AND status = 'started'"
        )

        def write(cur: Any) -> list[str]:
            cur.execute(select, ("started",))
            now = time.time()
            gone = [
                run
                for run in map(run_from_row, cur.fetchall())
                if is_abandoned(run, now, stale_after)
            ]
            rows = []
            for run in gone:
                cur.execute(update, (now, run.run_id))
                reason = (
                    f"process {run.pid} on {run.host} is gone"
                    if run.pid is not None
                    else "no heartbeat"
                )
                event = Event.of(
                    run.run_id,
                    EventType.RUN_FINISHED,
                    RunFinishedData(status="abandoned", reason=reason),
                    timestamp=now,
                )
                rows.append(
                    (
                        run.run_id,
                        event.type.value,
                        now,
                        None,
                        None,
                        None,
                        None,
                        encode_event(event).decode(),
                    )
                )
            if rows:
                self._insert_events(cur, rows)
            return [run.run_id for run in gone]

        # Read first without the write lock: most of the time there is nothing to mark.
        started = [run_from_row(r) for r in self._read(select, ("started",))]
        now = time.time()
        if not any(is_abandoned(run, now, stale_after) for run in started):
            return []
        return self._write(write)
