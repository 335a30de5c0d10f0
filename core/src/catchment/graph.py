"""The asset graph: every definition's specs in ONE graph, linked by keys and by tables.

A spec's ``deps`` name upstream keys; a spec's ``reads`` name physical relations, which link to
the one asset whose ``table`` is that relation, whatever tool produced it. Reads no asset
writes become external source assets. Walks run on integer adjacency lists built once.
"""

from __future__ import annotations

import gc
import heapq
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import chain, compress, repeat
from operator import attrgetter, not_
from typing import TYPE_CHECKING, cast

from catchment.definitions import AssetsDefinition
from catchment.errors import CatchmentError, GraphError
from catchment.keys import AssetKey, CoercibleToKey
from catchment.specs import AssetSpec, CheckSpec
from catchment.tables import TableRef

if TYPE_CHECKING:
    from catchment.selection import GraphIndex

_BAD_SEGMENT_CHARS = re.compile(r"[^A-Za-z0-9_.\-]")
_MAX_CYCLES_REPORTED = 10


class UnknownAssetError(CatchmentError, KeyError):
    """A key asked of the graph is not in it."""


def external_key(ref: TableRef) -> AssetKey:
    """The key of the external source asset standing for a relation no asset writes:
    ``external/<system>/<database>/<schema>/<name>``, empty parts skipped."""
    parts = [ref.system, ref.database, ref.schema, ref.name]
    segments = ["external"]
    for part in parts:
        if part:
            segment = _BAD_SEGMENT_CHARS.sub("_", part)
            segments.append("_" + segment[1:] if segment[0] in ".-" else segment)
    # Valid by construction (non-empty, allowed characters, no leading '.' or '-').
    return AssetKey._trusted(tuple(segments))


