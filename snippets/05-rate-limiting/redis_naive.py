"""The common answer's Redis limiter, ported as is: INCR, then EXPIRE only when the counter is new.
Two round trips, not atomic: a client that dies between them leaves a counter with no TTL."""

import multiprocessing
import os
import time
from collections.abc import Callable

import redis


def naive_allow(r: redis.Redis, key: str, limit: int, window: int, between: Callable[[], None] = lambda: None) -> bool:
    current = int(r.incr(key))
    between()  # the gap between the two commands: a crash, a timeout, a deploy...
    if current == 1:
        r.expire(key, window)
    return current <= limit


def crash() -> None:
    os._exit(1)  # the process dies here: no exception handler, no finally


def crashing_client(url: str, key: str) -> None:
    naive_allow(redis.Redis.from_url(url), key, limit=3, window=1, between=crash)


def main() -> None:
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    key = f"{os.environ.get('DEMO_PREFIX', 'demo')}:naive:alice"
    r = redis.Redis.from_url(url)
    r.delete(key)
    worker = multiprocessing.get_context("fork").Process(target=crashing_client, args=(url, key))
    worker.start()
    worker.join()
    print(f"client died between INCR and EXPIRE (exit code {worker.exitcode}); TTL of the key: {r.ttl(key)}")
    print("next requests:", [naive_allow(r, key, limit=3, window=1) for _ in range(3)])
    time.sleep(1.5)  # the 1 s window is long over...
    print("1.5 s later:", [naive_allow(r, key, limit=3, window=1) for _ in range(2)], "TTL:", r.ttl(key))
    r.delete(key)


if __name__ == "__main__":
    main()
