"""``SnowflakeResource``: how to reach a Snowflake account, with secrets kept secret.

Configure it in ``catchment.yaml`` (``type: snowflake``; secrets as ``{{ env('...') }}``) or in
Python (``SnowflakeResource.from_env()``). Each ``connect()`` opens one session tagged with a
JSON ``QUERY_TAG`` (run id, asset keys) and closes it when the block ends; the engine opens
the resource per step, so a step's connection never outlives it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from catchment.errors import ConfigError
from catchment.resources import Resource
from pydantic import (
    ConfigDict,
    Field,
    SecretStr,
    field_serializer,
    field_validator,
    model_validator,
)

from catchment_snowflake.errors import connection_error, connector_error_types

__all__ = ["SnowflakeResource", "query_tag"]

PLATFORM_DETECTION_ENV = "SNOWFLAKE_DISABLE_PLATFORM_DETECTION"
MAX_QUERY_TAG = 2000  # Snowflake's limit on QUERY_TAG
_SECRET_ARG = re.compile(r"pass|secret|token|key|auth|cred", re.IGNORECASE)
_ENV_FIELDS = {
    "account": "ACCOUNT",
    "user": "USER",
    "password": "PASSWORD",
    "private_key_path": "PRIVATE_KEY_PATH",
    "private_key_passphrase": "PRIVATE_KEY_PASSPHRASE",
    "authenticator": "AUTHENTICATOR",
    "role": "ROLE",
    "warehouse": "WAREHOUSE",
    "database": "DATABASE",
    "schema": "SCHEMA",
}


def query_tag(
    run_id: str | None, asset_keys: Iterable[object] = (), *, step: str | None = None
) -> str:
    """The JSON ``QUERY_TAG`` of a session: ``{"app": "catchment", "run_id", "asset_key"}``
    (``asset_keys`` when there are several), cut to Snowflake's 2000 characters."""
    keys = sorted(str(k) for k in asset_keys)
    tag: dict[str, Any] = {"app": "catchment", "run_id": run_id}
    if step:
        tag["step"] = step
    if len(keys) == 1:
        tag["asset_key"] = keys[0]
    elif keys:
        tag["asset_keys"] = keys
    text = json.dumps(tag, separators=(",", ":"))
    while len(text) > MAX_QUERY_TAG and len(tag.get("asset_keys", ())) > 1:
        tag["asset_keys"] = tag["asset_keys"][: len(tag["asset_keys"]) // 2]
        tag["truncated"] = True
        text = json.dumps(tag, separators=(",", ":"))
    return text[:MAX_QUERY_TAG]


_make_tag = query_tag  # `connect` has a parameter of the same name


class SnowflakeResource(Resource):
    """Connection settings for one Snowflake account.

    Authenticate with ``password``, a key pair (``private_key`` PEM text or
    ``private_key_path``, optional ``private_key_passphrase``) or an ``authenticator``
    (``externalbrowser``, ``oauth`` with ``connect_args: {token: ...}``, ...). ``connect_args``
    go to ``snowflake.connector.connect`` unchanged (their values are treated as secrets).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    account: str = Field(min_length=1, description="account identifier, e.g. myorg-myaccount")
    user: str = Field(min_length=1, description="login name")
    password: SecretStr | None = Field(default=None, description="from {{ env('...') }}")
    private_key: SecretStr | None = Field(default=None, description="PEM text of a key pair")
    private_key_path: str | None = Field(default=None, description="PEM file of a key pair")
    private_key_passphrase: SecretStr | None = Field(default=None, description="key passphrase")
    authenticator: str | None = Field(default=None, description="e.g. externalbrowser, oauth")
    role: str | None = None
    warehouse: str | None = None
    database: str | None = Field(default=None, description="default database")
    schema_: str | None = Field(default=None, alias="schema", description="default schema")
    login_timeout: int = Field(default=60, ge=1, description="seconds to wait for a login")
    connect_args: dict[str, Any] = Field(
        default_factory=dict, repr=False, description="more snowflake.connector.connect args"
    )
    emulator: Literal["fakesnow"] | None = Field(
        default=None,
        description="fakesnow: talk to a local emulator (DuckDB) instead of the account; "
        "empty = the account",
    )
    emulator_path: str | None = Field(
        default=None,
        description="folder where the emulator keeps its databases (default: in memory)",
    )

    @field_validator("emulator", mode="before")
    @classmethod
    def _blank_emulator_is_none(cls, value: Any) -> Any:
        """``emulator: ""`` (a template that rendered nothing) means the real account."""
        return value or None

    @field_serializer("connect_args")
    def _mask_secret_args(self, args: dict[str, Any]) -> dict[str, Any]:
        """``model_dump()`` shows ``token``, ``*password*``, ``*key*``... args as ``***``."""
        return {k: "***" if _SECRET_ARG.search(k) else v for k, v in args.items()}

    @model_validator(mode="after")
    def _needs_a_way_to_authenticate(self) -> SnowflakeResource:
        if (
            self.emulator is None
            and not (
                self.password or self.private_key or self.private_key_path or self.authenticator
            )
            and not {"token", "password"} & set(self.connect_args)
        ):
            raise ValueError(
                "give password, private_key or private_key_path, or an authenticator "
                "(secrets from environment variables: {{ env('SNOWFLAKE_PASSWORD') }})"
            )
        return self

    @classmethod
    def from_env(cls, prefix: str = "SNOWFLAKE_", **overrides: Any) -> SnowflakeResource:
        """Build from ``SNOWFLAKE_ACCOUNT``, ``SNOWFLAKE_USER``, ``SNOWFLAKE_PASSWORD``,
        ``SNOWFLAKE_PRIVATE_KEY_PATH``, ``..._ROLE``, ``..._WAREHOUSE``, ``..._DATABASE``,
        ``..._SCHEMA`` (``overrides`` win)."""
        values: dict[str, Any] = {}
        for field, suffix in _ENV_FIELDS.items():
            value = os.environ.get(prefix + suffix)
            if value:
                values[field] = value
        values.update(overrides)
        for required in ("account", "user"):
            if not values.get(required):
                raise ConfigError(
                    f"environment variable {prefix}{_ENV_FIELDS[required]} is not set",
                    where="SnowflakeResource.from_env",
                    hint=f"export {prefix}{_ENV_FIELDS[required]}=... or pass {required}=",
                )
        return cls.model_validate(values)

    # -- what others need -----------------------------------------------------------------
    @property
    def secrets(self) -> list[str]:
        """Every secret value this resource holds (to scrub from messages)."""
        out = [
            s.get_secret_value()
            for s in (self.password, self.private_key, self.private_key_passphrase)
            if s is not None
        ]
        out.extend(str(v) for v in self.connect_args.values() if isinstance(v, str | bytes))
        return out

    def connect_kwargs(
        self, *, query_tag: str | None = None, autocommit: bool | None = None
    ) -> dict[str, Any]:
        """The keyword arguments for ``snowflake.connector.connect`` (contains secrets: never
        log it)."""
        kwargs: dict[str, Any] = {
            "account": self.account,
            "user": self.user,
            "login_timeout": self.login_timeout,
            "application": "catchment",
        }
        for name in ("authenticator", "role", "warehouse", "database"):
            value = getattr(self, name)
            if value:
                kwargs[name] = value
        if self.schema_:
            kwargs["schema"] = self.schema_
        if self.password is not None:
            kwargs["password"] = self.password.get_secret_value()
        if self.private_key is not None:
            kwargs["private_key"] = self._load_private_key()
        elif self.private_key_path:
            kwargs["private_key_file"] = os.path.expanduser(self.private_key_path)
            if self.private_key_passphrase is not None:
                kwargs["private_key_file_pwd"] = self.private_key_passphrase.get_secret_value()
        if autocommit is not None:
            kwargs["autocommit"] = autocommit
        extra = dict(self.connect_args)
        session: dict[str, Any] = {"CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False}
        session.update(extra.pop("session_parameters", None) or {})
        if query_tag is not None:
            session["QUERY_TAG"] = query_tag
        kwargs.update(extra)
        kwargs["session_parameters"] = session
        return kwargs

    def _load_private_key(self) -> Any:
        from cryptography.hazmat.primitives import serialization

        assert self.private_key is not None
        passphrase = self.private_key_passphrase
        try:
            return serialization.load_pem_private_key(
                self.private_key.get_secret_value().encode(),
                password=passphrase.get_secret_value().encode() if passphrase else None,
            )
        except (ValueError, TypeError) as exc:
            raise ConfigError(
                f"the private_key of Snowflake user {self.user!r} cannot be read: "
                f"{type(exc).__name__}",
                where=f"snowflake account {self.account}",
                hint="give the PEM text (-----BEGIN PRIVATE KEY-----...) and its passphrase",
            ) from None

    def observer(self) -> Any:
        """A ``SnowflakeObserver`` of this account (how ``catchment plan`` sees its objects)."""
        from catchment_snowflake.observe import SnowflakeObserver

        return SnowflakeObserver(self)

    @contextmanager
    def connect(
        self,
        context: Any = None,
        *,
        query_tag: str | Mapping[str, Any] | None = None,
        autocommit: bool | None = None,
    ) -> Iterator[Any]:
        """Open a session (closed when the block ends). Pass the step ``context`` to tag the
        session with its run id and asset keys, or an explicit ``query_tag``."""
        os.environ.setdefault(PLATFORM_DETECTION_ENV, "true")
        import snowflake.connector

        if query_tag is None and context is not None:
            tag: str | None = _make_tag(
                context.run_id, context.selected_keys, step=context.step_key
            )
        elif isinstance(query_tag, Mapping):
            tag = json.dumps(dict(query_tag), separators=(",", ":"), default=str)
        else:
            tag = query_tag
        kwargs = self.connect_kwargs(query_tag=tag, autocommit=autocommit)
        if self.emulator == "fakesnow":
            with _fakesnow_session(kwargs, self.emulator_path) as fake:
                yield fake
            return
        try:
            # Through the module attribute, so fakesnow.patch() (tests) can stand in.
            conn = snowflake.connector.connect(**kwargs)
        except connector_error_types() as exc:
            raise connection_error(
                exc, account=self.account, user=self.user, secrets=self.secrets
            ) from None
        try:
            yield conn
        finally:
            # Closing a broken session must not hide the real error.
            with contextlib.suppress(Exception):
                conn.close()


@contextmanager
def _fakesnow_session(kwargs: dict[str, Any], path: str | None) -> Iterator[Any]:
    """A session on fakesnow (Snowflake emulated on DuckDB, in this process), its databases
    kept as files under ``path`` when given; the emulator is closed with the session."""
    try:
        from fakesnow.instance import FakeSnow
    except ImportError:
        raise ConfigError(
            "emulator: fakesnow needs the fakesnow package",
            where="snowflake resource emulator",
            hint="pip install 'catchment-snowflake[emulator]', or drop emulator: for the account",
        ) from None
    if path:
        Path(path).mkdir(parents=True, exist_ok=True)
    # fakesnow translates Snowflake SQL with sqlglot, which logs a warning for every property
    # DuckDB lacks (TRANSIENT...): emulator noise, not the user's concern.
    translator = logging.getLogger("sqlglot")
    level = translator.level
    translator.setLevel(logging.ERROR)
    fake = FakeSnow(db_path=path)
    try:
        conn = fake.connect(**kwargs)
        try:
            yield conn
        finally:
            with contextlib.suppress(Exception):
                conn.close()
    finally:
        fake.duck_conn.close()
        translator.setLevel(level)
