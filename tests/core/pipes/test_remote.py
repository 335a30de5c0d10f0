import io
import json
import subprocess
import sys

import pytest
from catchment.pipes import copy_remote_module
from catchment.pipes.remote import (
    CONTEXT_ENV,
    MESSAGES_ENV,
    STDOUT_PREFIX,
    PipesError,
    is_pipes_process,
    open_pipes,
)

CONTEXT = {
    "catchment_pipes": 1,
    "run_id": "r1",
    "step_key": "s",
    "asset_keys": ["sales/daily", "sales/top"],
    "checks": ["sales/daily:not_empty"],
    "partition_key": "2026-01-01",
    "partition_keys": ["2026-01-01"],
    "extras": {"path": "/data/x"},
}


def messages_of(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_context_from_env_json_and_messages_to_file(tmp_path, monkeypatch):
    out = tmp_path / "m.jsonl"
    monkeypatch.setenv(CONTEXT_ENV, json.dumps(CONTEXT))
    monkeypatch.setenv(MESSAGES_ENV, str(out))
    assert is_pipes_process()
    with open_pipes() as pipes:
        assert pipes.run_id == "r1"
        assert pipes.asset_keys == ["sales/daily", "sales/top"]
        assert pipes.partition_key == "2026-01-01"
        assert pipes.get_extra("path") == "/data/x"
        pipes.log.info("hello")
        pipes.report_materialization("sales/daily", metadata={"rows": 3}, data_version="v1")
        pipes.report_check("not_empty", True, asset_key=["sales", "daily"])
    msgs = messages_of(out)
    assert [m["method"] for m in msgs] == ["opened", "log", "materialization", "check", "closed"]
    assert all(m["catchment_pipes"] == 1 for m in msgs)
    assert msgs[2]["params"] == {
        "asset_key": "sales/daily",
        "metadata": {"rows": 3},
        "data_version": "v1",
    }
    assert msgs[3]["params"]["asset_key"] == "sales/daily"
    assert msgs[4]["params"] == {}


def test_context_from_a_file_path(tmp_path):
    ctx = tmp_path / "ctx.json"
    ctx.write_text(json.dumps(CONTEXT))
    buf = io.StringIO()
    with open_pipes(context=str(ctx), messages=buf) as pipes:
        assert pipes.step_key == "s"


def test_without_a_messages_path_messages_go_to_stdout_with_a_prefix(capsys, monkeypatch):
    monkeypatch.delenv(MESSAGES_ENV, raising=False)
    with open_pipes(context=CONTEXT) as pipes:
        pipes.report_materialization("sales/top")
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert all(line.startswith(STDOUT_PREFIX) for line in lines)
    assert json.loads(lines[1][len(STDOUT_PREFIX) :])["method"] == "materialization"


def test_an_exception_in_the_block_is_sent_with_closed_and_re_raised():
    buf = io.StringIO()
    with pytest.raises(ZeroDivisionError), open_pipes(context=CONTEXT, messages=buf):
        1 / 0  # noqa: B018
    closed = json.loads(buf.getvalue().splitlines()[-1])
    assert closed["method"] == "closed"
    assert closed["params"]["exception"]["type"] == "ZeroDivisionError"
    assert "division by zero" in closed["params"]["exception"]["message"]


def test_metadata_that_json_cannot_encode_is_converted(tmp_path):
    import datetime
    import decimal

    buf = io.StringIO()
    with open_pipes(context=CONTEXT, messages=buf) as pipes:
        pipes.report_materialization(
            "sales/top",
            metadata={"at": datetime.date(2026, 1, 2), "x": decimal.Decimal("1.5"), "p": tmp_path},
        )
    meta = json.loads(buf.getvalue().splitlines()[1])["params"]["metadata"]
    assert meta == {"at": "2026-01-02", "x": 1.5, "p": str(tmp_path)}


def test_the_single_asset_shortcut_refuses_a_multi_asset_step():
    with (
        open_pipes(context=CONTEXT, messages=io.StringIO()) as pipes,
        pytest.raises(PipesError, match="2 assets"),
    ):
        pipes.report_materialization()


def test_missing_context_and_wrong_version_are_clear_errors(monkeypatch):
    monkeypatch.delenv(CONTEXT_ENV, raising=False)
    with pytest.raises(PipesError, match="not started by catchment"), open_pipes():
        pass
    with (
        pytest.raises(PipesError, match="version 7 is not supported"),
        open_pipes(context={**CONTEXT, "catchment_pipes": 7}, messages=io.StringIO()),
    ):
        pass


def test_an_oversized_report_fails_in_the_remote_with_a_clear_error():
    buf = io.StringIO()
    ctx = {**CONTEXT, "max_message_bytes": 1000}
    with open_pipes(context=ctx, messages=buf) as pipes:
        with pytest.raises(PipesError, match="over the limit of 1000"):
            pipes.report_materialization("sales/top", metadata={"blob": "x" * 2000})
        pipes.report_materialization("sales/top", metadata={"rows": 1})
    methods = [json.loads(line)["method"] for line in buf.getvalue().splitlines()]
    assert methods == ["opened", "materialization", "closed"]


def test_the_copied_single_file_works_with_the_standard_library_only(tmp_path):
    copy_remote_module(tmp_path)
    (tmp_path / "job.py").write_text(
        "from catchment_pipes import open_pipes\n"
        "with open_pipes() as p:\n"
        "    p.report_materialization(metadata={'rows': 1})\n"
    )
    out = tmp_path / "m.jsonl"
    ctx = {**CONTEXT, "asset_keys": ["one"]}
    env = {CONTEXT_ENV: json.dumps(ctx), MESSAGES_ENV: str(out)}
    # -E -s -S: no site-packages, no PYTHONPATH: only the standard library is importable
    subprocess.run(
        [sys.executable, "-E", "-s", "-S", "job.py"], cwd=tmp_path, env=env, check=True, timeout=60
    )
    assert [m["method"] for m in messages_of(out)] == ["opened", "materialization", "closed"]
    assert messages_of(out)[1]["params"]["asset_key"] == "one"
