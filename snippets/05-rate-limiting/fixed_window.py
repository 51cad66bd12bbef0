"""Fixed window: at most `limit` requests per key in each aligned window [k*window, (k+1)*window)."""

import threading
import time
from collections.abc import Callable


class FixedWindow:
    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        if limit <= 0 or window <= 0:
            raise ValueError(f"limit and window must be positive, got limit={limit} window={window}")
        self.limit, self.window, self.clock = limit, window, clock
        self.counts: dict[str, tuple[int, int]] = {}  # key -> (window number, count), oldest first
        self.lock = threading.Lock()

    def allow(self, key: str) -> bool:
        if not key:
            raise ValueError("rate-limit key must be a non-empty string")
        with self.lock:
            current = int(self.clock() // self.window)
            # evict idle keys: entries are ordered by last use, so stop at the first live one
            while self.counts:
                oldest = next(iter(self.counts))
                if self.counts[oldest][0] == current:
                    break
                del self.counts[oldest]
            _, count = self.counts.pop(key, (current, 0))
            admitted = count < self.limit
            self.counts[key] = (current, count + admitted)  # re-insert: now the newest entry
            return admitted


def main() -> None:
    now = [0.0]
    limiter = FixedWindow(limit=5, window=10.0, clock=lambda: now[0])
    now[0] = 9.9  # the last 0.1 s of window [0, 10)
    late = sum(limiter.allow("alice") for _ in range(5))
    now[0] = 10.0  # the first instant of window [10, 20)
    early = sum(limiter.allow("alice") for _ in range(5))
    print(f"t=9.9s admitted {late}, t=10.0s admitted {early}: {late + early} requests in 0.1 s, limit 5 per 10 s")
    for i in range(1000):
        limiter.allow(f"user-{i}")
    now[0] = 20.0
    limiter.allow("bob")
    print(f"keys held after 1000 users went idle: {len(limiter.counts)}")


if __name__ == "__main__":
    main()
