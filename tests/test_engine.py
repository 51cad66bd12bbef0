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
from collections.abc import Callable
from pathlib import Path

import pika
import pika.exceptions
import psycopg
import pytest
import redis
from psycopg.conninfo import make_conninfo

from verify import browser, helpers, spaces, stamps

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


# A hostile page: each block tries, with the URLs its page is given, to reach what is not its own (another
# page's space, VICTIM_*, alive during the run; the sentinels, SENTINEL_*) or to flush everything, and
# must be refused by the server itself. attempt -> (code, what the server answers).
HOSTILE_PRELUDE = """\
import os

import pika
import psycopg
import redis
from psycopg.conninfo import make_conninfo

e = os.environ
r = redis.Redis.from_url(e["REDIS_URL"])
victim_db, victim_prefix, sentinel = e["VICTIM_DB"], e["VICTIM_PREFIX"], e["SENTINEL_TABLE"]
own_db, default_db = e["DATABASE_URL"], make_conninfo(e["DATABASE_URL"], dbname="postgres")
"""
# The default database and template1 keep their stock grants (PUBLIC may connect); the server ends a page
# role's session there by a setting of the role's own (spaces.SHARED_DATABASES).
NOT_HERE = f'FATAL:  could not access file "{spaces.NOT_HERE}"'
HOSTILE = {
    "postgres: connect to another page's database": (
        "psycopg.connect(make_conninfo(own_db, dbname=victim_db))",
        'FATAL:  permission denied for database "vd_victim_',
    ),
    "postgres: read the sentinel table in the default database": (
        "psycopg.connect(default_db).execute(f'SELECT * FROM \"{sentinel}\"')",
        NOT_HERE,
    ),
    "postgres: drop the sentinel table": (
        "psycopg.connect(default_db).execute(f'DROP TABLE \"{sentinel}\"')",
        NOT_HERE,
    ),
    "postgres: write a table into the default database": (
        'psycopg.connect(default_db).execute("CREATE TABLE public.hostile (x int)")',
        NOT_HERE,
    ),
    "postgres: connect to template1": ('psycopg.connect(make_conninfo(own_db, dbname="template1"))', NOT_HERE),
    "postgres: lift its own refusal in the default database": (
        'psycopg.connect(own_db).execute("ALTER ROLE CURRENT_USER IN DATABASE postgres "\n'
        '                                "RESET session_preload_libraries")',
        'permission denied to set parameter "session_preload_libraries"',
    ),
    "postgres: drop another page's database": (
        "psycopg.connect(own_db, autocommit=True).execute(f'DROP DATABASE \"{victim_db}\"')",
        "must be owner of database vd_victim_",
    ),
    "postgres: copy another page's database": (
        "psycopg.connect(own_db, autocommit=True).execute(f'CREATE DATABASE {victim_db}2 TEMPLATE {victim_db}')",
        "permission denied to create database",  # before the copy's own check: no CREATEDB at all
    ),
    "postgres: create a database": (
        'psycopg.connect(own_db, autocommit=True).execute(f"CREATE DATABASE {victim_db}_hostile")',
        "permission denied to create database",
    ),
    "postgres: create a schema in the default database": (
        'psycopg.connect(default_db).execute("CREATE SCHEMA hostile")',
        NOT_HERE,
    ),
    "postgres: create a role": (
        'psycopg.connect(own_db).execute("CREATE ROLE hostile LOGIN")',
        "permission denied to create role",
    ),
    "redis: read another page's key": (
        'r.get(victim_prefix + ":secret")',
        "NoPermissionError: this user has no permissions to access one of the keys",
    ),
    "redis: overwrite another page's key": (
        'r.set(victim_prefix + ":secret", "hostile")',
        "NoPermissionError: this user has no permissions to access one of the keys",
    ),
    "redis: delete the sentinel key": (
        'r.delete(e["SENTINEL_KEY"])',
        "NoPermissionError: this user has no permissions to access one of the keys",
    ),
    "redis: delete another page's key from a Lua script": (
        'r.eval("return redis.call(\'DEL\', ARGV[1])", 0, victim_prefix + ":secret")',
        "The user executing the script can't access at least one of the keys",
    ),
    "redis: publish on another page's channel": (
        'r.publish(victim_prefix + ":events", "hostile")',
        "NoPermissionError: this user has no permissions to access one of the channels",
    ),
    "redis: FLUSHALL": (
        "r.flushall()",
        "NoPermissionError: this user has no permissions to run the 'flushall' command",
    ),
    "redis: FLUSHDB": ("r.flushdb()", "NoPermissionError: this user has no permissions to run the 'flushdb' command"),
    "redis: FLUSHALL from a Lua script": (
        "r.eval(\"return redis.call('FLUSHALL')\", 0)",
        "The user executing the script can't run this command or subcommand",
    ),
    "redis: swap database 0 with 1": (
        "r.swapdb(0, 1)",
        "NoPermissionError: this user has no permissions to run the 'swapdb' command",
    ),
    "redis: CONFIG SET": (
        'r.config_set("maxmemory", "1")',
        "NoPermissionError: this user has no permissions to run the 'config|set' command",
    ),
    "redis: kill the other clients": (
        "r.client_kill_filter(skipme=True)",
        "NoPermissionError: this user has no permissions to run the 'client|kill' command",
    ),
    "redis: SCRIPT FLUSH": (
        "r.script_flush()",
        "NoPermissionError: this user has no permissions to run the 'script|flush'",
    ),
    "redis: grant itself every key": (
        'r.acl_setuser(e["DEMO_PREFIX"].replace("-", "_"), keys=["*"], categories=["+@all"])',
        "NoPermissionError: this user has no permissions to run the 'acl|setuser' command",
    ),
    "rabbitmq: open another page's vhost": (
        'pika.BlockingConnection(pika.URLParameters(e["AMQP_URL"].rsplit("/", 1)[0] + "/" + victim_prefix))',
        "NOT_ALLOWED - access to vhost 'vd-victim-",
    ),
    "rabbitmq: open the default vhost": (
        'pika.BlockingConnection(pika.URLParameters(e["AMQP_URL"].rsplit("/", 1)[0] + "/%2F"))',
        "NOT_ALLOWED - access to vhost '/' refused for user 'vd_page_hostile_",
    ),
}
# Not an attempt the server refuses: queue.delete of the other page's queue name in its own vhost is a
# no-op (RabbitMQ's delete is idempotent); the other page's queue still holds its message afterwards.


