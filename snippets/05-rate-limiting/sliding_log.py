"""Sliding window log: keep each admitted request's time; admit while fewer than `limit` are in the
last `window` seconds. Exact, but memory is O(limit) per active key."""

import threading
import time
from collections import deque
from collections.abc import Callable


class SlidingLog:
    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        if limit <= 0 or window <= 0:
            raise ValueError(f"limit and window must be positive, got limit={limit} window={window}")
        self.limit, self.window, self.clock = limit, window, clock
        self.logs: dict[str, deque[float]] = {}  # key -> admitted times, keys oldest-used first
        self.lock = threading.Lock()

    def allow(self, key: str) -> bool:
        if not key:
            raise ValueError("rate-limit key must be a non-empty string")
        with self.lock:
            now = self.clock()
            while self.logs:  # evict keys whose newest request has left the window
                oldest = next(iter(self.logs))
                log = self.logs[oldest]
                if log and log[-1] > now - self.window:
                    break
                del self.logs[oldest]
            log = self.logs.pop(key, deque())
            while log and log[0] <= now - self.window:
                log.popleft()
            admitted = len(log) < self.limit
            if admitted:
                log.append(now)
            if log:
                self.logs[key] = log
            return admitted


def main() -> None:
    now = [0.0]
    limiter = SlidingLog(limit=5, window=10.0, clock=lambda: now[0])
    now[0] = 9.9
    late = sum(limiter.allow("alice") for _ in range(5))
    now[0] = 10.0
    early = sum(limiter.allow("alice") for _ in range(5))
    now[0] = 20.0  # the burst at 9.9 s has left the window (20.0 - 10 > 9.9)
    later = sum(limiter.allow("alice") for _ in range(5))
    print(f"t=9.9s admitted {late}, t=10.0s admitted {early}, t=20.0s admitted {later}")
    for i in range(1000):
        limiter.allow(f"user-{i}")
    now[0] = 40.0
    limiter.allow("bob")
    print(f"keys held after 1000 users went idle: {len(limiter.logs)}")


if __name__ == "__main__":
    main()
