"""Asset keys and check keys: the stable, human-readable names of assets (``raw/orders``) and
of their checks (``raw/orders:not_empty``)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple, TypeAlias

from catchment.errors import InvalidKeyError

__all__ = ["AssetKey", "CheckKey", "CoercibleToKey", "interning_dec_hook", "keys"]

_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")


class AssetKey:
    """A path of segments naming an asset; hashable, ordered, canonical string ``a/b/c``.

    Segments hold letters, digits, ``_``, ``-`` and ``.``, and must not start with ``.`` or ``-``;
    ``/`` separates them in the string form. Keys compare by their segments.
    """

    __slots__ = ("_hash", "path")

    path: tuple[str, ...]
    _hash: int

    def __init__(self, path: str | Sequence[str]):
        segments = tuple(path.split("/")) if isinstance(path, str) else tuple(path)
        if not segments:
            raise InvalidKeyError("an asset key needs at least one segment")
        for segment in segments:
            if not isinstance(segment, str) or not _SEGMENT.match(segment):
                raise InvalidKeyError(
                    f"invalid asset key segment {segment!r} in {'/'.join(map(str, segments))!r}",
                    hint="use letters, digits, '_', '-' or '.', separated by '/', e.g. raw/orders",
                )
        object.__setattr__(self, "path", segments)
        object.__setattr__(self, "_hash", hash(segments))

    @classmethod
    def parse(cls, value: CoercibleToKey) -> AssetKey:
        """Accept an ``AssetKey``, a ``"a/b"`` string or a sequence of segments."""
        return value if isinstance(value, AssetKey) else cls(value)

    @classmethod
    def _trusted(cls, segments: tuple[str, ...]) -> AssetKey:
        """Build without validation, for adapters and decoders that already produce valid
        segments in bulk (the slots are set through their descriptors: ``object.__setattr__``
        costs twice as much, and decoding a snapshot builds a key per asset)."""
        key = _new(cls)
        _set_path(key, segments)
        _set_hash(key, hash(segments))
        return key

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("AssetKey is immutable")

    def __reduce__(self) -> tuple[type[AssetKey], tuple[tuple[str, ...]]]:
        return (AssetKey, (self.path,))

    @property
    def name(self) -> str:
        """The last segment."""
        return self.path[-1]

    @property
    def parent(self) -> AssetKey | None:
        """The key without its last segment (None for a one-segment key)."""
        return AssetKey._trusted(self.path[:-1]) if len(self.path) > 1 else None

    def with_prefix(self, *prefix: str) -> AssetKey:
        """This key under ``prefix`` (``raw/orders`` -> ``eu/raw/orders``)."""
        return AssetKey(prefix + self.path)

    def to_string(self) -> str:
        """The canonical ``a/b/c`` form (what records and selections use)."""
        return "/".join(self.path)

    def to_python_name(self) -> str:
        """An identifier form (``raw__orders``), used for table names and file names."""
        return "__".join(self.path).replace("-", "_").replace(".", "_")

    def __str__(self) -> str:
        return "/".join(self.path)

    def __repr__(self) -> str:
        return f"AssetKey({'/'.join(self.path)!r})"

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AssetKey) and self.path == other.path

    def __lt__(self, other: AssetKey) -> bool:
        return self.path < other.path

    def __le__(self, other: AssetKey) -> bool:
        return self.path <= other.path

    def __gt__(self, other: AssetKey) -> bool:
        return self.path > other.path

    def __ge__(self, other: AssetKey) -> bool:
        return self.path >= other.path


_new = object.__new__
_set_path = AssetKey.__dict__["path"].__set__
_set_hash = AssetKey.__dict__["_hash"].__set__

CoercibleToKey: TypeAlias = AssetKey | str | Sequence[str]


class CheckKey(NamedTuple):
    """A check's identity: the asset it checks and its name. Its text form,
    ``raw/orders:not_empty``, is how plans, steps and ``StepContext.selected_checks`` name it."""

    asset: AssetKey
    name: str

    @classmethod
    def parse(cls, text: str) -> CheckKey:
        """``"raw/orders:not_empty"`` -> ``CheckKey(AssetKey("raw/orders"), "not_empty")``."""
        asset, _, name = text.rpartition(":")
        return cls(AssetKey(asset), name)

    def to_string(self) -> str:
        """The text form ``asset/key:check_name``."""
        return f"{self.asset}:{self.name}"

    def __str__(self) -> str:
        return self.to_string()


def keys(values: Iterable[CoercibleToKey]) -> tuple[AssetKey, ...]:
    """Parse many keys at once."""
    return tuple(AssetKey.parse(v) for v in values)


def interning_dec_hook(other: Callable[[type, Any], Any]) -> Callable[[type, Any], Any]:
    """A msgspec ``dec_hook`` for one decode: an ``AssetKey`` from its ``a/b`` string, one
    object per key (the graph's dict lookups then hit by identity instead of comparing equal
    keys); any other type goes to ``other``. A closure over its dict, not a ``partial`` of
    a module function (a quarter more per call): it runs once per key occurrence, four per
    asset of a dbt project."""
    interned: dict[str, AssetKey] = {}
    get = interned.get
    trusted = AssetKey._trusted

    def hook(type_: type, obj: Any) -> Any:
        if type_ is not AssetKey:
            return other(type_, obj)
        key = get(obj)
        if key is None:
            if not isinstance(obj, str) or not obj:
                raise ValueError("an asset key must be a non-empty string")
            key = interned[obj] = trusted(tuple(obj.split("/")))
        return key

    return hook
