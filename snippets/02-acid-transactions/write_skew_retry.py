"""SERIALIZABLE turns write skew into a serialization failure; the application retries it."""

import os
from collections.abc import Callable

import psycopg
from psycopg import Connection, IsolationLevel
from psycopg.rows import TupleRow

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def go_off_call(conn: Connection[TupleRow], doctor: str, meanwhile: Callable[[], None] = lambda: None) -> str:
    """One transaction: leave the on-call rota if someone else stays on call."""
    row = conn.execute("SELECT count(*) FROM rota WHERE on_call").fetchone()
    assert row is not None
    meanwhile()  # the demo lets another doctor's transaction commit right here
    if row[0] < 2:
        return f"{doctor} must stay: nobody else is on call"
    conn.execute("UPDATE rota SET on_call = false WHERE doctor = %s", [doctor])
    return f"{doctor} is off call"


def serializable(conn: Connection[TupleRow], work: Callable[[], str], attempts: int = 5) -> str:
    """Run work() in a SERIALIZABLE transaction, retrying serialization failures (SQLSTATE 40001)."""
    conn.isolation_level = IsolationLevel.SERIALIZABLE
    for attempt in range(1, attempts + 1):
        try:
            with conn.transaction():
                return work()
        except psycopg.errors.SerializationFailure as e:
            print(f"  attempt {attempt}: {e.sqlstate} {type(e).__name__}, retrying")
    raise RuntimeError(f"gave up after {attempts} attempts")


def main() -> None:
    with psycopg.connect(DATABASE_URL, autocommit=True) as alice, psycopg.connect(DATABASE_URL, autocommit=True) as bob:
        alice.execute("DROP TABLE IF EXISTS rota")
        alice.execute("CREATE TABLE rota (doctor text PRIMARY KEY, on_call bool NOT NULL)")
        alice.execute("INSERT INTO rota VALUES ('alice', true), ('bob', true)")

        alice.isolation_level = bob.isolation_level = IsolationLevel.SERIALIZABLE
        alice_went = False

        def alice_goes_first() -> None:  # alice commits between bob's check and bob's write
            nonlocal alice_went
            if not alice_went:
                alice_went = True
                print(serializable(alice, lambda: go_off_call(alice, "alice")))

        print(serializable(bob, lambda: go_off_call(bob, "bob", meanwhile=alice_goes_first)))
        print("on call:", [r[0] for r in alice.execute("SELECT doctor FROM rota WHERE on_call ORDER BY doctor")])


if __name__ == "__main__":
    main()
