"""`catchment automation list|evaluate|explain`, `catchment partitions add|list|remove`, and
what `plan`, `assets show` and `check` say about automation, on real temp projects."""

from __future__ import annotations

import json
from pathlib import Path

from catchment.cli.main import app
from catchment.storage import open_storage
from typer.testing import CliRunner

PROJECT_YAML = """\
project:
  name: demo
components:
  - type: python
    name: core
    attributes:
      module: assets.py
    automation_condition: "{{ automation_condition.eager() }}"
    assets:
      raw:
        automation_condition: "{{ automation_condition.on_missing() }}"
        freshness: 36h
io_managers:
  default:
    type: filesystem
    config:
      base_dir: values
"""

ASSETS = """\
from catchment import asset, StaticPartitions
from catchment.partitions import DynamicPartitions

@asset
def raw():
    return 1

@asset
def clean(raw):
    return raw + 1

@asset(partitions=DynamicPartitions("customers"))
def per_customer(context, clean):
    return {p: clean for p in context.partition_keys}
"""

runner = CliRunner()


def make_project(root: Path, yaml_text: str = PROJECT_YAML) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "catchment.yaml").write_text(yaml_text)
    (root / "assets.py").write_text(ASSETS)
    return root


def invoke(root: Path, *args: str) -> tuple[int, str]:
    """Exit code and output; a catchment error (which `main` prints) comes back as text."""
    result = runner.invoke(app, [*args, "--project", str(root)])
    error = result.exception
    if error is not None and not isinstance(error, SystemExit):
        return 1, result.output + str(error)
    return result.exit_code, result.output


def test_list_shows_conditions_scopes_and_freshness(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    code, out = invoke(root, "automation", "list", "--json")
    assert code == 0, out
    assert json.loads(out) == [
        {
            "asset": "raw",
            "condition": "on_missing()",
            "partition_scope": None,
            "freshness": "max lag 1d12h",
        },
        {"asset": "clean", "condition": "eager()", "partition_scope": None, "freshness": None},
        {
            "asset": "per_customer",
            "condition": "eager()",
            "partition_scope": "all",
            "freshness": None,
        },
    ]


def test_evaluate_says_what_would_run_and_why_but_launches_nothing(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    code, out = invoke(root, "automation", "evaluate", "--json")
    assert code == 0, out
    result = json.loads(out)
    assert [r["asset_keys"] for r in result["run_requests"]] == [["clean", "raw"]]
    reasons = {d["asset"]: d["reason"] for d in result["decisions"]}
    assert reasons["raw"] == "missing(): never materialized"
    assert result["queries"] <= 7
    code, out = invoke(root, "automation", "evaluate")
    assert "would start 1 run(s):\n  - clean, raw" in out
    store = open_storage(f"sqlite:///{root / '.catchment' / 'runs.db'}")
    assert store.list_runs() == []  # nothing was launched
    store.close()


def test_explain_shows_the_tree_with_each_operand_s_value(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    code, out = invoke(root, "automation", "explain", "clean")
    assert code == 0, out
    assert out.splitlines()[0].startswith("clean: requested (evaluated ")
    assert "✓ missing()  — never materialized" in out
    assert "✗ upstream_missing()" in out  # raw is requested in the same evaluation
    code, out = invoke(root, "materialize", "-s", "raw+", "--partition", "acme")
    assert code == 1  # the key is not in the set yet
    code, out = invoke(root, "automation", "explain", "per_customer", "--json")
    assert code == 1
    assert "no partition in scope" in out


def test_dynamic_partitions_from_the_cli_to_a_run(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    code, out = invoke(root, "partitions", "add", "customers", "acme", "globex")
    assert (code, out.strip()) == (0, "added to customers: acme, globex")
    code, out = invoke(root, "partitions", "add", "customers", "acme")
    assert "already in customers: acme" in out
    code, out = invoke(root, "partitions", "list", "--json")
    assert json.loads(out) == {"customers": ["acme", "globex"]}
    code, out = invoke(root, "partitions", "add", "clients", "x")
    assert code == 1
    assert "no dynamic partition set named 'clients'" in out
    code, out = invoke(root, "materialize", "-s", "+per_customer", "--partition", "acme")
    assert code == 0, out
    code, out = invoke(root, "materialize", "-s", "per_customer", "--partition", "initech")
    assert code == 1
    assert "catchment partitions add customers initech" in out
    code, out = invoke(root, "automation", "explain", "per_customer", "--partition", "globex")
    assert "per_customer [globex]: requested" in out
    code, out = invoke(root, "partitions", "remove", "customers", "globex")
    assert "removed 1 key from customers" in out


def test_plan_and_assets_show_mark_overdue_assets(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    code, out = invoke(root, "plan", "--json")
    by_key = {row["key"]: row for row in json.loads(out)}
    assert by_key["raw"]["freshness"] == {
        "policy": "max lag 1d12h",
        "overdue": True,
        "reason": "never materialized (max lag 1d12h)",
    }
    assert "freshness" not in by_key["clean"]
    code, out = invoke(root, "plan")
    assert (code, "1 overdue" in out) == (0, True)
    code, out = invoke(root, "assets", "show", "raw")
    assert code == 0, out
    assert "automation    on_missing()" in out
    assert "freshness     OVERDUE: never materialized" in out


def test_a_bad_condition_is_a_check_error_naming_the_line(tmp_path: Path) -> None:
    root = make_project(
        tmp_path / "p",
        PROJECT_YAML.replace("on_missing()", "on_cron('0 3 * *')").replace(
            "automation_condition.eager()", "automation_condition.eagre()"
        ),
    )
    result = runner.invoke(app, ["check", str(root)])
    code, out = result.exit_code, result.output
    assert code == 1
    assert "catchment.yaml:8" in out
    assert "eagre" in out
    assert "catchment.yaml:11" in out
    assert "invalid cron schedule '0 3 * *'" in out
