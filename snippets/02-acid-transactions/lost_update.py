"""The naive read-modify-write transfer: two concurrent transfers, and money vanishes."""

import os
from decimal import Decimal

import psycopg
from psycopg import Connection, IsolationLevel
from psycopg.rows import TupleRow

# --8<-- [start:read_balances]
DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def read_balances(conn: Connection[TupleRow], *ids: str) -> dict[str, Decimal]:
    return dict(conn.execute("SELECT id, balance FROM accounts WHERE id = ANY(%s)", [list(ids)]).fetchall())


def write_balances(conn: Connection[TupleRow], balances: dict[str, Decimal]) -> None:
    for account, balance in sorted(balances.items()):  # absolute values from an earlier read
        conn.execute("UPDATE accounts SET balance = %s WHERE id = %s", [balance, account])
    conn.commit()


def total(conn: Connection[TupleRow]) -> Decimal:
    row = conn.execute("SELECT sum(balance) FROM accounts").fetchone()
    assert row is not None
    return Decimal(row[0])


def demo(level: IsolationLevel) -> None:
    with psycopg.connect(DATABASE_URL) as t1, psycopg.connect(DATABASE_URL) as t2:
        t1.execute("DROP TABLE IF EXISTS accounts")
        t1.execute("CREATE TABLE accounts (id text PRIMARY KEY, balance numeric(12,2) NOT NULL CHECK (balance >= 0))")
        t1.execute("INSERT INTO accounts VALUES ('alice', 100.00), ('bob', 50.00), ('carol', 100.00)")
        t1.commit()
        before = total(t1)
        t1.commit()
        t1.isolation_level = t2.isolation_level = level
        print(f"{level.name.replace('_', ' ')}:")
        # t1: alice -> bob 30.00 and t2: carol -> bob 20.00, both read bob = 50.00 first
        a = read_balances(t1, "alice", "bob")
        c = read_balances(t2, "carol", "bob")
        write_balances(t1, {"alice": a["alice"] - 30, "bob": a["bob"] + 30})
        try:
            write_balances(t2, {"carol": c["carol"] - 20, "bob": c["bob"] + 20})  # overwrites t1's bob
        except psycopg.errors.SerializationFailure as e:
            t2.rollback()
            print(f"  t2 refused: {e.sqlstate} {e.diag.message_primary}; the application retries it")
        after = total(t1)
        print(f"  total before {before}, after {after}: {before - after} vanished")
        print("  bob has", read_balances(t1, "bob")["bob"])
        t1.commit()


def main() -> None:
    demo(IsolationLevel.READ_COMMITTED)  # PostgreSQL's default level
    demo(IsolationLevel.REPEATABLE_READ)


if __name__ == "__main__":
    main()
# --8<-- [end:read_balances]