def hostile_page() -> tuple[str, dict[str, int]]:
    """The page's text, and the line of each attempt's fence."""
    lines, where = ["# A hostile page", ""], {}
    for attempt, (code, _) in HOSTILE.items():
        where[attempt] = len(lines) + 1
        lines += ["```python", *HOSTILE_PRELUDE.splitlines(), *code.splitlines(), "```", ""]
    return "\n".join(lines), where


PAGES["hostile"] = hostile_page()[0]


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
    with spaces.space("victim") as victim:  # another page's space, with data in it, during the whole run
        plant_victim_data(victim.env)
        run = run_engine(
            project,
            "-q",
            f"--junitxml={project / 'report.xml'}",
            VICTIM_DB=victim.name,
            VICTIM_PREFIX=victim.prefix,
            SENTINEL_TABLE=spaces.SENTINEL_TABLE.format(token),
            SENTINEL_KEY=spaces.SENTINEL_KEY.format(token),
        )
        victim_data = victim_data_left(victim.env)
        redis.Redis.from_url(victim.env["REDIS_URL"]).delete(victim.prefix + ":secret")
    assert (project / "report.xml").is_file(), run.stdout + run.stderr
    changed = spaces.remove_sentinel(token)
    leftovers = [spaces.Space(f"vd_page_{page}_").leftovers() for page in ("isolation", "hostile")]
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
        "leftovers of the page's space": repr(leftovers[0]),
        "leftovers of the hostile page's space": repr(leftovers[1]),
        "the other page's data": victim_data,
    }
    return result


def plant_victim_data(env: dict[str, str]) -> None:
    """A table row, a Redis key and a queued message in the victim's space, written as the victim."""
    with psycopg.connect(env["DATABASE_URL"]) as conn:
        conn.execute("CREATE TABLE secret (x text)")
        conn.execute("INSERT INTO secret VALUES ('victim')")
    redis.Redis.from_url(env["REDIS_URL"]).set(env["DEMO_PREFIX"] + ":secret", "victim")
    with pika.BlockingConnection(pika.URLParameters(env["AMQP_URL"])) as amqp:
        channel = amqp.channel()
        channel.confirm_delivery()
        channel.queue_declare(env["DEMO_PREFIX"] + ".secret")
        channel.basic_publish("", env["DEMO_PREFIX"] + ".secret", b"victim")


