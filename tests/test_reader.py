"""The reader's world: every block as its copy button copies it from the built site, run in an empty folder
with only the service URLs set (verify/reader.py), and every program run a second time; the per-question
downloads; what a page shows at once."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from verify import archives, browser, reader, spaces, stamps
from verify.helpers import ROOT
from verify.page import Page, read_page

QUESTIONS = sorted((ROOT / "docs" / "questions").glob("*.md"))


@dataclass(frozen=True)
class Site:
    base: str
    copied: Callable[[list[str]], dict[str, list[reader.Copied]]]  # site-relative URLs -> their blocks

    def blocks(self, page: Page) -> list[reader.Copied]:
        return self.copied([reader.url_of(page)])[reader.url_of(page)]


def report(problems: dict[str, list[str]]) -> str:
    return "\n\n".join(f"{where}:\n" + "\n".join(found) for where, found in problems.items())


def parsed(path: Path) -> Page:
    return read_page(path, ROOT, ROOT / "mkdocs.yml")


@pytest.fixture(scope="session")
def site(published: browser.Published, tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[Site]:
    """The run's one build of the site, served on 127.0.0.1 (by each xdist worker), and its pages' code
    blocks as copied from it: each page read once in the whole run (the workers share the copies)."""
    assert published.returncode == 0, published.output
    shared = tmp_path_factory.getbasetemp()
    cache = (shared if worker_id == "master" else shared.parent) / "copied"
    with browser.serve(published.www) as origin:
        base = origin.rstrip("/") + published.path
        yield Site(base, functools.partial(reader.copied_blocks, base, cache=cache))


@pytest.mark.parametrize("path", QUESTIONS, ids=[p.stem for p in QUESTIONS])
def test_every_block_works_as_copied(site: Site, path: Path, tmp_path: Path, record_property: object) -> None:
    """Top-down through the page in a fresh space: complete programs run as copied and print what the page
    shows; parts are really parts and link to their whole file; entries run from the downloaded zip. A
    reader runs a program again (to watch it once more, after changing a line): each Python program (and
    each download's entry, in its unzipped folder) runs twice in a row in the same database, Redis prefix
    and vhost. The second run prints what the page shows, as the first did, or stops with one line saying
    why it cannot run again: no duplicate key, no leftover."""
    page = parsed(path)
    copied = site.blocks(page)
    broker = "RabbitMQ" in stamps.servers_used(page, ROOT)
    with spaces.space(f"reader_{path.stem[:2]}", spaces.DATABASES.get(path.stem, ()), broker) as s:
        verdicts = reader.judge_page(page, copied, site.base, reader.reader_env(s.env, tmp_path))
    print(json.dumps({page.rel: reader.counts(verdicts)}))
    problems = {f"{v.block.where} [{v.kind}]": v.problems for v in verdicts if v.problems}
    assert not problems, report(problems)


@pytest.mark.parametrize("path", QUESTIONS, ids=[p.stem for p in QUESTIONS])
def test_a_program_run_first_works_or_names_what_to_run_first(site: Site, path: Path, tmp_path: Path) -> None:
    """A reader who skipped the page's earlier blocks: each complete program, alone on a fresh database,
    works or stops with one line naming the block or file to run first (no traceback)."""
    page = parsed(path)
    broker = "RabbitMQ" in stamps.servers_used(page, ROOT)
    problems = {}
    for block, c in reader.pair(page, site.blocks(page)):
        if block.lang != "python" or reader.kind(block) != "complete" or c.text is None:
            continue
        with spaces.space(f"fresh_{path.stem[:2]}", spaces.DATABASES.get(path.stem, ()), broker) as s:
            found = reader.fresh_run(block, c.text, reader.reader_env(s.env, tmp_path))
        if found:
            problems[block.where] = found
    assert not problems, report(problems)


def test_a_second_run_prints_what_the_page_shows_or_says_in_one_line_why_not(tmp_path: Path) -> None:
    """The verdict on a program's second run: the page's output again, or one line and no traceback."""
    from verify.run import Result

    page = tmp_path / "p.md"
    page.write_text('```python\nprint("hi")\n```\n\n<!--pytest-codeblocks:expected-output-->\n\n```output\nhi\n```\n')
    [block] = read_page(page, tmp_path, ROOT / "mkdocs.yml").blocks
    first = Result("hi\n", "", 0)
    assert reader.judged_again(block, [first, Result("hi\n", "", 0)]) == []
    assert reader.judged_again(block, [first, Result("", "it ran already: run reset.sql first\n", 1)]) == []
    twice = reader.judged_again(block, [first, Result("hi\nhi\n", "", 0)])
    assert twice[0].startswith("run 2 in the same space: output differs from the page")
    crash = "Traceback (most recent call last):\n  ...\npsycopg.errors.UniqueViolation: duplicate key\n"
    failed = reader.judged_again(block, [first, Result("", crash, 1)])
    assert failed[0] == "run 2 in the same space: exited with status 1"
    assert "UniqueViolation" in failed[-1]


def test_no_block_shows_more_than_60_lines(site: Site, published: browser.Published) -> None:
    """On the built pages: a long program is shown in parts, its whole file collapsed (one click away)."""
    copied = site.copied(browser.pages(published.site_dir))
    assert len(copied) == len(list((ROOT / "docs").rglob("*.md")))
    too_long = {url: found for url, blocks in copied.items() if (found := reader.shown_too_long(blocks))}
    assert too_long == {}


def test_the_downloads_are_current() -> None:
    """docs/downloads/*.zip are what `python -m verify.archives` makes from the snippets now."""
    assert archives.stale(ROOT) == []


def test_every_archive_is_linked_and_served(published: browser.Published) -> None:
    """Each zip is in the built site, and its question page links to it and names the command to run."""
    for a in archives.ARCHIVES:
        assert (published.site_dir / archives.DOWNLOADS / a.name).is_file(), a.name
        page = next(p for p in QUESTIONS if p.stem == a.question).read_text(encoding="utf-8")
        assert f"{archives.DOWNLOADS}/{a.name}" in page, a.name
        for entry in a.entries:
            assert a.command(entry) in page, (a.name, entry)


def test_a_part_must_be_titled_as_a_part_of_its_file(tmp_path: Path) -> None:
    """The part mark needs the title `file.py (part)`: a declared part always says what it is part of."""
    page = tmp_path / "p.md"
    page.write_text(
        '<!--pytest.mark.part("app.py")-->\n\n```python title="other.py"\nx = 1\n```\n\n'
        '<!--pytest.mark.part("app.py")-->\n\n```python title="app.py (part)"\ny = 2\n```\n',
        encoding="utf-8",
    )
    untitled, titled = read_page(page, tmp_path, ROOT / "mkdocs.yml").blocks
    assert untitled.part == titled.part == "app.py"
    assert untitled.problems == ["a part of app.py is titled title=\"app.py (part)\" (it has 'other.py')"]
    assert titled.problems == []
    assert titled.fence.title == "app.py (part)"


def test_a_part_title_links_to_the_whole_file_block() -> None:
    import markdown

    md = markdown.Markdown(extensions=["pymdownx.superfences", "pymdownx.details", "verify.parts"])
    html = md.convert(
        '```python title="app.py (part)"\nx = 1\n```\n\n??? example "whole"\n\n'
        '    ```python title="app.py"\n    x = 1\n    ```\n'
    )
    assert '<a href="#whole-app-py" title="the whole file">app.py</a> (part)' in html
    assert html.count('id="whole-app-py"') == 1


@pytest.mark.parametrize("archive", archives.ARCHIVES, ids=[a.question for a in archives.ARCHIVES])
def test_a_download_locks_the_verified_versions(archive: archives.Archive, tmp_path: Path) -> None:
    """Each zip's uv.lock pins every requirement at the project's pin and every package at the version
    the project's uv.lock has (what the site verified), and uv takes it as up to date with no network and
    an empty cache: `uv run` resolves nothing, so a cache filled by `uv sync --frozen` (wheels, no index
    metadata) is all it needs. With one pin changed in pyproject.toml, the same check fails."""
    import os
    import shutil
    import tomllib
    import zipfile

    from verify.run import run_process

    with zipfile.ZipFile(archives.path(archive, ROOT)) as z:
        z.extractall(tmp_path)
    folder = tmp_path / archive.question
    locked = tomllib.loads((folder / "uv.lock").read_text(encoding="utf-8"))["package"]
    project: dict[str, set[str]] = {}
    for p in tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))["package"]:
        project.setdefault(p["name"], set()).add(p["version"])
    [top] = [p for p in locked if p["name"] == archive.question]
    reqs = archives.requirements(archive, ROOT)
    assert {d["name"] for d in top["metadata"]["requires-dist"]} == {archives.distribution(r) for r in reqs}
    versions = {p["name"]: p["version"] for p in locked if p is not top}
    assert {archives.distribution(r): versions[archives.distribution(r)] for r in reqs} == {
        archives.distribution(r): r.split("==")[1] for r in reqs
    }
    assert {n: v for n, v in versions.items() if v not in project.get(n, set())} == {}
    env = {**os.environ, "UV_OFFLINE": "1", "UV_CACHE_DIR": str(tmp_path / "empty-cache")}
    check = [shutil.which("uv") or "uv", "lock", "--check", "--offline"]
    ok = run_process(check, env, folder, 120)
    assert ok.returncode == 0, ok.stderr
    pyproject = folder / "pyproject.toml"
    pyproject.write_text(pyproject.read_text(encoding="utf-8").replace(reqs[0], reqs[0].replace("==", ">=")))
    assert run_process(check, env, folder, 120).returncode not in (0, None)
