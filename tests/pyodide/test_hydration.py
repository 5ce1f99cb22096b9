"""get_user() inside real Pyodide: each hydration source, and each corrupt form of it."""

from __future__ import annotations

from typing import Any

import pytest

from .interpreters import run_in_pyodide_or_micropython

ALICE = {"userId": "5a0c1e1e-1111-4222-8333-944445555666", "username": "alice", "admin": None,
         "tags": ["a", "b"], "profile": {"age": 30}}


@run_in_pyodide_or_micropython
def _sveltekit_user(selenium_lucia: Any, user: Any) -> list[Any]:
    from lucia_testkit import set_page_data

    import lucia_pyodide

    set_page_data([{"type": "data", "data": {"_lucia": user, "other": 1}, "uses": {}}, None])
    got = lucia_pyodide.get_user()
    if got is None:
        return [None, lucia_pyodide.default_client().user_reason]
    assert got is lucia_pyodide.get_user()  # cached: the same object
    try:
        got.user_id = "mallory"  # type: ignore[misc]
        mutable = True
    except AttributeError:
        mutable = False
    mine = got.attributes  # the page's own copy: changing it leaves the user as it was
    mine["username"] = "mallory"
    mine["tags"].append("c")
    if got.attributes["username"] != "alice" or len(got.attributes["tags"]) != 2:
        mutable = True
    attributes = got.attributes
    return [got.user_id, [attributes["username"], list(attributes["tags"])], mutable, repr(got),
            attributes["admin"] is None, attributes["profile"]["age"]]


def test_sveltekit_global_gives_a_frozen_user(selenium_lucia: Any) -> None:
    user_id, attributes, mutable, text, admin_is_none, age = _sveltekit_user(selenium_lucia, ALICE)
    assert user_id == ALICE["userId"]
    assert attributes == ["alice", ["a", "b"]]
    assert not mutable
    assert "alice" in text and ALICE["userId"] in text
    assert admin_is_none  # JS null became Python None, not jsnull
    assert age == 30


@run_in_pyodide_or_micropython
def _user_as_plain_data(selenium_lucia: Any, user: Any) -> list[Any]:
    import json
    import sys

    import js
    from lucia_testkit import set_page_data

    import lucia_pyodide

    set_page_data([{"type": "data", "data": {"_lucia": user}, "uses": {}}, None])
    got = lucia_pyodide.get_user()
    attributes = got.attributes
    if sys.platform == "emscripten":  # Pyodide
        from pyodide.ffi import to_js
        as_js = to_js(got.to_dict(), dict_converter=js.Object.fromEntries)
    else:
        from jsffi import to_js
        as_js = to_js(got.to_dict())
    again = lucia_pyodide.User.from_dict(json.loads(json.dumps(got.to_dict())))  # a worker's way
    return [type(attributes) is dict, dict(attributes), json.loads(json.dumps(attributes)),
            sorted(attributes), sorted(attributes.items()) == sorted(dict(attributes).items()),
            json.loads(str(js.JSON.stringify(as_js))), again == got, again.attributes == attributes,
            sys.platform == "emscripten"]


def test_the_user_is_plain_data_in_every_interpreter(selenium_lucia: Any) -> None:
    is_dict, copied, through_json, keys, items_match, in_js, again, same, pyodide = \
        _user_as_plain_data(selenium_lucia, ALICE)
    attributes = {k: v for k, v in ALICE.items() if k != "userId"}
    assert is_dict and copied == through_json == attributes  # dict() and json.dumps, nested too
    assert keys == sorted(attributes) and items_match
    # to_js: the user as the server sent it, as the JS client has it (Pyodide's to_js makes
    # None undefined, which JSON then leaves out; MicroPython's makes it null)
    assert in_js == ({k: v for k, v in ALICE.items() if v is not None} if pyodide else ALICE)
    assert again and same


def test_sveltekit_global_signed_out_is_none_with_reason(selenium_lucia: Any) -> None:
    user, reason = _sveltekit_user(selenium_lucia, None)
    assert user is None and "signed out" in reason


