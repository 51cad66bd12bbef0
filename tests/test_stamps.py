"""Every question page carries a verified-against stamp that matches what the page verifies now."""

from __future__ import annotations

from pathlib import Path

import pytest

from verify import stamps
from verify.page import read_page

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted((ROOT / "docs" / "questions").glob("*.md"))


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_stamp_matches_the_page_and_its_snippets(page: Path) -> None:
    stamp = stamps.read(page, ROOT)
    parsed = read_page(page, ROOT, ROOT / "mkdocs.yml")
    rel = page.relative_to(ROOT)
    rerun = f"uv run pytest {rel} {stamps.proof_module(page, ROOT).relative_to(ROOT)} (outside CI) renews it"
    assert stamp is not None, f"{rel} has no stamp in docs/.verified/: {rerun}"
    assert stamp["digest"] == parsed.digest(ROOT), (
        f"a block of {rel}, its output or a file it shows changed since it was verified on {stamp['verified']}: "
        f"{rerun}, then commit it"
    )
    assert stamp["inputs"] == [f.relative_to(ROOT).as_posix() for f in parsed.shown_files]
    assert stamp["blocks_run"] == len(parsed.run_blocks) > 0
    assert set(stamp["environment"]) == stamps.servers_used(parsed, ROOT) | {"Python"}


def test_stamps_are_never_written_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    page = read_page(PAGES[0], ROOT, ROOT / "mkdocs.yml")
    with pytest.raises(RuntimeError, match="never written under CI=true"):
        stamps.write(page, ROOT, {"PostgreSQL": "0"}, 1)


def project(tmp_path: Path, page_text: str, snippet: str = "print(1)\n") -> Path:
    (tmp_path / "snippets").mkdir(exist_ok=True)
    (tmp_path / "snippets" / "a.py").write_text(snippet)
    (tmp_path / "mkdocs.yml").write_text(
        'site_name: t\nmarkdown_extensions:\n  - pymdownx.snippets: {base_path: ["."], check_paths: true}\n'
    )
    (tmp_path / "docs").mkdir(exist_ok=True)
    page = tmp_path / "docs" / "page.md"
    page.write_text(page_text)
    return page


PAGE = '# P\n\nProse.\n\n```python\n--8<-- "snippets/a.py:part"\n```\n\n```mermaid\ngraph LR\n  A --> B\n```\n'


def digest(page: Path) -> str:
    root = page.parent.parent
    return read_page(page, root, root / "mkdocs.yml").digest(root)


def test_a_change_to_a_shown_snippet_changes_the_digest(tmp_path: Path) -> None:
    page = project(tmp_path, PAGE)
    before = digest(page)
    assert read_page(page, tmp_path, tmp_path / "mkdocs.yml").shown_files == [tmp_path / "snippets" / "a.py"]
    project(tmp_path, PAGE, "print(2)\n")
    assert digest(page) != before


def test_prose_and_diagrams_do_not_change_the_digest_but_blocks_and_outputs_do(tmp_path: Path) -> None:
    page = project(tmp_path, PAGE)
    before = digest(page)
    page.write_text(PAGE.replace("Prose.", "Prose, typo fixed.").replace("A --> B", "A --> C"))
    assert digest(page) == before
    page.write_text(PAGE + "\n```python\nprint(3)\n```\n")
    assert digest(page) != before
    with_output = PAGE + "\n```python\nprint(3)\n```\n\n<!--pytest-codeblocks:expected-output-->\n\n```output\n3\n```\n"
    page.write_text(with_output)
    first = digest(page)
    page.write_text(with_output.replace("```output\n3", "```output\n4"))
    assert digest(page) != first


def test_the_stamp_names_the_servers_a_page_starts_itself(tmp_path: Path) -> None:
    """A page whose programs start PostgreSQL from PG_BIN is stamped with that server's version too."""
    page = project(tmp_path, PAGE, 'import os\nBIN = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")\n')
    parsed = read_page(page, tmp_path, tmp_path / "mkdocs.yml")
    assert stamps.servers_used(parsed, tmp_path) == {"PostgreSQL (PG_BIN)"}
