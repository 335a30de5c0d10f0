"""`catchment new adapter NAME` and `catchment new project NAME`.

`new project` writes a small project that loads and runs at once.
`new adapter` starts a new adapter from the copier template:

The template (``adapter_template/`` in the catchment repository, packaged with the core) is
rendered with answers derived from the name; on a terminal copier asks for the rest, otherwise
defaults are used. The answers file lets the adapter take template updates (``copier update``).
"""

from __future__ import annotations

import keyword
import os
import re
import sys
from pathlib import Path
from typing import Any

import typer

from catchment.errors import CatchmentError, ConfigError

TEMPLATE_ENV = "CATCHMENT_ADAPTER_TEMPLATE"
RESERVED_NAMES = frozenset({"builtin", "python", "catchment", "core"})
_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")

new_app = typer.Typer(
    name="new",
    help=(
        "Create a project or an adapter from a template.\n\nExamples:\n\n"
        "  catchment new project analytics\n\n  catchment new adapter mytool"
    ),
    no_args_is_help=True,
)

ADAPTER_HELP = """Create a new adapter package from the adapter template (copier).

NAME is the adapter's name: its entry point, its component type (`type: NAME` in
catchment.yaml) and the kind of its assets. Lowercase letters, digits, '-' or '_', starting
with a letter; '-' becomes '_' in Python names. From NAME come the distribution
(catchment-NAME), the package (catchment_NAME) and the folder (./catchment-NAME).

The adapter you get is complete and conforming: hooks, a component type with a pydantic
attributes model, an asset factory declaring table identities, an execution writing into the
project's DuckDB warehouse, tests subclassing the conformance kit (catchment.testing), a
README, a changelog and a CI workflow. On a terminal copier asks the remaining questions
(description, author...); elsewhere defaults are used.

Needs copier: pip install 'catchment\\[template]'.

Examples:

  catchment new adapter mytool

  catchment new adapter my-tool --dir ~/src/catchment-my-tool --author 'Data Team'

  cd catchment-mytool && pip install -e '.\\[test]' && pytest

Later template versions: run `copier update` inside the adapter (the template must be served
from a git repository: pass --template gh:ORG/REPO or a local git checkout).
"""


def adapter_answers(name: str) -> dict[str, str]:
    """Validate an adapter name and derive the template answers that come from it."""
    if not _NAME.match(name) or name.endswith(("-", "_")):
        raise ConfigError(
            f"invalid adapter name {name!r}",
            where="NAME",
            hint="use lowercase letters, digits, '-' or '_', starting with a letter "
            "(e.g. mytool or my-tool)",
        )
    ident = name.replace("-", "_")
    if ident in RESERVED_NAMES or keyword.iskeyword(ident):
        raise ConfigError(
            f"adapter name {name!r} is reserved",
            where="NAME",
            hint=f"pick another name; reserved: {', '.join(sorted(RESERVED_NAMES))} and Python "
            "keywords",
        )
    return {
        "adapter_name": ident,
        "distribution_name": f"catchment-{ident.replace('_', '-')}",
        "package_name": f"catchment_{ident}",
    }


def template_source(explicit: str | None = None) -> str:
    """Where the template comes from: ``--template``, ``$CATCHMENT_ADAPTER_TEMPLATE``, the
    copy packaged with catchment, or the repository checkout catchment runs from."""
    if explicit:
        return explicit
    env = os.environ.get(TEMPLATE_ENV)
    if env:
        return env
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "_adapter_template", package.parents[2] / "adapter_template"):
        if (candidate / "copier.yml").is_file():
            return str(candidate)
    raise CatchmentError(
        "the adapter template was not found next to this catchment installation",
        where="catchment new adapter",
        hint=f"pass --template PATH-OR-GIT-URL, or set {TEMPLATE_ENV}",
    )


def _check_destination(dst: Path) -> None:
    if dst.exists() and not dst.is_dir():
        raise ConfigError("exists and is not a folder", where=str(dst), hint="pass another --dir")
    if dst.is_dir() and any(dst.iterdir()):
        raise ConfigError(
            "folder exists and is not empty",
            where=str(dst),
            hint="pass --dir with a new or empty folder, or remove this one",
        )


