"""Practice mode and the "predict the result" questions (verify/practice.py, assets/javascripts/practice.js)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from verify import browser, figures, practice, readtime
from verify.page import read_page

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted((ROOT / "docs" / "questions").glob("*.md"))
ANSWER_BLOCK = re.compile(r'<div class="language-output practice-answer highlight"><pre>.*?<code>(.*?)</code>', re.S)


def page_text(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


@pytest.mark.parametrize("path", PAGES, ids=[p.stem for p in PAGES])
def test_each_prediction_is_an_output_the_suite_verifies(path: Path) -> None:
    """2 to 4 questions per page, each answered by the expected output of a block the suite runs."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found = practice.predictions(lines)
    assert 2 <= len(found) <= 4, [p.question for p in found]
    verified = {b.output.line - 1: b for b in read_page(path, ROOT, ROOT / "mkdocs.yml").blocks if b.output}
    for p in found:
        block = verified.get(p.output.line)
        assert block is not None and block.runs, f"{path.name}: {p.question!r} is not answered by a run block's output"
        assert block.expected_output == p.output.body
        assert p.section.start < p.output.line < p.section.end


@pytest.mark.parametrize("path", PAGES, ids=[p.stem for p in PAGES])
def test_the_built_page_shows_each_answer_as_the_verified_output(path: Path, published: browser.Published) -> None:
    """On the built page each answer appears twice, marked as an answer: where the program prints it, and
    in the question's box; both are the expected output the suite compares."""
    assert published.returncode == 0, published.output
    built = (published.site_dir / "questions" / path.stem / "index.html").read_text(encoding="utf-8")
    shown = [page_text(m).rstrip("\n") for m in ANSWER_BLOCK.findall(built)]
    for p in practice.predictions(path.read_text(encoding="utf-8").splitlines()):
        assert shown.count(p.output.body.rstrip("\n")) >= 2, p.question
        assert html.escape(p.question, quote=False) in built


def test_a_reference_that_does_not_resolve_fails_with_the_line() -> None:
    page = ["# T", "", "## Run it", "", "```python", "print(1)", "```", "", "<!--pytest-codeblocks:expected-output-->"]
    page += ["", "```output", "1", "```", ""]
    with pytest.raises(practice.PredictError, match=r"line 16: no heading has the anchor 'run-itt'"):
        practice.predictions([*page, "", "{{ predict: run-itt 1 | What? }}"])
    with pytest.raises(practice.PredictError, match=r"line 16: section 'run-it' shows 1 expected outputs, not .* 2"):
        practice.predictions([*page, "", "{{ predict: run-it 2 | What? }}"])
    with pytest.raises(practice.PredictError, match=r"line 16: cannot read"):
        practice.predictions([*page, "", '{{ predict: run-it 1 | What is "x"? }}'])
    (ok,) = practice.predictions([*page, "", "{{ predict: run-it 1 | What does it print? }}"])
    assert ok.output.body == "1\n"


# --- in the browser ---

PAGE = "questions/02-acid-transactions/"
OTHER = "questions/10-n-plus-one/"
HIDDEN = """() => [...document.querySelectorAll('.practice-hidden')].filter((e) =>
  e.classList.contains('admonition')
    ? [...e.children].every((c) => c.matches('.admonition-title, .practice-reveal') || c.offsetParent === null)
    : e.offsetParent === null && e.getClientRects().length === 0).length"""
COUNT = """() => ({
  answers: document.querySelectorAll('.md-content .admonition.abstract').length,
  outputs: document.querySelectorAll('.md-content .practice-answer').length,
  followUps: document.querySelectorAll('.md-content .practice-follow-up').length,
  hidden: document.querySelectorAll('.practice-hidden').length,
  buttons: document.querySelectorAll('.practice-reveal').length,
})"""


@pytest.fixture(scope="module")
def site(published: browser.Published) -> Iterator[str]:
    assert published.returncode == 0, published.output
    with browser.serve(published.www) as origin:
        yield origin.rstrip("/") + published.path


