"""Q4 figures: a routed point lookup vs scatter-gather queries across real shard databases."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from verify.helpers import load_snippet

SHARDS, ROWS, SAMPLES = 4, 20_000, 300


def timed(fn: Callable[[], object]) -> tuple[str, str]:
    for _ in range(10):  # warm-up
        fn()
    samples = []
    for _ in range(SAMPLES):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return f"{statistics.median(samples) * 1000:.2f}", f"{statistics.quantiles(samples, n=20)[18] * 1000:.2f}"


def run(env: dict[str, str]) -> dict[str, Any]:
    sdb = load_snippet("04-replication-sharding/sharded_db.py")
    sg = load_snippet("04-replication-sharding/scatter_gather.py")
    db = sdb.ShardedDatabase(sdb.create_shards(env["DATABASE_URL"], SHARDS))
    try:
        db.insert_many([(f"user-{i}", f"name {i}", ("US", "DE", "JP")[i % 3], 18 + i * 7 % 60) for i in range(ROWS)])
        for conn in db.shards:
            conn.execute("ANALYZE users")
        shards = db.shards  # scatter_gather's functions take the shard connections
        count_by_country = "SELECT country, count(*) FROM users GROUP BY country"

        def sequential() -> object:
            return [conn.execute(count_by_country).fetchall() for conn in db.shards]

        cases = [
            ("point lookup by key (`get`)", 1, lambda: db.get("user-4242")),
            ("count by country, shards in parallel (`scatter`)", SHARDS, lambda: sg.scatter(shards, count_by_country)),
            ("count by country, shards one after another", SHARDS, sequential),
            ("10 oldest users (`oldest`, 10 rows per shard)", SHARDS, lambda: sg.oldest(shards, 10)),
        ]
        rows = [[name, n, *timed(fn)] for name, n, fn in cases]
    finally:
        db.close()
    return {
        "figures": {"shards": str(SHARDS), "rows": f"{ROWS:,}", "samples": str(SAMPLES)},
        "tables": {"latency": {"columns": ["query", "shards asked", "median ms", "p95 ms"], "rows": rows}},
    }
