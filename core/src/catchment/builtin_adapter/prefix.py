"""``key_prefix`` of a ``python`` component: the module's definitions under prefixed keys, while
their computes keep seeing the keys they were written for."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from catchment.context import StepContext
from catchment.definitions import AssetsDefinition
from catchment.keys import AssetKey, CheckKey
from catchment.results import CheckResult, MaterializeResult, StepResult
from catchment.specs import AssetDep, AssetSpec, CheckSpec


class Renaming:
    """The module's own keys and their prefixed names, both ways (other keys stay as they are)."""

    def __init__(self, prefix: tuple[str, ...], own: frozenset[AssetKey]):
        self.new = {k: AssetKey((*prefix, *k.path)) for k in own}
        self.old = {v: k for k, v in self.new.items()}

    def to_new(self, key: AssetKey) -> AssetKey:
        return self.new.get(key, key)

    def to_old(self, key: AssetKey) -> AssetKey:
        return self.old.get(key, key)

    def check_id(self, check_id: str, rename: Callable[[AssetKey], AssetKey]) -> str:
        asset, name = CheckKey.parse(check_id)
        return CheckKey(rename(asset), name).to_string()


class _RenamedContext:
    """A step context in the module's own (unprefixed) keys, so a compute written for them
    works unchanged; prefixed keys are accepted too."""

    def __init__(self, inner: StepContext, names: Renaming):
        self._inner = inner
        self._names = names

    @property
    def selected_keys(self) -> frozenset[AssetKey]:
        return frozenset(self._names.to_old(k) for k in self._inner.selected_keys)

    @property
    def selected_checks(self) -> frozenset[str]:
        names = self._names
        return frozenset(names.check_id(c, names.to_old) for c in self._inner.selected_checks)

    def spec(self, key: AssetKey) -> AssetSpec:
        return self._inner.spec(self._names.to_new(AssetKey.parse(key)))

    def check_spec(self, check_id: str) -> CheckSpec:
        return self._inner.check_spec(self._names.check_id(check_id, self._names.to_new))

    def load_input(self, key: AssetKey) -> Any:
        return self._inner.load_input(self._names.to_new(AssetKey.parse(key)))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _rename_result(result: StepResult, to_new: Callable[[AssetKey], AssetKey]) -> StepResult:
    import msgspec

    if isinstance(result, CheckResult):
        return _rename_check_result(result, to_new)
    if isinstance(result, MaterializeResult) and result.check_results:
        renamed = tuple(_rename_check_result(c, to_new) for c in result.check_results)
        result = msgspec.structs.replace(result, check_results=renamed)
    if result.key is None:  # a one-asset compute's result: the step fills in the (new) key
        return result
    return msgspec.structs.replace(result, key=to_new(result.key))


def _rename_check_result(
    result: CheckResult, to_new: Callable[[AssetKey], AssetKey]
) -> CheckResult:
    """``result`` on its renamed asset; one without a key stays so (the step infers it)."""
    import msgspec

    if result.asset_key is None:
        return result
    return msgspec.structs.replace(result, asset_key=to_new(result.asset_key))


def with_prefix(d: AssetsDefinition, names: Renaming) -> AssetsDefinition:
    """Prefix the keys of ``d`` (and its deps and checks on this module's assets)."""
    rename = names.to_new
    specs = tuple(
        s.replace(
            key=rename(s.key),
            deps=tuple(AssetDep(rename(dep.key), dep.partition_mapping) for dep in s.deps),
            checks=tuple(_rename_check(c, rename) for c in s.checks),
        )
        for s in d.specs
    )
    checks = tuple(_rename_check(c, rename) for c in d.check_specs)
    inner = d.compute

    def compute(context: StepContext) -> Iterator[StepResult]:
        renamed: Any = _RenamedContext(context, names)
        for result in inner(renamed):
            yield _rename_result(result, rename)

    name = d.name
    if len(d.specs) == 1 and d.name == d.specs[0].key.to_string():
        name = specs[0].key.to_string()
    elif not d.specs and len(d.check_specs) == 1 and d.name == d.check_specs[0].id:
        name = checks[0].id
    return d.replace(name=name, specs=specs, check_specs=checks, compute=compute)


def _rename_check(c: CheckSpec, rename: Callable[[AssetKey], AssetKey]) -> CheckSpec:
    import msgspec

    return msgspec.structs.replace(c, asset=rename(c.asset))
