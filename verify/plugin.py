"""pytest plugin: every page under docs/ is a test file, every fence on it a test item.

Loaded by the root conftest.py. ``uv run pytest`` runs the pages and tests/ together; pages are
spread over xdist workers a page at a time (``--dist loadgroup``, see below), blocks of a page in order.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

from verify import provide, spaces, stamps
from verify.helpers import environment
from verify.page import Block, Fence, Page, read_page
from verify.run import Result, normalise, run_block


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-outputs",
        action="store_true",
        help="rewrite the pages' expected-output blocks from a real run (refused under CI=true)",
    )


def pytest_configure(config: pytest.Config) -> None:
    # the mark pytest_collection_modifyitems sets; xdist registers it too, but runs without xdist still see it
    config.addinivalue_line("markers", "xdist_group(name): run these tests on one xdist worker, in order")
    if is_controller(config):
        config.pluginmanager.register(Outcomes(config), "verify-outcomes")
    if config.getoption("--update-outputs") and stamps.under_ci():
        raise pytest.UsageError("--update-outputs rewrites pages; it is refused under CI=true")


def is_controller(config: pytest.Config) -> bool:
    return not hasattr(config, "workerinput")


def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    if not is_controller(config):
        return
    # what the selected tests need, provided or named in one message, before any test runs; it also
    # sets PG_BIN, from which pages start servers of their own (in the blocks, the proofs and the stamp)
    needs = provide.session_needs(config.args, config.invocation_params.dir, config.rootpath)
    problem = provide.preflight(needs, config.rootpath)
    if problem:
        tr = config.pluginmanager.get_plugin("terminalreporter")
        if tr:
            tr.write_line(problem, red=True)
        pytest.exit("stopped before any test: the pieces above are missing" if tr else problem, returncode=3)
    if "RabbitMQ" in needs:
        spaces.wait_amqp()
    if "PostgreSQL" in needs:
        config.stash[sentinel_key] = spaces.plant_sentinel()  # pytest_sessionfinish checks it is intact


sentinel_key = pytest.StashKey[str]()
outcomes_key = pytest.StashKey[dict[str, dict[str, int]]]()


class Outcomes:
    """Passed/failed items per file, counted on the controller (xdist workers' reports included)."""

    def __init__(self, config: pytest.Config) -> None:
        self.counts: dict[str, dict[str, int]] = {}
        config.stash[outcomes_key] = self.counts

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        c = self.counts.setdefault(report.nodeid.split("::")[0], {"passed": 0, "failed": 0})
        if report.failed:
            c["failed"] += 1
        elif report.when == "call" and report.passed:
            c["passed"] += 1


def stamp_pages(root: Path, counts: dict[str, dict[str, int]]) -> tuple[list[str], list[str]]:
    """Stamp each question page whose blocks all passed in this session, together with the proofs of its
    test module (when it exists); take the stamp off each page of which a block or a proof failed.
    Pages this session did not run whole keep what they had. Returns (stamped, unstamped) page names."""
    stamped, unstamped = [], []
    for page in stamps.question_pages(root):
        mine = counts.get(page.relative_to(root).as_posix())
        proof_file = stamps.proof_module(page, root)
        proofs = counts.get(proof_file.relative_to(root).as_posix())
        if (mine and mine["failed"]) or (proofs and proofs["failed"]):
            if stamps.remove(page, root):
                unstamped.append(page.name)
            continue
        if not mine or (proof_file.exists() and not proofs):
            continue
        parsed = read_page(page, root, root / "mkdocs.yml")
        if mine["passed"] != len(page_runs(parsed)):
            continue  # not every block of the page ran in this session
        versions = spaces.server_versions(stamps.servers_used(parsed, root))
        majors = provide.postgres_servers()
        if "PostgreSQL" in versions and provide.runs_per_major(parsed) and len(majors) > 1:
            versions["PostgreSQL"] = " and ".join(s["version"] for s in majors.values())  # every major it ran on
            if "PostgreSQL (PG_BIN)" in versions:  # the servers it started itself, from each major's PG_BIN
                binaries = [
                    spaces.binary_version([str(Path(s["bin"]) / "postgres"), "--version"]) for s in majors.values()
                ]
                versions["PostgreSQL (PG_BIN)"] = " and ".join(binaries)
        stamps.write(parsed, root, versions, proofs["passed"] if proofs else 0)
        stamped.append(page.name)
    return stamped, unstamped


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    token = session.config.stash.get(sentinel_key, None)
    if token is None:
        return
    tr = session.config.pluginmanager.get_plugin("terminalreporter")
    changed = spaces.remove_sentinel(token)
    if changed:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        msg = "ISOLATION BROKEN: " + "; ".join(changed)
        if tr:
            tr.write_line(msg, red=True)
        return  # no stamp from a run that touched what it must not
    if session.config.getoption("--update-outputs"):
        return  # a run that rewrote outputs compared nothing: it stamps nothing
    stamped, unstamped = stamp_pages(session.config.rootpath, session.config.stash.get(outcomes_key, {}))
    if tr and (stamped or unstamped):
        run = stamps.this_run(session.config.rootpath)
        by = run.get("url") or f"{run['kind']} run"
        tr.write_line(f"stamps written to docs/.verified/ ({by}): {', '.join(stamped) or 'none'}", green=True)
        if unstamped:
            tr.write_line(f"stamps removed, a block or proof failed: {', '.join(unstamped)}", red=True)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """How xdist (``--dist loadgroup``) spreads the run: a page's blocks run on one worker, in order; so
    do the tests of a file that share a module-scoped fixture (it is set up once); every other test
    goes to whichever worker is free. An explicit ``xdist_group`` mark wins."""
    for item in items:
        if item.get_closest_marker("xdist_group"):
            continue
        fixtures = getattr(item, "_fixtureinfo", None)
        shared = fixtures is not None and any(
            defs[-1].scope in ("module", "class", "package") for defs in fixtures.name2fixturedefs.values() if defs
        )
        if isinstance(item, BlockItem) or shared:
            item.add_marker(pytest.mark.xdist_group(item.path.relative_to(item.config.rootpath).as_posix()))


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    docs = parent.config.rootpath / "docs"
    if file_path.suffix == ".md" and file_path.is_relative_to(docs):
        return PageFile.from_parent(parent, path=file_path)
    return None


class PageFile(pytest.File):
    """A page: its blocks run in order in one working folder, and its throwaway space lives from its
    first run block to its last. A page that uses PostgreSQL runs once per major (verify.provide), each
    run with a working folder and a space of its own on that major's server."""

    def collect(self) -> Any:
        root = self.config.rootpath
        self.rewrites: list[tuple[Fence, str]] = []
        self.stack = contextlib.ExitStack()
        self.envs: dict[int | None, dict[str, str]] = {}
        self.workdirs: dict[int | None, Path] = {}
        self.page: Page = read_page(self.path, root, root / "mkdocs.yml")
        for block, major in page_runs(self.page):
            name = f"line{block.line}-{block.lang or 'fence'}" + (f"[pg{major}]" if major else "")
            yield BlockItem.from_parent(self, name=name, block=block, major=major)

    def workdir(self, major: int | None) -> Path:
        if major not in self.workdirs:
            self.workdirs[major] = Path(tempfile.mkdtemp(prefix=f"verify-{self.path.stem}-"))
            self.stack.callback(shutil.rmtree, self.workdirs[major], ignore_errors=True)
        return self.workdirs[major]

    def env(self, major: int | None) -> dict[str, str]:
        if major not in self.envs:
            server = provide.postgres_servers().get(major or 0)
            on_server = {"DATABASE_URL": server["url"]} if server else {}
            # the space is made and removed on that major's server (spaces read DATABASE_URL)
            with environment(on_server):
                broker = "RabbitMQ" in stamps.servers_used(self.page, self.config.rootpath)
                space = spaces.space(self.path.stem, broker=broker)
                self.envs[major] = {**space.__enter__().env, **({"PG_BIN": server["bin"]} if server else {})}

            def remove(*exc: Any, space: contextlib.AbstractContextManager[spaces.Space] = space) -> None:
                with environment(on_server):
                    space.__exit__(*exc)

            self.stack.push(remove)
        return self.envs[major]

    def teardown(self) -> None:
        if self.rewrites:
            rewrite_outputs(self.path, self.rewrites)
        self.envs, self.workdirs = {}, {}
        self.stack.close()  # raises if the page left anything behind in its space


def page_runs(page: Page) -> list[tuple[Block, int | None]]:
    """Each block with the PostgreSQL major it runs on (None: the one shared server), in run order: the
    whole page on the first major, then on the next. A block marked postgres(NN) runs on NN only."""
    majors: list[int | None] = list(provide.postgres_servers()) if provide.runs_per_major(page) else []
    if len(majors) < 2:
        return [(b, None) for b in page.blocks]
    return [(b, m) for m in majors for b in page.blocks if b.postgres in (None, m)]


class BlockFailed(Exception):
    pass


class BlockItem(pytest.Item):
    parent: PageFile

    def __init__(self, *, block: Block, major: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.block = block
        self.major = major
        self.result: Result | None = None
        self.add_marker(pytest.mark.timeout(block.timeout + 60))

    def runtest(self) -> None:
        b, page = self.block, self.parent
        if b.problems:
            raise BlockFailed("\n".join(b.problems))
        if not b.runs:
            return  # shown, not run: the fence check above is this item's whole test
        self.result = r = run_block(b, page.env(self.major), page.workdir(self.major), self.config.rootpath)
        if r.failures:
            raise BlockFailed("\n".join(r.failures))
        if r.output_differs:
            if self.config.getoption("--update-outputs") and b.output is not None:
                earlier = [text for fence, text in page.rewrites if fence == b.output]
                if earlier and earlier[0] != r.shown:
                    raise BlockFailed(
                        "the output differs between PostgreSQL majors: show it in content tabs, each block "
                        'marked postgres(NN) (=== "PostgreSQL 15" / === "PostgreSQL 18")'
                    )
                if not earlier:
                    page.rewrites.append((b.output, r.shown))
                return
            raise BlockFailed("output differs from the page's expected output")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if not isinstance(excinfo.value, BlockFailed):
            return str(super().repr_failure(excinfo))
        b, r = self.block, self.result
        parts = [f"{b.where} [{b.lang}]: {excinfo.value}"]
        if b.files:
            root = self.config.rootpath
            parts.append("included files (run whole): " + ", ".join(str(f.relative_to(root)) for f in b.files))
        if r is not None:
            if r.diff:
                parts.append(r.diff)
            parts.append("--- stdout ---\n" + r.stdout.rstrip())
            if r.stderr.strip():
                parts.append("--- stderr ---\n" + r.stderr.rstrip())
        return "\n".join(parts)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.block.line - 1, f"{self.block.where} [{self.block.lang}]"


def rewrite_outputs(page: Path, rewrites: list[tuple[Fence, str]]) -> None:
    lines = page.read_text(encoding="utf-8").splitlines(keepends=True)
    for fence, text in sorted(rewrites, key=lambda r: -r[0].line):
        body = [
            fence.indent + line if line.strip() else "\n" for line in (normalise(text) + "\n").splitlines(keepends=True)
        ]
        lines[fence.line : fence.end - 1] = body
    page.write_text("".join(lines), encoding="utf-8")
