"""Q3: background jobs with the page's Dramatiq code and a real worker process (1 process, 2 threads).

* API call: create_user() -- INSERT + COMMIT + enqueue with a publisher confirm -- as the caller sees it.
* Job round trip: from just before create_user() is called until the worker's emails_sent row was
  written (PostgreSQL clock_timestamp(); same machine, same clock), one job at a time on an idle worker.
* Enqueue rate: 500 send() calls with publisher confirms, one after the other.
* Worker throughput: those 500 jobs drained by a fresh worker (first to last email, PostgreSQL clock).
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import psycopg

from verify.helpers import environment, eventually, load_snippet

SEQUENTIAL = 100
BURST = 500


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100)[int(p) - 1] if p < 100 else max(values)


def sent(conn: psycopg.Connection[Any], uid: int) -> float | None:
    row = conn.execute("SELECT extract(epoch FROM sent_at) FROM emails_sent WHERE user_id = %s", [uid]).fetchone()
    return None if row is None else float(row[0])


def run(env: dict[str, str]) -> dict[str, Any]:
    with environment(env):  # the snippets (and the worker they start) read os.environ
        return measure(env)


def one(conn: psycopg.Connection[Any], query: str, *params: Any) -> Any:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0]


def wait_for(conn: psycopg.Connection[Any], uid: int) -> float:
    """The moment (epoch seconds) the worker recorded uid's email, once it has."""
    eventually(lambda: sent(conn, uid) is not None, f"the email of user {uid}")
    at = sent(conn, uid)
    assert at is not None
    return at


def measure(env: dict[str, str]) -> dict[str, Any]:
    jobs = load_snippet("03-message-queues/jobs.py")
    demo = load_snippet("03-message-queues/jobs_demo.py")
    with psycopg.connect(env["DATABASE_URL"], autocommit=True, options=jobs.OPTIONS) as conn:
        demo.fresh_tables(conn)
        worker = demo.start_worker()
        try:
            for i in range(5):  # warm-up: worker started, connections open
                uid = jobs.create_user(conn, f"warm{i}@example.com")
                wait_for(conn, uid)
            api_ms, trip_ms = [], []
            for i in range(SEQUENTIAL):
                t0 = time.time()
                uid = jobs.create_user(conn, f"user{i}@example.com")
                api_ms.append((time.time() - t0) * 1000)
                trip_ms.append((wait_for(conn, uid) - t0) * 1000)
            worker.terminate()  # the burst waits in the queue; a fresh worker then drains it
            worker.wait(timeout=30)
            with conn.transaction():
                ids = [
                    one(conn, "INSERT INTO users (email) VALUES (%s) RETURNING id", f"burst{i}@example.com")
                    for i in range(BURST)
                ]
            t0 = time.perf_counter()
            for uid in ids:
                jobs.send_welcome_email.send(uid, f"burst{uid}@example.com")
            enqueue_s = time.perf_counter() - t0
            worker = demo.start_worker()

            def drained() -> bool:
                return bool(one(conn, "SELECT count(*) FROM emails_sent WHERE user_id = ANY(%s)", ids) == BURST)

            eventually(drained, "burst drained", 120)
            burst_s = one(
                conn,
                "SELECT extract(epoch FROM max(sent_at) - min(sent_at)) FROM emails_sent WHERE user_id = ANY(%s)",
                ids,
            )
        finally:
            worker.terminate()
            worker.wait(timeout=30)
            jobs.dramatiq.get_broker().close()
    f = {
        "api_p50": f"{statistics.median(api_ms):.1f} ms",
        "api_p95": f"{pct(api_ms, 95):.1f} ms",
        "trip_p50": f"{statistics.median(trip_ms):.1f} ms",
        "trip_p95": f"{pct(trip_ms, 95):.1f} ms",
        "trip_max": f"{max(trip_ms):.1f} ms",
        "burst": f"{BURST}",
        "burst_enqueue_rate": f"{BURST / enqueue_s:,.0f}",
        "burst_jobs_per_s": f"{(BURST - 1) / float(burst_s):,.0f}",
        "sequential": f"{SEQUENTIAL}",
    }
    rows = [
        ["API call: INSERT user + COMMIT + enqueue (confirmed)", f["api_p50"], f["api_p95"]],
        ["job round trip: API call until the worker recorded the email", f["trip_p50"], f["trip_p95"]],
    ]
    return {"figures": f, "tables": {"latency": {"columns": ["what", "p50", "p95"], "rows": rows}}}
