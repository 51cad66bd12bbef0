"""The same kind of background job on a Redis-backed queue (Dramatiq's Redis broker). The queued jobs
are keys in Redis: whether they survive a crash of Redis is Redis's persistence setting (AOF)."""

import os
import time

import dramatiq
from dramatiq.brokers.redis import RedisBroker

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
NAMESPACE = os.environ.get("DEMO_PREFIX", "demo") + "-jobs"  # every key this queue writes starts with it
QUEUE = "thumbnails"

broker = RedisBroker(url=REDIS_URL, namespace=NAMESPACE)  # type: ignore[no-untyped-call]


@dramatiq.actor(broker=broker, queue_name=QUEUE, max_retries=3, min_backoff=100)
def make_thumbnail(image_id: int) -> None:
    """Stand-in for the real work; records what it did in Redis."""
    broker.client.sadd(f"{NAMESPACE}:done", image_id)  # the broker's own Redis client and its pool


def queued() -> int:
    """Jobs waiting in the queue: a Redis list of message ids (the bodies sit in a hash beside it)."""
    return int(broker.client.llen(f"{NAMESPACE}:{QUEUE}"))


def run_worker_until(done: int, timeout: float = 30.0) -> None:
    """Run an in-process worker until `done` jobs have been done."""
    worker = dramatiq.Worker(broker, worker_threads=2)
    worker.start()
    try:
        deadline = time.monotonic() + timeout
        while broker.client.scard(f"{NAMESPACE}:done") < done:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{done} jobs not done within {timeout:g} s")
            time.sleep(0.05)
    finally:
        worker.stop()


def main() -> None:
    for image_id in (1, 2, 3):
        make_thumbnail.send(image_id)  # returns once Redis holds the job; no worker runs yet
    print("queued, no worker yet:", queued())
    print(
        "in Redis:",
        sorted(k.decode().removeprefix(NAMESPACE) for k in broker.client.scan_iter(f"{NAMESPACE}:{QUEUE}*")),
    )
    run_worker_until(done=3)
    print("done:", sorted(int(i) for i in broker.client.smembers(f"{NAMESPACE}:done")), "still queued:", queued())
    broker.client.delete(*broker.client.scan_iter(f"{NAMESPACE}*"))
    broker.close()


if __name__ == "__main__":
    main()
