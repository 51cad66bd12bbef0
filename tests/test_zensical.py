"""Zensical, the successor of Material for MkDocs, reads the same mkdocs.yml: its build of the site shows
the same blocks, the same figures and tables and the same verified-against stamps as the MkDocs build.
(Both apply the project's Markdown extensions, verify.figures and verify.stamps; MkDocs hooks would be
ignored by Zensical.)"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from verify import browser, figures
from verify.page import mermaid_fences

ROOT = Path(__file__).resolve().parent.parent
STAMP = re.compile(r"(Verified on [^<]*|Changed since it was last verified|Not verified yet)")


@pytest.fixture(scope="module")
def zensical_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Zensical's build of a copy of the project (it builds only inside the folder of its config)."""
    project = tmp_path_factory.mktemp("zensical")
    for folder in ("docs", "snippets"):
        shutil.copytree(ROOT / folder, project / folder)
    shutil.copy(ROOT / "mkdocs.yml", project / "mkdocs.yml")
    zensical = Path(sys.executable).parent / "zensical"
    result = subprocess.run(
        [str(zensical), "build", "--strict", "-f", "mkdocs.yml"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return project / "site"


def text(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def facts(page: Path) -> dict[str, list[str]]:
    """What the two builds must agree on in a built page."""
    source = page.read_text(encoding="utf-8")
    return {
        "blocks": [text(m).strip() for m in re.findall(r"<pre[^>]*>(.*?)</pre>", source, re.S)],
        "tables": [" ".join(text(m).split()) for m in re.findall(r"<table[^>]*>(.*?)</table>", source, re.S)],
        "stamp": STAMP.findall(source),
        "placeholders": re.findall(r"\{\{\s*(?:fig|table)\s*:[^}]*\}\}", text(source)),
    }


def test_zensical_builds_the_same_blocks_figures_and_stamps(zensical_site: Path, published: browser.Published) -> None:
    assert published.returncode == 0, published.output
    pages = sorted((ROOT / "docs").rglob("*.md"))
    differences = {}
    quoted = 0
    for md in pages:
        rel = md.relative_to(ROOT / "docs").with_suffix("")
        url = Path(*rel.parts[:-1]) if rel.name == "index" else rel
        ours, theirs = published.site_dir / url / "index.html", zensical_site / url / "index.html"
        assert ours.is_file() and theirs.is_file(), url
        mkdocs_facts, zensical_facts = facts(ours), facts(theirs)
        assert mkdocs_facts["placeholders"] == [], url
        if mkdocs_facts != zensical_facts:
            differences[str(url)] = {
                k: (v, zensical_facts[k]) for k, v in mkdocs_facts.items() if v != zensical_facts[k]
            }
        source = md.read_text(encoding="utf-8")
        in_diagrams = {n for f in mermaid_fences(source) for n in range(f.line, f.end + 1)}
        for line, kind, name, key in figures.references(source):
            if kind == "fig" and line not in in_diagrams:  # a diagram's figures are in its SVG: test_diagrams
                value = figures.resolve(kind, name, key).replace("`", "")  # inline code is rendered as <code>
                assert value in text(theirs.read_text(encoding="utf-8")), (url, name, key, value)
                quoted += 1
    assert differences == {}
    assert quoted > 0, "no page quotes a figure: the comparison would prove nothing"
    stamped = [p for p in (published.site_dir / "questions").rglob("index.html") if facts(p)["stamp"]]
    assert len(stamped) == len(list((ROOT / "docs" / "questions").glob("*.md")))