def new_page(p: Any, javascript: bool = True) -> Any:
    b = p.chromium.launch(executable_path=browser.CHROME_PATH, args=browser.CHROME_ARGS)
    return b, b.new_context(java_script_enabled=javascript).new_page()


def test_practice_mode_hides_the_answers_until_asked_and_is_remembered(site: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b, page = new_page(p)
        foreign: list[str] = []
        page.on("request", lambda r: foreign.append(r.url) if not r.url.startswith(site.split("/", 3)[0]) else None)
        page.goto(site + PAGE, wait_until="networkidle")
        before = page.evaluate(COUNT)
        assert before["hidden"] == 0 and before["buttons"] == 0  # off by default: the page reads normally
        page.click(".practice-toggle")
        on = page.evaluate(COUNT)
        # the interview answer, every follow-up answer, every output marked as a question
        assert on["answers"] == 1 and on["followUps"] >= 3 and on["outputs"] >= 4
        assert on["hidden"] == on["buttons"] == on["answers"] + on["followUps"] + on["outputs"]
        assert page.evaluate(HIDDEN) == on["hidden"]  # hidden, not merely marked
        page.locator(".admonition.question .practice-reveal").first.click()
        assert page.evaluate(COUNT)["hidden"] == on["hidden"] - 1
        # remembered on the next page (a full load, not instant navigation) and after a reload
        page.goto(site + OTHER, wait_until="networkidle")
        other = page.evaluate(COUNT)
        assert other["hidden"] == other["answers"] + other["followUps"] + other["outputs"] > 0
        assert page.get_attribute(".practice-toggle", "aria-pressed") == "true"
        page.click(".practice-toggle")
        page.reload(wait_until="networkidle")
        assert page.evaluate(COUNT)["hidden"] == 0
        assert foreign == []
        b.close()


def test_with_javascript_off_nothing_is_hidden(site: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b, page = new_page(p, javascript=False)
        page.goto(site + PAGE, wait_until="networkidle")
        visible = page.evaluate(
            "() => [...document.querySelectorAll('.practice-answer, .admonition.abstract p')]"
            ".map((e) => e.getClientRects().length > 0)"
        )
        assert len(visible) >= 5 and all(visible)
        assert page.locator(".practice-toggle").count() == 0
        b.close()


# --- tags and reading time ---


def front_matter_tags(path: Path) -> list[str]:
    from mkdocs.utils.meta import get_data

    _, meta = get_data(path.read_text(encoding="utf-8"))
    tags: list[str] = meta.get("tags", [])
    return tags


def test_every_question_page_has_tags_listed_on_the_home_page(published: browser.Published) -> None:
    home = (published.site_dir / "index.html").read_text(encoding="utf-8")
    for path in PAGES:
        tags = front_matter_tags(path)
        assert len(tags) >= 2, path.name
        built = (published.site_dir / "questions" / path.stem / "index.html").read_text(encoding="utf-8")
        assert all(f'md-tag">{html.escape(t)}<' in built or f">{html.escape(t)}</" in built for t in tags)
        assert all(f">{html.escape(t)}<" in home for t in tags), path.name
        assert f'href="questions/{path.stem}/"' in home, f"{path.name} is not listed under its tags"


def test_every_question_page_shows_its_reading_time(published: browser.Published) -> None:
    for path in PAGES:
        built = (published.site_dir / "questions" / path.stem / "index.html").read_text(encoding="utf-8")
        lines = path.read_text(encoding="utf-8").splitlines()
        lines = lines[practice.front_matter_end(lines) :]  # MkDocs reads the front matter off
        lines = figures.expand("\n".join(lines)).split("\n")  # the figures are words too
        assert f"About {readtime.minutes(lines)} min to read" in built, path.name
        assert readtime.minutes(lines) >= 5, path.name  # the pages are long: an estimate of 1 means a bug


def test_reading_time_counts_prose_not_programs() -> None:
    prose = ["# T", "", " ".join(["word"] * 200)]
    assert readtime.prose_words(prose) == 201 and readtime.minutes(prose) == 2
    program = ["```python", *["print('not prose at all')"] * 500, "```", "<!-- a comment of words -->"]
    assert readtime.prose_words([*prose, *program]) == 201
