"""A fast, partial reader of dbt's ``target/manifest.json``.

The structs below name only the fields the adapter uses; msgspec skips everything else
(compiled code, columns, docs, macros) without building Python objects for it, which is what
makes a 10,000-model manifest decode in a fraction of a second.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
from catchment.errors import ConfigError


class Checksum(msgspec.Struct):
    """A node's content checksum (``sha256`` of its file)."""

    checksum: str = ""


class DependsOn(msgspec.Struct):
    """Upstream unique ids of a node."""

    nodes: list[str] = msgspec.field(default_factory=list)


class NodeConfig(msgspec.Struct):
    """The parts of a node's config catchment reads."""

    enabled: bool = True
    materialized: str | None = None
    severity: str | None = None
    meta: dict[str, Any] = msgspec.field(default_factory=dict)
    group: str | None = None
    incremental_strategy: str | None = None
    unique_key: Any = None


class TestMetadata(msgspec.Struct):
    """Present on generic tests: the test macro's name (``unique``, ``not_null``...)."""

    name: str = ""
    namespace: str | None = None


class Node(msgspec.Struct):
    """A model, seed, snapshot, test or other entry of ``manifest["nodes"]``."""

    unique_id: str
    resource_type: str
    name: str
    package_name: str = ""
    path: str = ""
    original_file_path: str = ""
    fqn: list[str] = msgspec.field(default_factory=list)
    database: str | None = None
    schema: str | None = None
    alias: str | None = None
    relation_name: str | None = None
    description: str = ""
    tags: list[str] = msgspec.field(default_factory=list)
    meta: dict[str, Any] = msgspec.field(default_factory=dict)
    group: str | None = None
    version: Any = None
    config: NodeConfig = msgspec.field(default_factory=NodeConfig)
    checksum: Checksum = msgspec.field(default_factory=Checksum)
    depends_on: DependsOn = msgspec.field(default_factory=DependsOn)
    attached_node: str | None = None
    test_metadata: TestMetadata | None = None


class Source(msgspec.Struct):
    """A dbt source table (``source.<project>.<source>.<table>``)."""

    unique_id: str
    name: str
    source_name: str = ""
    database: str | None = None
    schema: str | None = None
    identifier: str | None = None
    relation_name: str | None = None


class UnitTest(msgspec.Struct):
    """A dbt unit test (``manifest["unit_tests"]``), attached to the model it tests."""

    unique_id: str
    name: str
    model: str = ""
    package_name: str = ""
    fqn: list[str] = msgspec.field(default_factory=list)
    description: str = ""
    original_file_path: str = ""
    depends_on: DependsOn = msgspec.field(default_factory=DependsOn)


class Owner(msgspec.Struct):
    """A dbt group's owner."""

    name: str | None = None
    email: str | None = None


class Group(msgspec.Struct):
    """A dbt group (``groups:`` in YAML) with its owner."""

    name: str
    owner: Owner = msgspec.field(default_factory=Owner)


class Metadata(msgspec.Struct):
    """Who wrote the manifest."""

    dbt_version: str = ""
    project_name: str = ""
    adapter_type: str = ""
    dbt_schema_version: str = ""


class Manifest(msgspec.Struct):
    """The subset of a dbt manifest catchment needs to declare assets and checks."""

    metadata: Metadata = msgspec.field(default_factory=Metadata)
    nodes: dict[str, Node] = msgspec.field(default_factory=dict)
    sources: dict[str, Source] = msgspec.field(default_factory=dict)
    unit_tests: dict[str, UnitTest] = msgspec.field(default_factory=dict)
    groups: dict[str, Group] = msgspec.field(default_factory=dict)


_decoder = msgspec.json.Decoder(Manifest)


def decode_manifest(raw: bytes) -> Manifest:
    """Decode manifest JSON bytes (raises ``msgspec.DecodeError`` / ``ValidationError``)."""
    return _decoder.decode(raw)


def read_manifest(path: Path) -> Manifest:
    """Read and decode ``path``; a missing or corrupt file raises a ``ConfigError`` naming it."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"cannot read the dbt manifest: {exc.strerror or exc}",
            where=str(path),
            hint="run `dbt parse` in the dbt project, or remove the file so catchment parses it",
        ) from None
    try:
        return decode_manifest(raw)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ConfigError(
            f"the dbt manifest is not valid manifest JSON ({exc})",
            where=str(path),
            hint="delete it and run `dbt parse` (or let catchment parse the project)",
        ) from None
