"""The whole site as one document: the print page and the PDF printed from it.

The print page (``docs/print.md``) holds one line, ``{{ print: questions }}``, that this Markdown
extension (``verify.printpdf`` in mkdocs.yml) replaces at build time by every question page in order:
its Markdown as it is (so its diagrams become the same pre-rendered SVG, its figures the same measured
values), its verified-against stamp under its title, its "predict the result" answers expanded on the
page's own terms, and its links pointing at the sections of the question pages. Nothing is copied into
the repository.

The PDF is printed from the built print page by headless Chromium (Playwright's ``page.pdf``): every
collapsed block opened, every tab shown (Material's print styles), and on each page's footer the commit
it was built from, the server versions the stamps record and the page number. Links in it point at the
published site (``site_url``).

    uv run python -m verify.printpdf                      # builds the site, writes docs/downloads/*.pdf
    uv run python -m verify.printpdf --check FILE.pdf     # page count and all ten titles (exit 1 if not)
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from markdown import Markdown
from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor

from verify import stamps
from verify.downloads import FOLDER, PDF_FILE
from verify.page import read_page
from verify.practice import QUESTIONS, ROOT, expand_predictions, front_matter_end, read_question_page

PLACEHOLDER = "{{ print: questions }}"
PRINT_URL = "print/"
MIN_PAGES, MAX_PAGES = 20, 400  # ten questions with code and diagrams; far more means a layout gone wrong


def link_from_docs(target: str, page: str) -> str:
    """A link of docs/questions/<page>.md, made relative to docs/ (where the print page is)."""
    if re.match(r"[a-z]+:", target):
        return target
    path, sep, anchor = target.partition("#")
    if not path:
        path = f"{page}.md"
    elif path.startswith("../"):
        return path[3:] + sep + anchor
    return f"questions/{path}" + sep + anchor


def question_markdown(path: Path) -> list[str]:
    """A question page as the print page shows it."""
    lines = path.read_text(encoding="utf-8").splitlines()
    lines = expand_predictions(lines[front_matter_end(lines) :])
    title = next(i for i, ln in enumerate(lines) if ln.startswith("# "))
    box = stamps.render(read_page(path, ROOT, ROOT / "mkdocs.yml"), ROOT).splitlines()
    lines = [*lines[: title + 1], "", *box, "", *lines[title + 1 :]]
    text = "\n".join(lines)
    text = re.sub(r"\]\(([^)\s]+)\)", lambda m: f"]({link_from_docs(m[1], path.stem)})", text)
    return text.splitlines()


class PrintPreprocessor(Preprocessor):
    def __init__(self, md: Markdown, folder: Path) -> None:
        super().__init__(md)
        self.folder = folder

    def run(self, lines: list[str]) -> list[str]:
        if PLACEHOLDER not in (ln.strip() for ln in lines):
            return lines
        out: list[str] = []
        for line in lines:
            if line.strip() != PLACEHOLDER:
                out.append(line)
                continue
            for path in sorted(self.folder.glob("*.md")):
                out += ["", *question_markdown(path), ""]
        return out


class PrintExtension(Extension):
    def extendMarkdown(self, md: Markdown) -> None:
        # first of the project's preprocessors: figures (40), predictions (36), stamps (35), includes (32)
        # and the fences (25) then apply to the questions as on their own pages
        md.preprocessors.register(PrintPreprocessor(md, QUESTIONS), "verify_print", 45)


def makeExtension(**kwargs: Any) -> PrintExtension:
    return PrintExtension(**kwargs)


# --- the PDF ---


def commit() -> str:
    sha = os.environ.get("GITHUB_SHA")
    if sha:
        return sha
    out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return out.stdout.strip() or "unknown"


def versions() -> str:
    """The server versions the question pages' stamps record, each once ("PostgreSQL 15.14, ...")."""
    seen: dict[str, str] = {}
    for path in sorted(QUESTIONS.glob("*.md")):
        stamp = stamps.read(path, ROOT) or {}
        for name, version in stamp.get("environment", {}).items():
            seen.setdefault(name, version)
    return ", ".join(f"{k} {v}" for k, v in seen.items()) or "no stamps"


