"""The adapter registers through the entry point, without importing dbt."""

from __future__ import annotations

import subprocess
import sys


def test_the_registry_lists_the_dbt_adapter_and_component_type() -> None:
    from catchment.plugins import get_registry, reset_registry

    reset_registry()
    registry = get_registry()
    record = next(a for a in registry.adapters if a.name == "dbt")
    assert record.status == "ok", record.error
    assert record.distribution == "catchment-dbt"
    assert "dbt" in record.component_types
    assert registry.component_types["dbt"].attributes.__name__ == "DbtAttributes"


def test_importing_the_adapter_does_not_import_dbt() -> None:
    code = (
        "import sys, catchment_dbt.hooks, catchment_dbt.component;"
        "print(sorted(m for m in sys.modules if m == 'dbt' or m.startswith('dbt.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
