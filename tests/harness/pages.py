"""Read a page: every fence on it, what each one shows, and what the harness must run for it.

pytest-codeblocks' parser (``extract_from_file``) finds the backtick fences, their marks and their
expected output; a raw scan of the same lines finds what that parser cannot see (``~~~`` fences),
and the ``--8<--`` includes are expanded by pymdownx.snippets with the settings of mkdocs.yml.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import markdown
from pytest_codeblocks import extract_from_file

from .stamps import INCLUDE

RUN = {"python", "sql", "bash"}
# Fences that are not code, by their info string: shown, never run.
NOT_CODE = {"mermaid", "text", "output", "console", "yaml", "toml", "ini", "json", "http"}
MARK = re.compile(r"pytest\.mark\.(\w+)(?:\((.*)\))?$")
KNOWN_MARKS = {"raises", "sqlstate", "timeout"}
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")


class PageError(Exception):
    """A page the harness cannot verify as written; the message starts with page:line."""


@dataclass
class Fence:
    line: int  # 1-based line of the opening fence in the .md
    info: str
    end: int  # line of the closing fence
    indent: str
    expected_output_for: int | None = None  # line of the block whose output this fence shows


@dataclass
class Block:
    page: Path
    rel: str  # page path as shown in messages
    line: int
    lang: str
    code: str  # what the page shows, includes expanded
    files: list[Path]  # snippet files this block includes (each is run whole)
    inline: bool  # the block has code of its own besides include lines
    expected_output: str | None = None
    output_fence: Fence | None = None
    raises: str | None = None
    sqlstates: tuple[str, ...] = ()
    timeout: float = 120.0
    problems: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"{self.rel}:{self.line}"


def scan_fences(text: str) -> list[Fence]:
    """Every fenced block, backticks or tildes, at any indentation (content tabs, admonitions)."""
    fences: list[Fence] = []
    lines = text.splitlines()
    pending_output = False
    last_block: int | None = None
    i = 0
    while i < len(lines):
        stripped = lines[i].strip()
        if re.fullmatch(r"<!--[-\s]*pytest-codeblocks:expected-output[-\w]*-->", stripped):
            pending_output = True
        m = FENCE.match(lines[i])
        if m:
            char, n = m["fence"][0], len(m["fence"])
            j = i + 1
            close = re.compile(rf"^[ \t]*{re.escape(char)}{{{n},}}[ \t]*$")
            while j < len(lines) and not close.match(lines[j]):
                j += 1
            f = Fence(i + 1, m["info"].strip(), j + 1, m["indent"])
            if pending_output:
                f.expected_output_for = last_block
                pending_output = False
            else:
                last_block = f.line
            fences.append(f)
            i = j
        i += 1
    return fences


@cache
def snippet_preprocessor(config_file: Path) -> markdown.preprocessors.Preprocessor:
    """pymdownx.snippets configured exactly as mkdocs.yml configures it."""
    from mkdocs.config import load_config

    cfg = load_config(str(config_file))
    options = cfg["mdx_configs"]["pymdownx.snippets"]
    base = [str((config_file.parent / b).resolve()) for b in options.get("base_path", ["."])]
    md = markdown.Markdown(
        extensions=["pymdownx.snippets"], extension_configs={"pymdownx.snippets": {**options, "base_path": base}}
    )
    return md.preprocessors["snippet"]


def parse_marks(block: Block, marks: list[str]) -> None:
    for mark in marks:
        m = MARK.match(mark.strip())
        if not m or m[1] not in KNOWN_MARKS:
            block.problems.append(f"unknown mark <!--{mark}--> (known: {', '.join(sorted(KNOWN_MARKS))})")
            continue
        args = [a.strip().strip("\"'") for a in (m[2] or "").split(",") if a.strip()]
        if not args:
            block.problems.append(f"mark {m[1]} needs an argument")
        elif m[1] == "raises":
            block.raises = args[0]
        elif m[1] == "sqlstate":
            block.sqlstates = tuple(args)
        elif m[1] == "timeout":
            block.timeout = float(args[0])


def read_page(page: Path, root: Path, config_file: Path) -> list[tuple[Fence, Block | None]]:
    """Each fence of the page, with the Block to run for it (None for expected-output fences)."""
    text = page.read_text(encoding="utf-8")
    rel = str(page.relative_to(root))
    fences = scan_fences(text)
    parsed = {b.lineno: b for b in extract_from_file(page)}
    pre = snippet_preprocessor(config_file)
    result: list[tuple[Fence, Block | None]] = []
    for f in fences:
        if f.expected_output_for is not None:
            result.append((f, None))
            continue
        cb = parsed.get(f.line)
        lang = f.info
        block = Block(page, rel, f.line, lang, "", [], False)
        if cb is None:
            block.problems.append(f"fence {(f.info and repr(f.info)) or ''} is invisible to the parser: use ``` fences")
            result.append((f, block))
            continue
        parse_marks(block, cb.marks)
        block.expected_output = cb.expected_output
        files, inline = [], False
        for ln in cb.code.splitlines():
            inc = INCLUDE.match(ln)
            if inc:
                target = pre.parse_snippet_target(inc["target"])
                path = pre.get_snippet_path(target["path"]) if target else None
                if path is None:
                    block.problems.append(f"include file not found: {inc['target']}")
                else:
                    files.append(Path(path))
            elif ln.strip():
                inline = True
        block.files, block.inline = files, inline
        try:
            block.code = "\n".join(pre.run(cb.code.splitlines())) + "\n"
        except Exception as e:  # SnippetMissingError and friends
            block.problems.append(f"include failed: {e}")
        if lang not in RUN | NOT_CODE:
            block.problems.append(
                f"fence language {lang!r} is neither run ({', '.join(sorted(RUN))}) "
                f"nor marked as not code ({', '.join(sorted(NOT_CODE))})"
            )
        if block.expected_output is not None:
            block.output_fence = next(o for o in fences if o.expected_output_for == f.line)
            if lang not in RUN:
                block.problems.append("expected output follows a block that is not run")
        if (block.raises or block.sqlstates) and lang not in RUN:
            block.problems.append("a block that is not run cannot declare an error")
        if (block.sqlstates and lang != "sql") or (block.raises and lang != "python"):
            block.problems.append("raises(...) is for python blocks, sqlstate(...) for sql blocks")
        result.append((f, block))
    return result


def mermaid_fences(text: str) -> list[Fence]:
    return [f for f in scan_fences(text) if f.info == "mermaid"]
