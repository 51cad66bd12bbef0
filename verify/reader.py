"""What a reader gets: each block as its copy button copies it from the built site, run as a reader runs it.

The page runner (verify/run.py) runs a block in the project's world: from its real path, next to its
sibling files. This module takes the reader's: the text Material's copy button puts on the clipboard
(read in Chromium from the built page with Material's own rule: the ``<code>`` element's ``innerText``
while ``data-md-copying`` hides line numbers and annotations, trailing whitespace trimmed), saved into an
empty folder and run with nothing but the service URLs and ``DEMO_PREFIX`` in the environment.

Each Python block is of one kind (see ``kind``):

* complete: a program; it runs as copied and does what the page says (its output, its declared error);
* part: declared ``<!--pytest.mark.part("app.py")-->`` and titled ``app.py (part)``; it must really be a
  part (it fails when run alone) and its title must link to the whole file on the page (verify/parts.py);
* archive entry: a program that needs its sibling files (verify/archives.py); it runs from the
  question's zip, downloaded from the built site and unpacked into an empty folder;
* declared failure: a block marked ``raises(...)``: it must fail as declared.
"""

from __future__ import annotations

import ast
import contextlib
import os
import shutil
import subprocess
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from verify import provide
from verify.archives import ARCHIVES, DOWNLOADS, Archive
from verify.page import RUN, Block, Page
from verify.parts import anchor
from verify.run import Result, failures, run_process, run_python, run_sql

MAX_SHOWN_LINES = 60  # what a reader sees of one block at once; a collapsed whole file is one click away

# Material's copy rule (its bundle's clipboard handler), applied to every code block of the page.
COPIED = """() => [...document.querySelectorAll('article div.highlight')].map((div) => [div,
  div.closest('details:not([open])') !== null]).map(([div, collapsed]) => {
  div.closest('details')?.setAttribute('open', '');  // a reader opens it to copy: closed, it has no innerText
  const lang = ([...div.classList].find((c) => c.startsWith('language-')) || '').slice(9);
  const button = div.querySelector('button[data-clipboard-target]');
  const code = button ? document.querySelector(button.getAttribute('data-clipboard-target')) : null;
  let text = null;
  if (code) {
    code.setAttribute('data-md-copying', '');
    const holder = code.closest('[data-copy]');
    text = (holder ? holder.getAttribute('data-copy') : code.innerText).trimEnd();
    code.removeAttribute('data-md-copying');
  }
  const title = div.querySelector('.filename');
  const link = title ? title.querySelector('a[href]') : null;  // to this page (Material makes it absolute)
  const here = link && new URL(link.href).pathname === location.pathname;
  return {lang, text, id: div.id || null, title: title ? title.textContent : null,
          link: here ? new URL(link.href).hash.slice(1) : null,
          collapsed,
          shownLines: (code ? code.textContent : div.textContent).replace(/\\n$/, '').split('\\n').length};
})"""

# Material adds the copy buttons once its JavaScript has run.
EVERY_BLOCK_HAS_A_BUTTON = """() => [...document.querySelectorAll('article div.highlight')].every(
  (div) => div.querySelector('button[data-clipboard-target]'))"""


@dataclass
class Copied:
    """One code block of a built page, as the reader gets it."""

    lang: str
    text: str | None  # what its copy button copies (None: it has no copy button)
    id: str | None
    title: str | None
    link: str | None  # the id its title links to
    collapsed: bool  # inside a closed <details>: one click away, not shown at first
    shown_lines: int


def copied_blocks(base: str, urls: list[str], cache: Path | None = None) -> dict[str, list[Copied]]:
    """Every code block of each page (site-relative URL), read in Chromium with JavaScript on. With a
    cache folder, a page read once is not read again: processes that share the folder (xdist workers)
    read each page once between them (verify.helpers.once), a browser started only if one is missing."""
    from playwright.sync_api import Page as Tab
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    from verify.browser import CHROME_ARGS, CHROME_PATH
    from verify.helpers import once

    with contextlib.ExitStack() as stack:
        tabs: list[Tab] = []

        def read(url: str) -> list[dict[str, Any]]:
            if not tabs:
                p = stack.enter_context(sync_playwright())
                tabs.append(p.chromium.launch(executable_path=CHROME_PATH, args=CHROME_ARGS).new_page())
            tabs[0].goto(base + url, wait_until="networkidle")
            with contextlib.suppress(PlaywrightTimeout):  # a block still without a button is reported as such
                tabs[0].wait_for_function(EVERY_BLOCK_HAS_A_BUTTON, timeout=15000)
            blocks: list[dict[str, Any]] = tabs[0].evaluate(COPIED)
            return blocks

        def copied(url: str) -> list[dict[str, Any]]:
            if cache is None:
                return read(url)
            found: list[dict[str, Any]] = once(
                cache / f"{url.strip('/').replace('/', '_') or 'index'}.json", lambda: read(url)
            )
            return found

        return {
            url: [
                Copied(b["lang"], b["text"], b["id"], b["title"], b["link"], b["collapsed"], int(b["shownLines"]))
                for b in copied(url)
            ]
            for url in urls
        }