class AssetGraph:
    """All assets of a project, their dependencies, and the definitions that compute them.

    Build with :meth:`AssetGraph.build`, which validates everything at once and raises one
    ``GraphError`` listing every problem. Iterating yields keys in topological order.
    """

    specs: Mapping[AssetKey, AssetSpec]
    definitions: Mapping[str, AssetsDefinition]

    def __init__(
        self,
        *,
        keys: list[AssetKey],
        specs: dict[AssetKey, AssetSpec],
        definitions: dict[str, AssetsDefinition],
        owners: list[AssetsDefinition | None],
        upstream: list[tuple[int, ...]],
        external: frozenset[int],
        writers: dict[TableRef, AssetKey],
        checks: dict[int, tuple[CheckSpec, ...]],
        check_definitions: dict[int, tuple[AssetsDefinition, ...]],
        order: list[int],
        index: dict[tuple[str, ...], int] | None = None,
        downstream: list[list[int]] | None = None,
        specs_by_id: list[AssetSpec] | None = None,
    ):
        """Use :meth:`build`; this stores already validated parts: ``owners`` is each id's
        definition (None for external sources), ``index`` maps each key's path to its id
        (``index``, ``downstream`` and ``specs_by_id`` are derived from ``keys``, ``upstream``
        and ``specs`` when not given)."""
        self.specs = specs
        self.definitions = definitions
        self._keys = keys
        # By path, not by key: a tuple's hash is computed in C, AssetKey.__hash__ is a Python
        # call (the build looks up hundreds of thousands of keys).
        self._index = index if index is not None else {k.path: i for i, k in enumerate(keys)}
        self._owners = owners
        self._up = upstream
        self._down = downstream if downstream is not None else _downstream(upstream)
        self._external = external
        self._writers = writers
        self._checks = checks
        self._check_definitions = check_definitions
        self._order = order
        self._selection_index: GraphIndex | None = None
        self._specs_by_id = specs_by_id

    # ------------------------------------------------------------------ building
    @classmethod
    def build(
        cls,
        definitions: Iterable[AssetsDefinition],
        *,
        io_tables: Callable[[AssetSpec], TableRef | None] | None = None,
    ) -> AssetGraph:
        """Link and validate ``definitions`` into one graph.

        ``io_tables`` fills ``table`` for specs that declare none (e.g. the table a DuckDB IO
        manager will write), so other tools' reads of that table link to them.
        Raises ``GraphError`` naming the definitions involved in duplicate keys or names, two
        writers of one table, deps on unknown keys, checks on unknown assets and cycles.
        """
        # The build allocates a few objects per spec and frees none of them: generational GC
        # passes over that growing heap make it superlinear (100,000 specs: 0.6 s -> 0.3 s).
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            return cls._build(definitions, io_tables)
        finally:
            if gc_was_enabled:
                gc.enable()

    @classmethod
    def _build(
        cls,
        definitions: Iterable[AssetsDefinition],
        io_tables: Callable[[AssetSpec], TableRef | None] | None,
    ) -> AssetGraph:
        """:meth:`build`, its five phases."""
        problems: list[str] = []
        declared: list[AssetsDefinition] = []
        definitions = _without_sources(definitions, declared)
        defs, specs, owners, writers = _collect_definitions(definitions, io_tables, problems)
        externals = _declared_sources(declared, defs, specs, owners, writers, problems)
        external_keys: dict[TableRef, AssetKey] = {}  # each read relation's, computed once
        externals.update(_external_sources(specs, owners, writers, external_keys, problems))
        specs.update(externals)
        owners.extend([None] * len(externals))
        # Ids follow the key order (the topological sort's tie-break): the sort then needs no
        # rank per id, and ids close in key order are close in memory.
        keys = list(specs)
        paths = [k.path for k in keys]
        by_key = sorted(range(len(keys)), key=paths.__getitem__)
        keys = list(map(keys.__getitem__, by_key))
        spec_list = list(specs.values())
        spec_list = list(map(spec_list.__getitem__, by_key))
        owners = list(map(owners.__getitem__, by_key))
        index = dict(zip(map(paths.__getitem__, by_key), range(len(keys)), strict=True))
        upstream = _link(keys, index, spec_list, owners, writers, external_keys, by_key, problems)
        checks, check_defs = _collect_checks(defs.values(), index, problems)
        _check_loaded_inputs(defs.values(), specs, problems)
        downstream = _downstream(upstream)
        order = _order(keys, upstream, downstream, owners, problems)
        if problems:
            raise GraphError(
                problems,
                hint="fix the definitions named above; every asset key and every written "
                "table must belong to exactly one definition, and dependencies must not loop",
            )
        # The group/kind/owner/tag index is built by the first selection that needs it (in
        # one pass), not here: listing every asset or planning them all needs none.
        return cls(
            keys=keys,
            specs=specs,
            definitions=defs,
            owners=owners,
            upstream=upstream,
            external=frozenset(index[k.path] for k in externals),
            writers=writers,
            checks=checks,
            check_definitions=check_defs,
            order=order,
            index=index,
            downstream=downstream,
            specs_by_id=spec_list,
        )

    @property
    def selection_index(self) -> GraphIndex:
        """The attribute index selections evaluate against, built once per graph."""
        if self._selection_index is None:
            from catchment.selection import GraphIndex

            self._selection_index = GraphIndex(self)
        return self._selection_index

    # ------------------------------------------------------------------ id-level API
    # Assets have dense integer ids (their position in ``keys_by_id``); selections and
    # planners work on sets of ids and turn them into keys once, at the end.
    @property
    def keys_by_id(self) -> Sequence[AssetKey]:
        """Every key, indexed by asset id."""
        return self._keys

    @property
    def external_ids(self) -> frozenset[int]:
        """The ids of external source assets."""
        return self._external

    @property
    def order_ids(self) -> Sequence[int]:
        """Every id in topological order (what iterating the graph yields, as ids)."""
        return self._order

    def upstream_of_id(self, i: int) -> Sequence[int]:
        """The direct upstream ids of asset ``i``."""
        return self._up[i]

    def definition_of_id(self, i: int) -> AssetsDefinition | None:
        """The definition computing asset ``i``; None for external sources."""
        return self._owners[i]

    def checks_of_id(self, i: int) -> tuple[CheckSpec, ...]:
        """Every check on asset ``i``."""
        return self._checks.get(i, ())

    @property
    def upstream_by_id(self) -> Sequence[Sequence[int]]:
        """Every id's direct upstream ids (``upstream_of_id`` of all of them: a loop over
        every asset indexes a list instead of calling a method per asset)."""
        return self._up

    @property
    def definitions_by_id(self) -> Sequence[AssetsDefinition | None]:
        """Every id's definition (``definition_of_id`` of all of them)."""
        return self._owners

    @property
    def checks_by_id(self) -> Mapping[int, tuple[CheckSpec, ...]]:
        """The checks of every id that has some (``checks_of_id`` of all of them)."""
        return self._checks

    @property
    def specs_by_id(self) -> Sequence[AssetSpec]:
        """Every spec, indexed by asset id."""
        specs = self._specs_by_id
        if specs is None:
            specs = self._specs_by_id = [self.specs[k] for k in self._keys]
        return specs

    def spec_of_id(self, i: int) -> AssetSpec:
        """The spec of asset ``i``."""
        return self.specs_by_id[i]

    def find_id(self, key: AssetKey) -> int | None:
        """The id of ``key``, or None when it is not in the graph."""
        return self._index.get(key.path)

    def keys_of(self, ids: Iterable[int]) -> frozenset[AssetKey]:
        """The keys of ``ids``."""
        return self._keyset(ids)

    def upstream_ids(self, ids: Iterable[int], depth: int | None = None) -> set[int]:
        """Ids upstream of ``ids`` within ``depth`` steps (all when None), ``ids`` excluded."""
        return self._walk(ids, self._up, depth)

    def downstream_ids(self, ids: Iterable[int], depth: int | None = None) -> set[int]:
        """Ids downstream of ``ids`` within ``depth`` steps (all when None)."""
        return self._walk(ids, self._down, depth)

    # ------------------------------------------------------------------ lookups
    def _id(self, key: CoercibleToKey) -> int:
        i = self._index.get(key.path) if isinstance(key, AssetKey) else None
        if i is None:
            i = self._index.get(AssetKey.parse(key).path)
        if i is None:
            raise UnknownAssetError(
                f"no asset {AssetKey.parse(key)} in the graph",
                hint="run `catchment assets list` to see the keys",
            )
        return i

    def _keyset(self, ids: Iterable[int]) -> frozenset[AssetKey]:
        keys = self._keys
        return frozenset([keys[i] for i in ids])

    def definition_of(self, key: CoercibleToKey) -> AssetsDefinition | None:
        """The definition computing ``key``; None for external source assets."""
        return self._owners[self._id(key)]

    def is_external(self, key: CoercibleToKey) -> bool:
        """Whether ``key`` is an external source (read by some asset, written by none)."""
        return self._id(key) in self._external

    def upstream(self, key: CoercibleToKey) -> frozenset[AssetKey]:
        """Direct upstreams of ``key`` (its deps and the writers of what it reads)."""
        return self._keyset(self._up[self._id(key)])

    def downstream(self, key: CoercibleToKey) -> frozenset[AssetKey]:
        """Direct downstreams of ``key``."""
        return self._keyset(self._down[self._id(key)])

    def ancestors(
        self, keys: Iterable[CoercibleToKey], depth: int | None = None
    ) -> frozenset[AssetKey]:
        """Every asset upstream of ``keys`` (within ``depth`` steps), not the keys themselves
        unless one is upstream of another."""
        return self._keyset(self._walk([self._id(k) for k in keys], self._up, depth))

    def descendants(
        self, keys: Iterable[CoercibleToKey], depth: int | None = None
    ) -> frozenset[AssetKey]:
        """Every asset downstream of ``keys`` (within ``depth`` steps)."""
        return self._keyset(self._walk([self._id(k) for k in keys], self._down, depth))

    @staticmethod
    def _walk(start: Iterable[int], adj: Sequence[Sequence[int]], depth: int | None) -> set[int]:
        """Every id reachable from ``start`` over ``adj`` in 1..``depth`` steps; O(edges)."""
        seen: set[int] = set()
        add = seen.add
        if depth is None:
            stack = list(start)
            push, pop = stack.append, stack.pop
            while stack:
                for j in adj[pop()]:
                    if j not in seen:
                        add(j)
                        push(j)
            return seen
        frontier = list(start)
        for _ in range(depth):
            nxt: list[int] = []
            for i in frontier:
                for j in adj[i]:
                    if j not in seen:
                        add(j)
                        nxt.append(j)
            if not nxt:
                break
            frontier = nxt
        return seen

    def toposort(self, keys: Iterable[CoercibleToKey] | None = None) -> list[AssetKey]:
        """Keys in dependency order (upstreams first), ties broken by key: deterministic."""
        all_keys = self._keys
        if keys is None:
            return [all_keys[i] for i in self._order]
        wanted = {self._id(k) for k in keys}
        return [all_keys[i] for i in self._order if i in wanted]

    def roots(self) -> frozenset[AssetKey]:
        """Assets with no upstream (external sources are roots)."""
        return self._keyset(i for i, ups in enumerate(self._up) if not ups)

    def sinks(self) -> frozenset[AssetKey]:
        """Assets nothing depends on."""
        return self._keyset(i for i, downs in enumerate(self._down) if not downs)

    def checks_for(self, key: CoercibleToKey) -> tuple[CheckSpec, ...]:
        """Every check on ``key``, from its spec and from any definition."""
        return self._checks.get(self._id(key), ())

    def check_definitions_for(self, key: CoercibleToKey) -> tuple[AssetsDefinition, ...]:
        """The definitions that evaluate checks on ``key`` (its own one included if it does)."""
        return self._check_definitions.get(self._id(key), ())

    def writer_of(self, table: TableRef) -> AssetKey | None:
        """The asset whose ``table`` is ``table`` (external sources included), or None."""
        key = self._writers.get(table)
        if key is not None:
            return key
        ext = external_key(table)
        i = self._index.get(ext.path)
        return ext if i is not None and i in self._external else None

    def select(self, expression: str | None) -> frozenset[AssetKey]:
        """Evaluate a selection (see ``catchment.selection``); None, "" or "*" = every
        non-external asset."""
        if expression is None or not expression.strip() or expression.strip() == "*":
            return self._keyset(i for i in range(len(self._keys)) if i not in self._external)
        from catchment.selection import parse

        return parse(expression).evaluate(self)

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, key: object) -> bool:
        if isinstance(key, AssetKey):
            return key.path in self._index
        if isinstance(key, str):
            try:
                return AssetKey(key).path in self._index
            except CatchmentError:
                return False
        return False

    def __iter__(self) -> Iterator[AssetKey]:
        all_keys = self._keys
        return (all_keys[i] for i in self._order)

    def __repr__(self) -> str:
        return f"<AssetGraph {len(self._keys)} assets, {len(self.definitions)} definitions>"


