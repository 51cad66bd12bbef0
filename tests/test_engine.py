"""The engine fails loudly: each deliberately broken page, in a tmp project, fails with its page:line.

All broken pages of this module go into one tmp project and one run of the real engine (a pytest
subprocess); each test then reads the outcome of its own page from that run's JUnit report.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from verify import browser, spaces

ROOT = Path(__file__).resolve().parent.parent
MKDOCS_YML = """\
site_name: broken
site_url: http://127.0.0.1:8000/
theme: {name: material, font: false, features: [navigation.instant]}
plugins: [search]
extra_javascript: [{path: assets/javascripts/mermaid.min.js, defer: true}]
markdown_extensions:
  - pymdownx.snippets: {base_path: ["."], check_paths: true}
  - pymdownx.superfences:
      custom_fences:
        - name: mermaid
          class: mermaid
          format: !!python/name:pymdownx.superfences.fence_code_format
"""
SNIPPETS = {
    "boom": """\
        def divide(a: int, b: int) -> float:
            return a / b
        print(divide(1, 0))
        """,
}
PAGES = {
    "syntax_error": """\
        # Page

        ```python
        print("fine"
        ```
        """,
    "exception": """\
        # Page

        text

        ```python
        --8<-- "snippets/boom.py"
        ```
        """,
    "wrong_output": """\
        ```python
        print(6 * 7)
        ```

        <!--pytest-codeblocks:expected-output-->

        ```output
        41
        ```
        """,
    "missing_include": """\
        ```python
        --8<-- "snippets/nowhere.py"
        ```
        """,
    "lang_ruby": "# Page\n\n```ruby\nputs 1\n```\n",
    "lang_py": "# Page\n\n```py\nprint(1)\n```\n",
    "title_and_tilde": """\
        # Page

        ```python title="x.py"
        print("titled")
        ```

        <!--pytest-codeblocks:expected-output-->

        ```output
        titled
        ```

        ~~~python
        print("tilde")
        ~~~

        <!--pytest-codeblocks:expected-output-->

        ```output
        tilde
        ```
        """,
    "unknown_mark": "# Page\n<!--pytest-codeblocks:cont-->\n```python\nprint(1)\n```\n",
    "raises_but_succeeds": """\
        <!--pytest.mark.raises("ValueError")-->

        ```python
        print("no error")
        ```
        """,
    "raises_differently": """\
        <!--pytest.mark.raises("ValueError")-->

        ```python
        raise KeyError("k")
        ```
        """,
    "sqlstate_but_succeeds": """\
        <!--pytest.mark.sqlstate("23505")-->

        ```sql
        SELECT 1;
        ```
        """,
    "sql_error": """\
        ```sql
        SELECT 1 / 0;
        ```
        """,
    "timeout": """\
        <!--pytest.mark.timeout(2)-->

        ```python
        import time
        time.sleep(60)
        ```
        """,
    "isolation": """\
        ```python
        import os

        import pika
        import psycopg
        import redis

        prefix = os.environ["DEMO_PREFIX"]
        with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
            conn.execute("CREATE TABLE t (x int)")
            conn.execute(f'CREATE DATABASE "{conn.info.dbname}_extra"')
        redis.Redis.from_url(os.environ["REDIS_URL"]).set(f"{prefix}:key", 1)
        channel = pika.BlockingConnection(pika.URLParameters(os.environ["AMQP_URL"])).channel()
        channel.exchange_declare(f"{prefix}.exchange", "fanout")
        channel.queue_declare(f"{prefix}.queue", durable=True)
        ```
        """,
    "good": """\
        <!--pytest.mark.sqlstate("22012")-->

        ```sql
        SELECT 1 / 0;
        ```

        ```python
        import os
        print(os.environ["DEMO_PREFIX"].startswith("vd-page-good-"))
        ```

        <!--pytest-codeblocks:expected-output-->

        ```output
        True
        ```

        ```mermaid
        graph LR
            A --> B
        ```
        """,
}


def write_project(path: Path) -> None:
    (path / "mkdocs.yml").write_text(MKDOCS_YML, encoding="utf-8")
    (path / "pytest.ini").write_text("[pytest]\ntestpaths = docs\n", encoding="utf-8")
    for folder, files, suffix in (("docs", PAGES, ".md"), ("snippets", SNIPPETS, ".py")):
        (path / folder).mkdir()
        for name, text in files.items():
            stem = f"page_{name}" if folder == "docs" else name
            (path / folder / f"{stem}{suffix}").write_text(textwrap.dedent(text), encoding="utf-8")


def run_engine(project: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The real engine on a tmp project, in a pytest subprocess (as `uv run pytest` would run it)."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "verify.plugin",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:xdist",
            "--rootdir",
            str(project),
            *args,
        ],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=600,
        # the shared PostgreSQL only, unless a test asks for both majors (VERIFY_ONE_MAJOR="")
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
            "VERIFY_ONE_MAJOR": "1",
            **env,
        },
    )


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str | None]]:
    """page name -> {test name: failure text or None} from one run of the engine on every page."""
    project = tmp_path_factory.mktemp("broken")
    write_project(project)
    token = spaces.plant_sentinel()  # the engine run below plants and checks one of its own too
    run = run_engine(project, "-q", f"--junitxml={project / 'report.xml'}")
    assert (project / "report.xml").is_file(), run.stdout + run.stderr
    changed = spaces.remove_sentinel(token)
    leftovers = spaces.Space("vd_page_isolation_").leftovers()
    result: dict[str, dict[str, str | None]] = {}
    for case in ET.parse(project / "report.xml").iter("testcase"):
        page = case.get("classname", "").split("page_")[-1].removesuffix(".md")
        failure = case.find("failure")
        if failure is None:
            failure = case.find("error")
        text = None if failure is None else (failure.get("message", "") + "\n" + (failure.text or ""))
        result.setdefault(page, {})[case.get("name", "")] = text
    result["after the run"] = {
        "sentinels": "intact" if not changed else f"changed: {changed}",
        "leftovers of the page's space": repr(leftovers),
    }
    return result


def fails_with(outcomes: dict[str, dict[str, str | None]], page: str, *fragments: str) -> None:
    failures = [t for t in outcomes[page].values() if t is not None]
    assert len(failures) == 1, outcomes[page]
    for fragment in fragments:
        assert fragment in failures[0], f"{fragment!r} not in:\n{failures[0]}"


def test_python_syntax_error(outcomes: dict[str, dict[str, str | None]]) -> None:
    fails_with(
        outcomes, "syntax_error", "docs/page_syntax_error.md:3 [python]", "SyntaxError", "page_syntax_error_line3.py"
    )


def test_exception_shows_the_snippet_line_and_real_traceback(outcomes: dict[str, dict[str, str | None]]) -> None:
    fails_with(
        outcomes,
        "exception",
        "docs/page_exception.md:5 [python]",
        "snippets/boom.py",
        'boom.py", line 2, in divide',
        "ZeroDivisionError: division by zero",
    )


def test_wrong_expected_output(outcomes: dict[str, dict[str, str | None]]) -> None:
    fails_with(outcomes, "wrong_output", "docs/page_wrong_output.md:1 [python]", "output differs", "-41", "+42")


def test_missing_include_file(outcomes: dict[str, dict[str, str | None]]) -> None:
    fails_with(outcomes, "missing_include", "docs/page_missing_include.md:1", "snippets/nowhere.py")


@pytest.mark.parametrize(
    ("page", "message"),
    [
        ("lang_ruby", "fence language 'ruby'"),
        ("lang_py", "fence language 'py'"),
        ("unknown_mark", "unknown mark <!--pytest-codeblocks:cont-->"),
    ],
)
def test_fence_that_is_neither_run_nor_marked_as_not_code(
    outcomes: dict[str, dict[str, str | None]], page: str, message: str
) -> None:
    fails_with(outcomes, page, f"docs/page_{page}.md:3", message)


def test_titled_and_tilde_fences_run_like_any_other(outcomes: dict[str, dict[str, str | None]]) -> None:
    """``python title="x.py"`` and ``~~~python`` are python blocks to the reader: run, outputs compared."""
    assert outcomes["title_and_tilde"] == {"line3-python": None, "line13-python": None}


def test_python_block_declared_to_fail_that_succeeds(outcomes: dict[str, dict[str, str | None]]) -> None:
    fails_with(
        outcomes,
        "raises_but_succeeds",
        "docs/page_raises_but_succeeds.md:3",
        "declared to raise ValueError but it succeeded",
    )


def test_python_block_that_fails_differently(outcomes: dict[str, dict[str, str | None]]) -> None:
    fails_with(
        outcomes,
        "raises_differently",
        "docs/page_raises_differently.md:3",
        "declared to raise ValueError but it failed with: KeyError: 'k'",
    )


def test_sql_block_declared_to_fail_that_succeeds(outcomes: dict[str, dict[str, str | None]]) -> None:
    fails_with(
        outcomes,
        "sqlstate_but_succeeds",
        "docs/page_sqlstate_but_succeeds.md:3",
        "declared SQLSTATE 23505 but the errors were: none",
    )


def test_sql_error_fails_with_its_sqlstate(outcomes: dict[str, dict[str, str | None]]) -> None:
    fails_with(outcomes, "sql_error", "docs/page_sql_error.md:1 [sql]", "SQLSTATE 22012", "division by zero")


def test_timeout_kills_the_block(outcomes: dict[str, dict[str, str | None]]) -> None:
    fails_with(outcomes, "timeout", "docs/page_timeout.md:3", "timed out after 2s")


def test_a_full_run_leaves_other_data_untouched_and_removes_its_own(outcomes: dict[str, dict[str, str | None]]) -> None:
    """The isolation page wrote a table, a second database, a Redis key, a queue and an exchange under
    its space; a sentinel table in the default database and a sentinel key in Redis DB 0 were there
    before the run. Afterwards the sentinels are intact and nothing of the page's space remains."""
    assert outcomes["isolation"] == {"line1-python": None}
    assert outcomes["after the run"] == {
        "sentinels": "intact",
        "leftovers of the page's space": "[]",
    }


