"""Connect-per-request vs a connection pool: latency per request, split into getting a connection
and running the query, at 1 and 8 concurrent clients (threads).

    uv run python -m benchmarks q06_pooling
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager

import psycopg
from psycopg_pool import ConnectionPool

QUERY = "SELECT id, name, email FROM users WHERE id = %s"
REQUESTS = {("connect", 1): 400, ("connect", 8): 80, ("pool", 1): 3000, ("pool", 8): 600}  # per client
WARMUP = 20
ROUNDS = 3

Acquire = Callable[[], AbstractContextManager[psycopg.Connection]]


def setup(url: str) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL, email text NOT NULL)")
        conn.execute(
            "INSERT INTO users SELECT i, 'user ' || i, 'user' || i || '@example.com' FROM generate_series(1, 1000) i"
        )


def one_request(acquire: Acquire, user_id: int) -> tuple[float, float]:
    """(seconds to get a connection, seconds to run the query on it)."""
    t0 = time.perf_counter()
    with acquire() as conn:
        t1 = time.perf_counter()
        row = conn.execute(QUERY, [user_id]).fetchone()
        t2 = time.perf_counter()
    assert row is not None and row[0] == user_id
    return t1 - t0, t2 - t1


def measure(acquire: Acquire, kind: str, clients: int) -> dict[str, float]:
    for i in range(WARMUP):
        one_request(acquire, i + 1)
    samples: list[tuple[float, float, float]] = []  # (total incl. close/return, acquire, query)
    lock = threading.Lock()

    def client(n: int) -> None:
        mine = []
        for i in range(REQUESTS[kind, clients]):
            t = time.perf_counter()
            a, q = one_request(acquire, (n * 97 + i) % 1000 + 1)
            mine.append((time.perf_counter() - t, a, q))
        with lock:
            samples.extend(mine)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    totals = sorted(s[0] for s in samples)
    return {
        "mean_ms": 1000 * statistics.fmean(totals),
        "p95_ms": 1000 * totals[int(0.95 * (len(totals) - 1))],
        "acquire_ms": 1000 * statistics.fmean(s[1] for s in samples),
        "query_ms": 1000 * statistics.fmean(s[2] for s in samples),
        "rps": len(samples) / wall,
    }


def fresh_backend_queries(url: str, n: int = 150, runs: int = 10) -> tuple[list[float], float]:
    """Median ms of the 1st, 2nd, ... runs of the query on a brand-new connection, and of the same
    query on a long-used connection, timed alternately so that other load on the machine hits both.
    (psycopg prepares a statement on the server from its 5th run on a connection.)"""
    times: list[list[float]] = [[] for _ in range(runs)]
    warm_times: list[float] = []
    with psycopg.connect(url) as warm:
        for i in range(WARMUP):
            warm.execute(QUERY, [i + 1]).fetchone()
        for i in range(n):
            with psycopg.connect(url) as conn:
                for k in range(runs):
                    for c, out in ((conn, times[k]), (warm, warm_times)):
                        t = time.perf_counter()
                        c.execute(QUERY, [(i + k) % 1000 + 1]).fetchone()
                        out.append(1000 * (time.perf_counter() - t))
    return [statistics.median(t) for t in times], statistics.median(warm_times)


def run(env: dict[str, str]) -> dict[str, object]:
    url = env["DATABASE_URL"]
    setup(url)

    def connect() -> AbstractContextManager[psycopg.Connection]:
        return psycopg.connect(url)

    rounds: dict[tuple[str, int], list[dict[str, float]]] = {}
    for _ in range(ROUNDS):  # interleaved rounds, median of each: other load on the machine evens out
        for clients in (1, 8):
            rounds.setdefault(("connect per request", clients), []).append(measure(connect, "connect", clients))
            with ConnectionPool(url, min_size=8, max_size=8) as pool:  # never more than 8 sessions at once
                pool.wait()
                rounds.setdefault(("pool (size 8)", clients), []).append(measure(pool.connection, "pool", clients))
    results = {k: {m: statistics.median(r[m] for r in v) for m in v[0]} for k, v in rounds.items()}
    fresh, warm_q = fresh_backend_queries(url)
    first_q, second_q, tenth_q = fresh[0], fresh[1], fresh[9]

    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT current_setting('max_connections')::int, current_setting('superuser_reserved_connections')::int"
        ).fetchone()
    assert row is not None
    max_conn, reserved = row

    figures: dict[str, str] = {
        "max_connections": str(max_conn),
        "reserved": str(reserved),
        "usable": str(max_conn - reserved),
        "instances_20": str((max_conn - reserved) // 20),
        "fresh_first_query": f"{first_q:.3f} ms",
        "fresh_second_query": f"{second_q:.3f} ms",
        "fresh_tenth_query": f"{tenth_q:.3f} ms",
    }
    rows = []
    for (mode, clients), r in results.items():
        rows.append(
            [
                str(clients),
                mode,
                f"{r['mean_ms']:.2f}",
                f"{r['p95_ms']:.2f}",
                f"{r['acquire_ms']:.3f}",
                f"{r['query_ms']:.3f}",
                f"{r['rps']:.0f}",
            ]
        )
    for clients in (1, 8):
        c, p = results["connect per request", clients], results["pool (size 8)", clients]
        figures[f"connect_ms_{clients}"] = f"{c['mean_ms']:.2f} ms"
        figures[f"pooled_ms_{clients}"] = f"{p['mean_ms']:.2f} ms"
        figures[f"ratio_{clients}"] = f"{c['mean_ms'] / p['mean_ms']:.1f}×"
        figures[f"acquire_connect_{clients}"] = f"{c['acquire_ms']:.2f} ms"
        figures[f"acquire_pool_{clients}"] = f"{p['acquire_ms']:.3f} ms"
        figures[f"query_connect_{clients}"] = f"{c['query_ms']:.3f} ms"
        figures[f"query_pool_{clients}"] = f"{p['query_ms']:.3f} ms"
        figures[f"rps_connect_{clients}"] = f"{c['rps']:.0f}"
        figures[f"rps_pool_{clients}"] = f"{p['rps']:.0f}"
    figures["warm_query"] = f"{warm_q:.3f} ms"
    figures["first_vs_warm"] = f"{first_q / warm_q:.1f}×"
    figures["second_vs_warm"] = f"{second_q / warm_q:.1f}×"
    figures["tenth_vs_warm"] = f"{tenth_q / warm_q:.1f}×"
    columns = [
        "clients",
        "mode",
        "mean ms / request",
        "p95 ms",
        "get a connection, ms",
        "run the query, ms",
        "requests/s",
    ]
    return {"figures": figures, "tables": {"latency": {"columns": columns, "rows": rows}}}
