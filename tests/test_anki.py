"""The Anki deck (verify/anki.py): the package is opened as Anki opens it (a zip holding a SQLite
collection) and its notes are read back and held against the built pages."""

from __future__ import annotations

import html
import re
import sqlite3
import zipfile
from pathlib import Path

import pytest

from verify import anki, browser, practice

SEPARATOR = "\x1f"  # between the fields of a note in Anki's collection


def plain(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def read_notes(apkg: Path, workdir: Path) -> list[tuple[str, list[str], list[str]]]:
    """(guid, fields, tags) of every note of a package."""
    with zipfile.ZipFile(apkg) as z:
        assert "collection.anki2" in z.namelist()
        z.extract("collection.anki2", workdir)
    db = sqlite3.connect(workdir / "collection.anki2")
    try:
        rows = db.execute("SELECT guid, flds, tags FROM notes ORDER BY sfld").fetchall()
        models = db.execute("SELECT models FROM col").fetchone()[0]
    finally:
        db.close()
    assert str(anki.MODEL_ID) in models
    return [(guid, flds.split(SEPARATOR), tags.split()) for guid, flds, tags in rows]


@pytest.fixture(scope="module")
def notes(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, list[str], list[str]]]:
    work = tmp_path_factory.mktemp("anki")
    assert anki.write(work / "deck.apkg") > 0
    return read_notes(work / "deck.apkg", work)


def test_every_answer_box_follow_up_and_wrong_answer_has_a_card(notes: list[tuple[str, list[str], list[str]]]) -> None:
    pages = practice.question_pages()
    expected = {anki.note(page, item).guid: (page.slug, item.kind) for page in pages for item in page.items}
    assert len(expected) == sum(len(p.items) for p in pages)  # ids do not collide
    assert {guid for guid, _, _ in notes} == set(expected)
    for page in pages:
        kinds = [item.kind for item in page.items]
        assert kinds.count("answer") == 1, page.slug
        assert kinds.count("follow-up") >= 3 and kinds.count("wrong-answer") >= 2, page.slug
    # every page's interview answer, follow-ups and wrong answers, counted from the page's text
    for page in pages:
        text = page.path.read_text(encoding="utf-8")
        follow_ups = text.split(practice.FOLLOW_UPS, 1)[1]
        asked = len(re.findall(r"^\*\*[^*]+\*\* ", follow_ups, re.M))
        box = text.split(practice.WRONG_BOX, 1)[1].split("\n\n", 1)[0]
        assert [i.kind for i in page.items].count("follow-up") == asked, page.slug
        assert [i.kind for i in page.items].count("wrong-answer") == box.count("\n    - "), page.slug


def test_every_cards_text_appears_on_its_page(
    notes: list[tuple[str, list[str], list[str]]], published: browser.Published
) -> None:
    assert published.returncode == 0, published.output
    built = {
        p.name: plain((p / "index.html").read_text(encoding="utf-8"))
        for p in (published.site_dir / "questions").iterdir()
        if p.is_dir()
    }
    items = {anki.note(page, item).guid: (page, item) for page in practice.question_pages() for item in page.items}
    missing = []
    for guid, (front, back, kind, source), tags in notes:
        slug = re.search(r"/questions/([\w-]+)/", source)
        assert slug is not None and slug[1] in built, source
        assert kind in anki.KINDS.values() and tags[0].startswith("q")
        # a described (not quoted) wrong answer is asked about by the title of its section
        page, item = items[guid]
        shown = [front, back] if item.has_prompt else [anki.render(item.heading, page), back]
        for field in shown:
            if not plain(field) or plain(field) not in built[slug[1]]:
                missing.append(f"{slug[1]} {guid}: {plain(field)[:80]!r}")
    assert missing == []


def test_note_ids_are_stable_across_builds(notes: list[tuple[str, list[str], list[str]]], tmp_path: Path) -> None:
    """A second build (as a later version of the site would be) gives every note the same id, so that
    Anki updates the reader's cards instead of adding copies."""
    anki.write(tmp_path / "again.apkg")
    again = read_notes(tmp_path / "again.apkg", tmp_path)
    assert [guid for guid, _, _ in again] == [guid for guid, _, _ in notes]


def test_links_on_cards_point_at_the_published_site() -> None:
    page = practice.question_pages()[1]
    text = "see [a](#lost-updates), [b](../run-the-examples.md), [c](10-n-plus-one.md#the-data), [d](https://x.org/)"
    out = anki.absolute_links(text, page)
    site = anki.site_url()
    assert f"[a]({site}questions/{page.slug}/#lost-updates)" in out
    assert f"[b]({site}run-the-examples/)" in out
    assert f"[c]({site}questions/10-n-plus-one/#the-data)" in out
    assert "[d](https://x.org/)" in out
