"""A fast, partial reader of dbt's ``target/manifest.json``.

The structs below name only the fields the adapter uses (of columns, only their names);
msgspec skips everything else (compiled code, docs, macros) without building Python objects
for it, which is what makes a 10,000-model manifest decode in a fraction of a second.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
from catchment.atomic_write import write_cache
from catchment.errors import ConfigError


class Checksum(msgspec.Struct, gc=False):
    """A node's content checksum (``sha256`` of its file)."""

    checksum: str = ""


class DependsOn(msgspec.Struct, gc=False):
    """Upstream unique ids of a node."""

    nodes: list[str] = msgspec.field(default_factory=list)


class NodeConfig(msgspec.Struct, gc=False):
    """The parts of a node's config catchment reads."""

    enabled: bool = True
    materialized: str | None = None
    severity: str | None = None
    meta: dict[str, Any] = msgspec.field(default_factory=dict)
    group: str | None = None
    incremental_strategy: str | None = None
    unique_key: Any = None


class TestMetadata(msgspec.Struct, gc=False):
    """Present on generic tests: the test macro's name (``unique``, ``not_null``...)."""

    name: str = ""
    namespace: str | None = None


class Column(msgspec.Struct, gc=False):
    """A documented column of a node (its name only: the catalog searches by it)."""

    name: str = ""


class Node(msgspec.Struct, gc=False):
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
    columns: dict[str, Column] = msgspec.field(default_factory=dict)
    depends_on: DependsOn = msgspec.field(default_factory=DependsOn)
    attached_node: str | None = None
    test_metadata: TestMetadata | None = None


class Source(msgspec.Struct, gc=False):
    """A dbt source table (``source.<project>.<source>.<table>``)."""

    unique_id: str
    name: str
    source_name: str = ""
    database: str | None = None
    schema: str | None = None
    identifier: str | None = None
    relation_name: str | None = None


class UnitTest(msgspec.Struct, gc=False):
    """A dbt unit test (``manifest["unit_tests"]``), attached to the model it tests."""

    unique_id: str
    name: str
    model: str = ""
    package_name: str = ""
    fqn: list[str] = msgspec.field(default_factory=list)
    description: str = ""
    original_file_path: str = ""
    depends_on: DependsOn = msgspec.field(default_factory=DependsOn)


class Owner(msgspec.Struct, gc=False):
    """A dbt group's owner."""

    name: str | None = None
    email: str | None = None


class Group(msgspec.Struct, gc=False):
    """A dbt group (``groups:`` in YAML) with its owner."""

    name: str
    owner: Owner = msgspec.field(default_factory=Owner)


class Metadata(msgspec.Struct, gc=False):
    """Who wrote the manifest."""

    dbt_version: str = ""
    project_name: str = ""
    adapter_type: str = ""
    dbt_schema_version: str = ""


class Manifest(msgspec.Struct, gc=False):
    """The subset of a dbt manifest catchment needs to declare assets and checks."""

    metadata: Metadata = msgspec.field(default_factory=Metadata)
    nodes: dict[str, Node] = msgspec.field(default_factory=dict)
    sources: dict[str, Source] = msgspec.field(default_factory=dict)
    unit_tests: dict[str, UnitTest] = msgspec.field(default_factory=dict)
    groups: dict[str, Group] = msgspec.field(default_factory=dict)


_decoder = msgspec.json.Decoder(Manifest)


class _Compact(msgspec.Struct, gc=False):
    """The needed fields of one manifest.json, as msgpack, with the source's size and mtime."""

    size: int
    mtime_ns: int
    manifest: Manifest


_compact_decoder = msgspec.msgpack.Decoder(_Compact)
_compact_encoder = msgspec.msgpack.Encoder()


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many acyclic objects: otherwise its
    full collections, triggered by the allocations themselves, take 2/3 of the decode time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def decode_manifest(raw: bytes) -> Manifest:
    """Decode manifest JSON bytes (raises ``msgspec.DecodeError`` / ``ValidationError``)."""
    with gc_paused():
        return _decoder.decode(raw)


def read_manifest(path: Path, compact: Path | None = None) -> Manifest:
    """Read and decode ``path``; a missing or corrupt file raises a ``ConfigError`` naming it.

    ``compact``: a msgpack copy of just the needed fields, reused while ``path`` keeps its size
    and mtime (decoding it is several times faster than the JSON), rewritten otherwise.
    """
    if compact is not None:
        try:
            st = path.stat()
            with gc_paused():
                copy = _compact_decoder.decode(compact.read_bytes())
            if (copy.size, copy.mtime_ns) == (st.st_size, st.st_mtime_ns):
                return copy.manifest
        except (OSError, msgspec.DecodeError, msgspec.ValidationError):
            pass
    manifest = _read_json(path)
    if compact is not None:
        try:
            st = path.stat()
            write_cache(
                compact, _compact_encoder.encode(_Compact(st.st_size, st.st_mtime_ns, manifest))
            )
        except OSError:
            pass
    return manifest


def _read_json(path: Path) -> Manifest:
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
