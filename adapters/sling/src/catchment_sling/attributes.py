"""The ``attributes:`` of a ``type: sling`` component, validated by pydantic.

Connection URLs are held as ``SecretStr`` so they never show in ``repr``, logs or errors.
"""

from __future__ import annotations

from typing import Any, Literal

from catchment.extra_deps import ExtraDepsFields
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator


class ConnectionConfig(BaseModel):
    """One Sling connection: a URL given inline or read from an environment variable."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    url: SecretStr | None = Field(None, description="the connection URL (kept secret)")
    url_env: str | None = Field(None, description="environment variable holding the URL")

    @model_validator(mode="after")
    def _one_source(self) -> ConnectionConfig:
        if (self.url is None) == (self.url_env is None):
            raise ValueError("give exactly one of `url` or `url_env`")
        return self


class StreamOverride(ExtraDepsFields):
    """What a project may change about one stream's asset (never how Sling runs it), and
    upstreams Sling cannot see (``deps``: asset keys or tables; ``reads``: tables)."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    key: str | None = Field(None, description="asset key, e.g. sales/orders")
    group: str | None = Field(None, description="asset group")
    owners: list[str] = Field(default_factory=list, description="asset owners")
    tags: dict[str, str] = Field(default_factory=dict, description="tags added to the asset")
    description: str | None = Field(None, description="asset description")


class SlingPartitions(BaseModel):
    """Time windows the streams are loaded by: one ``sling run`` per window, with
    ``{partition_key}``, ``{partition_start:%Y/%m/%d/%H}`` and ``{partition_end:FMT}`` in a
    stream's name or settings replaced by the window's values (e.g. the folder of an hour)."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    cadence: Literal["hourly", "daily", "weekly", "monthly"] = Field(
        description="hourly, daily, weekly or monthly"
    )
    start: str = Field(description="the first window's start, e.g. 2025-08-01 or 2025-08-01-00:00")
    end: str | None = Field(None, description="windows end by this time (default: now)")
    timezone: str = Field("UTC", description="IANA timezone of the windows")
    streams: list[str] | None = Field(
        None, description="stream names that are partitioned (default: every stream)"
    )


class SlingAttributes(BaseModel):
    """Attributes of a ``sling`` component.

    ``replication`` is a path (relative to the project) to Sling's replication YAML, or the
    replication itself as a mapping. ``connections`` maps Sling connection names to URLs.
    ``overrides`` maps a stream name (as written in the replication) to asset overrides.
    ``binary`` / ``duckdb_binary`` pin the Sling binary and the DuckDB CLI explicitly.
    """

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    replication: str | dict[str, Any] = Field(
        description="Sling replication YAML (path relative to the project) or inline mapping"
    )
    connections: dict[str, SecretStr | ConnectionConfig] = Field(
        default_factory=dict,
        description="connection name -> URL, or {url_env: VAR}; never printed",
    )
    overrides: dict[str, StreamOverride] = Field(
        default_factory=dict,
        description="stream name -> {key, group, owners, tags, description, deps, reads}",
    )
    binary: str | None = Field(
        None, description="Sling binary (default: SLING_BINARY, sling-linux-amd64, PATH)"
    )
    duckdb_binary: str | None = Field(
        None, description="DuckDB CLI for duckdb connections (default: DUCKDB_PATH, duckdb-cli)"
    )
    key_prefix: str | list[str] | None = Field(None, description="prefix of every asset key")
    group: str | None = Field(None, description="group of every stream's asset")
    owners: list[str] = Field(default_factory=list, description="owners of every asset")
    tags: dict[str, str] = Field(default_factory=dict, description="tags of every asset")
    env: dict[str, str] = Field(
        default_factory=dict, description="extra non-secret environment for the sling process"
    )
    partitions: SlingPartitions | None = Field(
        None, description="time windows: {cadence, start, end, timezone, streams}"
    )
