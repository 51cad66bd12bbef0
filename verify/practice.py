"""Practice material read from the question pages: what the reader may test themselves on.

One parser for the interview answer box, the "Common wrong answers" box, the follow-ups and the
"predict the result" questions of a question page; the practice mode (assets/javascripts/practice.js),
the Anki deck (verify/anki.py) and the cheat sheet (verify/cheatsheet.py) all read pages through it.

It is also a Markdown extension (``verify.practice`` in mkdocs.yml) that expands a predict question,
a line of its own in a page's "Predict the result" section::

    {{ predict: transaction-example 3 | After the failed UPDATE, what do COMMIT and ROLLBACK answer? }}

into a ``question`` box whose hidden answer is the 3rd expected output under the heading whose anchor is
``transaction-example``: the output fence the test suite compares with a real run, rendered again here,
never typed. The referenced output itself gets the class ``practice-answer`` too, so practice mode hides
it where it first appears. A reference that names no heading, or a section with fewer outputs, fails the
build with the page line and what the section holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markdown import Markdown
from markdown.extensions import Extension
from markdown.extensions.toc import slugify
from markdown.preprocessors import Preprocessor

from verify.page import EXPECTED_OUTPUT, scan

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "docs" / "questions"
PREDICT = re.compile(r"^\{\{\s*predict:\s*#?(?P<anchor>[\w-]+)\s+(?P<n>\d+)\s*\|\s*(?P<question>[^\"]+?)\s*\}\}\s*$")
HEADING = re.compile(r"^(?P<level>#{1,6})[ \t]+(?P<text>.+?)[ \t]*#*[ \t]*$")
ANSWER_BOX = '!!! abstract "Answer in an interview"'
WRONG_BOX = '!!! failure "Common wrong answers"'
FOLLOW_UPS = "## Follow-ups an interviewer may ask"
FOLLOW_UP = re.compile(r"^\*\*(?P<question>[^*]+?)\*\*\s+(?P<answer>.+)$", re.S)


class PredictError(ValueError):
    """A predict question whose reference does not resolve; the message names the line."""


def heading_anchor(text: str) -> str:
    """The id the toc extension gives a heading (its text without inline Markdown, slugified)."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return slugify(re.sub(r"[`*]", "", text), "-")


def fenced_lines(lines: list[str]) -> set[int]:
    """0-based indexes of the lines inside fences, fence lines included."""
    inside: set[int] = set()
    for fence, _ in scan("\n".join(lines)):
        inside.update(range(fence.line - 1, fence.end))
    return inside


@dataclass(frozen=True)
class Section:
    anchor: str
    title: str
    start: int  # 0-based line of the heading
    end: int  # first line after the section


def sections(lines: list[str]) -> list[Section]:
    inside = fenced_lines(lines)
    found = [
        (i, len(m["level"]), m["text"])
        for i, line in enumerate(lines)
        if i not in inside and (m := HEADING.match(line))
    ]
    out = []
    for k, (i, level, text) in enumerate(found):
        end = next((j for j, lv, _ in found[k + 1 :] if lv <= level), len(lines))
        out.append(Section(heading_anchor(text), text, i, end))
    return out


@dataclass(frozen=True)
class Output:
    line: int  # 0-based line of the output's opening fence
    indent: str
    body: str


def outputs(lines: list[str]) -> list[Output]:
    """Every expected output of a page (the fences after <!--pytest-codeblocks:expected-output-->)."""
    return [
        Output(fence.line - 1, fence.indent, fence.body)
        for fence, comments in scan("\n".join(lines))
        if EXPECTED_OUTPUT in comments
    ]


@dataclass(frozen=True)
class Prediction:
    line: int  # 0-based line of the {{ predict: }} reference
    question: str
    section: Section
    output: Output


def predictions(lines: list[str]) -> list[Prediction]:
    found = []
    all_sections, all_outputs = sections(lines), outputs(lines)
    for i, line in enumerate(lines):
        m = PREDICT.match(line.strip())
        if not m:
            if "{{ predict" in line or "{{predict" in line:
                form = "{{ predict: anchor N | question }}, the question without double quotes"
                raise PredictError(f"line {i + 1}: cannot read {line.strip()!r} (form: {form})")
            continue
        section = next((s for s in all_sections if s.anchor == m["anchor"]), None)
        if section is None:
            known = ", ".join(s.anchor for s in all_sections)
            raise PredictError(f"line {i + 1}: no heading has the anchor {m['anchor']!r} (anchors: {known})")
        held = [o for o in all_outputs if section.start < o.line < section.end]
        n = int(m["n"])
        if not 1 <= n <= len(held):
            raise PredictError(
                f"line {i + 1}: section {m['anchor']!r} shows {len(held)} expected outputs, not an output number {n}"
            )
        found.append(Prediction(i, m["question"], section, held[n - 1]))
    return found


def expand_predictions(lines: list[str]) -> list[str]:
    """The page with each {{ predict: }} line replaced by its question box, and each referenced output
    marked as an answer (class practice-answer) where it first appears."""
    found = predictions(lines)
    if not found:
        return lines
    out = list(lines)
    for p in found:
        fence = out[p.output.line]
        ticks = re.match(r"[ \t]*(`{3,}|~{3,})", fence)
        assert ticks is not None  # a fence the scanner found
        out[p.output.line] = f"{p.output.indent}{ticks[1]} {{ .output .practice-answer }}"
    for p in reversed(found):
        body = [f"    {ln}" if ln else "" for ln in p.output.body.splitlines()]
        box = [
            f'!!! question "{p.question}"',
            f"    Work it out from [the program in *{p.section.title.strip('#').strip()}*](#{p.section.anchor}),"
            " then compare with what the test suite's run printed:",
            "",
            "    ``` { .output .practice-answer }",
            *body,
            "    ```",
        ]
        out[p.line : p.line + 1] = box
    return out


