"""Resources: pydantic-validated, injected by name, torn down after the step; secrets never
shown in repr, str, error text or run records."""

from __future__ import annotations

from typing import Any

import pytest
from catchment import Resource, SecretStr, asset, env_secret, materialize
from catchment.errors import ConfigError
from pydantic import ValidationError

SECRET = "s3cr3t-value-xyz"


class Warehouse(Resource):
    user: str
    password: SecretStr


class FromEnv(Resource):
    token: SecretStr = env_secret("CATCHMENT_TEST_TOKEN")


def test_secret_fields_are_hidden_in_repr_and_str() -> None:
    res = Warehouse(user="ana", password=SecretStr(SECRET))
    for text in (repr(res), str(res), str(res.model_dump()), res.model_dump_json()):
        assert SECRET not in text
    assert res.password.get_secret_value() == SECRET


def test_env_secret_reads_the_variable_when_created(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CATCHMENT_TEST_TOKEN", SECRET)
    res = FromEnv()
    assert res.token.get_secret_value() == SECRET
    assert SECRET not in repr(res)


def test_a_missing_secret_variable_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CATCHMENT_TEST_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="CATCHMENT_TEST_TOKEN is not set") as info:
        FromEnv()
    assert info.value.hint is not None


def test_a_validation_error_without_input_values_does_not_show_the_secret() -> None:
    with pytest.raises(ValidationError) as info:
        Warehouse(user=["not", "a", "string"], password=SecretStr(SECRET))  # type: ignore[arg-type]
    errors = info.value.errors(include_input=False)
    assert SECRET not in str(errors)
    assert errors[0]["loc"] == ("user",)


def test_resources_are_injected_by_name_and_torn_down_even_on_failure() -> None:
    log: list[str] = []

    class Tracked(Resource):
        name: str

        def setup(self) -> Any:
            log.append(f"setup {self.name}")
            return self

        def teardown(self) -> None:
            log.append(f"teardown {self.name}")

    @asset(resources=["db"])
    def broken(db: Tracked) -> int:
        log.append(f"used {db.name}")
        raise RuntimeError(f"boom with {SECRET}")

    result = materialize([broken], resources={"db": Tracked(name="db")}, raise_on_failure=False)
    assert not result.success
    assert log == ["setup db", "used db", "teardown db"]


def test_secret_values_of_resources_do_not_reach_the_run_record() -> None:
    @asset(resources=["wh"])
    def uses(wh: Warehouse) -> str:
        return wh.user

    result = materialize(
        [uses], resources={"wh": Warehouse(user="ana", password=SecretStr(SECRET))}
    )
    assert result.success
    assert all(SECRET not in str(e) for e in result.events)