@run_in_pyodide_or_micropython
def _no_source(selenium_lucia: Any) -> list[Any]:
    import lucia_pyodide

    return [lucia_pyodide.get_user(), lucia_pyodide.default_client().user_reason]


def test_no_hydration_at_all_is_none_with_reason(selenium_lucia: Any) -> None:
    user, reason = _no_source(selenium_lucia)
    assert user is None
    if selenium_lucia.browser == "chrome":  # a page without the server's rendering
        assert "_lucia_page_data" in reason and "lucia-user" in reason
    else:  # Node: no page at all, and it says so rather than blaming the server
        assert "no page here" in reason


@run_in_pyodide_or_micropython
def _with_a_worker_scope(selenium_lucia: Any) -> list[Any]:
    import js

    from lucia_pyodide import LuciaClient

    js.globalThis.WorkerGlobalScope = js.Object.new()  # what a web worker's globals have
    try:
        client = LuciaClient()
        return [client.get_user(), client.user_reason]
    finally:
        js.Reflect.deleteProperty(js.globalThis, "WorkerGlobalScope")


def test_in_a_worker_get_user_says_it_cannot_see_the_page(selenium_lucia: Any) -> None:
    """Node has no document, so with a WorkerGlobalScope it looks as a PyScript worker does.

    In Chromium the page's document cannot be taken away, so there it stays a page.
    """
    user, reason = _with_a_worker_scope(selenium_lucia)
    assert user is None
    if selenium_lucia.browser == "chrome":
        assert "no user data in the page" in reason
    else:
        assert "web worker" in reason and "main thread" in reason


@run_in_pyodide_or_micropython
def _script_user(selenium_lucia: Any, text: str, also_global: bool) -> list[Any]:
    import js
    from lucia_testkit import run_js, set_page_data, set_user_script

    import lucia_pyodide

    set_user_script(text)
    if also_global:
        set_page_data([{"type": "data", "data": {"_lucia": {"userId": "from-global"}}}])
    client = lucia_pyodide.LuciaClient()
    user = client.get_user()
    js.document.getElementById("lucia-user").remove()
    run_js("delete globalThis._lucia_page_data")
    return [None if user is None else user.user_id, client.user_reason]


def test_script_tag_source(selenium_lucia: Any) -> None:
    if selenium_lucia.browser == "node":
        pytest.skip("Node has no DOM")
    assert _script_user(selenium_lucia, '{"userId": "u1", "username": "bo"}', False)[0] == "u1"
    assert _script_user(selenium_lucia, "null", False) == [None, "#lucia-user says signed out (null)"]
    # With both present, the lucia-sveltekit global wins.
    assert _script_user(selenium_lucia, '{"userId": "u1"}', True)[0] == "from-global"


