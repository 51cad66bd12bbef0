"""The orders side of the reply: stock.reserved / stock.rejected move a pending order on, once."""

from __future__ import annotations

import os
import signal
import sys
import threading
import uuid
from typing import Any, Literal

import pika
import psycopg
from pika.adapters.blocking_connection import BlockingChannel
from psycopg.conninfo import make_conninfo
from pydantic import BaseModel, ValidationError

NEXT = {"reserved": "confirmed", "rejected": "rejected"}


# --8<-- [start:run]
class StockReply(BaseModel):  # what a reply must be before we touch the database
    event_id: uuid.UUID
    order_id: uuid.UUID
    outcome: Literal["reserved", "rejected"]


def apply(db: psycopg.Connection[Any], reply: StockReply) -> bool:
    """Move the order out of pending; False if it already moved (a duplicate reply changes nothing)."""
    return (
        db.execute(
            "UPDATE orders SET status = %s WHERE id = %s AND status = 'pending'", [NEXT[reply.outcome], reply.order_id]
        ).rowcount
        == 1
    )


def park(
    channel: BlockingChannel, queue: str, body: bytes, props: pika.BasicProperties, error: ValidationError
) -> None:
    """Keep a message we can never handle in <queue>.dlq, with the reason; confirmed, so the caller may ack."""
    reason = "; ".join(f"{'.'.join(map(str, x['loc'])) or 'body'}: {x['msg']}" for x in error.errors())
    headers = {**(props.headers or {}), "x-rejected-reason": reason}
    channel.basic_publish(
        "", f"{queue}.dlq", body, pika.BasicProperties(delivery_mode=2, headers=headers), mandatory=True
    )


def run(db_url: str, amqp_url: str, prefix: str, stop: threading.Event, replies: list[str]) -> None:
    """Consume <prefix>.orders.stock-replies until stop is set; record every handled reply's order_id.
    A message that is not a valid reply goes to <queue>.dlq at once, and the consumer goes on."""
    queue, exchange = f"{prefix}.orders.stock-replies", f"{prefix}.inventory"
    with psycopg.connect(db_url, autocommit=True) as db:
        connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
        channel = connection.channel()
        channel.exchange_declare(exchange, "topic", durable=True)
        channel.queue_declare(queue, durable=True)
        channel.queue_declare(f"{queue}.dlq", durable=True)  # where messages we can never handle wait
        channel.queue_bind(queue, exchange, routing_key="stock.*")
        channel.confirm_delivery()  # park() returns only once the broker has the copy
        for method, props, body in channel.consume(queue, inactivity_timeout=0.05):
            if stop.is_set():
                break
            if method is None or props is None or body is None:
                continue
            assert method.delivery_tag is not None
            try:
                reply = StockReply.model_validate_json(body)  # not JSON, a key missing, a bad value: raises
            except ValidationError as e:  # retrying cannot fix it: park it at once and go on
                park(channel, queue, body, props, e)
                channel.basic_ack(method.delivery_tag)
                continue
            apply(db, reply)
            replies.append(str(reply.order_id))
            channel.basic_ack(method.delivery_tag)
        channel.cancel()
        connection.close()


# --8<-- [end:run]


def stop_at_eof(stop: threading.Event) -> None:
    sys.stdin.read()
    stop.set()


def main() -> None:
    base = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    with psycopg.connect(base) as conn:
        name = f"{conn.info.dbname}_orders"  # the orders service's database
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            sys.exit(f"database {name} does not exist: run orders_service.py first (it creates it)")
    db_url = make_conninfo(base, dbname=name)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if not sys.stdin.isatty():  # started by a program: stop when it closes our stdin (or exits)
        threading.Thread(target=stop_at_eof, args=[stop], daemon=True).start()
    amqp_url = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
    run(db_url, amqp_url, os.environ.get("DEMO_PREFIX", "demo"), stop, replies=[])


if __name__ == "__main__":
    main()
