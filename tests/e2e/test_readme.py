"""The README's "Your own page" walkthrough, pasted as it is, in Chromium, offline.

The two files come out of the README's code blocks, the commands out of its shell
block (only the port is changed, to a free one), and a person's steps follow: sign in
at /login, open the page, read what it says.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import urllib.request
from collections.abc import Iterator

import pytest
from selenium.webdriver.remote.webdriver import WebDriver

from tools.browser import hosts_asked

from .conftest import ROOT, free_port, sign_in_to, wait_until_serving

README = (ROOT / "README.md").read_text()


def section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start:end if end >= 0 else None]


def blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, re.DOTALL)


@pytest.fixture(scope="module")
def own_page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    walkthrough = section("Your own page")
    [page], [app], [commands] = blocks(walkthrough, "html"), blocks(walkthrough, "python"), \
        blocks(walkthrough, "sh")
    work = tmp_path_factory.mktemp("readme")
    (work / "mine").mkdir()
    (work / "mine" / "index.html").write_text(page)
    (work / "mine" / "app.py").write_text(app)
    (work / "build").symlink_to(ROOT / "build")  # what `make demo-assets wheel` made
    make, serve = commands.strip().splitlines()
    assert make == "make demo-assets wheel"
    subprocess.run(shlex.split(make), cwd=ROOT, check=True, timeout=600)
    port = free_port()
    argv = shlex.split(serve.replace("--port 8000", f"--port {port}"))
    assert argv[:3] == ["python3", "-m", "refserver"]
    server = subprocess.Popen([sys.executable, *argv[1:]], cwd=work, env={"PYTHONPATH": str(ROOT)},
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(server, url + "/login")
        yield url
    finally:
        server.terminate()
        server.wait(10)


def test_the_readme_page_shows_who_is_signed_in(browser: WebDriver, own_page: str) -> None:
    """The README's order: sign in at /login, then open the page."""
    sign_in_to(browser, own_page, "/mine/", "demo", "demo-password",
               ready="document.getElementById('who').textContent === 'Signed in as demo'")
    assert hosts_asked(browser) == set()  # nothing from a CDN


def test_the_readme_python_snippets_compile() -> None:
    for title in ("Use", "Your own page", "Your own server"):
        for number, code in enumerate(blocks(section(title), "python")):
            compile(code, f"README {title} #{number}", "exec", flags=0x2000)  # top-level await


def test_the_reference_server_command_runs_as_pasted() -> None:
    [command] = [line for block in blocks(section("The reference server"), "sh")
                 for line in block.splitlines() if line.startswith("python3 -m refserver")]
    port = free_port()
    argv = shlex.split(command.replace("--port 8000", f"--port {port}"))
    server = subprocess.Popen([sys.executable, *argv[1:]], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        wait_until_serving(server, f"http://127.0.0.1:{port}/login")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as page:
            assert b'id="lucia-user">null</script>' in page.read()  # --hydration script
    finally:
        server.terminate()
        server.wait(10)