def footer(sha: str) -> str:
    stamp = f"Verified site · commit {sha[:12]} · {versions()} · printed {datetime.now(UTC):%Y-%m-%d}"
    return (
        '<div style="font-size:7px;width:100%;padding:0 12mm;display:flex;justify-content:space-between;'
        f'color:#555"><span>{stamp}</span>'
        '<span><span class="pageNumber"></span>/<span class="totalPages"></span></span></div>'
    )


def print_pdf(url: str, out: Path, site_url: str, sha: str) -> None:
    """Print the print page served at url to out, links resolved against the published site."""
    from playwright.sync_api import sync_playwright

    from verify.browser import CHROME_ARGS, CHROME_PATH

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROME_PATH, args=CHROME_ARGS)
        page = browser.new_page()
        page.goto(url, wait_until="networkidle")
        page.emulate_media(media="print")
        page.evaluate(
            """([base, colophon]) => {
              document.querySelectorAll('details').forEach((d) => { d.open = true; });
              const b = document.createElement('base'); b.href = base; document.head.prepend(b);
              const p = document.createElement('p'); p.className = 'print-colophon'; p.textContent = colophon;
              document.querySelector('article h1').after(p);
            }""",
            [site_url + PRINT_URL, f"Printed from commit {sha} of {site_url}, verified against {versions()}."],
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        page.pdf(
            path=str(out),
            format="A4",
            margin={"top": "14mm", "bottom": "16mm", "left": "12mm", "right": "12mm"},
            print_background=True,
            display_header_footer=True,
            header_template="<span></span>",
            footer_template=footer(sha),
            outline=True,  # the headings as PDF bookmarks
            tagged=True,  # an accessible (tagged) PDF
        )
        browser.close()


def titles() -> list[str]:
    return [read_question_page(p).title for p in sorted(QUESTIONS.glob("*.md"))]


def check_pdf(path: Path) -> list[str]:
    """What is wrong with a printed PDF: its page count out of range, a question title missing from its
    bookmarks or from the page its bookmark opens, the commit stamp missing from the footer. Only the
    pages that matter are read (the first, the last and the ten title pages): reading the text of all
    ~300 takes pypdf about 25 s."""
    from pypdf import PdfReader

    reader = PdfReader(path)
    problems = []
    if not MIN_PAGES <= len(reader.pages) <= MAX_PAGES:
        problems.append(f"{len(reader.pages)} pages, expected {MIN_PAGES} to {MAX_PAGES}")

    def text(number: int) -> str:
        return " ".join((reader.pages[number].extract_text() or "").split())

    def squeezed(s: str) -> str:  # a title wrapped in print loses the space at the break in its bookmark
        return "".join(s.split())

    bookmarks = {squeezed(b.title or ""): b for b in reader.outline if not isinstance(b, list)}
    for t in titles():
        mark = bookmarks.get(squeezed(t))
        number = None if mark is None else reader.get_destination_page_number(mark)
        if number is None:
            problems.append(f"title missing: {t} (no bookmark)")
        elif " ".join(t.split()) not in text(number):
            problems.append(f"title missing: {t} (not on page {number + 1}, where its bookmark opens)")
    ends = {0, len(reader.pages) - 1}
    if not all(re.search(r"commit [0-9a-f]{7,40}", text(n)) for n in ends):
        problems.append("no commit stamp (the footer names the commit it was printed from)")
    return problems


def build_and_print(out: Path) -> None:
    from mkdocs.config import load_config

    from verify import browser

    site_url = load_config(str(ROOT / "mkdocs.yml"))["site_url"] or "/"
    with tempfile.TemporaryDirectory() as tmp, browser.hosted(ROOT / "mkdocs.yml", Path(tmp)) as (_, base, result):
        if result.returncode != 0:
            sys.exit(f"the site does not build:\n{result.stdout}{result.stderr}")
        print_pdf(base + PRINT_URL, out, site_url, commit())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=FOLDER / PDF_FILE)
    ap.add_argument("--check", type=Path, help="only check this PDF")
    args: Any = ap.parse_args(argv)
    if not args.check:
        build_and_print(args.out)
    target = args.check or args.out
    problems = check_pdf(target)
    for p in problems:
        print(f"{target}: {p}", file=sys.stderr)
    if not problems:
        print(f"{target}: ok")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
