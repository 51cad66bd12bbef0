"""The outbox relay: publishes committed outbox rows to RabbitMQ with publisher confirms."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from contextlib import suppress
from typing import Any

import pika
import psycopg
from pika.adapters.blocking_connection import BlockingChannel
from pika.exceptions import AMQPError
from psycopg.conninfo import make_conninfo


# --8<-- [start:open_channel]
def open_channel(amqp_url: str, exchange: str) -> BlockingChannel:
    channel = pika.BlockingConnection(pika.URLParameters(amqp_url)).channel()
    channel.confirm_delivery()  # basic_publish now returns only once the broker has the message
    channel.exchange_declare(exchange, "topic", durable=True)
    return channel


def relay_batch(db: psycopg.Connection[Any], channel: BlockingChannel, exchange: str) -> int:
    """Publish up to 100 unpublished events; mark them only after the broker confirmed them."""
    with db.transaction():  # a failed publish rolls back the marks: the rows are tried again later
        rows = db.execute(
            "SELECT id, event_id, topic, payload FROM outbox WHERE published_at IS NULL"
            " ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED"
        ).fetchall()
        for _, event_id, topic, payload in rows:
            channel.basic_publish(
                exchange,
                topic,
                json.dumps(payload).encode(),
                pika.BasicProperties(message_id=str(event_id), delivery_mode=2, content_type="application/json"),
                mandatory=True,
            )
        db.execute("UPDATE outbox SET published_at = now() WHERE id = ANY(%s)", [[r[0] for r in rows]])
    return len(rows)


# --8<-- [end:open_channel]


def close(channel: BlockingChannel | None) -> None:
    if channel is not None:
        with suppress(Exception):  # it may be half dead already
            channel.connection.close()


def run(db_url: str, amqp_url: str, exchange: str, stop: threading.Event, failures: list[str]) -> None:
    """Relay until stop is set; every failed publish or connect is appended to failures."""
    channel: BlockingChannel | None = None
    with psycopg.connect(db_url, autocommit=True) as db:
        while not stop.is_set():
            try:
                channel = channel or open_channel(amqp_url, exchange)
                if relay_batch(db, channel, exchange):
                    continue  # there may be more
            except (AMQPError, OSError) as e:  # unreachable, cut, nacked, unroutable
                failures.append(type(e).__name__)
                close(channel)
                channel = None
            stop.wait(0.05)
    close(channel)


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
    amqp_url = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if not sys.stdin.isatty():  # started by a program: stop when it closes our stdin (or exits)
        threading.Thread(target=stop_at_eof, args=[stop], daemon=True).start()
    run(db_url, amqp_url, os.environ.get("DEMO_PREFIX", "demo") + ".orders", stop, failures=[])


if __name__ == "__main__":
    main()
