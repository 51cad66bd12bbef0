"""Verified-against stamps: when, and against what, each question page was last verified.

A local run in which every block of a question page and every proof of its test module passed writes
``docs/.verified/<page>.json`` (dot folders are not published): the date, the versions of the servers
the page used (the shared ones and those it starts itself, e.g. from ``PG_BIN``), Python, the libraries
its programs import, and a digest of what the run verified (``Page.digest``: the run blocks, their
expected outputs and the files they include; prose is not in it). ``verify.markdown`` shows the stamp
under the page title; ``tests/test_stamps.py`` fails when what it digests changed since, and stamps are
never written under ``CI=true``, so a stale stamp cannot ship.
"""

from __future__ import annotations

import json
import os
import re
from datetime import date
from pathlib import Path
from typing import Any

from markdown import Markdown
from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor

from verify.page import Page, read_page

IMPORT = re.compile(r"^(?:from|import)\s+([A-Za-z_][\w]*)", re.M)
# A page uses a server when the code it runs (its blocks, the files they include, its proof module)
# names one of these: the variable its URL is read from, or the binary or helper that starts one.
SERVERS = {
    "PostgreSQL": ("DATABASE_URL",),
    "PostgreSQL (PG_BIN)": ("PG_BIN",),
    "Redis": ("REDIS_URL",),
    "redis-server": ("redis-server",),
    "RabbitMQ": ("AMQP_URL",),
    "rabbitmq-server": ("rabbitmq-server", "throwaway_rabbit"),
}


def under_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def stamps_dir(root: Path) -> Path:
    return root / "docs" / ".verified"


def proof_module(page: Path, root: Path) -> Path:
    """The page's proofs: docs/questions/02-acid-transactions.md -> tests/questions/test_02_acid_transactions.py"""
    return root / "tests" / "questions" / f"test_{page.stem.replace('-', '_')}.py"


def stamp_path(page: Path, root: Path) -> Path:
    return stamps_dir(root) / f"{page.stem}.json"


def read(page: Path, root: Path) -> dict[str, Any] | None:
    p = stamp_path(page, root)
    data: dict[str, Any] | None = json.loads(p.read_text(encoding="utf-8")) if p.is_file() else None
    return data


def servers_used(page: Page, root: Path) -> set[str]:
    texts = [b.code for b in page.run_blocks] + [f.read_text(encoding="utf-8") for f in page.shown_files]
    proofs = proof_module(page.path, root)
    if proofs.is_file():
        texts.append(proofs.read_text(encoding="utf-8"))
    used = {name for name, words in SERVERS.items() if any(w in t for w in words for t in texts)}
    if any(b.lang == "sql" for b in page.run_blocks):
        used.add("PostgreSQL")
    return used


def libraries(page: Page) -> dict[str, str]:
    """Versions of the third-party distributions the page's Python programs import."""
    from importlib.metadata import packages_distributions, version

    dists = packages_distributions()
    found: dict[str, str] = {}
    texts = [b.code for b in page.run_blocks if b.lang == "python"]
    texts += [f.read_text(encoding="utf-8") for f in page.shown_files if f.suffix == ".py"]
    for text in texts:
        for module in IMPORT.findall(text):
            for dist in dists.get(module, []):
                found[dist] = version(dist)
    return dict(sorted(found.items(), key=lambda kv: kv[0].lower()))


def write(page: Page, root: Path, environment: dict[str, str], proofs: int) -> bool:
    """Write the page's stamp if what it records changed; refused under CI=true."""
    if under_ci():
        raise RuntimeError("stamps are never written under CI=true: a stale stamp must fail, not be renewed")
    new = {
        "page": page.rel,
        "digest": page.digest(root),
        "inputs": [f.relative_to(root).as_posix() for f in page.shown_files],
        "environment": environment,
        "libraries": libraries(page),
        "blocks_run": len(page.run_blocks),
        "proofs_passed": proofs,
    }
    old = read(page.path, root)
    if old is not None and {k: v for k, v in old.items() if k != "verified"} == new:
        return False
    stamps_dir(root).mkdir(parents=True, exist_ok=True)
    text = json.dumps({"verified": date.today().isoformat(), **new}, indent=2) + "\n"
    stamp_path(page.path, root).write_text(text, encoding="utf-8")
    return True


def render(page: Page, root: Path) -> str:
    """The box under the page title, as Markdown."""
    stamp = read(page.path, root)
    if stamp is None:
        return '!!! warning "Not verified yet"\n    No test run has verified this page yet.\n'
    if stamp["digest"] != page.digest(root):
        return (
            '!!! warning "Changed since it was last verified"\n'
            f"    A program on this page or its shown output changed after its verification on {stamp['verified']}.\n"
        )
    env = ", ".join(f"{k} {v}" for k, v in stamp["environment"].items())
    libs = ", ".join(f"{k} {v}" for k, v in stamp["libraries"].items())
    proofs = f", and its {stamp['proofs_passed']} proofs passed" if stamp["proofs_passed"] else ""
    return (
        f'??? success "Verified on {stamp["verified"]} against {env}"\n'
        f"    All {stamp['blocks_run']} runnable blocks on this page ran and their shown outputs matched{proofs}"
        + (f". Libraries: {libs}" if libs else "")
        + ". The stamp is renewed by a passing local run and checked by CI against the page's programs and"
        " outputs ([how](../run-the-examples.md)).\n"
    )


class StampPreprocessor(Preprocessor):
    """Puts the stamp box right under the title of a question page. A Markdown extension is not told
    which file it renders, so the page is found by its title among the question pages."""

    def __init__(self, md: Markdown, root: Path, pages: str) -> None:
        super().__init__(md)
        self.root, self.pages = root, pages

    def run(self, lines: list[str]) -> list[str]:
        at = next((i for i, line in enumerate(lines) if line.startswith("# ")), None)
        if at is None:
            return lines
        for path in sorted((self.root / self.pages).glob("*.md")):
            if lines[at] in path.read_text(encoding="utf-8").splitlines():
                box = render(read_page(path, self.root, self.root / "mkdocs.yml"), self.root)
                return [*lines[: at + 1], "", *box.splitlines(), "", *lines[at + 1 :]]
        return lines


class StampExtension(Extension):
    def __init__(self, **kwargs: Any) -> None:
        self.config = {
            "root": [str(Path(__file__).resolve().parent.parent), "the project folder (docs/.verified, mkdocs.yml)"],
            "pages": ["docs/questions", "the pages that carry a stamp, under root"],
        }
        super().__init__(**kwargs)

    def extendMarkdown(self, md: Markdown) -> None:
        root = Path(self.getConfig("root")).resolve()
        md.preprocessors.register(StampPreprocessor(md, root, self.getConfig("pages")), "verify_stamp", 35)


def makeExtension(**kwargs: Any) -> StampExtension:
    return StampExtension(**kwargs)
