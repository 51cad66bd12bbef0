"""Verified-against stamps: when, and against what, each question page was last verified.

A full local run in which every block of a page and every proof of its test module passed writes
``docs/.verified/<page>.json`` (dot folders are not published): the date, the server, Python and
library versions, and a digest of the page and of every snippet file it shows. The site shows the
stamp under the page title (MkDocs hook below); ``tests/test_stamps.py`` fails when a page or a
snippet it shows changed since its stamp, and stamps are never written under ``CI=true``, so a stale
stamp cannot ship. Standard library only: MkDocs loads this file as a hook.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
STAMPS = ROOT / "docs" / ".verified"
INCLUDE = re.compile(r'^[ \t]*-{1,}8<-{1,}[ \t]+"(?P<target>[^"]+)"[ \t]*$', re.M)
IMPORT = re.compile(r"^(?:from|import)\s+([A-Za-z_][\w]*)", re.M)


def under_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def page_inputs(page: Path, root: Path = ROOT) -> list[Path]:
    """The page and every file it includes (a section include counts as its whole file)."""
    files = {page.resolve()}
    for m in INCLUDE.finditer(page.read_text(encoding="utf-8")):
        target = re.sub(r":[-\w,:]*$", "", m["target"])  # drop :section or :lines
        path = (root / target).resolve()
        if path.is_file():
            files.add(path)
    return sorted(files)


def digest(page: Path, root: Path = ROOT) -> str:
    h = hashlib.sha256()
    for f in page_inputs(page, root):
        h.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def stamp_path(page: Path) -> Path:
    return STAMPS / f"{page.stem}.json"


def read(page: Path) -> dict[str, Any] | None:
    p = stamp_path(page)
    return json.loads(p.read_text(encoding="utf-8")) if p.is_file() else None


def libraries(page: Path, root: Path = ROOT) -> dict[str, str]:
    """Versions of the third-party distributions the page's Python snippets import."""
    from importlib.metadata import packages_distributions, version

    dists = packages_distributions()
    found: dict[str, str] = {}
    for f in page_inputs(page, root):
        if f.suffix != ".py":
            continue
        for module in IMPORT.findall(f.read_text(encoding="utf-8")):
            for dist in dists.get(module, []):
                found[dist] = version(dist)
    return dict(sorted(found.items(), key=lambda kv: kv[0].lower()))


def write(page: Path, environment: dict[str, str], blocks: int, proofs: int, root: Path = ROOT) -> bool:
    """Write the page's stamp if its content or environment changed; refused under CI=true."""
    if under_ci():
        raise RuntimeError("stamps are never written under CI=true: a stale stamp must fail, not be renewed")
    new = {
        "page": page.resolve().relative_to(root).as_posix(),
        "digest": digest(page, root),
        "inputs": [f.relative_to(root).as_posix() for f in page_inputs(page, root)],
        "environment": environment,
        "libraries": libraries(page, root),
        "blocks_run": blocks,
        "proofs_passed": proofs,
    }
    old = read(page)
    if old is not None and {k: v for k, v in old.items() if k != "verified"} == new:
        return False
    STAMPS.mkdir(parents=True, exist_ok=True)
    stamp_path(page).write_text(json.dumps({"verified": date.today().isoformat(), **new}, indent=2) + "\n",
                                encoding="utf-8")
    return True


def render(page: Path, root: Path = ROOT) -> str:
    stamp = read(page)
    if stamp is None:
        return '!!! warning "Not verified yet"\n    No test run has verified this page yet.\n'
    if stamp["digest"] != digest(page, root):
        return ('!!! warning "Changed since it was last verified"\n'
                f"    This page or a program it shows changed after its verification on {stamp['verified']}.\n")
    env = ", ".join(f"{k} {v}" for k, v in stamp["environment"].items())
    libs = ", ".join(f"{k} {v}" for k, v in stamp["libraries"].items())
    proofs = f", and its {stamp['proofs_passed']} proofs passed" if stamp["proofs_passed"] else ""
    return (f'??? success "Verified on {stamp["verified"]} against {env}"\n'
            f"    All {stamp['blocks_run']} blocks on this page ran and their shown outputs matched{proofs}"
            + (f". Libraries: {libs}" if libs else "")
            + ". The stamp is renewed by a passing local run and checked by CI against the page and"
            " every program it shows ([how](../run-the-examples.md)).\n")


def on_page_markdown(markdown: str, page: Any, config: Any, **kwargs: Any) -> str:
    """MkDocs hook: the stamp goes right under the title of each question page."""
    if not page.file.src_uri.startswith("questions/"):
        return markdown
    src = Path(page.file.abs_src_path)
    root = Path(config["docs_dir"]).resolve().parent  # not the config's folder: tests build from a tmp config
    box = render(src, root)
    lines = markdown.split("\n")
    at = next((i + 1 for i, line in enumerate(lines) if line.startswith("# ")), 0)
    return "\n".join([*lines[:at], "", box, *lines[at:]])
