"""Execution: apply exactly the selected objects' DDL, in order, and report each one.

Per selected object the compute yields one result: ``MaterializeResult`` (what was done),
``AssetFailure`` (Snowflake's message, secrets masked) or ``AssetSkipped`` (an object it reads
failed in the same step).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from catchment.context import StepContext
from catchment.errors import CatchmentError
from catchment.results import AssetFailure, AssetSkipped, MaterializeResult, StepResult
from catchment.specs import AssetSpec
from catchment.tables import TableRef

from catchment_snowflake.apply import Applier, Declared
from catchment_snowflake.errors import connector_error_types, scrub
from catchment_snowflake.objects import StageObject
from catchment_snowflake.resource import SnowflakeResource
from catchment_snowflake.state import StateTable


def apply_objects(
    step: StepContext,
    items: Sequence[tuple[Declared, AssetSpec]],
    state: StateTable,
    connection: str,
) -> Iterator[StepResult]:
    """Apply the selected objects of ``items`` through the ``connection`` resource."""
    res: SnowflakeResource = step.resources[connection]
    selected = [(d, s) for d, s in items if s.key in step.selected_keys]
    secrets = res.secrets + [
        v.get_secret_value()
        for d, _ in selected
        if isinstance(d.obj, StageObject)
        for v in d.obj.credentials.values()
    ]

    def mask(text: str) -> str:
        return scrub(text, secrets)

    errors: tuple[type[BaseException], ...] = (CatchmentError, *connector_error_types())
    with res.connect(step) as conn:
        cur = conn.cursor()
        applier = Applier(cur, state, step.run_id, step.log.info, mask)
        applied = state.read(cur, [d.state_key for d, _ in selected])
        failed: set[TableRef] = set()
        for d, s in selected:
            blocked = [r for r in s.reads if r in failed]
            if blocked:
                failed.add(s.table)  # type: ignore[arg-type]
                yield AssetSkipped(key=s.key, reason=f"{blocked[0]} failed in this step")
                continue
            try:
                outcome = applier.apply(d, applied.get(d.state_key))
            except errors as exc:
                failed.add(s.table)  # type: ignore[arg-type]
                text = exc.message if isinstance(exc, CatchmentError) else str(exc)
                yield AssetFailure(
                    key=s.key,
                    message=mask(f"{d.kind} {d.relation.dotted}: {' '.join(text.split())}"),
                    error_class=type(exc).__name__,
                    where=d.where,
                    hint=exc.hint if isinstance(exc, CatchmentError) else None,
                )
                continue
            for warning in outcome.warnings:
                step.log.warning(warning)
            yield MaterializeResult(
                key=s.key,
                metadata={
                    "action": outcome.action,
                    "statements": outcome.statements,
                    "refreshed": outcome.refreshed,
                    "relation": d.relation.dotted,
                    "definition_hash": d.hash,
                },
                data_version=None if outcome.statements else d.hash,
            )
