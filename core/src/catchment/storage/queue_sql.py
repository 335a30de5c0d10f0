"""The SQL of the run queue, pools and backfills (schema version 3), shared by both backends.

Decisions that must respect a limit (which runs start, whether a pool has room) read the
counts and write the change in ONE transaction that holds the queue's lock: SQLite's
``BEGIN IMMEDIATE`` already serialises writers; PostgreSQL takes a transaction-scoped
advisory lock (``_lock``), so several daemons or machines never exceed a limit together.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import msgspec

from catchment.events import Event, EventType, RunFinishedData, encode_event
from catchment.storage.base import (
    HOSTNAME,
    RUN_COLUMNS,
    RunRecord,
    process_alive,
    run_from_row,
)
from catchment.storage.queue import (
    ACTIVE_QUEUE_STATUSES,
    BACKFILL_TAG,
    BackfillRecord,
    Decision,
    DequeueResult,
    PoolClaim,
    PoolGrant,
    PoolInfo,
    QueueEntry,
    QueueLimits,
    priority_of,
    tag_limit_reason,
)

T = TypeVar("T")

QUEUE_LOCK = 7261531
POOL_LOCK = 7261532

_backfill_body = msgspec.json.Encoder()
_backfill_decoder = msgspec.json.Decoder(BackfillRecord)
_ACTIVE = ", ".join(f"'{s}'" for s in ACTIVE_QUEUE_STATUSES)
_R_COLUMNS = ", ".join(f"r.{c.strip()}" for c in RUN_COLUMNS.split(","))
_CLAIM_COLUMNS = "claim_id, pool, run_id, step_key, slots, claimed_at, expires_at, pid, host"


def queue_statements() -> list[str]:
    """CREATE statements of the version 3 tables (idempotent)."""
    return [
        """CREATE TABLE IF NOT EXISTS run_queue (
            run_id TEXT PRIMARY KEY,
            priority INTEGER NOT NULL,
            enqueued_at DOUBLE PRECISION NOT NULL,
            launched_at DOUBLE PRECISION,
            wait_reason TEXT
        )""",
        "CREATE INDEX IF NOT EXISTS run_queue_order ON run_queue (priority, enqueued_at)",
        """CREATE TABLE IF NOT EXISTS pools (
            name TEXT PRIMARY KEY,
            slots INTEGER NOT NULL,
            updated_at DOUBLE PRECISION NOT NULL
        )""",
        """CREATE TABLE IF NOT EXISTS pool_claims (
            claim_id TEXT PRIMARY KEY,
            pool TEXT NOT NULL,
            run_id TEXT NOT NULL,
            step_key TEXT NOT NULL,
            slots INTEGER NOT NULL,
            claimed_at DOUBLE PRECISION NOT NULL,
            expires_at DOUBLE PRECISION NOT NULL,
            ttl DOUBLE PRECISION NOT NULL,
            pid INTEGER,
            host TEXT
        )""",
        "CREATE INDEX IF NOT EXISTS pool_claims_pool ON pool_claims (pool)",
        "CREATE INDEX IF NOT EXISTS pool_claims_run ON pool_claims (run_id)",
        """CREATE TABLE IF NOT EXISTS backfills (
            backfill_id TEXT PRIMARY KEY,
            status TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            body TEXT NOT NULL
        )""",
    ]


QUEUE_UPGRADE = (
    # runs left queued by a version 2 store join the queue at priority 0, in their order
    "INSERT INTO run_queue (run_id, priority, enqueued_at) SELECT run_id, 0, created_at "
    "FROM runs WHERE status = 'queued' ON CONFLICT (run_id) DO NOTHING",
)
"""Statements that bring a version 2 store to version 3 (after the tables are created)."""


def _claim_from_row(row: Sequence[Any]) -> PoolClaim:
    return PoolClaim(
        claim_id=row[0],
        pool=row[1],
        run_id=row[2],
        step_key=row[3],
        slots=int(row[4]),
        claimed_at=row[5],
        expires_at=row[6],
        pid=row[7],
        host=row[8],
    )


def _finished_row(run_id: str, now: float, status: str, reason: str) -> tuple[Any, ...]:
    """An ``events`` row recording that ``run_id`` ended with ``status`` for ``reason``."""
    event = Event.of(
        run_id,
        EventType.RUN_FINISHED,
        RunFinishedData(status=status, reason=reason),
        timestamp=now,
    )
    body = encode_event(event).decode()
    return (run_id, event.type.value, now, None, None, None, None, body)


def _claim_dead(claim: PoolClaim, now: float) -> bool:
    """A claim whose lease lapsed, or whose process on this host is gone."""
    if claim.expires_at <= now:
        return True
    return claim.host == HOSTNAME and claim.pid is not None and not process_alive(claim.pid)


class QueueSql:
    """The run queue, pools and backfills on the backend's ``_read`` / ``_write``."""

    _sql: Callable[[str], str]

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def _write(self, fn: Callable[[Any], T]) -> T:
        raise NotImplementedError

    def _insert_events(self, cur: Any, rows: list[tuple[Any, ...]]) -> list[int]:
        raise NotImplementedError

    def _serialise(self, cur: Any, key: int) -> None:
        """Serialise writers of one kind inside the transaction (SQLite: already serial)."""

    # -- the queue ----------------------------------------------------------------------------
    def _enqueue(self, cur: Any, run: RunRecord) -> None:
        """Give a newly submitted queued run its place in line (same transaction)."""
        cur.execute(
            self._sql(
                "INSERT INTO run_queue (run_id, priority, enqueued_at) VALUES (?, ?, ?) "
                "ON CONFLICT (run_id) DO NOTHING"
            ),
            (run.run_id, priority_of(run.tags), run.created_at),
        )

    def dequeue(self, limits: QueueLimits, now: float, scan: int = 1000) -> DequeueResult:
        """Move queued runs to ``starting`` by priority (highest first) then age, as long as
        the run limits allow; record every waiting run's reason. One locked transaction.

        A workspace run's project runs (tagged ``workspace_run`` with its id) hold no slot of
        their own while it is in progress: it holds the slot for them."""
        active_sql = self._sql(f"SELECT run_id, info FROM runs WHERE status IN ({_ACTIVE})")
        queued_sql = self._sql(
            f"SELECT {_R_COLUMNS}, q.wait_reason FROM run_queue q JOIN runs r "
            "ON r.run_id = q.run_id WHERE r.status = 'queued' "
            "ORDER BY q.priority DESC, q.enqueued_at, q.run_id LIMIT ?"
        )
        start_sql = self._sql(
            "UPDATE runs SET status = 'starting' WHERE run_id = ? AND status = 'queued'"
        )
        launched_sql = self._sql(
            "UPDATE run_queue SET launched_at = ?, wait_reason = NULL WHERE run_id = ?"
        )
        reason_sql = self._sql("UPDATE run_queue SET wait_reason = ? WHERE run_id = ?")

        def write(cur: Any) -> DequeueResult:
            self._serialise(cur, QUEUE_LOCK)
            cur.execute(active_sql)
            rows = cur.fetchall()
            active = {run_id: json.loads(info or "{}").get("tags", {}) for run_id, info in rows}
            counts: dict[tuple[str, str], int] = {}
            running = 0
            for tags in active.values():
                if tags.get("workspace_run") in active:
                    continue
                running += 1
                for key, value in tags.items():
                    counts[(key, value)] = counts.get((key, value), 0) + 1
            cur.execute(queued_sql, (scan,))
            out = DequeueResult()
            reasons: list[tuple[str, str]] = []
            cap = limits.max_concurrent_runs
            for row in cur.fetchall():
                run, before = run_from_row(row), row[-1]
                if cap is not None and running >= cap:
                    reason = f"max concurrent runs reached: {running}/{cap}"
                else:
                    reason = tag_limit_reason(run.tags, limits, counts) or ""
                if reason:
                    if reason != before:  # written only when it changed
                        reasons.append((reason, run.run_id))
                    out.decisions.append(Decision(run_id=run.run_id, action="wait", reason=reason))
                    continue
                cur.execute(start_sql, (run.run_id,))
                if cur.rowcount != 1:
                    continue
                cur.execute(launched_sql, (now, run.run_id))
                running += 1
                for key, value in run.tags.items():
                    counts[(key, value)] = counts.get((key, value), 0) + 1
                run.status = "starting"
                out.started.append(run)
                room = f"{running}/{cap}" if cap is not None else f"{running}/∞"
                why = f"priority {priority_of(run.tags)}, waited {now - run.created_at:.1f} s"
                out.decisions.append(
                    Decision(run_id=run.run_id, action="start", reason=f"{why}; runs {room}")
                )
            if reasons:
                cur.executemany(reason_sql, reasons)
            out.running = running
            return out

        return self._write(write)

    def stale_starting(self, now: float, after: float) -> list[RunRecord]:
        """Runs ``starting`` whose launch is older than ``after`` seconds and that no process
        claimed; their launch time is reset to ``now`` (they are launched again)."""
        select = self._sql(
            f"SELECT {_R_COLUMNS} FROM run_queue q JOIN runs r ON r.run_id = q.run_id "
            "WHERE r.status = 'starting' AND (q.launched_at IS NULL OR q.launched_at <= ?)"
        )
        touch = self._sql(
            "UPDATE run_queue SET launched_at = ? WHERE run_id = ? AND "
            "(launched_at IS NULL OR launched_at <= ?)"
        )

        def write(cur: Any) -> list[RunRecord]:
            self._serialise(cur, QUEUE_LOCK)
            cur.execute(select, (now - after,))
            runs = [run_from_row(r) for r in cur.fetchall()]
            out = []
            for run in runs:
                cur.execute(touch, (now, run.run_id, now - after))
                if cur.rowcount == 1:
                    out.append(run)
            return out

        if not self._read(
            self._sql(
                "SELECT 1 FROM run_queue q JOIN runs r ON r.run_id = q.run_id "
                "WHERE r.status = 'starting' AND (q.launched_at IS NULL OR q.launched_at <= ?)"
            ),
            (now - after,),
        ):
            return []
        return self._write(write)

    def queue_entries(self, limit: int = 1000) -> list[QueueEntry]:
        """Queued and starting runs in the order they would start; queued ones numbered."""
        sql = self._sql(
            "SELECT r.run_id, r.status, q.priority, q.enqueued_at, q.launched_at, q.wait_reason "
            "FROM run_queue q JOIN runs r ON r.run_id = q.run_id "
            "WHERE r.status IN ('queued', 'starting') "
            "ORDER BY q.priority DESC, q.enqueued_at, q.run_id LIMIT ?"
        )
        out = []
        position = 0
        for run_id, status, priority, enqueued, launched, reason in self._read(sql, (limit,)):
            if status == "queued":
                position += 1
            out.append(
                QueueEntry(
                    run_id=run_id,
                    status=status,
                    priority=int(priority),
                    enqueued_at=enqueued,
                    launched_at=launched,
                    wait_reason=reason,
                    position=position if status == "queued" else None,
                )
            )
        return out

    def cancel_run(self, run_id: str, now: float, reason: str = "canceled") -> str | None:
        """Cancel a run: ``queued``/``starting`` -> ``canceled`` at once (recorded with its
        reason), ``started`` -> ``canceling`` (its process is then told to stop). Returns the
        new status, or None when the run had already ended or does not exist."""
        select = self._sql("SELECT status FROM runs WHERE run_id = ?")
        to_canceled = self._sql(
            "UPDATE runs SET status = 'canceled', finished_at = ? WHERE run_id = ? "
            "AND status IN ('queued', 'starting')"
        )
        to_canceling = self._sql(
            "UPDATE runs SET status = 'canceling' WHERE run_id = ? AND status = 'started'"
        )

        def write(cur: Any) -> str | None:
            self._serialise(cur, QUEUE_LOCK)
            cur.execute(select, (run_id,))
            row = cur.fetchone()
            if row is None:
                return None
            if row[0] in ("queued", "starting"):
                cur.execute(to_canceled, (now, run_id))
                self._insert_events(cur, [_finished_row(run_id, now, "canceled", reason)])
                return "canceled"
            if row[0] == "started":
                cur.execute(to_canceling, (run_id,))
                return "canceling"
            return "canceling" if row[0] == "canceling" else None

        return self._write(write)

    def finish_canceling(self, now: float) -> list[str]:
        """Runs ``canceling`` whose process is gone become ``canceled``; their ids."""
        rows = self._read(self._sql(f"SELECT {RUN_COLUMNS} FROM runs WHERE status = 'canceling'"))
        gone = [
            run
            for run in map(run_from_row, rows)
            if run.host == HOSTNAME and run.pid is not None and not process_alive(run.pid)
        ]
        if not gone:
            return []
        update = self._sql(
            "UPDATE runs SET status = 'canceled', finished_at = ? WHERE run_id = ? "
            "AND status = 'canceling'"
        )

        def write(cur: Any) -> list[str]:
            out = []
            for run in gone:
                cur.execute(update, (now, run.run_id))
                if cur.rowcount == 1:
                    out.append(run.run_id)
            if out:
                rows = [_finished_row(r, now, "canceled", "canceled; process stopped") for r in out]
                self._insert_events(cur, rows)
                self._free_claims_of(cur, out)
            return out

        return self._write(write)

    # -- pools --------------------------------------------------------------------------------
    def set_pool(self, name: str, slots: int, now: float | None = None) -> None:
        """Set pool ``name``'s limit to ``slots`` (0 stops new claims)."""
        sql = self._sql(
            "INSERT INTO pools (name, slots, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) "
            "DO UPDATE SET slots = excluded.slots, updated_at = excluded.updated_at"
        )
        when = time.time() if now is None else now
        self._write(lambda cur: cur.execute(sql, (name, slots, when)))

    def delete_pool(self, name: str) -> bool:
        """Forget the stored limit of pool ``name`` (the project's value applies again)."""
        sql = self._sql("DELETE FROM pools WHERE name = ?")

        def write(cur: Any) -> bool:
            cur.execute(sql, (name,))
            return bool(cur.rowcount)

        return self._write(write)

    def pool_limits(self) -> dict[str, int]:
        """pool name -> stored slot limit."""
        return {n: int(s) for n, s in self._read("SELECT name, slots FROM pools")}

    def pools(self, now: float | None = None) -> list[PoolInfo]:
        """Every pool with a stored limit or a claim: its limit, live usage and claims."""
        when = time.time() if now is None else now
        limits = self.pool_limits()
        claims: dict[str, list[PoolClaim]] = {}
        for row in self._read(f"SELECT {_CLAIM_COLUMNS} FROM pool_claims ORDER BY claimed_at"):
            claim = _claim_from_row(row)
            if not _claim_dead(claim, when):
                claims.setdefault(claim.pool, []).append(claim)
        return [
            PoolInfo(
                name=name,
                limit=limits.get(name),
                used=sum(c.slots for c in claims.get(name, ())),
                claims=tuple(claims.get(name, ())),
            )
            for name in sorted(set(limits) | set(claims))
        ]

    def claim_pool_slots(
        self,
        claim: PoolClaim,
        default_limit: int | None,
        ttl: float,
    ) -> PoolGrant:
        """Take ``claim.slots`` slots of ``claim.pool`` if they fit under its limit (the
        stored one, else ``default_limit``; None: no limit). Lapsed claims, claims of dead
        processes on this host and of ended runs are dropped first, in the same transaction,
        so slots never leak and the count never goes negative."""
        select = self._sql(f"SELECT {_CLAIM_COLUMNS} FROM pool_claims WHERE pool = ?")
        ended = self._sql(
            "SELECT c.claim_id FROM pool_claims c JOIN runs r ON r.run_id = c.run_id "
            "WHERE c.pool = ? AND r.status NOT IN ('queued', 'starting', 'started', 'canceling')"
        )
        limit_sql = self._sql("SELECT slots FROM pools WHERE name = ?")
        drop = self._sql("DELETE FROM pool_claims WHERE claim_id = ?")
        insert = self._sql(
            f"INSERT INTO pool_claims ({_CLAIM_COLUMNS}, ttl) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        now = claim.claimed_at

        def write(cur: Any) -> PoolGrant:
            self._serialise(cur, POOL_LOCK)
            cur.execute(select, (claim.pool,))
            held = [_claim_from_row(r) for r in cur.fetchall()]
            cur.execute(ended, (claim.pool,))
            dead = {r[0] for r in cur.fetchall()} | {
                c.claim_id for c in held if _claim_dead(c, now)
            }
            if dead:
                cur.executemany(drop, [(d,) for d in sorted(dead)])
            used = sum(c.slots for c in held if c.claim_id not in dead)
            if any(c.claim_id == claim.claim_id for c in held if c.claim_id not in dead):
                return PoolGrant(granted=True, pool=claim.pool, used=used, limit=default_limit)
            cur.execute(limit_sql, (claim.pool,))
            row = cur.fetchone()
            limit = int(row[0]) if row is not None else default_limit
            if limit is not None and used + claim.slots > limit:
                return PoolGrant(granted=False, pool=claim.pool, used=used, limit=limit)
            cur.execute(
                insert,
                (
                    claim.claim_id,
                    claim.pool,
                    claim.run_id,
                    claim.step_key,
                    claim.slots,
                    now,
                    now + ttl,
                    claim.pid,
                    claim.host,
                    ttl,
                ),
            )
            return PoolGrant(granted=True, pool=claim.pool, used=used + claim.slots, limit=limit)

        return self._write(write)

    def release_pool_slots(self, claim_ids: Iterable[str]) -> int:
        """Give claimed slots back; how many claims were still held."""
        ids = [(c,) for c in claim_ids]
        if not ids:
            return 0
        sql = self._sql("DELETE FROM pool_claims WHERE claim_id = ?")

        def write(cur: Any) -> int:
            gone = 0
            for params in ids:
                cur.execute(sql, params)
                gone += int(cur.rowcount or 0)
            return gone

        return self._write(write)

    def renew_pool_claims(self, run_id: str, now: float) -> None:
        """Extend the claims of ``run_id`` by their lease time (the run's heartbeat)."""
        sql = self._sql("UPDATE pool_claims SET expires_at = ? + ttl WHERE run_id = ?")
        self._write(lambda cur: cur.execute(sql, (now, run_id)))

    def _free_claims_of(self, cur: Any, run_ids: Sequence[str]) -> None:
        sql = self._sql("DELETE FROM pool_claims WHERE run_id = ?")
        cur.executemany(sql, [(r,) for r in run_ids])

    # -- backfills ----------------------------------------------------------------------------
    def create_backfill(self, backfill: BackfillRecord) -> None:
        """Record a new backfill."""
        sql = self._sql(
            "INSERT INTO backfills (backfill_id, status, created_at, body) VALUES (?, ?, ?, ?)"
        )
        body = _backfill_body.encode(backfill).decode()
        params = (backfill.backfill_id, backfill.status, backfill.created_at, body)
        self._write(lambda cur: cur.execute(sql, params))

    def update_backfill(self, backfill: BackfillRecord) -> None:
        """Store the backfill's status and progress (the row is replaced)."""
        sql = self._sql("UPDATE backfills SET status = ?, body = ? WHERE backfill_id = ?")
        body = _backfill_body.encode(backfill).decode()
        self._write(lambda cur: cur.execute(sql, (backfill.status, body, backfill.backfill_id)))

    def get_backfill(self, backfill_id: str) -> BackfillRecord | None:
        """The backfill with this id (or the only one starting with it)."""
        rows = self._read(
            self._sql("SELECT body FROM backfills WHERE backfill_id LIKE ? ORDER BY backfill_id"),
            (backfill_id.replace("%", "") + "%",),
        )
        exact = [_backfill_decoder.decode(r[0]) for r in rows]
        match = [b for b in exact if b.backfill_id == backfill_id] or exact
        return match[0] if len(match) == 1 else None

    def list_backfills(self, limit: int = 50) -> list[BackfillRecord]:
        """Backfills, newest first."""
        sql = self._sql("SELECT body FROM backfills ORDER BY created_at DESC LIMIT ?")
        return [_backfill_decoder.decode(r[0]) for r in self._read(sql, (limit,))]

    def backfill_runs(self, backfill_id: str) -> dict[str, RunRecord]:
        """run key -> run of every run a backfill submitted (one query)."""
        sql = self._sql(
            f"SELECT k.run_key, {_R_COLUMNS} FROM run_keys k JOIN runs r ON r.run_id = k.run_id "
            "WHERE k.run_key LIKE ?"
        )
        rows = self._read(sql, (f"{BACKFILL_TAG}:{backfill_id}:%",))
        return {row[0]: run_from_row(row[1:]) for row in rows}
