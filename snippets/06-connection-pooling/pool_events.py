"""Pool events (callbacks and the psycopg.pool logger) and pool statistics, from a real run."""

import logging
import os
import re
import sys

import psycopg
from psycopg_pool import ConnectionPool

SHOWN = ("pool_size", "pool_available", "requests_num", "connections_num", "returns_bad")
configured: list[int] = []  # backend pids; appended by the pool's worker threads


def on_connect(conn: psycopg.Connection) -> None:  # node-postgres' 'connect': once per new connection
    conn.execute("SET statement_timeout = '5s'")
    conn.commit()  # configure must leave the connection idle
    configured.append(conn.info.backend_pid)


def on_acquire(conn: psycopg.Connection) -> None:  # node-postgres' 'acquire': before handing it out
    ConnectionPool.check_connection(conn)  # a round trip: a dead connection is replaced, not served
    print("check: connection verified")


class Events(logging.Formatter):  # the pool's own log lines, without memory addresses
    def format(self, record: logging.LogRecord) -> str:
        return "log: " + re.sub(r" at 0x[0-9a-f]+", "", super().format(record))


def demo(url: str) -> dict[str, int]:
    with ConnectionPool(url, min_size=1, max_size=1, name="events", configure=on_connect, check=on_acquire) as pool:
        pool.wait()
        logging.getLogger("psycopg.pool").setLevel(logging.INFO)  # a line per request and return
        with pool.connection() as conn:
            print("query:", conn.execute("SELECT 1 + 1").fetchone())
        try:
            with pool.connection() as conn:
                conn.execute("SELECT pg_terminate_backend(pg_backend_pid())")  # the session dies
        except psycopg.OperationalError as e:
            print("query failed:", type(e).__name__)
        logging.getLogger("psycopg.pool").setLevel(logging.WARNING)
        pool.wait()  # until the replacement connection is in: the pool is back to min_size
        print("configure ran for", len(configured), "connections: the first one and its replacement")
        stats = pool.get_stats()  # counters (only those that moved) plus current measures
        return {k: stats.get(k, 0) for k in SHOWN}


def main() -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(Events())
    logging.getLogger("psycopg.pool").addHandler(handler)
    url = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    print("stats:", demo(url))


if __name__ == "__main__":
    main()
