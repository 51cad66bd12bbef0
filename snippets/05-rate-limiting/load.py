"""16 concurrent clients hammer one key: the admitted count must equal the limit, never more."""

import os
import threading
from collections.abc import Callable

import redis
from limits import parse
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter

FIXED_WINDOW = """
local n = redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('PTTL', KEYS[1])}
"""


def hammer(decide: Callable[[], bool], clients: int = 16, each: int = 100) -> int:
    """Run `clients` threads, each asking `each` times at once; return how many were admitted."""
    admitted = [0] * clients
    start = threading.Barrier(clients)

    def client(i: int) -> None:
        start.wait()  # all threads begin together
        admitted[i] = sum(decide() for _ in range(each))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(admitted)


def main() -> None:
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    prefix = os.environ.get("DEMO_PREFIX", "demo")
    r = redis.Redis.from_url(url, max_connections=32)
    script, key, limit = r.register_script(FIXED_WINDOW), f"{prefix}:load:alice", 100
    n = hammer(lambda: int(script(keys=[key], args=[60_000])[0]) <= limit)
    print(f"Lua fixed window, limit {limit}/min: admitted {n} of {16 * 100}")
    store = RedisStorage(url, key_prefix=f"{prefix}:limits")
    moving, item = MovingWindowRateLimiter(store), parse(f"{limit}/minute")
    n = hammer(lambda: moving.hit(item, "load", "alice"))
    print(f"limits moving window, limit {limit}/min: admitted {n} of {16 * 100}")
    r.delete(key)
    store.reset()


if __name__ == "__main__":
    main()
