"""Diagrams: every ```mermaid fence has its pre-rendered SVG (verify/diagrams.py), the SVGs are named
pictures with text labels, and the render command names a broken diagram. (That the labels are legible in
both palettes is measured in the browser, with the site check: tests/test_site.py.)"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from markdown import Markdown

from verify import diagrams, figures

ROOT = Path(__file__).resolve().parent.parent
CONFIG = Path(os.environ.get("VERIFY_MKDOCS_CONFIG", ROOT / "mkdocs.yml"))


@pytest.fixture(scope="module")
def status() -> diagrams.Status:
    return diagrams.status(diagrams.SVG_DIR, CONFIG)


def test_every_diagram_has_the_svg_of_its_current_source(status: diagrams.Status) -> None:
    """A diagram whose source changed (or a new one) has no SVG until the render command is run."""
    assert len(status.diagrams) > 0
    missing = [f"{d.page}: no SVG for this source: run `{diagrams.COMMAND}`" for d in status.missing]
    assert missing == []


def test_no_svg_is_left_over(status: diagrams.Status) -> None:
    orphans = [f"{p.relative_to(ROOT)}: no diagram uses it: run `{diagrams.COMMAND}`" for p in status.orphans]
    assert orphans == []


def test_every_svg_is_a_named_picture_with_text_labels(status: diagrams.Status) -> None:
    """role="img", a <title> derived from the diagram, labels as SVG text, nothing external."""
    problems = {}
    for d in status.diagrams:
        path = diagrams.SVG_DIR / f"{d.digest}.svg"
        if path.is_file():
            found = diagrams.check_svg(path.read_text(encoding="utf-8"))
            if found:
                problems[d.page] = found
    assert problems == {}


def test_the_extension_inlines_the_svg_or_leaves_the_diagram_to_the_browser(tmp_path: Path) -> None:
    source = "graph LR\n    A[one] --> B[two]\n"
    page = f"# Page\n\n```mermaid\n{source}```\n"

    def convert() -> str:
        fences = {"custom_fences": [{"name": "mermaid", "class": "mermaid", "format": fence_code_format}]}
        md = Markdown(
            extensions=["pymdownx.superfences", diagrams.DiagramsExtension(svg_dir=str(tmp_path))],
            extension_configs={"pymdownx.superfences": fences},
        )
        return str(md.convert(page))

    from pymdownx.superfences import fence_code_format

    assert '<pre class="mermaid"><code>graph LR' in convert()  # no SVG yet: Material renders it
    svg = '<svg role="img" aria-labelledby="t"><title id="t">Flowchart: one, two</title><text>one</text></svg>'
    (tmp_path / f"{diagrams.digest(source)}.svg").write_text(svg + "\n", encoding="utf-8")
    out = convert()
    assert f'<div class="diagram" data-diagram="{diagrams.digest(source)}">{svg}</div>' in out
    assert "<pre" not in out
    # trailing spaces and blank lines around the source do not make it another diagram
    assert diagrams.digest("\n" + source.replace("LR", "LR  ") + "\n") == diagrams.digest(source)


def test_a_figure_in_a_diagram_is_expanded_without_the_mkdocs_hook(status: diagrams.Status) -> None:
    """Zensical ignores MkDocs hooks: the extension expands `{{ fig: }}` in a diagram itself, and the
    status above (computed without the hook) finds the same SVGs as the MkDocs build (with it)."""
    with_figures = [d for d in status.diagrams if "q10_strategies" in (ROOT / d.page.split(":")[0]).read_text()]
    assert with_figures, "Q10's chart quotes measured figures"
    assert not any(figures.REFERENCE.search(d.source) for d in status.diagrams)
    assert any("{{" in d.source for d in status.diagrams)  # Q3's hexagon {{exchange}} is left alone


def test_a_broken_diagram_fails_the_render_naming_its_page_and_line() -> None:
    good = diagrams.Diagram("docs/x.md:3", "graph LR\n    A[one] --> B[two]\n")
    broken = diagrams.Diagram("docs/x.md:8", "graph LR\n    A -->> [B\n")
    rendered = diagrams.render([good, broken])
    first, svg = next(rendered)
    assert first == good and diagrams.check_svg(svg) == []
    assert "<title" in svg and "one, two" in svg
    with pytest.raises(diagrams.RenderError, match=r"^docs/x\.md:8: "):
        next(rendered)
