"""Quoting an identifier: the quoted name resolves to exactly itself, whatever it contains."""

from __future__ import annotations

import duckdb
import pytest
from catchment.sql import quote_identifier


def test_quotes_and_doubles_embedded_quotes() -> None:
    assert quote_identifier("orders") == '"orders"'
    assert quote_identifier('say "hi"') == '"say ""hi"""'


@pytest.mark.parametrize("name", ["select", "Mixed Case", 'a"b', "dots.in.name", "ünï"])
def test_a_quoted_name_round_trips_through_a_real_engine(name: str) -> None:
    con = duckdb.connect()
    con.execute(f"create table {quote_identifier(name)} as select 1 as {quote_identifier(name)}")
    assert con.execute(
        f"select {quote_identifier(name)} from {quote_identifier(name)}"
    ).fetchall() == [(1,)]
    assert [
        r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()
    ] == [name]