def render_adapter(
    name: str,
    dst: Path,
    *,
    data: dict[str, Any] | None = None,
    template: str | None = None,
    vcs_ref: str | None = None,
    interactive: bool = False,
) -> Path:
    """Render the adapter template for ``name`` into ``dst`` (must be new or empty) and
    return ``dst``. ``data`` adds or overrides answers; ``interactive`` lets copier ask."""
    answers = {**adapter_answers(name), **(data or {})}
    dst = dst.expanduser().resolve()
    _check_destination(dst)
    src = template_source(template)
    try:
        from copier import run_copy
    except ImportError:
        raise CatchmentError(
            "copier is not installed",
            where="catchment new adapter",
            hint="pip install 'catchment[template]'",
        ) from None
    from copier.errors import CopierError

    try:
        run_copy(
            src,
            dst,
            data=answers,
            vcs_ref=vcs_ref,
            defaults=not interactive,
            quiet=not interactive,
            unsafe=False,
        )
    except CopierError as exc:
        raise CatchmentError(
            f"the template could not be rendered: {exc}",
            where=f"template {src}",
            hint="check the answers (catchment new adapter --help) or the --template source",
        ) from exc
    except ValueError as exc:  # copier's validators: a wrong answer
        raise ConfigError(str(exc).strip(), where="template answers") from exc
    return dst


def new_adapter(
    name: str = typer.Argument(..., help="Adapter name, e.g. mytool or my-tool."),
    directory: Path | None = typer.Option(
        None, "--dir", "-d", help="Where to create it (default: ./catchment-NAME); new or empty."
    ),
    tool: str | None = typer.Option(None, "--tool", help="The tool's own name, e.g. MyTool."),
    description: str | None = typer.Option(None, "--description", help="One-line description."),
    author: str | None = typer.Option(None, "--author", help="Author or team name."),
    email: str | None = typer.Option(None, "--email", help="Author e-mail."),
    core_api: str | None = typer.Option(
        None, "--core-api", help="Supported core API range (default '>=1.0,<2')."
    ),
    template: str | None = typer.Option(
        None, "--template", help=f"Template path or git URL (default: bundled; ${TEMPLATE_ENV})."
    ),
    vcs_ref: str | None = typer.Option(None, "--vcs-ref", help="Template git tag or commit."),
) -> None:
    answers = adapter_answers(name)
    dst = directory or Path.cwd() / answers["distribution_name"]
    given = {
        "tool_name": tool,
        "description": description,
        "author_name": author,
        "author_email": email,
        "core_api": core_api,
    }
    data = {k: v for k, v in given.items() if v is not None}
    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    out = render_adapter(
        name, dst, data=data, template=template, vcs_ref=vcs_ref, interactive=interactive
    )
    dist = answers["distribution_name"]
    typer.secho(f"created {dist} in {out}", fg="green")
    typer.echo(
        "next:\n"
        f"  cd {out}\n"
        "  python -m pip install -e '.[test]'\n"
        "  python -m pytest                  # the conformance kit runs here\n"
        f"  catchment plugins                 # lists {answers['adapter_name']} as ok"
    )


PROJECT_HELP = """Create a new project: a catchment.yaml with one python component and an
assets module with two assets and a check, ready for `catchment materialize`.

The example assets are pandas DataFrames stored in DuckDB: install the extra that brings pandas
with `pip install 'catchment[pandas]'` (this command says so when pandas is missing).

Examples:

  catchment new project analytics

  catchment new project analytics --dir ~/src/analytics && cd ~/src/analytics && catchment check
"""


def _enclosing_project(folder: Path) -> Path | None:
    """The nearest folder above ``folder`` holding a project file, if any: a new project made
    inside another is easily mistaken for a part of it."""
    for parent in folder.resolve().parents:
        if (parent / "catchment.yaml").is_file() or (parent / "catchment.yml").is_file():
            return parent
    return None


def new_project(
    name: str = typer.Argument(..., help="Project name, e.g. analytics."),
    directory: Path | None = typer.Option(
        None, "--dir", "-d", help="Where to create it (default: ./NAME); new or empty."
    ),
) -> None:
    from catchment.project.scaffold import create_project

    if not _NAME.match(name):
        raise ConfigError(
            f"invalid project name {name!r}",
            where="NAME",
            hint="use lowercase letters, digits, '-' or '_', starting with a letter",
        )
    out = create_project(name, directory or Path.cwd() / name)
    typer.secho(f"created project {name} in {out}", fg="green")
    outer = _enclosing_project(out)
    if outer is not None:
        typer.secho(
            f"note: {out} is inside the project at {outer}: it is a separate project, which "
            f"that project's catchment.yaml does not include; run its commands from {out}, "
            "or list both in a workspace (docs/guides/platform-teams.md)",
            fg="yellow",
        )
    import importlib.util

    if importlib.util.find_spec("pandas") is None or importlib.util.find_spec("pyarrow") is None:
        typer.secho(
            "note: the example assets use pandas, which is not installed here: "
            "pip install 'catchment[pandas]'",
            fg="yellow",
        )
    typer.echo(f"next:\n  cd {out}\n  catchment check\n  catchment materialize\n  catchment plan")


def register(app: typer.Typer) -> None:
    """Add ``catchment new project`` and ``catchment new adapter``."""
    new_app.command("project", help=PROJECT_HELP)(new_project)
    new_app.command("adapter", help=ADAPTER_HELP)(new_adapter)
    app.add_typer(new_app, name="new")
