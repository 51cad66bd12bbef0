"""The downloads offered on the home page: the whole site as a PDF and the Anki deck.

Both are build-time artefacts, never committed (they would go stale): ``python -m verify.downloads``
writes them into ``docs/downloads/`` (git-ignored), and the next ``mkdocs build`` copies them into the
site. The home page's ``{{ downloads }}`` line (this Markdown extension, ``verify.downloads`` in
mkdocs.yml) links each one that is present and otherwise says how to make it, so a local build that
skipped them has no link that 404s. The verify job of CI runs, after the tests:

    uv run python -m verify.downloads && uv run mkdocs build --strict

(``python -m verify.anki`` and ``python -m verify.printpdf`` make one each; the PDF one checks the
PDF's page count and titles and exits 1 when they are wrong.)
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from markdown import Markdown
from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "docs" / "downloads"
PDF_FILE = "backend-interview-questions.pdf"
DECK_FILE = "backend-interview-questions.apkg"
PLACEHOLDER = "{{ downloads }}"
OFFERS = [
    (
        PDF_FILE,
        "The whole site as one PDF",
        "every question, diagram and output in order, printed from the commit CI verified, its versions on every page",
    ),
    (
        DECK_FILE,
        "An Anki deck",
        "a card per interview answer, follow-up and common wrong answer; importing a newer deck updates your"
        " cards instead of duplicating them",
    ),
]


def render(folder: Path) -> list[str]:
    present = [(f, name, what) for f, name, what in OFFERS if (folder / f).is_file()]
    if not present:
        return [
            "The published site offers the whole site as one PDF and as an Anki deck, both built by CI from",
            "the verified pages (`uv run python -m verify.downloads` builds them locally). To print it",
            "yourself, [every question on one page](print.md) is made for that.",
        ]
    lines = []
    for f, name, what in present:
        size = (folder / f).stat().st_size / 1_000_000
        lines.append(f"- [{name}](downloads/{f}) ({size:.1f} MB): {what}.")
    return [*lines, "", "[Every question on one page](print.md) is the page the PDF is printed from."]


class DownloadsPreprocessor(Preprocessor):
    def __init__(self, md: Markdown, folder: Path) -> None:
        super().__init__(md)
        self.folder = folder

    def run(self, lines: list[str]) -> list[str]:
        out: list[str] = []
        for line in lines:
            out += render(self.folder) if line.strip() == PLACEHOLDER else [line]
        return out


class DownloadsExtension(Extension):
    def __init__(self, **kwargs: Any) -> None:
        self.config = {"folder": [str(FOLDER), "where python -m verify.downloads writes the files"]}
        super().__init__(**kwargs)

    def extendMarkdown(self, md: Markdown) -> None:
        md.preprocessors.register(DownloadsPreprocessor(md, Path(self.getConfig("folder"))), "verify_downloads", 44)


def makeExtension(**kwargs: Any) -> DownloadsExtension:
    return DownloadsExtension(**kwargs)


def main() -> int:
    # imported here: the site build loads this module as a Markdown extension, and needs neither
    from verify import anki, printpdf

    print(f"{FOLDER / DECK_FILE}: {anki.write(FOLDER / DECK_FILE)} notes")
    return printpdf.main(["--out", str(FOLDER / PDF_FILE)])


if __name__ == "__main__":
    sys.exit(main())
