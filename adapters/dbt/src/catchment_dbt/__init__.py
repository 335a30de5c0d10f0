# ruff: noqa: F401
"""catchment-dbt: every dbt model, seed, snapshot, source and test in catchment's asset graph.

Import is light (no dbt, no pydantic): names resolve on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from catchment.lazy import lazy_exports

__version__ = "0.1.0"

_EXPORTS = {
    "DbtAttributes": "catchment_dbt.attributes",
    "DbtPartitions": "catchment_dbt.attributes",
    "dbt_assets": "catchment_dbt.assets",
    "DbtProject": "catchment_dbt.project",
    "Manifest": "catchment_dbt.manifest",
    "read_manifest": "catchment_dbt.manifest",
    "TranslationOptions": "catchment_dbt.translation",
    "translate": "catchment_dbt.translation",
    "DbtCompute": "catchment_dbt.execution",
    "RunOptions": "catchment_dbt.execution",
}

__all__ = [*_EXPORTS, "__version__"]


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)


if TYPE_CHECKING:
    from catchment_dbt.assets import dbt_assets
    from catchment_dbt.attributes import DbtAttributes, DbtPartitions
    from catchment_dbt.execution import DbtCompute, RunOptions
    from catchment_dbt.manifest import Manifest, read_manifest
    from catchment_dbt.project import DbtProject
    from catchment_dbt.translation import TranslationOptions, translate
