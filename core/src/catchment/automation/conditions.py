"""Automation conditions: when an asset (partition) should be materialized, as an expression.

A condition is an immutable tree of operands (``missing()``, ``cron_tick_passed(...)``, ...)
combined with ``&``, ``|``, ``~``, ``.since(...)`` and ``.newly_true()``. Trees are msgspec
tagged structs, so definitions snapshots and tick records carry them as JSON, and each prints
as the expression that builds it (``str(c)``), which :func:`parse_condition` reads back.

The prebuilt conditions (``eager()``, ``on_cron(...)``, ``on_missing()``) are named trees:
they print by name and explain as the tree they stand for.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias, Union

import msgspec

from catchment.errors import ConfigError

__all__ = [
    "OPERANDS",
    "AnyCondition",
    "AutomationCondition",
    "all_of",
    "any_of",
    "check_failed",
    "code_changed",
    "cron_tick_passed",
    "eager",
    "failed",
    "in_progress",
    "missing",
    "newly_requested",
    "newly_updated",
    "node_value",
    "not_",
    "on_cron",
    "on_missing",
    "source_changed",
    "stale",
    "upstream_in_progress",
    "upstream_missing",
    "upstream_newly_updated",
    "upstream_updated",
    "upstream_will_be_requested",
]

# Printing precedence: | binds loosest, then &, then ~, then calls and postfix methods.
_OR, _AND, _NOT, _ATOM = 1, 2, 3, 4


class AutomationCondition(msgspec.Struct, frozen=True, tag_field="op", omit_defaults=True):
    """Base of every condition node: combinators, printing and the walk over the tree."""

    name: ClassVar[str] = ""
    """The operand's name as written in expressions (``missing``); empty for combinators."""
    summary: ClassVar[str] = ""
    """What the node is true for, in one line (``catchment automation explain`` shows it)."""

    # -- combinators --------------------------------------------------------------------------
    def __and__(self, other: AutomationCondition) -> And:
        return And(children_=(*_flat(self, And), *_flat(_checked(other, "&"), And)))

    def __or__(self, other: AutomationCondition) -> Or:
        return Or(children_=(*_flat(self, Or), *_flat(_checked(other, "|"), Or)))

    def __invert__(self) -> Not:
        return Not(child=self)

    def since(self, reset: AutomationCondition) -> Since:
        """True from an evaluation where this is true until one where ``reset`` is true
        (``reset`` wins when both are true at once)."""
        return Since(trigger=self, reset=_checked(reset, ".since()"))

    def newly_true(self) -> NewlyTrue:
        """True where this is true now and was not at the previous evaluation."""
        return NewlyTrue(child=self)

    # -- the tree -----------------------------------------------------------------------------
    @property
    def children(self) -> tuple[AutomationCondition, ...]:
        """The nodes under this one, in printing order."""
        return ()

    def walk(self, path: str = "0") -> Iterator[tuple[str, AutomationCondition]]:
        """``(path, node)`` for this node and every node under it, depth first; a path
        (``0.1.0``) names a node within its tree, stably while the tree is unchanged."""
        yield path, self
        for i, child in enumerate(self.children):
            yield from child.walk(f"{path}.{i}")

    @property
    def stateful(self) -> bool:
        """Whether evaluating this tree needs memory of the previous evaluation."""
        return any(isinstance(node, _STATEFUL) for _, node in self.walk())

    # -- printing -----------------------------------------------------------------------------
    def _arguments(self) -> str:
        return ""

    def _text(self) -> tuple[str, int]:
        return f"{self.name}({self._arguments()})", _ATOM

    def label(self) -> str:
        """This node alone, for a tree view: the operand call, or the combinator's symbol."""
        return self._text()[0]

    def __str__(self) -> str:
        return self._text()[0]


def _checked(value: object, operator: str) -> AutomationCondition:
    if not isinstance(value, AutomationCondition):
        raise TypeError(f"{operator} combines automation conditions, not a {type(value).__name__}")
    return value


def _flat(node: AutomationCondition, kind: type[And] | type[Or]) -> tuple[AutomationCondition, ...]:
    return node.children if isinstance(node, kind) else (node,)


