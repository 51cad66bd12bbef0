"""Q10 proofs: the statement counts of every strategy on docs/questions/10-n-plus-one.md, and that all of
them return the same rows. Expected counts are computed from the data, never typed in."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row
from sqlalchemy.exc import InvalidRequestError

from verify.helpers import ROOT, load_snippet

st = load_snippet("10-n-plus-one/strategies.py")
dl = load_snippet("10-n-plus-one/dataloader_batch.py")
orm = load_snippet("10-n-plus-one/orm.py")
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


def test_the_seeds_loop_queries_even_for_a_missing_author(db: str) -> None:
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
        conn.execute("INSERT INTO users SELECT i, 'user ' || i, format('user%s@example.com', i)"
                     " FROM generate_series(1001, 1700) AS i")
        conn.execute("INSERT INTO posts SELECT 10000 + i, 1000 + i, 'extra ' || i FROM generate_series(1, 700) AS i")
        try:
            t = truth(db, 2700)
            assert t.authors == 1000
            assert orm.load(eng, "selectinload", 2700) == t.rows
            assert len(statements) == 1 + 2  # 1000 ids: two IN (...) statements of at most 500
        finally:
            conn.execute("DELETE FROM posts WHERE id > 10000")
            conn.execute("DELETE FROM users WHERE id > 1000")


def test_the_seeds_join_is_not_the_same_query(db: str) -> None:
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


def test_the_counter_sees_cursor_execute_too(db: str) -> None:
    with st.connect(db) as conn:
        conn.execute("SELECT 1")
        with conn.cursor() as cur:
            cur.execute("SELECT %s", [2])
            cur.execute("SELECT 3")
        assert conn.statements == 3