_Owners = list[AssetsDefinition | None]
"""Each asset id's definition (None for external sources)."""
_Index = Mapping[tuple[str, ...], int]


def _labels(specs: Mapping[AssetKey, AssetSpec], owners: _Owners) -> dict[AssetKey, str]:
    """Each key's definition label, for problem messages (built only when there are some)."""
    return {k: d.label for k, d in zip(specs, owners, strict=False) if d is not None}


def _collect_definitions(
    definitions: Iterable[AssetsDefinition],
    io_tables: Callable[[AssetSpec], TableRef | None] | None,
    problems: list[str],
) -> tuple[
    dict[str, AssetsDefinition], dict[AssetKey, AssetSpec], _Owners, dict[TableRef, AssetKey]
]:
    """Phase 1: every definition's specs by key, their owners (in the same order) and the
    tables they write."""
    defs: dict[str, AssetsDefinition] = {}
    specs: dict[AssetKey, AssetSpec] = {}
    owners: _Owners = []
    writers: dict[TableRef, AssetKey] = {}
    add_spec = specs.setdefault
    add_owner = owners.append
    # (position in problems, key, its second definition, table or None): these messages
    # name the first definition of a key, looked up once at the end
    late: list[tuple[int, AssetKey, AssetsDefinition, TableRef | None, AssetKey]] = []
    for d in definitions:
        if d.name in defs:
            problems.append(
                f"two definitions are named {d.name!r}: {defs[d.name].label} and {d.label}"
            )
            continue
        if io_tables is not None and any(s.table is None for s in d.specs):
            d = d.map_specs(lambda s: _fill_table(s, io_tables))
        defs[d.name] = d
        for s in d.specs:
            k = s.key
            n = len(specs)
            add_spec(k, s)  # one hash of the key instead of two (`in`, then store)
            if len(specs) == n:
                late.append((len(problems), k, d, None, k))
                problems.append("")
                continue
            add_owner(d)
            t = s.table
            if t is None:
                continue
            other = writers.get(t)
            if other is None:
                writers[t] = k
            else:
                late.append((len(problems), k, d, t, other))
                problems.append("")
    if late:
        labels = _labels(specs, owners)
        for at, k, d, t, other in late:
            problems[at] = (
                f"asset {k} is defined twice: by {labels[k]} and by {d.label}"
                if t is None
                else f"table {t} has two writers: asset {other} ({labels[other]}) "
                f"and asset {k} ({d.label})"
            )
    return defs, specs, owners, writers


