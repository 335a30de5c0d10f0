"""Declared external sources (``sources:`` in catchment.yaml, ``@observable_source`` in
Python) observed with real tools: a file glob, a SQL query against a DuckDB file and against
PostgreSQL, a Python function. A changed data version makes the assets reading the source
stale with "source changed"; `apply` rebuilds exactly those; an observation that fails is
"unknown" with its cause, never fresh and never a crash."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import duckdb
import pytest
from catchment import AdapterInfo, Resource, hookimpl, plugins
from catchment.cli.main import app
from catchment.definitions import AssetsDefinition
from catchment.errors import GraphError
from catchment.graph import AssetGraph
from catchment.keys import AssetKey
from catchment.plugins import PluginRegistry
from catchment.sources import external_source
from catchment.specs import AssetSpec
from catchment.tables import table
from pydantic import PrivateAttr
from typer.testing import CliRunner

ASSETS = """\
import pandas as pd
from catchment import asset

@asset(deps=[{deps}])
def orders() -> pd.DataFrame:
    return pd.DataFrame({{"n": [1]}})

@asset
def order_total(orders: pd.DataFrame) -> pd.DataFrame:
    return orders

@asset
def unrelated() -> pd.DataFrame:
    return pd.DataFrame({{"x": [1]}})
"""

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres?sslmode=disable"


def _project(root: Path, sources: str, deps: str, files: dict[str, str] | None = None) -> Path:
    (root / "catchment.yaml").write_text(
        "project: {name: src}\n"
        "components:\n"
        "  - {type: python, name: core, attributes: {module: assets.py}}\n"
        f"sources:\n{sources}"
    )
    (root / "assets.py").write_text(ASSETS.format(deps=deps))
    for name, text in (files or {}).items():
        (root / name).write_text(text)
    return root


def _assert_source_change_cycle(cli: Any, project: Path, source: str, change: Any) -> None:
    """Materialize; ``change()`` the source; plan names it (the version the run read was
    recorded when it started); apply rebuilds exactly its downstream; fresh again."""
    assert cli(project, "materialize").exit_code == 0
    change()
    plan = cli.plan(project)
    assert plan["orders"]["state"] == "stale", plan
    (reason,) = plan["orders"]["reasons"]
    assert reason.startswith(f"source changed: {source} data version "), reason
    assert plan["order_total"]["reasons"] == ["upstream orders stale"]
    assert plan["unrelated"]["state"] == "fresh"
    assert cli(project, "apply").exit_code == 0
    assert cli.last_run_built(project) == {"orders", "order_total"}
    assert {r["state"] for r in cli.plan(project).values()} == {"fresh"}


@pytest.mark.timeout(120)
def test_a_file_glob_source_new_file_makes_its_downstream_stale(tmp_path: Path, cli: Any) -> None:
    project = _project(
        tmp_path,
        '  - {key: landing/orders, observe: {glob: "landing/*.csv"}}\n',
        '"landing/orders"',
    )
    (tmp_path / "landing").mkdir()
    (tmp_path / "landing" / "a.csv").write_text("id\n1\n")

    def add_file() -> None:
        (tmp_path / "landing" / "b.csv").write_text("id\n2\n")

    _assert_source_change_cycle(cli, project, "landing/orders", add_file)
    # every file gone: the source is gone, and says so
    for f in (tmp_path / "landing").iterdir():
        f.unlink()
    assert cli.plan(project)["orders"]["reasons"] == ["source gone: landing/orders"]


@pytest.mark.timeout(120)
def test_a_sql_source_on_a_duckdb_file(tmp_path: Path, cli: Any) -> None:
    shop = tmp_path / "shop.duckdb"
    con = duckdb.connect(str(shop))
    con.execute("create table customers (id int, updated_at timestamp)")
    con.execute("insert into customers values (1, '2026-12-01 10:00')")
    con.close()
    project = _project(
        tmp_path,
        "  - key: shop/customers\n"
        "    observe: {sql: 'select max(updated_at) from customers', connection: shop.duckdb}\n",
        '"shop/customers"',
    )

    def update_a_row() -> None:
        with duckdb.connect(str(shop)) as c:  # same row count: only the query sees it
            c.execute("update customers set updated_at = '2026-12-02 09:00' where id = 1")

    _assert_source_change_cycle(cli, project, "shop/customers", update_a_row)
    observed = cli(project, "observe", "--json", "-s", "orders")
    rows = {r["key"]: r for r in json.loads(observed.output)}
    assert rows["shop/customers"]["exists"] is True


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A database of our own on the local PostgreSQL server: its URL."""
    psycopg = pytest.importorskip("psycopg")
    try:
        admin = psycopg.connect(PG_ADMIN, autocommit=True)
    except psycopg.OperationalError as exc:  # pragma: no cover - environment problem
        pytest.skip(f"PostgreSQL is not reachable: {exc}")
    name = f"observe_{uuid.uuid4().hex[:10]}"
    admin.execute(f"create database {name}")
    url = f"postgresql://postgres@127.0.0.1:5432/{name}?sslmode=disable"
    try:
        with psycopg.connect(url, autocommit=True) as con:
            con.execute("create table orders (id int, updated_at timestamptz)")
            con.execute("insert into orders values (1, '2026-12-01 10:00+00')")
        yield url
    finally:
        admin.execute(f"drop database {name} with (force)")
        admin.close()


