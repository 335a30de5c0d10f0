"""The example platform's definitions snapshot: after one load, `assets list`, `graph` and
`plan` answer from it, importing none of the tools (checked in the subprocess's modules)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from .conftest import Cli


def _python(cli: Cli, code: str, *args: str) -> str:
    """Run ``code`` in a fresh interpreter in the project folder; its stdout."""
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=cli.root,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert done.stderr == "", done.stderr
    return done.stdout


TOOLS = ("dbt", "dlt", "modal", "pyspark", "pandas", "duckdb", "sling", "snowflake", "fakesnow")


@pytest.mark.slow
@pytest.mark.timeout(900)  # the cold load imports every adapter's tool (dbt parse, Spark, Modal)
def test_a_warm_snapshot_lists_the_platform_without_importing_any_tool(platform: Cli) -> None:
    cold = platform.json("assets", "list")
    assert (platform.root / ".catchment" / "definitions.snapshot").is_file()
    code = textwrap.dedent(
        """
        import io, json, sys, contextlib
        from catchment.cli.fast import fast_assets_list
        out = io.StringIO()
        sys.stdout = io.TextIOWrapper(io.BytesIO())
        code = fast_assets_list({"json": True})
        sys.stdout.flush()
        rows = json.loads(sys.stdout.buffer.getvalue())
        sys.stdout = sys.__stdout__
        print(json.dumps({
            "code": code,
            "rows": rows,
            "tools": sorted({m.split(".")[0] for m in sys.modules} & set(sys.argv[1:])),
            "typer": "typer" in sys.modules,
        }))
        """
    )
    warm = json.loads(_python(platform, code, *TOOLS))
    assert warm["code"] == 0
    assert warm["rows"] == cold
    assert warm["tools"] == []
    assert warm["typer"] is False


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_editing_a_model_invalidates_and_plan_and_graph_read_the_snapshot(platform: Cli) -> None:
    platform.json("assets", "list")
    code = textwrap.dedent(
        """
        import sys
        from catchment.cli.main import app
        from typer.testing import CliRunner
        for args in (["graph", "--format", "json"], ["plan", "--json", "--no-observe"]):
            r = CliRunner().invoke(app, args)
            assert r.exit_code == 0, r.output
        print(sorted({m.split(".")[0] for m in sys.modules} & set(sys.argv[1:])))
        """
    )
    assert _python(platform, code, *TOOLS).strip() == "[]"
    hit = "from catchment.snapshot import load_read_only; print(load_read_only('.').from_snapshot)"
    assert _python(platform, hit).strip() == "True"
    model = platform.root / "dbt" / "models" / "staging" / "stg_orders.sql"
    model.write_text(model.read_text() + "\n-- edited\n")
    assert _python(platform, hit).strip() == "False"  # invalidated: loaded and re-cached
    assert _python(platform, hit).strip() == "True"
    rows = platform.json("assets", "list", "--no-cache")
    assert any(r["key"] == "stg_orders" for r in rows)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_ui_and_a_daemon_tick_read_the_warm_snapshot_without_importing_any_tool(
    platform: Cli,
) -> None:
    """`catchment ui`'s pages (graph, catalog, an asset, runs, automation, health) and one
    `catchment daemon --once` step (automation, freshness and the files sensor, which runs
    in a subprocess of its own) on a warm snapshot import none of the tools."""
    platform.json("assets", "list")
    code = textwrap.dedent(
        """
        import json, sys, warnings
        warnings.simplefilter("ignore", DeprecationWarning)
        from starlette.testclient import TestClient
        from typer.testing import CliRunner
        from catchment.cli.main import app
        from catchment.ui.app import create_app
        from catchment.ui.state import UiState
        state = UiState(None)
        state.load()
        pages = ["/assets", "/graph", "/assets/raw/orders", "/runs", "/automation", "/health"]
        with TestClient(create_app(state, start=False)) as c:
            status = {p: c.get(p).status_code for p in pages}
        daemon = CliRunner().invoke(app, ["daemon", "--once", "-v"])
        print(json.dumps({
            "status": status,
            "daemon": [daemon.exit_code, daemon.output],
            "tools": sorted({m.split(".")[0] for m in sys.modules} & set(sys.argv[1:])),
        }))
        """
    )
    seen = json.loads(_python(platform, code, *TOOLS))
    assert set(seen["status"].values()) == {200}, seen["status"]
    code, output = seen["daemon"]
    assert code == 0, output
    assert "automation conditions" in output
    assert "sensor daily_drops" in output
    assert seen["tools"] == []
