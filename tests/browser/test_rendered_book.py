"""Open every page of the built book in headless Chromium and check what a reader sees.

Runs after a build (``jupyter-book build .``); it is skipped, with the reason, when
there is no built book or no Chromium. Environment variables:

* ``BOOK_HTML_DIR``: the built HTML (default ``_build/html``);
* ``CHROMIUM``: the browser executable (default ``chromium`` on the ``PATH``).

The book ships MathJax in ``_static/mathjax`` (``scripts/fetch_mathjax.sh``), so the
test runs the way an offline reader does: every request that leaves 127.0.0.1 is
refused and recorded, and a page that makes one fails. For every chapter in
``_toc.yml`` the test checks that the page loads without console errors, that every
image has loaded, that notebook pages show cell outputs, and that every equation is
typeset by MathJax without a TeX error. It also checks that the sidebar lists every
chapter, and saves a screenshot of one chapter as
``<BOOK_HTML_DIR>/screenshot-<chapter>.png``.
"""
from __future__ import annotations

import functools
import html
import http.server
import os
import re
import shutil
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]
HTML_DIR = Path(os.environ.get("BOOK_HTML_DIR", ROOT / "_build" / "html")).resolve()
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
SHIPPED_MATHJAX = HTML_DIR / "_static" / "mathjax" / "tex-mml-chtml.js"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SCREENSHOT_CHAPTER = os.environ.get("BOOK_SCREENSHOT", "book/05-lstm")
PAGE_TIMEOUT_MS = 30_000

if not (HTML_DIR / "index.html").is_file():
    pytest.skip(f"no built book in {HTML_DIR} (build it with `jupyter-book build .`, "
                f"or set BOOK_HTML_DIR)", allow_module_level=True)
if not Path(CHROMIUM).is_file():
    pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium, or set "
                f"CHROMIUM)", allow_module_level=True)
playwright_sync = pytest.importorskip("playwright.sync_api",
                                      reason="playwright is not installed")


def toc_files() -> list[str]:
    """The pages of ``_toc.yml`` in reading order (``book/intro``, ``book/03-rnn``...)."""
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part.get("chapters", [])]
    return files


PAGES = toc_files()


# ------------------------------------------------------------------ server, browser


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802
        if self.path == "/favicon.ico":  # browsers ask for it; the book has none
            self.send_response(204)
            self.end_headers()
            return
        super().do_GET()


@pytest.fixture(scope="module")
def base_url():
    handler = functools.partial(_QuietHandler, directory=str(HTML_DIR))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    with playwright_sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                    headless=True)
        try:
            yield browser
        finally:
            browser.close()


def _route_offline(route, refused: list[str]) -> None:
    """Let requests to the local server through; refuse and record any other."""
    if urlparse(route.request.url).hostname == "127.0.0.1":
        route.continue_()
        return
    refused.append(route.request.url)
    route.abort()


class LoadedPage:
    """A page opened in a fresh tab, with the console errors it produced."""

    def __init__(self, browser, url: str):
        self.errors: list[str] = []
        self.refused: list[str] = []
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.context.route("**/*", lambda route: _route_offline(route, self.refused))
        self.page = self.context.new_page()
        self.page.on("console", lambda msg: self.errors.append(msg.text)
                     if msg.type == "error" else None)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        response = self.page.goto(url, wait_until="load", timeout=PAGE_TIMEOUT_MS)
        self.status = response.status if response is not None else None

    def close(self):
        self.context.close()


@pytest.fixture(scope="module")
def open_page(browser, base_url):
    opened = []

    def _open(file: str) -> LoadedPage:
        page = LoadedPage(browser, f"{base_url}/{file}.html")
        opened.append(page)
        return page

    yield _open
    for page in opened:
        page.close()


# ------------------------------------------------------------------ checks

_WAIT_FOR_IMAGES = """async () => {
  const images = Array.from(document.images);
  images.forEach(img => { img.loading = "eager"; });
  await Promise.all(images.map(img => img.complete ? null :
      new Promise(done => { img.onload = img.onerror = done; })));
  return images.filter(img => img.naturalWidth === 0).map(img => img.src);
}"""

_TYPESET_MATH = """async () => {
  const math = document.querySelectorAll("span.math, div.math").length;
  if (math === 0) return {math: 0};
  if (!(window.MathJax && window.MathJax.startup)) return {math, mathjax: false};
  await window.MathJax.startup.promise;
  return {math, mathjax: true,
          rendered: document.querySelectorAll("mjx-container").length,
          errors: Array.from(document.querySelectorAll("mjx-merror"))
                       .map(e => e.getAttribute("data-mjx-error") || e.textContent)};
}"""


