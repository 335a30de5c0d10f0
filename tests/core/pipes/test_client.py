"""The subprocess client against real Python subprocesses: results, streaming and every way
a remote can go wrong (each gives a clear error and loses nothing else)."""

import sys
import textwrap
import time

import pytest
from catchment.errors import ExecutionError
from catchment.keys import AssetKey
from catchment.pipes import PipesSubprocessClient
from catchment.results import AssetFailure, CheckResult, MaterializeResult

PRELUDE = (
    "import json, os, sys, time\n"
    "from catchment.pipes.remote import open_pipes\n"
    "def raw(text):  # one raw line in the messages file, bypassing the remote API\n"
    "    with open(os.environ['CATCHMENT_PIPES_MESSAGES'], 'a') as f:\n"
    "        f.write(text + '\\n')\n"
)
TRUNCATED = '{"catchment_pipes": 1, "method": "materialization", "params": {"asset_key": '
UNKNOWN_METHOD = '{"catchment_pipes": 1, "method": "teleport", "params": {}}'


def run_script(tmp_path, context, body, **client_kw):
    script = tmp_path / "job.py"
    script.write_text(PRELUDE + textwrap.dedent(body))
    client = PipesSubprocessClient(**client_kw)
    return list(client.run(context, [sys.executable, str(script)], label="job.py"))


def by_type(results, cls):
    return [r for r in results if isinstance(r, cls)]


def test_two_materializations_a_check_and_logs(tmp_path, make_context):
    ctx = make_context("sales/daily", "sales/top", checks=(("sales/daily", "positive"),))
    results = run_script(
        tmp_path,
        ctx,
        """
        with open_pipes() as p:
            assert p.asset_keys == ["sales/daily", "sales/top"]
            assert p.check_ids == ["sales/daily:positive"]
            p.log.info("starting " + p.run_id)
            print("plain stdout line")
            p.report_materialization("sales/daily", metadata={"rows": 2}, data_version="abc")
            p.report_check("positive", True, asset_key="sales/daily", metadata={"min": 1})
            p.report_materialization("sales/top", metadata={"rows": 1})
        """,
    )
    assert results == [
        MaterializeResult(key=AssetKey("sales/daily"), metadata={"rows": 2}, data_version="abc"),
        CheckResult(
            asset_key=AssetKey("sales/daily"),
            check_name="positive",
            passed=True,
            severity="error",
            metadata={"min": 1},
        ),
        MaterializeResult(key=AssetKey("sales/top"), metadata={"rows": 1}),
    ]
    assert "starting run-1" in ctx.log.at("info")
    assert "plain stdout line" in ctx.log.at("info")
    assert ctx.log.at("error") == []


def test_results_stream_while_the_process_runs(tmp_path, make_context):
    ctx = make_context("a", "b")
    go = tmp_path / "go"
    script = tmp_path / "job.py"
    script.write_text(
        PRELUDE
        + textwrap.dedent(
            f"""
            with open_pipes() as p:
                p.report_materialization("a")
                while not os.path.exists({str(go)!r}):
                    time.sleep(0.02)
                p.report_materialization("b")
            """
        )
    )
    results = PipesSubprocessClient().run(ctx, [sys.executable, str(script)])
    first = next(results)  # arrives although the process is still waiting for `go`
    assert first == MaterializeResult(key=AssetKey("a"))
    assert not go.exists()
    go.touch()
    assert list(results) == [MaterializeResult(key=AssetKey("b"))]


def test_malformed_lines_are_errors_and_valid_messages_still_count(tmp_path, make_context):
    ctx = make_context("a", "b")
    results = run_script(
        tmp_path,
        ctx,
        f"""
        with open_pipes() as p:
            p.report_materialization("a")
            raw("this is not json")
            raw({TRUNCATED!r})
            raw({UNKNOWN_METHOD!r})
            p.report_materialization("b", metadata=dict(rows=5))
        """,
    )
    assert by_type(results, MaterializeResult) == [
        MaterializeResult(key=AssetKey("a")),
        MaterializeResult(key=AssetKey("b"), metadata={"rows": 5}),
    ]
    assert by_type(results, AssetFailure) == []
    errors = ctx.log.at("error")
    assert len(errors) == 3
    assert "job.py: message line 3: not valid JSON" in errors[0]
    assert "'this is not json'" in errors[0]
    assert "message line 4: not valid JSON" in errors[1]
    assert "unknown method 'teleport'" in errors[2]


def test_a_message_for_an_asset_not_in_the_step_is_an_error(tmp_path, make_context):
    ctx = make_context("a", "b")
    results = run_script(
        tmp_path,
        ctx,
        """
        with open_pipes() as p:
            p.report_materialization("a")
            p.report_materialization("someone/else")
        """,
    )
    assert by_type(results, MaterializeResult) == [MaterializeResult(key=AssetKey("a"))]
    [failure] = by_type(results, AssetFailure)
    assert failure.key == AssetKey("b")
    assert "job.py finished without reporting this asset" in failure.message
    assert "asset someone/else is not in this step (the step builds: a, b)" in failure.message
    assert any("someone/else is not in this step" in e for e in ctx.log.at("error"))


