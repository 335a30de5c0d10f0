"""Manifest nodes -> catchment specs: models, seeds and snapshots become assets, tests checks.

Rules (documented in the README):
- key: ``key_prefix + [name]`` (versioned models: ``name_v<version>``).
- deps: upstream models/seeds/snapshots of the component; sources and project nodes outside the
  component's selection become ``reads`` of their relations (the graph links them to whichever
  asset writes that table, else to an external asset); ephemeral models are looked through.
- generic tests: a check on their ``attached_node``; singular tests: a check on the most
  downstream node they read (deepest in the dbt DAG, ties broken by unique id); tests on sources
  only are not checks (the writer of the source table owns its checks).
- unit tests: checks (metadata ``dbt_unit_test: True``) only when the component asks for them
  (``run_unit_tests`` or ``CATCHMENT_DBT_UNIT_TESTS=1``): the core runs every declared check.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass
from functools import cached_property
from operator import attrgetter
from typing import Any, Literal

from catchment.keys import AssetKey
from catchment.partitions import PartitionsDefinition
from catchment.specs import AssetDep, AssetSpec, CheckSpec, Severity
from catchment.tables import TableRef

from catchment_dbt.manifest import Manifest, Node
from catchment_dbt.profiles import Target

ASSET_TYPES = frozenset({"model", "seed", "snapshot"})
GroupFrom = Literal["folder", "dbt_group"] | None


@dataclass(frozen=True)
class TranslationOptions:
    """How dbt nodes become catchment names."""

    key_prefix: tuple[str, ...] = ()
    group_from: GroupFrom = "folder"
    partitions: PartitionsDefinition | None = None
    partitioned: Set[str] = frozenset()
    unit_tests: bool = False


class Translation:
    """The specs of one dbt component and the maps execution needs to run them.

    ``specs`` and ``files`` (each node's and test's file, by unique id) are what translating
    produces; the maps are derived from the specs when execution first asks for them, so a
    load that runs nothing (or reads the translation back from its cache) never builds them."""

    def __init__(self, specs: list[AssetSpec] | None = None, files: dict[str, str] | None = None):
        self.specs: list[AssetSpec] = specs if specs is not None else []
        self.files: dict[str, str] = files if files is not None else {}

    @cached_property
    def key_of(self) -> dict[str, AssetKey]:
        """Asset key by the unique id of the model, seed or snapshot."""
        return {s.metadata["dbt_unique_id"]: s.key for s in self.specs}

    @cached_property
    def node_of(self) -> dict[AssetKey, str]:
        """Unique id by asset key."""
        return {s.key: s.metadata["dbt_unique_id"] for s in self.specs}

    @cached_property
    def tables(self) -> dict[AssetKey, TableRef]:
        """The relation each asset writes."""
        return {s.key: s.table for s in self.specs if s.table is not None}

    @cached_property
    def checks_of_test(self) -> dict[str, CheckSpec]:
        """The check of each dbt test (and unit test) declared, by the test's unique id."""
        return {c.metadata["dbt_unique_id"]: c for s in self.specs for c in s.checks}

    @cached_property
    def test_of_check(self) -> dict[str, str]:
        """The dbt test's unique id of each check id (``asset:check``)."""
        return {_check_id(c): uid for uid, c in self.checks_of_test.items()}


class _Relations:
    """Builds TableRefs for one target without re-resolving its location per node, nor
    re-normalising the few (database, schema) pairs a project uses."""

    def __init__(self, target: Target):
        self.target = target
        self.base = target.relation(None, None, "x")
        self.places: dict[tuple[str | None, str | None], tuple[str, str]] = {}

    def __call__(self, database: str | None, schema: str | None, name: str) -> TableRef:
        base = self.base
        place = self.places.get((database, schema))
        if place is None:
            place = self.places[(database, schema)] = (
                _norm(database) or base.database,
                _norm(schema) or base.schema,
            )
        return TableRef(
            system=base.system,
            location=base.location,
            database=place[0],
            schema=place[1],
            name=_norm(name),
        )


_path = attrgetter("path")
"""A key's segments: the sort key of deps (in C, no Python frame per key)."""