def _is_notebook_page(file: str) -> bool:
    return (HTML_DIR / "_sources" / f"{file}.ipynb").is_file()


@pytest.mark.parametrize("file", PAGES)
def test_page_renders(open_page, file):
    if not (HTML_DIR / f"{file}.html").is_file():
        pytest.fail(f"{file}.html is missing from the build in {HTML_DIR}")
    loaded = open_page(file)
    page = loaded.page
    assert loaded.status == 200
    broken = page.evaluate(_WAIT_FOR_IMAGES)
    assert broken == [], f"images that did not load on {file}: {broken}"
    if _is_notebook_page(file):
        outputs = page.locator("div.cell_output")
        assert outputs.count() > 0, f"{file} shows no cell output"
        assert outputs.first.is_visible(), f"the first cell output of {file} is hidden"
    math = page.evaluate(_TYPESET_MATH)
    if math["math"]:
        assert SHIPPED_MATHJAX.is_file(), (
            f"{file} has {math['math']} equations but the build ships no MathJax "
            f"({SHIPPED_MATHJAX} is missing): build with scripts/build_book.sh")
        assert math["mathjax"], f"MathJax did not load on {file}"
        assert math["rendered"] >= math["math"], (
            f"{file}: {math['rendered']} of {math['math']} equations typeset")
        assert math["errors"] == [], f"TeX errors on {file}: {math['errors']}"
    assert loaded.refused == [], f"{file} asked for remote resources: {loaded.refused}"
    assert loaded.errors == [], f"console errors on {file}: {loaded.errors}"


def _page_title(file: str) -> str:
    """The text of a built page's H1, read from its HTML file."""
    text = (HTML_DIR / f"{file}.html").read_text(encoding="utf-8")
    match = re.search(r"<h1[^>]*>(.*?)</h1>", text, flags=re.S)
    assert match, f"{file}.html has no <h1>"
    heading = re.sub(r"<a class=\"headerlink\".*?</a>", "", match.group(1), flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", heading)).strip()


def test_sidebar_lists_every_chapter(open_page):
    titles = {file: _page_title(file) for file in PAGES[1:]
              if (HTML_DIR / f"{file}.html").is_file()}
    sidebar = open_page(PAGES[0]).page.locator("nav.bd-docs-nav a.reference.internal")
    listed = [text.strip() for text in sidebar.all_inner_texts()]
    missing = [title for title in titles.values() if title not in listed]
    assert missing == [], f"chapters missing from the sidebar: {missing}; it lists {listed}"


def test_screenshot_of_a_chapter(open_page):
    file = SCREENSHOT_CHAPTER if SCREENSHOT_CHAPTER in PAGES else PAGES[1]
    page = open_page(file).page
    page.evaluate(_WAIT_FOR_IMAGES)
    page.evaluate(_TYPESET_MATH)
    path = HTML_DIR / f"screenshot-{Path(file).name}.png"
    page.screenshot(path=str(path))
    assert path.stat().st_size > 10_000


COLORED_TEXT_CHAPTER = "book/05-long-range-memory"

_COLORED_TEXT = """() => {
  const blocks = Array.from(document.querySelectorAll("div.seqbook-colored-text"));
  return blocks.map(block => {
    const spans = Array.from(block.querySelectorAll("span[title]"));
    const colors = new Set(spans.map(s => getComputedStyle(s).backgroundColor));
    const box = block.getBoundingClientRect();
    return {spans: spans.length, colors: colors.size, width: box.width,
            height: box.height};
  });
}"""


def test_coloured_cell_activations_render(open_page):
    """Chapter 5b's passages coloured by LSTM units show as coloured text, not code."""
    if COLORED_TEXT_CHAPTER not in PAGES:
        pytest.skip(f"{COLORED_TEXT_CHAPTER} is not in _toc.yml")
    blocks = open_page(COLORED_TEXT_CHAPTER).page.evaluate(_COLORED_TEXT)
    assert len(blocks) >= 4, f"expected the coloured passages, found {blocks}"
    for block in blocks:
        assert block["spans"] >= 100, block          # one span per character
        assert block["colors"] >= 10, block          # a range of colours, not one
        assert block["width"] > 200 and block["height"] > 20, block   # laid out
