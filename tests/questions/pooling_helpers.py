"""Shared by the Q6 (connection pooling) and Q8 (connection leaks) proofs."""

from __future__ import annotations

import time
from collections.abc import Callable

import psycopg


def sessions(url: str, app_name: str, state: str | None = None) -> int:
    """Sessions the server sees in this database for an application_name (optionally in one state)."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND application_name = %s AND (%s::text IS NULL OR state = %s::text)",
            [app_name, state, state],
        ).fetchone()
    assert row is not None
    return int(row[0])


def wait_for(check: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    """Poll until check() is true; fail the test (not hang) after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout}s")
        time.sleep(0.05)
