"""Running Modal functions through catchment's engine: locally with ``fn.local()`` reporting
over catchment pipes, by return value, failing by exception; and remote mode's clear refusal
when no Modal token is configured."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from catchment.errors import ExecutionError
from catchment.events import EventType
from catchment.execution.api import materialize
from catchment.execution.project import run_project
from catchment.execution.result import ExecutionResult
from catchment.keys import AssetKey
from catchment.project import Project, load_project
from catchment_modal import has_modal_token, modal_assets

from .conftest import APP_FILE, write_project

ATTRIBUTES = """
app: jobs/shop_app.py:app
specs:
  refresh_features:
    key: ml/features
  sync_crm:
    retry: {delay: 0}
"""


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return load_project(write_project(tmp_path_factory.mktemp("shop"), ATTRIBUTES))


@pytest.fixture(scope="module")
def run(shop: Project) -> ExecutionResult:
    return run_project(shop)


def test_a_function_reports_its_materialization_and_check_over_pipes(
    shop: Project, run: ExecutionResult
) -> None:
    assert run.status_of("mart_customer_ltv") == "success"
    assert run.status_of("ml/customer_scores") == "success"
    event = next(e for e in run.materializations if e.asset_key == "ml/customer_scores")
    assert event.data["metadata"]["rows"] == 4
    assert event.data["metadata"]["max_score"] == 1.0
    checks = [c for c in run.check_results if c.asset_key == AssetKey("ml/customer_scores")]
    assert [(c.check_name, c.passed, c.metadata) for c in checks] == [
        ("scores_in_range", True, {"min": 0.125})
    ]
    logs = [e.data.get("message") for e in run.events if e.type is EventType.LOG]
    assert "scored 4 customers" in logs
    with duckdb.connect(str(shop.defaults.warehouse)) as con:
        top = con.execute("select customer_id from ml.customer_scores where score = 1").fetchall()
    assert top == [(2,)]


def test_a_returned_dict_is_the_materialization(run: ExecutionResult) -> None:
    event = next(e for e in run.materializations if e.asset_key == "ml/features")
    assert event.data["metadata"]["features"] == 12
    assert event.data["metadata"]["source"] == "feature-store"


def test_a_function_that_raises_fails_its_asset_after_modal_retries(
    shop: Project, run: ExecutionResult
) -> None:
    assert run.status_of("crm/sync") == "failed"
    failure = next(e for e in run.failures if e.asset_key == "crm/sync")
    assert failure.data["message"] == (
        "modal function sync_crm raised RuntimeError: CRM endpoint refused the upload (HTTP 503)"
    )
    assert failure.data["error_class"] == "RuntimeError"
    assert "shop_app.py" in failure.data["output"]  # the traceback
    retries = [e for e in run.events if e.type is EventType.STEP_RETRY]
    assert [(e.step_key, e.data["attempt"], e.data["of"]) for e in retries] == [
        ("ml_jobs.sync_crm", 1, 2),
        ("ml_jobs.sync_crm", 2, 2),
    ]
    assert not run.success
    # the other assets of the run are not affected
    assert run.status_of("ml/features") == "success"


def test_the_pipes_environment_does_not_leak_out_of_the_call(run: ExecutionResult) -> None:
    import os

    assert "CATCHMENT_PIPES_CONTEXT" not in os.environ
    assert "CATCHMENT_PIPES_MESSAGES" not in os.environ


def test_an_unreported_check_fails_when_the_function_only_returns(tmp_path: Path) -> None:
    defs = modal_assets(
        f"{APP_FILE}:app",
        root=tmp_path,
        functions=["refresh_features"],
        specs={"refresh_features": {"checks": ["fresh"]}},
    )
    result = materialize(defs, raise_on_failure=False)
    assert result.status_of("refresh_features") == "success"
    [check] = result.check_results
    assert (check.check_name, check.passed) == ("fresh", False)
    assert "did not report this check" in (check.description or "")


def test_remote_mode_without_a_token_fails_with_one_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Modal cloud cannot be reached from this test environment, so only remote mode's
    failure path is tested: with no token configured, the step fails at once (before any
    network call) saying what is missing and what to do."""
    monkeypatch.delenv("MODAL_TOKEN_ID", raising=False)
    monkeypatch.delenv("MODAL_TOKEN_SECRET", raising=False)
    if has_modal_token():
        pytest.skip("a Modal profile with a token is configured on this machine")
    defs = modal_assets(
        f"{APP_FILE}:app", root=tmp_path, name="ml_jobs", mode="remote", functions=["helper"]
    )
    result = materialize(defs, raise_on_failure=False)
    assert result.status_of("helper") == "failed"
    [failed] = [e for e in result.events if e.type is EventType.STEP_FAILED]
    assert failed.data["message"] == (
        "cannot run modal function helper on Modal: no Modal token is configured"
    )
    assert failed.data["where"] == "component ml_jobs function helper"
    assert "MODAL_TOKEN_ID" in failed.data["hint"]
    assert "mode: local" in failed.data["hint"]
    with pytest.raises(ExecutionError) as err:
        materialize(defs)
    assert "no Modal token is configured" in str(err.value)