def _check_id(check: CheckSpec) -> str:
    """``check.id`` without its intermediate ``CheckKey`` (thousands of tests)."""
    return "/".join(check.asset.path) + ":" + check.name


def _key(prefix: tuple[str, ...], name: str) -> AssetKey:
    """``prefix + [name]``; an ASCII identifier (what dbt names are) is a valid segment, so
    only other names go through the key's validation (the prefix is validated once)."""
    if name.isascii() and name.isidentifier():
        return AssetKey._trusted((*prefix, name))
    return AssetKey((*prefix, name))


def _norm(part: str | None) -> str:
    if not part:
        return ""
    if part.isidentifier():
        return part.lower()
    part = part.strip()
    if len(part) >= 2 and part[0] == part[-1] and part[0] in '"`[':
        part = part[1:-1]
    return part.lower()


def translate(
    manifest: Manifest,
    target: Target,
    options: TranslationOptions,
    *,
    selected: Set[str] | None = None,
) -> Translation:
    """Declare the component's assets and checks. ``selected``: unique ids the component's
    ``select``/``exclude`` kept (None = every enabled node)."""
    nodes = manifest.nodes
    relation = _Relations(target)
    adapter_type = manifest.metadata.adapter_type or target.type
    kinds = ("dbt", adapter_type)
    owners_of_group = _group_owners(manifest)
    out = Translation()
    key_of: dict[str, AssetKey] = {}
    files = out.files

    prefix = AssetKey(options.key_prefix).path if options.key_prefix else ()
    for uid, node in nodes.items():
        if (
            node.resource_type in ASSET_TYPES
            and node.config.materialized != "ephemeral"
            and (selected is None or node.unique_id in selected)
        ):
            name = node.name if node.version is None else f"{node.name}_v{node.version}"
            key_of[uid] = _key(prefix, name)

    source_reads: dict[str, TableRef] = {
        uid: relation(src.database, src.schema, src.identifier or src.name)
        for uid, src in manifest.sources.items()
    }

    is_key = key_of.__contains__
    key_for = key_of.__getitem__

    def inputs(node: Node) -> tuple[tuple[AssetDep, ...], tuple[TableRef, ...]]:
        parents = node.depends_on.nodes
        if all(map(is_key, parents)):  # the common case: only assets upstream
            if len(parents) == 1:
                return (AssetDep(key_for(parents[0])),), ()
            keys = sorted(set(map(key_for, parents)), key=_path)
            return tuple(map(AssetDep, keys)), ()
        deps: set[AssetKey] = set()
        reads: dict[TableRef, None] = {}
        stack = list(parents)
        seen: set[str] = set()
        while stack:
            parent = stack.pop()
            if parent in seen:
                continue
            seen.add(parent)
            key = key_of.get(parent)
            if key is not None:
                deps.add(key)
                continue
            read = source_reads.get(parent)
            if read is not None:
                reads[read] = None
                continue
            up = nodes.get(parent)
            if up is None:
                continue
            if up.config.materialized == "ephemeral":
                stack.extend(up.depends_on.nodes)
            elif up.resource_type in ASSET_TYPES:
                reads[relation(up.database, up.schema, up.alias or up.name)] = None
        return tuple(AssetDep(k) for k in sorted(deps, key=_path)), tuple(reads)

    checks: dict[str, list[CheckSpec]] = {}
    _declare_tests(manifest, key_of, files, checks, selected, unit_tests=options.unit_tests)

    partitioned_ids = options.partitioned
    group_from = options.group_from
    specs_append = out.specs.append
    for uid, key in key_of.items():
        node = nodes[uid]
        deps, reads = inputs(node)
        config = node.config
        meta = {**config.meta, **node.meta} if config.meta else node.meta  # only read
        if group_from == "folder":  # _group, without a call per node
            folder, sep, _ = node.path.partition("/")
            group = folder if sep else None
        else:
            group = _group(node, group_from)
        metadata: dict[str, Any] = {
            "dbt_unique_id": uid,
            "dbt_resource_type": node.resource_type,
            "materialized": config.materialized or node.resource_type,
            "relation_name": node.relation_name,
            "file": node.original_file_path,
        }
        if node.columns:
            metadata["columns"] = [c.name or name for name, c in node.columns.items()]
        if config.materialized == "incremental":
            metadata["incremental_strategy"] = config.incremental_strategy
        partitioned = partitioned_ids and (uid in partitioned_ids or node.name in partitioned_ids)
        table = relation(node.database, node.schema, node.alias or node.name)
        specs_append(
            AssetSpec(
                key=key,
                deps=deps,
                description=node.description or None,
                group=group,
                owners=_owners(meta, node.group, owners_of_group)
                if meta or owners_of_group
                else (),
                tags=dict.fromkeys(node.tags, ""),
                kinds=kinds,
                metadata=metadata,
                code_version=node.checksum.checksum or None,
                partitions=options.partitions if partitioned else None,
                checks=tuple(checks.get(uid, ())),
                table=table,
                reads=reads,
            )
        )
        files[uid] = node.original_file_path
    return out


