"""transfer_money: Decimal money, clear refusals, rows locked in a fixed order, bounded retries."""

import os
import random
import time
from collections.abc import Callable
from decimal import Decimal

import psycopg
from psycopg import Connection
from psycopg.rows import TupleRow

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
RETRYABLE = (psycopg.errors.SerializationFailure, psycopg.errors.DeadlockDetected)  # 40001, 40P01


# --8<-- [start:transfererror]
class TransferError(Exception): ...


class InvalidAmount(TransferError): ...


class UnknownAccount(TransferError): ...


class InsufficientFunds(TransferError): ...


def with_retries(
    work: Callable[[], None], attempts: int = 5, on_retry: Callable[[psycopg.Error], None] = lambda e: None
) -> None:
    """Run one transaction; retry it (with jittered backoff) when PostgreSQL asks us to."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except RETRYABLE as e:
            on_retry(e)
            if attempt == attempts:
                raise
            time.sleep(random.uniform(0, 0.002 * 2**attempt))


def transfer_once(conn: Connection[TupleRow], src: str, dst: str, amount: Decimal) -> None:
    with conn.transaction():
        # Lock both rows in id order: two opposite transfers cannot wait for each other (no deadlock).
        rows = conn.execute(
            "SELECT id, balance FROM accounts WHERE id = ANY(%s) ORDER BY id FOR UPDATE", [[src, dst]]
        ).fetchall()
        balances: dict[str, Decimal] = dict(rows)
        if missing := sorted({src, dst} - balances.keys()):
            raise UnknownAccount(f"no such account: {', '.join(missing)}")
        if balances[src] < amount:
            raise InsufficientFunds(f"{src} has {balances[src]}, cannot send {amount}")
        for account, delta in ((src, -amount), (dst, amount)):
            cur = conn.execute("UPDATE accounts SET balance = balance + %s WHERE id = %s", [delta, account])
            if cur.rowcount != 1:  # raising inside the block rolls the whole transfer back
                raise TransferError(f"updated {cur.rowcount} rows for {account}, expected 1")


def transfer_money(
    conn: Connection[TupleRow],
    src: str,
    dst: str,
    amount: Decimal,
    on_retry: Callable[[psycopg.Error], None] = lambda e: None,
) -> None:
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0:
        raise InvalidAmount(f"amount must be a positive Decimal, got {amount}")
    if amount != amount.quantize(Decimal("0.01")):
        raise InvalidAmount(f"amount must have at most 2 decimal places, got {amount}")
    if src == dst:
        raise TransferError("cannot transfer to the same account")
    with_retries(lambda: transfer_once(conn, src, dst, amount), on_retry=on_retry)


# --8<-- [end:transfererror]


# --8<-- [start:main]
def main() -> None:
    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS accounts")
        conn.execute("CREATE TABLE accounts (id text PRIMARY KEY, balance numeric(12,2) NOT NULL CHECK (balance >= 0))")
        conn.execute("INSERT INTO accounts VALUES ('alice', 100.00), ('bob', 50.00)")
        for src, dst, amount in [
            ("alice", "bob", Decimal("30.00")),
            ("alice", "bob", Decimal("-5")),
            ("alice", "bob", Decimal(0.1)),  # noqa: RUF032 (the float trap)
            ("alice", "zed", Decimal("1.00")),
            ("alice", "bob", Decimal("1000.00")),
            ("bob", "bob", Decimal("1.00")),
        ]:
            try:
                transfer_money(conn, src, dst, amount)
                print(f"ok: {src} -> {dst} {amount}")
            except TransferError as e:
                print(f"refused: {type(e).__name__}: {e}")
        rows = conn.execute("SELECT id, balance FROM accounts ORDER BY id").fetchall()
        print("balances:", ", ".join(f"{i} {b}" for i, b in rows), f"(total {sum(b for _, b in rows)})")


if __name__ == "__main__":
    main()
# --8<-- [end:main]
