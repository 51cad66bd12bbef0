"""The fix: bounded attempts, then reject to a dead-letter exchange. Malformed JSON goes there at once."""

import json
import os
from collections.abc import Callable
from typing import Any

import pika
from pika.adapters.blocking_connection import BlockingChannel

# --8<-- [start:declare]
AMQP_URL = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
PREFIX = os.environ.get("DEMO_PREFIX", "demo")
MAX_ATTEMPTS = 3


def declare(ch: BlockingChannel, queue: str) -> str:
    """A quorum queue counts deliveries (x-delivery-count) and dead-letters past x-delivery-limit."""
    dlx, dlq = f"{queue}.dlx", f"{queue}.dlq"
    ch.exchange_declare(dlx, "fanout", durable=True)
    ch.queue_declare(dlq, durable=True)
    ch.queue_bind(dlq, dlx)
    ch.queue_declare(
        queue,
        durable=True,
        arguments={
            "x-queue-type": "quorum",
            "x-dead-letter-exchange": dlx,
            "x-delivery-limit": MAX_ATTEMPTS - 1,  # redeliveries allowed: a backstop if consumers crash on it
        },
    )
    return dlq


def headers(props: pika.BasicProperties | None) -> dict[str, Any]:
    return dict(props.headers or {}) if props else {}


def consume(ch: BlockingChannel, queue: str, handle: Callable[[dict[str, Any]], None], idle: float = 1.0) -> None:
    ch.basic_qos(prefetch_count=10)
    for method, props, body in ch.consume(queue, inactivity_timeout=idle):
        if method is None or body is None:
            break
        tag = method.delivery_tag or 0
        try:
            payload = json.loads(body)
        except ValueError:  # malformed: retrying cannot help -> dead-letter now, keep consuming
            ch.basic_reject(tag, requeue=False)
            continue
        attempt = int(headers(props).get("x-delivery-count", 0)) + 1  # set by the quorum queue
        try:
            handle(payload)
            ch.basic_ack(tag)
        except Exception:  # transient or not: retry, but only MAX_ATTEMPTS times in all
            ch.basic_nack(tag, requeue=attempt < MAX_ATTEMPTS)  # requeue=False -> dead-letter exchange
    ch.cancel()


# --8<-- [end:declare]


# --8<-- [start:main]
def main() -> None:
    queue, attempts, done = f"{PREFIX}.payments", dict[int, int](), list[int]()

    def handle(p: dict[str, Any]) -> None:
        attempts[p["id"]] = attempts.get(p["id"], 0) + 1
        if p.get("card") == "broken":
            raise RuntimeError("payment provider rejects this card")
        done.append(p["id"])

    with pika.BlockingConnection(pika.URLParameters(AMQP_URL)) as conn:
        ch = conn.channel()
        dlq = declare(ch, queue)
        ch.confirm_delivery()
        for body in (b'{"id": 1}', b"not json{", b'{"id": 2, "card": "broken"}', b'{"id": 3}'):
            ch.basic_publish("", queue, body)
        consume(ch, queue, handle)
        print("processed:", sorted(done), "attempts per id:", dict(sorted(attempts.items())))
        while (got := ch.basic_get(dlq, auto_ack=True))[0] is not None:
            print(f"dead-lettered: {got[2]!r} reason={headers(got[1])['x-death'][0]['reason']}")
        for name in (queue, dlq):
            ch.queue_delete(name)
        ch.exchange_delete(f"{queue}.dlx")


if __name__ == "__main__":
    main()
# --8<-- [end:main]