SOURCE_ADAPTER = "source"
"""The ``adapter`` of a definition that declares external sources (``sources:`` in YAML,
``@observable_source``): its specs become external source assets, it computes nothing."""


def _without_sources(
    definitions: Iterable[AssetsDefinition], declared: list[AssetsDefinition]
) -> Iterator[AssetsDefinition]:
    """``definitions`` without the source declarations, which are put into ``declared``."""
    for d in definitions:
        if d.adapter == SOURCE_ADAPTER:
            declared.append(d)
        else:
            yield d


def _declared_sources(
    declared: list[AssetsDefinition],
    defs: dict[str, AssetsDefinition],
    specs: Mapping[AssetKey, AssetSpec],
    owners: _Owners,
    writers: dict[TableRef, AssetKey],
    problems: list[str],
) -> dict[AssetKey, AssetSpec]:
    """Phase 1b: the external sources declared explicitly; one that names a relation stands
    for it, so the assets reading that relation depend on the declared source."""
    out: dict[AssetKey, AssetSpec] = {}
    for d in declared:
        if d.name in defs:
            problems.append(f"{d.name} is declared twice: by {defs[d.name].label} and {d.label}")
            continue
        defs[d.name] = d
        for s in d.specs:
            if s.key in specs or s.key in out:
                other = _labels(specs, owners).get(s.key, "another source declaration")
                problems.append(f"source {s.key} ({d.label}) is already defined by {other}")
                continue
            out[s.key] = s
            if s.table is not None:
                if s.table in writers:
                    problems.append(
                        f"source {s.key} ({d.label}) stands for table {s.table}, which asset "
                        f"{writers[s.table]} writes: a table written by an asset is not a source"
                    )
                    continue
                writers[s.table] = s.key
    return out


