"""The Anki deck: one note per interview answer, per follow-up and per common wrong answer of every question
page, read from the pages by verify/practice.py (so the deck is the site, never a copy to keep in sync).

Front: the question or the wrong claim; back: the answer or the correction, rendered with the site's own
Markdown extensions (figures come from the benchmark results), and a link to the section on the site.
Each note's GUID is derived from the page and the item's anchor and key, so importing a newer deck
updates the cards a reader already has (and keeps their review history) instead of adding duplicates.

    uv run python -m verify.anki                 # writes docs/downloads/backend-interview-questions.apkg
    uv run python -m verify.anki --out deck.apkg
"""

from __future__ import annotations

import argparse
import re
from functools import cache
from pathlib import Path
from typing import Any

import genanki
import markdown
from mkdocs.config import load_config

from verify.downloads import DECK_FILE, FOLDER
from verify.practice import QUESTIONS, ROOT, Item, QuestionPage, question_pages

CONFIG = ROOT / "mkdocs.yml"
DECK_NAME = "Backend Interview Questions, verified"
# Fixed for good: Anki recognises the deck and the note type by these ids on every later import.
DECK_ID = 1_794_052_114
MODEL_ID = 1_531_846_203
KINDS = {"answer": "Answer in an interview", "follow-up": "Follow-up", "wrong-answer": "Common wrong answer"}
CSS = """.card { font-family: system-ui, sans-serif; font-size: 18px; text-align: left; color: #1f1f1f;
  background: #fff; max-width: 42em; margin: auto; }
.nightMode .card, .night_mode .card { color: #e6e6e6; background: #1e1e1e; }
.kind { font-size: 0.75em; text-transform: uppercase; letter-spacing: 0.05em; opacity: 0.7; }
code { font-size: 0.9em; } a { color: #3f6ec6; } .source { font-size: 0.8em; margin-top: 1.5em; }"""

MODEL = genanki.Model(
    MODEL_ID,
    "Backend interview question (verified site)",
    fields=[{"name": "Front"}, {"name": "Back"}, {"name": "Kind"}, {"name": "Source"}],
    templates=[
        {
            "name": "Card 1",
            "qfmt": '<div class="kind">{{Kind}}</div>{{Front}}',
            "afmt": '{{FrontSide}}<hr id="answer">{{Back}}<div class="source">{{Source}}</div>',
        }
    ],
    css=CSS,
)


@cache
def renderer() -> markdown.Markdown:
    """Markdown with the extensions and options mkdocs.yml gives the site (includes from the project)."""
    cfg = load_config(str(CONFIG))
    configs = dict(cfg["mdx_configs"])
    snippets = configs.get("pymdownx.snippets", {})
    configs["pymdownx.snippets"] = {**snippets, "base_path": [str(ROOT)]}
    return markdown.Markdown(extensions=cfg["markdown_extensions"], extension_configs=configs)


@cache
def site_url() -> str:
    url: str = load_config(str(CONFIG))["site_url"] or "/"
    return url if url.endswith("/") else url + "/"


def page_url(page: QuestionPage, anchor: str = "") -> str:
    return f"{site_url()}questions/{page.slug}/" + (f"#{anchor}" if anchor else "")


def absolute_links(text: str, page: QuestionPage) -> str:
    """Relative links of a question page made absolute: a card is read outside the site."""

    def sub(m: re.Match[str]) -> str:
        target = m[1]
        if re.match(r"[a-z]+:", target):
            return m[0]
        path, _, anchor = target.partition("#")
        if not path:
            url = page_url(page)
        elif path.startswith("../"):
            url = site_url() + path[3:].removesuffix(".md").removesuffix("index") + "/"
        else:
            url = f"{site_url()}questions/{path.removesuffix('.md')}/"
        return f"]({url}" + (f"#{anchor}" if anchor else "") + ")"

    return re.sub(r"\]\(([^)\s]+)\)", sub, text)


def render(text: str, page: QuestionPage) -> str:
    md = renderer()
    md.reset()
    return md.convert(absolute_links(text, page))


def note(page: QuestionPage, item: Item) -> genanki.Note:
    title = page.title.split(": ", 1)[0]  # "Q2"
    front = (
        render(item.prompt, page)
        if item.has_prompt
        else render(f"What does the common answer to {title} get wrong in *{item.heading}*?", page)
    )
    where = f"{title}: {page.question}"
    source = f'<a href="{page_url(page, item.anchor)}">{where}</a> (every example there is run by its test suite)'
    return genanki.Note(
        model=MODEL,
        fields=[front, render(item.answer, page), KINDS[item.kind], source],
        guid=genanki.guid_for(page.slug, item.anchor, item.key),
        tags=[title.lower(), item.kind],
        sort_field=f"{page.slug} {item.key}",
    )


def deck(pages: list[QuestionPage]) -> genanki.Deck:
    d = genanki.Deck(DECK_ID, DECK_NAME, description=f"Generated from {site_url()}")
    for page in pages:
        for item in page.items:
            d.add_note(note(page, item))
    return d


def write(out: Path, folder: Path = QUESTIONS) -> int:
    """Write the deck; returns its number of notes."""
    d = deck(question_pages(folder))
    out.parent.mkdir(parents=True, exist_ok=True)
    genanki.Package(d).write_to_file(str(out))
    return len(d.notes)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=FOLDER / DECK_FILE)
    args: Any = ap.parse_args(argv)
    n = write(args.out)
    print(f"{args.out}: {n} notes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
