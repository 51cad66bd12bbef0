"""The production choice: the `limits` library, its strategies backed by the same Redis."""

import os

from limits import RateLimitItem, parse
from limits.storage import RedisStorage
from limits.strategies import (
    FixedWindowRateLimiter,
    MovingWindowRateLimiter,
    RateLimiter,
    SlidingWindowCounterRateLimiter,
)


def storage(url: str, prefix: str) -> RedisStorage:
    return RedisStorage(url, key_prefix=f"{prefix}:limits")  # every key it writes starts with prefix


def hits(limiter: RateLimiter, item: RateLimitItem, user: str, n: int) -> list[bool]:
    if not user:
        raise ValueError("rate-limit key must name a client (got an empty key)")
    return [limiter.hit(item, type(limiter).__name__, user) for _ in range(n)]


def main() -> None:
    store = storage(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), os.environ.get("DEMO_PREFIX", "demo"))
    print("storage answers:", store.check())
    item = parse("3/minute")
    for cls in (FixedWindowRateLimiter, MovingWindowRateLimiter, SlidingWindowCounterRateLimiter):
        limiter = cls(store)
        print(
            f"{cls.__name__:32}",
            hits(limiter, item, "alice", 4),
            "remaining:",
            limiter.get_window_stats(item, cls.__name__, "alice").remaining,
        )
    print("keys removed by reset():", store.reset())


if __name__ == "__main__":
    main()
