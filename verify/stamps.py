"""Verified-against stamps: when, against what and by which run each question page was last verified.

A test run in which every block of a question page and every proof of its test module passed writes
``docs/.verified/<page>.json`` (gitignored, and dot folders are not published): the date, the run that
verified it (a local run; a CI run with its commit; on GitHub Actions also the link to the run), the
versions of the servers the page used (the shared ones and those it starts itself, e.g. from ``PG_BIN``),
Python, the libraries its programs import, and a digest of what the run verified (``Page.digest``: the
run blocks, their expected outputs and the files they include; prose is not in it). A run in which one of
them failed removes the page's stamp. ``verify.markdown`` shows the stamp under the page title, or says
the page changed since; ``python -m verify.stamps check`` (the publishing workflow, before its build)
fails unless every question page carries a current stamp written by this very run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

from markdown import Markdown
from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor

from verify.page import Page, read_page

ROOT = Path(__file__).resolve().parent.parent  # the project folder (the package is installed editable)
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


def this_run(root: Path) -> dict[str, str]:
    """Which run this is, as a stamp records it: ``{"kind": "local"}`` outside CI; under ``CI=true`` the
    commit, and on GitHub Actions the link to the run ($GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/
    $GITHUB_RUN_ID). A CI run without those variables (another CI machine) is a CI run without a link."""
    if not under_ci():
        return {"kind": "local"}
    run = {"kind": "ci"}
    env = os.environ
    commit = env.get("GITHUB_SHA") or git_head(root)
    if commit:
        run["commit"] = commit
    if all(env.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")):
        run["url"] = f"{env['GITHUB_SERVER_URL']}/{env['GITHUB_REPOSITORY']}/actions/runs/{env['GITHUB_RUN_ID']}"
    return run


def git_head(root: Path) -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=30)
    except OSError:
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def stamps_dir(root: Path) -> Path:
    return root / "docs" / ".verified"


def question_pages(root: Path) -> list[Path]:
    return sorted((root / "docs" / "questions").glob("*.md"))


def proof_module(page: Path, root: Path) -> Path:
    """The page's proofs: docs/questions/02-acid-transactions.md -> tests/questions/test_02_acid_transactions.py"""
    return root / "tests" / "questions" / f"test_{page.stem.replace('-', '_')}.py"


def stamp_path(page: Path, root: Path) -> Path:
    return stamps_dir(root) / f"{page.stem}.json"


def read(page: Path, root: Path) -> dict[str, Any] | None:
    p = stamp_path(page, root)
    data: dict[str, Any] | None = json.loads(p.read_text(encoding="utf-8")) if p.is_file() else None
    return data


def uses_rabbitmq(page: Path, root: Path) -> bool:
    """Whether the page's programs or its proofs use the shared RabbitMQ (its space needs a vhost)."""
    return "RabbitMQ" in servers_used(read_page(page, root, root / "mkdocs.yml"), root)


def page_of_proofs(module: Path, root: Path) -> Path:
    """tests/questions/test_02_acid_transactions.py -> docs/questions/02-acid-transactions.md (the
    reverse of proof_module)"""
    return root / "docs" / "questions" / f"{module.stem.removeprefix('test_').replace('_', '-')}.md"


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


def write(page: Page, root: Path, environment: dict[str, str], proofs: int) -> None:
    """Stamp the page: every one of its blocks and `proofs` proofs passed in this run."""
    stamp = {
        "verified": date.today().isoformat(),
        "run": this_run(root),
        "page": page.rel,
        "digest": page.digest(root),
        "inputs": [f.relative_to(root).as_posix() for f in page.shown_files],
        "environment": environment,
        "libraries": libraries(page),
        "blocks_run": len(page.run_blocks),
        "proofs_passed": proofs,
    }
    stamps_dir(root).mkdir(parents=True, exist_ok=True)
    stamp_path(page.path, root).write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")


def remove(page: Path, root: Path) -> bool:
    """Take the stamp off a page whose blocks or proofs failed in this run."""
    p = stamp_path(page, root)
    if p.is_file():
        p.unlink()
        return True
    return False


def by_whom(run: dict[str, str]) -> tuple[str, str]:
    """(what the title says, what the box says) about the run behind a stamp."""
    if run.get("kind") != "ci":
        return " (local run)", "in a local run of the test suite"
    commit = f" of commit `{run['commit'][:12]}`" if run.get("commit") else ""
    if run.get("url"):
        return " by CI", f"in [CI run {run['url'].rsplit('/', 1)[-1]}]({run['url']}){commit}"
    return " (CI run)", f"in a CI run{commit}"


def render(page: Page, root: Path) -> str:
    """The box under the page title, as Markdown."""
    stamp = read(page.path, root)
    how = "[Where stamps come from](../run-the-examples.md#where-the-stamps-come-from)."
    if stamp is None:
        return (
            '!!! warning "Not verified yet"\n'
            f"    No test run in which all of this page's blocks and proofs passed has stamped it. {how}\n"
        )
    if stamp["digest"] != page.digest(root):
        return (
            '!!! warning "Changed since it was last verified"\n'
            "    A program on this page or its shown output changed after its verification on "
            f"{stamp['verified']}. {how}\n"
        )
    title, run = by_whom(stamp.get("run", {}))
    env = ", ".join(f"{k} {v}" for k, v in stamp["environment"].items())
    libs = ", ".join(f"{k} {v}" for k, v in stamp["libraries"].items())
    proofs = f", and its {stamp['proofs_passed']} proofs passed" if stamp["proofs_passed"] else ""
    return (
        f'??? success "Verified on {stamp["verified"]}{title} against {env}"\n'
        f"    All {stamp['blocks_run']} runnable blocks on this page ran {run} and their shown outputs matched"
        + proofs
        + (f". Libraries: {libs}" if libs else "")
        + f". {how}\n"
    )


def check(root: Path) -> list[str]:
    """Why the site may not be published with its stamps: a question page without a stamp, with a stamp
    older than what it shows, or with a stamp another run wrote. Empty when every page is stamped by
    this run."""
    problems = []
    now = this_run(root)
    for path in question_pages(root):
        rel = path.relative_to(root).as_posix()
        stamp = read(path, root)
        if stamp is None:
            problems.append(f"{rel}: no stamp (its blocks and proofs did not all pass in this run)")
        elif stamp["digest"] != read_page(path, root, root / "mkdocs.yml").digest(root):
            problems.append(f"{rel}: its stamp of {stamp['verified']} is older than what the page shows")
        elif stamp.get("run") != now:
            problems.append(f"{rel}: stamped by another run ({stamp.get('run')}), not this one ({now})")
    return problems


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
            "root": [str(ROOT), "the project folder (docs/.verified, mkdocs.yml)"],
            "pages": ["docs/questions", "the pages that carry a stamp, under root"],
        }
        super().__init__(**kwargs)

    def extendMarkdown(self, md: Markdown) -> None:
        root = Path(self.getConfig("root")).resolve()
        md.preprocessors.register(StampPreprocessor(md, root, self.getConfig("pages")), "verify_stamp", 35)


def makeExtension(**kwargs: Any) -> StampExtension:
    return StampExtension(**kwargs)


def main(argv: list[str], root: Path = ROOT) -> int:
    """``python -m verify.stamps check``: exit 1, naming each page, unless every question page carries a
    current stamp from this run (the publishing workflow runs it between the tests and the build)."""
    if argv != ["check"]:
        print("usage: python -m verify.stamps check", file=sys.stderr)
        return 2
    problems = check(root)
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"{len(question_pages(root))} question pages carry a current stamp from this run ({this_run(root)})")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