def _quote(value: str) -> str:
    return repr(value)


def _wrapped(node: AutomationCondition, at_least: int) -> str:
    text, precedence = node._text()
    return f"({text})" if precedence < at_least else text


# -- operands ---------------------------------------------------------------------------------
class Missing(AutomationCondition, frozen=True, tag="missing"):
    """The asset (partition) has never been materialized."""

    name: ClassVar[str] = "missing"
    summary: ClassVar[str] = "never materialized"


class Stale(AutomationCondition, frozen=True, tag="stale"):
    """What ``catchment plan`` calls stale: code changed, an upstream is newer, missing or
    stale, or a watched source changed."""

    name: ClassVar[str] = "stale"
    summary: ClassVar[str] = "stale as `catchment plan` says (code changed, upstream newer...)"


class CodeChanged(AutomationCondition, frozen=True, tag="code_changed"):
    """The code version differs from the one the latest materialization recorded."""

    name: ClassVar[str] = "code_changed"
    summary: ClassVar[str] = "code version differs from the latest materialization's"


class SourceChanged(AutomationCondition, frozen=True, tag="source_changed"):
    """An observed external source this asset reads holds other data than when the asset
    was last materialized (from the observations ``catchment observe`` / ``plan`` record)."""

    name: ClassVar[str] = "source_changed"
    summary: ClassVar[str] = "an observed external source changed since the latest materialization"


class CronTickPassed(AutomationCondition, frozen=True, tag="cron_tick_passed"):
    """A tick of ``cron`` (in ``timezone``) fell between the previous evaluation and this one."""

    cron: str
    timezone: str = "UTC"
    name: ClassVar[str] = "cron_tick_passed"
    summary: ClassVar[str] = "a cron tick passed since the previous evaluation"

    def __post_init__(self) -> None:
        """A bad cron string or timezone fails here, where the condition is written."""
        from catchment.cron import CronSchedule

        try:
            CronSchedule(self.cron, self.timezone)
        except ConfigError as exc:
            raise ConfigError(exc.message, where=exc.where or caller(), hint=exc.hint) from None

    def _arguments(self) -> str:
        tz = "" if self.timezone == "UTC" else f", timezone={_quote(self.timezone)}"
        return f"{_quote(self.cron)}{tz}"


class UpstreamUpdated(AutomationCondition, frozen=True, tag="upstream_updated"):
    """An upstream (partition) holds data newer than this one's latest materialization read."""

    name: ClassVar[str] = "upstream_updated"
    summary: ClassVar[str] = "an upstream has newer data than the latest materialization read"


class UpstreamNewlyUpdated(AutomationCondition, frozen=True, tag="upstream_newly_updated"):
    """An upstream was materialized since the previous evaluation, with data this asset has
    not read (a re-materialization that kept its data version does not count, nor one by a
    run that also targeted this asset partition: that run was its chance to read the data,
    so a failure there is not retried)."""

    name: ClassVar[str] = "upstream_newly_updated"
    summary: ClassVar[str] = "an upstream got new data since the previous evaluation"


class UpstreamWillBeRequested(AutomationCondition, frozen=True, tag="upstream_will_be_requested"):
    """An upstream (partition) it reads is requested by this same evaluation, for the same
    partition (or both unpartitioned), so the two share one run. Upstream assets are
    evaluated first, so an eager chain is requested whole when its top gets new data."""

    name: ClassVar[str] = "upstream_will_be_requested"
    summary: ClassVar[str] = "an upstream is requested by this evaluation, into the same run"


class NewlyUpdated(AutomationCondition, frozen=True, tag="newly_updated"):
    """This asset (partition) was materialized since the previous evaluation."""

    name: ClassVar[str] = "newly_updated"
    summary: ClassVar[str] = "materialized since the previous evaluation"


class NewlyRequested(AutomationCondition, frozen=True, tag="newly_requested"):
    """The previous evaluation requested a run of this asset (partition)."""

    name: ClassVar[str] = "newly_requested"
    summary: ClassVar[str] = "requested by the previous evaluation"


