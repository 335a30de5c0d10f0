"""``SparkResource``: a SparkSession for local mode (loopback only, UI off) or Spark Connect."""

from __future__ import annotations

import os
import sys
from typing import Any

from catchment.errors import ConfigError
from catchment.resources import Resource
from pydantic import Field, PrivateAttr, field_validator

LOOPBACK_CONF: dict[str, str] = {
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.driver.host": "127.0.0.1",
}
QUIET_CONF: dict[str, str] = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.log.level": "WARN",
}


def is_local_master(master: str) -> bool:
    return master == "local" or master.startswith("local[")


def local_spark_env(master: str) -> dict[str, str]:
    """Environment defaults for a Spark driver started from this Python: workers use this
    interpreter, and a local master binds to loopback only. Existing values win."""
    env = {"PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable}
    if is_local_master(master):
        env["SPARK_LOCAL_IP"] = "127.0.0.1"
    return {k: v for k, v in env.items() if k not in os.environ}


def default_conf(master: str, *, ui: bool = False) -> dict[str, str]:
    """The conf catchment sets unless the user overrides it."""
    conf = dict(LOOPBACK_CONF) if is_local_master(master) else {}
    if not ui:
        conf.update(QUIET_CONF)
    return conf


class SparkResource(Resource):
    """A SparkSession, set up for the step and stopped after it (unless ``shared``).

    Local mode by default (``master="local[*]"``, bound to 127.0.0.1, UI off); set ``remote``
    to ``sc://host:port`` to use a Spark Connect server when one machine is not enough.
    ``conf`` passes any Spark setting through (it overrides catchment's defaults).
    """

    master: str = Field(default="local[*]", description="Spark master URL (local mode default)")
    remote: str | None = Field(
        default=None, description="Spark Connect URL sc://host:port; replaces master when set"
    )
    app_name: str = Field(default="catchment", description="application name Spark shows")
    conf: dict[str, str] = Field(default_factory=dict, description="Spark settings passthrough")
    ui: bool = Field(default=False, description="start the Spark web UI (off by default)")
    shared: bool = Field(
        default=False, description="keep the session alive after the step (tests, notebooks)"
    )

    _session: Any = PrivateAttr(default=None)

    @field_validator("remote")
    @classmethod
    def _check_remote(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("sc://"):
            raise ValueError(f"remote must be a Spark Connect URL sc://host:port, got {value!r}")
        return value

    @field_validator("conf", mode="before")
    @classmethod
    def _stringify_conf(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {
                str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in value.items()
            }
        return value

    def setup(self) -> Any:
        """Start (or join) the SparkSession and return it; computes receive the session."""
        try:
            from pyspark.sql import SparkSession
        except ImportError as e:  # pragma: no cover - pyspark is a dependency
            raise ConfigError(
                f"cannot import pyspark: {e}",
                where="resource SparkResource",
                hint="pip install 'catchment-spark' (or 'catchment-spark[connect]' for remote=)",
            ) from e
        builder: Any = SparkSession.builder.appName(self.app_name)
        if self.remote:
            builder = builder.remote(self.remote)
            conf = dict(self.conf)
        else:
            os.environ.update(local_spark_env(self.master))
            builder = builder.master(self.master)
            conf = {**default_conf(self.master, ui=self.ui), **self.conf}
        for key, value in conf.items():
            builder = builder.config(key, value)
        try:
            session = builder.getOrCreate()
        except Exception as e:
            target = self.remote or self.master
            if "SESSION_ALREADY_EXIST" in str(e):
                raise ConfigError(
                    f"cannot start a Spark Connect session on {target}: this process already "
                    "runs a local Spark session",
                    where="resource SparkResource",
                    hint="use one kind of session per process: run Spark Connect work in "
                    "another process, or stop the local session first",
                ) from e
            raise ConfigError(
                f"cannot start a Spark session on {target}: {type(e).__name__}: {e}",
                where="resource SparkResource",
                hint="check that Java 17+ is installed (JAVA_HOME) for local mode, or that the "
                "Spark Connect server is listening for remote=",
            ) from e
        self._session = session
        return session

    def session(self) -> Any:
        """The session this resource opened, or a new one (same as ``setup()``)."""
        return self._session if self._session is not None else self.setup()

    def teardown(self) -> None:
        """Stop the session unless it is shared."""
        session, self._session = self._session, None
        if session is not None and not self.shared:
            session.stop()
