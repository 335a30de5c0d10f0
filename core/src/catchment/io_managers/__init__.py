"""Built-in IO managers: memory (tests), filesystem (any picklable value) and DuckDB
(dataframes to tables in the embedded default warehouse).

None of them imports pandas, pyarrow, polars or duckdb until it stores or loads a value.
"""

from __future__ import annotations

from catchment.io_managers.duckdb import DuckDBIOManager
from catchment.io_managers.filesystem import FilesystemIOManager
from catchment.io_managers.memory import MemoryIOManager

__all__ = ["DuckDBIOManager", "FilesystemIOManager", "MemoryIOManager"]
