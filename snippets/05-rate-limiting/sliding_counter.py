"""Sliding window counter: two fixed-window counters per key; the previous window's count is
weighted by how much of it still overlaps the sliding window. O(1) memory, approximate."""

import threading
import time
from collections.abc import Callable


class SlidingCounter:
    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        if limit <= 0 or window <= 0:
            raise ValueError(f"limit and window must be positive, got limit={limit} window={window}")
        self.limit, self.window, self.clock = limit, window, clock
        self.state: dict[str, tuple[int, int, int]] = {}  # key -> (window no, previous, current)
        self.lock = threading.Lock()

    def allow(self, key: str) -> bool:
        if not key:
            raise ValueError("rate-limit key must be a non-empty string")
        with self.lock:
            now = self.clock()
            current = int(now // self.window)
            while self.state:  # evict keys untouched for two windows: both their counts are stale
                oldest = next(iter(self.state))
                if self.state[oldest][0] >= current - 1:
                    break
                del self.state[oldest]
            number, previous, count = self.state.pop(key, (current, 0, 0))
            if number != current:  # roll the windows forward
                previous, count = (count if number == current - 1 else 0), 0
            overlap = 1 - (now / self.window - current)  # share of the previous window still inside
            admitted = previous * overlap + count < self.limit
            self.state[key] = (current, previous, count + admitted)
            return admitted


def main() -> None:
    now = [0.0]
    limiter = SlidingCounter(limit=10, window=10.0, clock=lambda: now[0])
    now[0] = 9.9
    late = sum(limiter.allow("alice") for _ in range(10))
    now[0] = 10.0
    early = sum(limiter.allow("alice") for _ in range(10))
    now[0] = 15.0  # half of [0, 10) still overlaps (5, 15]: budget is 10 - 10 * 0.5 = 5
    middle = sum(limiter.allow("alice") for _ in range(10))
    print(f"t=9.9s admitted {late}, t=10.0s admitted {early}, t=15.0s admitted {middle}")
    for i in range(1000):
        limiter.allow(f"user-{i}")
    now[0] = 40.0
    limiter.allow("bob")
    print(f"keys held after 1000 users went idle: {len(limiter.state)}")


if __name__ == "__main__":
    main()