def _external_sources(
    specs: Mapping[AssetKey, AssetSpec],
    owners: _Owners,
    writers: Mapping[TableRef, AssetKey],
    external_keys: dict[TableRef, AssetKey],
    problems: list[str],
) -> dict[AssetKey, AssetSpec]:
    """Phase 2: one external source asset per relation that is read but written by no asset
    (each relation's external key is kept in ``external_keys``: many assets read one source)."""
    externals: dict[AssetKey, AssetSpec] = {}
    labels: dict[AssetKey, str] = {}
    for k, s in specs.items():
        for ref in s.reads:
            if ref in writers:
                continue
            ek = external_keys.get(ref)
            if ek is None:
                ek = external_keys[ref] = external_key(ref)
            if ek in specs:
                labels = labels or _labels(specs, owners)
                problems.append(
                    f"asset {k} ({labels[k]}) reads {ref}, whose external source key "
                    f"{ek} is already an asset of {labels[ek]}"
                )
            elif ek not in externals:
                externals[ek] = AssetSpec(
                    key=ek,
                    description=f"External source: {ref} (read, but written by no asset)",
                    kinds=(ref.system,),
                    table=ref,
                    metadata={"external": True},
                )
    return externals


def _link(
    keys: list[AssetKey],
    index: dict[tuple[str, ...], int],
    specs: list[AssetSpec],
    owners: _Owners,
    writers: Mapping[TableRef, AssetKey],
    external_keys: Mapping[TableRef, AssetKey],
    by_key: list[int],
    problems: list[str],
) -> list[tuple[int, ...]]:
    """Phase 3: each asset's upstream ids, from its deps (keys) and its reads (tables); its
    problems in the definitions' order (``by_key``: each id's position in it).

    The loop uses only operations the interpreter specializes (slot reads, dict and tuple
    subscripts): an unknown key stops it with a ``KeyError`` and every asset is then linked
    one by one. Assets that read tables are linked after it, one by one, with their problems
    (an unknown dependency of theirs is not looked up by the loop)."""
    upstream: list[tuple[int, ...]] = []
    append = upstream.append
    reading: list[int] = []
    try:
        for s in specs:
            deps = s.deps
            if s.reads:
                reading.append(len(upstream))
                append(())
            elif len(deps) == 1:
                append((index[deps[0].key.path],))
            elif len(deps) == 2:
                a = index[deps[0].key.path]
                b = index[deps[1].key.path]
                append((a, b) if a != b else (a,))
            elif not deps:
                append(())
            else:
                ups = tuple([index[d.key.path] for d in deps])
                append(ups if len(set(ups)) == len(ups) else tuple(dict.fromkeys(ups)))
    except KeyError:  # a dependency on an unknown key: every asset is linked one by one
        upstream = [()] * len(specs)
        reading = list(range(len(specs)))
    late: list[tuple[int, list[str]]] = []  # problems, put in the definitions' order
    for me in reading:
        found: list[str] = []
        upstream[me] = _link_one(
            keys[me], me, specs[me], index, owners, writers, external_keys, found
        )
        if found:
            late.append((by_key[me], found))
    late.sort()
    for _, found in late:
        problems.extend(found)
    return upstream


