"""Running exactly the selected streams in one ``sling run`` and reporting each one.

The adapter writes a temporary replication holding only the selected streams, passes
connection URLs through the child's environment (never on the command line or in a file),
keeps Sling's home, temp files and DuckDB extensions under ``<project>/.catchment/``, and
turns Sling's JSON log into one result per stream.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catchment.context import StepContext
from catchment.errors import ConfigError, ExecutionError
from catchment.keys import AssetKey
from catchment.partitions import TimeWindowPartitions
from catchment.results import AssetFailure, MaterializeResult, StepResult
from catchment.timeouts import deadline_of
from catchment.toolprocess import ToolProcess, ToolStalled, line_text

from catchment_sling.binaries import duckdb_version, locate_duckdb, locate_sling, place_extensions
from catchment_sling.connections import Connection, Masker
from catchment_sling.endmarker import wrapper
from catchment_sling.locks import lock_holder
from catchment_sling.logs import LogParser, StreamOutcome, failure_sections
from catchment_sling.replication import Replication, Stream

_WINDOW = re.compile(r"\{partition_(key|start|end)(?::([^}]*))?\}")


def _rendered(value: Any, render: Callable[[str], str]) -> Any:
    """``value`` with every string rendered (a stream's settings, at any depth)."""
    if isinstance(value, str):
        return render(value)
    if isinstance(value, dict):
        return {k: _rendered(v, render) for k, v in value.items()}
    if isinstance(value, list):
        return [_rendered(v, render) for v in value]
    return value


# Defaults for the child process; a user's environment or `env:` attribute may override them.
DEFAULT_ENV = {"SLING_DISABLE_TELEMETRY": "true"}
LOCK_HINT = (
    "Sling's DuckDB CLI needs the database file to itself: close other connections to it "
    "(another process, or one held in this process such as dbt-duckdb's or a DuckDB IO "
    "manager's) before running the stream"
)
STALL_SECONDS = 15.0
"""Silence after Sling's DuckDB CLI exits before Sling is taken as wedged and killed."""
IDLE_STALL_ENV = "CATCHMENT_SLING_STALL_SECONDS"
IDLE_STALL_SECONDS = 120.0
"""Silence with no CPU used, while the DuckDB CLI waits for Sling's next command, before
Sling is taken as wedged ($CATCHMENT_SLING_STALL_SECONDS; 0 turns it off)."""
RERUNNABLE_MODES = frozenset({"full-refresh", "truncate"})
"""Modes where running a wedged replication again cannot load a row twice."""
STALL_HINT = (
    "Sling 1.4 can wait forever on its DuckDB CLI (fixed upstream in Sling 1.5.20): when the "
    "CLI exited, look for a lock on the DuckDB file or a crash of the DuckDB CLI; then run again"
)


def idle_stall_seconds() -> float | None:
    """``$CATCHMENT_SLING_STALL_SECONDS`` (default 120; 0 or less: never judge Sling idle)."""
    raw = os.environ.get(IDLE_STALL_ENV, "").strip()
    try:
        seconds = float(raw) if raw else IDLE_STALL_SECONDS
    except ValueError:
        seconds = IDLE_STALL_SECONDS
    return seconds if seconds > 0 else None


def dump_file(root: Path, dump: str) -> Path:
    """Write a stalled Sling's goroutine dump to ``<root>/.catchment/sling-dumps/`` (which
    holds no connection URLs: Go prints stacks, not values, and the text is masked)."""
    folder = root / ".catchment" / "sling-dumps"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    path = folder / f"sling-{stamp}-{os.getpid()}-{uuid.uuid4().hex[:6]}.txt"
    path.write_text(dump + "\n")
    return path


@contextlib.contextmanager
def _keeping_dump(root: Path, mask: Masker) -> Iterator[None]:
    """A ``ToolStalled`` leaving the block names the file keeping Sling's goroutine dump."""
    try:
        yield
    except ToolStalled as exc:
        if exc.dump:
            exc.message += f"; Sling's goroutine dump: {dump_file(root, mask(exc.dump))}"
        raise


def sling_home(root: Path) -> Path:
    """Where Sling (and the DuckDB CLI it starts) see their home directory."""
    return root / ".catchment" / "sling-home"


@dataclass(frozen=True)
class SlingCompute:
    """The compute of a ``sling`` component: ``compute(context)`` yields one result per
    selected stream. Holds connection URLs, so its ``repr`` names only the component."""

    component: str
    root: Path
    where: str
    replication: Replication = field(repr=False)
    streams: Mapping[AssetKey, Stream] = field(repr=False)
    tables: Mapping[AssetKey, str] = field(repr=False)
    source: Connection = field(repr=False)
    target: Connection = field(repr=False)
    binary: str | None = None
    duckdb_binary: str | None = None
    env: Mapping[str, str] = field(default_factory=dict, repr=False)
    partitioned: frozenset[AssetKey] = frozenset()
    windows: TimeWindowPartitions | None = None

    def __call__(self, context: StepContext) -> Iterator[StepResult]:
        selected = [(k, s) for k, s in self.streams.items() if k in context.selected_keys]
        if not selected:
            return
        windows = context.partition_keys if any(k in self.partitioned for k, _ in selected) else ()
        if not windows:
            yield from self._run_once(context, selected, None)
            return
        # one `sling run` per window; an asset is materialized when every window loaded,
        # each window's record with its own row count
        totals: dict[AssetKey, MaterializeResult | AssetFailure] = {}
        for window in windows:
            for result in self._run_once(context, selected, window):
                if not isinstance(result, MaterializeResult | AssetFailure) or result.key is None:
                    continue
                key = result.key
                before = totals.get(key)
                if isinstance(before, AssetFailure):
                    continue
                if isinstance(result, MaterializeResult):
                    own: dict[str, Mapping[str, Any]] = {
                        window: {"rows": result.metadata.get("rows", 0)}
                    }
                    rows = result.metadata.get("rows", 0)
                    if isinstance(before, MaterializeResult):
                        rows += before.metadata.get("rows", 0)
                        own = {**before.partition_metadata, **own}
                    result = MaterializeResult(
                        key=key,
                        metadata={**result.metadata, "rows": rows},
                        partition_metadata=own,
                    )
                totals[key] = result
        for key, _ in selected:
            if key in totals:
                yield totals[key]

    def _run_once(
        self,
        context: StepContext,
        selected: list[tuple[AssetKey, Stream]],
        window: str | None,
    ) -> Iterator[StepResult]:
        mask = Masker.for_connections([self.source, self.target])
        locked = self._locked_file()
        if locked is not None:
            for key, stream in selected:
                yield AssetFailure(
                    key=key,
                    message=f"sling stream {stream.name}: {locked}\nhint: {LOCK_HINT}",
                    error_class="SlingStreamError",
                    where=f"{self.where} (streams.{stream.name})",
                )
            return
        binary = locate_sling(self.binary, root=self.root)
        home = sling_home(self.root)
        home.mkdir(parents=True, exist_ok=True)
        env = self._environment(home)
        render = self._renderer(window)
        work = Path(tempfile.mkdtemp(prefix="sling-run-", dir=home.parent))
        try:
            env["TMPDIR"] = str(work)
            if "DUCKDB_PATH" in env and sys.platform != "win32" and sys.executable:
                # the CLI with its end-of-result marker printed once: no wedge (endmarker)
                env["DUCKDB_PATH"] = str(wrapper(Path(env["DUCKDB_PATH"]), work))
            file = work / "replication.json"
            streams = [s for _, s in selected]
            file.write_text(json.dumps(self._replication_for(streams, render)))
            parser, code, stderr = self._run_wedge_safe(binary, file, env, context, mask, streams)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        sections, general = failure_sections(stderr)
        by_lower = {name.lower(): o for name, o in parser.outcomes.items()}
        sections_lower = {name.lower(): text for name, text in sections.items()}
        for key, stream in selected:
            name = render(stream.name)
            outcome = parser.outcomes.get(name) or by_lower.get(name.lower())
            yield self._result(key, stream, outcome, code, sections_lower, general, mask, name)

    def _locked_file(self) -> str | None:
        """Why a DuckDB file of the run cannot be opened for writing now (its lock holder), or
        None. Asked before Sling starts, since a DuckDB CLI that cannot lock the file exits and
        Sling 1.4 can then wait forever."""
        for conn in (self.source, self.target):
            if conn.system != "duckdb" or conn.path is None:
                continue
            holder = lock_holder(conn.path)
            if holder is None:
                continue
            who = (
                "this process"
                if holder == os.getpid()
                else "another process"
                if holder < 0
                else f"process {holder}"
            )
            return f"Could not set lock on file {conn.path}: {who} holds it" + (
                f" (pid {holder})" if holder == os.getpid() else ""
            )
        return None

    def _renderer(self, window: str | None) -> Callable[[str], str]:
        """Replace ``{partition_key}``, ``{partition_start:FMT}``, ``{partition_end:FMT}``
        with the values of ``window`` (nothing to replace when it is None)."""
        if window is None or self.windows is None:
            return lambda text: text
        start, end = self.windows.window(window)

        def value(match: re.Match[str]) -> str:
            what, fmt = match.group(1), match.group(2)
            if what == "key":
                return window
            moment = start if what == "start" else end
            return moment.strftime(fmt) if fmt else moment.isoformat()

        return lambda text: _WINDOW.sub(value, text)

    def _environment(self, home: Path) -> dict[str, str]:
        env = {**DEFAULT_ENV, **os.environ, **self.env}
        for conn in (self.source, self.target):
            if conn.url.get_secret_value() != "file://":
                env[conn.name] = conn.env_value()
        env.update(
            HOME=str(home),
            SLING_HOME_DIR=str(home / ".sling"),
            SLING_LOGGING="JSON",
            # one stream at a time, so every log line belongs to the stream that announced it
            SLING_THREADS="1",
        )
        if "duckdb" in {self.source.system, self.target.system}:
            cli = locate_duckdb(self.duckdb_binary, root=self.root)
            version = duckdb_version(cli)
            place_extensions(home, version)
            env.update(DUCKDB_PATH=str(cli), DUCKDB_VERSION=version)
        return env

    def _replication_for(
        self, streams: list[Stream], render: Callable[[str], str] = str
    ) -> dict[str, Any]:
        data = dict(self.replication.raw)
        data["streams"] = {render(s.name): _rendered(self._qualified(s), render) for s in streams}
        env = {k: v for k, v in self.replication.env.items() if k != "SLING_THREADS"}
        if env:
            data["env"] = env
        else:
            data.pop("env", None)
        return data

    def _qualified(self, stream: Stream) -> dict[str, Any]:
        """The stream's settings, its object qualified with the target URL's default schema
        (``?schema=``) when it names none: Sling's DuckDB target ignores that parameter, so
        the object says where the asset's table is."""
        cfg = dict(self.replication.streams[stream.name] or {})
        schema = self.target.default_schema
        if stream.target_schema is None and schema and not self.target.is_file_system:
            cfg["object"] = f"{schema}.{stream.target_table}"
        return cfg

    def _run_wedge_safe(
        self,
        binary: Path,
        file: Path,
        env: dict[str, str],
        context: StepContext,
        mask: Masker,
        streams: list[Stream],
    ) -> tuple[LogParser, int, str]:
        """``_run``, once more when Sling wedged (a known Sling 1.4 bug, see STALL_HINT) and
        every stream's mode rewrites its target, so a second run cannot duplicate rows."""
        try:
            return self._run(binary, file, env, context, mask)
        except ToolStalled as exc:
            if not all(s.mode in RERUNNABLE_MODES for s in streams):
                raise
            context.log.warning("%s; running the replication again (once)", exc.message)
            return self._run(binary, file, env, context, mask)

    def _run(
        self,
        binary: Path,
        file: Path,
        env: dict[str, str],
        context: StepContext,
        mask: Masker,
    ) -> tuple[LogParser, int, str]:
        """Run ``sling run`` in its own process group, bounded by the step's deadline (the
        group, with Sling's DuckDB CLI, is killed when it passes), logging as Sling prints.
        A stalled Sling's goroutine dump (SIGQUIT) is kept in a file the error names."""
        parser = LogParser()
        stderr: list[str] = []
        tool = ToolProcess(
            [str(binary), "run", "-r", str(file)],
            label="sling",
            env=env,
            cwd=self.root,
            deadline=deadline_of(context),
            limit=getattr(context, "timeout", None),
            log=context.log,
            where=f"component {self.component}",
            stall_after_child_exit=STALL_SECONDS,
            stall_when_idle=idle_stall_seconds(),
            stall_hint=STALL_HINT,
            stall_dump_signal=getattr(signal, "SIGQUIT", None),
        )
        try:
            tool.start()
        except ExecutionError as exc:
            raise ConfigError(
                f"could not start the Sling binary {binary}: {exc.message.rpartition(': ')[2]}",
                where=f"component {self.component}",
                hint="check that the binary is a Sling executable for this platform",
            ) from None
        with tool, _keeping_dump(self.root, mask):
            for item in tool.lines():
                if item is None:
                    continue
                name, raw = item
                if name == "stderr":
                    stderr.append(line_text(raw))
                    continue
                line = parser.feed(line_text(raw))
                if line is None:
                    continue
                text = mask(line.message)
                if line.level in {"debug", "trace"}:
                    context.log.debug("sling: %s", text)
                elif line.level == "warn":
                    context.log.warning("sling: %s", text)
                elif line.level in {"error", "fatal"}:
                    context.log.error("sling: %s", text)
                else:
                    context.log.info("sling: %s", text)
        code = tool.returncode
        return parser, code if code is not None else -1, "\n".join(stderr)

    def _result(
        self,
        key: AssetKey,
        stream: Stream,
        outcome: StreamOutcome | None,
        code: int,
        sections: Mapping[str, str],
        general: str,
        mask: Masker,
        name: str,
    ) -> StepResult:
        if outcome is not None and outcome.status == "succeeded":
            metadata: dict[str, Any] = {
                "rows": outcome.rows or 0,
                "duration": round(outcome.duration or 0.0, 3),
                "table": self.tables[key],
                "stream": stream.name,
                "mode": stream.mode,
            }
            if outcome.warnings:
                metadata["warnings"] = [mask(w) for w in outcome.warnings]
            return MaterializeResult(key=key, metadata=metadata)
        if outcome is not None and outcome.status == "failed":
            message = sections.get(name.lower()) or general or "Sling reported a failure"
        elif code != 0:
            message = general or f"Sling exited with code {code} before running this stream"
        else:
            message = "Sling finished without reporting on this stream"
        if "Could not set lock on file" in message:
            message += f"\nhint: {LOCK_HINT}"
        return AssetFailure(
            key=key,
            message=mask(f"sling stream {name}: {message}"),
            error_class="SlingStreamError",
            where=f"{self.where} (streams.{stream.name})",
        )