@pytest.mark.timeout(120)
def test_a_sql_source_on_postgresql(
    tmp_path: Path, pg_database: str, monkeypatch: pytest.MonkeyPatch, cli: Any
) -> None:
    import psycopg

    monkeypatch.setenv("OBSERVE_SHOP_URL", pg_database)
    project = _project(
        tmp_path,
        "  - key: shop/orders\n"
        "    observe:\n"
        "      sql: select count(*), max(updated_at) from orders\n"
        "      connection_env: OBSERVE_SHOP_URL\n",
        '"shop/orders"',
    )

    def insert() -> None:
        with psycopg.connect(pg_database, autocommit=True) as con:
            con.execute("insert into orders values (2, '2026-12-02 10:00+00')")

    _assert_source_change_cycle(cli, project, "shop/orders", insert)


VENDOR = """\
from pathlib import Path

from catchment.sources import observable_source


def prices_version():
    return Path(__file__).with_name("prices.version").read_text()


@observable_source(key="vendor/rates")
def rates():
    '''Exchange rates from the vendor's API.'''
    return int(Path(__file__).with_name("rates.version").read_text())
"""


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("declared", "source", "file"),
    [
        (
            '  - {key: vendor/prices, observe: {python: "vendor:prices_version"}}\n',
            "vendor/prices",
            "prices.version",
        ),
        ("  []\n", "vendor/rates", "rates.version"),
    ],
    ids=["yaml", "decorator"],
)
def test_a_python_function_source(
    tmp_path: Path, declared: str, source: str, file: str, cli: Any
) -> None:
    project = _project(tmp_path, declared, f'"{source}"', {"vendor.py": VENDOR, file: "1"})
    if declared.strip() == "[]":  # the decorated source comes from a python component
        text = (tmp_path / "catchment.yaml").read_text().replace("sources:\n  []\n", "")
        text = text.replace(
            "components:\n",
            "components:\n  - {type: python, name: vendor, attributes: {module: vendor}}\n",
        )
        (tmp_path / "catchment.yaml").write_text(text)

    def bump() -> None:
        (tmp_path / file).write_text("2")

    _assert_source_change_cycle(cli, project, source, bump)


