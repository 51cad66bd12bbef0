"""Pool health from pool statistics: busy is fine, requests waiting with nothing available is not."""

import os
import threading
import time

from psycopg_pool import ConnectionPool


def pool_health(pool: ConnectionPool) -> str:
    s = pool.get_stats()
    if s["pool_available"] == 0 and s["requests_waiting"] > 0:
        return f"WARNING: pool exhausted: {s['pool_size']} of {s['pool_max']} in use, {s['requests_waiting']} waiting"
    return f"ok: {s['pool_available']} of {s['pool_size']} available, {s['requests_waiting']} waiting"


def main() -> None:
    url = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    with ConnectionPool(url, min_size=2, max_size=2, timeout=10) as pool:
        pool.wait()
        print("idle pool:      ", pool_health(pool))
        leaked = [pool.getconn(), pool.getconn()]  # two requests that never give theirs back
        print("both borrowed:  ", pool_health(pool))

        def request() -> None:
            with pool.connection() as conn:
                conn.execute("SELECT 1")

        waiter = threading.Thread(target=request)
        waiter.start()
        while pool.get_stats()["requests_waiting"] == 0:  # until the third request is queued
            time.sleep(0.01)
        print("third request:  ", pool_health(pool))
        pool.putconn(leaked.pop())  # one connection comes back: the waiting request gets it
        waiter.join()
        print("one returned:   ", pool_health(pool))
        pool.putconn(leaked.pop())
        stats = pool.pop_stats()  # read and reset the counters, e.g. every 10 s into your metrics
        print("counters:", {k: stats.get(k, 0) for k in ("requests_num", "requests_queued", "requests_errors")})


if __name__ == "__main__":
    main()