#: (JavaScript that corrupts the page, what the error detail must say). Where the
#: interpreters say it differently, a dict gives each its words: MicroPython reads the
#: data without calling JavaScript that could throw, so it names what it refused.
CORRUPT_GLOBALS: list[tuple[str, str | dict[str, str]]] = [
    ("globalThis._lucia_page_data = {}", "expected an array"),
    ("globalThis._lucia_page_data = null", "expected an array"),
    ("globalThis._lucia_page_data = 'x'", "expected an array"),
    ("globalThis._lucia_page_data = [5]", "node 0 is a number"),
    ("globalThis._lucia_page_data = [{data: []}]", "node 0's data is an array"),
    ("globalThis._lucia_page_data = [{data: {_lucia: {userId: 7}}}]", "userId is a number"),
    ("globalThis._lucia_page_data = [{data: {_lucia: {name: 'x'}}}]", "userId is null"),
    ("globalThis._lucia_page_data = [{data: {_lucia: {userId: ''}}}]", "non-empty string"),
    ("globalThis._lucia_page_data = [{data: {_lucia: [1]}}]", "the user is an array"),
    ("globalThis._lucia_page_data = [{data: {_lucia: true}}]", "the user is a boolean"),
    ("globalThis._lucia_page_data = () => 1", "not JSON data"),
    ("const c = {}; c.c = c; globalThis._lucia_page_data = c",
     {"pyodide": "threw TypeError: Converting circular structure", "micropython": "(a cycle?)"}),
    ("globalThis._lucia_page_data = [{data: {_lucia: {userId: 'u', n: 10n}}}]",
     {"pyodide": "threw TypeError: Do not know how to serialize a BigInt",
      "micropython": "not JSON data: it holds a BigInt"}),
    ("globalThis._lucia_page_data = [{data: {_lucia: {userId: 'u', when: new Date(0)}}}]",
     {"pyodide": "NO ERROR", "micropython": "not JSON data: it holds a Date"}),
    ("globalThis._lucia_page_data = [{data: {_lucia: {userId: 'u', get x() { throw 1 }}}}]",
     {"pyodide": "threw", "micropython": "'x' is a getter, not data"}),
    ("class K {}; globalThis._lucia_page_data = [{data: {_lucia: {userId: 'u', k: new K()}}}]",
     {"pyodide": "NO ERROR", "micropython": "not JSON data: it holds a K"}),
    ("const p = Object.create(null, {constructor: {get() { throw new Error('boom') }}});"
     "globalThis._lucia_page_data = [{data: {_lucia: {userId: 'u', x: Object.create(p)}}}]",
     {"pyodide": "NO ERROR", "micropython": "it holds an object of another kind"}),
    ("let d = []; for (let i = 0; i < 1000; i++) d = [d];"
     "globalThis._lucia_page_data = [{data: {_lucia: {userId: 'u', d}}}]", "nested deeper"),
    # A sparse array claiming 200,000 items: Pyodide reads 200,000 nulls (1 MB of JSON);
    # MicroPython, which walks them one by one, stops at 100,000 (see the README).
    ("const big = []; big.length = 2e5; "
     "globalThis._lucia_page_data = [{data: {_lucia: {userId: 'u', big}}}]",
     {"pyodide": "NO ERROR", "micropython": "an array of 200000 items, more than 100000"}),
    ("Object.defineProperty(globalThis, '_lucia_page_data', "
     "{get() { throw new Error('boom') }, configurable: true})",
     {"pyodide": "boom", "micropython": "'_lucia_page_data' is a getter, not data"}),
]


@run_in_pyodide_or_micropython
def _corrupt(selenium_lucia: Any, cases: list[Any]) -> list[list[str]]:
    from lucia_testkit import get_user_outcome, run_js

    import lucia_pyodide

    results = []
    for setup, _ in cases:
        run_js(setup)
        results.append(get_user_outcome())
        run_js("delete globalThis._lucia_page_data")
    assert lucia_pyodide.get_user() is None  # nothing left behind
    return results


def test_corrupt_sveltekit_global_is_a_specific_error(selenium_lucia: Any) -> None:
    results = _corrupt(selenium_lucia, CORRUPT_GLOBALS)
    for (setup, said), (code, detail) in zip(CORRUPT_GLOBALS, results, strict=True):
        expected = said if isinstance(said, str) else said[selenium_lucia.name]
        if expected == "NO ERROR":  # data after all (JSON.stringify turns a Date into text)
            assert code == expected, (setup, code, detail)
            continue
        assert code == "AUTH_INVALID_USER_DATA", (setup, code, detail)
        assert expected in detail, (setup, detail)


@run_in_pyodide_or_micropython
def _undefined_global(selenium_lucia: Any) -> Any:
    from lucia_testkit import run_js

    from lucia_pyodide import LuciaClient

    run_js("globalThis._lucia_page_data = undefined")
    return LuciaClient().get_user()


def test_undefined_global_counts_as_absent(selenium_lucia: Any) -> None:
    assert _undefined_global(selenium_lucia) is None


@run_in_pyodide_or_micropython
def _no_lucia_key(selenium_lucia: Any) -> list[Any]:
    from lucia_testkit import run_js

    from lucia_pyodide import LuciaClient

    run_js("globalThis._lucia_page_data = [{type: 'data', data: {title: 'Home'}}, null, {}]")
    client = LuciaClient()
    user = client.get_user()
    run_js("delete globalThis._lucia_page_data")
    return [user, client.user_reason]