@pytest.mark.timeout(120)
def test_failed_observations_are_unknown_with_their_cause(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Any
) -> None:
    duckdb.connect(str(tmp_path / "shop.duckdb")).close()
    monkeypatch.setenv("OBSERVE_DOWN_URL", "postgresql://u:s3cret@127.0.0.1:1/db")
    project = _project(
        tmp_path,
        "  - {key: bad/sql, observe: {sql: 'select max(x) from nope', connection: shop.duckdb}}\n"
        "  - {key: bad/down, observe: {sql: 'select 1', connection_env: OBSERVE_DOWN_URL}}\n"
        '  - {key: bad/fn, observe: {python: "vendor:boom"}}\n',
        '"bad/sql", "bad/down", "bad/fn"',
        {"vendor.py": "def boom():\n    raise RuntimeError('vendor API said 503')\n"},
    )
    assert cli(project, "materialize").exit_code == 0
    observed = cli(project, "observe", "--json")
    assert observed.exit_code == 1, observed.output  # something could not be observed
    assert "s3cret" not in observed.output
    rows = {r["key"]: r for r in json.loads(observed.output)}
    for key in ("bad/sql", "bad/down", "bad/fn"):
        assert rows[key]["state"] == "unknown", rows[key]
        assert rows[key]["exists"] is None
    assert "nope" in rows["bad/sql"]["error"]
    assert "OperationalError" in rows["bad/down"]["error"]
    assert rows["bad/fn"]["error"] == "RuntimeError: vendor API said 503"
    plan = cli.plan(project)
    assert plan["orders"]["state"] == "unknown", plan  # never fresh
    (reason,) = plan["orders"]["reasons"]
    assert reason.startswith("unknown: could not observe source bad/"), reason
    assert "s3cret" not in json.dumps(plan)


def test_a_password_in_the_connection_is_refused(tmp_path: Path) -> None:
    project = _project(
        tmp_path,
        "  - key: shop/orders\n"
        "    observe: {sql: select 1, connection: 'postgresql://u:s3cret@db:5432/shop'}\n",
        '"shop/orders"',
    )
    result = CliRunner().invoke(app, ["check", str(project)])
    assert result.exit_code != 0
    assert "observe.connection holds a password" in result.output
    assert "connection_env" in result.output
    assert "s3cret" not in result.output


def test_a_bad_observe_mapping_names_the_line(tmp_path: Path) -> None:
    project = _project(tmp_path, '  - {key: x/y, observe: {glob: "a", python: "m:f"}}\n', '"x/y"')
    result = CliRunner().invoke(app, ["check", str(project)])
    assert result.exit_code != 0
    assert "catchment.yaml:5" in result.output
    assert "exactly one of glob, sql, python" in result.output


def test_a_source_standing_for_a_table_links_the_assets_reading_it() -> None:
    orders = table("postgres", "orders", schema="public", database="app", location="db:5432")
    src = external_source("app/orders", table=orders, observe={"sql": "select 1"})
    copy = AssetsDefinition(
        name="copy", specs=(AssetSpec(key=AssetKey(["copy"]), reads=(orders,)),), compute=_none
    )
    graph = AssetGraph.build([copy, src])
    key = AssetKey.parse("app/orders")
    assert graph.is_external(key)
    assert graph.upstream("copy") == {key}
    assert graph.definition_of(key) is None
    assert graph.specs[key].metadata["observe"] == {"sql": "select 1"}
    with pytest.raises(GraphError, match="source:app/orders is declared twice"):
        AssetGraph.build([copy, src, external_source("app/orders", observe={"glob": "x"})])
    with pytest.raises(GraphError, match=r"source copy .* is already defined by copy"):
        AssetGraph.build([copy, external_source("copy", observe={"glob": "x"})])


def _none(context: Any) -> list[Any]:
    return []


def test_the_source_outlives_the_definitions_snapshot(tmp_path: Path, cli: Any) -> None:
    """A read-only command served from the snapshot still knows the source and its observe."""
    project = _project(
        tmp_path,
        '  - {key: landing/orders, observe: {glob: "landing/*.csv"}}\n',
        '"landing/orders"',
    )
    for _ in range(2):  # the first writes the snapshot, the second reads it
        time.sleep(0.01)
        result = cli(project, "assets", "list", "--json")
        assert result.exit_code == 0, result.output
    rows = {r["key"]: r for r in json.loads(result.output)}
    assert rows["landing/orders"]["external"] is True
    assert os.path.exists(tmp_path / ".catchment")


