"""pytest plugin: every page under docs/ is a test file, every fence on it a test item.

Loaded by the root conftest.py. ``uv run pytest`` runs the pages and tests/ together; pages are
spread over xdist workers a page at a time (``--dist loadfile``), blocks of a page run in order.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis

from . import services, stamps
from .pages import NOT_CODE, Block, Fence, read_page
from .runner import Outcome, normalise, run_block, verdict

# Sentinels in the shared default database and Redis DB 0, named per session (runs may overlap):
# no page may touch them; pytest_sessionfinish checks they are intact.
SENTINEL_TABLE = "verify_isolation_sentinel_{}"
SENTINEL_KEY = "verify:isolation:sentinel:{}"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-outputs",
        action="store_true",
        help="rewrite the pages' expected-output blocks from a real run (refused under CI=true)",
    )


def pytest_configure(config: pytest.Config) -> None:
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
    problem = services.ensure_services(str(config.rootpath / "docker-compose.yml"))
    if problem:
        pytest.exit(problem, returncode=3)
    services.wait_amqp()
    token = secrets.token_hex(8)
    with services.admin_connect() as conn:
        conn.execute(f"CREATE TABLE {SENTINEL_TABLE.format(token)} (token text)")
        conn.execute(f"INSERT INTO {SENTINEL_TABLE.format(token)} VALUES (%s)", [token])
    redis.Redis.from_url(services.url("REDIS_URL")).set(SENTINEL_KEY.format(token), token)
    config.stash[sentinel_key] = token


sentinel_key = pytest.StashKey[str]()
outcomes_key = pytest.StashKey[dict[str, dict[str, int]]]()


class Outcomes:
    """Passed/failed items per file, counted on the controller (xdist workers' reports included)."""

    def __init__(self, config: pytest.Config) -> None:
        config.stash[outcomes_key] = self.counts = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        c = self.counts.setdefault(report.nodeid.split("::")[0], {"passed": 0, "failed": 0})
        if report.failed:
            c["failed"] += 1
        elif report.when == "call" and report.passed:
            c["passed"] += 1


def write_stamps(config: pytest.Config) -> list[str]:
    """Stamp each question page whose blocks all passed in this session, together with the proofs
    of its test module (tests/questions/test_NN_topic.py, when it exists)."""
    counts = config.stash.get(outcomes_key, {})
    written = []
    environment: dict[str, str] | None = None
    for page in sorted((config.rootpath / "docs" / "questions").glob("*.md")):
        mine = counts.get(page.relative_to(config.rootpath).as_posix())
        proof_file = config.rootpath / "tests" / "questions" / f"test_{page.stem.replace('-', '_')}.py"
        proofs = counts.get(proof_file.relative_to(config.rootpath).as_posix())
        if not mine or mine["failed"] or (proof_file.exists() and (not proofs or proofs["failed"])):
            continue
        blocks = read_page(page, config.rootpath, config.rootpath / "mkdocs.yml")
        if mine["passed"] != sum(b is not None for _, b in blocks):
            continue  # not every block of the page ran in this session
        environment = environment or services.server_versions()
        if stamps.write(page, environment, mine["passed"], proofs["passed"] if proofs else 0, config.rootpath):
            written.append(page.name)
    return written


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    token = session.config.stash.get(sentinel_key, None)
    if token is None:
        return
    tr = session.config.pluginmanager.get_plugin("terminalreporter")
    with services.admin_connect() as conn:
        try:
            rows = conn.execute(f"SELECT token FROM {SENTINEL_TABLE.format(token)}").fetchall()
        except psycopg.errors.UndefinedTable:
            rows = []
        conn.execute(f"DROP TABLE IF EXISTS {SENTINEL_TABLE.format(token)}")
    r = redis.Redis.from_url(services.url("REDIS_URL"))
    key = r.get(SENTINEL_KEY.format(token))
    r.delete(SENTINEL_KEY.format(token))
    if rows != [(token,)] or key != token.encode():
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        msg = f"ISOLATION BROKEN: sentinel table rows {rows!r}, sentinel key {key!r}, expected {token!r}"
        if tr:
            tr.write_line(msg, red=True)
        return  # no stamp from a run that touched what it must not
    if not stamps.under_ci() and not session.config.getoption("--update-outputs"):
        written = write_stamps(session.config)
        if written and tr:
            tr.write_line(f"verified-against stamps renewed (commit them): {', '.join(written)}", yellow=True)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    docs = parent.config.rootpath / "docs"
    if file_path.suffix == ".md" and file_path.is_relative_to(docs):
        return PageFile.from_parent(parent, path=file_path)
    return None


class PageFile(pytest.File):
    """A page: its throwaway space lives from its first block to its last."""

    space: services.Space | None = None
    workdir: Path | None = None

    def collect(self) -> Any:
        root = self.config.rootpath
        self.rewrites: list[tuple[Fence, str]] = []
        for _fence, block in read_page(self.path, root, root / "mkdocs.yml"):
            if block is None:
                continue
            yield BlockItem.from_parent(self, name=f"line{block.line}-{block.lang or 'fence'}", block=block)

    def setup(self) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix=f"verify-{self.path.stem}-"))

    def ensure_space(self) -> services.Space:
        if self.space is None:
            self.space = services.new_space(self.path.stem)
            self.space.create()
        return self.space

    def teardown(self) -> None:
        if self.rewrites:
            rewrite_outputs(self.path, self.rewrites)
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
        if self.space is not None:
            space, self.space = self.space, None
            left = space.cleanup()
            if left:
                raise AssertionError(f"{self.path.name}: the page left behind: {left}")


class BlockFailed(Exception):
    pass


class BlockItem(pytest.Item):
    def __init__(self, *, block: Block, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.block = block
        self.outcome: Outcome | None = None
        self.add_marker(pytest.mark.timeout(block.timeout + 60))

    @property
    def runs(self) -> bool:
        return not self.block.problems and self.block.lang not in NOT_CODE

    def runtest(self) -> None:
        b = self.block
        if b.problems:
            raise BlockFailed("\n".join(b.problems))
        if b.lang in NOT_CODE:
            return  # shown, not run: the fence check above is this item's whole test
        page: PageFile = self.parent  # type: ignore[assignment]
        space = page.ensure_space()
        assert page.workdir is not None
        self.outcome = o = run_block(b, space.env, page.workdir, self.config.rootpath)
        why = verdict(b, o)
        if (
            why
            and self.config.getoption("--update-outputs")
            and why == ["output differs from the page's expected output"]
        ):
            assert b.output_fence is not None
            page.rewrites.append((b.output_fence, o.shown))
            return
        if why:
            raise BlockFailed("\n".join(why))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if not isinstance(excinfo.value, BlockFailed):
            return super().repr_failure(excinfo)
        b, o = self.block, self.outcome
        parts = [f"{b.where} [{b.lang}]: {excinfo.value}"]
        if b.files:
            parts.append(
                "included files (run whole): " + ", ".join(str(f.relative_to(self.config.rootpath)) for f in b.files)
            )
        if o is not None:
            if b.expected_output is not None and normalise(o.shown) != normalise(b.expected_output):
                import difflib

                diff = difflib.unified_diff(
                    normalise(b.expected_output).splitlines(),
                    normalise(o.shown).splitlines(),
                    "expected (page)",
                    "actual (run)",
                    lineterm="",
                )
                parts.append("\n".join(diff))
            parts.append("--- stdout ---\n" + o.stdout.rstrip())
            if o.stderr.strip():
                parts.append("--- stderr ---\n" + o.stderr.rstrip())
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
