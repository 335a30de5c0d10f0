"""Schedules: run a selection on a cron, in a timezone. For partitioned assets a tick runs the
window that just ended (a daily asset on ``0 3 * * *`` runs yesterday at 03:00).

Declared in ``catchment.yaml`` (``schedules:``) or in Python with :func:`schedule`; the daemon
evaluates them (``catchment.daemon.schedule_loop``) and ``catchment schedules list`` shows
their next ticks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Literal

import msgspec

from catchment.errors import ConfigError
from catchment.runs.request import RunRequest

if TYPE_CHECKING:
    from catchment.cron import CronSchedule
    from catchment.graph import AssetGraph
    from catchment.keys import AssetKey
    from catchment.partitions import PartitionsDefinition

PartitionChoice = Literal["last_window", "all"]


class ScheduleDefinition(msgspec.Struct, frozen=True, kw_only=True):
    """A cron (in ``timezone``) and what each tick runs: ``selection`` and/or ``asset_keys``;
    time-partitioned assets run the window that just ended (``partitions: last_window``) or
    every partition (``all``). ``source`` is where it was declared."""

    name: str
    cron: str
    timezone: str = "UTC"
    selection: str | None = None
    asset_keys: tuple[str, ...] = ()
    partitions: PartitionChoice = "last_window"
    tags: dict[str, str] = msgspec.field(default_factory=dict)
    enabled: bool = True
    description: str | None = None
    source: str | None = None

    def cron_schedule(self) -> CronSchedule:
        """The validated cron (a ``ConfigError`` naming the schedule when it is not)."""
        from catchment.cron import CronSchedule

        try:
            return CronSchedule(self.cron, self.timezone)
        except ConfigError as exc:
            raise ConfigError(
                f"schedule {self.name!r}: {exc.message}", where=self.source, hint=exc.hint
            ) from None

    @property
    def target(self) -> str:
        """What the schedule runs, for listings."""
        return ", ".join([*self.asset_keys, *([self.selection] if self.selection else [])])

    def requests_for_tick(self, tick: datetime, graph: AssetGraph) -> list[RunRequest]:
        """The runs the tick at ``tick`` asks for: one per partitioning of the selected
        assets (unpartitioned assets join the first), each with a run key naming the tick."""
        keys = selected(graph, self.selection, self.asset_keys)
        groups: dict[PartitionsDefinition, list[AssetKey]] = {}
        plain: list[AssetKey] = []
        for key in keys:
            partitions = graph.specs[key].partitions
            if partitions is None:
                plain.append(key)
            else:
                groups.setdefault(partitions, []).append(key)
        stamp = tick.isoformat()
        requests: list[RunRequest] = []
        for i, (definition, members) in enumerate(groups.items()):
            parts = self._partition_keys(definition, tick)
            if not parts:
                continue
            requests.append(
                RunRequest.for_assets(
                    [*members, *(plain if i == 0 else [])],
                    partition_keys=parts,
                    run_key=f"schedule:{self.name}:{stamp}" + (f":{i}" if i else ""),
                    origin=f"schedule:{self.name}",
                    tags={**self.tags, "schedule_tick": stamp},
                    reason=f"cron tick {stamp} ({self.cron})",
                )
            )
        if plain and not requests:
            requests.append(
                RunRequest.for_assets(
                    plain,
                    run_key=f"schedule:{self.name}:{stamp}",
                    origin=f"schedule:{self.name}",
                    tags={**self.tags, "schedule_tick": stamp},
                    reason=f"cron tick {stamp} ({self.cron})",
                )
            )
        return requests

    def _partition_keys(self, definition: PartitionsDefinition, tick: datetime) -> tuple[str, ...]:
        from catchment.partitions import TimeWindowPartitions

        if isinstance(definition, TimeWindowPartitions):
            last = None if self.partitions == "all" else 1
            return tuple(definition.keys_at(tick, last=last))
        return tuple(definition.keys())


def selected(graph: AssetGraph, selection: str | None, asset_keys: Iterable[str]) -> list[AssetKey]:
    """The non-external assets a selection expression and explicit keys name, in graph order."""
    from catchment.keys import AssetKey

    chosen = set(graph.select(selection)) if selection else set()
    for name in asset_keys:
        key = AssetKey.parse(name)
        if key not in graph:
            raise ConfigError(
                f"no asset {key} in the project", hint="run `catchment assets list` for the keys"
            )
        chosen.add(key)
    return [k for k in graph.toposort(chosen) if not graph.is_external(k)]


def schedule(
    name: str,
    cron: str,
    *,
    select: str | None = None,
    asset_keys: Iterable[str] = (),
    timezone: str = "UTC",
    partitions: PartitionChoice = "last_window",
    tags: Mapping[str, str] | None = None,
    description: str | None = None,
) -> ScheduleDefinition:
    """Declare a schedule in Python (a module named in ``schedules: [{module: ...}]``)."""
    import sys

    frame = sys._getframe(1)
    definition = ScheduleDefinition(
        name=name,
        cron=cron,
        timezone=timezone,
        selection=select,
        asset_keys=tuple(asset_keys),
        partitions=partitions,
        tags=dict(tags or {}),
        description=description,
        source=f"{frame.f_code.co_filename}:{frame.f_lineno}",
    )
    definition.cron_schedule()  # a bad cron or timezone fails where it is declared
    return definition
