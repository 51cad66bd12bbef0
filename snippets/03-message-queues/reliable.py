"""A producer and a consumer that do not lose messages: durable queue, persistent messages,
publisher confirms + mandatory, prefetch, manual ack -- over one long-lived connection."""

import json
import os
from collections.abc import Callable
from typing import Any

import pika
from pika.adapters.blocking_connection import BlockingChannel
from pika.exceptions import UnroutableError

AMQP_URL = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
PREFIX = os.environ.get("DEMO_PREFIX", "demo")
PERSISTENT = pika.BasicProperties(content_type="application/json", delivery_mode=pika.DeliveryMode.Persistent)


def open_channel(conn: pika.BlockingConnection, queue: str) -> BlockingChannel:
    ch = conn.channel()
    ch.confirm_delivery()  # basic_publish now waits for the broker's ack (or raises NackError)
    ch.queue_declare(queue, durable=True)  # the queue definition survives a broker restart
    return ch


def publish(ch: BlockingChannel, routing_key: str, payload: dict[str, Any]) -> None:
    """Raises UnroutableError if no queue took the message: it was NOT delivered."""
    ch.basic_publish("", routing_key, json.dumps(payload).encode(), PERSISTENT, mandatory=True)


def consume(ch: BlockingChannel, queue: str, handle: Callable[[dict[str, Any]], None], prefetch: int = 10,
            idle: float = 0.5) -> int:
    """Handle messages until the queue stays empty for `idle` s; ack each one only after handling it."""
    ch.basic_qos(prefetch_count=prefetch)  # at most `prefetch` unacked messages in flight to us
    handled = 0
    for method, _props, body in ch.consume(queue, inactivity_timeout=idle):
        if method is None or body is None:  # idle: nothing arrived for `idle` seconds
            break
        handle(json.loads(body))
        ch.basic_ack(method.delivery_tag or 0)  # a crash before this line -> the broker redelivers
        handled += 1
    ch.cancel()
    return handled


def main() -> None:
    queue = f"{PREFIX}.orders"
    with pika.BlockingConnection(pika.URLParameters(AMQP_URL)) as conn:  # one connection for everything
        ch = open_channel(conn, queue)
        for order_id in range(1, 6):
            publish(ch, queue, {"order_id": order_id})
        print("published 5, each confirmed by the broker")
        ch.basic_publish("", f"{PREFIX}.no-such-queue", b"{}", PERSISTENT)  # confirm only: acked, then dropped
        print("typo'd queue name without mandatory: confirmed -- and silently dropped")
        try:
            publish(ch, f"{PREFIX}.no-such-queue", {"order_id": 6})
        except UnroutableError as e:
            print("typo'd queue name with mandatory:", type(e).__name__, "- returned, the caller knows")
        seen: list[int] = []
        print("consumed:", consume(ch, queue, lambda p: seen.append(p["order_id"])), "orders", seen)
        ch.queue_delete(queue)


if __name__ == "__main__":
    main()
