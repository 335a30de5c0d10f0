"""Bring one managed object in line with its declaration: the "create or refresh" pattern.

Missing -> CREATE. Applied with the same hash -> nothing (no DDL at all). Changed -> ALTER
(tables, and stages with ``on_change: alter``) or CREATE OR REPLACE (views, file formats,
external tables, stages). ``refresh: true`` -> REFRESH every time. Each applied change is
recorded in the state table, so the next run can tell "unchanged" from "changed".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from catchment.errors import ExecutionError

from catchment_snowflake.ddl import (
    NeedsReplace,
    alter_stage_sql,
    alter_table_sql,
    create_sql,
    grants_sql,
    refresh_sql,
    use_role_sql,
)
from catchment_snowflake.identifiers import Relation
from catchment_snowflake.objects import StageObject, TableObject
from catchment_snowflake.state import Applied, StateTable, columns, exists, object_key


@dataclass(frozen=True)
class Declared:
    """A managed object with everything resolved at build time."""

    obj: Any
    relation: Relation
    definition: dict[str, Any]
    hash: str
    where: str

    @property
    def kind(self) -> str:
        return str(self.obj.kind)

    @property
    def state_key(self) -> str:
        return object_key(self.kind, self.relation)


@dataclass
class Outcome:
    """What applying one object did."""

    action: str  # created | altered | replaced | unchanged
    statements: list[str] = field(default_factory=list)
    refreshed: bool = False
    warnings: list[str] = field(default_factory=list)


class Applier:
    """Runs the DDL for declared objects on one cursor, logging each statement."""

    def __init__(
        self,
        cur: Any,
        state: StateTable,
        run_id: str,
        log: Callable[[str], None],
        mask: Callable[[str], str],
    ):
        self.cur = cur
        self.state = state
        self.run_id = run_id
        self.log = log
        self.mask = mask
        self._schemas: set[tuple[str, str]] = set()

    def _run(self, sql: str, done: list[str]) -> None:
        shown = self.mask(sql)
        self.log(shown)
        self.cur.execute(sql)
        done.append(shown)

    def _ensure_schema(self, rel: Relation, done: list[str]) -> None:
        key = (rel.database, rel.schema)
        if key not in self._schemas:
            self._run(f"CREATE SCHEMA IF NOT EXISTS {rel.schema_sql}", done)
            self._schemas.add(key)

    def apply(self, d: Declared, applied: Applied | None) -> Outcome:
        """Create, alter or replace ``d`` as needed, then refresh it if asked; with the
        object's ``role`` (``USE ROLE``) for its DDL, and the session's role back after."""
        role = getattr(d.obj, "role", None)
        if not role:
            return self._apply(d, applied)
        before = self._current_role()
        switched: list[str] = []
        self._run(use_role_sql(role), switched)
        try:
            outcome = self._apply(d, applied)
        finally:
            if before:
                self._run(use_role_sql(f'"{before}"'), [])
        outcome.statements[:0] = switched
        return outcome

    def _current_role(self) -> str | None:
        self.cur.execute("SELECT CURRENT_ROLE()")
        row = self.cur.fetchone()
        return str(row[0]) if row and row[0] else None

    def _apply(self, d: Declared, applied: Applied | None) -> Outcome:
        present = exists(self.cur, d.kind, d.relation)
        outcome = self._change(d, applied, present)
        if outcome.action != "unchanged":
            previous = None
            if outcome.action == "altered" and applied is not None:
                previous = applied.definition.get("grants", {})
            for sql in grants_sql(d.kind, d.relation, d.definition["grants"], previous):
                self._run(sql, outcome.statements)
            self.state.record(
                self.cur,
                d.state_key,
                d.kind,
                d.relation,
                Applied(d.hash, d.definition),
                self.run_id,
            )
        refresh = refresh_sql(d.obj, d.relation)
        if refresh:
            self._run(refresh, outcome.statements)
            outcome.refreshed = True
        return outcome

    def _change(self, d: Declared, applied: Applied | None, present: bool | None) -> Outcome:
        done: list[str] = []
        if present is False or (present is None and applied is None):
            self._ensure_schema(d.relation, done)
            self._run(create_sql(d.obj, d.relation), done)
            return Outcome("created", done)
        if applied is not None and applied.hash == d.hash:
            return Outcome("unchanged")
        previous = applied.definition if applied is not None else None
        if isinstance(d.obj, TableObject) and d.obj.on_change == "alter":
            try:
                statements, warnings = alter_table_sql(
                    d.obj, d.relation, previous, columns(self.cur, d.relation)
                )
            except NeedsReplace as why:
                raise ExecutionError(
                    f"changing {why} needs CREATE OR REPLACE, which drops the table's data",
                    where=d.where,
                    hint="set on_change: replace on this table to allow it, or change it by hand",
                ) from None  # the component prefixes "table <name>:" and keeps the hint
            for sql in statements:
                self._run(sql, done)
            return Outcome("altered", done, warnings=warnings)
        if isinstance(d.obj, StageObject) and d.obj.on_change == "alter":
            for sql in alter_stage_sql(d.obj, d.relation):
                self._run(sql, done)
            return Outcome("altered", done)
        self._run(create_sql(d.obj, d.relation, replace=True), done)
        return Outcome("replaced", done)
