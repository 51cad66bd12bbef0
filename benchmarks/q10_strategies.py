"""Q10: time to load N posts with their authors, per strategy, at N = 10, 100 and 1000.

Uses the page's own programs (snippets/10-n-plus-one/*.py) on the page's data set. Each strategy
keeps one connection (or one engine) for all its runs; the strategies take turns round after round,
and the time is the median wall time of a run, after an untimed warm-up round. The statement count
of each run is recorded alongside.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import psycopg

from verify.helpers import load_snippet

SIZES = (10, 100, 1000)
ROUNDS = {10: 301, 100: 61, 1000: 21}
SCHEMA = Path(__file__).resolve().parent.parent / "snippets/10-n-plus-one/schema.sql"


def timed(runners: dict[str, Callable[[int], int]], n: int) -> dict[str, tuple[float, int]]:
    """Median ms per strategy and its statement count (every run must agree). The strategies take
    turns, round after round, so a burst of load on the machine hits all of them alike."""
    counts = {name: {run(n)} for name, run in runners.items()}  # warm-up round
    times: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(ROUNDS[n]):
        for name, run in runners.items():
            start = time.perf_counter()
            counts[name].add(run(n))
            times[name].append(time.perf_counter() - start)
    assert all(len(c) == 1 for c in counts.values()), counts
    return {name: (statistics.median(times[name]) * 1000, counts[name].pop()) for name in runners}


def counted_psycopg(conn: Any, strategy: Callable[[Any, int], object], n: int) -> int:
    conn.statements = 0
    strategy(conn, n)
    return int(conn.statements)


def counted_dataloader(loop: asyncio.AbstractEventLoop, aconn: Any, load: Any, n: int) -> int:
    aconn.statements = 0
    loop.run_until_complete(load(aconn, n))
    return int(aconn.statements)


def counted_orm(
    load: Callable[[Any, str, int], object], engine: Any, statements: list[str], strategy: str, n: int
) -> int:
    statements.clear()
    load(engine, strategy, n)
    return len(statements)


def run(env: dict[str, str]) -> dict[str, Any]:
    st = load_snippet("10-n-plus-one/strategies.py")
    dl = load_snippet("10-n-plus-one/dataloader_batch.py")
    orm = load_snippet("10-n-plus-one/orm.py")
    url = env["DATABASE_URL"]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SCHEMA.read_text(encoding="utf-8"))

    runners: dict[str, Callable[[int], int]] = {}
    conn = st.connect(url)
    for name, strategy in [("N+1 loop", st.n_plus_one), ("JOIN", st.join), ("eager, = ANY(%s)", st.eager)]:
        runners[name] = partial(counted_psycopg, conn, strategy)
    loop = asyncio.new_event_loop()
    aconn = loop.run_until_complete(
        dl.CountingConnection.connect(url, autocommit=True, cursor_factory=dl.CountingCursor)
    )
    runners["DataLoader"] = partial(counted_dataloader, loop, aconn, dl.posts_with_authors)
    engine, statements = orm.engine_for(url)
    for strategy in ("lazy", "selectinload", "joinedload"):
        runners[f"SQLAlchemy {strategy}"] = partial(counted_orm, orm.load, engine, statements, strategy)

    by_size = {n: timed(runners, n) for n in SIZES}
    results = {name: {n: by_size[n][name] for n in SIZES} for name in runners}
    conn.close()
    loop.run_until_complete(aconn.close())
    loop.close()
    engine.dispose()

    rows = [
        [name, " / ".join(str(by_n[n][1]) for n in SIZES), *(f"{by_n[n][0]:.2f}" for n in SIZES)]
        for name, by_n in results.items()
    ]
    n1, join = results["N+1 loop"], results["JOIN"]
    return {
        "figures": {
            "n1_1000": f"{n1[1000][0]:.1f} ms",
            "join_1000": f"{join[1000][0]:.1f} ms",
            "ratio_1000": f"{n1[1000][0] / join[1000][0]:.0f}x",
            "ratio_10": f"{n1[10][0] / join[10][0]:.1f}x",
            # the bar chart on the page (mermaid xychart): labels and values at N = 1000, same order
            "chart_labels": ", ".join(f'"{name.split(",")[0]}"' for name in results),
            "chart_1000": ", ".join(f"{by_n[1000][0]:.1f}" for by_n in results.values()),
        },
        "tables": {
            "timings": {
                "columns": [
                    "strategy",
                    "statements (N = 10 / 100 / 1000)",
                    "N = 10 (ms)",
                    "N = 100 (ms)",
                    "N = 1000 (ms)",
                ],
                "rows": rows,
            }
        },
    }