@pytest.mark.timeout(120)
def test_plan_observes_from_the_snapshot_without_importing_the_project(tmp_path: Path) -> None:
    """With a current definitions snapshot, `plan` observes (a table dropped, a source
    changed) without importing the project's modules: new data in the project folder that
    a source's glob matches leaves the snapshot current; a code change rebuilds it."""
    import subprocess
    import sys

    (tmp_path / "p").mkdir()
    log = tmp_path / "imported.log"  # outside the project: not part of the snapshot's key
    project = _project(
        tmp_path / "p",
        '  - {key: landing/orders, observe: {glob: "landing/*.csv"}}\n',
        '"landing/orders"',
    )
    assets = project / "assets.py"
    assets.write_text(
        f"with open({str(log)!r}, 'a') as f:\n    f.write('x')\n" + assets.read_text()
    )
    (project / "landing").mkdir()
    (project / "landing" / "a.csv").write_text("id\n1\n")

    def run(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "catchment", *args],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=100,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    run("materialize")
    run("plan")  # writes the definitions snapshot
    imports = log.read_text()
    with duckdb.connect(str(project / "warehouse.duckdb")) as con:
        con.execute("drop table main.unrelated")
    (project / "landing" / "a.csv").write_text("id\n1\n3\n")  # changed, and one more file
    (project / "landing" / "b.csv").write_text("id\n2\n")
    plan = {r["key"]: r for r in json.loads(run("plan", "--json", "--observe-ttl", "0"))}
    assert log.read_text() == imports  # the project was not imported
    assert plan["unrelated"]["reasons"] == ["table gone (warehouse.main.unrelated not found)"]
    assert plan["orders"]["reasons"][0].startswith("source changed: landing/orders")
    assets.write_text(assets.read_text() + "\n# a code change\n")
    run("plan", "--json", "--observe-ttl", "0")
    assert len(log.read_text()) > len(imports)  # the snapshot was rebuilt: imported again


def test_observing_from_a_snapshot_loads_only_the_components_whose_definitions_observe(
    tmp_path: Path,
) -> None:
    """The snapshot says which definitions carry observers: those components are loaded for
    observing, no other; a snapshot that does not say (an older one) loads the project."""
    import msgspec
    from catchment.execution.observing import load_observing_project
    from catchment.snapshot import load_read_only, project_from_snapshot, read_snapshot

    project = _project(
        tmp_path,
        '  - {key: landing/orders, observe: {glob: "landing/*.csv"}}\n',
        '"landing/orders"',
    )
    load_read_only(project)  # writes the snapshot
    snapshot = read_snapshot(project / "catchment.yaml")
    assert snapshot is not None
    core = [d for d in snapshot.definitions if d.component == "core"]
    assert core
    assert all(d.observers == () for d in core)  # the python component's carry none

    def with_observers(observers: tuple[tuple[str, str], ...] | None) -> Any:
        definitions = tuple(
            msgspec.structs.replace(d, observers=observers) if d.component == "core" else d
            for d in snapshot.definitions
        )
        return project_from_snapshot(msgspec.structs.replace(snapshot, definitions=definitions))

    observing = load_observing_project(with_observers(()), None)
    assert observing is not None
    assert observing.definitions == ()  # nothing imported
    assert set(observing.io_managers) >= {"default"}
    observing = load_observing_project(with_observers((("postgres", "db:5432"),)), None)
    assert observing is not None
    assert {d.component for d in observing.definitions} == {"core"}  # loaded: its observer
    assert load_observing_project(with_observers(None), None) is None  # older snapshot


# -- a query on a resource's connection -------------------------------------------------------


class DuckDBFile(Resource):
    """A resource type an adapter might serve: a DuckDB file; ``setup()`` opens it read-only."""

    path: str
    _con: Any = PrivateAttr(default=None)

    def setup(self) -> Any:
        self._con = duckdb.connect(self.path, read_only=True)
        return self._con

    def teardown(self) -> None:
        self._con.close()


class Postgres(Resource):
    """A resource type an adapter might serve: ``connect()`` gives a PostgreSQL connection."""

    url_env: str

    def connect(self) -> Any:
        import psycopg

        return psycopg.connect(os.environ[self.url_env])


class SqlResources:
    @hookimpl
    def catchment_adapter_info(self) -> AdapterInfo:
        return AdapterInfo(name="sql_resources", version="1.0")

    @hookimpl
    def catchment_resource_types(self, register: Callable[[str, type], None]) -> None:
        register("obs18_duckdb_file", DuckDBFile)
        register("obs18_postgres", Postgres)


