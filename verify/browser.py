"""Build the site, serve it on 127.0.0.1, and look at every page in headless Chromium."""

from __future__ import annotations

import functools
import gzip
import html
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from verify.codespans import NO_OP_CLASSES
from verify.page import mermaid_fences

if TYPE_CHECKING:
    from playwright.sync_api import ConsoleMessage, Error, Page, Request

CHROME_PATH = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
CHROME_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def build(
    config_file: Path, site_dir: Path, site_url: str | None = None, offline: bool = False
) -> subprocess.CompletedProcess[str]:
    """`mkdocs build --strict` (no -q: it would hide warnings) into site_dir, optionally for another
    site_url (a config that INHERITs the real one, with its relative paths made absolute), optionally
    in a network namespace of its own (`unshare -n`: nothing answers on 127.0.0.1 there)."""
    config = config_file
    if site_url:
        from mkdocs.config import load_config

        cfg = load_config(str(config_file))
        hooks = [str(Path(m.__file__).resolve()) for m in cfg["hooks"].values() if m.__file__]
        config = site_dir.parent / f"{site_dir.name}.mkdocs.yml"
        config.write_text(
            json.dumps(
                {
                    "INHERIT": str(config_file.resolve()),
                    "site_url": site_url,
                    "docs_dir": str(Path(cfg["docs_dir"]).resolve()),
                    "hooks": hooks,
                }
            ),
            encoding="utf-8",
        )
    no_network = ["unshare", "-n"] if offline else []
    return subprocess.run(
        [*no_network, sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site_dir)],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=300,
        cwd=config_file.parent,
    )


@dataclass
class Published:
    """The strict build of a config as it is (for its own site_url), laid out under site_url's path."""

    www: Path  # what the host serves
    site_dir: Path  # the site, under www at site_url's path
    path: str  # site_url's path, e.g. /backend-interview-questions-verified/
    returncode: int
    output: str  # stdout and stderr of the build
    offline: bool  # built in a network namespace of its own


def publish_once(config_file: Path, cache: Path) -> Published:
    """One strict build of config_file as it is, made once per test session: xdist workers that share
    `cache` wait for the first one's build instead of building again. It is built with no network
    (`unshare -n`) when that is permitted here, which also proves the build needs no service."""
    from mkdocs.config import load_config

    from verify.helpers import once

    def publish() -> dict[str, Any]:
        path = urlsplit(load_config(str(config_file))["site_url"] or "/").path or "/"
        www = cache / "published" / "www"
        site_dir = www.joinpath(*[p for p in path.split("/") if p])
        offline = subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0
        result = build(config_file, site_dir, offline=offline)
        return {
            "www": str(www),
            "site_dir": str(site_dir),
            "path": path,
            "returncode": result.returncode,
            "output": result.stdout + result.stderr,
            "offline": offline,
        }

    data = once(cache / "published.json", publish)
    return Published(
        Path(data["www"]), Path(data["site_dir"]), data["path"], data["returncode"], data["output"], data["offline"]
    )


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


COMPRESSIBLE = (".html", ".js", ".css", ".json", ".svg", ".xml", ".txt")


