"""The stamp machinery, on a throwaway project: a passing run writes a page's stamp, the Markdown extension
shows it under the title (marked as a local run, or linked to its CI run), a failed block or proof takes
it off, a change to what it digests makes it stale, and the publishing check refuses a missing, stale or
foreign stamp. Stamps are not committed: docs/.verified/ is ignored by git."""

from __future__ import annotations

import platform
import subprocess
from datetime import date
from pathlib import Path

import markdown
import pytest

from verify import stamps
from verify.page import Page, read_page
from verify.plugin import stamp_pages

ROOT = Path(__file__).resolve().parent.parent
PAGE = '# P\n\nProse.\n\n```python\n--8<-- "snippets/a.py:part"\n```\n\n```mermaid\ngraph LR\n  A --> B\n```\n'
GITHUB = {
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_REPOSITORY": "someone/questions",
    "GITHUB_RUN_ID": "4242",
    "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567",
}
RUN_URL = "https://github.com/someone/questions/actions/runs/4242"


def project(tmp_path: Path, page_text: str = PAGE, snippet: str = "print(1)\n") -> Path:
    """A project with one question page (docs/questions/01-p.md) showing snippets/a.py; returns the page."""
    (tmp_path / "snippets").mkdir(exist_ok=True)
    (tmp_path / "snippets" / "a.py").write_text(snippet)
    (tmp_path / "mkdocs.yml").write_text(
        'site_name: t\nmarkdown_extensions:\n  - pymdownx.snippets: {base_path: ["."], check_paths: true}\n'
    )
    (tmp_path / "docs" / "questions").mkdir(parents=True, exist_ok=True)
    page = tmp_path / "docs" / "questions" / "01-p.md"
    page.write_text(page_text)
    return page


