"""Every question page carries a verified-against stamp that matches what the page shows now."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.harness import stamps

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted((ROOT / "docs" / "questions").glob("*.md"))


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_stamp_matches_the_page_and_its_snippets(page: Path) -> None:
    stamp = stamps.read(page)
    rel = page.relative_to(ROOT)
    rerun = f"uv run pytest {rel} tests/questions/test_{page.stem.replace('-', '_')}.py (outside CI) renews it"
    assert stamp is not None, f"{rel} has no stamp in docs/.verified/: {rerun}"
    assert stamp["digest"] == stamps.digest(page), (
        f"{rel} or a snippet it shows changed since it was verified on {stamp['verified']}: {rerun}, then commit it"
    )
    assert stamp["inputs"] == [f.relative_to(ROOT).as_posix() for f in stamps.page_inputs(page)]
    assert stamp["blocks_run"] > 0
    assert set(stamp["environment"]) == {"PostgreSQL", "Redis", "RabbitMQ", "Python"}


def test_stamps_are_never_written_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(RuntimeError, match="never written under CI=true"):
        stamps.write(PAGES[0], {"PostgreSQL": "0"}, 1, 1)


def test_a_change_to_a_shown_snippet_changes_the_digest(tmp_path: Path) -> None:
    (tmp_path / "snippets").mkdir()
    (tmp_path / "snippets" / "a.py").write_text("print(1)\n")
    page = tmp_path / "page.md"
    page.write_text('# P\n\n```python\n--8<-- "snippets/a.py:part"\n```\n')
    before = stamps.digest(page, tmp_path)
    assert stamps.page_inputs(page, tmp_path) == [page, tmp_path / "snippets" / "a.py"]
    (tmp_path / "snippets" / "a.py").write_text("print(2)\n")
    assert stamps.digest(page, tmp_path) != before
