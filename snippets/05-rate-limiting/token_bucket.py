"""Token bucket: each key holds up to `capacity` tokens, refilled at `rate` per second; a request
takes one. Allows bursts of `capacity`, sustains `rate`."""

import threading
import time
from collections.abc import Callable


class TokenBucket:
    def __init__(self, capacity: int, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        if capacity <= 0 or rate <= 0:
            raise ValueError(f"capacity and rate must be positive, got capacity={capacity} rate={rate}")
        self.capacity, self.rate, self.clock = capacity, rate, clock
        self.buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last refill), oldest first
        self.lock = threading.Lock()

    def allow(self, key: str, cost: float = 1.0) -> bool:
        if not key:
            raise ValueError("rate-limit key must be a non-empty string")
        with self.lock:
            now = self.clock()
            full_after = self.capacity / self.rate
            while self.buckets:  # a bucket idle long enough to be full again is a fresh bucket
                oldest = next(iter(self.buckets))
                if now - self.buckets[oldest][1] < full_after:
                    break
                del self.buckets[oldest]
            tokens, last = self.buckets.pop(key, (float(self.capacity), now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            admitted = tokens >= cost
            self.buckets[key] = (tokens - cost if admitted else tokens, now)
            return admitted


def main() -> None:
    now = [0.0]
    bucket = TokenBucket(capacity=5, rate=1.0, clock=lambda: now[0])
    burst = [bucket.allow("alice") for _ in range(6)]
    now[0] = 2.0
    after_2s = [bucket.allow("alice") for _ in range(3)]
    now[0] = 100.0
    after_idle = sum(bucket.allow("alice") for _ in range(10))
    print(f"burst: {burst}")
    print(f"2 s later: {after_2s}")
    print(f"after 98 s idle: {after_idle} admitted (capped at capacity 5)")
    for i in range(1000):
        bucket.allow(f"user-{i}")
    now[0] = 200.0
    bucket.allow("bob")
    print(f"keys held after 1000 users went idle: {len(bucket.buckets)}")


if __name__ == "__main__":
    main()
