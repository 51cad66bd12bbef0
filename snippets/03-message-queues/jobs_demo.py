"""Enqueue two sign-up emails with no worker running, then start a real Dramatiq worker process."""

import subprocess
import sys
import time
from pathlib import Path

import jobs  # jobs.py, next to this file
import psycopg
from psycopg import sql


def start_worker() -> subprocess.Popen[bytes]:
    """`dramatiq jobs --processes 1 --threads 2`, as you would run it in production."""
    cmd = [sys.executable, "-m", "dramatiq", "--path", str(Path(__file__).parent)]
    cmd += ["--processes", "1", "--threads", "2", "jobs"]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_for_emails(conn: psycopg.Connection, count: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while (row := conn.execute("SELECT count(*) FROM emails_sent").fetchone()) and row[0] < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {row[0]} of {count} emails sent")
        time.sleep(0.05)


def fresh_tables(conn: psycopg.Connection) -> None:
    """The tables in schema PREFIX, dropped with what an earlier run left and made afresh."""
    conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {0} CASCADE; CREATE SCHEMA {0}").format(sql.Identifier(jobs.PREFIX)))
    conn.execute(jobs.TABLES)


def main() -> None:
    with psycopg.connect(jobs.DATABASE_URL, autocommit=True, options=jobs.OPTIONS) as conn:
        fresh_tables(conn)
        ids = [jobs.create_user(conn, e) for e in ("ada@example.com", "bob+flaky@example.com")]
        ready, _, _ = jobs.dramatiq.get_broker().get_queue_message_counts(jobs.QUEUE)  # type: ignore[attr-defined]
        print(f"API created users {ids} and returned; jobs waiting, no worker yet: {ready}")
        worker = start_worker()
        try:
            wait_for_emails(conn, len(ids))
        finally:
            worker.terminate()  # SIGTERM: Dramatiq finishes the jobs in hand, then exits
            worker.wait(timeout=30)
        rows = conn.execute(
            "SELECT u.email, a.attempt, a.ok, a.at - lag(a.at) OVER (PARTITION BY a.user_id ORDER BY a.attempt)"
            " FROM email_attempts a JOIN users u ON u.id = a.user_id ORDER BY u.id, a.attempt"
        ).fetchall()
        for email, attempt, ok, gap in rows:
            floor_ms = 200 * 2 ** (attempt - 2)  # the least backoff before this retry
            waited = "" if gap is None else f", backoff >= {floor_ms} ms: {gap.total_seconds() * 1000 >= floor_ms}"
            print(f"{email}: attempt {attempt} {'sent' if ok else 'failed'}{waited}")
        sent = conn.execute("SELECT count(*) FROM emails_sent").fetchone()
        print("emails sent:", sent[0] if sent else 0)


if __name__ == "__main__":
    main()