class InProgress(AutomationCondition, frozen=True, tag="in_progress"):
    """A queued or running run targets this asset (partition)."""

    name: ClassVar[str] = "in_progress"
    summary: ClassVar[str] = "a queued or running run targets it"


class Failed(AutomationCondition, frozen=True, tag="failed"):
    """The latest run that tried to materialize it failed (no materialization since)."""

    name: ClassVar[str] = "failed"
    summary: ClassVar[str] = "the latest attempt to materialize it failed"


class CheckFailed(AutomationCondition, frozen=True, tag="check_failed"):
    """The latest evaluation of a check on the asset (``check``: one by name, or any) failed."""

    check: str | None = None
    name: ClassVar[str] = "check_failed"
    summary: ClassVar[str] = "the latest evaluation of a check failed"

    def _arguments(self) -> str:
        return "" if self.check is None else _quote(self.check)


class UpstreamMissing(AutomationCondition, frozen=True, tag="upstream_missing"):
    """An upstream (partition) it reads has never been materialized (and is not requested by
    this same evaluation into the same run: for the same partition, or both unpartitioned)."""

    name: ClassVar[str] = "upstream_missing"
    summary: ClassVar[str] = "an upstream it reads was never materialized"


class UpstreamInProgress(AutomationCondition, frozen=True, tag="upstream_in_progress"):
    """A queued or running run targets an upstream (partition) it reads."""

    name: ClassVar[str] = "upstream_in_progress"
    summary: ClassVar[str] = "a queued or running run targets an upstream"


# -- combinators ------------------------------------------------------------------------------
class And(AutomationCondition, frozen=True, tag="and"):
    """True where every child is true."""

    children_: tuple[AnyCondition, ...] = msgspec.field(name="children", default=())
    summary: ClassVar[str] = "all of"

    @property
    def children(self) -> tuple[AutomationCondition, ...]:
        return self.children_

    def _text(self) -> tuple[str, int]:
        return " & ".join(_wrapped(c, _AND + 1) for c in self.children_), _AND

    def label(self) -> str:
        return "all of (&)"


class Or(AutomationCondition, frozen=True, tag="or"):
    """True where any child is true."""

    children_: tuple[AnyCondition, ...] = msgspec.field(name="children", default=())
    summary: ClassVar[str] = "any of"

    @property
    def children(self) -> tuple[AutomationCondition, ...]:
        return self.children_

    def _text(self) -> tuple[str, int]:
        return " | ".join(_wrapped(c, _OR + 1) for c in self.children_), _OR

    def label(self) -> str:
        return "any of (|)"


class Not(AutomationCondition, frozen=True, tag="not"):
    """True where the child is false."""

    child: AnyCondition
    summary: ClassVar[str] = "not"

    @property
    def children(self) -> tuple[AutomationCondition, ...]:
        return (self.child,)

    def _text(self) -> tuple[str, int]:
        return f"~{_wrapped(self.child, _NOT)}", _NOT

    def label(self) -> str:
        return "not (~)"


class Since(AutomationCondition, frozen=True, tag="since"):
    """True from the evaluation where ``trigger`` is true until one where ``reset`` is."""

    trigger: AnyCondition
    reset: AnyCondition
    summary: ClassVar[str] = "trigger true since reset was last true"

    @property
    def children(self) -> tuple[AutomationCondition, ...]:
        return (self.trigger, self.reset)

    def _text(self) -> tuple[str, int]:
        return f"{_wrapped(self.trigger, _ATOM)}.since({self.reset})", _ATOM

    def label(self) -> str:
        return ".since(reset)"


class NewlyTrue(AutomationCondition, frozen=True, tag="newly_true"):
    """True where the child is true and was false at the previous evaluation."""

    child: AnyCondition
    summary: ClassVar[str] = "true now, false at the previous evaluation"

    @property
    def children(self) -> tuple[AutomationCondition, ...]:
        return (self.child,)

    def _text(self) -> tuple[str, int]:
        return f"{_wrapped(self.child, _ATOM)}.newly_true()", _ATOM

    def label(self) -> str:
        return ".newly_true()"


