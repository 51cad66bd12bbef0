"""Q10 proofs: the statement counts of every strategy on docs/questions/10-n-plus-one.md, and that all of
them return the same rows. Expected counts are computed from the data, never typed in."""

from __future__ import annotations

import asyncio
import math
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import pq
from psycopg.rows import dict_row
from sqlalchemy import ForeignKey, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import InvalidRequestError, MissingGreenlet, StatementError
from sqlalchemy.orm import DeclarativeBase, Mapped, joinedload, mapped_column, relationship

from verify.helpers import ROOT, load_snippet

st = load_snippet("10-n-plus-one/strategies.py")
dl = load_snippet("10-n-plus-one/dataloader_batch.py")
orm = load_snippet("10-n-plus-one/orm.py")
async_orm = load_snippet("10-n-plus-one/async_orm.py")
SCHEMA = (ROOT / "snippets/10-n-plus-one/schema.sql").read_text(encoding="utf-8")
SIZES = [10, 100, 1000]
SEED_JOIN = """SELECT posts.*, users.id AS author_id, users.name AS author_name, users.email AS author_email
               FROM posts JOIN users ON posts.author_id = users.id LIMIT 10"""


@dataclass
class Truth:
    rows: list[tuple[int, str, str | None]]  # what every strategy must return
    with_author: int  # posts that have an author
    authors: int  # distinct authors among them


@pytest.fixture(scope="module")
def db(env: dict[str, str]) -> str:
    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
        conn.execute(SCHEMA)
    return env["DATABASE_URL"]


def truth(url: str, n: int) -> Truth:
    """The first n posts by id with their author's name, computed from whole-table reads in Python."""
    with psycopg.connect(url) as conn:
        posts = sorted(conn.execute("SELECT id, title, author_id FROM posts").fetchall())[:n]
        names: dict[int, str] = dict(conn.execute("SELECT id, name FROM users").fetchall())
    ids = [a for _, _, a in posts if a is not None]
    return Truth([(p, t, names[a] if a is not None else None) for p, t, a in posts], len(ids), len(set(ids)))


@pytest.mark.parametrize("n", SIZES)
def test_psycopg_strategies_count_and_agree(db: str, n: int) -> None:
    t = truth(db, n)
    assert 0 < t.with_author < n  # the data has authorless posts at every size
    for strategy, statements in [(st.n_plus_one, 1 + t.with_author), (st.join, 1), (st.eager, 2)]:
        with st.connect(db) as conn:
            rows = strategy(conn, n)
            assert conn.statements == statements, strategy.__name__
        assert rows == t.rows, strategy.__name__


def test_the_common_answers_loop_queries_even_for_a_missing_author(db: str) -> None:
    with st.connect(db) as conn:  # the seed's loop, verbatim: one users query per post, NULL or not
        posts = conn.execute("SELECT * FROM posts LIMIT 10").fetchall()
        authors = [conn.execute("SELECT * FROM users WHERE id = %s", [p[1]]).fetchall() for p in posts]
        assert conn.statements == 1 + 10
    assert [] in authors  # the NULL author's query ran and found nothing


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("batch", [None, 100, 7])
def test_dataloader_sends_one_query_per_batch(db: str, n: int, batch: int | None) -> None:
    t = truth(db, n)

    async def run() -> tuple[list[Any], int]:
        async with await dl.CountingConnection.connect(db, autocommit=True, cursor_factory=dl.CountingCursor) as conn:
            rows = await dl.posts_with_authors(conn, n, batch)
            return rows, conn.statements

    rows, statements = asyncio.run(run())
    assert rows == t.rows
    assert statements == 1 + (1 if batch is None else math.ceil(t.authors / batch))


def test_dataloader_refuses_a_missing_key(db: str) -> None:
    async def run() -> None:
        async with await psycopg.AsyncConnection.connect(db) as conn:
            await dl.AuthorLoader(conn).load(None)

    with pytest.raises(TypeError, match="must be called with a value"):
        asyncio.run(run())


@pytest.fixture
def engine(db: str) -> Iterator[tuple[Any, list[str]]]:
    engine, statements = orm.engine_for(db)
    yield engine, statements
    engine.dispose()


@pytest.mark.parametrize("n", SIZES)
def test_sqlalchemy_loading_strategies(engine: tuple[Any, list[str]], db: str, n: int) -> None:
    eng, statements = engine
    t = truth(db, n)
    expected = {"lazy": 1 + t.authors, "selectinload": 1 + math.ceil(t.authors / 500), "joinedload": 1}
    for strategy, count in expected.items():
        statements.clear()
        assert orm.load(eng, strategy, n) == t.rows, strategy
        assert len(statements) == count, strategy
    statements.clear()
    orm.load(eng, "joinedload", n)
    assert "LEFT OUTER JOIN" in statements[0]  # the nullable relationship keeps authorless posts