def _link_one(
    k: AssetKey,
    me: int,
    s: AssetSpec,
    index: _Index,
    owners: _Owners,
    writers: Mapping[TableRef, AssetKey],
    external_keys: Mapping[TableRef, AssetKey],
    problems: list[str],
) -> tuple[int, ...]:
    """The upstream ids of asset ``me`` when it reads tables, depends on unknown keys or names
    a dependency twice."""
    ups: list[int] = []
    for dep in s.deps:
        j = index.get(dep.key.path)
        if j is None:
            d = owners[me]
            label = d.label if d is not None else "an external source"
            problems.append(f"asset {k} ({label}) depends on unknown asset {dep.key}")
        elif j not in ups:
            ups.append(j)
    for ref in s.reads:
        w = writers.get(ref) or external_keys.get(ref)
        j = index.get((w or external_key(ref)).path)
        if j is not None and j not in ups and j != me:
            ups.append(j)
    return tuple(ups)


def _downstream(upstream: list[tuple[int, ...]]) -> list[list[int]]:
    """Each id's downstream ids, from the upstream lists."""
    down: list[list[int]] = [[] for _ in upstream]
    for i, ups in enumerate(upstream):
        for u in ups:
            down[u].append(i)
    return down


def _order(
    keys: list[AssetKey],
    upstream: list[tuple[int, ...]],
    downstream: list[list[int]],
    owners: _Owners,
    problems: list[str],
) -> list[int]:
    """Phase 5: the topological order; every cycle found becomes a problem naming its owners."""
    order, cyclic = _toposort(upstream, downstream)
    if cyclic:
        for cycle in _find_cycles(cyclic, upstream, keys):
            path = " -> ".join(str(keys[i]) for i in cycle)
            labels = sorted({d.label for i in cycle[:-1] if (d := owners[i]) is not None})
            problems.append(f"cycle {path} (definitions: {', '.join(labels)})")
    return order


