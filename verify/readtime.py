"""Estimated reading time under each question page's title (a Markdown extension, ``verify.readtime``).

The estimate counts the prose a reader reads, at 200 words a minute: the words outside fences, HTML
comments and include lines. Programs and outputs are not counted (running them is the point, and takes
longer), so the line says so.
"""

from __future__ import annotations

import math
import re
from typing import Any

from markdown import Markdown
from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor

from verify.practice import ANSWER_BOX, fenced_lines

WORDS_PER_MINUTE = 200
COMMENT = re.compile(r"<!--.*?-->", re.S)


def prose_words(lines: list[str]) -> int:
    inside = fenced_lines(lines)
    text = "\n".join(ln for i, ln in enumerate(lines) if i not in inside)
    return len(re.findall(r"[A-Za-z0-9][\w'’-]*", COMMENT.sub(" ", text)))


def minutes(lines: list[str]) -> int:
    return max(1, math.ceil(prose_words(lines) / WORDS_PER_MINUTE))


def line(lines: list[str]) -> str:
    what = "not counting the programs and their outputs"
    return f'<p class="reading-time">About {minutes(lines)} min to read, {what}.</p>'


class ReadingTimePreprocessor(Preprocessor):
    def run(self, lines: list[str]) -> list[str]:
        if sum(ln.rstrip() == ANSWER_BOX for ln in lines) != 1:  # a question page (not the print page)
            return lines
        at = next((i for i, ln in enumerate(lines) if ln.startswith("# ")), None)
        if at is None:
            return lines
        return [*lines[: at + 1], "", line(lines), "", *lines[at + 1 :]]


class ReadingTimeExtension(Extension):
    def extendMarkdown(self, md: Markdown) -> None:
        # before verify.stamps (35): the page's own words are counted, the stamp box then goes above the line
        md.preprocessors.register(ReadingTimePreprocessor(md), "verify_readtime", 37)


def makeExtension(**kwargs: Any) -> ReadingTimeExtension:
    return ReadingTimeExtension(**kwargs)
