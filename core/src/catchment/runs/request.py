"""``RunRequest``: what automation, schedules, sensors, backfills and the UI ask to run.

One small, plain-data struct shared by everything that decides to run something and
everything that starts runs (the daemon now, the run queue later), so a request can be
stored in the record store, sent between processes and shown to a person as it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import msgspec

from catchment.keys import AssetKey, CoercibleToKey

__all__ = ["RunOrigin", "RunRequest"]

RunOrigin = str
"""Who asked: ``automation``, ``schedule:NAME``, ``sensor:NAME``, ``backfill:ID``, ``ui``,
``cli``. Free text so new origins need no change here; the prefix before ``:`` is the kind."""


class RunRequest(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A run to start: which assets (a selection expression, explicit keys, or both), which
    partitions, and how to treat it (tags, priority, a de-duplication key, who asked).

    ``asset_keys`` and ``check_ids`` are canonical strings (``raw/orders``,
    ``raw/orders:not_empty``) so the struct encodes as JSON with no hooks. ``run_key``, when
    set, makes the request idempotent: a key is launched at most once per record store.
    ``reason`` is one line a person reads in ``catchment ticks`` or the UI. ``resumes``, when
    set, is the run this one takes over after it failed or was killed: what that run (and the
    runs it resumed) materialized is not built again.
    """

    asset_keys: tuple[str, ...] = ()
    selection: str | None = None
    partition_keys: tuple[str, ...] = ()
    check_ids: tuple[str, ...] = ()
    tags: Mapping[str, str] = msgspec.field(default_factory=dict)
    priority: int = 0
    run_key: str | None = None
    origin: RunOrigin = "automation"
    reason: str = ""
    resumes: str | None = None

    @classmethod
    def for_assets(
        cls,
        keys: Iterable[CoercibleToKey],
        *,
        partition_keys: Iterable[str] = (),
        **fields: object,
    ) -> RunRequest:
        """A request for ``keys`` (sorted, deduplicated) and ``partition_keys`` (in order)."""
        names = sorted({AssetKey.parse(k).to_string() for k in keys})
        parts = tuple(dict.fromkeys(partition_keys))
        return cls(asset_keys=tuple(names), partition_keys=parts, **fields)  # type: ignore[arg-type]

    @property
    def keys(self) -> tuple[AssetKey, ...]:
        """``asset_keys`` parsed."""
        return tuple(AssetKey(k) for k in self.asset_keys)

    def to_json(self) -> bytes:
        """The request as JSON (how the record store and other processes receive it)."""
        return _encoder.encode(self)

    @classmethod
    def from_json(cls, raw: bytes | str) -> RunRequest:
        """The request back from :meth:`to_json`."""
        return _decoder.decode(raw)


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(RunRequest)
