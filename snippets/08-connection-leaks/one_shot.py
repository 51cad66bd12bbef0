"""One-shot pool queries (the common answer's pool.query) cannot hold a transaction across statements."""

import os
from decimal import Decimal
from typing import Any

from psycopg_pool import ConnectionPool

DEBIT = "UPDATE accounts SET balance = balance - %s WHERE id = %s RETURNING id"
CREDIT = "UPDATE accounts SET balance = balance + %s WHERE id = %s RETURNING id"


def pool_query(pool: ConnectionPool, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    """Borrow a connection, run one statement, commit, give it back."""
    with pool.connection() as conn:
        cur = conn.execute(sql, params)
        return cur.fetchall() if cur.description else []


def transfer_one_shot(pool: ConnectionPool, src: str, dst: str, amount: Decimal) -> None:
    pool_query(pool, DEBIT, [amount, src])
    if not pool_query(pool, CREDIT, [amount, dst]):
        raise LookupError(f"no account {dst!r}")  # too late: the debit is already committed


def transfer(pool: ConnectionPool, src: str, dst: str, amount: Decimal) -> None:
    with pool.connection() as conn, conn.transaction():  # one connection, one transaction
        conn.execute(DEBIT, [amount, src])
        if not conn.execute(CREDIT, [amount, dst]).fetchall():
            raise LookupError(f"no account {dst!r}")  # the exception rolls back the debit too


def balances(pool: ConnectionPool) -> str:
    return ", ".join(f"{k}={v}" for k, v in pool_query(pool, "SELECT id, balance FROM accounts ORDER BY id", []))


def main() -> None:
    url = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    with ConnectionPool(url, min_size=2, max_size=2) as pool:
        pool.wait()
        pool_query(pool, "CREATE TABLE IF NOT EXISTS accounts (id text PRIMARY KEY, balance numeric(12, 2))", [])
        pool_query(pool, "TRUNCATE accounts", [])
        pool_query(pool, "INSERT INTO accounts VALUES ('A', 500), ('B', 100)", [])
        pids = [pool_query(pool, "SELECT pg_backend_pid()", [])[0][0] for _ in range(4)]
        print("4 one-shot queries ran on", len(set(pids)), "different sessions")
        print("before:", balances(pool))
        for move in (transfer_one_shot, transfer):
            try:
                move(pool, "A", "C", Decimal("100.00"))  # 'C' is a typo for 'B'
            except LookupError as e:
                print(f"{move.__name__}: {e}; balances now {balances(pool)}")


if __name__ == "__main__":
    main()
