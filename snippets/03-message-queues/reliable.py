"""A producer and a consumer that do not lose messages: durable queue, persistent messages,
publisher confirms + mandatory, prefetch, manual ack -- over one long-lived connection."""

# --8<-- [start:producer]
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


# --8<-- [end:producer]


# --8<-- [start:consumer]
def decode(body: bytes, required: tuple[str, ...]) -> dict[str, Any] | None:
    """The payload, or None if it is not a JSON object with every required key: no retry can fix that."""
    try:
        payload = json.loads(body)
    except ValueError:  # not JSON, not UTF-8
        return None
    return payload if isinstance(payload, dict) and all(k in payload for k in required) else None


def consume(
    ch: BlockingChannel,
    queue: str,
    handle: Callable[[dict[str, Any]], None],
    prefetch: int = 10,
    idle: float = 0.5,
    required: tuple[str, ...] = ("order_id",),
) -> int:
    """Handle messages until the queue stays empty for `idle` s; ack each one only after handling it.
    A malformed message is moved to <queue>.dlq at once (a copy, then the ack) and consuming goes on."""
    ch.basic_qos(prefetch_count=prefetch)  # at most `prefetch` unacked messages in flight to us
    ch.queue_declare(f"{queue}.dlq", durable=True)  # where messages no retry can fix wait for a human
    handled = 0
    for method, _props, body in ch.consume(queue, inactivity_timeout=idle):
        if method is None or body is None:  # idle: nothing arrived for `idle` seconds
            break
        payload = decode(body, required)
        if payload is None:  # mandatory: raises rather than drop it if the DLQ is missing
            ch.basic_publish("", f"{queue}.dlq", body, PERSISTENT, mandatory=True)
        else:
            handle(payload)
            handled += 1
        ch.basic_ack(method.delivery_tag or 0)  # a crash before this line -> the broker redelivers
    ch.cancel()
    return handled


# --8<-- [end:consumer]


# --8<-- [start:demo]
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
        ch.basic_publish("", queue, b"not json{", PERSISTENT)  # malformed: must not stop the consumer
        publish(ch, queue, {"id": 7})  # JSON, but without the order_id every order has
        publish(ch, queue, {"order_id": 8})  # a good one behind them
        seen: list[int] = []
        print("consumed:", consume(ch, queue, lambda p: seen.append(p["order_id"])), "orders", seen)
        parked = ch.queue_declare(f"{queue}.dlq", passive=True).method.message_count
        print("malformed, moved to the .dlq queue at once, not lost:", parked)
        for name in (queue, f"{queue}.dlq"):
            ch.queue_delete(name)


if __name__ == "__main__":
    main()
# --8<-- [end:demo]
