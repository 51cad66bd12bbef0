"""Code blocks without the spans that change nothing (a Markdown extension, listed in mkdocs.yml).

Pygments wraps every name (``<span class="n">``) and every run of whitespace (``<span class="w">``) in a
span. Material's theme draws neither differently from the code around it: a name takes the code colour
(``--md-code-hl-name-color: var(--md-code-fg-color)`` in both schemes) and whitespace has no rule at all.
They are about a quarter of a question page's elements (Q1: 10,383 elements, 2,859 of them such spans),
and a phone pays for each at parse, style and layout. This drops them and keeps their text, so what the
page shows and what its copy button copies are unchanged; tests/test_site.py checks that Material still
colours the two classes like the code around them. Python-Markdown runs it, so MkDocs and Zensical do.
"""

from __future__ import annotations

import re

from markdown import Extension, Markdown
from markdown.postprocessors import Postprocessor

NO_OP_SPAN = re.compile(r'<span class="[nw]">([^<]*)</span>')
NO_OP_CLASSES = ("n", "w")


class DropNoOpSpans(Postprocessor):
    def run(self, text: str) -> str:
        return NO_OP_SPAN.sub(r"\1", text)


class CodeSpansExtension(Extension):
    def extendMarkdown(self, md: Markdown) -> None:
        md.postprocessors.register(DropNoOpSpans(md), "verify_codespans", 4)  # after the stashed HTML


def makeExtension(**kwargs: object) -> CodeSpansExtension:
    return CodeSpansExtension(**kwargs)
