"""catchment-openlineage: catchment's runs as OpenLineage events, with column lineage.

Importing this package imports neither openlineage nor sqlglot: both load when a run starts
with OpenLineage configured (``OPENLINEAGE_URL``, ``openlineage.yml``...).
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
