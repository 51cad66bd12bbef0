"""What a page is: its fences, the marks before them, the outputs they show and the files they include.

The one parser of the project: the runner, the stamps, the figures check and the browser check all read
pages through ``read_page``. It scans every fence (backticks or tildes, at any indentation: content tabs,
admonitions), attaches the HTML-comment marks that precede it, pairs a block with the ``output`` fence
after ``<!--pytest-codeblocks:expected-output-->``, and expands ``--8<--`` includes with pymdownx.snippets
configured exactly as mkdocs.yml configures it. What it cannot verify it records as a problem of the block
(an unknown mark, a fence that is neither run nor marked as not code, a missing include), and the block's
test fails with it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import markdown
from markdown.extensions import Extension

RUN = {"python", "sql", "bash"}
# Fences that are not code, by their info string: shown, never run.
NOT_CODE = {"mermaid", "text", "output", "console", "yaml", "toml", "ini", "json", "http"}
KNOWN_MARKS = {"raises", "sqlstate", "timeout", "postgres", "part"}
DEFAULT_TIMEOUT = 120.0

FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
COMMENT = re.compile(r"^[ \t]*<!--\s*(?P<body>.*?)\s*-->[ \t]*$")
EXPECTED_OUTPUT = "pytest-codeblocks:expected-output"
MARK = re.compile(r"pytest\.mark\.(?P<name>\w+)(?:\((?P<args>.*)\))?$")
INCLUDE = re.compile(r'^[ \t]*-{1,}8<-{1,}[ \t]+"(?P<target>[^"]+)"[ \t]*$')
TITLE = re.compile(r'\btitle="(?P<title>[^"]*)"')


@dataclass(frozen=True)
class Fence:
    line: int  # 1-based line of the opening fence in the .md
    end: int  # line of the closing fence
    indent: str
    info: str
    body: str  # the lines between the fences, the fence's indentation removed
    closed: bool = True

    @property
    def lang(self) -> str:
        """The language: the info string's first word (``python title="x.py"`` is python)."""
        return self.info.split(maxsplit=1)[0].strip("{}.") if self.info else ""

    @property
    def title(self) -> str | None:
        """The title the site shows above the block (``python title="app.py (part)"``), if any."""
        m = TITLE.search(self.info)
        return m["title"] if m else None


@dataclass
class Block:
    """A fence as the reader sees it, and what the engine must do with it."""

    page: Path
    rel: str  # page path as shown in messages
    fence: Fence
    code: str = ""  # what the page shows, includes expanded
    files: list[Path] = field(default_factory=list)  # files this block includes (each is run whole)
    inline: bool = False  # the block has code of its own besides include lines
    output: Fence | None = None  # the fence showing this block's expected output
    raises: str | None = None
    sqlstates: tuple[str, ...] = ()
    timeout: float = DEFAULT_TIMEOUT
    postgres: int | None = None  # the one PostgreSQL major this block runs on (in a "PostgreSQL NN" tab)
    part: str | None = None  # <!--pytest.mark.part("app.py")-->: shows part of app.py, not a program of its own
    problems: list[str] = field(default_factory=list)

    @property
    def line(self) -> int:
        return self.fence.line

    @property
    def lang(self) -> str:
        return self.fence.lang

    @property
    def runs(self) -> bool:
        """Run by the engine. A declared part is run (as its whole file) only when it shows an output: the
        block of its whole file runs it anyway."""
        return self.lang in RUN and (self.part is None or self.output is not None)

    @property
    def expected_output(self) -> str | None:
        return None if self.output is None else self.output.body

    @property
    def where(self) -> str:
        return f"{self.rel}:{self.line}"


@dataclass
class Page:
    path: Path
    rel: str
    blocks: list[Block]  # every fence except those showing an expected output
    fences: list[Fence]  # every fence

    @property
    def run_blocks(self) -> list[Block]:
        return [b for b in self.blocks if b.runs]

    @property
    def shown_files(self) -> list[Path]:
        """The files the page's run blocks include (a section include counts as its whole file)."""
        return sorted({f for b in self.run_blocks for f in b.files})

    def digest(self, root: Path) -> str:
        """A digest of what a run verifies: each run block as shown (with its marks), its expected
        output, and every file the run blocks include. Prose, diagrams and titles are not in it."""
        h = hashlib.sha256()
        for b in self.run_blocks:
            marks = f"{b.raises}|{','.join(b.sqlstates)}|{b.timeout:g}" + (f"|pg{b.postgres}" if b.postgres else "")
            for part in (b.lang, marks, b.fence.body, b.expected_output or ""):
                h.update(part.encode() + b"\0")
        for f in self.shown_files:
            h.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
        return h.hexdigest()


def scan(text: str) -> list[tuple[Fence, list[str]]]:
    """Every fence with the comments (``<!--...-->`` on their own line) met since the previous fence."""
    found: list[tuple[Fence, list[str]]] = []
    lines = text.splitlines()
    comments: list[str] = []
    i = 0
    while i < len(lines):
        c = COMMENT.match(lines[i])
        if c:
            comments.append(c["body"])
        m = FENCE.match(lines[i])
        if m:
            char, n, indent = m["fence"][0], len(m["fence"]), m["indent"]
            close = re.compile(rf"^[ \t]*{re.escape(char)}{{{n},}}[ \t]*$")
            j = i + 1
            while j < len(lines) and not close.match(lines[j]):
                j += 1
            body = [ln[len(indent) :] if ln.startswith(indent) else ln.lstrip() for ln in lines[i + 1 : j]]
            fence = Fence(i + 1, j + 1, indent, m["info"].strip(), "".join(ln + "\n" for ln in body), j < len(lines))
            found.append((fence, comments))
            comments = []
            i = j
        i += 1
    return found


