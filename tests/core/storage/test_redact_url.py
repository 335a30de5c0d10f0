"""Storage URLs in error messages never show a password, wherever the URL carries it."""

from __future__ import annotations

import socket

import pytest
from catchment.storage import open_storage
from catchment.storage.base import StorageError, redact_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://ana:s3cr3t@db:5432/runs", "postgresql://ana:***@db:5432/runs"),
        ("postgresql://ana@db/runs?password=s3cr3t", "postgresql://ana@db/runs?password=***"),
        (
            "postgresql://ana@db/runs?sslmode=disable&PassWord=s3cr3t&sslpassword=s3cr3t&schema=x",
            "postgresql://ana@db/runs?sslmode=disable&PassWord=***&sslpassword=***&schema=x",
        ),
        (
            "postgresql://a:s3cr3t@db/runs?password=s3cr3t",
            "postgresql://a:***@db/runs?password=***",
        ),
        ("sqlite:///home/ana/runs.db", "sqlite:///home/ana/runs.db"),
        ("postgresql://db/runs?schema=ci", "postgresql://db/runs?schema=ci"),
    ],
)
def test_redact_url_hides_every_password(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_postgres_error_does_not_leak_a_query_string_password() -> None:
    pytest.importorskip("psycopg")
    url = f"postgresql://ana@127.0.0.1:{_free_port()}/runs?password=s3cr3t"
    with pytest.raises(StorageError) as info:
        open_storage(url)
    assert "cannot connect to PostgreSQL" in str(info.value)
    assert "s3cr3t" not in str(info.value)
    assert "password=***" in str(info.value)