def test_a_good_page_passes(outcomes: dict[str, dict[str, str | None]]) -> None:
    """The positive control: the same run passes a correct page, including a failure it shows."""
    assert outcomes["good"] == {"line3-sql": None, "line7-python": None, "line18-mermaid": None}


def test_a_diagram_left_to_the_browser_is_found(tmp_path: Path) -> None:
    """A project without pre-rendered SVGs (no verify.diagrams here): the browser check names each
    diagram the browser would have to render, by page:line. (A diagram mermaid cannot parse fails
    the render command: tests/test_diagrams.py.)"""
    (tmp_path / "mkdocs.yml").write_text(MKDOCS_YML, encoding="utf-8")
    docs = tmp_path / "docs"
    (docs / "assets" / "javascripts").mkdir(parents=True)
    (docs / "assets" / "javascripts" / "mermaid.min.js").symlink_to(ROOT / "docs/assets/javascripts/mermaid.min.js")
    (docs / "index.md").write_text(
        "# Home\n\n```mermaid\ngraph LR\n    A --> B\n```\n\n```mermaid\ngraph LR\n    A -->> [B\n```\n",
        encoding="utf-8",
    )
    with browser.hosted(tmp_path / "mkdocs.yml", tmp_path) as (site_dir, base, built):
        assert built.returncode == 0, built.stderr  # mkdocs itself does not notice
        (report,) = browser.check_site(site_dir, base, docs)
    assert report.expected == 2
    assert report.rendered == 0
    assert report.in_browser == ["docs/index.md:3", "docs/index.md:8"]
    assert report.mermaid_requests == [base + "assets/javascripts/mermaid.min.js"]  # what readers no longer get
    assert any(p.startswith("docs/index.md:8: no pre-rendered SVG") for p in report.problems), report.problems


def test_a_missing_service_stops_the_run_and_says_how_to_start_it(tmp_path: Path) -> None:
    """Nothing listens on 127.0.0.1:1 (no Docker engine here to start it): the run stops at once,
    naming the host:port and the start command, instead of skipping pages."""
    write_project(tmp_path)
    run = run_engine(tmp_path, REDIS_URL="redis://127.0.0.1:1/0", DOCKER_HOST="unix:///nonexistent")
    out = run.stdout + run.stderr
    assert run.returncode == 3, out
    assert "Redis (REDIS_URL): nothing listens on 127.0.0.1:1" in out
    assert "docker compose up -d --wait redis" in out
    assert " passed" not in out and " skipped" not in out
