"""Q5: decisions per second of each Redis rate limiter vs the raw ceiling of the same Redis.

The Python limiters run from one client, one request at a time (a round trip per decision, the way a
request handler calls them). redis-benchmark measures the same server in the same run: one client
(-c 1, the round-trip bound a single caller can reach) and 50 clients (the server's ceiling), for a
bare INCR and for EVALSHA of the page's fixed-window script. Keys live under DEMO_PREFIX.
Rounds are interleaved and medians reported, because the machine may be shared.
"""

from __future__ import annotations

import csv
import io
import statistics
import subprocess
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import redis
from limits import parse
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter, SlidingWindowCounterRateLimiter

from verify.helpers import load_snippet

N = 10_000  # requests per redis-benchmark one-client run
USERS = 1000
ROUNDS, PER_ROUND = 7, 3000  # Python limiters: interleaved rounds, the median round is reported


def rates(fns: dict[str, Callable[[int], Any]]) -> dict[str, float]:
    """Decisions per second of each function; rounds alternate between them so that load from
    anything else on the machine hits all of them alike."""
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for fn in fns.values():
        for i in range(200):  # warm up: connection, script cache
            fn(i)
    for _ in range(ROUNDS):
        for name, fn in fns.items():
            start = time.perf_counter()
            for i in range(PER_ROUND):
                fn(i)
            samples[name].append(PER_ROUND / (time.perf_counter() - start))
    return {name: statistics.median(v) for name, v in samples.items()}


def redis_benchmark(url: str, clients: int, *command: str) -> float:
    parts = urlsplit(url)
    cmd = [
        "redis-benchmark",
        "-h",
        parts.hostname or "127.0.0.1",
        "-p",
        str(parts.port or 6379),
        "--dbnum",
        (parts.path.strip("/") or "0"),
        "-n",
        str(100_000 if clients > 1 else N),
        "-c",
        str(clients),
        "-r",
        str(USERS),
        "--csv",
        *command,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=120).stdout
    return float(list(csv.DictReader(io.StringIO(out)))[-1]["rps"])


def raw_ceilings(url: str, commands: dict[str, tuple[int, list[str]]]) -> dict[str, float]:
    """redis-benchmark runs, interleaved over ROUNDS // 2 rounds; the median run of each is reported."""
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(ROUNDS // 2):
        for name, (clients, command) in commands.items():
            samples[name].append(redis_benchmark(url, clients, *command))
    return {name: statistics.median(v) for name, v in samples.items()}


def run(env: dict[str, str]) -> dict[str, Any]:
    url, prefix = env["REDIS_URL"], env["DEMO_PREFIX"]
    naive = load_snippet("05-rate-limiting/redis_naive.py")
    fw = load_snippet("05-rate-limiting/redis_fixed_window.py")
    gcra = load_snippet("05-rate-limiting/redis_gcra.py")
    limits_demo = load_snippet("05-rate-limiting/limits_demo.py")
    r = redis.Redis.from_url(url)
    big = 10**9  # a limit never reached: every decision does the full work
    store = limits_demo.storage(url, prefix)
    item = parse(f"{big}/hour")
    fixed, moving, sliding = (
        c(store) for c in (FixedWindowRateLimiter, MovingWindowRateLimiter, SlidingWindowCounterRateLimiter)
    )
    python: dict[str, Callable[[int], Any]] = {
        "bare INCR (redis-py), no limiter": lambda i: r.incr(f"{prefix}:b:incr:{i % USERS}"),
        "the common answer: INCR, then EXPIRE on a new key (not atomic)": lambda i: naive.naive_allow(
            r, f"{prefix}:b:naive:{i % USERS}", big, 3600
        ),
        "fixed window, Lua (EVALSHA)": lambda i: fw.allow_lua(r, f"{prefix}:b:lua:{i % USERS}", big, 3600),
        "fixed window, MULTI/EXEC + EXPIRE NX": lambda i: fw.allow_multi(r, f"{prefix}:b:multi:{i % USERS}", big, 3600),
        "GCRA, Lua (EVALSHA)": lambda i: gcra.gcra_allow(r, f"{prefix}:b:gcra:{i % USERS}", big, 3600),
        "limits: fixed window": lambda i: fixed.hit(item, "f", str(i % USERS)),
        "limits: sliding window counter": lambda i: sliding.hit(item, "s", str(i % USERS)),
        "limits: moving window (log)": lambda i: moving.hit(parse("100000/hour"), "m", str(i % USERS)),
    }
    measured = rates(python)

    sha = r.script_load(fw.FIXED_WINDOW)
    script = ["EVALSHA", sha, "1", f"{prefix}:rb:lua:__rand_int__", "3600000"]
    incr = ["INCR", f"{prefix}:rb:incr:__rand_int__"]
    raw = raw_ceilings(
        url,
        {
            "INCR, 1 client": (1, incr),
            "EVALSHA fixed-window script, 1 client": (1, script),
            "INCR, 50 clients": (50, incr),
            "EVALSHA fixed-window script, 50 clients": (50, script),
        },
    )
    store.reset()
    for k in r.scan_iter(f"{prefix}:*", count=1000):
        r.delete(k)
    incr1, incr50 = raw["INCR, 1 client"], raw["INCR, 50 clients"]
    labelled = [(f"redis-benchmark: {n}", v) for n, v in raw.items()]
    labelled += [(f"Python, 1 client: {n}", v) for n, v in measured.items()]
    rows = [[n, f"{v:,.0f}", f"{v / incr1:.2f}", f"{v / incr50:.2f}"] for n, v in labelled]
    lua, lim = measured["fixed window, Lua (EVALSHA)"], measured["limits: fixed window"]
    figures = {
        "incr_1": f"{incr1:,.0f}",
        "incr_50": f"{incr50:,.0f}",
        "evalsha_1": f"{raw['EVALSHA fixed-window script, 1 client']:,.0f}",
        "evalsha_50": f"{raw['EVALSHA fixed-window script, 50 clients']:,.0f}",
        "evalsha_vs_incr1": f"{raw['EVALSHA fixed-window script, 1 client'] / incr1:.2f}x",
        "lua": f"{lua:,.0f}",
        "gcra": f"{measured['GCRA, Lua (EVALSHA)']:,.0f}",
        "naive": f"{measured['the common answer: INCR, then EXPIRE on a new key (not atomic)']:,.0f}",
        "limits_fixed": f"{lim:,.0f}",
        "limits_moving": f"{measured['limits: moving window (log)']:,.0f}",
        "py_incr": f"{measured['bare INCR (redis-py), no limiter']:,.0f}",
        "lua_vs_py_incr": f"{lua / measured['bare INCR (redis-py), no limiter']:.2f}x",
        "lua_vs_incr1": f"{lua / incr1:.2f}x",
        "lua_vs_incr50": f"{lua / incr50:.2f}x",
        "lua_vs_limits": f"{lua / lim:.2f}x",
    }
    columns = ["limiter / command", "decisions per second", "÷ INCR, 1 client", "÷ INCR, 50 clients"]
    return {"figures": figures, "tables": {"throughput": {"columns": columns, "rows": rows}}}