@pytest.fixture
def local(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    for name, value in GITHUB.items():
        monkeypatch.setenv(name, value)


def all_passed(page: Path, proofs: int = 0) -> dict[str, dict[str, int]]:
    """The outcome counts of a session in which every block of the page (and `proofs` proofs) passed."""
    root = page.parents[2]
    counts = {page.relative_to(root).as_posix(): {"passed": len(parsed(page).blocks), "failed": 0}}
    if proofs:
        counts[stamps.proof_module(page, root).relative_to(root).as_posix()] = {"passed": proofs, "failed": 0}
    return counts


def parsed(page: Path) -> Page:
    root = page.parents[2]
    return read_page(page, root, root / "mkdocs.yml")


def shown(page: Path) -> str:
    """The page as the site renders it, with the stamp extension configured for its project."""
    root = page.parents[2]
    md = markdown.Markdown(extensions=["admonition", "pymdownx.details", stamps.StampExtension(root=str(root))])
    return md.convert(page.read_text(encoding="utf-8"))


def digest(page: Path) -> str:
    root = page.parents[2]
    return parsed(page).digest(root)


# ---- write and show ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("local")
def test_a_passing_local_run_stamps_the_page_shown_under_its_title_as_a_local_run(tmp_path: Path) -> None:
    page = project(tmp_path)
    assert "Not verified yet" in shown(page)
    assert stamp_pages(tmp_path, all_passed(page)) == (["01-p.md"], [])
    stamp = stamps.read(page, tmp_path)
    assert stamp is not None
    assert stamp["run"] == {"kind": "local"}
    assert stamp["digest"] == digest(page) and stamp["inputs"] == ["snippets/a.py"]
    assert stamp["environment"] == {"Python": platform.python_version()}
    html = shown(page)
    title = f"Verified on {date.today().isoformat()} (local run) against Python {platform.python_version()}"
    assert html.index("<h1>P</h1>") < html.index(title) < html.index("Prose.")
    assert "in a local run of the test suite" in html and "actions/runs" not in html


@pytest.mark.usefixtures("github")
def test_on_github_actions_the_stamp_names_its_commit_and_links_its_run(tmp_path: Path) -> None:
    page = project(tmp_path)
    stamp_pages(tmp_path, all_passed(page))
    stamp = stamps.read(page, tmp_path)
    assert stamp is not None
    assert stamp["run"] == {"kind": "ci", "commit": GITHUB["GITHUB_SHA"], "url": RUN_URL}
    html = shown(page)
    assert f"Verified on {date.today().isoformat()} by CI against Python" in html
    assert f'<a href="{RUN_URL}">CI run 4242</a> of commit <code>0123456789ab</code>' in html
    assert stamps.check(tmp_path) == []


def test_a_ci_run_without_github_variables_stamps_a_ci_run_of_its_commit_without_a_link(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another CI machine (CI=true, no GITHUB_* variables) stamps what it ran: its checkout's commit."""
    monkeypatch.setenv("CI", "true")
    for name in GITHUB:
        monkeypatch.delenv(name, raising=False)
    page = project(tmp_path)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-C", str(tmp_path)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "one page"], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()
    stamp_pages(tmp_path, all_passed(page))
    stamp = stamps.read(page, tmp_path)
    assert stamp is not None and stamp["run"] == {"kind": "ci", "commit": head}
    html = shown(page)
    assert "(CI run) against Python" in html and f"in a CI run of commit <code>{head[:12]}</code>" in html
    assert "actions/runs" not in html
    assert stamps.check(tmp_path) == []


@pytest.mark.usefixtures("local")
def test_the_stamp_counts_the_proofs_of_the_page(tmp_path: Path) -> None:
    page = project(tmp_path)
    proofs = stamps.proof_module(page, tmp_path)
    proofs.parent.mkdir(parents=True)
    proofs.write_text("def test_x() -> None:\n    assert 1\n")
    # the page's blocks passed, its proofs did not run in this session: no stamp
    assert stamp_pages(tmp_path, all_passed(page)) == ([], [])
    assert stamp_pages(tmp_path, all_passed(page, proofs=3)) == (["01-p.md"], [])
    assert "and its 3 proofs passed" in shown(page)


# ---- no stamp for what did not pass, a stale stamp is refused ---------------------------------------


@pytest.mark.usefixtures("local")
def test_a_failed_block_or_proof_takes_the_stamp_off_and_a_partial_run_leaves_it(tmp_path: Path) -> None:
    page = project(tmp_path)
    rel, proofs = "docs/questions/01-p.md", "tests/questions/test_01_p.py"
    for failed in ({rel: {"passed": 1, "failed": 1}}, {proofs: {"passed": 5, "failed": 1}}):
        stamp_pages(tmp_path, all_passed(page))
        assert stamps.read(page, tmp_path) is not None
        assert stamp_pages(tmp_path, failed) == ([], ["01-p.md"])
        assert stamps.read(page, tmp_path) is None
        assert "Not verified yet" in shown(page)
    stamp_pages(tmp_path, all_passed(page))
    before = stamps.stamp_path(page, tmp_path).read_text()
    # a session that ran only some of the page's blocks (pytest -k) neither stamps nor unstamps it
    assert stamp_pages(tmp_path, {rel: {"passed": 1, "failed": 0}}) == ([], [])
    assert stamps.stamp_path(page, tmp_path).read_text() == before


@pytest.mark.usefixtures("local")
def test_a_stamp_older_than_what_the_page_shows_is_shown_as_changed_and_refused(tmp_path: Path) -> None:
    page = project(tmp_path)
    stamp_pages(tmp_path, all_passed(page))
    assert stamps.check(tmp_path) == []
    project(tmp_path, snippet="print(2)\n")  # the shown file changed after the run
    html = shown(page)
    assert "Changed since it was last verified" in html and "Verified on" not in html
    assert stamps.check(tmp_path) == [
        f"docs/questions/01-p.md: its stamp of {date.today().isoformat()} is older than what the page shows"
    ]


def test_the_publishing_check_wants_every_page_stamped_by_this_very_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = project(tmp_path)
    monkeypatch.delenv("CI", raising=False)
    stamp_pages(tmp_path, all_passed(page))  # a local run's stamp, left in the folder
    for name, value in {**GITHUB, "CI": "true"}.items():
        monkeypatch.setenv(name, value)
    assert [p.split(": ")[1].split(" (")[0] for p in stamps.check(tmp_path)] == ["stamped by another run"]
    assert stamps.main(["check"], tmp_path) == 1
    stamp_pages(tmp_path, all_passed(page))
    assert stamps.main(["check"], tmp_path) == 0
    monkeypatch.setenv("GITHUB_RUN_ID", "4243")  # a later run of the same commit did not stamp it
    assert "stamped by another run" in stamps.check(tmp_path)[0]
    stamps.remove(page, tmp_path)
    assert stamps.check(tmp_path) == [
        "docs/questions/01-p.md: no stamp (its blocks and proofs did not all pass in this run)"
    ]
    assert stamps.main(["publish"], tmp_path) == 2


def test_stamps_are_not_committed_the_folder_is_ignored() -> None:
    """Stamps come from the run that verified the checkout, never from a file in it."""
    tracked = subprocess.run(
        ["git", "ls-files", "docs/.verified"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert tracked == ""
    ignored = subprocess.run(["git", "check-ignore", "-q", "docs/.verified/01-microservices.json"], cwd=ROOT)
    assert ignored.returncode == 0


# ---- what the digest covers -------------------------------------------------------------------------


def test_a_change_to_a_shown_snippet_changes_the_digest(tmp_path: Path) -> None:
    page = project(tmp_path)
    before = digest(page)
    assert parsed(page).shown_files == [tmp_path / "snippets" / "a.py"]
    project(tmp_path, snippet="print(2)\n")
    assert digest(page) != before


def test_prose_and_diagrams_do_not_change_the_digest_but_blocks_and_outputs_do(tmp_path: Path) -> None:
    page = project(tmp_path)
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
    page = project(tmp_path, snippet='import os\nBIN = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")\n')
    assert stamps.servers_used(parsed(page), tmp_path) == {"PostgreSQL (PG_BIN)"}
