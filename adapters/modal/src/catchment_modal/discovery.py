"""Find a Modal app's functions and what Modal knows about them, without the network.

The app is named ``path/to/file.py:app`` (relative to the project) or ``package.module:app``.
Its functions are the module's ``modal.Function`` objects bound to that app (``App`` has no
supported listing API in modal 1.6: ``registered_functions`` is deprecated for removal), and
``Function.info()`` gives each one's schedule, timeout and retries from the local definition.
The code version hashes the function's own source (its decorators included), read with ``ast``.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import importlib.util
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from catchment.errors import ConfigError

from catchment_modal.decorator import AssetSpecData, spec_of


@dataclass(frozen=True)
class Schedule:
    """A Modal schedule: ``kind`` is ``cron`` or ``period``; ``text`` is Modal's own form."""

    kind: str
    text: str
    cron: str | None = None
    timezone: str | None = None
    period: str | None = None

    def as_metadata(self) -> dict[str, str]:
        """The automation hint recorded on the asset (what a scheduler needs to run it)."""
        hint = {"type": self.kind, "modal": self.text}
        if self.cron is not None:
            hint["cron"] = self.cron
            hint["timezone"] = self.timezone or "UTC"
        if self.period is not None:
            hint["period"] = self.period
        return hint


@dataclass(frozen=True)
class ModalFunction:
    """One function of the app: the Modal object, its spec and what Modal says about it."""

    name: str
    function: Any
    spec: AssetSpecData | None
    schedule: Schedule | None
    timeout: int | None
    max_retries: int | None
    file: Path | None
    line: int | None
    code_version: str | None
    docstring: str | None

    @property
    def where(self) -> str | None:
        return f"{self.file}:{self.line}" if self.file and self.line else None


@dataclass(frozen=True)
class LoadedApp:
    """The imported app, its module and its functions by name."""

    ref: str
    app: Any
    module: ModuleType
    file: Path | None
    functions: dict[str, ModalFunction]

    @property
    def name(self) -> str | None:
        """The app's Modal name (``modal.App("name")``), which a deployment is known by."""
        value = getattr(self.app, "name", None)
        return value if isinstance(value, str) and value else None


def load_app(ref: str, *, root: Path, where: str) -> LoadedApp:
    """Import the module of ``ref`` (``file.py:app`` or ``module:app``) and list the app's
    functions; ``where`` names the attribute in errors."""
    import modal

    target, sep, attr = ref.rpartition(":")
    if not sep or not target or not attr.isidentifier():
        raise ConfigError(
            f"app {ref!r} must name the module and the App variable, e.g. jobs/app.py:app",
            where=where,
            hint="write path/to/file.py:app (relative to the project) or package.module:app",
        )
    module = _import(target, root=root, where=where)
    app = getattr(module, attr, None)
    if not isinstance(app, modal.App):
        found = sorted(n for n, v in vars(module).items() if isinstance(v, modal.App))
        raise ConfigError(
            f"{target} has no modal.App named {attr!r}"
            + (f" (it has: {', '.join(found)})" if found else " (it defines no modal.App)"),
            where=where,
            hint="point app: at the variable holding modal.App(...)",
        )
    file = Path(module.__file__).resolve() if module.__file__ else None
    source = _read(file)
    defs = _top_level_defs(_parse(file, source))
    lines = source.splitlines() if source is not None else []
    functions: dict[str, ModalFunction] = {}
    seen: set[int] = set()
    for name, obj in vars(module).items():
        if not isinstance(obj, modal.Function) or id(obj) in seen or not _bound_to(obj, app):
            continue
        seen.add(id(obj))
        functions[name] = _describe(name, obj, module, file, defs.get(name), lines)
    return LoadedApp(ref=ref, app=app, module=module, file=file, functions=functions)


def _bound_to(fn: Any, app: Any) -> bool:
    try:
        return bool(fn.app is app)
    except Exception:  # a Function not yet attached to any app
        return False


