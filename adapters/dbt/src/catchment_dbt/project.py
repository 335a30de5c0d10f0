"""A dbt project as catchment sees it: where it is, which target, and its (cached) manifest.

Getting the manifest never runs models. In order:
1. ``target/manifest.json`` when the component sets no ``vars``/``profile``/``target`` and the
   file is newer than every project file (what a user's own ``dbt parse``/``build`` left);
2. catchment's cache, ``<cache_dir>/<settings>/manifest.json``, when the project files hash to
   what it was parsed from (a stat fingerprint first, then a content hash, so a ``git checkout``
   that only touches mtimes does not re-parse);
   the stat fingerprint reuses the folder listings and file stats of the definitions
   snapshot's key when it runs in the same load (``catchment.filestats``);
3. otherwise ``dbt parse`` in-process into that cache folder (dbt's partial parsing keeps
   re-parses after small edits fast), and the parsed manifest object is kept in memory for runs.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from operator import attrgetter, itemgetter
from pathlib import Path
from typing import Any

from catchment.atomic_write import write_cache
from catchment.errors import ConfigError
from catchment.filestats import lines_of, listing

from catchment_dbt.manifest import Manifest, read_manifest
from catchment_dbt.profiles import Target, find_profiles_dir, load_target, yaml_load
from catchment_dbt.runner import invoke

_ROOT_FILES = (
    "dbt_project.yml",
    "packages.yml",
    "dependencies.yml",
    "package-lock.yml",
    "selectors.yml",
)
_PATH_KEYS = {
    "model-paths": ["models"],
    "seed-paths": ["seeds"],
    "snapshot-paths": ["snapshots"],
    "test-paths": ["tests"],
    "macro-paths": ["macros"],
    "analysis-paths": ["analyses"],
}
FINGERPRINT_FILE = "catchment-fingerprint.json"
_entry_path = attrgetter("path")
_mtime_ns = attrgetter("st_mtime_ns")
_stat = itemgetter(0)
_line = itemgetter(1)

# Parsed dbt Manifest objects by (project dir, settings key, content key): runs reuse them.
_PARSED: dict[tuple[str, str, str], Any] = {}


@dataclass
class DbtProject:
    """A dbt project folder plus the settings that shape its manifest (profile, target, vars)."""

    project_dir: Path
    profiles_dir: Path | None = None
    profile: str | None = None
    target: str | None = None
    vars: Mapping[str, Any] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    cache_dir: Path | None = None

    def __post_init__(self) -> None:
        self.project_dir = Path(self.project_dir).expanduser().resolve()
        if not (self.project_dir / "dbt_project.yml").is_file():
            what = "does not exist" if not self.project_dir.exists() else "has no dbt_project.yml"
            raise ConfigError(
                f"dbt project folder {what}",
                where=str(self.project_dir),
                hint="set `project_dir` to the folder holding dbt_project.yml",
            )
        self._config = _project_yaml(self.project_dir)
        self.profiles_dir = find_profiles_dir(self.project_dir, self.profiles_dir)
        self._target: Target | None = None
        self._content_key: str | None = None

    # ----------------------------------------------------------------- settings
    @property
    def name(self) -> str:
        return str(self._config.get("name", self.project_dir.name))

    @property
    def target_path(self) -> Path:
        """dbt's own ``target/`` folder (where runs write compiled SQL and run_results.json)."""
        return self.project_dir / str(self._config.get("target-path", "target"))

    @property
    def resolved_target(self) -> Target:
        """The rendered profile target (renders ``profiles.yml`` once)."""
        if self._target is None:
            assert self.profiles_dir is not None
            self._target = load_target(
                self.project_dir,
                self.profiles_dir,
                profile=self.profile,
                target=self.target,
                env={**self.env, **os.environ},
            )
        return self._target

    def cli_args(self, extra_vars: Mapping[str, Any] | None = None) -> list[str]:
        """Flags every invocation of this project gets (project, profiles, target, vars);
        ``extra_vars`` are merged over the project's vars (e.g. a partition window)."""
        args = ["--project-dir", str(self.project_dir), "--profiles-dir", str(self.profiles_dir)]
        if self.profile:
            args += ["--profile", self.profile]
        if self.target:
            args += ["--target", self.target]
        all_vars = {**self.vars, **(extra_vars or {})}
        if all_vars:
            args += ["--vars", json.dumps(all_vars, sort_keys=True, default=str)]
        return args

    @property
    def settings_key(self) -> str:
        """A hash of everything besides files that changes the manifest."""
        payload = {
            "vars": dict(self.vars),
            "target": self.resolved_target.identity,
            "dbt": _dbt_version(),
        }
        text = json.dumps(payload, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def cache_root(self) -> Path:
        return self.cache_dir or (self.target_path / "catchment")

    # ----------------------------------------------------------------- files
    def project_files(self) -> list[os.DirEntry[str]]:
        """Every file that defines nodes: root YAML files and the configured path folders, each
        folder depth first in name order."""
        files = [
            entry
            for entry in listing(str(self.project_dir))
            if entry.name in _ROOT_FILES and entry.is_file()
        ]
        folders: list[str] = []
        for key, default in _PATH_KEYS.items():
            value = self._config.get(key, default)
            folders.extend([value] if isinstance(value, str) else list(value or []))
        folders.append(str(self._config.get("packages-install-path", "dbt_packages")))
        seen: set[Path] = set()
        for folder in folders:
            path = (self.project_dir / folder).resolve()
            if path in seen or not path.is_dir():
                continue
            seen.add(path)
            _walk(str(path), files)
        return files

    def _fingerprints(self) -> tuple[str, int, list[os.DirEntry[str]]]:
        """(stat fingerprint, newest mtime in ns, entries). A snapshot refresh has just listed
        the folders and made the files' stat lines for its key: they are reused."""
        entries = self.project_files()
        try:
            stamps = lines_of(entries)
        except FileNotFoundError:  # one was removed since its folder was listed
            entries = [e for e in entries if os.path.isfile(e.path)]
            stamps = lines_of(entries)
        newest = max(map(_mtime_ns, map(_stat, stamps)), default=0)
        lines = list(map(_line, stamps))
        lines.append("")
        h = hashlib.sha256(self.settings_key.encode())
        h.update("\n".join(lines).encode("utf-8", "surrogateescape"))
        return h.hexdigest()[:32], newest, entries

    def _content_hash(self, entries: list[os.DirEntry[str]]) -> str:
        h = hashlib.sha256(self.settings_key.encode())
        for e in sorted(entries, key=_entry_path):
            h.update(os.path.relpath(e.path, self.project_dir).encode() + b"\0")
            with open(e.path, "rb") as f:
                h.update(hashlib.sha256(f.read()).digest())
        return h.hexdigest()[:32]

    # ----------------------------------------------------------------- manifest
    def manifest_path(self) -> Path:
        """Find or make a manifest that matches the project files; return its path."""
        stat_key, newest, entries = self._fingerprints()
        default_settings = not (self.vars or self.profile or self.target)
        own = self.target_path / "manifest.json"
        if default_settings and own.is_file() and own.stat().st_mtime_ns >= newest:
            self._content_key = f"target:{stat_key}"
            return own
        cache = self.cache_root / self.settings_key
        cached = cache / "manifest.json"
        stamp = _read_json(cache / FINGERPRINT_FILE)
        if cached.is_file() and stamp.get("stat") == stat_key:
            self._content_key = str(stamp.get("content"))
            return cached
        content_key = self._content_hash(entries)
        self._content_key = content_key
        if cached.is_file() and stamp.get("content") == content_key:
            _write_json(cache / FINGERPRINT_FILE, {"stat": stat_key, "content": content_key})
            return cached
        self._parse(cache)
        _write_json(cache / FINGERPRINT_FILE, {"stat": stat_key, "content": content_key})
        return cached

    def load_manifest(self) -> Manifest:
        """The manifest (fresh, cached or freshly parsed), decoded with catchment's fast reader."""
        return self.load_manifest_at(self.manifest_path())

    def load_manifest_at(self, path: Path) -> Manifest:
        """Decode the manifest at ``path`` (as returned by :meth:`manifest_path`), through a
        compact msgpack copy of its needed fields kept in the cache folder."""
        name = hashlib.sha256(str(path).encode()).hexdigest()[:16]
        return read_manifest(path, compact=self.cache_root / f"compact-{name}.msgpack")

    def _parse(self, cache: Path) -> None:
        cache.mkdir(parents=True, exist_ok=True)
        args = ["parse", *self.cli_args(), "--target-path", str(cache), "--log-level", "none"]
        if cache != self.target_path:  # discovery: keep dbt's log out of the dbt project too
            args += ["--log-path", str(cache / "logs")]
        result = self.invoke(args)
        if not result.success:
            raise parse_error(result.exception, self.project_dir)
        _PARSED[(str(self.project_dir), self.settings_key, self._content_key or "")] = result.result

    def dbt_manifest(self, manifest_path: Path) -> Any:
        """dbt's own Manifest object for runs: the one parsed in this process, else parsed now
        into ``manifest_path``'s folder (dbt's partial parsing makes that quick). A manifest
        read back from JSON is not enough: generic tests need parse-time context."""
        key = (str(self.project_dir), self.settings_key, self._content_key or "")
        parsed = _PARSED.get(key)
        if parsed is None:
            self._parse(manifest_path.parent)
            parsed = _PARSED[key]
            while len(_PARSED) > 8:
                _PARSED.pop(next(iter(_PARSED)))
        return parsed

    def _selection_path(self, select: list[str], exclude: list[str]) -> Path:
        """Where dbt's answer to this selection is kept (for the current project files)."""
        payload = json.dumps([select, exclude, self._content_key])
        cache = self.cache_root / self.settings_key / "selections"
        return cache / f"{hashlib.sha256(payload.encode()).hexdigest()[:24]}.json"

    def cached_selection(self, select: list[str], exclude: list[str]) -> set[str] | None:
        """What :meth:`resolve_selection` returns when dbt's answer is kept, else None
        (dbt is not run)."""
        cached = _read_json(self._selection_path(select, exclude))
        if isinstance(cached.get("ids"), list):
            return set(cached["ids"])
        return None

    def resolve_selection(
        self, manifest_path: Path, select: list[str], exclude: list[str]
    ) -> set[str]:
        """Unique ids dbt's own ``ls --select ... --exclude ...`` returns (exact dbt semantics),
        cached next to the manifest until the project files change."""
        cached = self.cached_selection(select, exclude)
        if cached is not None:
            return cached
        path = self._selection_path(select, exclude)
        cache = path.parent
        args = ["ls", *self.cli_args(), "--output", "json", "--output-keys", "unique_id"]
        args += ["--log-level", "none", "--quiet", "--log-path", str(cache / "logs")]
        if select:
            args += ["--select", *select]
        if exclude:
            args += ["--exclude", *exclude]
        result = self.invoke(args, manifest=self.dbt_manifest(manifest_path))
        if not result.success:
            raise ConfigError(
                f"dbt could not resolve the selection: {result.exception}",
                where=f"{self.project_dir} (select={select}, exclude={exclude})",
                hint="check the component's `select`/`exclude` with `dbt ls --select ...`",
            )
        ids = {json.loads(line)["unique_id"] for line in result.result or []}
        _write_json(path, {"ids": sorted(ids)})
        return ids

    def invoke(
        self,
        args: list[str],
        *,
        manifest: Any = None,
        callbacks: Any = (),
        deadline: float | None = None,
        limit: float | None = None,
    ) -> Any:
        """Run ``dbt <args>`` in-process for this project (see :mod:`catchment_dbt.runner`)."""
        try:
            return invoke(
                args,
                project_dir=self.project_dir,
                env=self.env,
                manifest=manifest,
                callbacks=callbacks,
                deadline=deadline,
                limit=limit,
                rewrites=self.target_path / "manifest.json",
            )
        except ImportError as exc:
            raise ConfigError(
                f"dbt is not importable: {exc}",
                where=str(self.project_dir),
                hint="install dbt-core and your adapter, e.g. `pip install catchment-dbt[duckdb]`",
            ) from None


_FILE_IN_MESSAGE = re.compile(r"\(([^()\s]+\.(?:sql|yml|yaml|py|csv|md))\)")


def parse_error(exc: BaseException | None, project_dir: Path) -> ConfigError:
    """Turn dbt's parse failure into one clear error naming the file dbt blames."""
    text = str(exc) if exc is not None else "dbt parse failed"
    found = _FILE_IN_MESSAGE.search(text)
    where = str(project_dir / found.group(1)) if found else str(project_dir)
    first = " ".join(line.strip() for line in text.strip().splitlines() if line.strip())
    return ConfigError(
        f"dbt could not parse the project: {first}",
        where=where,
        hint="fix the file, then check with `dbt parse` in the dbt project",
    )


def _walk(folder: str, files: list[os.DirEntry[str]]) -> None:
    """Append the files under ``folder`` that dbt reads (not hidden, not ``__pycache__``),
    depth first in name order (symlinked folders followed, as dbt does)."""
    for entry in listing(folder):
        name = entry.name
        if name.startswith(".") or name == "__pycache__":
            continue
        if entry.is_dir():
            _walk(entry.path, files)
        elif entry.is_file():
            files.append(entry)


def _project_yaml(project_dir: Path) -> dict[str, Any]:
    import yaml

    path = project_dir / "dbt_project.yml"
    try:
        data = yaml_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"dbt_project.yml is not valid YAML: {exc}", where=str(path)) from None
    if not isinstance(data, dict):
        raise ConfigError("dbt_project.yml is not a mapping", where=str(path))
    return data


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    write_cache(path, json.dumps(data).encode())


_DBT_VERSION: list[str] = []


def _dbt_version() -> str:
    if not _DBT_VERSION:
        from importlib.metadata import PackageNotFoundError, version

        try:
            _DBT_VERSION.append(version("dbt-core"))
        except PackageNotFoundError:
            _DBT_VERSION.append("")
    return _DBT_VERSION[0]
