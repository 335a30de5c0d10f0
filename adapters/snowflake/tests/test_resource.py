"""SnowflakeResource: secrets never shown, sessions tagged, connection failures explained.

Snowflake's cloud is unreachable here. Connection failures use the REAL connector (no
fakesnow patch) against loopback: a closed port (unreachable account), and a tiny local HTTP
server that answers the login request the way Snowflake does for a wrong password.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import fakesnow
import pytest
import snowflake.connector
from catchment.errors import ConfigError, ExecutionError
from catchment_snowflake.resource import MAX_QUERY_TAG, SnowflakeResource, query_tag
from pydantic import ValidationError


def test_secrets_never_show_in_repr_or_str(resource: SnowflakeResource, password: str) -> None:
    with_args = resource.model_copy(update={"connect_args": {"token": "tok-" + password}})
    for text in (repr(with_args), str(with_args), repr(with_args.model_dump())):
        assert password not in text
    assert with_args.password is not None
    assert with_args.password.get_secret_value() == password
    assert "tok-" + password in with_args.secrets


def test_a_way_to_authenticate_is_required() -> None:
    with pytest.raises(ValidationError, match="give password, private_key or private_key_path"):
        SnowflakeResource(account="a", user="u")
    assert SnowflakeResource(account="a", user="u", authenticator="externalbrowser")


def test_from_env_reads_the_snowflake_variables(
    monkeypatch: pytest.MonkeyPatch, password: str
) -> None:
    monkeypatch.setenv("SNOWFLAKE_ACCOUNT", "myorg-acct")
    monkeypatch.setenv("SNOWFLAKE_USER", "svc")
    monkeypatch.setenv("SNOWFLAKE_PASSWORD", password)
    monkeypatch.setenv("SNOWFLAKE_SCHEMA", "raw")
    r = SnowflakeResource.from_env(database="db")
    assert (r.account, r.user, r.schema_, r.database) == ("myorg-acct", "svc", "raw", "db")
    assert r.password is not None
    assert r.password.get_secret_value() == password
    monkeypatch.delenv("SNOWFLAKE_USER")
    with pytest.raises(ConfigError, match="SNOWFLAKE_USER is not set"):
        SnowflakeResource.from_env()


def test_query_tag_is_json_with_run_and_keys() -> None:
    assert json.loads(query_tag("r1", ["raw/orders"], step="s")) == {
        "app": "catchment",
        "run_id": "r1",
        "step": "s",
        "asset_key": "raw/orders",
    }
    many = json.loads(query_tag("r1", ["b", "a"]))
    assert many["asset_keys"] == ["a", "b"]
    huge = query_tag("r1", [f"schema/table_{i:05d}" for i in range(500)])
    assert len(huge) <= MAX_QUERY_TAG
    assert json.loads(huge)["truncated"] is True


def test_each_session_is_tagged_telemetry_off_and_closed(resource: SnowflakeResource) -> None:
    class Step:
        run_id = "run-42"
        step_key = "objects"
        selected_keys = frozenset({"raw/orders"})

    with fakesnow.patch():
        with resource.connect(Step()) as conn:
            conn.cursor().execute("SELECT 1")
        kwargs = snowflake.connector.connect.call_args.kwargs
        assert conn.is_closed()
    session = kwargs["session_parameters"]
    assert json.loads(session["QUERY_TAG"]) == {
        "app": "catchment",
        "run_id": "run-42",
        "step": "objects",
        "asset_key": "raw/orders",
    }
    assert session["CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED"] is False
    assert (kwargs["role"], kwargs["warehouse"], kwargs["schema"]) == (
        "transformer",
        "wh",
        "public",
    )
    assert os.environ["SNOWFLAKE_DISABLE_PLATFORM_DETECTION"] == "true"


def test_private_key_pem_is_loaded_and_a_bad_one_is_not_echoed() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"s3cret-phrase"),
    ).decode()
    r = SnowflakeResource(
        account="a", user="u", private_key=pem, private_key_passphrase="s3cret-phrase"
    )
    loaded = r.connect_kwargs()["private_key"]
    assert loaded.private_numbers() == key.private_numbers()
    assert "s3cret-phrase" not in repr(r)
    assert "BEGIN" not in repr(r)
    bad = SnowflakeResource(account="a", user="u", private_key="not-a-key-xyz")
    with pytest.raises(ConfigError) as info:
        bad.connect_kwargs()
    assert "not-a-key-xyz" not in str(info.value)
    assert "'u' cannot be read" in str(info.value)
    path = SnowflakeResource(account="a", user="u", private_key_path="~/k.p8")
    assert path.connect_kwargs()["private_key_file"] == os.path.expanduser("~/k.p8")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_account_is_one_clear_error_without_the_password(password: str) -> None:
    port = _free_port()  # nothing listens there
    r = SnowflakeResource(
        account="acme-unreachable",
        user="loader",
        password=password,
        login_timeout=3,
        connect_args={"host": "127.0.0.1", "port": port, "protocol": "http", "network_timeout": 3},
    )
    with pytest.raises(ExecutionError) as info, r.connect(query_tag="t"):
        pass
    text = str(info.value)
    assert "cannot connect to Snowflake account 'acme-unreachable' as user 'loader'" in text
    assert "Could not connect to Snowflake backend" in text  # the connector's own reason
    assert password not in text
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__


@pytest.fixture
def rejecting_server(password: str) -> Iterator[int]:
    """A loopback HTTP server answering every login like Snowflake does for a wrong password
    (code 390100). Its message also echoes the password, to prove scrubbing."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            body = json.dumps(
                {
                    "data": {"nextAction": None},
                    "code": "390100",
                    "message": f"Incorrect username or password was specified ({password}).",
                    "success": False,
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return None

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_port)
    finally:
        server.shutdown()
        thread.join()


def test_wrong_credentials_are_a_config_error_naming_account_and_user(
    rejecting_server: int, password: str
) -> None:
    r = SnowflakeResource(
        account="acme-prod",
        user="loader",
        password=password,
        login_timeout=5,
        connect_args={"host": "127.0.0.1", "port": rejecting_server, "protocol": "http"},
    )
    with pytest.raises(ConfigError) as info, r.connect(query_tag="t"):
        pass
    text = str(info.value)
    assert "Snowflake rejected the credentials for Snowflake account 'acme-prod'" in text
    assert "as user 'loader'" in text
    assert "Incorrect username or password was specified (***)" in text
    assert password not in text
