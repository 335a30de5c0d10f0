"""A component's translation kept beside its compact manifest copy, so that a load whose
definitions snapshot is missing or stale (but whose dbt project did not change) neither
decodes the manifest nor translates its nodes again.

The translation is a function of: the manifest (its path, size and mtime, the identity the
compact copy is checked by), the resolved profile target, the translation options, the
component's selected unique ids, and the code that translates (the adapter's and the core's
versions, and the size and mtime of the modules involved, so an upgrade or an edit of an
editable install rebuilds it). All of them are in the entry's key; any difference, a
missing, corrupt or unreadable entry, is a miss: the manifest is read and translated, and
the entry rewritten. Partitioned components are not cached (their partitions definition
has no encoding here).
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Set
from pathlib import Path
from typing import Any

import msgspec
from catchment.atomic_write import write_cache
from catchment.keys import AssetKey, interning_dec_hook
from catchment.specs import AssetSpec

from catchment_dbt.profiles import Target
from catchment_dbt.translation import Translation, TranslationOptions

__all__ = ["FORMAT", "load_translation", "store_translation", "translation_key"]

FORMAT = 1
"""Bumped when the entry's layout changes."""

_MODULES = (
    "catchment.keys",
    "catchment.specs",
    "catchment.tables",
    "catchment_dbt.manifest",
    "catchment_dbt.profiles",
    "catchment_dbt.translation",
    "catchment_dbt.translation_cache",
)
"""The modules a translation's result depends on (their files are part of the key)."""


class _Entry(msgspec.Struct, gc=False):
    """What is stored: the specs (checks and tables inside them) and each node's file."""

    specs: list[AssetSpec]
    files: dict[str, str]


def _code() -> list[Any]:
    """The versions and the module files (size, mtime) of the code that translates."""
    import catchment

    import catchment_dbt

    out: list[Any] = [FORMAT, catchment.__version__, catchment_dbt.__version__]
    for name in _MODULES:
        file = getattr(sys.modules.get(name), "__file__", None)
        try:
            st = Path(file).stat() if file else None
        except OSError:
            st = None
        out.append([name, st.st_size, st.st_mtime_ns] if st is not None else [name, None])
    return out


def translation_key(
    manifest_path: Path,
    target: Target,
    options: TranslationOptions,
    selected: Set[str] | None,
) -> str | None:
    """The key of the translation of ``manifest_path`` for this target, these options and
    this selection; None when it is not cached (partitions, or the manifest cannot be
    ``stat``-ed)."""
    if options.partitions is not None:
        return None
    try:
        st = manifest_path.stat()
    except OSError:
        return None
    base = target.relation(None, None, "x")
    chosen = None
    if selected is not None:
        chosen = hashlib.sha256("\n".join(sorted(selected)).encode()).hexdigest()
    parts = [
        _code(),
        [str(manifest_path), st.st_size, st.st_mtime_ns],
        [target.type, base.system, base.location, base.database, base.schema],
        [target.profile, target.name, str(target.project_dir), dict(target.identity)],
        [list(options.key_prefix), options.group_from, options.unit_tests],
        chosen,
    ]
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _enc_hook(obj: Any) -> Any:
    if isinstance(obj, AssetKey):
        return obj.to_string()
    raise TypeError(f"a {type(obj).__qualname__} value")


def _no_hook(type_: type, obj: Any) -> Any:
    raise NotImplementedError(f"no decoding for {type_}")


_encoder = msgspec.msgpack.Encoder(enc_hook=_enc_hook)


def load_translation(path: Path, key: str) -> Translation | None:
    """The translation stored at ``path`` under ``key``; None when there is none, it is
    another key's or it cannot be read."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    head, sep, body = data.partition(b"\n")
    if not sep or head != key.encode():
        return None
    decoder = msgspec.msgpack.Decoder(_Entry, dec_hook=interning_dec_hook(_no_hook))
    try:
        entry = decoder.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError, NotImplementedError):
        return None
    return Translation(entry.specs, entry.files)


def store_translation(path: Path, key: str, translation: Translation) -> None:
    """Write ``translation`` under ``key`` (atomically; a failure only costs the next load
    a translation)."""
    try:
        body = _encoder.encode(_Entry(translation.specs, translation.files))
    except (TypeError, ValueError, OverflowError):
        return
    write_cache(path, key.encode() + b"\n" + body)
