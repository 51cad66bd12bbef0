"""Posts with their authors three ways, counting every statement psycopg sends to the server."""

import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Self

import psycopg
from psycopg import Copy
from psycopg.abc import Params, Query

Row = tuple[int, str, str | None]  # post id, title, author name (None: the post has no author)
POSTS = "SELECT id, title, author_id FROM posts ORDER BY id LIMIT %s"


# --8<-- [start:counting]
class CountingCursor(psycopg.Cursor[Any]):
    """Counts what this code sends: execute (conn.execute too), executemany (one per parameter set), copy."""

    def execute(self, *args: Any, **kwargs: Any) -> Self:
        counted(self.connection, 1)
        return super().execute(*args, **kwargs)

    def executemany(self, query: Query, params_seq: Iterable[Params], **kwargs: Any) -> None:
        params = list(params_seq)
        counted(self.connection, len(params))  # the server executes it once per parameter set
        super().executemany(query, params, **kwargs)

    @contextmanager
    def copy(self, *args: Any, **kwargs: Any) -> Iterator[Copy]:
        counted(self.connection, 1)
        with super().copy(*args, **kwargs) as copy:
            yield copy


class CountingServerCursor(psycopg.ServerCursor[Any]):
    """conn.cursor(name=...): counts the DECLARE, not the FETCH it sends for every `itersize` rows."""

    def execute(self, *args: Any, **kwargs: Any) -> Self:
        counted(self.connection, 1)
        return super().execute(*args, **kwargs)


class CountingConnection(psycopg.Connection[Any]):
    statements = 0


def counted(conn: psycopg.Connection[Any], n: int) -> None:
    assert isinstance(conn, CountingConnection)
    conn.statements += n


def connect(url: str) -> CountingConnection:
    conn = CountingConnection.connect(url, autocommit=True, cursor_factory=CountingCursor)
    conn.server_cursor_factory = CountingServerCursor
    return conn


# --8<-- [end:counting]
# --8<-- [start:n_plus_one]
def n_plus_one(conn: psycopg.Connection[Any], limit: int) -> list[Row]:
    rows: list[Row] = []
    for post_id, title, author_id in conn.execute(POSTS, [limit]).fetchall():  # 1 query
        name = None
        if author_id is not None:  # + 1 query per post
            user = conn.execute("SELECT name FROM users WHERE id = %s", [author_id]).fetchone()
            name = user[0] if user else None
        rows.append((post_id, title, name))
    return rows


# --8<-- [end:n_plus_one]
# --8<-- [start:join]
def join(conn: psycopg.Connection[Any], limit: int) -> list[Row]:
    return conn.execute(  # LEFT JOIN keeps posts without an author; explicit columns; ORDER BY
        """SELECT p.id, p.title, u.name FROM posts AS p LEFT JOIN users AS u ON u.id = p.author_id
           ORDER BY p.id LIMIT %s""",
        [limit],
    ).fetchall()


# --8<-- [end:join]
# --8<-- [start:eager]
def eager(conn: psycopg.Connection[Any], limit: int) -> list[Row]:
    posts = conn.execute(POSTS, [limit]).fetchall()
    ids = sorted({author_id for _, _, author_id in posts if author_id is not None})
    names = dict(conn.execute("SELECT id, name FROM users WHERE id = ANY(%s)", [ids]).fetchall())
    return [(post_id, title, names.get(author_id)) for post_id, title, author_id in posts]


# --8<-- [end:eager]
# --8<-- [start:main]
def main() -> None:
    url = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    results = {}
    for strategy in (n_plus_one, join, eager):
        with connect(url) as conn:
            results[strategy.__name__] = strategy(conn, 10)
            print(f"{strategy.__name__:>10}: {conn.statements:2} statements, {len(results[strategy.__name__])} posts")
    assert results["n_plus_one"] == results["join"] == results["eager"]
    print(*results["join"][5:8], sep="\n")


if __name__ == "__main__":
    try:
        main()
    except psycopg.errors.UndefinedTable as e:  # schema.sql creates the tables
        sys.exit(f"{e.diag.message_primary}: run schema.sql (the page's first SQL block) first")
# --8<-- [end:main]
