"""Writes go to the primary, reads to the replica; the replica refuses writes."""

import time

import psycopg
from pg_pair import replica_pair  # pg_pair.py, next to this file
from psycopg import errors


def write_users(primary: str, names: list[str]) -> str:
    """Insert on the primary; return the WAL position (LSN) just after the commit."""
    with psycopg.connect(primary) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS users (id serial PRIMARY KEY, name text NOT NULL)")
        for name in names:
            conn.execute("INSERT INTO users (name) VALUES (%s)", [name])
        conn.commit()
        return str(conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0])  # type: ignore[index]


def wait_for_replay(replica: str, lsn: str, timeout: float = 10.0) -> None:
    """Read-your-writes on a replica: wait until it has replayed the WAL up to lsn."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(replica, autocommit=True) as conn:
        while not conn.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [lsn]).fetchone()[0]:  # type: ignore[index]
            if time.monotonic() > deadline:
                raise TimeoutError(f"replica has not replayed {lsn} after {timeout}s")
            time.sleep(0.01)


def read_users(replica: str) -> list[tuple[int, str]]:
    with psycopg.connect(replica) as conn:
        return conn.execute("SELECT id, name FROM users ORDER BY id").fetchall()


def write_to_replica(replica: str) -> None:
    with psycopg.connect(replica) as conn:
        conn.execute("INSERT INTO users (name) VALUES (%s)", ["mallory"])


def main() -> None:
    with replica_pair() as (primary, replica):
        with psycopg.connect(primary) as conn:
            q = "SELECT application_name, state, sync_state FROM pg_stat_replication"
            print("replicas of the primary:", conn.execute(q).fetchall())
        lsn = write_users(primary, ["alice", "bob", "carol"])
        wait_for_replay(replica, lsn)
        print("read from replica:", read_users(replica))
        try:
            write_to_replica(replica)
        except errors.ReadOnlySqlTransaction as e:
            print(f"write to replica refused: SQLSTATE {e.sqlstate}: {e}")
        print("rows on primary:", len(read_users(primary)), "| on replica:", len(read_users(replica)))


if __name__ == "__main__":
    main()
