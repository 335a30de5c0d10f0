"""Discovery of a real Modal app offline: which functions are assets, what Modal says about
them (schedule, timeout, retries), their identities and code versions, and clear errors."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from catchment.errors import ConfigError
from catchment.keys import AssetKey
from catchment.project import Project, load_project
from catchment.specs import RetryPolicy
from catchment.tables import duckdb_table
from catchment_modal import load_app, modal_assets

from .conftest import APP_FILE, write_project

SPECS = """
app: jobs/shop_app.py:app
specs:
  refresh_features:
    key: ml/features
    group: ml
    owners: [features@example.com]
"""


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return load_project(write_project(tmp_path_factory.mktemp("shop"), SPECS))


def test_marked_and_specified_functions_are_assets_and_the_rest_are_not(shop: Project) -> None:
    assert shop.problems == []
    modal_defs = {d.name: d for d in shop.definitions if d.adapter == "modal"}
    assert sorted(modal_defs) == [
        "ml_jobs.refresh_features",
        "ml_jobs.score_customers",
        "ml_jobs.sync_crm",
    ]
    assert {k for d in modal_defs.values() for k in d.keys} == {
        AssetKey("ml/customer_scores"),
        AssetKey("ml/features"),
        AssetKey("crm/sync"),
    }
    scores = modal_defs["ml_jobs.score_customers"]
    assert scores.component == "ml_jobs"
    assert scores.source == f"{shop.root / 'jobs' / 'shop_app.py'}:23 (component ml_jobs)"
    spec = scores.specs[0]
    assert (spec.group, spec.owners, spec.kinds) == ("ml", ("ml@example.com",), ("modal", "duckdb"))
    assert spec.description is not None
    assert spec.description.startswith("Score every customer")
    assert [c.name for c in spec.checks] == ["scores_in_range"]
    features = modal_defs["ml_jobs.refresh_features"].specs[0]
    assert (features.group, features.owners) == ("ml", ("features@example.com",))


def test_declared_identities_link_to_the_writer_of_the_table(shop: Project) -> None:
    graph = shop.require_graph()
    wh = shop.defaults.warehouse
    scores = graph.specs[AssetKey("ml/customer_scores")]
    assert scores.table == duckdb_table(wh, "customer_scores", schema="ml")
    assert scores.reads == (duckdb_table(wh, "mart_customer_ltv", schema="main"),)
    assert graph.upstream(AssetKey("ml/customer_scores")) == {AssetKey("mart_customer_ltv")}
    assert graph.writer_of(scores.table) == AssetKey("ml/customer_scores")


def test_schedules_become_metadata_and_an_automation_tag(shop: Project) -> None:
    specs = shop.require_graph().specs
    cron = specs[AssetKey("ml/customer_scores")]
    assert cron.metadata["modal_schedule"] == "Cron('0 6 * * *', UTC)"
    assert cron.metadata["automation"] == {
        "type": "cron",
        "modal": "Cron('0 6 * * *', UTC)",
        "cron": "0 6 * * *",
        "timezone": "UTC",
    }
    assert cron.tags["schedule"] == "cron"
    period = specs[AssetKey("ml/features")]
    assert period.metadata["automation"]["period"] == "hours=4"
    assert period.tags["schedule"] == "period"
    assert "schedule" not in specs[AssetKey("crm/sync")].tags
    assert "automation" not in specs[AssetKey("crm/sync")].metadata
    selected = shop.require_graph().select("tag:schedule")
    assert selected == {AssetKey("ml/customer_scores"), AssetKey("ml/features")}


def test_timeout_and_retries_come_from_modal(shop: Project) -> None:
    graph = shop.require_graph()
    assert graph.specs[AssetKey("ml/customer_scores")].metadata["modal_timeout"] == 600
    assert graph.specs[AssetKey("crm/sync")].metadata["modal_timeout"] == 300  # Modal's default
    sync = graph.definitions["ml_jobs.sync_crm"]
    assert sync.retry == RetryPolicy(max_retries=2, delay=1.0, backoff=1.0)
    assert graph.specs[AssetKey("crm/sync")].metadata["modal_retries"] == 2
    assert graph.definitions["ml_jobs.score_customers"].retry is None


def test_retry_overrides_and_remote_mode(tmp_path: Path) -> None:
    local = modal_assets(
        str(APP_FILE) + ":app", root=tmp_path, specs={"sync_crm": {"retry": {"delay": 0}}}
    )
    sync = next(d for d in local if d.name == "modal.sync_crm")
    assert sync.retry == RetryPolicy(max_retries=2, delay=0.0, backoff=1.0)
    remote = modal_assets(str(APP_FILE) + ":app", root=tmp_path, mode="remote")
    sync = next(d for d in remote if d.name == "modal.sync_crm")
    assert sync.retry is None  # Modal retries the remote call itself
    assert sync.specs[0].metadata["modal_retries"] == 2


def test_code_version_changes_only_for_the_edited_function(tmp_path: Path) -> None:
    app_file = tmp_path / "jobs.py"
    source = APP_FILE.read_text()
    app_file.write_text(source)
    before = {d.name: d.specs[0].code_version for d in modal_assets("jobs.py:app", root=tmp_path)}
    app_file.write_text(source.replace("HTTP 503", "HTTP 502"))
    after = {d.name: d.specs[0].code_version for d in modal_assets("jobs.py:app", root=tmp_path)}
    assert all(before.values())
    assert before["modal.sync_crm"] != after["modal.sync_crm"]
    assert before["modal.score_customers"] == after["modal.score_customers"]


def test_discovery_uses_no_deprecated_modal_api(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        loaded = load_app(f"{APP_FILE}:app", root=tmp_path, where="app")
    assert sorted(loaded.functions) == ["helper", "refresh_features", "score_customers", "sync_crm"]
    assert loaded.name == "catchment-shop"


def test_all_functions_on_request(tmp_path: Path) -> None:
    keys = {d.keys[0] for d in modal_assets(f"{APP_FILE}:app", root=tmp_path, functions="*")}
    assert AssetKey("helper") in keys
    assert len(keys) == 4


@pytest.mark.parametrize(
    ("attributes", "says", "field"),
    [
        (
            "app: jobs/shop_app.py:app\nfunctions: [score_customers, nope]",
            "function 'nope' is not in app 'jobs/shop_app.py:app' (its functions: helper, "
            "refresh_features, score_customers, sync_crm)",
            "attributes.functions",
        ),
        (
            "app: jobs/shop_app.py:app\nspecs:\n  nope: {key: x}",
            "specs names nope, not a function of app",
            "attributes.specs.nope",
        ),
        (
            "app: jobs/shop_app.py:application",
            "has no modal.App named 'application' (it has: app)",
            "attributes.app",
        ),
        ("app: jobs/missing.py:app", "app file 'jobs/missing.py' does not exist", "attributes.app"),
        ("app: jobs/shop_app.py", "must name the module and the App variable", "attributes.app"),
        (
            "app: jobs/shop_app.py:app\nspecs:\n  refresh_features: {writes: 'duckdb:'}",
            "'duckdb:' is not a table identity",
            "attributes.specs.refresh_features.writes",
        ),
    ],
)
def test_a_broken_component_is_one_clear_problem(
    tmp_path: Path, attributes: str, says: str, field: str
) -> None:
    project = load_project(write_project(tmp_path, attributes))
    problems = [p for p in project.problems if "ml_jobs" in p.message or "ml_jobs" in p.where]
    assert len(problems) == 1, project.problems
    assert says in problems[0].message
    assert field in problems[0].where
    assert problems[0].hint
    assert AssetKey("mart_customer_ltv") in project.require_graph()  # the rest still loads


def test_an_app_with_no_marked_function_says_how_to_mark_one(tmp_path: Path) -> None:
    (tmp_path / "bare.py").write_text(
        "import modal\napp = modal.App()\n\n@app.function()\ndef f():\n    return 1\n"
    )
    with pytest.raises(ConfigError) as err:
        modal_assets("bare.py:app", root=tmp_path)
    assert "no function of app 'bare.py:app' is marked as an asset (its functions: f)" in str(
        err.value
    )
    assert "asset_spec" in (err.value.hint or "")
    with pytest.raises(ConfigError) as err:
        modal_assets("bare.py:app", root=tmp_path, functions=["f"], mode="remote")
    assert "has no name" in err.value.message
    assert modal_assets("bare.py:app", root=tmp_path, functions=["f"])[0].keys == (AssetKey("f"),)