@pytest.fixture
def sql_resources(monkeypatch: pytest.MonkeyPatch) -> None:
    """The process's adapters with one more serving the two resource types above."""
    registry = PluginRegistry(strict=False, allow=None)
    registry.load_entry_points(metadata.entry_points(group="catchment.adapters", name="builtin"))
    registry.add_plugin(SqlResources(), name="sql_resources")
    assert not registry.broken, [r.error for r in registry.broken]
    monkeypatch.setattr(plugins, "_registry", registry)


def _with_resources(project: Path, resources: str) -> Path:
    text = (project / "catchment.yaml").read_text()
    (project / "catchment.yaml").write_text(text + f"resources:\n{resources}")
    return project


@pytest.mark.timeout(120)
@pytest.mark.usefixtures("sql_resources")
def test_a_sql_source_on_a_duckdb_resource(tmp_path: Path, cli: Any) -> None:
    shop = tmp_path / "shop.duckdb"
    with duckdb.connect(str(shop)) as con:
        con.execute("create table customers (id int, updated_at timestamp)")
        con.execute("insert into customers values (1, '2026-12-01 10:00')")
    project = _project(
        tmp_path,
        "  - key: shop/customers\n"
        "    observe: {sql: 'select max(updated_at) from customers', resource: shop}\n",
        '"shop/customers"',
    )
    _with_resources(project, f"  shop: {{type: obs18_duckdb_file, config: {{path: '{shop}'}}}}\n")

    def update_a_row() -> None:
        with duckdb.connect(str(shop)) as c:
            c.execute("update customers set updated_at = '2026-12-02 09:00' where id = 1")

    _assert_source_change_cycle(cli, project, "shop/customers", update_a_row)


@pytest.mark.timeout(120)
@pytest.mark.usefixtures("sql_resources")
def test_a_sql_source_on_a_postgresql_resource(
    tmp_path: Path, pg_database: str, monkeypatch: pytest.MonkeyPatch, cli: Any
) -> None:
    import psycopg

    monkeypatch.setenv("OBS18_SHOP_URL", pg_database)
    project = _project(
        tmp_path,
        "  - key: shop/orders\n"
        "    observe: {sql: 'select count(*), max(updated_at) from orders', resource: app}\n",
        '"shop/orders"',
    )
    _with_resources(project, "  app: {type: obs18_postgres, config: {url_env: OBS18_SHOP_URL}}\n")

    def insert() -> None:
        with psycopg.connect(pg_database, autocommit=True) as con:
            con.execute("insert into orders values (2, '2026-12-02 10:00+00')")

    _assert_source_change_cycle(cli, project, "shop/orders", insert)


def test_a_source_naming_a_missing_resource_is_a_problem_at_load(tmp_path: Path) -> None:
    project = _project(
        tmp_path,
        "  - key: shop/orders\n    observe: {sql: select 1, resource: warehouse}\n",
        '"shop/orders"',
    )
    _with_resources(project, "  alerts: {type: webhook_alerts, config: {url: 'http://x'}}\n")
    result = CliRunner().invoke(app, ["check", str(project)])
    assert result.exit_code != 0
    assert "catchment.yaml:5" in result.output  # the source's line
    assert "source shop/orders: observe.resource names no resource 'warehouse'" in result.output
    assert "name one of: alerts" in result.output
    both = _project(
        tmp_path,
        "  - {key: shop/orders, observe: {sql: select 1, resource: a, connection: x.duckdb}}\n",
        '"shop/orders"',
    )
    result = CliRunner().invoke(app, ["check", str(both)])
    assert result.exit_code != 0
    assert "observe: connection and resource given together" in result.output


@pytest.mark.timeout(120)
def test_a_resource_that_cannot_run_sql_makes_the_source_unknown(tmp_path: Path, cli: Any) -> None:
    project = _project(
        tmp_path,
        "  - key: shop/orders\n    observe: {sql: select 1, resource: alerts}\n",
        '"shop/orders"',
    )
    _with_resources(project, "  alerts: {type: webhook_alerts, config: {url: 'http://x'}}\n")
    assert cli(project, "materialize").exit_code == 0
    (reason,) = cli.plan(project)["orders"]["reasons"]
    assert reason == (
        "unknown: could not observe source shop/orders (TypeError: observe.resource: resource "
        "'alerts' cannot run SQL: its connection is a WebhookAlerts, with no cursor(), "
        "execute() or sql())"
    )
