"""kill -9 a consumer mid-batch: every message is redelivered, and an inbox table makes the
redelivery harmless. Effect and inbox row commit together; the ack comes after, in batches."""

# --8<-- [start:inbox]
import json
import os
import signal
import subprocess
import sys
import time

import pika
import psycopg
from pika.adapters.blocking_connection import BlockingChannel

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
AMQP_URL = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
QUEUE = os.environ.get("DEMO_PREFIX", "demo") + ".credits"
SCHEMA = """
CREATE TABLE IF NOT EXISTS account (id int PRIMARY KEY, balance bigint NOT NULL, naive bigint NOT NULL);
CREATE TABLE IF NOT EXISTS inbox (message_id text PRIMARY KEY);
CREATE TABLE IF NOT EXISTS deliveries (message_id text, redelivered boolean, applied boolean);
INSERT INTO account VALUES (1, 0, 0) ON CONFLICT DO NOTHING;
"""


def apply(conn: psycopg.Connection, message_id: str, amount: int, redelivered: bool) -> bool:
    """Credit the account once per message id; `naive` is what a consumer without the inbox would do."""
    with conn.transaction():
        conn.execute("UPDATE account SET naive = naive + %s WHERE id = 1", [amount])
        new = conn.execute("INSERT INTO inbox VALUES (%s) ON CONFLICT DO NOTHING", [message_id]).rowcount == 1
        if new:
            conn.execute("UPDATE account SET balance = balance + %s WHERE id = 1", [amount])
        conn.execute("INSERT INTO deliveries VALUES (%s, %s, %s)", [message_id, redelivered, new])
    return new


# --8<-- [end:inbox]


# --8<-- [start:consume]
def credit_of(props: pika.BasicProperties, body: bytes) -> int | None:
    """The amount to credit, or None if the message is malformed: no id, not JSON, no integer amount."""
    try:
        amount = json.loads(body)["amount"]
    except (ValueError, TypeError, KeyError):  # not JSON / not an object / no amount
        return None
    return amount if props.message_id and type(amount) is int else None


def consume(amqp_url: str, db_url: str, queue: str, batch: int = 25, work: float = 0.01) -> None:
    """Ack every `batch` messages (fewer round trips); the queue idle for 1 s means done.
    A malformed message is copied to <queue>.dlq (confirmed) and acked at once; the rest go on."""
    with psycopg.connect(db_url, autocommit=True) as conn, pika.BlockingConnection(pika.URLParameters(amqp_url)) as mq:
        ch = mq.channel()
        ch.confirm_delivery()
        ch.queue_declare(f"{queue}.dlq", durable=True)
        ch.basic_qos(prefetch_count=2 * batch)
        unacked, last = 0, 0
        for method, props, body in ch.consume(queue, inactivity_timeout=1.0):
            if method is None or props is None or body is None:
                break
            amount = credit_of(props, body)
            if amount is None:  # retrying cannot fix it: park it, ack just this one, go on
                ch.basic_publish("", f"{queue}.dlq", body, props, mandatory=True)
                ch.basic_ack(method.delivery_tag or 0)
                continue
            apply(conn, props.message_id or "", amount, bool(method.redelivered))
            time.sleep(work)  # the rest of the work
            unacked, last = unacked + 1, method.delivery_tag or 0
            if unacked == batch:
                ch.basic_ack(last, multiple=True)
                unacked = 0
        if unacked:
            ch.basic_ack(last, multiple=True)


# --8<-- [end:consume]


# --8<-- [start:demo]
def publish_credits(ch: BlockingChannel, queue: str, n: int) -> None:
    ch.confirm_delivery()
    ch.queue_declare(queue, durable=True)
    for i in range(1, n + 1):
        props = pika.BasicProperties(message_id=f"credit-{i}", delivery_mode=pika.DeliveryMode.Persistent)
        ch.basic_publish("", queue, json.dumps({"amount": i}).encode(), props, mandatory=True)


def kill_mid_batch(conn: psycopg.Connection, after: int) -> int:
    """Run consume() in its own process; SIGKILL it once `after` credits are committed."""
    worker = subprocess.Popen([sys.executable, __file__, "consume"])
    while (n := conn.execute("SELECT count(*) FROM inbox").fetchone()) and n[0] < after:
        time.sleep(0.005)
    os.kill(worker.pid, signal.SIGKILL)  # no cleanup, no ack: like a power cut or the OOM killer
    return worker.wait()


def main() -> None:
    with (
        psycopg.connect(DATABASE_URL, autocommit=True) as conn,
        pika.BlockingConnection(pika.URLParameters(AMQP_URL)) as mq,
    ):
        conn.execute(SCHEMA)
        ch = mq.channel()
        publish_credits(ch, QUEUE, 100)
        print("published 100 credits, total", sum(range(1, 101)))
        status = kill_mid_batch(conn, after=30)  # acked up to 25: the next ~5 are committed, not acked
        print("consumer exit status", status, "(SIGKILL) after >= 30 credits; a new consumer drains the queue")
        consume(AMQP_URL, DATABASE_URL, QUEUE)
        ch.queue_delete(QUEUE)
        bal, naive = conn.execute("SELECT balance, naive FROM account").fetchone() or (0, 0)
        (applied,) = conn.execute("SELECT count(*) FROM inbox").fetchone() or (0,)
        (skipped,) = conn.execute("SELECT count(*) FROM deliveries WHERE redelivered AND NOT applied").fetchone() or (
            0,
        )
        print(f"applied {applied}/100, lost {100 - applied}, double-applied {bal - 5050} (balance {bal})")
        print("redelivered after their credit was committed, skipped by the inbox:", skipped > 0)
        print("without the inbox the balance would be too high:", naive > 5050)


if __name__ == "__main__":
    if sys.argv[1:] == ["consume"]:
        consume(AMQP_URL, DATABASE_URL, QUEUE)
    else:
        main()
# --8<-- [end:demo]
