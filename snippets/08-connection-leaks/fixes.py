"""Three ways to always give a connection back, and what each does to the transaction."""

import contextlib
import os
from collections.abc import Callable
from typing import TypeVar

import psycopg
from psycopg_pool import ConnectionPool

T = TypeVar("T")


# --8<-- [start:try_finally]
def save_try_finally(pool: ConnectionPool, note: str) -> None:
    conn = pool.getconn()
    try:
        conn.execute("INSERT INTO notes (body) VALUES (%s)", [note])
        conn.commit()  # without it, putconn() finds an open transaction and rolls it back
    finally:
        pool.putconn(conn)  # always given back, even if the INSERT raised


# --8<-- [end:try_finally]


# --8<-- [start:with_block]
def save_with(pool: ConnectionPool, note: str, fail: bool = False) -> None:
    with pool.connection() as conn:  # commit on success, rollback on exception, always returned
        conn.execute("INSERT INTO notes (body) VALUES (%s)", [note])
        if fail:
            raise ValueError("failed after the INSERT")


# --8<-- [end:with_block]


# --8<-- [start:wrapper]
def with_connection(pool: ConnectionPool, work: Callable[[psycopg.Connection], T]) -> T:
    """The common answer's wrapper: callers pass their work in and cannot forget to give the connection back."""
    with pool.connection() as conn:
        return work(conn)


# --8<-- [end:wrapper]


# --8<-- [start:main]
def main() -> None:
    url = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    with ConnectionPool(url, min_size=2, max_size=2, timeout=1.0) as pool:
        with_connection(pool, lambda c: c.execute("CREATE TABLE IF NOT EXISTS notes (body text)"))
        with_connection(pool, lambda c: c.execute("TRUNCATE notes"))
        before = pool.get_stats()["requests_num"]
        for i in range(100):  # two requests per round, a quarter of the `with` ones failing
            save_try_finally(pool, f"try-finally {i}")
            with contextlib.suppress(ValueError):
                save_with(pool, f"with {i}", fail=i % 4 == 0)
        requests = pool.get_stats()["requests_num"] - before
        print(f"{requests} requests over {pool.max_size} connections: {requests // pool.max_size} times as many")
        rows = with_connection(
            pool,
            lambda c: c.execute(
                "SELECT split_part(body, ' ', 1), count(*) FROM notes GROUP BY 1 ORDER BY 1"
            ).fetchall(),
        )
        print("rows saved:", rows)
        stats = pool.get_stats()
        print({k: stats.get(k, 0) for k in ("requests_num", "requests_errors", "pool_size", "pool_available")})


if __name__ == "__main__":
    main()
# --8<-- [end:main]
