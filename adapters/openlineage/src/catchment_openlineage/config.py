"""Configuration the OpenLineage way: ``OPENLINEAGE_URL`` / ``OPENLINEAGE_API_KEY``,
``openlineage.yml`` (``OPENLINEAGE_CONFIG``, the project folder, the working directory,
``~/.openlineage``), ``OPENLINEAGE__TRANSPORT__*`` variables, ``OPENLINEAGE_DISABLED``.

Nothing configured means nothing is emitted (the client's own fallback, printing every event
to the console, would flood every run of every project that merely has the adapter installed).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import msgspec

__all__ = ["Settings", "settings"]

HTTP_TIMEOUT = 2.0
"""Seconds per HTTP request when the receiver comes from ``OPENLINEAGE_URL``."""

HTTP_RETRY: dict[str, Any] = {
    "total": 2,
    "connect": 2,
    "read": 0,  # a slow receiver is not asked again: the run's end would wait for it
    "backoff_factor": 0.2,
    "status_forcelist": [500, 502, 503, 504],
    "allowed_methods": ["POST"],
}


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Where events go and the names they carry."""

    namespace: str
    """The job namespace (``OPENLINEAGE_NAMESPACE``, default ``catchment``)."""
    url: str | None = None
    yaml_path: str | None = None
    transport_env: bool = False
    flush_timeout: float = 10.0

    @property
    def target(self) -> str:
        """Where events go, for messages (redacted before it is logged)."""
        return self.url or self.yaml_path or "the transport in OPENLINEAGE__TRANSPORT__*"


def _yaml(project_root: str | None) -> str | None:
    candidates = [os.environ.get("OPENLINEAGE_CONFIG")]
    if project_root:
        candidates.append(str(Path(project_root) / "openlineage.yml"))
    candidates += [
        str(Path.cwd() / "openlineage.yml"),
        str(Path.home() / ".openlineage/openlineage.yml"),
    ]
    for path in candidates:
        if path and Path(path).is_file():
            return path
    return None


def settings(project_root: str | None) -> Settings | None:
    """The configuration in force, or None when OpenLineage is disabled or not configured."""
    env = os.environ
    if env.get("OPENLINEAGE_DISABLED", "").strip().lower() == "true":
        return None
    yaml_path = _yaml(project_root)
    url = env.get("OPENLINEAGE_URL") or None
    transport_env = any(k.startswith("OPENLINEAGE__TRANSPORT") for k in env)
    if not (url or yaml_path or transport_env):
        return None
    try:
        flush = float(env.get("CATCHMENT_OPENLINEAGE_FLUSH_TIMEOUT", "10"))
    except ValueError:
        flush = 10.0
    return Settings(
        namespace=env.get("OPENLINEAGE_NAMESPACE") or "catchment",
        url=url if not (yaml_path or transport_env) else None,
        yaml_path=yaml_path,
        transport_env=transport_env,
        flush_timeout=flush,
    )


def make_client(config: Settings) -> Any:
    """An ``OpenLineageClient`` for ``config``: from ``OPENLINEAGE_URL`` an HTTP transport with
    a short timeout and brief retries; otherwise the client's own resolution (yml, env)."""
    from openlineage.client import OpenLineageClient

    if config.url:
        from openlineage.client.transport.http import HttpConfig, HttpTransport

        options: dict[str, Any] = {
            "url": config.url,
            "endpoint": os.environ.get("OPENLINEAGE_ENDPOINT", "api/v1/lineage"),
            "timeout": HTTP_TIMEOUT,
            "retry": HTTP_RETRY,
        }
        if key := os.environ.get("OPENLINEAGE_API_KEY"):
            options["auth"] = {"type": "api_key", "apiKey": key}
        return OpenLineageClient(transport=HttpTransport(HttpConfig.from_dict(options)))
    if config.yaml_path and not os.environ.get("OPENLINEAGE_CONFIG"):
        import yaml

        loaded = yaml.safe_load(Path(config.yaml_path).read_text()) or {}
        return OpenLineageClient(config=loaded if isinstance(loaded, dict) else {})
    return OpenLineageClient()


def secrets() -> list[str]:
    """Values that must never appear in a message."""
    return [v for k, v in os.environ.items() if k.startswith("OPENLINEAGE") and "KEY" in k and v]
