"""The YAML ``attributes:`` of a ``type: python`` component, validated by pydantic."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class PythonAttributes(BaseModel):
    """Attributes of a ``python`` component: which module holds the assets, and how to name them."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    module: str = Field(
        description="dotted module name (importable from the project folder) or a .py path "
        "relative to the project folder",
        min_length=1,
    )
    group: str | None = Field(default=None, description="group for assets that set none")
    key_prefix: str | list[str] | None = Field(
        default=None, description="prefix added to every asset key of the module"
    )
