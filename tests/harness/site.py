"""Build the site, serve it on 127.0.0.1, and look at every page in headless Chromium."""

from __future__ import annotations

import functools
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
from urllib.parse import urlsplit

from .pages import mermaid_fences

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


def build(config_file: Path, site_dir: Path, site_url: str | None = None) -> subprocess.CompletedProcess[str]:
    """`mkdocs build --strict` (no -q: it would hide warnings) into site_dir, optionally for another
    site_url (a config that INHERITs the real one, with its relative paths made absolute)."""
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
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site_dir)],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=300,
        cwd=config_file.parent,
    )


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serve(root: Path) -> Iterator[str]:
    """Serve root on a free 127.0.0.1 port; yields the base URL."""
    handler = functools.partial(QuietHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def hosted(config_file: Path, workdir: Path) -> Iterator[tuple[Path, str, subprocess.CompletedProcess[str]]]:
    """Build the site for the URL it is served at, under the path of the real site_url, as if it
    were hosted there. Material's instant navigation only follows links whose origin (port
    included) and path match the sitemap, so the site must know the URL it is served from."""
    from mkdocs.config import load_config

    path = urlsplit(load_config(str(config_file))["site_url"] or "/").path or "/"
    root = workdir / "www"
    site_dir = root.joinpath(*[p for p in path.split("/") if p])
    site_dir.parent.mkdir(parents=True, exist_ok=True)
    with serve(root) as origin:
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
    """The mermaid source of each diagram of a built page, in page order."""
    text = (site_dir / url / "index.html").read_text(encoding="utf-8")
    return [html.unescape(m) for m in re.findall(r'<pre class="mermaid"><code>(.*?)</code></pre>', text, re.S)]


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
    diagram_errors: list[str] = field(default_factory=list)  # "page.md:line: parser message"
    failed_requests: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        p = []
        if self.rendered != self.expected or self.syntax_errors:
            p.append(f"{self.rendered}/{self.expected} diagrams rendered, {self.syntax_errors} syntax errors")
        p += self.diagram_errors
        p += [f"failed request {r}" for r in self.failed_requests]
        p += [f"request leaving 127.0.0.1: {r}" for r in self.foreign_requests]
        p += [f"console error: {e}" for e in self.console_errors]
        return p


COUNT_DIAGRAMS = """() => ({
  rendered: document.querySelectorAll('div.mermaid').length,
  pending: document.querySelectorAll('pre.mermaid').length,
  errors: (document.body.innerText.match(/Syntax error in text/g) || []).length
    + [...document.querySelectorAll('div.mermaid')].filter(d => /Syntax error/.test(d.textContent)).length,
})"""


PARSE_DIAGRAMS = """async (sources) => {
  const out = [];
  for (const s of sources) {
    try { await mermaid.parse(s); out.push(null); } catch (e) { out.push(String((e && e.message) || e)); }
  }
  return out;
}"""


def check_site(
    site_dir: Path, base: str, docs_dir: Path, dark: bool = False, via_navigation: bool = False
) -> list[PageReport]:
    """Load every page (directly, or by instant navigation from the home page) and report."""
    from playwright.sync_api import sync_playwright

    reports = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROME_PATH, args=CHROME_ARGS)
        context = browser.new_context(color_scheme="dark" if dark else "light")
        page = context.new_page()
        current: PageReport | None = None

        def on_request(req: object) -> None:
            u = req.url  # type: ignore[attr-defined]
            host = urlsplit(u).hostname
            if current and u.startswith(("http:", "https:", "ws:", "wss:")) and host != "127.0.0.1":
                current.foreign_requests.append(u)

        page.on("request", on_request)
        page.on("requestfailed", lambda r: current and current.failed_requests.append(f"{r.url} ({r.failure})"))
        page.on("console", lambda m: current and m.type == "error" and current.console_errors.append(m.text))
        page.on("pageerror", lambda e: current and current.console_errors.append(str(e)))
        urls = pages(site_dir)
        if via_navigation:  # start on the last page, so that every page is reached by navigation
            page.goto(base + urls[-1], wait_until="networkidle")
            page.evaluate("() => { window.__sameDocument = true; }")
        for url in urls:
            sources = diagram_sources(site_dir, url)
            current = PageReport(url, len(sources))
            if via_navigation:
                # Material's instant navigation: a click on an internal link replaces the page in place
                page.evaluate(
                    "(u) => { const a = document.createElement('a'); a.href = u;"
                    " document.body.appendChild(a); a.click(); }",
                    base + url,
                )
                page.wait_for_url(base + url)
                page.wait_for_load_state("networkidle")
                if not page.evaluate("() => window.__sameDocument === true"):
                    current.console_errors.append("navigation reloaded the page: instant navigation is off")
            else:
                page.goto(base + url, wait_until="networkidle")
            counts = {"rendered": 0, "pending": 0, "errors": 0}
            for _ in range(100):  # mermaid renders asynchronously
                counts = page.evaluate(COUNT_DIAGRAMS)
                if counts["pending"] == 0:
                    break
                page.wait_for_timeout(100)
            current.rendered, current.syntax_errors = counts["rendered"], counts["errors"]
            if sources:
                for i, err in enumerate(page.evaluate(PARSE_DIAGRAMS, sources)):
                    if err:
                        current.diagram_errors.append(f"{source_line(docs_dir, url, i)}: {err.splitlines()[0]}")
            reports.append(current)
        browser.close()
    return reports
