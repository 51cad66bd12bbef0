"""The common answer's consumer: on any error nack(requeue=True). A message that always fails comes straight
back, forever. We let it loop for one second only, and count."""

import os
import time

import pika
from pika.adapters.blocking_connection import BlockingChannel

AMQP_URL = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
PREFIX = os.environ.get("DEMO_PREFIX", "demo")


def handle(body: bytes) -> None:
    raise ValueError(f"cannot process {body!r}")  # a bug, or a payload the code cannot handle


def requeue_loop(ch: BlockingChannel, queue: str, seconds: float) -> int:
    """Consume the common answer's way for `seconds`; return how many times the broker delivered."""
    deliveries = 0
    deadline = time.monotonic() + seconds
    ch.basic_qos(prefetch_count=1)
    for method, _props, body in ch.consume(queue, inactivity_timeout=0.1):
        if time.monotonic() > deadline:  # our time bound, not the common answer's
            ch.cancel()  # stop deliveries, then give back the one in hand
            if method is not None:
                ch.basic_nack(method.delivery_tag or 0, requeue=True)
            break
        if method is None or body is None:
            continue
        deliveries += 1
        try:
            handle(body)
            ch.basic_ack(method.delivery_tag or 0)
        except ValueError:
            ch.basic_nack(method.delivery_tag or 0, requeue=True)  # the common answer: straight back to the queue
    return deliveries


def main() -> None:
    queue = f"{PREFIX}.poison-demo"
    with pika.BlockingConnection(pika.URLParameters(AMQP_URL)) as conn:
        ch = conn.channel()
        ch.queue_declare(queue, durable=True)
        ch.confirm_delivery()
        ch.basic_publish("", queue, b'{"order_id": 13}')
        deliveries = requeue_loop(ch, queue, seconds=1.0)
        print("one poison message, delivered more than 100 times in 1 s:", deliveries > 100)
        ch.close()
        ch = conn.channel()  # the next consumer (or the restarted service) gets it again
        method, _props, body = next(ch.consume(queue, inactivity_timeout=10))
        print("still queued, next delivery:", body, "redelivered:", method is not None and method.redelivered)
        ch.queue_delete(queue)


if __name__ == "__main__":
    main()
