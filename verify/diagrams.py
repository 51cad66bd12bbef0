"""Mermaid diagrams as inline SVG, rendered ahead of time: readers get no diagram JavaScript.

The ```` ```mermaid ```` fences stay mermaid source in the Markdown. Two parts:

- A Python-Markdown extension (``markdown_extensions: [verify.diagrams]`` in mkdocs.yml; MkDocs and
  Zensical both run it) replaces each ``<pre class="mermaid">`` that pymdownx.superfences writes with
  the SVG stored for that source, ``docs/.diagrams/<digest>.svg`` (the digest is of the source and of
  RENDER_KEY, so a changed diagram has no SVG until it is rendered again). Without one it leaves the
  ``<pre class="mermaid">`` for Material to render in the browser (the self-hosted loader, never a
  CDN) and logs it: handy in ``mkdocs serve`` while editing, and a failure of tests/test_diagrams.py
  and of the browser check.
- ``uv run python -m verify.diagrams`` renders every diagram whose SVG is missing (mermaid, the pinned
  self-hosted UMD build docs/assets/javascripts/mermaid.min.js, in headless Chromium through
  Playwright), deletes the SVGs no page uses, and with ``--check`` only reports (no browser).

The SVGs take their colours from Material's ``--md-mermaid-*`` CSS variables (the same CSS Material
gives the diagrams it renders), so they follow the light/dark palette toggle without a reload; fills
a diagram sets itself (``style X fill:...,color:...``) stay as written. Labels are SVG text, and each
SVG is ``role="img"`` with a <title> (its accessible name) and a <desc> derived from the diagram.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import logging
import os
import re
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markdown import Extension, Markdown
from markdown.postprocessors import Postprocessor

from verify import figures
from verify.page import markdown_settings

ROOT = Path(__file__).resolve().parent.parent
SVG_DIR = ROOT / "docs" / ".diagrams"
MERMAID_JS = ROOT / "docs" / "assets" / "javascripts" / "mermaid.min.js"
MERMAID_VERSION = "11.17.2"
MATERIAL_VERSION = "9.8.1"  # its mermaid CSS goes into every SVG
# Changes whenever the rendering does (mermaid, Material's CSS, the config and CSS below): every SVG
# is then stale and `python -m verify.diagrams` renders them all again.
RENDER_KEY = f"mermaid {MERMAID_VERSION}; material {MATERIAL_VERSION}; verify.diagrams 1"
COMMAND = "uv run python -m verify.diagrams"
PRE = re.compile(r'<pre class="mermaid"[^>]*><code>(.*?)</code></pre>', re.S)
log = logging.getLogger("mkdocs.verify.diagrams")


def normalise(source: str) -> str:
    """The diagram as rendered: trailing spaces and blank lines around it do not count."""
    return "\n".join(line.rstrip() for line in source.strip("\n").splitlines()) + "\n"


def digest(source: str) -> str:
    return hashlib.sha256(f"{RENDER_KEY}\n{normalise(source)}".encode()).hexdigest()[:20]


def expand_figures(source: str) -> str:
    """`{{ fig: name.key }}` inside a diagram (Q10's chart): the figures extension (verify.figures, a
    preprocessor) has expanded it already when this postprocessor runs; this keeps the render command,
    which reads the Markdown itself, on the same text."""
    return figures.expand(source) if "{{" in source else source


class InlineSvg(Postprocessor):
    def __init__(self, md: Markdown, svg_dir: Path, collect: list[str] | None) -> None:
        super().__init__(md)
        self.svg_dir, self.collect = svg_dir, collect

    def run(self, text: str) -> str:
        return PRE.sub(self.replace, text)

    def replace(self, m: re.Match[str]) -> str:
        source = expand_figures(html.unescape(m.group(1)))
        if self.collect is not None:
            self.collect.append(source)
        d = digest(source)
        svg = self.svg_dir / f"{d}.svg"
        if not svg.is_file():
            first = normalise(source).splitlines()[0]
            log.info("diagram %r has no pre-rendered SVG: the browser renders it; run `%s`", first, COMMAND)
            return m.group(0)
        return f'<div class="diagram" data-diagram="{d}">{svg.read_text(encoding="utf-8").strip()}</div>'


class DiagramsExtension(Extension):
    def __init__(self, **kwargs: Any) -> None:
        self.config = {"svg_dir": [str(SVG_DIR), "where the rendered SVGs are"]}
        self.collect: list[str] | None = kwargs.pop("collect", None)
        super().__init__(**kwargs)

    def extendMarkdown(self, md: Markdown) -> None:  # Python-Markdown's name
        # after the raw HTML stash is put back (30), where superfences' blocks are
        md.postprocessors.register(InlineSvg(md, Path(self.getConfig("svg_dir")), self.collect), "verify_diagrams", 5)


def makeExtension(**kwargs: Any) -> DiagramsExtension:  # Python-Markdown's entry point
    return DiagramsExtension(**kwargs)


# --- finding every diagram the site shows -------------------------------------------------------------


@dataclass(frozen=True)
class Diagram:
    page: str  # docs/questions/01-microservices.md:27
    source: str

    @property
    def digest(self) -> str:
        return digest(self.source)


def fence_line(markdown: str, source: str) -> int:
    """The line of the ```mermaid fence whose content is this source (0: not found)."""
    lines = markdown.splitlines()
    want = [s.strip() for s in normalise(source).splitlines()]
    for i, line in enumerate(lines):
        if line.strip().startswith(("```mermaid", "~~~mermaid")):
            body = [expand_figures(s).strip() for s in lines[i + 1 : i + 1 + len(want)]]
            if body == want:
                return i + 1
    return 0


