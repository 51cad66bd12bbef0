"""The site: a clean strict build (also with no services), and every page looked at in Chromium."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from verify import browser
from verify.diagrams import MERMAID_VERSION  # docs/assets/javascripts/mermaid.min.js, npm mermaid@11.17.2
from verify.page import mermaid_fences

if TYPE_CHECKING:
    from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parent.parent
CONFIG = Path(os.environ.get("VERIFY_MKDOCS_CONFIG", ROOT / "mkdocs.yml"))
DOCS = CONFIG.parent / "docs"


@pytest.fixture(scope="module")
def hosted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """The strict build, served on 127.0.0.1 at the URL it was built for."""
    with browser.hosted(CONFIG, tmp_path_factory.mktemp("hosted")) as (site_dir, base, result):
        assert result.returncode == 0, result.stdout + result.stderr
        # log lines at WARNING level
        warnings = [line for line in (result.stdout + result.stderr).splitlines() if line.startswith("WARNING")]
        assert warnings == []
        yield site_dir, base


@pytest.fixture(scope="module")
def built(hosted: tuple[Path, str]) -> Path:
    return hosted[0]


def test_strict_build_is_clean(built: Path) -> None:
    assert (built / "index.html").is_file()
    assert (built / "questions" / "02-acid-transactions" / "index.html").is_file()


def test_site_builds_with_no_services(published: browser.Published) -> None:
    """In a network namespace of its own nothing answers on 127.0.0.1: the build must not care. (The one
    build of the site as it is, tests/conftest.py, is made there.)"""
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.fail(f"unshare -n is not permitted here: {probe.stderr!r}")
    assert published.offline
    assert published.returncode == 0, published.output
    assert (published.site_dir / "index.html").is_file()


@pytest.fixture(scope="module")
def light(hosted: tuple[Path, str]) -> list[browser.PageReport]:
    """Every page in the light palette at desktop width, each diagram label measured in both palettes."""
    return browser.check_site(*hosted, DOCS, labels=True)


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_every_page_renders_offline(hosted: tuple[Path, str], request: pytest.FixtureRequest, dark: bool) -> None:
    """Every diagram is a pre-rendered SVG; no page requests mermaid (browser.MERMAID_BUNDLE). (In light,
    the pass that also measures the labels: the dark pass runs on another worker and measures none.)"""
    reports: list[browser.PageReport] = (
        browser.check_site(*hosted, DOCS, dark=True) if dark else request.getfixturevalue("light")
    )
    assert len(reports) == len(list(DOCS.rglob("*.md")))
    assert sum(r.expected for r in reports) > 0
    problems = {r.url: r.problems for r in reports if r.problems}
    assert problems == {}


@pytest.mark.parametrize("palette", ["light", "dark"])
def test_every_label_is_legible_in_both_palettes(light: list[browser.PageReport], palette: str) -> None:
    """WCAG's 3:1 for text as large as these labels (16 px, shown at 70% to 100%) is the floor. Dark is
    reached with Material's palette toggle (no reload): the SVGs take their colours from its CSS
    variables."""
    measured = [(r.url, label) for r in light for label in r.labels.get(palette, [])]
    low = [f"{url} {x['svg']} {x['text']!r}: {x['ratio']:.2f}:1" for url, x in measured if x["ratio"] < 3]
    assert len(measured) > 100
    assert {r.url for r in light if r.expected} == {r.url for r in light if r.labels}  # every page with diagrams
    assert low == [], "\n".join(low)


def test_every_diagram_shows_with_javascript_off(hosted: tuple[Path, str]) -> None:
    """Every page's diagrams are there without JavaScript (and so in print and on the first paint)."""
    reports = browser.check_site(*hosted, DOCS, javascript=False)
    assert len(reports) == len(list(DOCS.rglob("*.md")))
    assert sum(r.rendered for r in reports) == sum(r.expected for r in reports) > 0
    problems = {r.url: r.problems for r in reports if r.problems}
    assert problems == {}


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_diagrams_render_after_instant_navigation(hosted: tuple[Path, str], dark: bool) -> None:
    reports = browser.check_site(*hosted, DOCS, dark=dark, via_navigation=True)
    assert len(reports) == len(list(DOCS.rglob("*.md")))
    problems = {r.url: r.problems for r in reports if r.problems}
    assert problems == {}


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_phone_width_pages_do_not_overflow(hosted: tuple[Path, str], dark: bool) -> None:
    """At 390 CSS px (a phone) code blocks, tables and diagrams scroll inside their own box: the page is
    never wider than the window (every other check holds there too)."""
    reports = browser.check_site(*hosted, DOCS, dark=dark, width=390)
    assert len(reports) == len(list(DOCS.rglob("*.md")))
    assert all(r.overflow <= 0 for r in reports), {r.url: r.overflow for r in reports}
    problems = {r.url: r.problems for r in reports if r.problems}
    assert problems == {}


