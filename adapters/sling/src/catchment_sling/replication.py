"""Reading a Sling replication (YAML file or inline mapping) into resolved streams, without
running Sling: defaults merged into each stream and ``{stream_table}``-style target object
templates filled in the way Sling fills them."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from catchment.errors import ConfigError

_NON_WORD = re.compile(r"\W+")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
# Stream keys Sling understands and that shape the stream (used for the code version).
_MODES = {"full-refresh", "incremental", "truncate", "snapshot", "backfill"}


@dataclass(frozen=True)
class Replication:
    """A parsed replication: its source/target connection names, defaults and raw streams."""

    source: str
    target: str
    defaults: Mapping[str, Any]
    streams: Mapping[str, Mapping[str, Any]]  # name -> stream config (may be empty)
    env: Mapping[str, Any]
    where: str  # file (or "inline replication") for errors
    raw: Mapping[str, Any]


@dataclass(frozen=True)
class Stream:
    """One stream with defaults applied and its target object resolved."""

    name: str
    config: Mapping[str, Any]  # defaults merged with the stream's own settings
    object: str  # resolved target object, e.g. raw.orders
    target_schema: str | None
    target_table: str
    source_schema: str | None  # None for files and custom SQL
    source_table: str | None
    is_file: bool

    @property
    def mode(self) -> str:
        return str(self.config.get("mode") or "full-refresh")

    @property
    def primary_key(self) -> list[str]:
        pk = self.config.get("primary_key")
        if pk is None:
            return []
        return [str(p) for p in pk] if isinstance(pk, list) else [str(pk)]

    @property
    def update_key(self) -> str | None:
        uk = self.config.get("update_key")
        return str(uk) if uk else None

    @property
    def sql(self) -> str | None:
        sql = self.config.get("sql")
        return str(sql) if sql else None

    def code_version(self, extra: Mapping[str, Any]) -> str:
        """A hash of the stream's effective config, so editing it makes the asset stale."""
        payload = {"name": self.name, "config": self.config, "object": self.object, **extra}
        text = json.dumps(payload, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def load_replication(value: str | Mapping[str, Any], root: Path) -> Replication:
    """Load the replication from a file (relative to ``root``) or take an inline mapping."""
    if isinstance(value, str):
        path = Path(value).expanduser()
        path = path if path.is_absolute() else root / path
        where = _display(path, root)
        if not path.is_file():
            raise ConfigError(
                "the replication file does not exist",
                where=f"{where} (attributes.replication)",
                hint="point `replication:` at Sling's replication YAML, relative to the project",
            )
        data = _read_yaml(path, where)
    else:
        where, data = "attributes.replication (inline)", dict(value)
    return _parse(data, where)


def _display(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def _read_yaml(path: Path, where: str) -> Any:
    import yaml

    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available
        return yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        at = f"{where}:{mark.line + 1}:{mark.column + 1}" if mark else where
        raise ConfigError(
            f"the replication YAML does not parse: {exc.problem}",
            where=at,
            hint="fix the YAML syntax (check indentation, brackets and quotes)",
        ) from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"the replication YAML does not parse: {type(exc).__name__}",
            where=where,
            hint="fix the YAML syntax",
        ) from None


def _parse(data: Any, where: str) -> Replication:
    if not isinstance(data, Mapping):
        raise ConfigError(
            "a replication must be a mapping with source, target and streams",
            where=where,
            hint="see https://docs.slingdata.io/concepts/replication",
        )
    for fld in ("source", "target"):
        if not isinstance(data.get(fld), str) or not data.get(fld):
            raise ConfigError(
                f"the replication has no `{fld}` connection name",
                where=f"{where} ({fld})",
                hint=f"add `{fld}: <CONNECTION_NAME>` at the top of the replication",
            )
    streams = data.get("streams")
    if not isinstance(streams, Mapping) or not streams:
        raise ConfigError(
            "the replication has no streams",
            where=f"{where} (streams)",
            hint="add a `streams:` mapping, e.g. `streams: {public.orders: }`",
        )
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, Mapping):
        raise ConfigError("`defaults` must be a mapping", where=f"{where} (defaults)")
    parsed: dict[str, Mapping[str, Any]] = {}
    for name, cfg in streams.items():
        if cfg is not None and not isinstance(cfg, Mapping):
            raise ConfigError(
                f"stream {name!r} must be a mapping (or empty)",
                where=f"{where} (streams.{name})",
            )
        parsed[str(name)] = dict(cfg or {})
    env = data.get("env") or {}
    return Replication(
        source=str(data["source"]),
        target=str(data["target"]),
        defaults=dict(defaults),
        streams=parsed,
        env=dict(env) if isinstance(env, Mapping) else {},
        where=where,
        raw=dict(data),
    )