class Prebuilt(AutomationCondition, frozen=True, tag="prebuilt"):
    """A named condition (``eager()``): prints by name, evaluates as ``condition``."""

    prebuilt: str
    condition: AnyCondition
    args: tuple[str, ...] = ()
    kwargs: tuple[tuple[str, str], ...] = ()

    @property
    def children(self) -> tuple[AutomationCondition, ...]:
        return (self.condition,)

    def _text(self) -> tuple[str, int]:
        parts = [_quote(a) for a in self.args]
        parts.extend(f"{k}={_quote(v)}" for k, v in self.kwargs)
        return f"{self.prebuilt}({', '.join(parts)})", _ATOM


if TYPE_CHECKING:
    AnyCondition: TypeAlias = AutomationCondition
else:
    AnyCondition = Union[  # noqa: UP007 - msgspec resolves this alias by name
        Missing,
        Stale,
        CodeChanged,
        SourceChanged,
        CronTickPassed,
        UpstreamUpdated,
        UpstreamNewlyUpdated,
        UpstreamWillBeRequested,
        NewlyUpdated,
        NewlyRequested,
        InProgress,
        Failed,
        CheckFailed,
        UpstreamMissing,
        UpstreamInProgress,
        And,
        Or,
        Not,
        Since,
        NewlyTrue,
        Prebuilt,
    ]
"""Every concrete condition node: the type msgspec decodes a condition field as."""

_STATEFUL = (Since, NewlyTrue, NewlyUpdated, NewlyRequested, UpstreamNewlyUpdated, CronTickPassed)


def node_value(node: AutomationCondition, path: str, recorded: Callable[[str], bool]) -> bool:
    """The value of ``node`` (at ``path`` in its tree) for one subject, given ``recorded``:
    whether a leaf, ``.since()`` or ``.newly_true()`` node was true for it (evaluations record
    only those; ``&``, ``|``, ``~`` and prebuilt names follow from them)."""
    if isinstance(node, Prebuilt):
        return node_value(node.condition, f"{path}.0", recorded)
    if isinstance(node, And):
        return all(node_value(c, f"{path}.{i}", recorded) for i, c in enumerate(node.children))
    if isinstance(node, Or):
        return any(node_value(c, f"{path}.{i}", recorded) for i, c in enumerate(node.children))
    if isinstance(node, Not):
        return not node_value(node.child, f"{path}.0", recorded)
    return recorded(path)


def caller() -> str | None:
    """``file:line`` of the first frame outside catchment and msgspec: where the user wrote
    the condition (a decorator's or ``spec()``'s call)."""
    frame: Any = sys._getframe(1)
    while frame is not None:
        name = frame.f_globals.get("__name__", "")
        if name != "catchment" and not name.startswith(("catchment.", "msgspec")):
            return f"{frame.f_code.co_filename}:{frame.f_lineno}"
        frame = frame.f_back
    return None


# -- builders: what Python code, expressions and YAML templates call ------------------------
def missing() -> Missing:
    """Never materialized."""
    return Missing()


def stale() -> Stale:
    """Stale as ``catchment plan`` says: code changed, upstream newer/missing/stale, source
    changed."""
    return Stale()


def code_changed() -> CodeChanged:
    """The code version differs from the latest materialization's."""
    return CodeChanged()


def source_changed() -> SourceChanged:
    """True where an observed external source the asset reads changed since it was built."""
    return SourceChanged()


def cron_tick_passed(cron: str, timezone: str = "UTC") -> CronTickPassed:
    """A tick of ``cron`` (e.g. ``'0 3 * * *'``) in ``timezone`` passed since the previous
    evaluation."""
    return CronTickPassed(cron=cron, timezone=timezone)


def upstream_updated() -> UpstreamUpdated:
    """An upstream has newer data than this asset's latest materialization read."""
    return UpstreamUpdated()


def upstream_newly_updated() -> UpstreamNewlyUpdated:
    """An upstream got new data since the previous evaluation."""
    return UpstreamNewlyUpdated()


def upstream_will_be_requested() -> UpstreamWillBeRequested:
    """An upstream it reads is requested by this same evaluation (for the same partition)."""
    return UpstreamWillBeRequested()


