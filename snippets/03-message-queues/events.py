"""order.created for three services: a queue per service copies every event to each of them;
one shared queue with three consumers splits the events between them."""

import json
import os

import pika
from pika.adapters.blocking_connection import BlockingChannel

# --8<-- [start:deliver]
AMQP_URL = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
PREFIX = os.environ.get("DEMO_PREFIX", "demo")
SERVICES = ("inventory", "notifications", "analytics")


def deliver(url: str, exchange: str, queues: dict[str, str], n: int) -> dict[str, list[int]]:
    """Bind each service's queue to order.created, consume, publish n events once, collect what arrives."""
    got: dict[str, list[int]] = {s: [] for s in queues}
    with pika.BlockingConnection(pika.URLParameters(url)) as conn:
        ch = conn.channel()
        ch.confirm_delivery()
        ch.exchange_declare(exchange, "topic", durable=True)
        for service, queue in queues.items():
            ch.queue_declare(queue, durable=True)
            ch.queue_bind(queue, exchange, routing_key="order.created")

            def handle(
                c: BlockingChannel,
                m: pika.spec.Basic.Deliver,
                p: pika.BasicProperties,
                body: bytes,
                service: str = service,
            ) -> None:
                got[service].append(json.loads(body)["order_id"])  # inventory.reserve(...), notify(...) ...
                c.basic_ack(m.delivery_tag or 0)

            ch.basic_consume(queue, handle)
        for order_id in range(1, n + 1):  # the order service publishes each event ONCE
            body = json.dumps({"order_id": order_id, "total": 10 * order_id}).encode()
            ch.basic_publish(exchange, "order.created", body, mandatory=True)
        while sum(map(len, got.values())) < n * len(set(queues.values())):
            conn.process_data_events(time_limit=1)
        for queue in set(queues.values()):
            ch.queue_delete(queue)
        ch.exchange_delete(exchange)
    return got


def fan_out(url: str, prefix: str, n: int) -> dict[str, list[int]]:
    """Publish/subscribe: one queue per service, each gets every event."""
    return deliver(url, f"{prefix}.orders", {s: f"{prefix}.{s}" for s in SERVICES}, n)


def shared_queue(url: str, prefix: str, n: int) -> dict[str, list[int]]:
    """The common answer's picture: one queue, three consumers. They compete: each event reaches ONE service."""
    return deliver(url, f"{prefix}.orders", {s: f"{prefix}.order-events" for s in SERVICES}, n)


def main() -> None:
    for name, how in (("a queue per service", fan_out), ("one shared queue", shared_queue)):
        got = how(AMQP_URL, PREFIX, 30)
        counts = ", ".join(f"{s} {len(ids)}" for s, ids in got.items())
        print(f"{name:>20}: published 30 -> {counts}")


if __name__ == "__main__":
    main()
# --8<-- [end:deliver]