def victim_data_left(env: dict[str, str]) -> str:
    """'intact', or what changed about the victim's data."""
    with psycopg.connect(env["DATABASE_URL"]) as conn:
        rows = conn.execute("SELECT x FROM secret").fetchall()
    key = redis.Redis.from_url(env["REDIS_URL"]).get(env["DEMO_PREFIX"] + ":secret")
    with pika.BlockingConnection(pika.URLParameters(env["AMQP_URL"])) as amqp:
        queued = amqp.channel().queue_declare(env["DEMO_PREFIX"] + ".secret", passive=True).method.message_count
    found = (rows, key, queued)
    return "intact" if found == ([("victim",)], b"victim", 1) else f"changed: {found!r}"


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
    """The isolation page wrote a table, a Redis key, a queue and an exchange under
    its space; a sentinel table in the default database and a sentinel key in Redis DB 0 were there
    before the run. Afterwards the sentinels are intact and nothing of the page's space remains."""
    assert outcomes["isolation"] == {"line1-python": None}
    assert outcomes["after the run"]["sentinels"] == "intact"
    assert outcomes["after the run"]["leftovers of the page's space"] == "[]"


def test_the_servers_refuse_every_attempt_of_a_hostile_page(outcomes: dict[str, dict[str, str | None]]) -> None:
    """Each block of the hostile page failed, with its page:line and the server's own refusal."""
    where = hostile_page()[1]
    assert len(outcomes["hostile"]) == len(HOSTILE)
    wrong = []
    for attempt, (_, refusal) in HOSTILE.items():
        failure = outcomes["hostile"][f"line{where[attempt]}-python"] or "(it was allowed)"
        if f"docs/page_hostile.md:{where[attempt]} [python]" not in failure or refusal not in failure:
            wrong.append(f"{attempt}: {refusal!r} not in:\n{failure}")
    assert not wrong, "\n\n".join(wrong)


def test_a_hostile_page_leaves_the_other_page_and_the_sentinels_intact(
    outcomes: dict[str, dict[str, str | None]],
) -> None:
    """After the hostile page's run: another page's table row, Redis key and queued message are as they
    were, and so are the sentinels; nothing of the hostile page's own space (role, database, Redis user,
    RabbitMQ user and vhost) remains."""
    after = outcomes["after the run"]
    assert after["the other page's data"] == "intact"
    assert after["sentinels"] == "intact"
    assert after["leftovers of the hostile page's space"] == "[]"


def test_a_space_without_a_broker_makes_no_vhost_and_its_amqp_url_refuses() -> None:
    """A page that does not use RabbitMQ gets no user or vhost (three Erlang VM starts saved); a program of
    it that connects anyway is refused at once rather than reaching the shared broker."""
    with spaces.space("no broker", broker=False) as s:
        assert spaces.rabbit_users_and_vhosts(s.name, s.prefix) == ([], [])
        with pytest.raises(pika.exceptions.AMQPConnectionError):
            pika.BlockingConnection(pika.URLParameters(s.env["AMQP_URL"]))
        with psycopg.connect(s.env["DATABASE_URL"]) as conn:  # the rest of the space is there
            assert conn.execute("SELECT 1").fetchone() == (1,)
    questions = sorted((ROOT / "docs" / "questions").glob("*.md"))
    with_broker = [p.stem for p in questions if stamps.uses_rabbitmq(p, ROOT)]
    assert with_broker == ["01-microservices", "03-message-queues"]
    assert stamps.page_of_proofs(stamps.proof_module(questions[1], ROOT), ROOT) == questions[1]


