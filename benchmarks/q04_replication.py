"""Q4 figures: commit latency per synchronous_commit level, and replay lag under a write burst.

Runs on throwaway primary + replica pairs (replica_pair() of snippets/04-replication-sharding/read_write_split.py) with
fsync = on, so a local WAL flush costs what it costs on this machine's disk.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from typing import Any

import psycopg

from verify.helpers import load_snippet

LEVELS = [
    ("off", "nothing (WAL flushed a moment later)"),
    ("local", "the primary's WAL flush"),
    ("remote_write", "+ the replica has written the WAL"),
    ("on", "+ the replica has flushed the WAL"),
    ("remote_apply", "+ the replica has applied it"),
]
ROUNDS, COMMITS = 5, 200  # commits per level and round
BURST_WRITERS, BURST_PER_WRITER = 4, 500


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def commit_latency(primary: str) -> tuple[list[list[Any]], str]:
    """One connection per level; the levels take turns, commit by commit, in a rotating order, so drift
    and position hit all alike.
    The rounds show how much a median moves from one run to the next on this (shared) machine."""
    rounds: dict[str, list[list[float]]] = {level: [] for level, _ in LEVELS}
    conns = {level: psycopg.connect(primary, autocommit=True) for level, _ in LEVELS}
    try:
        conns["on"].execute("CREATE TABLE bench (id bigserial PRIMARY KEY, v text)")
        for level, conn in conns.items():
            conn.execute("SELECT set_config('synchronous_commit', %s, false)", [level])
        for r in range(ROUNDS + 1):  # round 0 warms up
            samples: dict[str, list[float]] = {level: [] for level in conns}
            for i in range(COMMITS):
                order = list(conns.items())
                for level, conn in order[i % len(order) :] + order[: i % len(order)]:  # no level always goes first
                    t = time.perf_counter()
                    conn.execute("INSERT INTO bench (v) VALUES (%s)", [level])
                    samples[level].append(time.perf_counter() - t)
            if r:
                for level in conns:
                    rounds[level].append(samples[level])
    finally:
        for conn in conns.values():
            conn.close()
    rows = []
    for level, waits in LEVELS:
        every = [x for samples in rounds[level] for x in samples]
        q = statistics.quantiles(every, n=20)  # q[4] = p25, q[9] = p50, q[14] = p75, q[18] = p95
        medians = [statistics.median(samples) for samples in rounds[level]]
        rows.append([f"`{level}`", waits, ms(q[9]), f"{ms(q[4])}–{ms(q[14])}", ms(q[18]),
                     f"{ms(min(medians))}–{ms(max(medians))}"])  # fmt: skip
    pairs = zip(rounds["remote_apply"], rounds["on"], strict=True)
    diffs = [statistics.median(a) - statistics.median(o) for a, o in pairs]
    slower = sum(d > 0 for d in diffs)
    apply_vs_on = (
        f"`remote_apply` had the higher median in {slower} of {ROUNDS} rounds "
        f"(median of `remote_apply` minus median of `on`, per round: {ms(min(diffs))} to {ms(max(diffs))} ms)"
    )
    return rows, apply_vs_on


def burst_lag(primary: str) -> dict[str, str]:
    """Writers commit as fast as they can; a sampler watches the async replica fall behind."""
    with psycopg.connect(primary, autocommit=True) as conn:
        conn.execute("CREATE TABLE burst (id bigserial PRIMARY KEY, v text)")
    done = threading.Event()
    max_bytes, max_lag = 0.0, 0.0

    def write() -> None:
        with psycopg.connect(primary, autocommit=True) as c:
            for i in range(BURST_PER_WRITER):
                c.execute("INSERT INTO burst (v) VALUES (%s)", [f"row {i}"])

    def sample() -> None:
        nonlocal max_bytes, max_lag
        q = """SELECT coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), 0),
                      coalesce(extract(epoch FROM replay_lag), 0) FROM pg_stat_replication"""
        with psycopg.connect(primary, autocommit=True) as c:
            while not done.is_set():
                row = c.execute(q).fetchone()
                if row:
                    max_bytes, max_lag = max(max_bytes, float(row[0])), max(max_lag, float(row[1]))
                time.sleep(0.002)

    sampler = threading.Thread(target=sample)
    sampler.start()
    writers = [threading.Thread(target=write) for _ in range(BURST_WRITERS)]
    for w in writers:
        w.start()
    for w in writers:
        w.join()
    done.set()
    sampler.join()
    return {
        "burst_rows": f"{BURST_WRITERS * BURST_PER_WRITER:,} (from {BURST_WRITERS} connections)",
        "max_lag_bytes": f"{max_bytes / 1024:.1f} kB",
        "max_replay_lag": f"{max_lag * 1000:.1f} ms",
    }


def run(env: dict[str, str]) -> dict[str, Any]:
    rws = load_snippet("04-replication-sharding/read_write_split.py")
    with rws.replica_pair(synchronous=True, settings={"fsync": "on"}) as (primary, _):
        latency, apply_vs_on = commit_latency(primary)
    with rws.replica_pair(synchronous=False, settings={"fsync": "on"}) as (primary, _):
        figures = burst_lag(primary)
    figures["commits_per_level"] = f"{ROUNDS * COMMITS:,} ({ROUNDS} rounds of {COMMITS})"
    figures["apply_vs_on"] = apply_vs_on
    figures["load_average"] = f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"  # other work on the machine
    return {
        "figures": figures,
        "tables": {
            "commit_latency": {
                "columns": [
                    "synchronous_commit",
                    "COMMIT waits for",
                    "median ms",
                    "p25–p75 ms",
                    "p95 ms",
                    f"median of each round, min–max ms ({ROUNDS} rounds)",
                ],
                "rows": latency,
            }
        },
    }
