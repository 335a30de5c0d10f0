"""`catchment partitions add|list|remove`: the keys of dynamic partition sets.

The keys live in the record store, so the daemon, runs and the UI see a key as soon as it is
added; the set must be one the project's assets use (``DynamicPartitions("customers")``).
On a workspace the sets are those of every project's assets and the keys live in the shared
store: projects naming the same set share its keys (``workspace.cli.dynamic_store``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from catchment.cli.common import PROJECT_OPTION_HELP, project_store

if TYPE_CHECKING:
    from catchment.graph import AssetGraph
    from catchment.storage import Storage

partitions_app = typer.Typer(
    name="partitions",
    help="Manage the keys of dynamic partition sets.\n\nExamples:\n\n"
    "  catchment partitions add customers acme globex\n\n  catchment partitions list --json",
    no_args_is_help=True,
)

ADD_HELP = """Add keys to a dynamic partition set (keys already there are left alone).

Automation sees the new partitions at its next evaluation; `catchment materialize
--partition KEY` accepts them at once.

Examples:

  catchment partitions add customers acme globex
"""

LIST_HELP = """List the dynamic partition sets of the project and their keys, in the order
they were added (on a workspace: the sets of every project, each with the projects using
it, keys from the shared store; --json then prints {set: {"keys": [...], "projects":
[...]}}).

Examples:

  catchment partitions list

  catchment partitions list customers --json
"""

REMOVE_HELP = """Remove keys from a dynamic partition set (their records stay).

Examples:

  catchment partitions remove customers acme
"""


class _Sets:
    """The dynamic sets a command may act on: their ``names``, ``where`` they come from, and
    on a workspace the projects using each (``users``, None on a project)."""

    def __init__(
        self, names: list[str], where: str, users: dict[str, list[str]] | None = None
    ) -> None:
        self.names = names
        self.where = where
        self.users = users

    def label(self, set_name: str) -> str:
        """How messages name the set: on a workspace with the projects using it."""
        if self.users is None:
            return set_name
        return f"{set_name} (used by {', '.join(self.users.get(set_name, []))})"

    def require(self, set_name: str) -> None:
        """A clear error unless ``set_name`` is one of the sets, naming them."""
        from catchment.errors import CatchmentError

        if set_name not in self.names:
            known = ", ".join(self.label(n) for n in self.names) or "none"
            raise CatchmentError(
                f"no dynamic partition set named {set_name!r} in the {self.where}",
                hint=f"the {self.where}'s dynamic sets: {known}",
            )


@contextmanager
def _sets(project_path: Path | None) -> Iterator[tuple[AssetGraph, Storage, _Sets]]:
    """The project's graph (dynamic sets bound), store and sets; on a workspace the merged
    graph's, the shared store, and the sets of all its projects."""
    from catchment.dynamic import dynamic_sets
    from catchment.workspace import find_workspace

    workspace = find_workspace(project_path)
    if workspace is None:
        with project_store(project_path) as (_, graph, storage):
            yield graph, storage, _Sets(sorted(dynamic_sets(graph)), "project")
        return
    from catchment.workspace.cli import dynamic_store

    with dynamic_store(workspace) as (graph, storage, users):
        yield graph, storage, _Sets(list(users), "workspace", users)


@partitions_app.command("add", help=ADD_HELP)
def add(
    set_name: str = typer.Argument(..., metavar="SET", help="The dynamic partition set."),
    keys: list[str] = typer.Argument(..., metavar="KEY...", help="Keys to add."),
    project_path: Path | None = typer.Option(None, "--project", "-p", help=PROJECT_OPTION_HELP),
) -> None:
    from catchment.dynamic import add_dynamic_partitions

    with _sets(project_path) as (graph, storage, sets):
        sets.require(set_name)
        added = add_dynamic_partitions(storage, set_name, keys, graph)
    there = [k for k in dict.fromkeys(keys) if k not in added]
    if added:
        typer.echo(f"added to {set_name}: {', '.join(added)}")
    if there:
        typer.echo(f"already in {set_name}: {', '.join(there)}")


@partitions_app.command("list", help=LIST_HELP)
def list_sets(
    set_name: str | None = typer.Argument(None, metavar="[SET]", help="Only this set."),
    as_json: bool = typer.Option(
        False,
        "--json",
        help='Print {set: [keys]} as JSON (on a workspace {set: {"keys", "projects"}}).',
    ),
    project_path: Path | None = typer.Option(None, "--project", "-p", help=PROJECT_OPTION_HELP),
) -> None:
    with _sets(project_path) as (_, storage, sets):
        names = list(sets.names)
        if set_name is not None:
            sets.require(set_name)
            names = [set_name]
        keys = storage.dynamic_partitions(names)
    users = sets.users
    if as_json:
        if users is None:
            document: dict[str, object] = {n: keys.get(n, []) for n in names}
        else:
            document = {n: {"keys": keys.get(n, []), "projects": users[n]} for n in names}
        typer.echo(json.dumps(document, indent=2))
        return
    if not names:
        typer.echo(f"the {sets.where} has no dynamic partition sets")
    for name in names:
        found = keys.get(name, [])
        count = f"{len(found)} key{'s' if len(found) != 1 else ''}"
        used = f", used by {', '.join(users[name])}" if users is not None else ""
        typer.echo(f"{name} ({count}{used})")
        for k in found:
            typer.echo(f"  {k}")


@partitions_app.command("remove", help=REMOVE_HELP)
def remove(
    set_name: str = typer.Argument(..., metavar="SET", help="The dynamic partition set."),
    keys: list[str] = typer.Argument(..., metavar="KEY...", help="Keys to remove."),
    project_path: Path | None = typer.Option(None, "--project", "-p", help=PROJECT_OPTION_HELP),
) -> None:
    with _sets(project_path) as (_, storage, sets):
        if not storage.dynamic_partitions([set_name]).get(set_name):
            sets.require(set_name)  # a set no longer used may still have keys to remove
        removed = storage.delete_dynamic_partitions(set_name, keys)
    typer.echo(f"removed {removed} key{'s' if removed != 1 else ''} from {set_name}")


def register(app: typer.Typer) -> None:
    """Add ``catchment partitions``."""
    app.add_typer(partitions_app, name="partitions")