def test_page_data_without_lucia_is_signed_out_like_the_js_client(selenium_lucia: Any) -> None:
    user, reason = _no_lucia_key(selenium_lucia)
    assert user is None and "no `_lucia`" in reason


@run_in_pyodide_or_micropython
def _odd_but_valid(selenium_lucia: Any) -> list[Any]:
    from lucia_testkit import run_js

    from lucia_pyodide import LuciaClient

    # Prototype-ish keys are plain data; undefined members vanish and null stays None.
    run_js("""globalThis._lucia_page_data = [undefined, null, {data: null},
        {data: JSON.parse('{"_lucia": {"userId": "u", "__proto__": {"admin": true},'
                          + ' "constructor": 1, "n": null}}')},
        {data: {_lucia: {userId: "u", gone: undefined, list: [undefined, null, 1]}}}]""")
    user = LuciaClient().get_user()
    run_js("delete globalThis._lucia_page_data")
    assert user is not None
    return [user.user_id, sorted(user.attributes), list(user.attributes["list"])]


def test_prototype_keys_and_undefined_mixes_are_plain_data(selenium_lucia: Any) -> None:
    user_id, keys, items = _odd_but_valid(selenium_lucia)
    # The later node wins whole: its _lucia replaces the earlier one.
    assert user_id == "u" and keys == ["list"] and items == [None, None, 1]


@run_in_pyodide_or_micropython
def _proto_user(selenium_lucia: Any) -> list[Any]:
    from lucia_testkit import run_js

    from lucia_pyodide import LuciaClient

    run_js("""globalThis._lucia_page_data = [{data: JSON.parse(
        '{"_lucia": {"userId": "u", "__proto__": {"admin": true}, "constructor": 1}}')}]""")
    user = LuciaClient().get_user()
    run_js("delete globalThis._lucia_page_data")
    assert user is not None
    return [sorted(user.attributes), dict(user.attributes["__proto__"].items())]


def test_proto_keys_stay_data(selenium_lucia: Any) -> None:
    keys, proto = _proto_user(selenium_lucia)
    assert keys == ["__proto__", "constructor"] and proto == {"admin": True}


#: Each script's text as a Python expression, built in the interpreter: a megabyte sent in
#: the test's own code costs MicroPython seconds to compile and decode (its json.loads is
#: quadratic in a string's length: 45 ms for 100 kB, 3.8 s for 1 MB, measured in Node), and
#: the test must measure the client, not the harness.
CORRUPT_SCRIPTS = [
    ("'<b>not json'", "not JSON"),
    ("''", "not JSON"),
    ("""'{"userId": 1}'""", "userId is a number"),
    ("'[]'", "the user is an array"),
    ("""'"alice"'""", "the user is a string"),
    ("""'{"userId": "u", "deep": ' + "[" * 100_000 + "]" * 100_000 + '}'""", "nested deeper"),
    ("""'{"userId": "u", "deep": ' + "[" * 65 + "]" * 65 + '}'""", "nested deeper"),
    ("""'{"userId": "u", "name": "' + "x" * 1_000_000 + '"}'""", "NO ERROR"),
]


@run_in_pyodide_or_micropython
def _corrupt_script(selenium_lucia: Any, text_expression: str) -> list[str]:
    import js
    from lucia_testkit import get_user_outcome, set_user_script

    set_user_script(eval(text_expression))  # the test's own literal
    outcome = get_user_outcome()
    js.document.getElementById("lucia-user").remove()
    return outcome


def test_corrupt_script_tag_is_a_specific_error(selenium_lucia: Any) -> None:
    if selenium_lucia.browser == "node":
        pytest.skip("Node has no DOM")
    # One call per script: each has the harness's whole script timeout.
    for text, expected in CORRUPT_SCRIPTS:
        code, detail = _corrupt_script(selenium_lucia, text)
        if expected == "NO ERROR":  # huge but well-formed: accepted
            assert code == expected, (text[:40], code, detail)
            continue
        assert code == "AUTH_INVALID_USER_DATA", (text[:40], code, detail)
        assert expected in detail, (text[:40], detail)