def _check_loaded_inputs(
    defs: Iterable[AssetsDefinition], specs: Mapping[AssetKey, AssetSpec], problems: list[str]
) -> None:
    """A parameter of an ``@asset`` or ``@asset_check`` that names an asset writing its own
    data: no IO manager ever stores a value of it, so loading one would fail at run time; say
    so now, with what to write instead."""
    for d in defs:
        for param, key in d.inputs.items():
            upstream = specs.get(key)
            if upstream is None or not upstream.writes_own_data:
                continue
            why = (
                f"{key} returns MaterializeResult (it writes its own data and no IO manager "
                "stores a value of it)"
            )
            if d.specs or not d.check_specs:
                problems.append(
                    f"{d.label} takes asset {key} as a parameter ({param!r}), but {why}: name "
                    f"it in deps=[{str(key)!r}] instead of as a parameter"
                )
            else:
                problems.append(
                    f"check {d.label} takes asset {key} as its parameter {param!r}, but {why}: "
                    f"remove the parameter and read the data where {key} writes it (its table "
                    f"or file, e.g. through a resource); the check already runs after {key}"
                )


def _fill_table(s: AssetSpec, io_tables: Callable[[AssetSpec], TableRef | None]) -> AssetSpec:
    """``s`` with the table its IO manager would write; an asset that writes its own data has
    none (nothing is handed to the IO manager, so observing that table would report it
    gone)."""
    if s.table is not None or s.writes_own_data:
        return s
    ref = io_tables(s)
    return s if ref is None else s.replace(table=ref)


_asset_path = attrgetter("asset.path")
_check_name = attrgetter("name")


def _collect_checks(
    defs: Iterable[AssetsDefinition], index: _Index, problems: list[str]
) -> tuple[dict[int, tuple[CheckSpec, ...]], dict[int, tuple[AssetsDefinition, ...]]]:
    """Phase 4: every check by the id of the asset it checks, and the definitions evaluating
    them (by id: no AssetKey hashing per check).

    The ids are looked up and the (asset, name) pairs told apart in C; a check on an unknown
    asset or defined twice is worded by ``_check_problems`` (nothing is collected then: the
    graph is not built). With one check per asset (no grouping to do) the result is built in
    C too."""
    defs = list(defs)
    per_definition = [d.all_check_specs for d in defs]
    flat = list(chain.from_iterable(per_definition))
    if not flat:
        return {}, {}
    found = list(map(index.get, map(_asset_path, flat)))
    if None in found or len(set(zip(found, map(_check_name, flat), strict=True))) < len(flat):
        _check_problems(defs, index, problems)
        return {}, {}
    ids = cast("list[int]", found)
    owners = chain.from_iterable(
        repeat((d,), len(cs)) for d, cs in zip(defs, per_definition, strict=True)
    )
    if len(set(ids)) == len(ids):
        return dict(zip(ids, zip(flat), strict=True)), dict(zip(ids, owners, strict=True))
    checks: dict[int, list[CheckSpec]] = {}
    check_defs: dict[int, list[AssetsDefinition]] = {}
    for i, c, (d,) in zip(ids, flat, owners, strict=True):
        on_asset = checks.get(i)
        if on_asset is None:
            checks[i] = [c]
            check_defs[i] = [d]
            continue
        on_asset.append(c)
        evaluating = check_defs[i]
        if not any(o is d for o in evaluating):
            evaluating.append(d)
    return (
        {i: tuple(v) for i, v in checks.items()},
        {i: tuple(v) for i, v in check_defs.items()},
    )


