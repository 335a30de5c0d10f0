"""Project folders for the Modal adapter's tests: the fixture app plus a python asset that
writes the table the app reads, in a fresh folder per test module."""

from __future__ import annotations

import os
import shutil
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
APP_FILE = FIXTURES / "shop_app.py"

MARTS_MODULE = '''
"""Stands in for the dbt mart the Modal job reads (same table: main.mart_customer_ltv)."""
import pandas as pd

from catchment import asset


@asset
def mart_customer_ltv() -> pd.DataFrame:
    return pd.DataFrame(
        {"customer_id": [1, 2, 3, 4], "lifetime_value": [50.0, 200.0, 100.0, 25.0]}
    )
'''


@pytest.fixture(scope="module", autouse=True)
def _only_the_adapters_used_here() -> Iterator[None]:
    """Load only the adapters these tests use, so another adapter's state cannot fail them."""
    saved = os.environ.get("CATCHMENT_ADAPTERS")
    os.environ["CATCHMENT_ADAPTERS"] = "modal,dbt"
    yield
    if saved is None:
        os.environ.pop("CATCHMENT_ADAPTERS", None)
    else:
        os.environ["CATCHMENT_ADAPTERS"] = saved


def write_project(root: Path, modal_attributes: str, *, marts: bool = True) -> Path:
    """A catchment project in ``root``: jobs/shop_app.py, optionally marts.py, and a
    catchment.yaml whose ``modal`` component has ``modal_attributes`` (YAML, unindented)."""
    (root / "jobs").mkdir(parents=True)
    shutil.copy(APP_FILE, root / "jobs" / "shop_app.py")
    components = ""
    if marts:
        (root / "marts.py").write_text(MARTS_MODULE)
        components += "  - type: python\n    name: marts\n    attributes:\n      module: marts.py\n"
    components += "  - type: modal\n    name: ml_jobs\n    attributes:\n"
    components += textwrap.indent(textwrap.dedent(modal_attributes).strip() + "\n", " " * 6)
    (root / "catchment.yaml").write_text(f"project:\n  name: shop\ncomponents:\n{components}")
    return root