def split_object(text: str) -> list[str]:
    """Split ``schema.table`` on dots outside double quotes, unquoting the parts."""
    parts, buf, quoted = [], "", False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif ch == "." and not quoted:
            parts.append(buf)
            buf = ""
        else:
            buf += ch
    parts.append(buf)
    return [p.strip() for p in parts]


def _file_vars(name: str) -> dict[str, str]:
    path = name.removeprefix("file://")
    pure = PurePosixPath(path)
    return {
        "stream_name": _NON_WORD.sub("_", name.lower()),
        "stream_file_folder": _NON_WORD.sub("_", pure.parent.name),
        "stream_file_name": _NON_WORD.sub("_", pure.stem if pure.suffix else pure.name),
        "stream_file_ext": pure.suffix.lstrip("."),
        "stream_file_path": _NON_WORD.sub("_", path.lstrip("/")),
    }


def _db_vars(name: str) -> dict[str, str]:
    parts = split_object(name)
    tbl, schema = parts[-1], (parts[-2] if len(parts) > 1 else "")
    out = {
        "stream_name": _NON_WORD.sub("_", name.lower()),
        "stream_table": tbl,
        "stream_table_lower": tbl.lower(),
        "stream_table_upper": tbl.upper(),
        "stream_full_name": f'"{schema}"."{tbl}"' if schema else f'"{tbl}"',
    }
    if schema:
        out.update(
            stream_schema=schema,
            stream_schema_lower=schema.lower(),
            stream_schema_upper=schema.upper(),
        )
    return out


def resolve_streams(
    rep: Replication, *, source_is_file: bool, target_default_schema: str
) -> list[Stream]:
    """Merge defaults into every enabled stream and resolve its target object."""
    out: list[Stream] = []
    for name, own in rep.streams.items():
        cfg = {**rep.defaults, **own}
        if cfg.get("disabled"):
            continue
        is_file = source_is_file or name.startswith("file://")
        if "*" in name and not cfg.get("sql"):
            raise ConfigError(
                f"stream {name!r} is a wildcard that was not expanded into its tables",
                where=f"{rep.where} (streams.{name})",
                hint="list the tables as separate streams so each becomes an asset",
            )
        template = cfg.get("object")
        if not template:
            raise ConfigError(
                f"stream {name!r} has no target `object`",
                where=f"{rep.where} (streams.{name})",
                hint="set `object:` on the stream or in `defaults` (e.g. main.{stream_table})",
            )
        variables: dict[str, str] = {
            "source_name": rep.source.lower(),
            "target_name": rep.target.lower(),
            "target_schema": target_default_schema.lower(),
            **(_file_vars(name) if is_file else _db_vars(name)),
        }
        obj = _fill(str(template), variables, rep, name)
        parts = [p for p in split_object(obj) if p]
        if not parts:
            raise ConfigError(
                f"stream {name!r}: target object {template!r} resolves to nothing",
                where=f"{rep.where} (streams.{name}.object)",
            )
        schema = parts[-2] if len(parts) > 1 else None
        src_schema: str | None = None
        src_table: str | None = None
        if not is_file and not cfg.get("sql"):
            sparts = split_object(name)
            src_table = sparts[-1]
            src_schema = sparts[-2] if len(sparts) > 1 else None
        out.append(
            Stream(
                name=name,
                config=cfg,
                object=obj,
                target_schema=schema,
                target_table=parts[-1],
                source_schema=src_schema,
                source_table=src_table,
                is_file=is_file,
            )
        )
        if cfg.get("mode") and str(cfg["mode"]) not in _MODES:
            raise ConfigError(
                f"stream {name!r}: unknown mode {cfg['mode']!r}",
                where=f"{rep.where} (streams.{name}.mode)",
                hint=f"use one of {', '.join(sorted(_MODES))}",
            )
    return out


def _fill(template: str, variables: Mapping[str, str], rep: Replication, name: str) -> str:
    def sub(match: re.Match[str]) -> str:
        word = match.group(1)
        if word in variables:
            return variables[word]
        if word in rep.env:
            return str(rep.env[word])
        raise ConfigError(
            f"stream {name!r}: target object uses {{{word}}}, which catchment cannot resolve "
            "before running Sling",
            where=f"{rep.where} (streams.{name}.object)",
            hint="use stream_schema, stream_table, stream_name, stream_file_name, "
            "stream_file_folder, stream_file_ext, stream_file_path, target_schema, "
            "source_name or target_name",
        )

    return _PLACEHOLDER.sub(sub, template).strip()
