"""Reading replications: defaults, per-stream target objects as Sling resolves them, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from catchment.errors import ConfigError
from catchment_sling.replication import load_replication, resolve_streams, split_object


def _streams(data: dict, *, file: bool = False, schema: str = "main"):
    rep = load_replication(data, Path("/p"))
    return {
        s.name: s for s in resolve_streams(rep, source_is_file=file, target_default_schema=schema)
    }


def test_defaults_merge_and_db_templates_resolve_like_sling() -> None:
    # Expected objects were observed from sling 1.4.11 itself (see README, identity rules).
    streams = _streams(
        {
            "source": "PG",
            "target": "WH",
            "defaults": {"mode": "full-refresh", "object": "raw.{stream_schema}_{stream_table}"},
            "streams": {
                "sx.orders": None,
                "sx.items": {"object": "raw.a_{stream_name}", "mode": "incremental"},
                "sx.Users": {"object": "raw.c_{stream_table_upper}"},
                "sx.events": {"object": "e_{target_schema}"},
                "sx.off": {"disabled": True},
            },
        }
    )
    assert set(streams) == {"sx.orders", "sx.items", "sx.Users", "sx.events"}
    assert streams["sx.orders"].object == "raw.sx_orders"
    assert streams["sx.orders"].mode == "full-refresh"
    assert (streams["sx.orders"].source_schema, streams["sx.orders"].source_table) == (
        "sx",
        "orders",
    )
    assert streams["sx.items"].object == "raw.a_sx_items"
    assert streams["sx.items"].mode == "incremental"
    assert streams["sx.Users"].object == "raw.c_USERS"
    assert streams["sx.events"].object == "e_main"
    assert streams["sx.events"].target_schema is None


def test_file_templates_resolve_like_sling() -> None:
    name = "file:///tmp/x/My-Data/Peo-ple.v1.csv"
    objects = {
        "raw.a_{stream_file_folder}": "raw.a_My_Data",
        "raw.b_{stream_file_name}": "raw.b_Peo_ple_v1",
        "raw.c_{stream_file_ext}": "raw.c_csv",
        "raw.d_{stream_file_path}": "raw.d_tmp_x_My_Data_Peo_ple_v1_csv",
        "raw.e_{stream_name}": "raw.e_file_tmp_x_my_data_peo_ple_v1_csv",
        "raw.h_{source_name}_{target_name}": "raw.h_local_wh",
    }
    for template, expected in objects.items():
        streams = _streams(
            {"source": "LOCAL", "target": "WH", "streams": {name: {"object": template}}},
            file=True,
        )
        assert streams[name].object == expected, template
        assert streams[name].is_file
        assert streams[name].source_table is None


def test_primary_and_update_keys_are_read() -> None:
    s = _streams(
        {
            "source": "PG",
            "target": "WH",
            "streams": {
                "a.b": {"object": "x.y", "primary_key": "id", "update_key": "ts"},
                "a.c": {"object": "x.z", "primary_key": ["k1", "k2"]},
            },
        }
    )
    assert (s["a.b"].primary_key, s["a.b"].update_key) == (["id"], "ts")
    assert (s["a.c"].primary_key, s["a.c"].update_key) == (["k1", "k2"], None)


def test_split_object_respects_quotes() -> None:
    assert split_object('raw."my.table"') == ["raw", "my.table"]
    assert split_object("orders") == ["orders"]


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "rep.yaml").write_text("source: PG\ntarget: WH\nstreams: [\n  a.b\n")
    with pytest.raises(ConfigError) as info:
        load_replication("rep.yaml", tmp_path)
    text = str(info.value)
    assert "does not parse" in text
    assert "rep.yaml:" in (info.value.where or "")
    assert info.value.hint


def test_missing_file_says_which_field(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_replication("nope.yaml", tmp_path)
    assert "nope.yaml" in (info.value.where or "")
    assert "attributes.replication" in (info.value.where or "")


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"target": "WH", "streams": {"a.b": None}}, "no `source`"),
        ({"source": "PG", "target": "WH"}, "no streams"),
        ({"source": "PG", "target": "WH", "streams": {"a.*": {"object": "x.y"}}}, "wildcard"),
        ({"source": "PG", "target": "WH", "streams": {"a.b": None}}, "no target `object`"),
        (
            {"source": "PG", "target": "WH", "streams": {"a.b": {"object": "x.{nope}"}}},
            "{nope}",
        ),
        (
            {"source": "PG", "target": "WH", "streams": {"a.b": {"object": "x", "mode": "zap"}}},
            "unknown mode",
        ),
    ],
)
def test_bad_replications_get_one_clear_message(data: dict, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        _streams(data)
    assert fragment in info.value.message
