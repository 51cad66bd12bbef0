"""A leaked connection inside a transaction: seen in pg_stat_activity, then killed by the server's guard."""

import os
import time
from collections.abc import Callable

import psycopg
from psycopg_pool import ConnectionPool

APP_NAME = "q8-idle-tx"
GUARD = "-c idle_in_transaction_session_timeout=1000"  # ms; usually ALTER ROLE app SET ... = '60s'


def idle_in_transaction(url: str) -> list[tuple[str, str, str]]:
    """Sessions that opened a transaction and then went quiet: what an alert should look for."""
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(
            "SELECT application_name, state, query FROM pg_stat_activity"
            " WHERE datname = current_database() AND state = 'idle in transaction' ORDER BY pid",
        ).fetchall()


def wait_for(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check() and time.monotonic() < deadline:
        time.sleep(0.05)


def main() -> None:
    url = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS counters (id int PRIMARY KEY, n int NOT NULL)")
        conn.execute("INSERT INTO counters VALUES (1, 0) ON CONFLICT (id) DO UPDATE SET n = 0")
    with ConnectionPool(url, min_size=1, max_size=1, kwargs={"application_name": APP_NAME, "options": GUARD}) as pool:
        conn = pool.getconn()
        conn.execute("UPDATE counters SET n = n + 1 WHERE id = %s", [1])  # opens a transaction...
        print("right after the UPDATE:", idle_in_transaction(url))  # ...that nobody commits
        wait_for(lambda: not idle_in_transaction(url))
        print("after the 1 s guard:   ", idle_in_transaction(url))
        try:
            conn.execute("COMMIT")
        except psycopg.errors.IdleInTransactionSessionTimeout as e:
            print(f"the leaked connection: {type(e).__name__} ({e.sqlstate}): {e}")
        pool.putconn(conn)  # a dead connection: the pool discards it and opens a new one
        with pool.connection() as fresh:
            print("counter:", fresh.execute("SELECT n FROM counters WHERE id = %s", [1]).fetchone())
        print("returns_bad:", pool.get_stats().get("returns_bad", 0))


if __name__ == "__main__":
    main()
