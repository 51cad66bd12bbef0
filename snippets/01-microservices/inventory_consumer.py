"""The inventory side of order.created: an idempotent consumer that answers with stock.<outcome>."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import uuid
from typing import Any

import pika
import psycopg
from pika.adapters.blocking_connection import BlockingChannel
from psycopg.conninfo import make_conninfo
from pydantic import BaseModel, Field, ValidationError


# --8<-- [start:handle]
class OrderCreated(BaseModel):  # what a message must be before we touch the database
    event_id: uuid.UUID
    order_id: uuid.UUID
    sku: str = Field(min_length=1)
    qty: int = Field(gt=0)


def handle(db: psycopg.Connection[Any], event: OrderCreated) -> str:
    """Apply one order.created event once; return its outcome, the stored one for a duplicate."""
    with db.transaction():  # the dedupe mark and the effect commit together
        if not db.execute(
            "INSERT INTO processed_events VALUES (%s, 'rejected') ON CONFLICT DO NOTHING", [event.event_id]
        ).rowcount:
            seen = db.execute("SELECT outcome FROM processed_events WHERE event_id = %s", [event.event_id])
            return str(seen.fetchone()[0])  # type: ignore[index]
        if db.execute(
            "UPDATE stock SET qty = qty - %s WHERE sku = %s AND qty >= %s", [event.qty, event.sku, event.qty]
        ).rowcount:
            db.execute("INSERT INTO reservations VALUES (%s, %s, %s)", [event.order_id, event.sku, event.qty])
            db.execute("UPDATE processed_events SET outcome = 'reserved' WHERE event_id = %s", [event.event_id])
            return "reserved"
    return "rejected"


# --8<-- [end:handle]


# --8<-- [start:run]
def park(
    channel: BlockingChannel, queue: str, body: bytes, props: pika.BasicProperties, error: ValidationError
) -> None:
    """Keep a message we can never handle in <queue>.dlq, with the reason; confirmed, so the caller may ack."""
    reason = "; ".join(f"{'.'.join(map(str, x['loc'])) or 'body'}: {x['msg']}" for x in error.errors())
    headers = {**(props.headers or {}), "x-rejected-reason": reason}
    channel.basic_publish(
        "", f"{queue}.dlq", body, pika.BasicProperties(delivery_mode=2, headers=headers), mandatory=True
    )


def run(db_url: str, amqp_url: str, prefix: str, stop: threading.Event, deliveries: list[str]) -> None:
    """Consume <prefix>.inventory.order-created until stop is set; record every handled event_id.
    A message that is not a valid event goes to <queue>.dlq at once, and the consumer goes on."""
    queue, replies = f"{prefix}.inventory.order-created", f"{prefix}.inventory"
    with psycopg.connect(db_url, autocommit=True) as db:
        db.execute("CREATE TABLE IF NOT EXISTS processed_events (event_id uuid PRIMARY KEY, outcome text NOT NULL)")
        connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
        channel = connection.channel()
        channel.exchange_declare(f"{prefix}.orders", "topic", durable=True)
        channel.queue_declare(queue, durable=True)
        channel.queue_declare(f"{queue}.dlq", durable=True)  # where messages we can never handle wait
        channel.queue_bind(queue, f"{prefix}.orders", routing_key="order.created")
        channel.exchange_declare(replies, "topic", durable=True)  # where our answers go, and who waits
        channel.queue_declare(f"{prefix}.orders.stock-replies", durable=True)  # for them (both sides declare)
        channel.queue_bind(f"{prefix}.orders.stock-replies", replies, routing_key="stock.*")
        channel.confirm_delivery()  # every publish below returns only once the broker has it
        channel.basic_qos(prefetch_count=20)
        for method, props, body in channel.consume(queue, inactivity_timeout=0.05):
            if stop.is_set():
                break
            if method is None or props is None or body is None:
                continue  # nothing arrived within 50 ms: look at stop again
            assert method.delivery_tag is not None
            try:
                event = OrderCreated.model_validate_json(body)  # not JSON, a key missing, a bad value: raises
            except ValidationError as e:  # retrying cannot fix it: park it at once and go on
                park(channel, queue, body, props, e)
                channel.basic_ack(method.delivery_tag)
                continue
            outcome = handle(db, event)
            reply = {
                "event_id": str(uuid.uuid5(event.event_id, outcome)),  # the same for a redelivery
                "order_id": str(event.order_id),
                "outcome": outcome,
            }
            channel.basic_publish(
                replies,
                f"stock.{outcome}",
                json.dumps(reply).encode(),
                pika.BasicProperties(delivery_mode=2),
                mandatory=True,
            )  # confirmed
            deliveries.append(str(event.event_id))
            channel.basic_ack(method.delivery_tag)  # last: a crash before it means a redelivery, absorbed above
        channel.cancel()
        connection.close()


# --8<-- [end:run]


def stop_at_eof(stop: threading.Event) -> None:
    sys.stdin.read()
    stop.set()


def main() -> None:
    base = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    with psycopg.connect(base) as conn:
        name = f"{conn.info.dbname}_inventory"  # inventory's own database
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            sys.exit(f"database {name} does not exist: run inventory_service.py first (it creates it)")
    db_url = make_conninfo(base, dbname=name)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if not sys.stdin.isatty():  # started by a program: stop when it closes our stdin (or exits)
        threading.Thread(target=stop_at_eof, args=[stop], daemon=True).start()
    amqp_url = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
    run(db_url, amqp_url, os.environ.get("DEMO_PREFIX", "demo"), stop, deliveries=[])


if __name__ == "__main__":
    main()
