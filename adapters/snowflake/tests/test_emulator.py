"""``emulator: fakesnow`` on the resource: no account, no patch, databases kept on disk, so
separate sessions (and separate `catchment` commands) see the same tables."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
from catchment import asset
from catchment.execution.api import materialize
from catchment.tables import table
from catchment_snowflake.io_manager import SnowflakeIOManager
from catchment_snowflake.observe import SnowflakeObserver
from catchment_snowflake.resource import SnowflakeResource
from pydantic import ValidationError


def _emulated(path: Path) -> SnowflakeResource:
    return SnowflakeResource.model_validate(
        {
            "account": "local",
            "user": "catchment",
            "database": "analytics",
            "schema": "public",
            "emulator": "fakesnow",
            "emulator_path": str(path),
        }
    )


def test_an_emulated_resource_needs_no_credentials_and_a_blank_emulator_means_the_account() -> None:
    assert _emulated(Path("x")).emulator == "fakesnow"
    with pytest.raises(ValidationError, match="give password"):
        SnowflakeResource.model_validate({"account": "a", "user": "u", "emulator": ""})


def test_sessions_share_the_databases_kept_under_emulator_path(tmp_path: Path) -> None:
    resource = _emulated(tmp_path / "fakesnow")
    with resource.connect() as conn:
        conn.cursor().execute("create table t (id int)")
        conn.cursor().execute("insert into t values (1), (2)")
    assert (tmp_path / "fakesnow" / "ANALYTICS.db").is_file()
    with resource.connect() as conn:
        cur = conn.cursor()
        cur.execute("select sum(id) from analytics.public.t")
        assert cur.fetchall() == [(3,)]


def test_the_io_manager_writes_with_write_pandas_on_the_emulator(tmp_path: Path) -> None:
    io = SnowflakeIOManager(_emulated(tmp_path / "fakesnow"))  # write_method: write_pandas

    @asset(key="publish/orders", io_manager_key="sf")
    def orders() -> pd.DataFrame:
        return pd.DataFrame({"order_id": [1, 2], "amount": [10.5, 2.0]})

    @asset(key="publish/total", io_manager_key="sf", ins={"orders": "publish/orders"})
    def total(orders: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"total": [orders["amount"].sum()]})

    result = materialize([orders, total], io_managers={"sf": io})
    assert result.success
    assert result.output_for("publish/total").to_dict("records") == [{"total": 12.5}]


def _quiet(folder: Path) -> None:
    """Date the emulator's files 10 s back: written a while ago, as a later plan finds them."""
    for f in folder.iterdir():
        st = f.stat()
        os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns - 10_000_000_000))


def test_an_unchanged_emulator_is_observed_without_a_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CATCHMENT_CACHE_DIR", str(tmp_path / "cache"))
    folder = tmp_path / "fakesnow"
    resource = _emulated(folder)
    with resource.connect() as conn:
        conn.cursor().execute("create table t (id int)")
        conn.cursor().execute("insert into t values (1)")
    t = table("snowflake", "t", schema="public", database="analytics", location="local")
    _quiet(folder)
    first = SnowflakeObserver(resource).observe([t])[t]
    assert first.row_count == 1

    def no_session(*args: object, **kwargs: object) -> None:
        raise AssertionError("opened a session although nothing changed")

    with monkeypatch.context() as m:
        m.setattr(SnowflakeResource, "connect", no_session)
        again = SnowflakeObserver(resource).observe([t])[t]
        assert (again.row_count, again.data_version) == (1, first.data_version)
    with resource.connect() as conn:  # a write: the files change, the cache is not used
        conn.cursor().execute("insert into analytics.public.t values (2)")
    changed = SnowflakeObserver(resource).observe([t])[t]
    assert changed.row_count == 2
    assert changed.data_version != first.data_version
