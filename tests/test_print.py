"""The print page, the PDF printed from it, and the home page's download links (verify/printpdf.py,
verify/downloads.py)."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from verify import anki, browser, cheatsheet, downloads, practice, printpdf
from verify.practice import QUESTIONS


def plain(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


STAMP = re.compile(r"Verified on [^<]*|Changed since it was last verified|Not verified yet")


@pytest.fixture(scope="module")
def print_page(published: browser.Published) -> str:
    assert published.returncode == 0, published.output
    return (published.site_dir / "print" / "index.html").read_text(encoding="utf-8")


def test_the_print_page_holds_every_question_diagram_and_stamp(print_page: str, published: browser.Published) -> None:
    questions = sorted(p.name for p in (published.site_dir / "questions").iterdir() if p.is_dir())
    assert len(questions) == 10
    h1 = re.findall(r"<h1[^>]*>(.*?)</h1>", print_page, re.S)
    shown = [html.unescape(re.sub(r"<[^>]+>", "", h)).removesuffix("¶") for h in h1]
    assert shown[1:] == printpdf.titles()  # every question, in order
    stamps, diagrams = [], 0
    for q in questions:
        page = (published.site_dir / "questions" / q / "index.html").read_text(encoding="utf-8")
        stamps += STAMP.findall(page)
        diagrams += browser.diagram_count(published.site_dir, f"questions/{q}/")
    assert len(stamps) == 10 and STAMP.findall(print_page) == stamps
    assert diagrams > 0 and browser.diagram_count(published.site_dir, "print/") == diagrams
    assert print_page.count('<div class="diagram"') == diagrams  # as pre-rendered SVG, no mermaid left
    assert "{{" not in re.sub(r"<pre.*?</pre>", "", print_page, flags=re.S)  # every placeholder expanded


def test_the_pdf_has_every_title_and_a_sane_page_count(published: browser.Published, tmp_path: Path) -> None:
    """Printed by Chromium as CI prints it, then read back with pypdf."""
    assert published.returncode == 0, published.output
    out = tmp_path / "site.pdf"
    with browser.serve(published.www) as origin:
        url = origin.rstrip("/") + published.path + printpdf.PRINT_URL
        printpdf.print_pdf(url, out, "https://example.org/site/", "0123456789abcdef")
    assert printpdf.check_pdf(out) == []
    assert out.read_bytes().startswith(b"%PDF")


def test_the_pdf_check_fails_on_a_pdf_that_is_not_the_site(tmp_path: Path) -> None:
    from pypdf import PdfWriter

    w = PdfWriter()
    w.add_blank_page(width=595, height=842)
    with open(tmp_path / "blank.pdf", "wb") as f:
        w.write(f)
    problems = printpdf.check_pdf(tmp_path / "blank.pdf")
    assert problems[0].startswith("1 pages, expected")
    assert len([p for p in problems if p.startswith("title missing")]) == 10
    assert problems[-1].startswith("no commit stamp")


def test_download_links_only_for_files_that_exist(tmp_path: Path) -> None:
    """A local build without the artefacts links none of them (no 404); with them, each one."""
    assert "](downloads/" not in "\n".join(downloads.render(tmp_path))
    (tmp_path / downloads.PDF_FILE).write_bytes(b"%PDF-1.7")
    links = "\n".join(downloads.render(tmp_path))
    assert f"](downloads/{downloads.PDF_FILE})" in links and downloads.DECK_FILE not in links
    (tmp_path / downloads.DECK_FILE).write_bytes(b"PK")
    assert f"](downloads/{downloads.DECK_FILE})" in "\n".join(downloads.render(tmp_path))


def test_the_links_of_the_print_page_point_at_the_question_pages() -> None:
    assert printpdf.link_from_docs("#lost-updates", "02-acid") == "questions/02-acid.md#lost-updates"
    assert printpdf.link_from_docs("../run-the-examples.md", "02-acid") == "run-the-examples.md"
    assert printpdf.link_from_docs("10-n.md#x", "02-acid") == "questions/10-n.md#x"
    assert printpdf.link_from_docs("https://a.org/#b", "02-acid") == "https://a.org/#b"


# --- the cheat sheet (docs/summary.md, verify/cheatsheet.py) ---

A4_PRINTABLE = (605, 933)  # CSS px inside Material's @page margin of 25 mm: 160 x 247 mm


def test_the_cheat_sheet_is_every_answer_boxs_one_line_and_points(published: browser.Published) -> None:
    summary = plain((published.site_dir / "summary" / "index.html").read_text(encoding="utf-8"))
    entries = [cheatsheet.entry(p) for p in sorted(QUESTIONS.glob("*.md"))]
    assert len(entries) == 10
    for e in entries:
        page = plain((published.site_dir / "questions" / e.page.stem / "index.html").read_text(encoding="utf-8"))
        for text in (e.title.split(": ", 1)[1], e.one_line, *e.points):
            shown = plain(anki.render(text, practice.read_question_page(e.page)))
            assert shown in summary and shown in page, text


def test_an_answer_box_without_its_points_is_refused(tmp_path: Path) -> None:
    page = tmp_path / "01-x.md"
    page.write_text('# Q1: X?\n\n!!! abstract "Answer in an interview"\n    Text.\n\n    **In one line:** Y.\n')
    with pytest.raises(cheatsheet.CheatSheetError, match=r"01-x.md: .* three points \(found 1 and 0\)"):
        cheatsheet.entry(page)


def test_the_cheat_sheet_prints_on_one_a4_page(published: browser.Published, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright
    from pypdf import PdfReader

    with browser.serve(published.www) as origin, sync_playwright() as p:
        b = p.chromium.launch(executable_path=browser.CHROME_PATH, args=browser.CHROME_ARGS)
        page = b.new_page(viewport={"width": A4_PRINTABLE[0], "height": A4_PRINTABLE[1]})
        page.goto(origin.rstrip("/") + published.path + "summary/", wait_until="networkidle")
        page.pdf(path=str(tmp_path / "summary.pdf"), format="A4")  # as the print dialog: Material's @page
        page.emulate_media(media="print")
        height = page.evaluate("() => document.querySelector('.md-container').getBoundingClientRect().bottom")
        b.close()
    assert 0 < height <= A4_PRINTABLE[1]
    reader = PdfReader(tmp_path / "summary.pdf")
    assert len(reader.pages) == 1
    text = " ".join((reader.pages[0].extract_text() or "").split())
    assert all(t.split(": ", 1)[1] in text for t in printpdf.titles())