def test_lazy_raise_stops_the_n_plus_one_at_the_first_access(engine: tuple[Any, list[str]]) -> None:
    eng, statements = engine
    with pytest.raises(InvalidRequestError, match="lazy='raise'"):
        orm.load(eng, "raise", 10)
    assert len(statements) == 1  # the posts query ran; no author query did


def test_selectinload_chunks_500_keys_per_statement(engine: tuple[Any, list[str]], db: str) -> None:
    eng, statements = engine
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO users SELECT i, 'user ' || i, format('user%s@example.com', i)"
            " FROM generate_series(1001, 1700) AS i"
        )
        conn.execute("INSERT INTO posts SELECT 10000 + i, 1000 + i, 'extra ' || i FROM generate_series(1, 700) AS i")
        try:
            t = truth(db, 2700)
            assert t.authors == 1000
            assert orm.load(eng, "selectinload", 2700) == t.rows
            assert len(statements) == 1 + 2  # 1000 ids: two IN (...) statements of at most 500
        finally:
            conn.execute("DELETE FROM posts WHERE id > 10000")
            conn.execute("DELETE FROM users WHERE id > 1000")


def test_the_common_answers_join_is_not_the_same_query(db: str) -> None:
    with psycopg.connect(db, row_factory=dict_row) as conn:
        cur = conn.execute(SEED_JOIN)
        assert cur.description is not None
        names = [c.name for c in cur.description]
        assert names.count("author_id") == 2
        as_dicts = cur.fetchall()
        assert len(as_dicts[0]) == len(names) - 1  # a dict keeps one author_id of the two
        seed_n1 = [r["id"] for r in conn.execute("SELECT * FROM posts LIMIT 10")]
        seed_join = [r["id"] for r in as_dicts]
    dropped = [p for p, _, author in truth(db, 10).rows if author is None]
    assert dropped and all(p in seed_n1 and p not in seed_join for p in dropped)
    assert set(seed_n1) != set(seed_join)


def test_limit_without_order_by_changes_with_the_physical_order(db: str) -> None:
    with psycopg.connect(db) as conn, conn.transaction(force_rollback=True):
        before = [i for (i,) in conn.execute("SELECT id FROM posts LIMIT 5")]
        ordered = [i for (i,) in conn.execute("SELECT id FROM posts ORDER BY id LIMIT 5")]
        conn.execute("UPDATE posts SET title = title || ' (edited)' WHERE id = %s", [before[0]])
        after = [i for (i,) in conn.execute("SELECT id FROM posts LIMIT 5")]
        assert before[0] not in after and after != before
        assert [i for (i,) in conn.execute("SELECT id FROM posts ORDER BY id LIMIT 5")] == ordered
    assert truth(db, 5).rows[0][1] == "post 1"  # rolled back


def on_the_wire(conn: psycopg.Connection[Any], work: Callable[[], object]) -> list[str]:
    """The statements libpq really sent while work() ran (PQtrace): one Query message per simple-protocol
    statement, one Execute per extended-protocol execution; BEGIN/COMMIT included."""
    fd, path = tempfile.mkstemp(suffix=".trace")
    conn.pgconn.trace(fd)
    conn.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
    try:
        work()
    finally:
        conn.pgconn.untrace()
        os.close(fd)
    messages = [line.split("\t") for line in Path(path).read_text(encoding="utf-8").splitlines()]
    Path(path).unlink()
    return [
        m[3].strip() if m[2] == "Query" else "(execute)"
        for m in messages
        if m[0] == "F" and m[2] in ("Query", "Execute")
    ]


def test_the_counter_matches_the_wire(db: str) -> None:
    with st.connect(db) as conn:
        conn.execute("CREATE TEMP TABLE scratch (i int)")

        def statements() -> None:
            conn.execute("SELECT 1")
            with conn.cursor() as cur:
                cur.execute("SELECT %s", [2])
                cur.executemany("INSERT INTO scratch VALUES (%s)", [(i,) for i in range(5)])  # 5 executions
                with cur.copy("COPY scratch FROM STDIN") as copy:
                    copy.write_row((5,))

        before = conn.statements
        sent = on_the_wire(conn, statements)
        assert conn.statements - before == len(sent) == 1 + 1 + 5 + 1, sent
        assert conn.execute("SELECT count(*) FROM scratch").fetchone() == (6,)


