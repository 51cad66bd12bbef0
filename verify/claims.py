"""The claims register: every correction the site makes, one entry each, in ``docs/claims/NN-topic.toml``.

An entry names the wrong claim in plain words, the heading on the page that corrects it and the proof: a
test (``tests/...py::test_name``) or an executed block of a page (``docs/...md:LINE``, the line of its
opening fence). ``tests/test_claims.py`` checks the register against the pages; this module also
renders the readers' page ``docs/wrong-answers.md`` from it:

    uv run python -m verify.claims           # rewrite docs/wrong-answers.md
    uv run python -m verify.claims --check   # exit 1 if the committed page is stale

How a page's "Common wrong answers" box is matched with the register: every bullet of the box links
to its correction on the same page (``[see below](#anchor)``; the first such link counts). For each
anchor, the page's register file must hold at least as many entries whose ``anchor`` is that page and
anchor as the box has bullets linking to it. Entries beyond the box (corrections made elsewhere on
the page) are allowed; a bullet without an in-page link is a problem in itself.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import markdown
from mkdocs.utils.meta import get_data

from verify.page import markdown_settings

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "mkdocs.yml"
DOCS = ROOT / "docs"
REGISTER = DOCS / "claims"
READER_PAGE = DOCS / "wrong-answers.md"
FIELDS = ("id", "wrong", "anchor", "proof")
BOX = re.compile(r'^!!! failure "Common wrong answers"[ \t]*$')
IN_PAGE_LINK = re.compile(r"\]\(#([^)\s]+)\)")
ID = re.compile(r"^q(?P<nn>\d\d)-[a-z0-9]+(?:-[a-z0-9]+)*$")
TEST_PROOF = re.compile(r"^(?P<path>tests/[\w/]+\.py)::(?P<name>[\w:]+?)(?:\[.*\])?$")
BLOCK_PROOF = re.compile(r"^(?P<path>docs/[\w/.-]+\.md):(?P<line>\d+)$")
HEADING = re.compile(r"^#{1,6}[ \t]+\S")
FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})")


class RegisterError(Exception):
    """A register file that cannot be read as entries; the message names the file."""


@dataclass(frozen=True)
class Claim:
    id: str
    wrong: str
    anchor: str  # "questions/10-n-plus-one.md#heading-id", relative to docs/
    proof: str
    source: str  # the register file, relative to the repository

    @property
    def page(self) -> str:
        return self.anchor.partition("#")[0]

    @property
    def fragment(self) -> str:
        return self.anchor.partition("#")[2]


@dataclass(frozen=True)
class Bullet:
    line: int  # 1-based, in the page
    text: str
    anchor: str | None  # the first in-page link: the bullet's correction


def register_file(page: str) -> str:
    """The register file of a page: questions/08-connection-leaks.md -> claims/08-connection-leaks.toml."""
    return f"claims/{Path(page).stem}.toml"


def load(register: Path = REGISTER, root: Path = ROOT) -> list[Claim]:
    claims: list[Claim] = []
    for path in sorted(register.glob("*.toml")):
        rel = path.relative_to(root).as_posix()
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as e:
            raise RegisterError(f"{rel}: not TOML: {e}") from e
        if set(data) != {"claim"} or not isinstance(data["claim"], list):
            raise RegisterError(f"{rel}: expected only [[claim]] tables, found {sorted(data)}")
        for n, entry in enumerate(data["claim"], 1):
            if sorted(entry) != sorted(FIELDS) or not all(isinstance(entry[k], str) and entry[k] for k in FIELDS):
                raise RegisterError(f"{rel}: claim {n} must have exactly {', '.join(FIELDS)}, as non-empty strings")
            claims.append(Claim(**{k: entry[k].strip() for k in FIELDS}, source=rel))
    return claims


def id_problems(claims: list[Claim]) -> list[str]:
    """Ids must be unique, kebab-case, and prefixed qNN- with the number of their register file."""
    problems = [f"{i}: duplicated in {n} entries" for i, n in Counter(c.id for c in claims).items() if n > 1]
    for c in claims:
        m = ID.match(c.id)
        nn = Path(c.source).stem[:2]
        if not m or m["nn"] != nn:
            problems.append(f"{c.source}: id {c.id!r} is not kebab-case prefixed q{nn}-")
        if c.source != "docs/" + register_file(c.page):
            problems.append(f"{c.source}: {c.id} corrects {c.page}, whose register is docs/{register_file(c.page)}")
    return problems


def box_bullets(text: str) -> list[Bullet] | None:
    """The bullets of the page's "Common wrong answers" box (None: the page has no such box)."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if BOX.match(line)), None)
    if start is None:
        return None
    bullets: list[tuple[int, list[str]]] = []
    for i in range(start + 1, len(lines)):
        line = lines[i]
        if line.strip() and not line.startswith("    "):
            break  # the box ends at the first line that is not indented
        if line.startswith("    - "):
            bullets.append((i + 1, [line[6:]]))
        elif line.strip() and bullets:
            bullets[-1][1].append(line.strip())
    result = []
    for line_no, parts in bullets:
        body = " ".join(parts)
        link = IN_PAGE_LINK.search(body)
        result.append(Bullet(line_no, body, link[1] if link else None))
    return result


def uncovered(page: str, bullets: list[Bullet], claims: list[Claim]) -> list[str]:
    """Box bullets of `page` (relative to docs/) that have no register entry, by the rule in the docstring."""
    problems = [
        f"{page}:{b.line}: the bullet links to no heading of its page: {b.text[:60]}" for b in bullets if not b.anchor
    ]
    wanted = Counter(b.anchor for b in bullets if b.anchor)
    have = Counter(c.fragment for c in claims if c.page == page)
    for anchor, n in wanted.items():
        if have[anchor] < n:
            lines = ", ".join(str(b.line) for b in bullets if b.anchor == anchor)
            problems.append(
                f"{page}:{lines}: {n} bullet(s) link to #{anchor} but docs/{register_file(page)} has"
                f" {have[anchor]} entr{'y' if have[anchor] == 1 else 'ies'} with that anchor"
            )
    return problems


