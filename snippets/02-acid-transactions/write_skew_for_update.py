"""SELECT ... FOR UPDATE on the rows a rule reads stops write skew below SERIALIZABLE too."""

import os
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import psycopg
from psycopg import Connection, IsolationLevel
from psycopg.rows import TupleRow

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


# --8<-- [start:rule]
def go_off_call(conn: Connection[TupleRow], doctor: str, meanwhile: Callable[[], None] = lambda: None) -> str:
    """Leave the rota if someone else stays on call: lock the rows the rule reads, then decide."""
    retries = ""
    for attempt in range(1, 4):
        try:
            with conn.transaction():
                rows = conn.execute("SELECT doctor FROM rota WHERE on_call ORDER BY doctor FOR UPDATE").fetchall()
                if len(rows) < 2:
                    return f"{retries}{doctor} must stay: on call {[r[0] for r in rows]}"
                conn.execute("UPDATE rota SET on_call = false WHERE doctor = %s", [doctor])
                meanwhile()  # the demo starts bob's transaction here, before alice commits
                return f"{retries}{doctor} is off call"
        except psycopg.errors.SerializationFailure as e:
            retries += f"attempt {attempt}: {e.sqlstate} {type(e).__name__}, retried; "
    raise RuntimeError("gave up after 3 attempts")


def wait_until_blocked(pid: int) -> None:
    with psycopg.connect(DATABASE_URL, autocommit=True) as monitor:
        while monitor.execute("SELECT pg_blocking_pids(%s) = '{}'", [pid]).fetchone() == (True,):
            time.sleep(0.01)


# --8<-- [end:rule]


# --8<-- [start:race]
def race(level: IsolationLevel) -> None:
    """Alice and bob both try to leave; bob's transaction starts before alice's commits."""
    with (
        psycopg.connect(DATABASE_URL, autocommit=True) as alice,
        psycopg.connect(DATABASE_URL, autocommit=True) as bob,
        ThreadPoolExecutor(max_workers=1) as other,
    ):
        alice.execute("DROP TABLE IF EXISTS rota")
        alice.execute("CREATE TABLE rota (doctor text PRIMARY KEY, on_call bool NOT NULL)")
        alice.execute("INSERT INTO rota VALUES ('alice', true), ('bob', true)")
        alice.isolation_level = bob.isolation_level = level
        bobs: list[Future[str]] = []

        def bob_tries_now() -> None:
            bobs.append(other.submit(go_off_call, bob, "bob"))
            wait_until_blocked(bob.info.backend_pid)  # bob's FOR UPDATE waits for alice's locks

        print(level.name.replace("_", " "))
        print("  alice:", go_off_call(alice, "alice", meanwhile=bob_tries_now))
        print("  bob:  ", bobs[0].result(), "(bob waited for alice's row locks)")
        print("  on call:", [r[0] for r in alice.execute("SELECT doctor FROM rota WHERE on_call ORDER BY 1")])


def main() -> None:
    race(IsolationLevel.READ_COMMITTED)
    race(IsolationLevel.REPEATABLE_READ)


if __name__ == "__main__":
    main()
# --8<-- [end:race]