def test_an_oversized_message_is_dropped_with_a_clear_error(tmp_path, make_context):
    ctx = make_context("a", "b")
    big = '{"catchment_pipes": 1, "method": "log", "params": {"message": "' + "x" * 3000 + '"}}'
    results = run_script(
        tmp_path,
        ctx,
        f"""
        with open_pipes() as p:
            p.report_materialization("a")
            raw({big!r})
            p.report_materialization("b")
        """,
        max_message_bytes=2048,
    )
    assert [r.key for r in by_type(results, MaterializeResult)] == [AssetKey("a"), AssetKey("b")]
    [error] = ctx.log.at("error")
    assert f"message line 3: message of {len(big)} bytes is over the limit of 2048" in error


def test_a_process_that_dies_before_opening_fails_every_asset(tmp_path, make_context):
    ctx = make_context("a", "b")
    results = run_script(
        tmp_path,
        ctx,
        """
        raise RuntimeError("cannot connect to the cluster")
        """,
    )
    failures = by_type(results, AssetFailure)
    assert [f.key for f in failures] == [AssetKey("a"), AssetKey("b")]
    for f in failures:
        assert "job.py exited with code 1 before opening the catchment pipes channel" in f.message
        assert f.message.endswith("RuntimeError: cannot connect to the cluster")
        assert "RuntimeError: cannot connect to the cluster" in f.output
    assert by_type(results, MaterializeResult) == []


def test_a_zero_exit_without_opening_is_not_success(tmp_path, make_context):
    results = run_script(tmp_path, make_context("a"), "print('forgot to open')\n")
    [failure] = results
    assert isinstance(failure, AssetFailure)
    assert "exited with code 0 before opening" in failure.message


def test_non_zero_exit_fails_only_what_was_not_reported(tmp_path, make_context):
    ctx = make_context("a", "b", checks=(("a", "ok"),))
    results = run_script(
        tmp_path,
        ctx,
        """
        with open_pipes() as p:
            p.report_materialization("a")
            sys.stdout.flush()
            os._exit(3)
        """,
    )
    assert results[0] == MaterializeResult(key=AssetKey("a"))
    [failure] = by_type(results, AssetFailure)
    assert failure.key == AssetKey("b")
    assert "job.py exited with code 3" in failure.message
    [check] = by_type(results, CheckResult)
    assert (check.check_name, check.passed) == ("ok", False)
    assert "did not report this check" in check.description


def test_an_exception_inside_the_block_is_the_failure_reason(tmp_path, make_context):
    results = run_script(
        tmp_path,
        make_context("a"),
        """
        with open_pipes() as p:
            raise ValueError("bad input file data/x.csv")
        """,
    )
    [failure] = results
    assert failure.message.startswith("job.py raised ValueError: bad input file data/x.csv")
    assert failure.error_class == "ValueError"
    assert "Traceback" in failure.output


def test_a_killed_process_names_the_signal(tmp_path, make_context):
    results = run_script(
        tmp_path,
        make_context("a"),
        """
        import signal
        with open_pipes() as p:
            os.kill(os.getpid(), signal.SIGKILL)
        """,
    )
    [failure] = results
    assert "job.py was killed by SIGKILL" in failure.message


def test_a_timeout_kills_the_process_and_says_so(tmp_path, make_context):
    start = time.monotonic()
    results = run_script(
        tmp_path,
        make_context("a"),
        """
        with open_pipes() as p:
            time.sleep(60)
        """,
        timeout=1.0,
    )
    assert time.monotonic() - start < 30
    [failure] = results
    assert "job.py timed out after 1 s; killed job.py (pid " in failure.message


def test_messages_over_stdout_when_no_messages_file(tmp_path, make_context):
    ctx = make_context("a")
    results = run_script(
        tmp_path,
        ctx,
        """
        del os.environ["CATCHMENT_PIPES_MESSAGES"]
        with open_pipes() as p:
            print("hello")
            p.report_materialization(metadata={"via": "stdout"})
        """,
    )
    assert results == [MaterializeResult(key=AssetKey("a"), metadata={"via": "stdout"})]
    assert ctx.log.at("info") == ["hello"]


def test_a_check_that_is_not_selected_is_an_error(tmp_path, make_context):
    ctx = make_context("a")
    results = run_script(
        tmp_path,
        ctx,
        """
        with open_pipes() as p:
            p.report_check("made_up", False)
            p.report_materialization()
        """,
    )
    assert results == [MaterializeResult(key=AssetKey("a"))]
    assert "check a:made_up is not selected in this step" in ctx.log.at("error")[0]


def test_a_large_context_travels_in_a_file(tmp_path, make_context):
    ctx = make_context("a")
    script = tmp_path / "job.py"
    script.write_text(
        PRELUDE
        + "assert not os.environ['CATCHMENT_PIPES_CONTEXT'].startswith('{')\n"
        + "with open_pipes() as p:\n"
        + "    p.report_materialization(metadata={'n': len(p.get_extra('blob'))})\n"
    )
    client = PipesSubprocessClient()
    results = list(client.run(ctx, [sys.executable, str(script)], extras={"blob": "y" * 100_000}))
    assert results == [MaterializeResult(key=AssetKey("a"), metadata={"n": 100_000})]


def test_a_missing_program_is_a_clear_error(make_context):
    client = PipesSubprocessClient()
    with pytest.raises(ExecutionError, match="cannot start 'no-such-program-xyz'") as info:
        list(client.run(make_context("a"), ["no-such-program-xyz"]))
    assert info.value.hint
