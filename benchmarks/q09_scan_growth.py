"""Q9: one lookup by a unique email, sequential scan vs B-tree index scan, at 10^4, 10^5 and 10^6 rows.

For each size: build the table, index it, VACUUM ANALYZE. One connection has index scans switched off
for its session (its plan is checked to be a sequential scan), the other plans freely (checked to be
an index scan). The two take turns on the same keys, so a burst of load on the machine hits both
alike, and so does a query that reads no table (the round-trip floor). Times are client-side wall
times, medians over different keys.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import psycopg
from psycopg import sql

from verify.helpers import load_snippet

SIZES = (10_000, 100_000, 1_000_000)
ROUNDS = {10_000: 400, 100_000: 200, 1_000_000: 41}  # about 5 s of sequential scans per size
Conn = psycopg.Connection[Any]
EMPTY = sql.SQL("SELECT 1 WHERE %s::text IS NOT NULL")  # the floor: a round trip that reads no table


def plan_nodes(conn: Conn, query: sql.Composed, email: str) -> list[str]:
    row = conn.execute(sql.SQL("EXPLAIN (FORMAT JSON) {}").format(query), [email]).fetchone()
    assert row is not None
    nodes = load_snippet("09-indexing/explain.py").nodes  # the page's own plan walker
    return [("Parallel " if n.get("Parallel Aware") else "") + n["Node Type"] for n in nodes(row[0][0]["Plan"])]


def take_turns(runs: list[tuple[Conn, sql.SQL | sql.Composed, list[str]]], rounds: int) -> list[float]:
    """Median ms of each (connection, query, keys); they alternate query by query, every key once untimed."""
    for conn, query, keys in runs:
        for key in keys:
            conn.execute(query, [key]).fetchall()
    times: list[list[float]] = [[] for _ in runs]
    for i in range(rounds):
        for (conn, query, keys), spent in zip(runs, times, strict=True):
            start = time.perf_counter()
            rows = conn.execute(query, [keys[i % len(keys)]]).fetchall()
            spent.append(time.perf_counter() - start)
            assert len(rows) == 1
    return [statistics.median(t) * 1000 for t in times]


def size(conn: Conn, relation: str) -> str:
    row = conn.execute("SELECT pg_size_pretty(pg_relation_size(%s::regclass))", [relation]).fetchone()
    assert row is not None
    return str(row[0])


def run(env: dict[str, str]) -> dict[str, Any]:
    rows: list[list[str]] = []
    measured: dict[int, tuple[float, float, float]] = {}
    url = env["DATABASE_URL"]
    with psycopg.connect(url, autocommit=True) as free, psycopg.connect(url, autocommit=True) as seq:
        for setting in ("enable_indexscan", "enable_indexonlyscan", "enable_bitmapscan"):
            seq.execute(sql.SQL("SET {} = off").format(sql.Identifier(setting)))
        for n in SIZES:
            table, index = sql.Identifier(f"growth_{n}"), f"growth_{n}_email_idx"
            free.execute(sql.SQL("CREATE TABLE {} (id bigint, email text, payload text)").format(table))
            free.execute(
                sql.SQL(
                    "INSERT INTO {} SELECT i, 'user' || i || '@example.com', md5(i::text)"
                    " FROM generate_series(1, %s) AS i"
                ).format(table),
                [n],
            )
            free.execute(sql.SQL("CREATE INDEX {} ON {} (email)").format(sql.Identifier(index), table))
            free.execute(sql.SQL("VACUUM ANALYZE {}").format(table))
            query = sql.SQL("SELECT id, email FROM {} WHERE email = %s").format(table)
            keys = [f"user{1 + (n * k) // 41}@example.com" for k in range(40)]
            seq_plan, idx_plan = plan_nodes(seq, query, keys[0]), plan_nodes(free, query, keys[0])
            assert idx_plan == ["Index Scan"] and "Index Scan" not in seq_plan, (seq_plan, idx_plan)
            seq_ms, idx_ms, floor_ms = take_turns(
                [(seq, query, keys), (free, query, keys), (free, EMPTY, ["x"])], rounds=ROUNDS[n]
            )
            measured[n] = (seq_ms, idx_ms, floor_ms)
            rows.append(
                [
                    f"{n:,}",
                    size(free, f"growth_{n}"),
                    " → ".join(seq_plan),
                    f"{seq_ms:.2f}",
                    size(free, index),
                    " → ".join(idx_plan),
                    f"{idx_ms:.3f}",
                    f"{seq_ms / idx_ms:.0f}x",
                    f"{floor_ms:.3f}",
                ]
            )
            free.execute(sql.SQL("DROP TABLE {}").format(table))
    small, big = measured[SIZES[0]], measured[SIZES[-1]]
    return {
        "figures": {
            "seq_growth": f"{big[0] / small[0]:.0f}x",
            "index_growth": f"{big[1] / small[1]:.1f}x",
            "speedup_1m": f"{big[0] / big[1]:.0f}x",
            "seq_1m_ms": f"{big[0]:.1f} ms",
            "index_1m_ms": f"{big[1]:.3f} ms",
            "roundtrip_1m_ms": f"{big[2]:.3f} ms",
        },
        "tables": {
            "growth": {
                "columns": [
                    "rows",
                    "table",
                    "plan without index",
                    "ms",
                    "index",
                    "plan with index",
                    "ms",
                    "index speed-up",
                    "empty query ms",
                ],
                "rows": rows,
            }
        },
    }
