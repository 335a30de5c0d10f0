"""Built-in observers: DuckDB files, files and directories, PostgreSQL databases."""
