"""lucia_pyodide.server: what a Python backend renders, read back as a browser and the client would.

The rendered element goes through html.parser (the HTML tokenizer's script-data
rules: only ``</script`` ends it) and the text through the client's own parsers.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lucia_pyodide._user import user_from_page_data_json, user_from_script_text
from lucia_pyodide.server import page_data_script, script_json, user_script_tag

HOSTILE = ["</script><script>alert(1)</script>", "<!--", "<script>", "]]>", "\u2028\u2029",
           "</SCRIPT >", "&lt;/script&gt;", "\ud800", "\x00", "'\"`", "${x}", "\\u003c/script>"]


class Scripts(HTMLParser):
    """The text of each <script> element, as a browser's tokenizer splits the page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.scripts: list[str] = []
        self.inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.inside = True
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self.inside = False

    def handle_data(self, data: str) -> None:
        if self.inside:
            self.scripts[-1] += data


def scripts_of(html: str) -> list[str]:
    parser = Scripts()
    parser.feed(f"<html><head>{html}</head><body><p>after</p></body></html>")
    parser.close()
    return parser.scripts


user_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text() | st.sampled_from(HOSTILE),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
users = st.builds(lambda uid, attrs: {"userId": uid, **attrs},
                  st.text(min_size=1) | st.sampled_from(HOSTILE),
                  st.dictionaries(st.text(max_size=10).filter(lambda k: k != "userId"), user_values,
                                  max_size=4))


@settings(max_examples=300)
@given(users)
def test_the_json_tag_holds_exactly_the_user(user: dict[str, Any]) -> None:
    html = user_script_tag(user)
    [text] = scripts_of(html)  # one element: nothing broke out of it
    assert json.loads(text) == user
    parsed = user_from_script_text(text)
    assert parsed is not None and parsed.user_id == user["userId"]
    assert not re.search(r"</script|<!--", text, re.IGNORECASE)


@settings(max_examples=300)
@given(users)
def test_the_sveltekit_script_holds_exactly_the_user(user: dict[str, Any]) -> None:
    [text] = scripts_of(page_data_script(user, nonce="r4nd0m"))
    match = re.fullmatch(r"window\._lucia_page_data = (.*);", text, re.DOTALL)
    assert match is not None
    assert "\u2028" not in match.group(1) and "\u2029" not in match.group(1)  # old JS engines
    assert json.loads(match.group(1))[0]["data"]["_lucia"] == user
    parsed = user_from_page_data_json(match.group(1))
    assert parsed is not None and parsed.user_id == user["userId"]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_stay_text(name: str) -> None:
    user = {"userId": "u1", "username": name}
    for html in (user_script_tag(user), page_data_script(user)):
        assert len(scripts_of(html)) == 1
    assert script_json(name).isascii()


def test_signed_out_and_bad_input() -> None:
    assert user_script_tag(None).endswith(">null</script>")
    assert '"_lucia":null' in page_data_script(None)
    for bad in ({"username": "x"}, {"userId": ""}, {"userId": 5}):
        with pytest.raises(ValueError, match="userId"):
            user_script_tag(bad)
    with pytest.raises(ValueError, match="nonce"):
        page_data_script(None, nonce='x" onload="alert(1)')
    with pytest.raises(ValueError):
        script_json(float("nan"))
