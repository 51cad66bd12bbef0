"""A connection leak: borrowed with getconn(), never returned. The third request times out."""

import os
import time

import psycopg
from psycopg_pool import ConnectionPool

APP_NAME = "q8-leak"


def bad_query(pool: ConnectionPool, user_id: int) -> tuple[int] | None:
    conn = pool.getconn()
    row = conn.execute("SELECT %s::int", [user_id]).fetchone()
    return row  # forgot pool.putconn(conn): the pool still counts this connection as in use


def server_sessions(url: str) -> int:
    """Sessions of this app in pg_stat_activity, read until two reads 0.1 s apart agree."""
    counts: list[int] = []
    with psycopg.connect(url, autocommit=True) as conn:
        while len(counts) < 2 or counts[-1] != counts[-2]:  # a closed session leaves once its backend exits
            time.sleep(0.1 if counts else 0)
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = %s",
                [APP_NAME],
            ).fetchone()
            counts.append(int(row[0]) if row else 0)
    return counts[-1]


def main() -> None:
    url = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    pool = ConnectionPool(url, min_size=2, max_size=2, timeout=1.0, kwargs={"application_name": APP_NAME}, open=True)
    pool.wait()
    for user_id in (1, 2, 3):
        if pool.get_stats()["pool_available"] == 0:
            print(f"request {user_id}: waiting up to {pool.timeout} s for a connection...", flush=True)
        row = bad_query(pool, user_id)
        stats = pool.get_stats()
        print(
            f"request {user_id}: {row}  pool: {stats['pool_available']} of {stats['pool_size']} available;"
            f" server sessions: {server_sessions(url)}"
        )


if __name__ == "__main__":
    main()
