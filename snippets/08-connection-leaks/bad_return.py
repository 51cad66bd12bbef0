"""Connections given back mid-transaction: the next caller must get a clean one, not their leftovers."""

import os

import psycopg
from psycopg_pool import ConnectionPool


def careless_caller(pool: ConnectionPool, note: str, fail: bool) -> int:
    """Writes, then gives the connection back without commit or rollback; returns its backend pid."""
    conn = pool.getconn()
    try:
        conn.execute("INSERT INTO notes (body) VALUES (%s)", [note])
        if fail:
            conn.execute("SELECT 1 / 0")  # the transaction is now failed (INERROR)
    except psycopg.errors.DivisionByZero:
        pass
    status = conn.info.transaction_status.name
    pool.putconn(conn)  # returned INTRANS or INERROR: the pool rolls it back first
    print(f"{note}: returned in state {status}")
    return conn.info.backend_pid


def next_caller(pool: ConnectionPool, note: str) -> int:
    with pool.connection() as conn:
        print(f"{note}: got a connection in state {conn.info.transaction_status.name}")
        conn.execute("INSERT INTO notes (body) VALUES (%s)", [note])
        return conn.info.backend_pid  # the block commits: only this caller's own INSERT


def main() -> None:
    url = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS notes (body text)")
        conn.execute("TRUNCATE notes")
    with ConnectionPool(url, min_size=1, max_size=1) as pool:  # one connection: everyone shares it
        pids = {
            careless_caller(pool, "half-done", fail=True),
            next_caller(pool, "next caller 1"),
            careless_caller(pool, "uncommitted", fail=False),
            next_caller(pool, "next caller 2"),
        }
        print("sessions used:", len(pids))
        with pool.connection() as conn:
            print("rows:", [r[0] for r in conn.execute("SELECT body FROM notes ORDER BY body")])


if __name__ == "__main__":
    main()