class GzipHandler(QuietHandler):
    """Like a static host (GitHub Pages): text files gzip-compressed when the client accepts it, so a
    Lighthouse run sees the transfer sizes readers get."""

    cache: ClassVar[dict[str, bytes]] = {}

    def do_GET(self) -> None:
        url_path = self.path.split("?", 1)[0].split("#", 1)[0]
        path = Path(self.translate_path(self.path))
        if path.is_dir() and url_path.endswith("/"):
            path = path / "index.html"
        if (
            "gzip" not in self.headers.get("Accept-Encoding", "")
            or not path.is_file()
            or path.suffix not in COMPRESSIBLE
        ):
            super().do_GET()  # also a directory without its trailing slash: the usual redirect
            return
        key = f"{path}:{path.stat().st_mtime_ns}"  # a rebuilt file is compressed again
        body = self.cache.get(key)
        if body is None:
            body = self.cache[key] = gzip.compress(path.read_bytes(), 6)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "max-age=600")
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def serve(root: Path, compress: bool = False) -> Iterator[str]:
    """Serve root on a free 127.0.0.1 port (gzip-compressed like a real host if compress); yields the
    base URL."""
    handler = functools.partial(GzipHandler if compress else QuietHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def hosted(
    config_file: Path, workdir: Path, compress: bool = False
) -> Iterator[tuple[Path, str, subprocess.CompletedProcess[str]]]:
    """Build the site for the URL it is served at, under the path of the real site_url, as if it
    were hosted there. Material's instant navigation only follows links whose origin (port
    included) and path match the sitemap, so the site must know the URL it is served from."""
    from mkdocs.config import load_config

    path = urlsplit(load_config(str(config_file))["site_url"] or "/").path or "/"
    root = workdir / "www"
    site_dir = root.joinpath(*[p for p in path.split("/") if p])
    site_dir.parent.mkdir(parents=True, exist_ok=True)
    with serve(root, compress) as origin:
        base = origin.rstrip("/") + path
        yield site_dir, base, build(config_file, site_dir, site_url=base)


def pages(site_dir: Path) -> list[str]:
    """Site-relative URLs of every built page (directory URLs), 404 page excluded."""
    out = []
    for index in sorted(site_dir.rglob("index.html")):
        rel = index.parent.relative_to(site_dir).as_posix()
        out.append("" if rel == "." else rel + "/")
    return out


def diagram_sources(site_dir: Path, url: str) -> list[str]:
    """The mermaid source of each diagram of a built page left for the browser to render (it has no
    pre-rendered SVG: verify/diagrams.py), in page order."""
    text = (site_dir / url / "index.html").read_text(encoding="utf-8")
    return [html.unescape(m) for m in re.findall(r'<pre class="mermaid"><code>(.*?)</code></pre>', text, re.S)]


def diagram_count(site_dir: Path, url: str) -> int:
    """How many diagrams a built page has: pre-rendered SVGs and the ones left for the browser."""
    text = (site_dir / url / "index.html").read_text(encoding="utf-8")
    return text.count('<div class="diagram"') + len(diagram_sources(site_dir, url))


# A request for the mermaid library itself (self-hosted or from a CDN): a reader never needs one.
MERMAID_BUNDLE = re.compile(r"mermaid(@[^/]*)?(/dist)?/mermaid(\.esm)?(\.min)?\.m?js|mermaid\.min\.js")


def source_line(docs_dir: Path, url: str, index: int) -> str:
    """page.md:line of the index-th diagram of the page built at url."""
    md = docs_dir / (url.rstrip("/") + ".md" if url else "index.md")
    if not md.is_file():
        md = docs_dir / url / "index.md"
    fences = mermaid_fences(md.read_text(encoding="utf-8"))
    line = fences[index].line if index < len(fences) else 0
    return f"{md.relative_to(docs_dir.parent)}:{line}"


@dataclass
class PageReport:
    url: str
    expected: int
    rendered: int = 0
    syntax_errors: int = 0
    in_browser: list[str] = field(default_factory=list)  # "page.md:line": no pre-rendered SVG
    mermaid_requests: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    overflow: int = 0  # CSS pixels the page is wider than the window (0: nothing sticks out)
    # the code spans verify/codespans.py drops that would look different from the code around them
    code_spans: list[str] = field(default_factory=list)
    # with check_site(labels=True): each diagram label's contrast in each palette, {"light": [...], "dark": [...]}
    labels: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def problems(self) -> list[str]:
        p = []
        if self.rendered != self.expected or self.syntax_errors:
            p.append(f"{self.rendered}/{self.expected} diagrams shown as SVG, {self.syntax_errors} syntax errors")
        p += [f"{d}: no pre-rendered SVG, the browser renders it (run `{RENDER}`)" for d in self.in_browser]
        p += [f"mermaid requested: {r}" for r in self.mermaid_requests]
        p += [f"failed request {r}" for r in self.failed_requests]
        p += [f"request leaving 127.0.0.1: {r}" for r in self.foreign_requests]
        p += [f"console error: {e}" for e in self.console_errors]
        if self.overflow > 0:
            p.append(f"the page is {self.overflow}px wider than the window: something does not scroll in its box")
        p += [f"a code span verify/codespans.py drops is drawn differently: {d}" for d in self.code_spans]
        return p


RENDER = "uv run python -m verify.diagrams"

# Diagrams shown as pre-rendered SVG: a named picture with text labels, laid out (it has a size).
COUNT_DIAGRAMS = """() => ({
  rendered: [...document.querySelectorAll('div.diagram > svg[role="img"]')].filter((s) =>
    s.getBoundingClientRect().width > 0 && s.querySelector('text') && s.getAttribute('aria-labelledby')).length,
  errors: (document.body.innerText.match(/Syntax error in text/g) || []).length,
})"""


# Every diagram label against what is painted behind it (the shapes under its centre, over the page
# background): its contrast ratio, for each label that is laid out.
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

# verify/codespans.py drops Pygments' name and whitespace spans because the theme draws them like the code
# around them: a span of each class, put in the page's first code block, against a bare span there.
NO_OP_SPANS = """(classes) => {
  const code = document.querySelector('.highlight code');
  if (!code) return [];
  const looks = ['color', 'background-color', 'font-weight', 'font-style', 'font-family', 'font-size',
    'text-decoration-line', 'display', 'padding-left', 'margin-left', 'border-left-width', 'letter-spacing'];
  const drawn = (cls) => {
    const s = document.createElement('span');
    if (cls) s.className = cls;
    s.textContent = 'x';
    code.appendChild(s);
    const style = getComputedStyle(s), out = looks.map((p) => `${p}: ${style.getPropertyValue(p)}`);
    s.remove();
    return out;
  };
  const bare = drawn('');
  return classes.flatMap((c) => drawn(c).flatMap((v, i) => v === bare[i] ? [] : [`.${c} ${v}, around it ${bare[i]}`]));
}"""

# Material's palette toggle in the header (light <-> dark without a reload)
PALETTE_TOGGLE = "form[data-md-component=palette] label:not([hidden])"


# Horizontal overflow of the page itself (a code block or table wider than the screen must scroll inside
# its own box, not widen the page).
OVERFLOW = "() => document.scrollingElement.scrollWidth - window.innerWidth"


def palette_labels(page: Page) -> dict[str, list[dict[str, Any]]]:
    """The contrast of every diagram label on the loaded page, in its palette and then in the other one
    (Material's toggle, no reload: the SVGs take their colours from its CSS variables), back to the first."""

    def scheme() -> str:
        return "dark" if page.get_attribute("body", "data-md-color-scheme") == "slate" else "light"

    first = scheme()
    found = {first: page.evaluate(CONTRAST)}
    page.click(PALETTE_TOGGLE)
    found[scheme()] = page.evaluate(CONTRAST)
    page.click(PALETTE_TOGGLE)
    if len(found) != 2 or scheme() != first:
        raise AssertionError(f"the palette toggle did not switch light <-> dark: {sorted(found)}, now {scheme()}")
    return found


def check_site(
    site_dir: Path,
    base: str,
    docs_dir: Path,
    dark: bool = False,
    via_navigation: bool = False,
    width: int = 1280,
    javascript: bool = True,
    labels: bool = False,
) -> list[PageReport]:
    """Load every page (directly, or by instant navigation from the last page) in a window `width`
    CSS pixels wide, with JavaScript on or off, and report. With labels, also measure the contrast of
    every diagram label in the palette loaded and in the other one, reached with the header's toggle
    (no reload; toggled back before the next page)."""
    from playwright.sync_api import sync_playwright

    reports = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROME_PATH, args=CHROME_ARGS)
        context = browser.new_context(
            color_scheme="dark" if dark else "light",
            viewport={"width": width, "height": 844 if width < 600 else 800},
            java_script_enabled=javascript,
        )
        page = context.new_page()
        current: PageReport | None = None
        in_flight: set[Request] = set()

        def on_request(req: Request) -> None:
            in_flight.add(req)
            u = req.url
            host = urlsplit(u).hostname
            if current and u.startswith(("http:", "https:", "ws:", "wss:")) and host != "127.0.0.1":
                current.foreign_requests.append(u)
            if current and MERMAID_BUNDLE.search(u):
                current.mermaid_requests.append(u)

        def on_failed(req: Request) -> None:
            in_flight.discard(req)
            if current:
                current.failed_requests.append(f"{req.url} ({req.failure})")

        def on_console(m: ConsoleMessage) -> None:
            if current and m.type == "error":
                current.console_errors.append(m.text)

        def on_pageerror(e: Error) -> None:
            if current:
                current.console_errors.append(str(e))

        page.on("request", on_request)
        page.on("requestfinished", lambda req: in_flight.discard(req))
        page.on("requestfailed", on_failed)
        page.on("console", on_console)
        page.on("pageerror", on_pageerror)

        def settle() -> None:
            """Every request the page started has finished (e.g. the favicon): leaving the page earlier
            would abort it and count as a failed request of the next one."""
            for _ in range(100):
                if not in_flight:
                    return
                page.wait_for_timeout(50)
            if current:
                current.failed_requests += [f"{r.url} (never finished)" for r in in_flight]

        urls = pages(site_dir)
        if via_navigation:  # start on the last page, so that every page is reached by navigation
            page.goto(base + urls[-1], wait_until="networkidle")
            page.evaluate("() => { window.__sameDocument = true; }")
            settle()
        for url in urls:
            current = PageReport(url, diagram_count(site_dir, url))
            current.in_browser = [source_line(docs_dir, url, i) for i in range(len(diagram_sources(site_dir, url)))]
            if via_navigation:
                # Material's instant navigation: a click on an internal link replaces the page in place
                page.evaluate(
                    "(u) => { document.querySelector('article').dataset.leaving = '1';"
                    " const a = document.createElement('a'); a.href = u;"
                    " document.body.appendChild(a); a.click(); }",
                    base + url,
                )
                page.wait_for_url(base + url)
                # the URL changes before the new content is in: wait for the old article to be gone
                page.wait_for_function("() => !document.querySelector('article[data-leaving]')")
                page.wait_for_load_state("networkidle")
                if not page.evaluate("() => window.__sameDocument === true"):
                    current.console_errors.append("navigation reloaded the page: instant navigation is off")
            else:
                page.goto(base + url, wait_until="networkidle")
                # networkidle does not wait for "load": a long page (print/) can still be being parsed
                page.wait_for_load_state("load")
            counts = page.evaluate(COUNT_DIAGRAMS)
            current.rendered, current.syntax_errors = counts["rendered"], counts["errors"]
            current.overflow = page.evaluate(OVERFLOW)
            current.code_spans = page.evaluate(NO_OP_SPANS, list(NO_OP_CLASSES))
            if labels and current.expected:
                current.labels = palette_labels(page)
            settle()
            reports.append(current)
            if not via_navigation:
                # Leave the settled page for a blank one before loading the next: Chromium fetches the
                # favicon after everything else, and loading the next page would abort that fetch.
                current = None
                page.goto("about:blank")
                page.wait_for_timeout(100)
        browser.close()
    return reports
