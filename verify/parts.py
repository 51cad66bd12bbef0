"""A block that shows part of a file links to the whole file (a Markdown extension, listed in mkdocs.yml).

A part is a fence titled ``python title="app.py (part)"`` (and marked ``<!--pytest.mark.part("app.py")-->``
for the reader test, verify/reader.py); the whole file is a fence titled ``python title="app.py"``, on the
same page, usually in a collapsed ``??? example`` block. In the HTML, the part's title becomes a link to the
whole file's block, which gets the id ``whole-app-py``: one click from a part to the file to copy (the
browser opens the collapsed block it lands in). A whole file with a part on the page is left out of the
site search (``data-search-exclude``): its parts put the lines the page explains in the index, next to the
text that explains them; the rest would only make the index that every page load fetches bigger.
Python-Markdown runs it, so MkDocs and Zensical both do.
"""

from __future__ import annotations

import re

from markdown import Extension, Markdown
from markdown.postprocessors import Postprocessor

PART_TITLE = re.compile(r'<span class="filename">(?P<file>[^<>"]+?) \(part(?P<rest>[^<>]*)\)</span>')
WHOLE = re.compile(
    r'<div class="(?P<cls>(?:language-[\w-]+ )?highlight)"><span class="filename">(?P<file>[^<>"( ]+)</span>'
)


def anchor(file: str) -> str:
    """The id of the block that shows `file` whole."""
    return "whole-" + re.sub(r"[^a-z0-9]+", "-", file.lower()).strip("-")


class PartLinks(Postprocessor):
    def run(self, text: str) -> str:
        seen: set[str] = set()
        parted = {m["file"] for m in PART_TITLE.finditer(text)}

        def whole(m: re.Match[str]) -> str:
            ident = anchor(m["file"])
            if ident in seen:  # one id per page: the first whole copy is the target
                return m[0]
            seen.add(ident)
            unsearched = " data-search-exclude" if m["file"] in parted else ""
            return f'<div id="{ident}" class="{m["cls"]}"{unsearched}><span class="filename">{m["file"]}</span>'

        text = WHOLE.sub(whole, text)
        return PART_TITLE.sub(
            lambda m: (
                f'<span class="filename"><a href="#{anchor(m["file"])}" title="the whole file">{m["file"]}</a>'
                f" (part{m['rest']})</span>"
            ),
            text,
        )


class PartsExtension(Extension):
    def extendMarkdown(self, md: Markdown) -> None:
        md.postprocessors.register(PartLinks(md), "verify_parts", 5)  # after the stashed HTML is restored


def makeExtension(**kwargs: object) -> PartsExtension:
    return PartsExtension(**kwargs)
