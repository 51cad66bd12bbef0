"""A Jepsen-style bank: concurrent workers make random transfers between a few small accounts, then
the books are checked. Used by tests/questions/test_02_acid_transactions.py and benchmarks/q02_bank.py.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from types import ModuleType

import psycopg
from psycopg import Connection
from psycopg.rows import TupleRow

Transfer = Callable[[Connection[TupleRow], str, str, Decimal, Callable[[psycopg.Error], None]], None]


@dataclass
class BankRun:
    total_before: Decimal
    total_after: Decimal
    negative_accounts: int
    completed: int = 0
    refused: int = 0  # InsufficientFunds: overdrafts the code turned down
    retries: Counter[str] = field(default_factory=Counter)  # SQLSTATE -> retries
    failed: list[str] = field(default_factory=list)  # anything else: must stay empty
    seconds: float = 0.0


def open_bank(conninfo: str, accounts: int, balance: Decimal) -> list[str]:
    ids = [f"acct{i:02d}" for i in range(accounts)]
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS accounts")
        conn.execute("CREATE TABLE accounts (id text PRIMARY KEY, balance numeric(12,2) NOT NULL CHECK (balance >= 0))")
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO accounts VALUES (%s, %s)", [(i, balance) for i in ids])
    return ids


def books(conninfo: str) -> tuple[Decimal, int]:
    with psycopg.connect(conninfo) as conn:
        row = conn.execute("SELECT sum(balance), count(*) FILTER (WHERE balance < 0) FROM accounts").fetchone()
    assert row is not None
    return Decimal(row[0]), int(row[1])


def run_bank(
    conninfo: str,
    transfer: Transfer,
    refusal: type[Exception],
    *,
    workers: int = 8,
    transfers: int = 1000,
    accounts: int = 10,
    balance: Decimal = Decimal("100.00"),
    seed: int = 2,
) -> BankRun:
    ids = open_bank(conninfo, accounts, balance)
    before, _ = books(conninfo)
    run = BankRun(before, before, 0)
    lock = threading.Lock()
    start = threading.Barrier(workers)

    def worker(n: int) -> None:
        rng = random.Random(seed * 1000 + n)

        def on_retry(e: psycopg.Error) -> None:
            with lock:
                run.retries[e.sqlstate or "?"] += 1

        with psycopg.connect(conninfo, autocommit=True) as conn:
            start.wait()
            for _ in range(transfers):
                src, dst = rng.sample(ids, 2)
                amount = Decimal(rng.randint(1, 6000)) / 100
                try:
                    transfer(conn, src, dst, amount, on_retry)
                    outcome = "completed"
                except refusal:
                    outcome = "refused"
                except psycopg.Error as e:
                    with lock:
                        run.failed.append(f"{type(e).__name__}: {e}")
                    continue
                with lock:
                    setattr(run, outcome, getattr(run, outcome) + 1)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    run.seconds = time.perf_counter() - t0
    run.total_after, run.negative_accounts = books(conninfo)
    return run


def safe_transfer(snippet: ModuleType) -> Transfer:
    """The page's transfer_money."""

    def transfer(
        conn: Connection[TupleRow], src: str, dst: str, amount: Decimal, on_retry: Callable[[psycopg.Error], None]
    ) -> None:
        snippet.transfer_money(conn, src, dst, amount, on_retry=on_retry)

    return transfer


def naive_transfer(snippet: ModuleType) -> Transfer:
    """The page's lost_update.py pattern: read, compute in Python, write absolute values."""

    def transfer(
        conn: Connection[TupleRow], src: str, dst: str, amount: Decimal, on_retry: Callable[[psycopg.Error], None]
    ) -> None:
        conn.autocommit = False
        try:
            balances = snippet.read_balances(conn, src, dst)
            if balances[src] < amount:
                raise ValueError("insufficient funds")
            snippet.write_balances(conn, {src: balances[src] - amount, dst: balances[dst] + amount})
        finally:
            conn.rollback()  # no-op after write_balances' commit; clears an error or a refusal

    return transfer


def unordered_transfer(snippet: ModuleType) -> Transfer:
    """transfer_money's checks and retries, but rows locked in argument order (src first)."""

    def once(conn: Connection[TupleRow], src: str, dst: str, amount: Decimal) -> None:
        with conn.transaction():
            (have,) = conn.execute("SELECT balance FROM accounts WHERE id = %s FOR UPDATE", [src]).fetchone() or (None,)
            time.sleep(0.001)  # a little work between the two locks, as real code has
            conn.execute("SELECT balance FROM accounts WHERE id = %s FOR UPDATE", [dst])
            if have < amount:
                raise snippet.InsufficientFunds(f"{src} has {have}")
            conn.execute("UPDATE accounts SET balance = balance - %s WHERE id = %s", [amount, src])
            conn.execute("UPDATE accounts SET balance = balance + %s WHERE id = %s", [amount, dst])

    def transfer(
        conn: Connection[TupleRow], src: str, dst: str, amount: Decimal, on_retry: Callable[[psycopg.Error], None]
    ) -> None:
        snippet.with_retries(lambda: once(conn, src, dst, amount), attempts=10, on_retry=on_retry)

    return transfer
