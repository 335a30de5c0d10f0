"""catchment-modal: the functions of a Modal app as assets of a catchment graph.

``asset_spec`` (the decorator a function's author applies) is standard library only; the rest
resolves on first use, so importing this package imports neither modal nor pydantic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from catchment_modal.decorator import asset_spec

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "AssetSpecData": "catchment_modal.decorator",
    "ModalAttributes": "catchment_modal.attributes",
    "modal_assets": "catchment_modal.assets",
    "load_app": "catchment_modal.discovery",
    "resolve_identity": "catchment_modal.identity",
    "has_modal_token": "catchment_modal.execution",
}

__all__ = [
    "AssetSpecData",
    "ModalAttributes",
    "__version__",
    "asset_spec",
    "has_modal_token",
    "load_app",
    "modal_assets",
    "resolve_identity",
]


def __getattr__(name: str) -> Any:
    """Resolve a public name on first use. catchment itself is imported only then: an app file
    that uses ``asset_spec`` alone (and so a Modal container running it) never imports it."""
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from catchment.lazy import resolve_export

    return resolve_export(__name__, _EXPORTS, name)


if TYPE_CHECKING:
    from catchment_modal.assets import modal_assets
    from catchment_modal.attributes import ModalAttributes
    from catchment_modal.decorator import AssetSpecData
    from catchment_modal.discovery import load_app
    from catchment_modal.execution import has_modal_token
    from catchment_modal.identity import resolve_identity