def url_of(page: Page) -> str:
    """The built page's site-relative URL (directory URLs)."""
    rel = Path(page.rel).relative_to("docs").with_suffix("")
    return "" if rel.name == "index" else rel.as_posix() + "/"


def pair(page: Page, copied: list[Copied]) -> list[tuple[Block, Copied]]:
    """The page's run blocks with their built, copied form (in page order; the languages must agree)."""
    blocks = [b for b in page.blocks if b.lang in RUN]
    built = [c for c in copied if c.lang in {"python", "sql", "bash"}]
    if [b.lang for b in blocks] != [c.lang for c in built]:
        raise AssertionError(
            f"{page.rel}: the built page has code blocks {[c.lang for c in built]}, "
            f"the Markdown has {[b.lang for b in blocks]}"
        )
    return list(zip(blocks, built, strict=True))


def archive_of(block: Block) -> Archive | None:
    """The archive whose entry program this block shows."""
    for a in ARCHIVES:
        if any(f.parent.name == a.question and f.name in a.entries for f in block.files):
            return a
    return None


def kind(block: Block) -> str:
    if block.part:
        return "part"
    if block.lang == "python" and archive_of(block):
        return "archive entry"
    if block.raises or block.sqlstates:
        return "declared failure"
    return "complete"


def reader_env(space_env: dict[str, str], home: Path) -> dict[str, str]:
    """Only what a reader sets (the service URLs, DEMO_PREFIX), and what any shell has."""
    keep = {k: os.environ[k] for k in ("PATH", "LANG", "PG_BIN", "UV_CACHE_DIR") if k in os.environ}
    return {**keep, **space_env, "HOME": str(home), "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1"}


def as_copied(block: Block, text: str) -> Block:
    """The block as a reader has it: the copied text, saved as a file of its own, nothing included."""
    return Block(
        block.page,
        block.rel,
        block.fence,
        code=text + "\n",
        inline=True,
        output=block.output,
        raises=block.raises,
        sqlstates=block.sqlstates,
        timeout=block.timeout,
        part=block.part,
    )


@dataclass
class Verdict:
    block: Block
    kind: str
    problems: list[str] = field(default_factory=list)


def judged(block: Block, result: Result) -> list[str]:
    result.expected = block.expected_output
    out = failures(block, result)
    if result.output_differs:
        out.append("output differs from the page:\n" + result.diff)
    if out and result.stderr.strip():
        out.append("stderr:\n" + "\n".join(result.stderr.rstrip().splitlines()[-8:]))
    return out


def run_copied(block: Block, text: str, env: dict[str, str], folder: Path) -> Result:
    """Run the copied text in `folder` as a reader would: python saved to a file, sql into psql."""
    copy = as_copied(block, text)
    if block.lang == "python":
        return run_python(copy, env, folder)
    if block.lang == "sql":
        return run_sql(copy, env, folder)
    return run_process(["bash", "-euo", "pipefail", "-c", copy.code], env, folder, block.timeout)


def fetch_archive(base: str, archive: Archive, folder: Path) -> Path:
    """Download the question's zip from the served site and unpack it into `folder`."""
    with urllib.request.urlopen(f"{base}{DOWNLOADS}/{archive.name}", timeout=30) as r:
        data = r.read()
    zpath = folder / archive.name
    zpath.write_bytes(data)
    with zipfile.ZipFile(zpath) as z:
        z.extractall(folder)
    return folder / archive.question


def uv_cache_dir() -> str:
    if "UV_CACHE_DIR" in os.environ:
        return os.environ["UV_CACHE_DIR"]
    uv = shutil.which("uv") or "uv"
    return subprocess.run([uv, "cache", "dir"], capture_output=True, text=True, check=True).stdout.strip()


RUNS = 2  # a reader runs a program again (to watch it once more, after changing a line): see judged_again


def run_entry(block: Block, archive: Archive, base: str, env: dict[str, str]) -> list[Result]:
    """Unzip the downloaded archive in an empty folder and run the block's entry there RUNS times with
    the command the archive's README gives (uv, offline: from its cache)."""
    entry = next(f.name for f in block.files if f.name in archive.entries)
    with tempfile.TemporaryDirectory(prefix="reader-zip-") as tmp:
        folder = fetch_archive(base, archive, Path(tmp))
        cmd = [shutil.which("uv") or "uv", *archive.command(entry).split()[1:]]
        # offline, from the uv cache this project's own install filled (the reader's uv downloads them)
        uv_env = {**env, "UV_OFFLINE": "1", "UV_CACHE_DIR": uv_cache_dir()}
        return [run_process(cmd, uv_env, folder, block.timeout + 120) for _ in range(RUNS)]


