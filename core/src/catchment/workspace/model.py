"""The workspace file, ``catchment.workspace.yaml``: its model and its validation.

Errors in the file's shape (unknown fields, wrong types, two projects with one name, no Python
named, a bad ``queue:`` or ``pools:`` value) stop every command with one ``ConfigError`` naming
``file:line`` and the field, as ``catchment.yaml`` errors do. ``queue:`` is validated by the
project's own ``queue:`` model (``project.loader``), so both take the same fields. What can
only be known by trying (a project folder or a Python that does not exist) is a load error of
that one project: the rest of the workspace loads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from catchment.components import QueueSettings
from catchment.errors import ConfigError

if TYPE_CHECKING:
    from pydantic import ValidationError

__all__ = ["CrossProjectPolicy", "ProjectEntry", "Workspace", "load_workspace_file"]

DEFAULT_LOAD_TIMEOUT = 120.0
"""Seconds a project's environment may take to print its definitions snapshot."""

_TOP = ("workspace", "storage", "load_timeout", "policy", "queue", "pools", "projects")
_PROJECT = ("path", "name", "python", "uv_project", "team", "load_timeout")
_POLICY = ("cross_project",)
_CROSS = ("require_tag", "hooks")


@dataclass(frozen=True)
class CrossProjectPolicy:
    """``policy.cross_project``: an asset may read an asset of another project only when the
    upstream asset has the tag ``require_tag`` (any value), e.g. ``public``."""

    require_tag: str | None = None
    hooks: bool = False
    """Also ask the control plane's installed plugins (``catchment_graph_built``) about the
    merged graph, whose definitions carry ``workspace/project`` and ``workspace/team``."""


@dataclass(frozen=True)
class ProjectEntry:
    """One project of the workspace: its folder, its Python, its team."""

    name: str
    path: Path
    python: Path | None = None
    uv_project: Path | None = None
    team: str | None = None
    load_timeout: float = DEFAULT_LOAD_TIMEOUT
    where: str = ""  # file:line of its entry, for messages

    def command(self, *args: str) -> list[str]:
        """The command line running ``python ARGS`` in this project's environment."""
        if self.python is not None:
            return [str(self.python), *args]
        import os
        import shutil

        uv = os.environ.get("CATCHMENT_UV") or shutil.which("uv") or "uv"
        return [uv, "run", "--quiet", "--project", str(self.uv_project), "python", *args]

    @property
    def environment(self) -> str:
        """How its environment is named in messages."""
        if self.python is not None:
            return f"python {self.python}"
        return f"uv_project {self.uv_project}"


@dataclass(frozen=True)
class Workspace:
    """A validated ``catchment.workspace.yaml``."""

    file: Path
    name: str
    storage_url: str
    projects: tuple[ProjectEntry, ...]
    policy: CrossProjectPolicy = field(default_factory=CrossProjectPolicy)
    queue: QueueSettings = field(default_factory=QueueSettings)
    """``queue:`` and ``pools:``: the daemon's run limits on the workspace's queued runs, and
    the pool slot limits every project's steps claim under (a pool the workspace names has
    this limit in every project, whatever the project's own ``pools:`` says)."""

    @property
    def teams(self) -> bool:
        """Whether any project names its team (then runs carry ``team`` and ``project`` tags)."""
        return any(p.team is not None for p in self.projects)

    @property
    def root(self) -> Path:
        """The folder holding the workspace file."""
        return self.file.parent

    @property
    def cache_dir(self) -> Path:
        """Where the workspace keeps its projects' snapshots (``.catchment/workspace/``)."""
        return self.root / ".catchment" / "workspace"

    def project(self, name: str) -> ProjectEntry:
        """The project called ``name``; a ``ConfigError`` listing the names otherwise."""
        for p in self.projects:
            if p.name == name:
                return p
        names = ", ".join(p.name for p in self.projects)
        raise ConfigError(
            f"no project {name!r} in the workspace", where=str(self.file), hint=f"projects: {names}"
        )


