"""The ``attributes:`` of a ``type: sling`` component, validated by pydantic.

Connection URLs are held as ``SecretStr`` so they never show in ``repr``, logs or errors.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator


class ConnectionConfig(BaseModel):
    """One Sling connection: a URL given inline or read from an environment variable."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: SecretStr | None = None
    url_env: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> ConnectionConfig:
        if (self.url is None) == (self.url_env is None):
            raise ValueError("give exactly one of `url` or `url_env`")
        return self


class StreamOverride(BaseModel):
    """What a project may change about one stream's asset (never how Sling runs it)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str | None = None
    group: str | None = None
    owners: list[str] = Field(default_factory=list)
    tags: dict[str, str] = Field(default_factory=dict)
    description: str | None = None


class SlingAttributes(BaseModel):
    """Attributes of a ``sling`` component.

    ``replication`` is a path (relative to the project) to Sling's replication YAML, or the
    replication itself as a mapping. ``connections`` maps Sling connection names to URLs.
    ``overrides`` maps a stream name (as written in the replication) to asset overrides.
    ``binary`` / ``duckdb_binary`` pin the Sling binary and the DuckDB CLI explicitly.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    replication: str | dict[str, Any]
    connections: dict[str, SecretStr | ConnectionConfig] = Field(default_factory=dict)
    overrides: dict[str, StreamOverride] = Field(default_factory=dict)
    binary: str | None = None
    duckdb_binary: str | None = None
    key_prefix: str | list[str] | None = None
    group: str | None = None
    owners: list[str] = Field(default_factory=list)
    tags: dict[str, str] = Field(default_factory=dict)
    env: dict[str, str] = Field(default_factory=dict)
