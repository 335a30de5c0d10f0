"""``@asset_spec`` records the asset a function builds, stacked either way, importing nothing
heavy (an app file and a Modal container need only this module)."""

from __future__ import annotations

import subprocess
import sys

import modal
from catchment_modal import asset_spec
from catchment_modal.decorator import AssetSpecData, spec_of

app = modal.App("decorator-test")


@app.function()
@asset_spec(key="ml/scores", reads="duckdb:main.orders", owners="ml@example.com")
def scores() -> None:
    return None


@asset_spec(key=["crm", "sync"], checks=[{"name": "sent", "severity": "warn"}])
@app.function()
def sync() -> None:
    return None


@app.function()
def plain() -> None:
    return None


def test_below_app_function_the_spec_is_found_by_module_and_name() -> None:
    assert spec_of(scores, __name__, "scores") == AssetSpecData(
        key="ml/scores", reads=("duckdb:main.orders",), owners=("ml@example.com",)
    )
    assert spec_of(scores, "another_module", "scores") is None


def test_above_app_function_the_spec_rides_on_the_modal_function() -> None:
    assert isinstance(sync, modal.Function)
    found = spec_of(sync, "any_module", "sync")
    assert found is not None
    assert found.as_dict() == {
        "key": ("crm", "sync"),
        "checks": [{"name": "sent", "severity": "warn"}],
    }


def test_an_unmarked_function_has_no_spec() -> None:
    assert spec_of(plain, __name__, "plain") is None


def test_importing_the_package_imports_neither_modal_nor_catchment() -> None:
    code = (
        "import sys, catchment_modal\n"
        "from catchment_modal import asset_spec\n"
        "heavy = [m for m in ('modal', 'pydantic', 'catchment', 'duckdb') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