class _Checker:
    """Validation of one workspace file, every error naming ``file:line`` and the field."""

    def __init__(self, file: Path):
        from catchment.project.yamlfile import load_yaml

        self.located = load_yaml(file)
        self.file = file

    def fail(self, path: Sequence[str | int], message: str, hint: str | None = None) -> ConfigError:
        from catchment.project.yamlfile import field_path

        name = field_path(path)
        text = f"field {name}: {message}" if name else message
        return ConfigError(text, where=self.located.where(path), hint=hint)

    def mapping(
        self, value: Any, path: Sequence[str | int], known: Sequence[str]
    ) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, f"must be a mapping, not {_type(value)}")
        for key in value:
            if key not in known:
                raise self.fail(
                    (*path, str(key)), "unknown field", f"known fields: {', '.join(known)}"
                )
        return value

    def string(self, value: Any, path: Sequence[str | int]) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(path, f"must be a non-empty string, not {_type(value)}")
        return value

    def seconds(self, value: Any, path: Sequence[str | int], default: float) -> float:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise self.fail(path, f"must be a positive number of seconds, not {value!r}")
        return float(value)

    def folder(self, value: Any, path: Sequence[str | int]) -> Path:
        p = Path(self.string(value, path)).expanduser()
        return p if p.is_absolute() else (self.file.parent / p)

    def storage(self, value: Any) -> str:
        """The one run store URL; a relative SQLite path is relative to the workspace folder."""
        if value is None:
            return f"sqlite:///{self.file.parent / '.catchment' / 'runs.db'}"
        from catchment.project.templating import render_with
        from catchment.storage import StorageError, check_storage_url, resolve_storage_url

        url = render_with(self.located, self.file.parent)(value, ("storage",))
        url = self.string(url, ("storage",))
        try:
            url = resolve_storage_url(url, self.file.parent)
            check_storage_url(url)
        except StorageError as exc:
            raise self.fail(
                ("storage",),
                exc.message,
                "a URL: sqlite:///.catchment/runs.db (from this file's folder), "
                "sqlite:////absolute/runs.db or postgresql://user@host/db",
            ) from None
        return url

    def project(self, raw: Any, i: int, timeout: float) -> ProjectEntry:
        path: tuple[str | int, ...] = ("projects", i)
        data = self.mapping(raw, path, _PROJECT)
        if "path" not in data:
            raise self.fail(path, "a project needs path: (its folder, holding catchment.yaml)")
        folder = self.folder(data["path"], (*path, "path"))
        python = uv = None
        if data.get("python") is not None and data.get("uv_project") is not None:
            raise self.fail((*path, "uv_project"), "give python: or uv_project:, not both")
        if data.get("python") is not None:
            python = self.folder(data["python"], (*path, "python"))
        elif data.get("uv_project") is not None:
            uv = self.folder(data["uv_project"], (*path, "uv_project"))
        else:
            raise self.fail(
                path,
                "a project needs the Python environment it runs in",
                "add python: path/to/.venv/bin/python, or uv_project: FOLDER "
                "(run with `uv run --project FOLDER`)",
            )
        name = data.get("name")
        name = self.string(name, (*path, "name")) if name is not None else folder.name
        team = data.get("team")
        return ProjectEntry(
            name=name,
            path=folder,
            python=python,
            uv_project=uv,
            team=self.string(team, (*path, "team")) if team is not None else None,
            load_timeout=self.seconds(data.get("load_timeout"), (*path, "load_timeout"), timeout),
            where=self.located.where(path),
        )

    def policy(self, raw: Any) -> CrossProjectPolicy:
        if raw is None:
            return CrossProjectPolicy()
        data = self.mapping(raw, ("policy",), _POLICY)
        cross = data.get("cross_project")
        if cross is None:
            return CrossProjectPolicy()
        cross = self.mapping(cross, ("policy", "cross_project"), _CROSS)
        tag = cross.get("require_tag")
        hooks = cross.get("hooks", False)
        if not isinstance(hooks, bool):
            raise self.fail(
                ("policy", "cross_project", "hooks"), f"must be true or false, not {hooks!r}"
            )
        return CrossProjectPolicy(
            require_tag=self.string(tag, ("policy", "cross_project", "require_tag"))
            if tag is not None
            else None,
            hooks=hooks,
        )

    def queue(self, raw_queue: Any, raw_pools: Any) -> QueueSettings:
        """``queue:`` through the project's own model (same fields, same checks) and
        ``pools:`` (pool name -> slots, 0 or more)."""
        if raw_queue is None and raw_pools is None:
            return QueueSettings()
        from pydantic import ValidationError

        from catchment.project.loader import _Queue, queue_settings

        try:
            cfg = _Queue.model_validate(raw_queue if raw_queue is not None else {})
        except ValidationError as exc:
            raise self._invalid(exc, _Queue) from None
        pools: dict[str, int] = {}
        if raw_pools is not None:
            if not isinstance(raw_pools, dict):
                raise self.fail(
                    ("pools",),
                    f"must be a mapping of pool name to slots, not {_type(raw_pools)}",
                    "e.g. pools: {warehouse: 4}",
                )
            for name, slots in raw_pools.items():
                if isinstance(slots, bool) or not isinstance(slots, int) or slots < 0:
                    raise self.fail(
                        ("pools", str(name)),
                        f"must be a number of slots, 0 or more, not {slots!r}",
                        "e.g. pools: {warehouse: 4} (0 holds every step of the pool)",
                    )
                pools[str(name)] = slots
        return queue_settings(cfg, pools)

    def _invalid(self, exc: ValidationError, model: Any) -> ConfigError:
        """The first error of ``queue:`` as the project's loader words it, at its line."""
        err = exc.errors(include_input=False, include_url=False, include_context=False)[0]
        loc = tuple(err["loc"])
        hint = None
        if loc and isinstance(loc[0], str):
            info = model.model_fields.get(loc[0])
            if info is not None and info.description:
                hint = f"{loc[0]}: {info.description}"
        if err["type"] == "extra_forbidden":
            hint = f"known fields: {', '.join(model.model_fields)}"
        return self.fail(("queue", *loc), err["msg"], hint)

    def workspace(self) -> Workspace:
        data = self.located.data
        if data is None:
            raise ConfigError(
                "the file is empty", where=str(self.file), hint="list the projects under projects:"
            )
        data = self.mapping(data, (), _TOP)
        head = data.get("workspace")
        name = self.file.parent.name
        if head is not None:
            head = self.mapping(head, ("workspace",), ("name",))
            if head.get("name") is not None:
                name = self.string(head["name"], ("workspace", "name"))
        timeout = self.seconds(data.get("load_timeout"), ("load_timeout",), DEFAULT_LOAD_TIMEOUT)
        raw = data.get("projects")
        if not isinstance(raw, list) or not raw:
            raise self.fail(
                ("projects",),
                "must be a non-empty list of projects",
                "e.g. projects: [{path: finance, python: finance/.venv/bin/python}]",
            )
        projects = [self.project(p, i, timeout) for i, p in enumerate(raw)]
        seen: dict[str, int] = {}
        for i, p in enumerate(projects):
            if p.name in seen:
                raise self.fail(
                    ("projects", i),
                    f"a second project named {p.name!r} (the first is projects[{seen[p.name]}])",
                    "give one of them another name:",
                )
            seen[p.name] = i
        return Workspace(
            file=self.file,
            name=name,
            storage_url=self.storage(data.get("storage")),
            projects=tuple(projects),
            policy=self.policy(data.get("policy")),
            queue=self.queue(data.get("queue"), data.get("pools")),
        )