class PredictPreprocessor(Preprocessor):
    def run(self, lines: list[str]) -> list[str]:
        return expand_predictions(lines)


# --- what a question page holds, for the deck and the cheat sheet ---


def front_matter_end(lines: list[str]) -> int:
    if lines and lines[0].strip() == "---":
        return next((i + 1 for i, ln in enumerate(lines[1:], 1) if ln.strip() == "---"), 0)
    return 0


def box_body(lines: list[str], opening: str) -> list[str]:
    """The dedented lines of the admonition that opens with `opening` (a line of its own)."""
    start = next((i for i, ln in enumerate(lines) if ln.rstrip() == opening), None)
    if start is None:
        return []
    body = []
    for ln in lines[start + 1 :]:
        if ln.strip() and not ln.startswith("    "):
            break
        body.append(ln[4:])
    while body and not body[-1].strip():
        body.pop()
    return body


def split_claim(bullet: str) -> tuple[str, str]:
    """'"claim": correction' -> (claim, correction): at the first ': ' outside inline code."""
    in_code = False
    for i, ch in enumerate(bullet):
        if ch == "`":
            in_code = not in_code
        elif not in_code and bullet.startswith(": ", i):
            return bullet[:i].strip(), bullet[i + 2 :].strip()
    return bullet.strip(), ""


@dataclass(frozen=True)
class Item:
    """One thing to practise: a prompt and its answer, in the page's Markdown, and where it is."""

    kind: str  # "answer", "follow-up", "wrong-answer"
    key: str  # stable within the page: the kind and the anchor or the prompt's slug
    prompt: str
    answer: str
    anchor: str  # the section on the page that holds it ("" for the top of the page)
    heading: str = ""  # that section's title

    @property
    def has_prompt(self) -> bool:
        """A wrong answer the page describes rather than quotes has no claim of its own: the whole bullet
        is the correction, and the card asks what is wrong in the section (its heading)."""
        return bool(self.prompt)


@dataclass(frozen=True)
class QuestionPage:
    path: Path
    title: str  # "Q2: What are database transactions and ACID properties?"
    items: list[Item]

    @property
    def slug(self) -> str:
        return self.path.stem

    @property
    def question(self) -> str:
        return self.title.split(": ", 1)[-1]


def read_question_page(path: Path) -> QuestionPage:
    lines = path.read_text(encoding="utf-8").splitlines()
    lines = lines[front_matter_end(lines) :]
    title = next(ln[2:].strip() for ln in lines if ln.startswith("# "))
    items = [Item("answer", "answer", title.split(": ", 1)[-1], "\n".join(box_body(lines, ANSWER_BOX)), "")]
    titles = {s.anchor: s.title for s in sections(lines)}
    for bullet in bullets(box_body(lines, WRONG_BOX)):
        claim, correction = split_claim(bullet)
        if not correction:
            claim, correction = "", claim
        link = re.search(r"\]\(#([^)\s]+)\)", correction)
        anchor = link[1] if link else ""
        key = "wrong-" + heading_anchor(claim or correction)
        items.append(Item("wrong-answer", key, claim, correction, anchor, titles.get(anchor, "")))
    follow = next((s for s in sections(lines) if lines[s.start].rstrip() == FOLLOW_UPS), None)
    if follow is not None:
        for para in paragraphs(lines[follow.start + 1 : follow.end]):
            m = FOLLOW_UP.match(para)
            if m:
                key = "follow-up-" + heading_anchor(m["question"])
                items.append(Item("follow-up", key, m["question"], m["answer"], heading_anchor(FOLLOW_UPS[3:])))
    return QuestionPage(path, title, items)


def bullets(body: list[str]) -> list[str]:
    out: list[str] = []
    for ln in body:
        if ln.startswith("- "):
            out.append(ln[2:])
        elif out and ln.startswith("  ") and ln.strip():
            out[-1] += " " + ln.strip()
    return out


def paragraphs(lines: list[str]) -> list[str]:
    text = "\n".join(lines)
    return [" ".join(p.split("\n")).strip() for p in re.split(r"\n[ \t]*\n", text) if p.strip()]


def question_pages(folder: Path = QUESTIONS) -> list[QuestionPage]:
    return [read_question_page(p) for p in sorted(folder.glob("*.md"))]


class PracticeExtension(Extension):
    def extendMarkdown(self, md: Markdown) -> None:
        # after verify.figures (40), before verify.stamps (35), pymdownx.snippets (32) and the fences (25)
        md.preprocessors.register(PredictPreprocessor(md), "verify_practice", 36)


def makeExtension(**kwargs: Any) -> PracticeExtension:
    return PracticeExtension(**kwargs)
