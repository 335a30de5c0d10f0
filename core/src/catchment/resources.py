"""Resources: typed configuration objects with a life cycle, injected into computes by name.

Subclass ``Resource`` (a pydantic model). Secret fields use ``SecretStr`` (or ``env_secret``
to read an environment variable): pydantic hides them in ``repr``/``str``, and the loader never
puts input values into error messages.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from catchment.errors import ConfigError

__all__ = ["Resource", "SecretStr", "env_secret"]


class Resource(BaseModel):
    """Base for resources. ``setup()`` returns what computes receive (``self`` by default);
    ``teardown()`` runs after the step, even when it fails."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    def setup(self) -> Any:
        """Open what computes use (a client, a connection); called once per step."""
        return self

    def teardown(self) -> None:
        """Release what ``setup`` opened; called after the step, however it ended."""
        return None

    @contextmanager
    def open(self) -> Iterator[Any]:
        """``setup()`` on entry, ``teardown()`` on exit: how the engine uses a resource."""
        value = self.setup()
        try:
            yield value
        finally:
            self.teardown()


def env_secret(name: str, *, required: bool = True) -> Any:
    """A field default that reads a secret from environment variable ``name`` when the
    resource is created (never at import)."""

    def read() -> SecretStr | None:
        value = os.environ.get(name)
        if value is None:
            if required:
                raise ConfigError(
                    f"environment variable {name} is not set",
                    hint=f"export {name}=... before running (the value is never printed)",
                )
            return None
        return SecretStr(value)

    return Field(default_factory=read)
