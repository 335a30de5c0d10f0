"""AssetKey: parsing, validation, ordering and the canonical string form."""

from __future__ import annotations

import pickle

import pytest
from catchment.errors import InvalidKeyError
from catchment.keys import AssetKey, CheckKey, keys
from hypothesis import given
from hypothesis import strategies as st

SEGMENT = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,12}", fullmatch=True)


def test_string_and_sequence_forms_are_the_same_key() -> None:
    k = AssetKey("raw/orders")
    assert k == AssetKey(["raw", "orders"]) == AssetKey.parse(("raw", "orders"))
    assert k.path == ("raw", "orders")
    assert str(k) == k.to_string() == "raw/orders"
    assert repr(k) == "AssetKey('raw/orders')"
    assert hash(k) == hash(AssetKey("raw/orders"))
    assert AssetKey.parse(k) is k


def test_name_parent_prefix_and_python_name() -> None:
    k = AssetKey("a/b-c/d.e")
    assert k.name == "d.e"
    assert k.parent == AssetKey("a/b-c")
    assert AssetKey("solo").parent is None
    assert k.with_prefix("x", "y") == AssetKey("x/y/a/b-c/d.e")
    assert k.to_python_name() == "a__b_c__d_e"


@pytest.mark.parametrize("bad", ["", "a//b", "/a", "a/", "a b", ".hidden", "-x", "a/ü", "a:b"])
def test_invalid_keys_raise_with_hint(bad: str) -> None:
    with pytest.raises(InvalidKeyError) as info:
        AssetKey(bad)
    assert info.value.hint
    assert "raw/orders" in info.value.hint


def test_empty_sequence_is_rejected() -> None:
    with pytest.raises(InvalidKeyError, match="at least one segment"):
        AssetKey([])


def test_keys_are_immutable_ordered_and_picklable() -> None:
    k = AssetKey("b/a")
    with pytest.raises(AttributeError):
        k.path = ("x",)  # type: ignore[misc]
    assert sorted([AssetKey("b"), AssetKey("a/z"), AssetKey("a")]) == [
        AssetKey("a"),
        AssetKey("a/z"),
        AssetKey("b"),
    ]
    assert AssetKey("a") < AssetKey("a/b") <= AssetKey("a/b")
    assert AssetKey("b") > AssetKey("a") >= AssetKey("a")
    assert pickle.loads(pickle.dumps(k)) == k
    assert keys(["a", ["b", "c"]]) == (AssetKey("a"), AssetKey("b/c"))


@given(st.lists(SEGMENT, min_size=1, max_size=6))
def test_string_form_round_trips(segments: list[str]) -> None:
    k = AssetKey(segments)
    assert AssetKey(str(k)) == k
    assert AssetKey(str(k)).path == tuple(segments)
    assert hash(AssetKey(str(k))) == hash(k)


def test_a_check_key_names_its_asset_and_its_check() -> None:
    key = CheckKey(AssetKey("raw/orders"), "not_empty")
    assert key.to_string() == str(key) == "raw/orders:not_empty"
    assert CheckKey.parse("raw/orders:not_empty") == key
    asset, name = key
    assert (asset, name) == (AssetKey("raw/orders"), "not_empty")
    assert pickle.loads(pickle.dumps(key)) == key


def test_text_without_an_asset_key_is_an_invalid_key() -> None:
    """The asset key is everything before the last colon (its segments never hold one)."""
    assert CheckKey.parse("a/b:c").asset == AssetKey("a/b")
    with pytest.raises(InvalidKeyError):
        CheckKey.parse("no_colon_here")


@given(st.lists(SEGMENT, min_size=1, max_size=4), st.from_regex(r"[a-z_]{1,12}", fullmatch=True))
def test_check_key_text_round_trips(segments: list[str], name: str) -> None:
    key = CheckKey(AssetKey(segments), name)
    assert CheckKey.parse(key.to_string()) == key


def test_interning_dec_hook_gives_one_key_object_per_string_and_passes_other_types_on() -> None:
    import msgspec
    from catchment.keys import interning_dec_hook

    class Pair(msgspec.Struct):
        a: AssetKey
        b: list[AssetKey]
        n: complex

    def other(type_: type, obj: object) -> object:
        assert type_ is complex
        return complex(*obj)  # type: ignore[misc]

    data = msgspec.msgpack.encode({"a": "raw/orders", "b": ["raw/orders", "x"], "n": [1, 2]})
    got = msgspec.msgpack.Decoder(Pair, dec_hook=interning_dec_hook(other)).decode(data)
    assert got.a == AssetKey("raw/orders")
    assert got.a.path == ("raw", "orders")
    assert got.b[0] is got.a
    assert got.b[1] == AssetKey("x")
    assert hash(got.a) == hash(AssetKey("raw/orders"))
    assert got.n == complex(1, 2)
    empty = msgspec.msgpack.encode({"a": "", "b": [], "n": [0, 0]})
    with pytest.raises(msgspec.ValidationError, match="non-empty"):
        msgspec.msgpack.Decoder(Pair, dec_hook=interning_dec_hook(other)).decode(empty)
