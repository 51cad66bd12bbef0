"""A stale read made deterministic by pausing WAL replay; lag; synchronous_commit on vs remote_apply."""

import threading
import time

import psycopg
from pg_pair import replica_pair  # pg_pair.py, next to this file

LAG = "SELECT application_name, pg_wal_lsn_diff(flush_lsn, replay_lsn) > 0 AS replay_behind FROM pg_stat_replication"
RECEIVED = "SELECT pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn()"
WAITING = "SELECT wait_event FROM pg_stat_activity WHERE query LIKE 'UPDATE prices%' AND state = 'active'"


def one(dsn: str, query: str) -> object:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return conn.execute(query).fetchone()


def set_replay(replica: str, paused: bool) -> None:
    with psycopg.connect(replica, autocommit=True) as conn:
        conn.execute("SELECT pg_wal_replay_pause()" if paused else "SELECT pg_wal_replay_resume()")
        while paused and conn.execute("SELECT pg_get_wal_replay_pause_state()").fetchone() != ("paused",):
            time.sleep(0.01)


def set_price(primary: str, price: int, level: str = "on") -> None:
    """UPDATE on the primary, committed with this synchronous_commit level."""
    with psycopg.connect(primary, autocommit=True) as conn:
        conn.execute("SELECT set_config('synchronous_commit', %s, false)", [level])
        conn.execute("UPDATE prices SET price = %s WHERE item = 'book'", [price])


def get_price(dsn: str) -> int:
    return int(one(dsn, "SELECT price FROM prices WHERE item = 'book'")[0])  # type: ignore[index]


def create_prices(primary: str) -> None:
    with psycopg.connect(primary) as conn:
        conn.execute("CREATE TABLE prices (item text PRIMARY KEY, price int NOT NULL)")
        conn.execute("INSERT INTO prices VALUES ('book', 10)")
    set_price(primary, 10, "remote_apply")  # returns once the replica has applied it


def waiting_for(primary: str, timeout: float = 10.0) -> str | None:
    """'SyncRep' once an UPDATE on the primary waits for the replica; None if none does within timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if one(primary, WAITING) == ("SyncRep",):
            return "SyncRep"
        time.sleep(0.01)
    return None


def main() -> None:
    with replica_pair() as (primary, replica):
        create_prices(primary)
        set_replay(replica, paused=True)
        set_price(primary, 11, "on")  # returns: the replica has flushed the WAL, replay is paused
        print("on:           primary", get_price(primary), "| replica", get_price(replica), "(stale)")
        print("  pg_stat_replication on the primary:", one(primary, LAG))
        print("  replica received more than it replayed:", one(replica, RECEIVED))
        commit = threading.Thread(target=set_price, args=(primary, 12, "remote_apply"))
        commit.start()
        print("remote_apply: commit waits on", waiting_for(primary),
              "| primary", get_price(primary), "| replica", get_price(replica))
        set_replay(replica, paused=False)
        commit.join(timeout=10)
        print("  replay resumed: commit returned", not commit.is_alive(),
              "| primary", get_price(primary), "| replica", get_price(replica))


if __name__ == "__main__":
    main()
