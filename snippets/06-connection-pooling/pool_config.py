"""Configure a psycopg_pool ConnectionPool and count its sessions in pg_stat_activity."""

import os
import time

import psycopg
from psycopg_pool import ConnectionPool

APP_NAME = "q6-config"


def make_pool(url: str) -> ConnectionPool:
    return ConnectionPool(
        url,
        min_size=2,  # opened at start and kept open: a floor (Go has no such knob)
        max_size=5,  # hard ceiling on open connections (Go: SetMaxOpenConns)
        max_lifetime=3600,  # replaced after ~1 h, minus up to 5 % jitter (Go: SetConnMaxLifetime)
        max_idle=30,  # every 30 s one connection unused all along, above min_size, is closed
        timeout=5,  # getconn()/connection() wait at most 5 s, then raise PoolTimeout
        kwargs={"application_name": APP_NAME},
        open=False,  # open explicitly (at app startup), not as a side effect of construction
    )


def sessions(url: str) -> int:
    """How many sessions the server sees for this application."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = %s",
            [APP_NAME],
        ).fetchone()
    return int(row[0]) if row else 0


def main() -> None:
    url = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    pool = make_pool(url)
    print("before open:", sessions(url), "sessions")
    pool.open(wait=True)  # wait=True: return once min_size connections are ready
    print("after open: ", sessions(url), "sessions")
    with pool.connection(), pool.connection(), pool.connection():
        print("3 borrowed: ", sessions(url), "sessions (grown on demand, up to max_size)")
    stats = pool.get_stats()
    print("pool stats: ", {k: stats[k] for k in ("pool_min", "pool_max", "pool_size", "pool_available")})
    pool.close()
    for _ in range(100):  # a closed session leaves pg_stat_activity when its backend has exited
        if sessions(url) == 0:
            break
        time.sleep(0.05)
    print("after close:", sessions(url), "sessions")


if __name__ == "__main__":
    main()
