"""Sling connections: resolve names to URLs, derive physical identity, keep URLs secret.

A connection URL may hold a password, so it is only ever passed to Sling through the child
process's environment; every text that leaves the adapter goes through :class:`Masker`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from urllib.parse import unquote, urlsplit

import msgspec
from catchment.errors import ConfigError
from catchment.secrets import redact, url_secrets
from catchment.tables import TableRef, duckdb_table, file_table, table
from pydantic import SecretStr

from catchment_sling.attributes import ConnectionConfig

# Sling's URL schemes -> catchment TableRef systems.
_SYSTEMS = {
    "postgres": "postgres",
    "postgresql": "postgres",
    "duckdb": "duckdb",
    "motherduck": "motherduck",
    "mysql": "mysql",
    "mariadb": "mariadb",
    "sqlite": "sqlite",
    "snowflake": "snowflake",
    "bigquery": "bigquery",
    "redshift": "redshift",
    "sqlserver": "sqlserver",
    "oracle": "oracle",
    "clickhouse": "clickhouse",
    "file": "file",
}
_DEFAULT_PORTS = {"postgres": 5432, "mysql": 3306, "mariadb": 3306, "redshift": 5439}
_DEFAULT_SCHEMAS = {"postgres": "public", "duckdb": "main", "redshift": "public"}


@dataclass(frozen=True)
class Connection:
    """A resolved connection: its name, its secret URL and what identity its relations get."""

    name: str
    url: SecretStr = field(repr=False)
    system: str
    location: str = ""
    database: str = ""
    default_schema: str = ""
    path: Path | None = None  # a DuckDB / SQLite file

    @property
    def is_file_system(self) -> bool:
        return self.system == "file"

    def relation(self, name: str, schema: str | None = None) -> TableRef:
        """The identity of relation ``schema.name`` inside this connection."""
        schema = schema or self.default_schema or None
        if self.system == "duckdb" and self.path is not None:
            # duckdb_table() resolves the path on every call; resolve once, normalise names
            # the same way (table() on a plain system), and swap them into the base identity.
            probe = table("generic", name, schema=schema or "main")
            return msgspec.structs.replace(self._duckdb_base, schema=probe.schema, name=probe.name)
        return table(
            self.system, name, schema=schema, database=self.database, location=self.location
        )

    @cached_property
    def _duckdb_base(self) -> TableRef:
        return duckdb_table(self.path or ":memory:", "_")

    def file(self, path: str, root: Path) -> TableRef:
        """The identity of a file stream (``file://data/x.csv`` is relative to the project)."""
        raw = path.removeprefix("file://")
        p = Path(raw).expanduser()
        return file_table(p if p.is_absolute() else root / p)

    def env_value(self) -> str:
        """The URL as Sling reads it from the environment (DuckDB paths made absolute)."""
        if self.system == "duckdb" and self.path is not None:
            return f"duckdb://{self.path}"
        return self.url.get_secret_value()


LOCAL = Connection(name="LOCAL", url=SecretStr("file://"), system="file")


def parse_connection(name: str, url: str, root: Path) -> Connection:
    """Read a connection URL's system, location and database (relative DuckDB paths resolve
    against the project root)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    system = _SYSTEMS.get(scheme, scheme)
    if not system:
        raise ConfigError(
            f"connection {name}: the URL has no scheme",
            where=f"connections.{name}",
            hint="use a URL such as postgresql://user@host:5432/db or duckdb:///abs/path.duckdb",
        )
    if system in {"duckdb", "sqlite"}:
        raw = url.split("://", 1)[1].split("?", 1)[0]
        p = Path(unquote(raw)).expanduser()
        path = p if p.is_absolute() else (root / p).resolve()
        return Connection(
            name=name,
            url=SecretStr(url),
            system=system,
            location=str(path),
            default_schema=_query_schema(url) or _DEFAULT_SCHEMAS.get(system, ""),
            path=path,
        )
    if system == "file":
        return Connection(name=name, url=SecretStr(url), system="file")
    host = (parts.hostname or "").lower()
    try:
        port = parts.port or _DEFAULT_PORTS.get(system)
    except ValueError:
        port = None
    location = f"{host}:{port}" if host and port else host
    database = unquote(parts.path.lstrip("/").split("/", 1)[0]) if parts.path else ""
    schema = _query_schema(url)
    return Connection(
        name=name,
        url=SecretStr(url),
        system=system,
        location=location,
        database=database,
        default_schema=schema or _DEFAULT_SCHEMAS.get(system, ""),
    )


def _query_schema(url: str) -> str:
    """The ``?schema=`` default schema of a connection URL (every system), or ``""``."""
    for item in urlsplit(url).query.split("&"):
        key, _, value = item.partition("=")
        if key.lower() == "schema" and value:
            return unquote(value)
    return ""


def resolve_connection(
    name: str,
    configured: Mapping[str, SecretStr | ConnectionConfig],
    root: Path,
    *,
    where: str,
    field_name: str,
    environ: Mapping[str, str] | None = None,
) -> Connection:
    """Find connection ``name``: the component's ``connections``, then an environment variable
    of that name (as Sling itself does); the built-in ``LOCAL`` needs neither."""
    env = os.environ if environ is None else environ
    lookup = {k.upper(): v for k, v in configured.items()}
    value = lookup.get(name.upper())
    url: str | None
    if isinstance(value, ConnectionConfig):
        if value.url is not None:
            url = value.url.get_secret_value()
        else:
            var = value.url_env or ""
            url = env.get(var)
            if not url:
                raise ConfigError(
                    f"connection {name}: environment variable {var} is not set",
                    where=f"{where} (connections.{name}.url_env)",
                    hint=f"export {var}=<connection URL> before loading the project "
                    "(the value is never printed)",
                )
    elif isinstance(value, SecretStr):
        url = value.get_secret_value()
    else:
        url = env.get(name) or env.get(name.upper())
    if not url:
        if name.upper() == "LOCAL":
            return LOCAL
        known = ", ".join(sorted(configured)) or "none"
        raise ConfigError(
            f"replication {field_name} {name!r} is not a known connection (declared: {known})",
            where=where,
            hint=f"add it under the component's `connections:` (e.g. {name}: "
            f"\"{{{{ env('{name}_URL') }}}}\" or {name}: {{url_env: VAR}}), "
            f"or export {name}=<connection URL>",
        )
    return parse_connection(name, url, root)


class Masker:
    """Hides every known secret (connection URLs and their passwords) in a text, through
    ``catchment.redact``."""

    def __init__(self, urls: Iterable[str] = ()):
        secrets: set[str] = set()
        for url in urls:
            if "://" not in url:
                continue
            found = url_secrets(url)
            secrets |= found
            if found or urlsplit(url).query:
                secrets.add(url)  # a plain path URL (duckdb:///x, file://) is no secret
        self._secrets = frozenset(secrets)

    def __call__(self, text: str) -> str:
        return redact(text, secrets=self._secrets)

    @classmethod
    def for_connections(cls, connections: Iterable[Connection]) -> Masker:
        return cls(c.url.get_secret_value() for c in connections)