@cache
def markdown_settings(config_file: Path) -> tuple[list[str | Extension], dict[str, dict[str, Any]]]:
    """The Markdown extensions and their settings exactly as mkdocs.yml configures them, with
    pymdownx.snippets' base paths made absolute (they are relative to the repository, not the cwd)."""
    from mkdocs.config import load_config

    cfg = load_config(str(config_file))
    configs = {k: dict(v) for k, v in cfg["mdx_configs"].items()}
    if "pymdownx.snippets" in configs:
        base = configs["pymdownx.snippets"].get("base_path", ["."])
        configs["pymdownx.snippets"]["base_path"] = [str((config_file.parent / b).resolve()) for b in base]
    return list(cfg["markdown_extensions"]), configs


def snippet_preprocessor(config_file: Path) -> Any:
    """pymdownx.snippets configured exactly as mkdocs.yml configures it."""
    options = markdown_settings(config_file)[1]["pymdownx.snippets"]
    md = markdown.Markdown(extensions=["pymdownx.snippets"], extension_configs={"pymdownx.snippets": options})
    return md.preprocessors["snippet"]


def apply_marks(block: Block, comments: list[str]) -> None:
    for comment in comments:
        if not comment.startswith("pytest"):
            continue  # an ordinary HTML comment
        m = MARK.match(comment)
        if not m or m["name"] not in KNOWN_MARKS:
            known = ", ".join(sorted(KNOWN_MARKS))
            block.problems.append(f"unknown mark <!--{comment}--> (known: pytest.mark. {known}; {EXPECTED_OUTPUT})")
            continue
        args = [a.strip().strip("\"'") for a in (m["args"] or "").split(",") if a.strip()]
        if not args:
            block.problems.append(f"mark {m['name']} needs an argument")
        elif m["name"] == "raises":
            block.raises = args[0]
        elif m["name"] == "sqlstate":
            block.sqlstates = tuple(args)
        elif m["name"] == "postgres":
            block.postgres = int(args[0]) if args[0].isdigit() else None
            if block.postgres is None:
                block.problems.append(f"postgres(...) takes a major version number, not {args[0]!r}")
        elif m["name"] == "part":
            block.part = args[0]
        else:
            block.timeout = float(args[0])


def expand(block: Block, pre: Any) -> None:
    """Find the block's includes and expand them as the site does."""
    for ln in block.fence.body.splitlines():
        inc = INCLUDE.match(ln)
        if inc:
            target = pre.parse_snippet_target(inc["target"])
            path = pre.get_snippet_path(target["path"]) if target else None
            if path is None:
                block.problems.append(f"include file not found: {inc['target']}")
            else:
                block.files.append(Path(path).resolve())
        elif ln.strip():
            block.inline = True
    try:
        block.code = "\n".join(pre.run(block.fence.body.splitlines())) + "\n"
    except Exception as e:  # SnippetMissingError and friends
        block.problems.append(f"include failed: {e}")


def check(block: Block) -> None:
    lang = block.lang
    if lang not in RUN | NOT_CODE:
        block.problems.append(
            f"fence language {lang!r} is neither run ({', '.join(sorted(RUN))}) "
            f"nor marked as not code ({', '.join(sorted(NOT_CODE))})"
        )
    if not block.fence.closed:
        block.problems.append("the fence is never closed")
    if block.output is not None and not block.runs:
        block.problems.append("expected output follows a block that is not run")
    if (block.raises or block.sqlstates) and not block.runs:
        block.problems.append("a block that is not run cannot declare an error")
    if (block.sqlstates and lang != "sql") or (block.raises and lang != "python"):
        block.problems.append("raises(...) is for python blocks, sqlstate(...) for sql blocks")
    if block.part and not (block.fence.title or "").startswith(f"{block.part} (part"):
        title = f'title="{block.part} (part)"'
        block.problems.append(f"a part of {block.part} is titled {title} (it has {block.fence.title!r})")


def read_page(path: Path, root: Path, config_file: Path) -> Page:
    text = path.read_text(encoding="utf-8")
    page = Page(path, path.relative_to(root).as_posix(), [], [])
    pre = snippet_preprocessor(config_file)
    for fence, comments in scan(text):
        page.fences.append(fence)
        if EXPECTED_OUTPUT in comments:
            comments = [c for c in comments if c != EXPECTED_OUTPUT]
            if not page.blocks or page.blocks[-1].output is not None:
                block = Block(path, page.rel, fence)
                block.problems.append(f"<!--{EXPECTED_OUTPUT}--> follows no block")
                page.blocks.append(block)
                continue
            page.blocks[-1].output = fence
            if comments:
                page.blocks[-1].problems.append(f"marks before an expected output: {comments}")
            continue
        block = Block(path, page.rel, fence)
        apply_marks(block, comments)
        expand(block, pre)
        page.blocks.append(block)
    for block in page.blocks:
        check(block)
    return page


def mermaid_fences(text: str) -> list[Fence]:
    return [f for f, _ in scan(text) if f.lang == "mermaid"]
