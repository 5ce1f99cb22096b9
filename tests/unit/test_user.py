"""Hydration parsing on CPython: the shapes the server renders, and hostile ones."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lucia_pyodide import LuciaError, User
from lucia_pyodide._user import (
    json_depth_exceeds,
    read_page_data,
    user_from_object,
    user_from_page_data_json,
    user_from_script_text,
)

REAL_SIGNED_IN = (
    '[{"type":"data","data":{"_lucia":{"userId":"4c1d","username":"alice"}},"uses":{}},null]'
)


def test_real_lucia_sveltekit_page_data() -> None:
    user = user_from_page_data_json(REAL_SIGNED_IN)
    assert user == User("4c1d", {"username": "alice"})
    assert user is not None and user.attributes["username"] == "alice"


def test_later_nodes_win_when_merging() -> None:
    nodes = [{"data": {"_lucia": {"userId": "layout"}}}, None, {"data": {"_lucia": {"userId": "page"}}}]
    user = user_from_page_data_json(json.dumps(nodes))
    assert user is not None and user.user_id == "page"


def test_no_lucia_in_any_node_is_signed_out_like_the_js_client() -> None:
    user, reason = read_page_data('[{"type":"data","data":{"title":"Home"},"uses":{}},null,{}]')
    assert user is None and "no `_lucia`" in reason


def test_signed_out_is_none() -> None:
    assert user_from_page_data_json('[{"type":"data","data":{"_lucia":null},"uses":{}},null]') is None
    assert user_from_script_text("null") is None


def test_user_is_immutable_all_the_way_down() -> None:
    data = {"userId": "u", "roles": ["a"], "profile": {"x": [1, {"y": 2}]}}
    user = user_from_object(data, "t")
    assert user is not None
    with pytest.raises(AttributeError):
        user.user_id = "v"  # type: ignore[misc]
    mine = user.attributes  # the page's own copy: change it freely
    mine["roles"].append("admin")
    mine["profile"]["x"][1]["y"] = 3
    del mine["profile"]
    data["roles"].append("root")  # nor does what it was read from reach the user
    assert user.attributes == {"roles": ["a"], "profile": {"x": [1, {"y": 2}]}}
    assert hash(user) == hash(User("u"))  # hashable by id despite the mapping


def test_user_as_python_people_use_it() -> None:
    attributes = {"username": "alice", "tags": ["a", "b"], "profile": {"age": 30, "admin": None}}
    user = User("u1", attributes)
    assert type(user.attributes) is dict and type(user.attributes["tags"]) is list
    assert dict(user.attributes) == {**user.attributes} == attributes
    assert json.loads(json.dumps(user.attributes)) == attributes  # nested values included
    assert list(user.attributes) == ["username", "tags", "profile"]
    assert user.to_dict() == {"userId": "u1", **attributes}
    assert json.dumps(user.to_dict()).startswith('{"userId": "u1", "username": "alice"')
    assert User.from_dict(json.loads(json.dumps(user.to_dict()))) == user  # through a worker
    assert User("u1", {"tags": ("a", "b")}).attributes == {"tags": ["a", "b"]}


@pytest.mark.parametrize(("data", "detail"), [
    (None, "the user is null"), ([], "the user is an array"), ({"userId": ""}, "userId is a string"),
    ({"userId": "u", "x": [[[[]]]] * 1}, None)])
def test_user_from_dict_checks_like_page_data(data: object, detail: str | None) -> None:
    if detail is None:
        assert User.from_dict(data).attributes == {"x": [[[[]]]]}
        return
    with pytest.raises(LuciaError) as raised:
        User.from_dict(data)
    assert raised.value.code == "AUTH_INVALID_USER_DATA"
    assert raised.value.detail.startswith("User.from_dict: ") and detail in raised.value.detail


def test_repr_is_readable() -> None:
    assert repr(User("u", {"username": "bo"})) == "User(user_id='u', attributes={'username': 'bo'})"


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("{", "not JSON"),
        ("", "not JSON"),
        ("{}", "expected an array"),
        ("[1]", "node 0 is a number"),
        ('[{"data": 1}]', "node 0's data is a number"),
        ('[{"data": {"_lucia": {"userId": 1}}}]', "userId is a number"),
        ('[{"data": {"_lucia": {"userId": true}}}]', "userId is a boolean"),
        ('[{"data": {"_lucia": "alice"}}]', "the user is a string"),
        ('[{"data": {"_lucia": {"userId": "u", "x": ' + "[" * 70 + "]" * 70 + "}}}]",
         "nested deeper"),
        ("[" * 200_000 + "]" * 200_000, "nested deeper"),
    ],
)
def test_corrupt_page_data_is_a_specific_error(text: str, detail: str) -> None:
    with pytest.raises(LuciaError) as caught:
        user_from_page_data_json(text)
    assert caught.value.code == "AUTH_INVALID_USER_DATA"
    assert detail in caught.value.detail


def test_depth_scan_ignores_brackets_in_strings() -> None:
    assert not json_depth_exceeds(json.dumps({"s": "[" * 1000}))
    assert json_depth_exceeds("[" * 65 + "]" * 65)
    assert not json_depth_exceeds(json.dumps({"s": '\\"' + "[" * 100}))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=2000)
@given(json_values)
def test_any_json_gives_a_user_none_or_a_lucia_error(value: object) -> None:
    for parse in (user_from_page_data_json, user_from_script_text):
        try:
            result = parse(json.dumps(value))
        except LuciaError as err:
            assert err.code == "AUTH_INVALID_USER_DATA" and err.detail
        else:
            assert result is None or isinstance(result, User)


@settings(max_examples=2000)
@given(st.text())
def test_any_text_gives_a_user_none_or_a_lucia_error(text: str) -> None:
    for parse in (user_from_page_data_json, user_from_script_text):
        try:
            parse(text)
        except LuciaError as err:
            assert err.code == "AUTH_INVALID_USER_DATA"


@settings(max_examples=500)
@given(st.dictionaries(st.text(), json_values, max_size=6), st.text(min_size=1))
def test_valid_users_round_trip(attributes: dict[str, object], user_id: str) -> None:
    attributes.pop("userId", None)
    user = user_from_script_text(json.dumps({"userId": user_id, **attributes}))
    assert user is not None and user.user_id == user_id
    assert set(user.attributes) == set(attributes)
