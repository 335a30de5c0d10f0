"""Entry point of the ``catchment`` command: one typer app, commands added by module.

Each module in ``COMMAND_MODULES`` defines ``register(app)``. Errors that catchment raises on
purpose are printed as one message (file, field, hint) with exit code 1, never a traceback;
``CATCHMENT_DEBUG=1`` shows the traceback too.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
from collections.abc import Sequence
from itertools import takewhile

import typer
import typer.models

from catchment import __version__
from catchment.errors import CatchmentError

COMMAND_MODULES = (
    "catchment.cli.plugins_cmd",
    "catchment.cli.check_cmd",
    "catchment.cli.assets_cmd",
    "catchment.cli.materialize_cmd",
    "catchment.cli.plan_cmd",
    "catchment.cli.observe_cmd",
    "catchment.cli.runs_cmd",
    "catchment.cli.execute_cmd",
    "catchment.cli.daemon_cmd",
    "catchment.cli.control_cmd",
    "catchment.cli.graph_cmd",
    "catchment.cli.new_cmd",
    "catchment.cli.automation_cmd",
    "catchment.cli.partitions_cmd",
    "catchment.cli.queue_cmd",
    "catchment.cli.backfill_cmd",
    "catchment.cli.ui_cmd",
)

app = typer.Typer(
    name="catchment",
    help=(
        "One asset graph across dbt, dlt, Sling, Spark, Modal and Snowflake: plan, run, "
        "record and reconcile it.\n\n"
        "Start with `catchment check` in a folder with a catchment.yaml, then "
        "`catchment assets list`, `catchment plan` and `catchment materialize`."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"catchment {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """catchment command line."""


for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)


def unwrap_help(text: str) -> str:
    """Help prose with each paragraph on one line, so that Rich wraps it to the terminal once
    (Typer keeps the source's line breaks, which left ragged half-lines at 80 columns);
    indented examples and ``-`` lists keep their lines."""
    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(
        p
        if any(line.startswith((" ", "-", "\b")) for line in p.splitlines())
        else " ".join(line.strip() for line in p.splitlines())
        for p in paragraphs
    )


def _unwrap_helps(typer_app: typer.Typer) -> None:
    """Apply :func:`unwrap_help` to every command and group help under ``typer_app``."""
    for command in typer_app.registered_commands:
        text = command.help if command.help is not None else inspect.getdoc(command.callback)
        if text:
            command.help = unwrap_help(text)
    for group in typer_app.registered_groups:
        sub = group.typer_instance
        name = group.name or (sub.info.name if sub is not None else None)
        if group.help:
            group.help = group_help(group.help, name)
        if sub is not None:
            if isinstance(sub.info.help, str):
                sub.info.help = group_help(sub.info.help, name)
            _unwrap_helps(sub)


def group_help(text: str, name: object) -> str:
    """A group's help, unwrapped, ending with where each command's help is. Typer dedents
    the paragraphs after the first as one block: indented examples at the end of a group's
    help lost their indent unless an unindented line followed them."""
    return f"{unwrap_help(text)}\n\nEach command's options: `catchment {name} COMMAND --help`."


_unwrap_helps(app)


def main() -> None:
    """Run the CLI, turning catchment's own errors into one clear message."""
    try:
        from catchment.workspace.cli import refuse_unsupported

        try:
            refuse_unsupported(sys.argv[1:])
        except typer.Exit as stop:
            sys.exit(stop.exit_code)
        try:
            app()
        except SystemExit as stop:
            hint = selection_hint(sys.argv[1:]) if stop.code == 2 else None  # a usage error
            if hint is not None:
                typer.echo(hint, err=True)
            raise
    except CatchmentError as exc:
        if os.environ.get("CATCHMENT_DEBUG"):
            raise
        from catchment.secrets import redact

        typer.secho(f"error: {redact(str(exc))}", err=True, fg="red")
        sys.exit(1)


def selection_hint(argv: Sequence[str]) -> str | None:
    """For a usage error: when a bare word follows a command that selects with ``-s`` and
    takes no argument (``catchment materialize orders``), how to select it instead."""
    commands = {c.name or "": c.callback for c in app.registered_commands}
    for group in app.registered_groups:
        sub = group.typer_instance
        for command in sub.registered_commands if sub is not None else ():
            commands[f"{group.name} {command.name}"] = command.callback
    for size in (2, 1):
        path, rest = " ".join(argv[:size]), list(argv[size:])
        callback = commands.get(path)
        if callback is None or not rest or rest[0].startswith("-"):
            continue
        params = inspect.signature(callback).parameters.values()
        if "select" not in {p.name for p in params} or any(
            isinstance(p.default, typer.models.ArgumentInfo) for p in params
        ):
            return None
        words = " ".join(takewhile(lambda w: not w.startswith("-"), rest))
        return f"hint: to select assets, use -s: `catchment {path} -s '{words}'`"
    return None