def _check_problems(defs: Iterable[AssetsDefinition], index: _Index, problems: list[str]) -> None:
    """The problems of checks on unknown assets or defined twice, in the definitions' order."""
    seen: dict[tuple[int, str], AssetsDefinition] = {}  # (asset id, name): no id strings
    get = index.get
    for d in defs:
        for c in d.all_check_specs:
            i = get(c.asset.path)
            if i is None:
                problems.append(f"check {c.id} ({d.label}) is on unknown asset {c.asset}")
                continue
            n = len(seen)
            first = seen.setdefault((i, c.name), d)
            if len(seen) == n:
                problems.append(f"check {c.id} is defined twice: by {first.label} and {d.label}")


def _toposort(upstream: list[tuple[int, ...]], down: list[list[int]]) -> tuple[list[int], set[int]]:
    """Kahn's algorithm taking the smallest ready id first (ids follow the key order):
    deterministic whatever the input order. Returns the order and the ids left over (those
    on or downstream of a cycle).

    Ready ids after the last one scanned are flags in a byte array, which ``compress`` walks
    in C, forwards only; those that become ready behind it (a downstream asset whose key
    sorts before its upstream's) wait in a heap, emptied before the scan moves on: the same
    order as one heap of every ready id, with most ids never in a heap."""
    n = len(upstream)
    indegree = list(map(len, upstream))
    ready = bytearray(map(not_, indegree))
    behind: list[int] = []
    push, pop = heapq.heappush, heapq.heappop
    order: list[int] = []
    add = order.append
    for top in compress(range(n), ready):  # sees the flags set ahead of it while it runs
        i = top
        while True:
            add(i)
            for j in down[i]:
                left = indegree[j] - 1
                indegree[j] = left
                if not left:
                    if j < top:
                        push(behind, j)
                    else:
                        ready[j] = 1
            if not behind:
                break
            i = pop(behind)
    if len(order) == n:
        return order, set()
    done = set(order)
    return order, {i for i in range(n) if i not in done}


def _find_cycles(
    remaining: set[int], upstream: list[tuple[int, ...]], keys: list[AssetKey]
) -> list[list[int]]:
    """Some distinct cycles among ``remaining`` (each as a closed path a, b, ..., a)."""
    remaining = set(remaining)
    cycles: list[list[int]] = []
    while remaining and len(cycles) < _MAX_CYCLES_REPORTED:
        _prune(remaining, upstream)
        if not remaining:
            break
        # Every remaining node has a remaining upstream: walking upstream must loop.
        start = min(remaining, key=lambda i: keys[i].path)
        path: list[int] = []
        position: dict[int, int] = {}
        i = start
        while i not in position:
            position[i] = len(path)
            path.append(i)
            i = min((u for u in upstream[i] if u in remaining), key=lambda u: keys[u].path)
        loop = path[position[i] :]
        loop.reverse()  # upstream walk -> dependency direction (a feeds b)
        first = loop.index(min(loop, key=lambda i: keys[i].path))
        loop = loop[first:] + loop[:first]  # start at the smallest key: stable messages
        cycles.append([*loop, loop[0]])
        remaining.difference_update(loop)
    return cycles


def _prune(remaining: set[int], upstream: list[tuple[int, ...]]) -> None:
    """Drop nodes with no upstream left in ``remaining`` until none can be dropped."""
    changed = True
    while changed:
        changed = False
        for i in list(remaining):
            if not any(u in remaining for u in upstream[i]):
                remaining.discard(i)
                changed = True