def diagrams(config_file: Path = ROOT / "mkdocs.yml") -> list[Diagram]:
    """Every diagram of every page, as this extension sees it: each page goes through Python-Markdown
    with mkdocs.yml's own extensions and settings (snippets, superfences, tabs...)."""
    docs = config_file.parent / "docs"
    names, configs = markdown_settings(config_file)
    out: list[Diagram] = []
    for page in sorted(docs.rglob("*.md")):
        if any(part.startswith(".") for part in page.relative_to(docs).parts):
            continue
        found: list[str] = []
        extensions: list[str | Extension] = [
            DiagramsExtension(collect=found, svg_dir="/nonexistent") if e == "verify.diagrams" else e for e in names
        ]
        text = page.read_text(encoding="utf-8")
        Markdown(extensions=extensions, extension_configs=configs).convert(text)
        rel = page.relative_to(config_file.parent).as_posix()
        out += [Diagram(f"{rel}:{fence_line(text, s)}", s) for s in found]
    return out


@dataclass
class Status:
    diagrams: list[Diagram]
    missing: list[Diagram]  # no SVG for the current source
    orphans: list[Path]  # SVGs no diagram uses (a diagram changed or went away)


def status(svg_dir: Path = SVG_DIR, config_file: Path = ROOT / "mkdocs.yml") -> Status:
    found = diagrams(config_file)
    wanted = {d.digest for d in found}
    missing = [d for d in found if not (svg_dir / f"{d.digest}.svg").is_file()]
    orphans = sorted(p for p in svg_dir.glob("*.svg") if p.stem not in wanted) if svg_dir.is_dir() else []
    return Status(found, missing, orphans)


# --- rendering ---------------------------------------------------------------------------------------

# Rendering and measuring use the same fonts readers get: Arial's metrics (Liberation Sans here,
# Arial or Helvetica elsewhere), not Material's system-font stack, whose widths vary by platform.
FONT = 'Arial, Helvetica, "Liberation Sans", sans-serif'

# Appended to Material's mermaid CSS (which it writes for HTML labels): SVG text takes `fill`, not
# `color`, so unstyled labels get the palette's colours here. Declarations outside a rule apply to the
# <svg> itself (mermaid scopes this CSS under #id).
EXTRA_CSS = f"""
--md-mermaid-font-family: {FONT};
fill: var(--md-mermaid-label-fg-color);
.label text, .label tspan, .cluster-label text, text.actor > tspan, .flowchartTitleText
  {{ fill: var(--md-mermaid-label-fg-color); }}
.edgeLabel text, .edgeLabel tspan {{ fill: var(--md-mermaid-edge-color); }}
.edgeLabel rect.background, .edgeLabel .label rect {{ fill: var(--md-mermaid-label-bg-color); opacity: 1; }}
.cluster rect {{ fill: var(--md-default-fg-color--lightest); stroke: var(--md-default-fg-color--light); }}
.cluster-label text {{ font-weight: bold; }}
.actor-line {{ stroke: var(--md-default-fg-color--light); }}
.messageText, .loopText, .noteText, .labelText {{ stroke: none; }}
.background {{ fill: var(--md-default-bg-color); }}
.main > .background {{ fill: none; }}
.chart-title text, [class$="-axis"] text {{ fill: var(--md-mermaid-label-fg-color); }}
[class$="-axis"] path {{ stroke: var(--md-mermaid-edge-color); }}
.plot rect {{ fill: var(--md-accent-fg-color); stroke: none; }}
"""

CONFIG = {
    "startOnLoad": False,
    "deterministicIds": True,
    "fontFamily": FONT,
    "htmlLabels": False,
    "flowchart": {"htmlLabels": False, "useMaxWidth": False},
    "sequence": {"actorFontSize": "16px", "messageFontSize": "16px", "noteFontSize": "16px", "useMaxWidth": False},
    "xyChart": {"useMaxWidth": False},
}

# In the page that renders: render one diagram, then make it a static, accessible picture.
RENDER_JS = (Path(__file__).parent / "render_diagram.js").read_text(encoding="utf-8")