def judge_page(page: Page, copied: list[Copied], base: str, env: dict[str, str]) -> list[Verdict]:
    """Follow the page top-down as a reader: every run block as copied, in order, one empty folder. A
    reader follows the "PostgreSQL NN" tab of the server they have: blocks marked for another major are
    left out (each tab is verified on its own major by the page runner). Each Python program (every Python
    block but a part) and each download's entry is run RUNS times in a row: see ``judged_again``."""
    verdicts = []
    ids = {c.id: c for c in copied if c.id}
    major = provide.server_of(env["DATABASE_URL"])[0]
    with tempfile.TemporaryDirectory(prefix="reader-") as tmp:
        folder = Path(tmp)
        for block, c in pair(page, copied):
            if block.postgres not in (None, major):
                continue
            v = Verdict(block, kind(block))
            verdicts.append(v)
            if c.text is None:
                v.problems.append("no copy button")
                continue
            if v.kind == "part":
                v.problems += part_problems(block, c, ids)
                r = run_copied(block, c.text, env, folder)
                if r.returncode == 0 and not only_definitions(c.text):
                    v.problems.append(f"declared a part of {block.part}, but it runs alone: it is a program")
                continue
            if v.kind == "archive entry":
                archive = archive_of(block)
                assert archive is not None
                if f"{DOWNLOADS}/{archive.name}" not in page.path.read_text(encoding="utf-8"):
                    v.problems.append(f"the page has no link to {DOWNLOADS}/{archive.name}")
                v.problems += judged_again(block, run_entry(block, archive, base, env))
                continue
            again = RUNS if block.lang == "python" else 1  # a psql session is a walk-through, not a program
            v.problems += judged_again(block, [run_copied(block, c.text, env, folder) for _ in range(again)])
    return verdicts


def judged_again(block: Block, results: list[Result]) -> list[str]:
    """A program's runs, one after the other in the same space (database, Redis prefix, vhost) and folder:
    the first does what the page says; a later one too (a reader runs it again: it prints what the page
    shows), or it stops with one line saying why it cannot run again (no traceback)."""
    first, *again = results
    out = judged(block, first)
    for n, r in enumerate(again, start=2):
        if (found := judged(block, r)) and not one_line(r):
            out += [f"run {n} in the same space: {found[0]}", *found[1:]]
    return out


DEFINITIONS = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.Import,
    ast.ImportFrom,
    ast.Assign,
    ast.AnnAssign,
)


def only_definitions(text: str) -> bool:
    """Code that, run alone, only defines names (functions, classes, constants, a docstring) and does
    nothing: a part of a program, not one. Code that does not even parse alone is a part too."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return True
    docstring = [n for n in tree.body if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)]
    return all(isinstance(n, DEFINITIONS) or n in docstring for n in tree.body)


def part_problems(block: Block, c: Copied, ids: dict[str, Copied]) -> list[str]:
    out = []
    if not (c.title or "").startswith(f"{block.part} (part"):
        out.append(f"the built block's title is {c.title!r}, not '{block.part} (part)'")
    target = ids.get(anchor(block.part or ""))
    if c.link != anchor(block.part or "") or target is None:
        out.append(f"its title does not link to the whole {block.part} on the page (a block titled {block.part!r})")
    return out


def fresh_run(block: Block, text: str, env: dict[str, str]) -> list[str]:
    """A program run with nothing before it (a reader who skipped the page's earlier steps) either works or
    stops with one line saying what to run first: never a traceback."""
    with tempfile.TemporaryDirectory(prefix="reader-fresh-") as tmp:
        r = run_copied(block, text, env, Path(tmp))
    if r.returncode == 0 or block.raises:
        return []
    if r.returncode is None:
        return [f"timed out after {block.timeout:g}s"]
    if not one_line(r):
        tail = "\n".join(r.stderr.strip().splitlines()[-3:])
        return [f"run first on a fresh database it fails without saying what to run first:\n{tail}"]
    return []


def one_line(r: Result) -> bool:
    """It stopped (not killed) with one line on stderr and no traceback: it says what is wrong."""
    lines = [ln for ln in r.stderr.strip().splitlines() if ln.strip()]
    return r.returncode not in (0, None) and "Traceback (most recent call last)" not in r.stderr and len(lines) == 1


def shown_too_long(copied: list[Copied]) -> list[str]:
    """Blocks a reader sees (not collapsed) with more than MAX_SHOWN_LINES lines."""
    return [
        f"{c.title or c.lang} block of {c.shown_lines} lines shown: first line {(c.text or '').splitlines()[:1]}"
        for c in copied
        if not c.collapsed and c.shown_lines > MAX_SHOWN_LINES
    ]


def counts(verdicts: list[Verdict]) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in verdicts:
        if v.block.lang == "python":
            out[v.kind] = out.get(v.kind, 0) + 1
    return out
