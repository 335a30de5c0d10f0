"""catchment's per-user cache folder: ``$CATCHMENT_CACHE_DIR``, by default
``~/.cache/catchment`` (``off`` disables it). What lives there is keyed so that it is never
trusted once stale: observations of local stores, the index of installed adapters."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

__all__ = ["cache_file"]


def cache_file(kind: str, identity: str) -> Path | None:
    """Where the ``kind`` cache of ``identity`` lives (None when caching is ``off``)."""
    root = os.environ.get("CATCHMENT_CACHE_DIR") or str(Path.home() / ".cache" / "catchment")
    if root == "off":
        return None
    digest = hashlib.sha256(identity.encode()).hexdigest()[:24]
    return Path(root) / kind / f"{digest}.msgpack"