def _type(value: Any) -> str:
    return "nothing" if value is None else type(value).__name__


def load_workspace_file(file: Path) -> Workspace:
    """The validated workspace of ``file``; a ``ConfigError`` naming file:line and field.

    An unchanged file is read from ``.catchment/workspace/file.cache`` (validating imports
    the YAML loader, which costs more than loading an unchanged workspace); a file with
    ``{{ ... }}`` templates is validated every time and never cached (its storage URL may
    come from, and hold, a secret)."""
    file = file.resolve()
    try:
        data = file.read_bytes()
    except OSError:
        data = b""
    cacheable = bool(data) and b"{{" not in data
    digest = _digest(file, data)
    if cacheable:
        cached = _read_cache(file, digest)
        if cached is not None:
            return cached
    ws = _Checker(file).workspace()
    if cacheable:
        _write_cache(ws, digest)
    return ws


_CACHE_VERSION = 3  # 2: a relative SQLite storage URL is stored resolved; 3: queue, pools


def _digest(file: Path, data: bytes) -> str:
    import hashlib

    return hashlib.sha256(f"{_CACHE_VERSION}\0{file}\0".encode() + data).hexdigest()


def _cache_path(file: Path) -> Path:
    return file.parent / ".catchment" / "workspace" / "file.cache"


def _read_cache(file: Path, digest: str) -> Workspace | None:
    import json

    try:
        raw = json.loads(_cache_path(file).read_text())
        if raw.get("digest") != digest:
            return None
        return Workspace(
            file=file,
            name=raw["name"],
            storage_url=raw["storage_url"],
            projects=tuple(
                ProjectEntry(
                    name=p["name"],
                    path=Path(p["path"]),
                    python=_path(p["python"]),
                    uv_project=_path(p["uv_project"]),
                    team=p["team"],
                    load_timeout=p["load_timeout"],
                    where=p["where"],
                )
                for p in raw["projects"]
            ),
            policy=CrossProjectPolicy(**raw["policy"]),
            queue=_queue_from(raw["queue"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _queue_from(raw: dict[str, Any]) -> QueueSettings:
    from catchment.storage.queue import QueueLimits, TagLimit

    return QueueSettings(
        limits=QueueLimits(
            max_concurrent_runs=raw["max_concurrent_runs"],
            tag_limits=tuple(TagLimit(**t) for t in raw["tag_limits"]),
        ),
        pools=dict(raw["pools"]),
        pool_lease_seconds=raw["pool_lease_seconds"],
    )


def _path(value: str | None) -> Path | None:
    return Path(value) if value is not None else None


def _text(value: Path | None) -> str | None:
    return str(value) if value is not None else None


def _write_cache(ws: Workspace, digest: str) -> None:
    import contextlib
    import json

    from catchment.snapshot.cache import write_snapshot

    raw = {
        "digest": digest,
        "name": ws.name,
        "storage_url": ws.storage_url,
        "projects": [
            {
                "name": p.name,
                "path": str(p.path),
                "python": _text(p.python),
                "uv_project": _text(p.uv_project),
                "team": p.team,
                "load_timeout": p.load_timeout,
                "where": p.where,
            }
            for p in ws.projects
        ],
        "policy": {"require_tag": ws.policy.require_tag, "hooks": ws.policy.hooks},
        "queue": {
            "max_concurrent_runs": ws.queue.limits.max_concurrent_runs,
            "tag_limits": [
                {"key": t.key, "value": t.value, "limit": t.limit}
                for t in ws.queue.limits.tag_limits
            ],
            "pools": ws.queue.pools,
            "pool_lease_seconds": ws.queue.pool_lease_seconds,
        },
    }
    with contextlib.suppress(OSError):  # the next command validates the file again
        write_snapshot(_cache_path(ws.file), json.dumps(raw).encode())
