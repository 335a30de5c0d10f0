"""The built-in adapter: the ``python`` component type (plain Python modules of assets) and the
built-in IO manager types. Its entry point is ``catchment.builtin_adapter.hooks``."""