def _describe(
    name: str,
    fn: Any,
    module: ModuleType,
    file: Path | None,
    node: ast.FunctionDef | ast.AsyncFunctionDef | None,
    lines: list[str],
) -> ModalFunction:
    info = fn.info()
    code_version = None
    line = None
    docstring = None
    if node is not None and file is not None:
        first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        own = "\n".join(lines[first - 1 : node.end_lineno])
        code_version = hashlib.sha256(own.encode()).hexdigest()[:16]
        line = node.lineno
        docstring = ast.get_docstring(node)
    elif lines:  # defined elsewhere (a loop, a factory): any edit of the file counts
        code_version = hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]
    return ModalFunction(
        name=name,
        function=fn,
        spec=spec_of(fn, module.__name__, name),
        schedule=parse_schedule(getattr(info, "schedule", None)),
        timeout=getattr(info, "timeout", None),
        max_retries=getattr(info, "max_retries", None),
        file=file,
        line=line,
        code_version=code_version,
        docstring=docstring,
    )


_CRON = re.compile(r"^Cron\((?P<q>['\"])(?P<cron>.*)(?P=q),\s*(?P<tz>[^)]*)\)$")
_PERIOD = re.compile(r"^Period\((?P<args>.*)\)$")


def parse_schedule(value: Any) -> Schedule | None:
    """Modal's schedule text (``Cron('0 6 * * *', UTC)``, ``Period(hours=4)``) as a Schedule."""
    if value is None or value == "":
        return None
    text = str(value)
    if m := _CRON.match(text):
        return Schedule(kind="cron", text=text, cron=m["cron"], timezone=m["tz"].strip() or "UTC")
    if m := _PERIOD.match(text):
        return Schedule(kind="period", text=text, period=m["args"])
    return Schedule(kind="other", text=text)


def _read(file: Path | None) -> str | None:
    if file is None or file.suffix != ".py":
        return None
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _parse(file: Path | None, source: str | None) -> ast.Module | None:
    if source is None:
        return None
    try:
        return ast.parse(source, filename=str(file))
    except SyntaxError:
        return None


def _top_level_defs(
    tree: ast.Module | None,
) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    """The module's top-level functions by name (the last definition wins, as in Python)."""
    if tree is None:
        return {}
    return {
        node.name: node
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }


def _import(target: str, *, root: Path, where: str) -> ModuleType:
    """Execute a ``.py`` file (its folder and the project on ``sys.path``) or import a module."""
    if target.endswith(".py") or "/" in target or "\\" in target:
        path = Path(target).expanduser()
        path = path if path.is_absolute() else (root / path).resolve()
        if not path.is_file():
            raise ConfigError(
                f"app file {target!r} does not exist",
                where=where,
                hint=f"paths are relative to the project folder {root}",
            )
        for folder in (str(root), str(path.parent)):
            if folder not in sys.path:
                sys.path.insert(0, folder)
        digest = hashlib.sha1(str(path).encode()).hexdigest()[:8]
        name = f"catchment_modal_app_{path.stem}_{digest}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:  # pragma: no cover - a .py path always has one
            raise ConfigError(f"cannot load {path}", where=where)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            sys.modules.pop(name, None)
            raise ConfigError(
                f"importing {target} failed: {type(exc).__name__}: {exc}",
                where=where,
                hint="fix the error in the app file (it is imported to find its functions)",
            ) from exc
        return module
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    try:
        return importlib.import_module(target)
    except ModuleNotFoundError as exc:
        if exc.name is not None and target.startswith(exc.name):
            raise ConfigError(
                f"module {target!r} not found",
                where=where,
                hint=f"use a dotted name importable from {root}, or a .py path",
            ) from None
        raise ConfigError(
            f"importing {target} failed: {exc}", where=where, hint="install what it imports"
        ) from exc
    except Exception as exc:
        raise ConfigError(
            f"importing {target} failed: {type(exc).__name__}: {exc}",
            where=where,
            hint="fix the error in the app module (it is imported to find its functions)",
        ) from exc
