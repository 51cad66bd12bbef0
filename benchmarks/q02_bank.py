"""Q2: the bank under concurrent load — what each transfer implementation does to the books."""

from __future__ import annotations

from decimal import Decimal

from tests.questions import bank
from verify.helpers import load_snippet

WORKERS, TRANSFERS, UNORDERED_TRANSFERS = 8, 1000, 25


def run(env: dict[str, str]) -> dict[str, object]:
    transfer = load_snippet("02-acid-transactions/transfer.py")
    lost_update = load_snippet("02-acid-transactions/lost_update.py")
    url = env["DATABASE_URL"]
    runs = {
        "transfer_money (rows locked in id order)": (
            bank.run_bank(url, bank.safe_transfer(transfer), transfer.InsufficientFunds),
            TRANSFERS,
        ),
        "naive read-modify-write": (bank.run_bank(url, bank.naive_transfer(lost_update), ValueError), TRANSFERS),
        "locks taken in argument order": (
            bank.run_bank(
                url, bank.unordered_transfer(transfer), transfer.InsufficientFunds, transfers=UNORDERED_TRANSFERS
            ),
            UNORDERED_TRANSFERS,
        ),
    }
    rows = []
    for name, (r, n) in runs.items():
        drift = r.total_after - r.total_before
        rows.append(
            [
                name,
                f"{WORKERS} × {n:,}",
                f"{r.completed:,}",
                f"{r.refused:,}",
                f"{r.retries['40P01']:,}",
                f"{r.total_before} → {r.total_after}",
                "conserved" if drift == 0 else f"{drift:+}",
                f"{(r.completed + r.refused) / r.seconds:,.0f}",
            ]
        )
    safe, naive, unordered = (r for r, _ in runs.values())
    return {
        "figures": {
            "safe_refused": f"{safe.refused:,}",
            "safe_tps": f"{(safe.completed + safe.refused) / safe.seconds:,.0f}",
            "naive_drift": f"{naive.total_after - naive.total_before:+}",
            "unordered_deadlocks": f"{unordered.retries['40P01']:,}",
            "start_balance": str(Decimal("100.00")),
        },
        "tables": {
            "bank": {
                "columns": [
                    "implementation",
                    "workers × transfers",
                    "completed",
                    "overdrafts refused",
                    "deadlocks retried (40P01)",
                    "total before → after",
                    "money",
                    "transfers/s",
                ],
                "rows": rows,
            }
        },
    }
