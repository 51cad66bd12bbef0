"""The claims register (docs/claims/*.toml) against the pages, and the readers' page generated from it.

How a box is matched with the register is documented in verify/claims.py. These checks are strict: a
question page with a "Common wrong answers" box and no register file fails until its file exists.
"""

from __future__ import annotations

import re
from pathlib import Path

import markdown
import pytest
from mkdocs.config import load_config

from verify import cheatsheet
from verify import claims as register
from verify.page import RUN, markdown_settings, read_page

ROOT = register.ROOT
DOCS = register.DOCS
CLAIMS = register.load()
BOXED = sorted(p for p in DOCS.rglob("*.md") if register.box_bullets(p.read_text(encoding="utf-8")) is not None)


def executed(page: Path) -> set[int]:
    """Opening lines of the blocks the harness runs on a page (not the ones it only shows)."""
    return {b.line for b in read_page(page, ROOT, ROOT / "mkdocs.yml").blocks if b.lang in RUN and not b.problems}


def test_the_register_has_entries_and_unique_well_formed_ids() -> None:
    assert CLAIMS, "no register files under docs/claims/"
    assert register.id_problems(CLAIMS) == []


def test_every_question_page_has_a_box() -> None:
    questions = sorted((DOCS / "questions").glob("*.md"))
    assert questions and all(p in BOXED for p in questions)


@pytest.mark.parametrize("page", BOXED, ids=lambda p: p.stem)
def test_every_bullet_of_the_box_has_a_register_entry(page: Path) -> None:
    rel = page.relative_to(DOCS).as_posix()
    assert (DOCS / register.register_file(rel)).is_file(), f"{rel} has a box but no docs/{register.register_file(rel)}"
    bullets = register.box_bullets(page.read_text(encoding="utf-8"))
    assert bullets, f"{rel}: an empty box"
    assert register.uncovered(rel, bullets, CLAIMS) == []


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.id)
def test_the_anchor_is_a_heading_of_the_built_page(claim: register.Claim) -> None:
    assert register.anchor_problem(claim) is None


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.id)
def test_the_proof_exists(claim: register.Claim) -> None:
    assert register.proof_problem(claim, executed) is None
    if ":" in claim.proof and "::" not in claim.proof:  # an executed block proves what its section says
        page, _, line = claim.proof.partition(":")
        section = register.heading_above(ROOT / page, int(line))[0]
        assert section == claim.fragment, f"{claim.id}: the block at {claim.proof} is under #{section}"


def test_the_readers_page_is_current_and_in_the_nav_before_the_summary() -> None:
    expected = register.render(CLAIMS)
    assert register.READER_PAGE.read_text(encoding="utf-8") == expected, "run `uv run python -m verify.claims`"
    for claim in CLAIMS:
        assert claim.wrong in expected and f"]({claim.anchor})" in expected
    nav = [
        next(iter(item.values())) if isinstance(item, dict) else item
        for item in load_config(str(register.CONFIG))["nav"]
    ]
    assert nav.index("wrong-answers.md") + 1 == nav.index("summary.md")


def test_the_checker_catches_each_kind_of_mistake(tmp_path: Path) -> None:
    """The rules fail on a register that breaks them, so the passing checks above mean something."""
    (tmp_path / "claims").mkdir()
    (tmp_path / "claims" / "99-demo.toml").write_text(
        "\n".join(
            f'[[claim]]\nid = "{i}"\nwrong = "w"\nanchor = "questions/99-demo.md#{a}"\nproof = "{p}"\n'
            for i, a, p in [
                ("q99-a", "real", "tests/test_claims.py::test_the_proof_exists"),
                ("q99-a", "missing-heading", "tests/test_claims.py::test_no_such_test"),
                ("Q99_bad", "real", "docs/questions/10-n-plus-one.md:1"),
            ]
        ),
        encoding="utf-8",
    )
    found = register.load(tmp_path / "claims", tmp_path)
    problems = register.id_problems(found)
    assert any("q99-a: duplicated" in p for p in problems) and any("'Q99_bad'" in p for p in problems)
    page = tmp_path / "questions" / "99-demo.md"
    page.parent.mkdir()
    page.write_text(
        '# Demo\n\n!!! failure "Common wrong answers"\n    - "x" ([see](#real)).\n    - "y" ([see](#real)).\n'
        '    - "z", no link.\n\n## Real\n',
        encoding="utf-8",
    )
    found = [c for c in found if c.id == "q99-a"]
    assert register.anchor_problem(found[0], tmp_path) is None
    assert "no heading #missing-heading" in str(register.anchor_problem(found[1], tmp_path))
    assert register.proof_problem(found[0], executed) is None
    assert "no test function test_no_such_test" in str(register.proof_problem(found[1], executed))
    block = register.Claim("q99-b", "w", "questions/99-demo.md#real", "docs/questions/10-n-plus-one.md:1", "x")
    assert "opens no executed block" in str(register.proof_problem(block, executed))
    bullets = register.box_bullets(page.read_text(encoding="utf-8"))
    assert bullets is not None and [b.anchor for b in bullets] == ["real", "real", None]
    missing = register.uncovered("questions/99-demo.md", bullets, found[:1])
    assert len(missing) == 2 and "2 bullet(s) link to #real" in missing[1] and "links to no heading" in missing[0]


SEED = re.compile(r"\bseeds?\b", re.IGNORECASE)  # "the seed" was our name for the source questions
PAGES = sorted(DOCS.rglob("*.md"))


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(DOCS).as_posix())
def test_no_page_says_seed(page: Path) -> None:
    """The reader knows the source questions as "the common answer"; included files count, they are shown."""
    extensions, configs = markdown_settings(register.CONFIG)
    html = markdown.Markdown(extensions=extensions, extension_configs=configs).convert(page.read_text(encoding="utf-8"))
    hits = [line.strip()[:100] for line in html.splitlines() if SEED.search(line)]
    assert hits == [], f"{page.relative_to(ROOT)} says 'seed'"


def test_no_register_entry_says_seed() -> None:
    assert [c.id for c in CLAIMS if SEED.search(c.wrong)] == []


def test_the_summary_lists_each_question_with_a_one_line_answer() -> None:
    """The summary is the cheat sheet generated from the answer boxes (verify/cheatsheet.py)."""
    assert "{{ cheatsheet }}" in (DOCS / "summary.md").read_text(encoding="utf-8")
    bullets = [line for line in cheatsheet.render() if line.startswith("**[Q")]
    questions = sorted(p.relative_to(DOCS).as_posix() for p in (DOCS / "questions").glob("*.md"))
    linked = [re.findall(r"\]\((questions/[^)#]+\.md)\)", b) for b in bullets]
    assert linked == [[q] for q in questions], "one entry per question, in order"
    for path in sorted((DOCS / "questions").glob("*.md")):
        entry = cheatsheet.entry(path)
        assert len(entry.one_line.split()) >= 8, path.name
        assert len(entry.points) == 3, path.name
    index = DOCS / "index.md"
    assert "where-the-common-answers-come-from" in [i for i, _ in register.headings(index)]