def newly_updated() -> NewlyUpdated:
    """Materialized since the previous evaluation."""
    return NewlyUpdated()


def newly_requested() -> NewlyRequested:
    """Requested by the previous evaluation."""
    return NewlyRequested()


def in_progress() -> InProgress:
    """A queued or running run targets it."""
    return InProgress()


def failed() -> Failed:
    """The latest attempt to materialize it failed."""
    return Failed()


def check_failed(check: str | None = None) -> CheckFailed:
    """The latest evaluation of ``check`` (or of any check on the asset) failed."""
    return CheckFailed(check=check)


def upstream_missing() -> UpstreamMissing:
    """An upstream it reads was never materialized."""
    return UpstreamMissing()


def upstream_in_progress() -> UpstreamInProgress:
    """A queued or running run targets an upstream it reads."""
    return UpstreamInProgress()


def all_of(*conditions: AutomationCondition) -> AutomationCondition:
    """``a & b & ...`` (templates cannot write ``&``)."""
    return _fold(conditions, "all_of", lambda a, b: a & b)


def any_of(*conditions: AutomationCondition) -> AutomationCondition:
    """``a | b | ...`` (templates cannot write ``|``)."""
    return _fold(conditions, "any_of", lambda a, b: a | b)


def not_(condition: AutomationCondition) -> Not:
    """``~condition`` (templates cannot write ``~``)."""
    return ~_checked(condition, "not_()")


def _fold(
    conditions: tuple[AutomationCondition, ...],
    name: str,
    combine: Callable[[AutomationCondition, AutomationCondition], AutomationCondition],
) -> AutomationCondition:
    if not conditions:
        raise TypeError(f"{name}() needs at least one condition")
    out = _checked(conditions[0], f"{name}()")
    for c in conditions[1:]:
        out = combine(out, c)
    return out


def _handled() -> AutomationCondition:
    """Requested by the previous evaluation, or materialized since: the request was handled."""
    return newly_requested() | newly_updated()


def _not_blocked() -> AutomationCondition:
    return ~in_progress() & ~upstream_missing() & ~upstream_in_progress()


def eager() -> Prebuilt:
    """Materialize when it goes missing or an upstream gets new data, once per change, as
    soon as no upstream is missing or running and it is not running itself. An upstream
    requested by the same evaluation counts as new data, so a chain goes in one run."""
    updated = upstream_newly_updated() | upstream_will_be_requested()
    trigger = (missing().newly_true() | updated).since(_handled())
    return Prebuilt(prebuilt="eager", condition=trigger & _not_blocked())


def on_cron(cron: str, timezone: str = "UTC") -> Prebuilt:
    """Materialize once after each tick of ``cron`` in ``timezone``, as soon as no upstream
    is missing or running and it is not running itself."""
    trigger = cron_tick_passed(cron, timezone).since(_handled())
    kwargs = () if timezone == "UTC" else (("timezone", timezone),)
    return Prebuilt(
        prebuilt="on_cron", condition=trigger & _not_blocked(), args=(cron,), kwargs=kwargs
    )


def on_missing() -> Prebuilt:
    """Materialize once when it goes missing (a new partition comes into scope, or it was
    never built), as soon as no upstream is missing or running."""
    trigger = missing().newly_true().since(_handled())
    return Prebuilt(prebuilt="on_missing", condition=trigger & _not_blocked())


OPERANDS: dict[str, Callable[..., AutomationCondition]] = {
    f.__name__: f
    for f in (
        missing,
        stale,
        code_changed,
        source_changed,
        cron_tick_passed,
        upstream_updated,
        upstream_newly_updated,
        upstream_will_be_requested,
        newly_updated,
        newly_requested,
        in_progress,
        failed,
        check_failed,
        upstream_missing,
        upstream_in_progress,
        eager,
        on_cron,
        on_missing,
        all_of,
        any_of,
        not_,
    )
}
"""Every name an expression or a template may call, with the function it calls."""


def condition_type() -> Any:
    """The msgspec type of a condition field (for decoders of structs holding one)."""
    return AnyCondition