def material_css() -> str:
    """The CSS Material gives the diagrams it renders (its bundle's `themeCSS`), from the installed theme."""
    import material

    bundle = next((Path(material.__file__).parent / "templates/assets/javascripts").glob("bundle.*.min.js"))
    m = re.search(r'=("\.node circle,.*?");', bundle.read_text(encoding="utf-8"))
    if not m:
        raise SystemExit(f"Material's mermaid CSS not found in {bundle}")
    css: str = json.loads(m.group(1))
    return css


def check_versions() -> None:
    from importlib.metadata import version

    js = MERMAID_JS.read_text(encoding="utf-8")
    if f'version:"{MERMAID_VERSION}"' not in js:
        raise SystemExit(f"{MERMAID_JS} is not mermaid {MERMAID_VERSION}: update MERMAID_VERSION in {__file__}")
    if version("mkdocs-material") != MATERIAL_VERSION:
        raise SystemExit(f"mkdocs-material is not {MATERIAL_VERSION}: update MATERIAL_VERSION in {__file__}")


class RenderError(Exception):
    pass


def render(items: list[Diagram]) -> Iterator[tuple[Diagram, str]]:
    """(diagram, SVG text) for each, rendered in headless Chromium; a diagram mermaid cannot parse
    raises RenderError naming its page:line."""
    from playwright.sync_api import Error, sync_playwright

    chrome = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
    args = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
    args += ["--disable-component-update", "--disable-sync"]
    config = {**CONFIG, "themeCSS": material_css() + EXTRA_CSS}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chrome, args=args)
        page = browser.new_page()
        page.set_content(f"<!doctype html><style>body {{ font-family: {FONT} }}</style><body></body>")
        page.add_script_tag(path=str(MERMAID_JS))
        page.evaluate("(c) => mermaid.initialize(c)", config)
        try:
            for d in items:
                try:
                    svg = page.evaluate(RENDER_JS, [f"d{d.digest[:10]}", d.source])
                except Error as e:
                    message = str(e).split("\n")[0].removeprefix("Error: ").strip()
                    raise RenderError(f"{d.page}: {message}") from None
                yield d, svg + "\n"
        finally:
            browser.close()


def check_svg(text: str) -> list[str]:
    """What a pre-rendered SVG must be: an accessible picture whose labels are text."""
    ns = "{http://www.w3.org/2000/svg}"
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        return [f"not XML: {e}"]
    problems = []
    title = root.find(f"{ns}title")
    if root.get("role") != "img":
        problems.append('no role="img"')
    if title is None or not (title.text or "").strip() or root.get("aria-labelledby") != title.get("id"):
        problems.append("no accessible name (<title> named by aria-labelledby)")
    if root.find(f".//{ns}foreignObject") is not None:
        problems.append("HTML labels (<foreignObject>) instead of SVG text")
    if not [t for t in root.iter(f"{ns}text") if "".join(t.itertext()).strip()]:
        problems.append("no text labels")
    if root.find(f".//{ns}script") is not None or re.search(r"(?:href|src)=\"https?:", text):
        problems.append("a script or an external reference")
    return problems


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="only report missing and orphaned SVGs (no browser)")
    ap.add_argument("--all", action="store_true", help="render every diagram again, not only the missing ones")
    ap.add_argument("--config", type=Path, default=ROOT / "mkdocs.yml")
    ap.add_argument("--svg-dir", type=Path, default=SVG_DIR)
    args = ap.parse_args(argv)
    st = status(args.svg_dir, args.config)
    todo = st.diagrams if args.all else st.missing
    if args.check:
        for d in st.missing:
            print(f"{d.page}: no SVG for this diagram (run `{COMMAND}`)")
        for p in st.orphans:
            print(f"{p}: no diagram uses this SVG (run `{COMMAND}`)")
        print(f"{len(st.diagrams)} diagrams, {len(st.missing)} without SVG, {len(st.orphans)} orphaned SVGs")
        return 1 if st.missing or st.orphans else 0
    check_versions()
    args.svg_dir.mkdir(parents=True, exist_ok=True)
    rendered = 0
    unique = list({d.digest: d for d in todo}.values())  # a diagram shown twice is rendered once
    try:
        for d, svg in render(unique):
            problems = check_svg(svg)
            if problems:
                print(f"{d.page}: {'; '.join(problems)}", file=sys.stderr)
                return 1
            (args.svg_dir / f"{d.digest}.svg").write_text(svg, encoding="utf-8")
            rendered += 1
            print(f"{d.page}: {d.digest}.svg")
    except RenderError as e:
        print(f"{e}", file=sys.stderr)
        return 1
    for p in st.orphans:
        p.unlink()
    print(f"{len(st.diagrams)} diagrams: {rendered} rendered, {len(st.orphans)} orphaned SVGs removed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
