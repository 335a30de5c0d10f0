"""Reading conditions from text: ``eager() & ~check_failed('not_null')`` becomes the tree.

The text is parsed with Python's own grammar and then only a few node kinds are accepted
(calls of the known operands, ``&``, ``|``, ``~``, ``.since(...)``, ``.newly_true()``, string
and number literals): nothing is ever evaluated, so project files cannot run code through it.
``automation_condition.eager()`` (the template helpers' spelling) reads the same as
``eager()``, so a rendered ``{{ automation_condition.on_cron('0 3 * * *') }}`` reads back.
"""

from __future__ import annotations

import ast
from typing import Any

from catchment.automation.conditions import OPERANDS, AutomationCondition, caller
from catchment.errors import CatchmentError, ConfigError

__all__ = ["TemplateHelpers", "as_condition", "parse_condition"]

_NAMESPACE = "automation_condition"
_METHODS = ("since", "newly_true")
_KNOWN = ", ".join(f"{n}()" for n in sorted(OPERANDS))
_HINT = f"operands: {_KNOWN}; combine with &, |, ~, .since(...), .newly_true()"


def parse_condition(text: str, where: str | None = None) -> AutomationCondition:
    """The condition ``text`` writes, or a ``ConfigError`` naming ``where`` (file:line) and
    what is wrong (an unknown operand, a bad cron string, a syntax error)."""
    if not isinstance(text, str) or not text.strip():
        raise ConfigError("an automation condition must be a non-empty expression", where=where)
    source = " ".join(text.split())
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        raise ConfigError(
            f"automation condition {source!r} does not parse: {exc.msg} at column {exc.offset}",
            where=where,
            hint=_HINT,
        ) from None
    return _Reader(source, where).node(tree.body)


def as_condition(value: object, where: str | None = None) -> AutomationCondition | None:
    """``value`` as a condition: a condition itself, an expression string, or None."""
    if value is None or isinstance(value, AutomationCondition):
        return value
    if isinstance(value, str):
        return parse_condition(value, where or caller())
    raise ConfigError(
        f"an automation condition must be a condition or an expression string, "
        f"not a {type(value).__name__}",
        where=where or caller(),
        hint='e.g. automation=eager(), or in YAML "{{ automation_condition.eager() }}"',
    )


class _Reader:
    def __init__(self, source: str, where: str | None):
        self.source = source
        self.where = where

    def fail(self, node: ast.AST, message: str, hint: str = _HINT) -> ConfigError:
        column = getattr(node, "col_offset", 0) + 1
        return ConfigError(
            f"automation condition {self.source!r}, column {column}: {message}",
            where=self.where,
            hint=hint,
        )

    def node(self, node: ast.expr) -> AutomationCondition:
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitAnd | ast.BitOr):
            left, right = self.node(node.left), self.node(node.right)
            return left & right if isinstance(node.op, ast.BitAnd) else left | right
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Invert | ast.Not):
            return ~self.node(node.operand)
        if isinstance(node, ast.BoolOp):
            word = "and" if isinstance(node.op, ast.And) else "or"
            symbol = "&" if word == "and" else "|"
            raise self.fail(node, f"use {symbol} instead of {word!r}")
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Name | ast.Attribute):
            name = node.id if isinstance(node, ast.Name) else node.attr
            raise self.fail(node, f"{name} is not called", hint=f"write {name}()")
        raise self.fail(node, f"{type(node).__name__.lower()} is not allowed here")

    def call(self, node: ast.Call) -> AutomationCondition:
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr in _METHODS
            and not (isinstance(func.value, ast.Name) and func.value.id == _NAMESPACE)
        ):
            target = self.node(func.value)
            args = [self.node(a) for a in node.args]
            if node.keywords or len(args) != (1 if func.attr == "since" else 0):
                wanted = "one condition" if func.attr == "since" else "no arguments"
                raise self.fail(node, f".{func.attr}() takes {wanted}")
            return target.since(args[0]) if func.attr == "since" else target.newly_true()
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            if func.value.id != _NAMESPACE:
                raise self.fail(func, f"unknown name {func.value.id!r}")
            name = func.attr
        elif isinstance(func, ast.Name):
            name = func.id
        else:
            raise self.fail(func, "only the operands can be called")
        builder = OPERANDS.get(name)
        if builder is None:
            raise self.fail(func, f"unknown operand {name}()")
        args = [self.argument(a) for a in node.args]
        kwargs = {k.arg: self.argument(k.value) for k in node.keywords if k.arg is not None}
        if len(kwargs) != len(node.keywords):
            raise self.fail(node, "**arguments are not allowed")
        try:
            return builder(*args, **kwargs)
        except CatchmentError as exc:
            raise self.fail(node, exc.message, exc.hint or _HINT) from None
        except TypeError as exc:
            raise self.fail(node, f"{name}(): {exc}", f"see `{name}` in the docs") from None

    def argument(self, node: ast.expr) -> Any:
        if isinstance(node, ast.Constant) and isinstance(node.value, str | int | float):
            return node.value
        if isinstance(node, ast.Constant) and node.value is None:
            return None
        return self.node(node)


class TemplateHelpers:
    """``automation_condition`` in ``{{ ... }}`` templates: each operand as a method, so
    ``{{ automation_condition.on_cron('0 3 * * *') }}`` renders the condition's expression."""

    def __getattr__(self, name: str) -> Any:
        builder = OPERANDS.get(name)
        if builder is None:
            raise AttributeError(f"automation_condition has no {name}()")
        return builder

    def __dir__(self) -> list[str]:
        return sorted(OPERANDS)