def test_the_counter_sees_a_named_cursor_once_not_its_fetches(db: str) -> None:
    with st.connect(db) as conn:
        rows: list[Any] = []

        def read() -> None:
            with conn.transaction(), conn.cursor(name="posts_cursor") as cur:  # a server-side cursor
                assert isinstance(cur, st.CountingServerCursor)
                cur.itersize = 300
                cur.execute("SELECT id FROM posts ORDER BY id")
                rows.extend(cur)

        before = conn.statements
        wire = on_the_wire(conn, read)
        assert '"BEGIN"' in wire and '"COMMIT"' in wire  # psycopg's own, not counted either
        sent = [s for s in wire if s not in ('"BEGIN"', '"COMMIT"')]
        assert len(rows) == 2000
        assert conn.statements - before == 1  # the DECLARE...
        fetches = [s for s in sent if s.startswith('"FETCH')]
        assert len(fetches) == math.ceil(2000 / 300) == 7  # ...not the FETCH per 300 rows
        assert len(sent) == 1 + len(fetches) + 1  # DECLARE, the FETCHes, CLOSE


def test_in_with_a_tuple_fails_in_psycopg_3(db: str) -> None:
    with psycopg.connect(db) as conn:
        with pytest.raises(psycopg.errors.SyntaxError, match=r"at or near \"\$1\""):  # psycopg 2's idiom
            conn.execute("SELECT count(*) FROM users WHERE id IN %s", [(1, 2, 3)])
        conn.rollback()
        assert conn.execute("SELECT count(*) FROM users WHERE id = ANY(%s)", [[1, 2, 3]]).fetchone() == (3,)


class StrictBase(DeclarativeBase):
    pass


class StrictUser(StrictBase):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)


class StrictPost(StrictBase):  # the same table mapped with a NOT NULL key
    __tablename__ = "posts"
    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    author: Mapped[StrictUser] = relationship()
    author_inner: Mapped[StrictUser] = relationship(innerjoin=True, viewonly=True)


def test_joinedload_is_an_outer_join_whatever_the_nullability() -> None:
    def sql(option: Any) -> str:
        return str(select(StrictPost).options(option).compile(dialect=postgresql.dialect()))  # type: ignore[no-untyped-call]

    assert not StrictPost.__table__.c.author_id.nullable
    assert "LEFT OUTER JOIN" in sql(joinedload(StrictPost.author))  # NOT NULL, and still an outer join
    for inner in (sql(joinedload(StrictPost.author_inner)), sql(joinedload(StrictPost.author, innerjoin=True))):
        assert "JOIN" in inner and "OUTER" not in inner  # only innerjoin=True asks for an inner join


def test_a_dataloader_shared_between_requests_serves_stale_rows(db: str) -> None:
    async def run() -> tuple[str | None, str | None, str | None]:
        async with await psycopg.AsyncConnection.connect(db, autocommit=True) as conn:
            shared = dl.AuthorLoader(conn)  # wrongly kept from one request to the next
            first = await shared.load(1)  # request 1
            await conn.execute("UPDATE users SET name = 'renamed' WHERE id = 1")
            try:
                return first, await shared.load(1), await dl.AuthorLoader(conn).load(1)  # request 2
            finally:
                await conn.execute("UPDATE users SET name = %s WHERE id = 1", [first])

    first, shared, per_request = asyncio.run(run())
    assert first == "user 1" and shared == "user 1"  # the shared loader's cache never expires
    assert per_request == "renamed"


def test_lazy_load_under_asyncsession_raises_missing_greenlet(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    async def lazy() -> None:
        engine = async_orm.create_async_engine(db.replace("postgresql://", "postgresql+psycopg://", 1))
        try:
            async with async_orm.AsyncSession(engine) as session:
                post = await session.scalar(select(async_orm.Post).where(async_orm.Post.id == 1))
                assert post is not None
                post.author  # noqa: B018 - the attribute access is the lazy load
        finally:
            await engine.dispose()

    with pytest.raises(StatementError) as raised:
        asyncio.run(lazy())
    assert isinstance(raised.value.orig, MissingGreenlet)
    asyncio.run(async_orm.main())  # the page's program: the failure, then the selectinload fix
    out = capsys.readouterr().out
    assert "lazy: StatementError caused by MissingGreenlet" in out
    assert f"selectinload: {[(post, author) for post, _, author in truth(db, 3).rows]}" in out
