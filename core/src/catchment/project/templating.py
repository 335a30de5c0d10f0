"""``{{ ... }}`` in project-file strings, rendered in a Jinja sandbox (never Python eval).

Available (and nothing else: no ``range``, ``lipsum``, ``dict``...): ``env("NAME", default)``
(an environment variable; missing without a default is an error naming it),
``project_root``, ``today()`` / ``now()`` (ISO strings, optional strftime format),
``yesterday()``, and ``automation_condition.<operand>(...)`` (renders the condition's
expression, e.g. ``{{ automation_condition.on_cron('0 3 * * *') }}``). An undefined name is an
error naming the file, line and field. Repetitions, powers and format widths that would build
huge values are refused, and filters that pad to a given width are not available.
Rendered values are never put into error messages (they may be secrets).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from catchment.errors import CatchmentError, ConfigError
from catchment.project.yamlfile import Located, field_path

_MISSING = object()
MAX_RESULT = 100_000  # characters or items a single repetition may produce
_WIDE = re.compile(r"%[-+ #0]*\d{6,}")  # '%0999999999d': a width that allocates gigabytes
_SIZED_FILTERS = ("center", "indent", "wordwrap", "format", "batch", "slice", "filesizeformat")


def _too_long(left: Any, right: Any) -> bool:
    """True when ``left * right`` repeats a string or list past ``MAX_RESULT``."""
    for seq, n in ((left, right), (right, left)):
        if isinstance(seq, str | list | tuple) and isinstance(n, int):
            return len(seq) * n > MAX_RESULT
    return False


class _EnvMissing(Exception):
    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


def _env(name: str, default: Any = _MISSING) -> Any:
    if not isinstance(name, str):
        raise TypeError("env() takes the variable name as a string")
    value = os.environ.get(name)
    if value is None:
        if default is _MISSING:
            raise _EnvMissing(name)
        return default
    return value


def _fmt(moment: dt.date, fmt: str | None) -> str:
    return moment.strftime(fmt) if fmt else moment.isoformat()


def _globals(root: Path) -> dict[str, Any]:
    from catchment.automation.expression import TemplateHelpers

    return {
        "automation_condition": TemplateHelpers(),
        "env": _env,
        "project_root": str(root),
        "today": lambda fmt=None: _fmt(dt.date.today(), fmt),
        "yesterday": lambda fmt=None: _fmt(dt.date.today() - dt.timedelta(days=1), fmt),
        "now": lambda fmt=None: _fmt(dt.datetime.now(dt.UTC), fmt),
    }


class Renderer:
    """Renders template strings of one project file, turning every failure into a
    ``ConfigError`` that names ``file:line`` and the field."""

    def __init__(self, located: Located, root: Path):
        self._located = located
        self._root = root
        self._env: Any = None

    def _environment(self) -> Any:
        if self._env is None:
            from jinja2 import StrictUndefined
            from jinja2.sandbox import ImmutableSandboxedEnvironment

            class _Sandbox(ImmutableSandboxedEnvironment):
                """Also refuses huge powers, repetitions and format widths, so a template
                cannot hang the loader or fill its memory."""

                intercepted_binops = frozenset({"**", "*", "%"})

                def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
                    from jinja2.exceptions import SecurityError

                    if operator == "**" and isinstance(right, int) and abs(right) > 64:
                        raise SecurityError("exponent too large")
                    if operator == "*" and _too_long(left, right):
                        raise SecurityError("repetition too long")
                    if operator == "%" and isinstance(left, str) and _WIDE.search(left):
                        raise SecurityError("format width too large")
                    return super().call_binop(context, operator, left, right)

            env = _Sandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
            env.globals.clear()  # no range, lipsum, dict, cycler...: only what the docs list
            env.globals.update(_globals(self._root))
            for name in _SIZED_FILTERS:
                env.filters.pop(name, None)
            self._env = env
        return self._env

    def render(self, value: Any, path: Sequence[str | int]) -> Any:
        """A copy of ``value`` with every templated string rendered."""
        if isinstance(value, str):
            return self._render_str(value, path) if "{{" in value or "{%" in value else value
        if isinstance(value, dict):
            return {k: self.render(v, (*path, str(k))) for k, v in value.items()}
        if isinstance(value, list):
            return [self.render(v, (*path, i)) for i, v in enumerate(value)]
        return value

    def _render_str(self, text: str, path: Sequence[str | int]) -> str:
        import jinja2
        from jinja2.exceptions import SecurityError

        where = self._located.where(path)
        fld = field_path(path)

        def fail(message: str, hint: str) -> ConfigError:
            return ConfigError(f"field {fld}: {message}", where=where, hint=hint)

        try:
            result: str = self._environment().from_string(text).render()
        except _EnvMissing as exc:
            raise fail(
                f"environment variable {exc.name} is not set",
                f'export {exc.name}=... or give a default: env("{exc.name}", "value")',
            ) from None
        except jinja2.UndefinedError as exc:
            raise fail(
                f"template: {exc.message}",
                "available: env(NAME, default), project_root, today(), yesterday(), now(), "
                "automation_condition.eager() and the other operands",
            ) from None
        except jinja2.TemplateSyntaxError as exc:
            raise fail(
                f"template syntax error: {exc.message}", "fix the {{ ... }} expression"
            ) from None
        except CatchmentError as exc:  # a helper refused its arguments (a bad cron string)
            raise fail(exc.message, exc.hint or "check the {{ ... }} expression") from None
        except SecurityError:
            raise fail(
                "template uses something the sandbox forbids", "templates may only call the helpers"
            ) from None
        except Exception as exc:
            raise fail(
                f"template failed: {type(exc).__name__}", "check the {{ ... }} expression"
            ) from None
        return result


def render_with(located: Located, root: Path) -> Callable[[Any, Sequence[str | int]], Any]:
    """A ``render(value, path)`` function for one project file."""
    return Renderer(located, root).render
