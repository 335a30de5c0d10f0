"""Reference pages generated from the code (CLI commands, component attributes), so the
documentation cannot drift from what the program accepts. Used by the docs build hook."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from catchment.components import ComponentType


def _escape(text: str) -> str:
    """Plain text for a table cell: ``|`` would end the cell, ``[a][b]`` would be a link."""
    out = text.replace("|", "\\|").replace("[", "\\[").replace("]", "\\]")
    return out.replace("\n", " ").strip()


def cli_commands() -> dict[str, Any]:
    """Every command of the ``catchment`` CLI by its full name (``catchment runs show``).

    Walks the command tree by duck typing (``.commands``), because typer ships its own click.
    """
    import typer.main

    from catchment.cli.main import app

    found: dict[str, Any] = {}

    def walk(cmd: Any, path: str) -> None:
        found[path] = cmd
        for name in sorted(getattr(cmd, "commands", {}) or {}):
            walk(cmd.commands[name], f"{path} {name}")

    walk(typer.main.get_command(app), "catchment")
    return found


def render_cli_reference() -> str:
    """Markdown for every command: usage, help text and a table of options and arguments."""
    out: list[str] = []
    for path, cmd in cli_commands().items():
        depth = min(path.count(" ") + 2, 4)
        out.append(f"{'#' * depth} `{path}`\n")
        ctx = cmd.context_class(cmd, info_name=path)
        out.append(f"```\n{cmd.get_usage(ctx)}\n```\n")
        if cmd.help:
            out.append(str(cmd.help).strip().replace("\b\n", "") + "\n")
        rows = []
        for param in cmd.get_params(ctx):
            if getattr(param, "hidden", False):
                continue
            if param.param_type_name == "option":
                names = ", ".join(f"`{o}`" for o in [*param.opts, *param.secondary_opts])
                default = "" if param.default in (None, False, ()) else f"`{param.default}`"
                rows.append(f"| {names} | {_escape(param.help or '')} | {default} |")
            elif param.param_type_name == "argument":
                rows.append(f"| `{(param.name or '').upper()}` | argument | |")
        if rows:
            out.append("| option | meaning | default |\n|---|---|---|\n" + "\n".join(rows) + "\n")
    return "\n".join(out)


def _type_name(schema: dict[str, Any]) -> str:
    if "anyOf" in schema:
        return " or ".join(_type_name(s) for s in schema["anyOf"])
    if "enum" in schema:
        return " \\| ".join(repr(v) for v in schema["enum"])
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    kind = schema.get("type", "any")
    if kind == "array":
        return f"list of {_type_name(schema.get('items', {}))}"
    extra = schema.get("additionalProperties")
    if kind == "object" and isinstance(extra, dict):
        return f"mapping of {_type_name(extra)}"
    return str(kind)


def render_component_attributes(component: ComponentType) -> str:
    """Markdown table of a component type's attributes, from its pydantic model."""
    schema = component.attributes.model_json_schema()
    required = set(schema.get("required", []))
    rows = []
    for name, prop in schema.get("properties", {}).items():
        default = "" if name in required or "default" not in prop else f"`{prop['default']!r}`"
        rows.append(
            f"| `{name}` | {_escape(_type_name(prop))} | {'yes' if name in required else ''} "
            f"| {default} | {_escape(prop.get('description', ''))} |"
        )
    head = f"### `type: {component.name}`\n\n{component.description}\n\n"
    table = "| attribute | type | required | default | meaning |\n|---|---|---|---|---|\n"
    return head + table + "\n".join(rows) + "\n"


def render_component_reference(only: str | None = None) -> str:
    """Attribute tables of every installed component type (or just ``only``)."""
    from catchment.plugins import get_registry

    types = get_registry().component_types
    names = [only] if only else sorted(types)
    parts = []
    for name in names:
        if name not in types:
            parts.append(f"!!! warning\n    component type `{name}` is not installed here.\n")
            continue
        parts.append(render_component_attributes(types[name]))
    return "\n".join(parts)


def render_sdk_reference() -> str:
    """Markdown table of the adapter SDK: each module an adapter may import, what it is for
    (its docstring's first paragraph) and the names it offers (its ``__all__``)."""
    import importlib

    from catchment.hookspecs import SDK_MODULES

    rows = []
    for name in SDK_MODULES:
        module = importlib.import_module(name)
        summary = " ".join((module.__doc__ or "").strip().split("\n\n")[0].split())
        names = ", ".join(f"`{n}`" for n in sorted(module.__all__, key=str.lower))
        rows.append(f"| `{name}` | {_escape(summary)} | {names} |")
    return "| module | what it is | names |\n|---|---|---|\n" + "\n".join(rows) + "\n"
