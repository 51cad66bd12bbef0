"""A leak that something still references: its session stays on the server, idle, until idle_session_timeout."""

import os
import time
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

APP_NAME = "q8-held"
# ms; usually ALTER ROLE app SET ... (idle_session_timeout: PostgreSQL 14 and later)
GUARDS = "-c idle_in_transaction_session_timeout=1000 -c idle_session_timeout=3000"
held: list[psycopg.Connection[Any]] = []  # a cache, a global, a stuck request: anything keeping a reference


def cached_lookup(pool: ConnectionPool, user_id: int) -> tuple[int] | None:
    conn = pool.getconn()
    row = conn.execute("SELECT %s::int", [user_id]).fetchone()
    conn.commit()  # committed: the session is idle, not idle in transaction
    held.append(conn)  # "kept for later", never given back with putconn()
    return row


def sessions(url: str) -> list[str]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT state FROM pg_stat_activity WHERE datname = current_database() AND application_name = %s",
            [APP_NAME],
        ).fetchall()
    return [state for (state,) in rows]


def main() -> None:
    url = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    kwargs = {"application_name": APP_NAME, "options": GUARDS}
    with ConnectionPool(url, min_size=1, max_size=1, timeout=0.5, kwargs=kwargs) as pool:
        cached_lookup(pool, 1)
        print("right after the leak:", sessions(url), "- pool available:", pool.get_stats()["pool_available"])
        time.sleep(1.5)  # past idle_in_transaction_session_timeout, which ends only sessions in a transaction
        print("1.5 s later:         ", sessions(url))
        deadline = time.monotonic() + 10
        while sessions(url) and time.monotonic() < deadline:
            time.sleep(0.1)
        print("after 3 s idle:      ", sessions(url))
        try:
            held[0].execute("SELECT 1")
        except psycopg.OperationalError as e:
            print(f"the held connection: {type(e).__name__} ({e.sqlstate})")
        pool.putconn(held.pop())  # given back at last: the pool discards the dead connection
        with pool.connection() as fresh:
            print("a fresh one:", fresh.execute("SELECT 'ok'").fetchone())


if __name__ == "__main__":
    main()
