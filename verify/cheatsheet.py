"""The cheat sheet: each question with its one-line answer and its three must-say points, read from the
"Answer in an interview" box of its page (its ``**In one line:**`` paragraph and its ``**Must say:**``
list), so the summary page is never a copy to keep in sync. A Markdown extension (``verify.cheatsheet``
in mkdocs.yml) replaces a ``{{ cheatsheet }}`` line by it; practice.css prints it on one A4 page.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markdown import Markdown
from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor

from verify.practice import ANSWER_BOX, QUESTIONS, box_body, bullets, paragraphs, read_question_page

PLACEHOLDER = "{{ cheatsheet }}"
ONE_LINE = "**In one line:** "
MUST_SAY = "**Must say:**"


class CheatSheetError(ValueError):
    """An answer box without its one line or without exactly three must-say points."""


@dataclass(frozen=True)
class Entry:
    page: Path
    title: str  # "Q2: What are database transactions and ACID properties?"
    one_line: str
    points: list[str]


def entry(path: Path) -> Entry:
    body = box_body(path.read_text(encoding="utf-8").splitlines(), ANSWER_BOX)
    one = [p.removeprefix(ONE_LINE) for p in paragraphs(body) if p.startswith(ONE_LINE)]
    at = next((i for i, ln in enumerate(body) if ln.strip() == MUST_SAY), None)
    points = bullets(body[at + 1 :]) if at is not None else []
    if len(one) != 1 or len(points) != 3:
        raise CheatSheetError(
            f"{path.name}: its answer box needs one '{ONE_LINE.strip()}' paragraph and a '{MUST_SAY}' list of"
            f" three points (found {len(one)} and {len(points)})"
        )
    return Entry(path, read_question_page(path).title, one[0], points)


def render(folder: Path = QUESTIONS) -> list[str]:
    lines = ['<div class="cheat-sheet" markdown>', ""]
    for e in (entry(p) for p in sorted(folder.glob("*.md"))):
        number, question = e.title.split(": ", 1)
        link = f"questions/{e.page.name}"
        lines += ['<div class="cheat" markdown>', "", f"**[{number}]({link}) {question}** {e.one_line}", ""]
        lines += [f"- {p}" for p in e.points] + ["", "</div>", ""]
    return [*lines, "</div>"]


class CheatSheetPreprocessor(Preprocessor):
    def run(self, lines: list[str]) -> list[str]:
        out: list[str] = []
        for line in lines:
            out += render() if line.strip() == PLACEHOLDER else [line]
        return out


class CheatSheetExtension(Extension):
    def extendMarkdown(self, md: Markdown) -> None:
        md.preprocessors.register(CheatSheetPreprocessor(md), "verify_cheatsheet", 43)


def makeExtension(**kwargs: Any) -> CheatSheetExtension:
    return CheatSheetExtension(**kwargs)
