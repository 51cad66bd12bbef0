"""Proofs for docs/questions/02-acid-transactions.md: the bank under concurrent load, and the refusals."""

from __future__ import annotations

from decimal import Decimal

import psycopg
import pytest

from tests.questions import bank
from verify.helpers import load_snippet

transfer = load_snippet("02-acid-transactions/transfer.py")
lost_update = load_snippet("02-acid-transactions/lost_update.py")
anomalies = load_snippet("02-acid-transactions/isolation_anomalies.py")


def test_safe_transfers_conserve_money_under_load(env: dict[str, str]) -> None:
    run = bank.run_bank(env["DATABASE_URL"], bank.safe_transfer(transfer), transfer.InsufficientFunds)
    assert run.failed == []
    assert run.completed + run.refused == 8 * 1000
    assert run.total_after == run.total_before == Decimal("1000.00")
    assert run.negative_accounts == 0
    # it could have failed: small balances made the code turn overdrafts down, many times
    assert run.refused > 0
    assert run.completed > 0


def test_naive_read_modify_write_breaks_the_books_under_the_same_load(env: dict[str, str]) -> None:
    run = bank.run_bank(env["DATABASE_URL"], bank.naive_transfer(lost_update), ValueError)
    assert run.completed > 0
    assert run.total_after != run.total_before  # money created or destroyed by lost updates


def test_locking_in_argument_order_deadlocks_and_the_retry_absorbs_it(env: dict[str, str]) -> None:
    # deadlock detection waits deadlock_timeout (1 s) per deadlock, so this load is smaller
    run = bank.run_bank(
        env["DATABASE_URL"], bank.unordered_transfer(transfer), transfer.InsufficientFunds, transfers=25
    )
    assert run.retries["40P01"] > 0, "no deadlock happened: the test did not exercise the retry"
    assert run.failed == []
    assert run.completed + run.refused == 8 * 25
    assert run.total_after == run.total_before
    assert run.negative_accounts == 0


@pytest.mark.parametrize(
    ("src", "dst", "amount", "error"),
    [
        ("acct00", "acct01", Decimal("-5.00"), "InvalidAmount"),
        ("acct00", "acct01", Decimal("0"), "InvalidAmount"),
        ("acct00", "acct01", Decimal("NaN"), "InvalidAmount"),
        ("acct00", "acct01", Decimal(0.1), "InvalidAmount"),  # noqa: RUF032 (float money)
        ("acct00", "nobody", Decimal("1.00"), "UnknownAccount"),
        ("nobody", "acct00", Decimal("1.00"), "UnknownAccount"),
        ("acct00", "acct00", Decimal("1.00"), "TransferError"),
        ("acct00", "acct01", Decimal("100.01"), "InsufficientFunds"),
    ],
)
def test_bad_transfers_are_refused_and_change_nothing(
    env: dict[str, str], src: str, dst: str, amount: Decimal, error: str
) -> None:
    url = env["DATABASE_URL"]
    bank.open_bank(url, 2, Decimal("100.00"))
    with psycopg.connect(url, autocommit=True) as conn:
        before = conn.execute("SELECT id, balance FROM accounts ORDER BY id").fetchall()
        with pytest.raises(getattr(transfer, error)) as e:
            transfer.transfer_money(conn, src, dst, amount)
        assert type(e.value).__name__ == error
        assert conn.execute("SELECT id, balance FROM accounts ORDER BY id").fetchall() == before
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE  # nothing left open


def test_check_constraint_is_the_last_line_of_defence(env: dict[str, str]) -> None:
    url = env["DATABASE_URL"]
    bank.open_bank(url, 2, Decimal("100.00"))
    with psycopg.connect(url, autocommit=True) as conn, pytest.raises(psycopg.errors.CheckViolation):
        conn.execute("UPDATE accounts SET balance = balance - 100.01 WHERE id = 'acct00'")


def test_write_skew_detector_is_real(env: dict[str, str]) -> None:
    """The anomaly table on the page says 'possible' for write skew at REPEATABLE READ: the rule
    'someone stays on call' really ends up broken (0 on call), not just a flag in the code."""
    with (
        psycopg.connect(env["DATABASE_URL"], autocommit=True) as admin,
        psycopg.connect(env["DATABASE_URL"]) as t1,
        psycopg.connect(env["DATABASE_URL"]) as t2,
    ):
        admin.execute("DROP TABLE IF EXISTS doctors")
        admin.execute("CREATE TABLE doctors (id int PRIMARY KEY, name text, shifts int, on_call bool)")
        admin.execute("INSERT INTO doctors VALUES (1, 'alice', 5, true), (2, 'bob', 6, true)")
        t1.isolation_level = t2.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        assert anomalies.write_skew(t1, t2) is True
        assert admin.execute("SELECT count(*) FROM doctors WHERE on_call").fetchone() == (0,)
