"""The run display every run-starting command (`materialize`, `apply`, `runs retry`) shares:
a rich progress bar on a terminal, one plain line per event otherwise, and a summary table.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from catchment.events import Event
    from catchment.execution.result import ExecutionResult


def _clock(ts: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(ts))


def describe(event: Event) -> tuple[str, str] | None:
    """A short (symbol + subject, detail) for the events a person watches; None for others."""
    from catchment.events import EventType
    from catchment.keys import AssetKey, CheckKey

    t = event.type
    part = f" [{event.partition}]" if event.partition else ""
    if t is EventType.STEP_STARTED:
        return f"▶ {event.step_key}", "started"
    if t is EventType.MATERIALIZATION:
        meta = event.materialization.metadata
        bits = [f"{meta['duration']:.3f}s"] if "duration" in meta else []
        if "rows" in meta:
            bits.append(f"{meta['rows']} rows")
        return f"✓ {event.asset_key}{part}", "materialized " + ", ".join(bits)
    if t is EventType.ASSET_FAILED:
        failure = event.failure
        where = f" ({failure.where})" if failure.where else ""
        hint = f"\n  hint: {failure.hint}" if failure.hint else ""
        return (
            f"✗ {event.asset_key}{part}",
            f"failed: {failure.error_class}: {failure.message}{where}{hint}",
        )
    if t is EventType.STEP_FAILED:
        failure = event.failure
        hint = f"\n  hint: {failure.hint}" if failure.hint else ""
        return (
            f"✗ {event.step_key}",
            f"step failed: {failure.error_class}: {failure.message}{hint}",
        )
    if t is EventType.ASSET_SKIPPED:
        return f"- {event.asset_key}", f"skipped: {event.skipped.reason}"
    if t is EventType.CHECK_EVALUATED:
        check = event.check
        verdict = "passed" if check.passed else f"FAILED ({check.severity})"
        key = CheckKey(AssetKey(event.asset_key or ""), check.check_name)
        return f"{'✓' if check.passed else '✗'} {key}", f"check {verdict}"
    if t is EventType.STEP_RETRY:
        retry = event.retry
        return f"↻ {event.step_key}", (
            f"retry {retry.attempt}/{retry.of} in {retry.wait}s after "
            f"{retry.error_class}: {retry.message}"
        )
    if t is EventType.LOG:
        line = event.log_line
        return f"  {event.step_key}", f"{line.level}: {line.message}"
    return None


class RunDisplay:
    """Show a run as it happens: rich progress on a terminal, plain lines otherwise."""

    def __init__(self, total_steps: int, *, tty: bool | None = None):
        from rich.console import Console

        self.tty = sys.stdout.isatty() if tty is None else tty
        self.console: Console = Console(highlight=False, soft_wrap=not self.tty)
        self.total = total_steps
        self.progress: Progress | None = None
        self.task: TaskID | None = None
        self.running: set[str] = set()

    def __enter__(self) -> RunDisplay:
        if self.tty and self.total:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self.progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[current]}"),
                console=self.console,
                transient=True,
            )
            self.progress.start()
            self.task = self.progress.add_task("steps", total=self.total, current="")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def on_event(self, event: Event) -> None:
        """Engine callback: print the event, advance the bar."""
        from catchment.events import EventType

        if event.step_key and event.type is EventType.STEP_STARTED:
            self.running.add(event.step_key)
        elif event.step_key and event.type is EventType.STEP_FINISHED:
            self.running.discard(event.step_key)
            if self.progress is not None and self.task is not None:
                self.progress.advance(self.task)
        if self.progress is not None and self.task is not None:
            self.progress.update(self.task, current=", ".join(sorted(self.running))[:60])
        shown = describe(event)
        if shown is None or (self.tty and event.type is EventType.STEP_STARTED):
            return
        subject, detail = shown
        if self.tty:
            from rich.markup import escape

            color = {"✓": "green", "✗": "red", "-": "yellow", "↻": "yellow"}.get(subject[0], "")
            text = (
                f"[dim]{_clock(event.timestamp)}[/] [{color or 'default'}]{escape(subject)}[/] "
                f"{escape(detail)}"
            )
            self.console.print(text, markup=True)
        else:
            print(f"{_clock(event.timestamp)} {subject} {detail}", flush=True)

    def summary(self, result: ExecutionResult) -> None:
        """The table at the end: each asset's status, duration, rows, and why it failed."""
        from rich.markup import escape
        from rich.table import Table

        from catchment.events import EventType

        rows: dict[str, list[str]] = {}
        for e in result.events:
            if not e.asset_key:
                continue
            if e.type is EventType.MATERIALIZATION:
                meta = e.materialization.metadata
                dur = f"{meta['duration']:.3f}s" if "duration" in meta else ""
                rows[e.asset_key] = ["success", dur, str(meta.get("rows", "")), ""]
            elif e.type is EventType.ASSET_FAILED:
                failure = e.failure
                rows[e.asset_key] = ["failed", "", "", f"{failure.error_class}: {failure.message}"]
            elif e.type is EventType.ASSET_SKIPPED:
                rows[e.asset_key] = ["skipped", "", "", str(e.skipped.reason)]
        checks = result.check_results
        failed_checks = [c for c in checks if not c.passed]
        table = Table("asset", "status", "duration", "rows", "detail", title=None)
        colors = {"success": "green", "failed": "red", "skipped": "yellow"}
        for key, (status, dur, n, detail) in rows.items():
            table.add_row(
                escape(key), f"[{colors[status]}]{status}[/]", dur, n, escape(detail[:120])
            )
        counts = {s: sum(1 for r in rows.values() if r[0] == s) for s in colors}
        if self.tty:
            self.console.print(table)
        else:
            for key, (status, dur, n, detail) in rows.items():
                print(f"{status:8} {key} {dur} {n} {detail[:200]}".rstrip())
        verdict = "succeeded" if result.success else "FAILED"
        line = (
            f"run {result.run_id} {verdict}: {counts['success']} materialized, "
            f"{counts['failed']} failed, {counts['skipped']} skipped, "
            f"{len(checks)} check{'' if len(checks) == 1 else 's'} ({len(failed_checks)} failed)"
        )
        if self.tty:
            self.console.print(f"[{'green' if result.success else 'red'}]{line}[/]")
        else:
            print(line, flush=True)


__all__ = ["RunDisplay", "describe"]
