"""Diagrams: every ```mermaid fence has its pre-rendered SVG (verify/diagrams.py), the SVGs are named
pictures with text labels, legible in both palettes, and the render command names a broken diagram."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from markdown import Markdown

from verify import browser as chromium
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


# Every label against what is painted behind it (shapes under its centre, over the page background).
CONTRAST = """() => {
  const rgba = (c) => { const m = c.match(/[\\d.]+/g) || []; return m.length < 3 ? null
    : [+m[0], +m[1], +m[2], m.length > 3 ? +m[3] : 1]; };
  const over = (top, below) => top.slice(0, 3).map((v, i) => v * top[3] + below[i] * (1 - top[3])).concat(1);
  const lum = ([r, g, b]) => [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92
    : ((v + 0.055) / 1.055) ** 2.4; }).reduce((a, v, i) => a + v * [0.2126, 0.7152, 0.0722][i], 0);
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const page = rgba(getComputedStyle(document.body).backgroundColor);
  const out = [];
  for (const svg of document.querySelectorAll("div.diagram > svg")) {
    svg.scrollIntoView({block: "center"});
    // what paints the glyphs: a <tspan> holding text itself, or else its <text>
    const leaves = [...svg.querySelectorAll("text, tspan")].filter((e) =>
      [...e.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim()));
    for (const t of leaves) {
      const box = t.getBoundingClientRect();
      if (!box.width) continue;
      const x = box.left + box.width / 2, y = box.top + box.height / 2;
      let bg = page;
      for (const el of document.elementsFromPoint(x, y).reverse()) {
        if (!svg.contains(el) || el.closest("text") || el.tagName === "svg") continue;
        if (!["rect", "path", "polygon", "circle", "ellipse"].includes(el.tagName)) continue;
        const s = getComputedStyle(el), f = rgba(s.fill);
        if (f && s.fill !== "none") bg = over([...f.slice(0, 3), f[3] * +s.fillOpacity * +s.opacity], bg);
      }
      const fg = rgba(getComputedStyle(t).fill);
      if (fg) out.push({svg: svg.id, text: t.textContent.trim(), ratio: ratio(over(fg, bg), bg)});
    }
  }
  return out;
}"""


@pytest.fixture(scope="module")
def hosted(published: chromium.Published) -> Iterator[tuple[Path, str]]:
    """The run's one strict build (tests/conftest.py), served: no page here follows a link, so it need not
    be built for the URL it is served at."""
    assert published.returncode == 0, published.output
    with chromium.serve(published.www) as origin:
        yield published.site_dir, origin.rstrip("/") + published.path


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_every_label_is_legible_in_both_palettes(hosted: tuple[Path, str], dark: bool) -> None:
    """WCAG's 3:1 for text as large as these labels (16 px, shown at 70% to 100%) is the floor. Dark is
    reached with Material's palette toggle (no reload): the SVGs take their colours from its CSS
    variables."""
    from playwright.sync_api import sync_playwright

    site_dir, base = hosted
    seen, low = 0, []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium.CHROME_PATH, args=chromium.CHROME_ARGS)
        page = browser.new_page(color_scheme="light", viewport={"width": 1280, "height": 800})
        for url in chromium.pages(site_dir):
            if not chromium.diagram_count(site_dir, url):
                continue
            page.goto(base + url, wait_until="networkidle")
            if dark != (page.get_attribute("body", "data-md-color-scheme") == "slate"):
                page.click("form[data-md-component=palette] label:not([hidden])")  # the header's toggle
            assert page.get_attribute("body", "data-md-color-scheme") == ("slate" if dark else "default")
            for label in page.evaluate(CONTRAST):
                seen += 1
                if label["ratio"] < 3:
                    low.append(f"{url} {label['svg']} {label['text']!r}: {label['ratio']:.2f}:1")
        browser.close()
    assert seen > 100
    assert low == [], "\n".join(low)
