"""The YAML ``attributes:`` of a ``type: modal`` component, validated by pydantic."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)


class Check(_Strict):
    """A check the function reports with ``pipes.report_check(name, passed)``."""

    name: str
    severity: Literal["error", "warn"] = "error"
    description: str | None = None
    blocking: bool = True


class Retry(_Strict):
    """Override the retry policy Modal's ``retries=`` gives the asset."""

    max_retries: int | None = Field(default=None, ge=0)
    delay: float | None = Field(default=None, ge=0)
    backoff: float | None = Field(default=None, ge=1)


Identity = str | dict[str, str]


class FunctionSpec(_Strict):
    """What one function's asset is; fields set here override ``@asset_spec``."""

    key: str | None = Field(default=None, description="asset key (default: the function name)")
    deps: list[str] = Field(default_factory=list, description="upstream asset keys")
    reads: list[Identity] = Field(
        default_factory=list, description="relations it reads, e.g. duckdb:main.orders"
    )
    writes: Identity | None = Field(default=None, description="the relation it writes")
    group: str | None = Field(default=None, description="the asset's group")
    owners: list[str] = Field(default_factory=list, description="the asset's owners")
    tags: dict[str, str] = Field(default_factory=dict, description="tags of the asset")
    description: str | None = Field(default=None, description="default: the docstring")
    checks: list[str | Check] = Field(
        default_factory=list, description="checks the function reports (names or mappings)"
    )
    metadata: dict[str, Any] = Field(default_factory=dict, description="extra metadata")
    kwargs: dict[str, Any] = Field(
        default_factory=dict, description="keyword arguments of the call"
    )
    retry: Retry | None = Field(
        default=None, description="override max_retries / delay / backoff of the retry policy"
    )


class ModalAttributes(_Strict):
    """Attributes of a ``modal`` component."""

    app: str = Field(
        description="the App: path/to/file.py:app (relative to the project) or package.module:app",
        min_length=3,
    )
    functions: list[str] | Literal["*"] | None = Field(
        default=None,
        description="functions that are assets ('*' for all; default: those marked with "
        "@asset_spec or listed under specs)",
    )
    specs: dict[str, FunctionSpec] = Field(
        default_factory=dict, description="per-function asset specs, by function name"
    )
    mode: Literal["local", "remote"] = Field(
        default="local",
        description="local: fn.local() in the worker; remote: the deployed app on Modal",
    )
    app_name: str | None = Field(
        default=None, description="name of the deployed app (default: modal.App's name)"
    )
    environment: str | None = Field(default=None, description="Modal environment (remote mode)")
    timeout: float | None = Field(
        default=None, gt=0, description="seconds to wait for a remote call (default: Modal's)"
    )
    log_wait: float = Field(
        default=10.0, ge=0, description="seconds to wait for a remote call's pipes messages"
    )
    key_prefix: str | list[str] | None = Field(
        default=None, description="prefix added to every asset key of the component"
    )
    group: str | None = Field(default=None, description="group of functions that set none")
    owners: list[str] = Field(default_factory=list, description="owners of functions that set none")
