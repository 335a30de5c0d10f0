"""The dbt profile target a component runs against, and the physical identity it gives tables.

``profiles.yml`` is rendered like dbt renders it (``{{ env_var('X', 'default') }}``) in a
jinja2 sandbox. Only the fields that locate relations are kept (type, path, account, host,
port, database, schema): passwords and tokens are never read into catchment's objects.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from catchment.errors import ConfigError
from catchment.tables import TableRef, duckdb_table, table

_IDENTITY_FIELDS = ("path", "account", "host", "port", "database", "dbname", "schema", "project")


@dataclass(frozen=True)
class Target:
    """A rendered profile target: its adapter type and the fields that locate relations."""

    profile: str
    name: str
    type: str
    fields: Mapping[str, str]
    project_dir: Path

    def relation(self, database: str | None, schema: str | None, name: str) -> TableRef:
        """The identity of relation ``database.schema.name`` in this target."""
        kind = self.type.lower()
        if kind == "duckdb":
            path = self.fields.get("path") or ":memory:"
            if path != ":memory:" and not path.startswith("md:"):
                p = Path(path).expanduser()
                path = str(p if p.is_absolute() else self.project_dir / p)
            return duckdb_table(path, name, schema=schema or "main", database=database)
        if kind == "snowflake":
            location = self.fields.get("account", "")
        elif kind in {"postgres", "redshift"}:
            location = f"{self.fields.get('host', 'localhost')}:{self.fields.get('port', '5432')}"
        else:
            location = self.fields.get("host") or self.fields.get("project") or ""
        return table(kind, name, schema=schema, database=database, location=location or None)

    @property
    def identity(self) -> dict[str, str]:
        """What makes two renderings of this target equal (used in cache keys)."""
        return {"profile": self.profile, "target": self.name, "type": self.type, **self.fields}


def yaml_load(text: str) -> Any:
    """``yaml.safe_load`` with libyaml's C loader when available (several times faster)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(text, Loader=loader)


def find_profiles_dir(project_dir: Path, profiles_dir: Path | None) -> Path:
    """Where ``profiles.yml`` lives: the attribute, else the project, else dbt's defaults."""
    if profiles_dir is not None:
        return profiles_dir
    if (project_dir / "profiles.yml").is_file():
        return project_dir
    env = os.environ.get("DBT_PROFILES_DIR")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".dbt"


_ENV_VAR = re.compile(
    r"""\{\{\s*env_var\(\s*(['"])(?P<name>[^'"]+)\1\s*(?:,\s*(['"])(?P<default>[^'"]*)\3\s*)?\)\s*\}\}"""
)


def _render(value: Any, env: Mapping[str, str], where: str) -> Any:
    if isinstance(value, str) and "{" in value:
        simple = _render_env_vars(value, env, where)
        if simple is not None:
            return simple
        from jinja2 import StrictUndefined
        from jinja2.sandbox import SandboxedEnvironment

        def env_var(name: str, default: str | None = None) -> str:
            if name in env:
                return env[name]
            if default is not None:
                return default
            raise ConfigError(
                f"environment variable {name!r} is not set and has no default",
                where=where,
                hint=f"export {name}=... or give env_var a default",
            )

        jinja = SandboxedEnvironment(undefined=StrictUndefined)
        jinja.globals["env_var"] = env_var
        return jinja.from_string(value).render()
    if isinstance(value, dict):
        return {k: _render(v, env, where) for k, v in value.items()}
    return value


def _render_env_vars(value: str, env: Mapping[str, str], where: str) -> str | None:
    """Render values that only use ``{{ env_var('X'[, 'default']) }}`` without jinja2 (whose
    import costs more than the rest of discovery); None when anything else is templated."""

    def substitute(m: re.Match[str]) -> str:
        name, default = m.group("name"), m.group("default")
        if name in env:
            return env[name]
        if default is not None:
            return default
        raise ConfigError(
            f"environment variable {name!r} is not set and has no default",
            where=where,
            hint=f"export {name}=... or give env_var a default",
        )

    rendered = _ENV_VAR.sub(substitute, value)
    return None if "{{" in rendered or "{%" in rendered else rendered


def load_target(
    project_dir: Path,
    profiles_dir: Path,
    *,
    profile: str | None,
    target: str | None,
    env: Mapping[str, str],
) -> Target:
    """Read ``profiles.yml`` and render the selected target (errors name the file and field)."""
    import yaml

    project_file = project_dir / "dbt_project.yml"
    if profile is None:
        project_yaml = _load_yaml(project_file)
        profile = project_yaml.get("profile") if isinstance(project_yaml, dict) else None
        if not profile:
            raise ConfigError(
                "dbt_project.yml names no `profile`",
                where=str(project_file),
                hint="add `profile: <name>` to dbt_project.yml or set the component's `profile`",
            )
    path = profiles_dir / "profiles.yml"
    if not path.is_file():
        raise ConfigError(
            "profiles.yml not found",
            where=str(path),
            hint="set the component's `profiles_dir` to the folder holding profiles.yml",
        )
    try:
        profiles = yaml_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"profiles.yml is not valid YAML: {exc}", where=str(path)) from None
    entry = profiles.get(profile) if isinstance(profiles, dict) else None
    if not isinstance(entry, dict):
        known = (
            ", ".join(k for k in profiles if k != "config") if isinstance(profiles, dict) else ""
        )
        raise ConfigError(
            f"profile {profile!r} is not defined",
            where=str(path),
            hint=f"defined profiles: {known or 'none'}",
        )
    where = f"{path} (profile {profile})"
    name = target or env.get("DBT_TARGET") or _render(entry.get("target", "default"), env, where)
    outputs = entry.get("outputs") or {}
    output = outputs.get(name)
    if not isinstance(output, dict):
        raise ConfigError(
            f"target {name!r} is not defined in profile {profile!r}",
            where=str(path),
            hint=f"defined targets: {', '.join(outputs) or 'none'}",
        )
    where = f"{path} (profile {profile}, target {name})"
    kind = _render(output.get("type", ""), env, where)
    if not kind:
        raise ConfigError("the target has no `type`", where=where, hint="e.g. `type: duckdb`")
    fields = {
        key: str(_render(output[key], env, where))
        for key in _IDENTITY_FIELDS
        if output.get(key) is not None
    }
    return Target(
        profile=str(profile),
        name=str(name),
        type=str(kind),
        fields=fields,
        project_dir=project_dir,
    )


def _load_yaml(path: Path) -> Any:
    import yaml

    try:
        return yaml_load(path.read_text()) or {}
    except OSError:
        raise ConfigError(
            "dbt_project.yml not found",
            where=str(path),
            hint="point the component's `project_dir` at a dbt project folder",
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", where=str(path)) from None