def test_mermaid_is_self_hosted_and_pinned(built: Path) -> None:
    """The renderer's mermaid (verify/diagrams.py; also the browser's, for a diagram not rendered yet
    while editing) is the pinned self-hosted one, and no page names a CDN."""
    js = (ROOT / "docs/assets/javascripts/mermaid.min.js").read_text(encoding="utf-8")
    assert f'version:"{MERMAID_VERSION}"' in js
    for html in built.rglob("*.html"):
        text = html.read_text(encoding="utf-8")
        assert not re.search(r"unpkg\.com|jsdelivr|fonts\.googleapis|fonts\.gstatic", text), html


def test_mermaid_fills_also_set_a_text_colour() -> None:
    """A hard-coded fill with the theme's text colour is unreadable in dark mode."""
    offenders = []
    for page in sorted(DOCS.rglob("*.md")):
        lines = page.read_text(encoding="utf-8").splitlines()
        for fence in mermaid_fences("\n".join(lines)):
            for n in range(fence.line, fence.end - 1):
                line = lines[n]
                if re.match(r"\s*(style|classDef)\b", line) and "fill:" in line and "color:" not in line:
                    offenders.append(f"{page.relative_to(ROOT)}:{n + 1}: {line.strip()}")
    assert offenders == []


def test_code_keeps_its_text_without_the_spans_that_change_nothing() -> None:
    """verify/codespans.py drops Pygments' name and whitespace spans and nothing else: the same text, the
    other tokens still coloured. (That the theme draws the dropped classes like the code around them is
    checked on every page, in both palettes, by the browser passes: browser.NO_OP_SPANS.)"""
    import html as html_lib

    import markdown

    source = '```python\ndef total(rows: list[int]) -> int:\n    return sum(r * 2 for r in rows)  # "x"\n```\n'
    plain, lean = (
        markdown.Markdown(extensions=["pymdownx.superfences", "pymdownx.highlight", *more]).convert(source)
        for more in ([], ["verify.codespans"])
    )
    assert re.search(r'<span class="[nw]">', plain)
    assert not re.search(r'<span class="[nw]">', lean)
    text = [html_lib.unescape(re.sub(r"<[^>]+>", "", h)) for h in (plain, lean)]
    assert text[0] == text[1]
    assert "sum(r * 2 for r in rows)" in text[1]
    assert lean.count('<span class="k">') == plain.count('<span class="k">') > 0


@pytest.fixture(scope="module")
def q1(hosted: tuple[Path, str]) -> Iterator[Page]:
    """Q1 (parts of seven programs, each whole in a collapsed block) open in Chromium, at phone width."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=browser.CHROME_PATH, args=browser.CHROME_ARGS)
        page = b.new_page(viewport={"width": 390, "height": 844})
        page.goto(hosted[1] + "questions/01-microservices/", wait_until="load")
        yield page
        b.close()


def test_a_code_span_drawn_differently_would_be_found(q1: Page) -> None:
    from verify.codespans import NO_OP_CLASSES

    assert q1.evaluate(browser.NO_OP_SPANS, list(NO_OP_CLASSES)) == []
    bold = q1.add_style_tag(content=".md-typeset .highlight .n { font-weight: 700 }")
    try:
        found = q1.evaluate(browser.NO_OP_SPANS, list(NO_OP_CLASSES))
    finally:
        bold.evaluate("(style) => style.remove()")  # the page is shared with the next test
    assert found == [".n font-weight: 700, around it font-weight: 400"]


def test_a_part_title_opens_its_collapsed_whole_file(q1: Page) -> None:
    """A closed block lays nothing out on screen (extra.css); one click on a part's title still opens the
    block that holds the whole file and shows the file, with its copy button."""
    shown = (
        "(id) => { const e = document.getElementById(id);"
        " return [e.closest('details').open, e.getBoundingClientRect().height]; }"
    )
    link = q1.locator('a[title="the whole file"]').first
    target = (link.get_attribute("href") or "").split("#")[-1]  # Material's instant navigation made it absolute
    assert target.startswith("whole-"), target
    assert q1.evaluate(shown, target) == [False, 0]
    link.click()
    q1.wait_for_function(f"() => document.getElementById({target!r}).closest('details').open")
    is_open, height = q1.evaluate(shown, target)
    assert is_open and height > 100
    assert q1.locator(f"#{target} button.md-code__button").count() == 1


def test_a_whole_file_with_a_part_on_the_page_is_left_out_of_the_search_index() -> None:
    """Its parts are indexed next to the text that explains them; a whole file shown only whole stays in."""
    import markdown

    whole = '??? example "whole"\n\n    ```python title="{0}"\n    x = 1\n    ```\n'
    md = markdown.Markdown(extensions=["pymdownx.superfences", "pymdownx.details", "verify.parts"])
    html = md.convert('```python title="app.py (part)"\nx = 1\n```\n\n' + whole.format("app.py") + whole.format("b.py"))
    assert '<div id="whole-app-py" class="highlight" data-search-exclude>' in html
    assert '<div id="whole-b-py" class="highlight">' in html
