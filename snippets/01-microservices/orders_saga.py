"""The orders side of the reply: stock.reserved / stock.rejected move a pending order on, once."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from typing import Any

import pika
import psycopg
from psycopg.conninfo import make_conninfo

NEXT = {"reserved": "confirmed", "rejected": "rejected"}


def apply(db: psycopg.Connection[Any], reply: dict[str, Any]) -> bool:
    """Move the order out of pending; False if it already moved (a duplicate reply changes nothing)."""
    return db.execute("UPDATE orders SET status = %s WHERE id = %s AND status = 'pending'",
                      [NEXT[reply["outcome"]], reply["order_id"]]).rowcount == 1


def run(db_url: str, amqp_url: str, prefix: str, stop: threading.Event, replies: list[str]) -> None:
    """Consume <prefix>.orders.stock-replies until stop is set; record every reply's order_id."""
    queue, exchange = f"{prefix}.orders.stock-replies", f"{prefix}.inventory"
    with psycopg.connect(db_url, autocommit=True) as db:
        connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
        channel = connection.channel()
        channel.exchange_declare(exchange, "topic", durable=True)
        channel.queue_declare(queue, durable=True)
        channel.queue_bind(queue, exchange, routing_key="stock.*")
        for method, _, body in channel.consume(queue, inactivity_timeout=0.05):
            if stop.is_set():
                break
            if method is None or body is None:
                continue
            reply = json.loads(body)
            apply(db, reply)
            replies.append(reply["order_id"])
            assert method.delivery_tag is not None
            channel.basic_ack(method.delivery_tag)
        channel.cancel()
        connection.close()


def stop_at_eof(stop: threading.Event) -> None:
    sys.stdin.read()
    stop.set()


def main() -> None:
    base = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    with psycopg.connect(base) as conn:
        db_url = make_conninfo(base, dbname=f"{conn.info.dbname}_orders")  # the orders service's database
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if not sys.stdin.isatty():  # started by a program: stop when it closes our stdin (or exits)
        threading.Thread(target=stop_at_eof, args=[stop], daemon=True).start()
    amqp_url = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
    run(db_url, amqp_url, os.environ.get("DEMO_PREFIX", "demo"), stop, replies=[])


if __name__ == "__main__":
    main()
