"""Turn the connector's exceptions into one clear catchment error, with secrets scrubbed.

The connector's messages can echo request details; every secret the resource holds is replaced
by ``***`` before a message reaches an error, a log line or a run record.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from catchment.errors import ConfigError, ExecutionError
from catchment.secrets import redact

MASK = "***"
# 390xxx are authentication failures (390100 wrong user/password, 390144 bad JWT, ...).
_AUTH_SQLSTATE = "28000"


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret (longest first) and any password in a URL or DSN replaced
    by ``***`` (``catchment.redact``)."""
    return redact(text, secrets=secrets)


def _message(exc: BaseException) -> str:
    msg = getattr(exc, "msg", None) or str(exc) or type(exc).__name__
    return " ".join(str(msg).split())


def is_auth_failure(exc: BaseException) -> bool:
    """True when Snowflake rejected the credentials (not the network or the account)."""
    errno = getattr(exc, "errno", None)
    return getattr(exc, "sqlstate", None) == _AUTH_SQLSTATE or (
        isinstance(errno, int) and 390000 <= errno < 391000
    )


def connection_error(
    exc: BaseException, *, account: str, user: str, secrets: Iterable[str]
) -> ConfigError | ExecutionError:
    """The error for a failed ``connect``: names the account and user, never a secret."""
    detail = scrub(_message(exc), secrets)
    who = f"Snowflake account {account!r} as user {user!r}"
    if is_auth_failure(exc):
        return ConfigError(
            f"Snowflake rejected the credentials for {who}: {detail}",
            where=f"snowflake account {account}",
            hint="check the user and the password / private key (set them from environment "
            "variables, e.g. {{ env('SNOWFLAKE_PASSWORD') }}); the value is never printed",
        )
    return ExecutionError(
        f"cannot connect to {who}: {detail}",
        where=f"snowflake account {account}",
        hint="check the account identifier (orgname-account or locator.region), the network "
        "and proxy settings, and login_timeout",
    )


def query_error(
    exc: BaseException, *, what: str, where: str, secrets: Iterable[str], hint: str | None = None
) -> ExecutionError:
    """The error for a failed statement: what was being done, Snowflake's scrubbed message."""
    return ExecutionError(f"{what} failed: {scrub(_message(exc), secrets)}", where=where, hint=hint)


def connector_error_types() -> tuple[type[BaseException], ...]:
    """The connector's base error class (imported lazily)."""
    import snowflake.connector.errors

    base: Any = snowflake.connector.errors.Error
    return (base,)