def test_a_space_makes_the_databases_its_label_declares_owned_by_its_role_and_closed_to_others() -> None:
    """A page role cannot create databases, so those its programs use (<name>_<suffix>, spaces.DATABASES)
    come with the space: its role connects and may drop them, another page's role may not connect, and
    they are gone with the space."""
    with spaces.space("01-microservices") as own, spaces.space("other page") as other:
        assert own.databases == spaces.MICROSERVICES
        for suffix in own.databases:
            db = f"{own.name}_{suffix}"
            with psycopg.connect(make_conninfo(own.env["DATABASE_URL"], dbname=db)) as conn:
                owner = conn.execute("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", [db])
                assert owner.fetchone() == (own.name,)
            with pytest.raises(psycopg.OperationalError, match=f'permission denied for database "{db}"'):
                psycopg.connect(make_conninfo(other.env["DATABASE_URL"], dbname=db))
        with psycopg.connect(own.env["DATABASE_URL"], autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{own.name}_users"')  # a program may drop (not create again) its own
    assert own.leftovers() == [] and other.leftovers() == []


def test_under_its_refusal_the_default_databases_stock_grants_hold_too() -> None:
    """The grants of the default database are not changed (PUBLIC may CONNECT and make TEMP tables). With
    the role's refusing setting taken off by the admin, the role connects and may make a temporary table,
    gone with its session; it still may not read or drop the sentinel, create in public or make a schema."""
    token = spaces.plant_sentinel()
    sentinel = spaces.SENTINEL_TABLE.format(token)
    try:
        with spaces.space("default db") as page:
            default_db = make_conninfo(page.env["DATABASE_URL"], dbname="postgres")
            with pytest.raises(psycopg.OperationalError, match=spaces.NOT_HERE):
                psycopg.connect(default_db)
            with spaces.admin_connect() as admin:
                admin.execute(f"ALTER ROLE {page.name} IN DATABASE postgres RESET session_preload_libraries")
            refused = {
                f'SELECT * FROM "{sentinel}"': "permission denied for table",
                f'DROP TABLE "{sentinel}"': "must be owner of table",
                "CREATE TABLE public.hostile (x int)": "permission denied for schema public",
                "CREATE SCHEMA hostile": "permission denied for database postgres",
            }
            with psycopg.connect(default_db, autocommit=True) as conn:
                assert conn.execute("SELECT current_user, current_database()").fetchone() == (page.name, "postgres")
                conn.execute("CREATE TEMP TABLE scratch (x int)")
                for statement, refusal in refused.items():
                    with pytest.raises(psycopg.errors.InsufficientPrivilege, match=refusal):
                        conn.execute(statement)
            with spaces.admin_connect() as admin:  # the temporary table goes when the page's backend exits
                temp = "SELECT count(*) = 0 FROM pg_class WHERE relname = 'scratch' AND relpersistence = 't'"
                helpers.eventually(lambda: admin.execute(temp).fetchone() == (True,), "the temporary table gone")
    finally:
        assert spaces.remove_sentinel(token) == []


def test_a_space_on_a_broker_run_through_its_management_api(monkeypatch: pytest.MonkeyPatch) -> None:
    """The containerised broker's path (RABBITMQ_MANAGEMENT_URL set), on a throwaway broker with the
    management plugin: the page's vhost and user are made and removed through the HTTP API, and the
    user is held to its own vhost."""
    rabbit, port = helpers.ThrowawayRabbit(), helpers.free_port()
    (rabbit.dir / "enabled_plugins").write_text("[rabbitmq_management].\n")
    with open(rabbit.dir / "rabbitmq.conf", "a", encoding="utf-8") as conf:
        conf.write(f"management.tcp.port = {port}\nmanagement.tcp.ip = 127.0.0.1\n")
    try:
        rabbit.start(timeout=180)
        api = f"http://guest:guest@127.0.0.1:{port}"
        monkeypatch.setenv("AMQP_URL", rabbit.url)
        monkeypatch.setenv("RABBITMQ_MANAGEMENT_URL", api)
        monkeypatch.setattr(spaces, "MANAGEMENT_URL", api)
        assert not spaces.rabbitmqctl_local()
        helpers.eventually(lambda: answers(lambda: spaces.management("GET", "overview")), "the management API")
        with spaces.space("management api") as space:
            with pika.BlockingConnection(pika.URLParameters(space.env["AMQP_URL"])) as amqp:
                amqp.channel().queue_declare(space.prefix + ".left")
            with pytest.raises(pika.exceptions.ProbableAccessDeniedError, match="NOT_ALLOWED - access to vhost '/'"):
                pika.BlockingConnection(pika.URLParameters(space.env["AMQP_URL"].rsplit("/", 1)[0] + "/%2F"))
            made = [x for x in space.leftovers() if x.startswith("rabbitmq")]
            assert made == [f"rabbitmq user {space.name}", f"rabbitmq vhost {space.prefix}"]
        assert space.leftovers() == []  # the vhost went, and the queue left in it with it
    finally:
        rabbit.close()


def answers(call: Callable[[], object]) -> bool:
    try:
        call()
    except OSError:
        return False
    return True


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