@cache
def headings(page: Path, config_file: Path = CONFIG) -> list[tuple[str, str]]:
    """(id, text) of every heading as the toc extension renders it, which is what MkDocs links to."""
    extensions, configs = markdown_settings(config_file)
    md = markdown.Markdown(extensions=extensions, extension_configs=configs)
    md.convert(get_data(page.read_text(encoding="utf-8"))[0])  # without the front matter, as MkDocs does

    def walk(tokens: list[dict[str, object]]) -> Iterator[tuple[str, str]]:
        for t in tokens:
            yield str(t["id"]), re.sub(r"<[^>]+>", "", str(t["name"]))
            yield from walk(t["children"])  # type: ignore[arg-type]

    return list(walk(md.toc_tokens))  # type: ignore[attr-defined]  # set by the toc extension


def heading_above(page: Path, line: int, config_file: Path = CONFIG) -> tuple[str, str]:
    """The heading a line of the page sits under: its n-th ATX heading is the toc's n-th entry."""
    in_fence, count = False, 0
    for text in page.read_text(encoding="utf-8").splitlines()[: line - 1]:
        if FENCE.match(text):
            in_fence = not in_fence
        elif not in_fence and HEADING.match(text):
            count += 1
    return headings(page, config_file)[max(count - 1, 0)]


def anchor_problem(claim: Claim, docs: Path = DOCS, config_file: Path = CONFIG) -> str | None:
    page = docs / claim.page
    if not claim.fragment or not page.is_file():
        return f"{claim.source}: {claim.id}: anchor {claim.anchor!r} is not page.md#heading-id of an existing page"
    ids = [i for i, _ in headings(page, config_file)]
    if claim.fragment not in ids:
        return f"{claim.source}: {claim.id}: no heading #{claim.fragment} on {claim.page} (it has: {', '.join(ids)})"
    return None


def proof_problem(claim: Claim, executed: Callable[[Path], set[int]], root: Path = ROOT) -> str | None:
    """None if the proof exists: a test function, or the opening line of a block the harness runs."""
    where = f"{claim.source}: {claim.id}: proof {claim.proof!r}"
    if m := TEST_PROOF.match(claim.proof):
        path = root / m["path"]
        if not path.is_file():
            return f"{where}: no file {m['path']}"
        body: list[ast.stmt] = ast.parse(path.read_text(encoding="utf-8")).body
        *classes, name = m["name"].split("::")
        for cls in classes:
            body = next((n.body for n in body if isinstance(n, ast.ClassDef) and n.name == cls), [])
        found = any(isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == name for n in body)
        return None if found and name.startswith("test_") else f"{where}: no test function {m['name']} in {m['path']}"
    if m := BLOCK_PROOF.match(claim.proof):
        path = root / m["path"]
        if not path.is_file():
            return f"{where}: no page {m['path']}"
        return None if int(m["line"]) in executed(path) else f"{where}: line {m['line']} opens no executed block"
    return f"{where}: neither tests/...py::test_name nor docs/...md:LINE"


def proof_text(claim: Claim, docs: Path = DOCS, config_file: Path = CONFIG) -> str:
    """How the readers' page shows a proof: a test by name and file, an executed example by its section."""
    if m := TEST_PROOF.match(claim.proof):
        return f"test `{m['name']}` in `{m['path']}`"
    path, _, line = claim.proof.partition(":")
    page = Path(path).relative_to("docs")
    heading_id, heading = heading_above(docs / page, int(line), config_file)
    return f"the example run under [{heading}]({page.as_posix()}#{heading_id}) (its output is checked on every run)"


def render(claims: list[Claim], docs: Path = DOCS, config_file: Path = CONFIG) -> str:
    out = [
        "---",
        'description: "Every common wrong answer this site corrects, in one list: the claim, the section that'
        ' corrects it, and the test that proves the correction."',
        "---",
        "",
        "# Common wrong answers",
        "",
        "<!-- Generated from docs/claims/*.toml by `uv run python -m verify.claims`: do not edit by hand. -->",
        "",
        "Every correction the site makes, in one list: the claim as it is usually heard, the section that",
        "corrects it, and what proves the correction: a test in the repository, or an example on the page",
        "whose output the test suite checks on every run. The list is generated from the site's claims",
        "register (`docs/claims/`), and a test fails when a question's *Common wrong answers* box names a",
        "claim the register lacks, or when a section or a test named here does not exist.",
    ]
    for page in sorted({c.page for c in claims}):
        title = next(
            line[2:].strip() for line in (docs / page).read_text(encoding="utf-8").splitlines() if line.startswith("# ")
        )
        out += ["", f"## {title}", ""]
        names = dict(headings(docs / page, config_file))
        for c in (c for c in claims if c.page == page):
            section = names.get(c.fragment, c.fragment)
            proof = proof_text(c, docs, config_file)
            out.append(f"- **“{c.wrong}”**: corrected in [{section}]({c.anchor}); proven by {proof}.")
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> int:
    text = render(load())
    if "--check" in argv:
        current = READER_PAGE.read_text(encoding="utf-8") if READER_PAGE.exists() else ""
        if current != text:
            print(f"{READER_PAGE.relative_to(ROOT)} is stale: run `uv run python -m verify.claims`", file=sys.stderr)
            return 1
        return 0
    READER_PAGE.write_text(text, encoding="utf-8")
    print(f"wrote {READER_PAGE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
