"""Shared fixtures. Snowflake's cloud cannot be reached from here: fakesnow (0.11.4, a
Snowflake emulator on DuckDB) stands in, driven by the real snowflake-connector-python (4.8.x).

``fakesnow.patch()`` replaces ``snowflake.connector.connect`` and ``write_pandas`` in this
process (our code calls both through the module attributes, so the patch reaches it);
``fakesnow.server()`` (test_server.py) serves the real connector over loopback HTTP.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fakesnow
import fakesnow.cursor
import pytest
from catchment.components import ComponentContext, ProjectDefaults
from catchment.definitions import AssetsDefinition
from catchment_snowflake.attributes import SnowflakeAttributes
from catchment_snowflake.component import build
from catchment_snowflake.resource import SnowflakeResource

os.environ.setdefault("SNOWFLAKE_DISABLE_PLATFORM_DETECTION", "true")

# A password no test may ever see in output, records or errors.
PASSWORD = f"pw-{uuid.uuid4().hex[:12]}"
ACCOUNT = "acme-prod"
# fakesnow 0.11.4 cannot run CREATE FILE FORMAT (it fails inside its parser with
# "Unexpected parent kind: FILE FORMAT") nor SHOW FILE FORMATS. Tests that create file formats
# let fakesnow accept those statements without running them and check the SQL we sent.
FILE_FORMAT_NOPS = [r"CREATE (OR REPLACE )?FILE FORMAT .*"]


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def resource() -> SnowflakeResource:
    """A resource on database ANALYTICS, schema PUBLIC (fakesnow creates both on connect)."""
    return SnowflakeResource(
        account=ACCOUNT,
        user="loader",
        password=PASSWORD,
        database="analytics",
        schema="public",
        role="transformer",
        warehouse="wh",
    )


@pytest.fixture
def fake() -> Iterator[None]:
    """A fresh in-memory fakesnow behind the real connector's API."""
    with fakesnow.patch(nop_regexes=FILE_FORMAT_NOPS):
        yield


class SqlLog:
    """Every statement that reached (fake) Snowflake, in order: a spy, the SQL still runs."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def clear(self) -> None:
        self.statements.clear()

    def ddl(self) -> list[str]:
        """Statements that change objects or grants (anything but reads)."""
        reads = ("SELECT", "SHOW", "DESCRIBE", "DESC ")
        return [s for s in self.statements if not s.lstrip().upper().startswith(reads)]


@pytest.fixture
def sql_log(monkeypatch: pytest.MonkeyPatch) -> SqlLog:
    log = SqlLog()
    real = fakesnow.cursor.FakeSnowflakeCursor.execute

    def spy(self: Any, command: str, *args: Any, **kwargs: Any) -> Any:
        log.statements.append(" ".join(command.split()))
        return real(self, command, *args, **kwargs)

    monkeypatch.setattr(fakesnow.cursor.FakeSnowflakeCursor, "execute", spy)
    return log


@pytest.fixture
def project_root(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    return root


@pytest.fixture
def build_objects(project_root: Path, resource: SnowflakeResource) -> Any:
    """``build_objects(objects, **attrs)`` -> the component's one definition."""

    def make(objects: list[dict[str, Any]], **attrs: Any) -> AssetsDefinition:
        model = SnowflakeAttributes.model_validate(
            {"connection": "sf", **attrs, "objects": objects}
        )
        ctx = ComponentContext(
            name="objects",
            project=ProjectDefaults.for_root(project_root),
            source="catchment.yaml:5 (component objects)",
            resources={"sf": resource},
        )
        (defn,) = build(model, ctx)
        return defn

    return make


@pytest.fixture
def run_sql(resource: SnowflakeResource) -> Any:
    """``run_sql(sql)``: run it on a fresh session (inside a fakesnow patch), return rows."""

    def run(sql: str) -> list[tuple[Any, ...]]:
        with resource.connect(query_tag={"app": "test"}) as conn:
            cur = conn.cursor()
            cur.execute(sql)
            return [tuple(r) for r in cur.fetchall()]

    return run