def _declare_tests(
    manifest: Manifest,
    key_of: Mapping[str, AssetKey],
    files: dict[str, str],
    checks: dict[str, list[CheckSpec]],
    selected: Set[str] | None,
    *,
    unit_tests: bool,
) -> None:
    depth = _Depths(manifest)
    for uid, node in manifest.nodes.items():
        if node.resource_type != "test" or (selected is not None and uid not in selected):
            continue
        if node.attached_node is not None:
            owner = node.attached_node if node.attached_node in key_of else None
        else:
            parents = [p for p in node.depends_on.nodes if p in key_of]
            owner = max(parents, key=lambda p: (depth(p), p)) if parents else None
        if owner is None:
            continue
        severity: Severity = "warn" if (node.config.severity or "").lower() == "warn" else "error"
        kind = "generic" if node.test_metadata is not None else "singular"
        check = CheckSpec(
            name=node.name,
            asset=key_of[owner],
            severity=severity,
            description=node.description or None,
            blocking=severity == "error",
            metadata={"dbt_unique_id": uid, "dbt_test_type": kind},
        )
        checks.setdefault(owner, []).append(check)
        files[uid] = node.original_file_path
    for uid, unit in manifest.unit_tests.items() if unit_tests else ():
        if selected is not None and uid not in selected:
            continue
        model = next((p for p in unit.depends_on.nodes if p in key_of), None)
        if model is None:
            continue
        check = CheckSpec(
            name=unit.name,
            asset=key_of[model],
            severity="error",
            description=unit.description or None,
            blocking=True,
            metadata={
                "dbt_unique_id": uid,
                "dbt_test_type": "unit",
                "dbt_unit_test": True,
            },
        )
        checks.setdefault(model, []).append(check)
        files[uid] = unit.original_file_path


class _Depths:
    """Longest path from a root to a node, computed on demand (only singular tests need it)."""

    def __init__(self, manifest: Manifest):
        self.nodes = manifest.nodes
        self.memo: dict[str, int] = {}

    def __call__(self, start: str) -> int:
        nodes, memo = self.nodes, self.memo
        stack: list[tuple[str, bool]] = [(start, False)]
        while stack:
            uid, done = stack.pop()
            if uid in memo:
                continue
            node = nodes.get(uid)
            parents = [p for p in node.depends_on.nodes if p in nodes] if node else []
            if done:
                memo[uid] = 1 + max((memo.get(p, 0) for p in parents), default=0)
                continue
            stack.append((uid, True))
            stack.extend((p, False) for p in parents if p not in memo)
        return memo[start]


def _group(node: Node, group_from: GroupFrom) -> str | None:
    if group_from == "dbt_group":
        return node.group or node.config.group
    if group_from == "folder":
        folder, sep, _ = node.path.partition("/")
        return folder if sep else None
    return None


def _group_owners(manifest: Manifest) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for group in manifest.groups.values():
        owner = group.owner.email or group.owner.name
        if owner:
            out[group.name] = (owner,)
    return out


def _owners(
    meta: Mapping[str, Any], group: str | None, group_owners: Mapping[str, tuple[str, ...]]
) -> tuple[str, ...]:
    value = meta.get("owners", meta.get("owner"))
    if isinstance(value, str) and value:
        return (value,)
    if isinstance(value, list | tuple) and value:
        return tuple(str(v) for v in value)
    return group_owners.get(group or "", ())
