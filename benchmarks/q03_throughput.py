"""Q3: publish + consume throughput over RabbitMQ with and without publisher confirms, a connection
per message (the common answer's producer), and how fast requeue=True loops a poison message.

Every mode (3 runs, medians) publishes persistent JSON messages to a durable queue and consumes them the page's way
(reliable.consume: prefetch, manual ack of each message after handling).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import aio_pika
import pika

from verify.helpers import depth, environment, eventually, load_snippet

N = 2000
REPEAT = 3  # each mode runs 3 times; the table shows the medians
N_PER_CONNECTION = 300


def body(i: int) -> bytes:
    return json.dumps({"order_id": i, "total": 10 * i, "note": "x" * 60}).encode()


def consume_all(reliable: Any, url: str, queue: str) -> float:
    with pika.BlockingConnection(pika.URLParameters(url)) as conn:
        ch = conn.channel()
        last = [0.0]
        t = time.perf_counter()
        handled = reliable.consume(ch, queue, lambda p: last.__setitem__(0, time.perf_counter()), 100, idle=2.0)
        ch.queue_delete(queue)
    assert handled == N, handled
    return last[0] - t  # until the last message was handled (not the idle wait that ends consume())


def publish_blocking(reliable: Any, url: str, queue: str, confirms: bool) -> tuple[float, float]:
    """(start, seconds until the last basic_publish returned)."""
    with pika.BlockingConnection(pika.URLParameters(url)) as conn:
        ch = reliable.open_channel(conn, queue) if confirms else conn.channel()
        ch.queue_declare(queue, durable=True)
        t = time.perf_counter()
        for i in range(N):
            ch.basic_publish("", queue, body(i), reliable.PERSISTENT, mandatory=confirms)
        return t, time.perf_counter() - t


async def publish_batched(url: str, queue: str, window: int) -> tuple[float, float]:
    conn = await aio_pika.connect(url)
    async with conn:
        ch = await conn.channel(publisher_confirms=True)
        await ch.declare_queue(queue, durable=True)
        t = time.perf_counter()
        for start in range(0, N, window):
            await asyncio.gather(
                *(
                    ch.default_exchange.publish(
                        aio_pika.Message(body(i), delivery_mode=aio_pika.DeliveryMode.PERSISTENT), queue, mandatory=True
                    )
                    for i in range(start, min(start + window, N))
                )
            )
        return t, time.perf_counter() - t


def connection_per_message(url: str, queue: str) -> float:
    """The common answer's publishMessage(): connect, open a channel, declare, publish, close -- per message."""
    t = time.perf_counter()
    for i in range(N_PER_CONNECTION):
        with pika.BlockingConnection(pika.URLParameters(url)) as conn:
            ch = conn.channel()
            ch.queue_declare(queue, durable=True)
            ch.basic_publish("", queue, body(i), pika.BasicProperties(delivery_mode=2))
    elapsed = time.perf_counter() - t
    with pika.BlockingConnection(pika.URLParameters(url)) as conn:
        conn.channel().queue_delete(queue)
    return elapsed


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:,.0f}"


def run(env: dict[str, str]) -> dict[str, Any]:
    with environment(env):  # the snippets (and the worker they start) read os.environ
        return measure(env)


def measure(env: dict[str, str]) -> dict[str, Any]:
    reliable = load_snippet("03-message-queues/reliable.py")
    poison = load_snippet("03-message-queues/poison_requeue.py")
    url, prefix = env["AMQP_URL"], env["DEMO_PREFIX"]
    rows, figures, pub_rate = [], {}, {}
    modes: list[tuple[str, str, Callable[[str], tuple[float, float]]]] = [
        ("no confirms", "none", lambda q: publish_blocking(reliable, url, q, confirms=False)),
        ("confirms + mandatory, wait for each (pika)", "each", lambda q: publish_blocking(reliable, url, q, True)),
        (
            "confirms + mandatory, 100 in flight (aio-pika)",
            "window",
            lambda q: asyncio.run(publish_batched(url, q, 100)),
        ),
    ]
    for label, key, publish in modes:
        runs = []
        for r in range(REPEAT):
            queue = f"{prefix}.bench-{key}-{r}"
            start, pub = publish(queue)
            eventually(lambda q=queue: depth(env, q) == N, "all messages queued", 120)  # type: ignore[misc]
            queued = time.perf_counter() - start  # until the broker held every message
            runs.append((pub, queued, consume_all(reliable, url, queue)))
        pub, queued, con = (statistics.median(x) for x in zip(*runs, strict=True))
        total = statistics.median(q + c for _, q, c in runs)
        rows.append([label, rate(N, pub), rate(N, queued), rate(N, con), rate(N, total)])
        figures[f"publish_{key}"], pub_rate[key] = rate(N, pub), N / pub
        figures[f"queued_{key}"] = rate(N, queued)
        figures[f"end_to_end_{key}"] = rate(N, total)
    per_conn = connection_per_message(url, f"{prefix}.bench-per-connection")
    figures["publish_per_connection"] = rate(N_PER_CONNECTION, per_conn)
    figures["per_connection_ms"] = f"{per_conn / N_PER_CONNECTION * 1000:.1f} ms"
    rows.append(
        ["new connection per message (the common answer), no confirms", rate(N_PER_CONNECTION, per_conn), "", "", ""]
    )
    figures["confirm_cost"] = f"{pub_rate['none'] / pub_rate['each']:.1f}\u00d7"
    figures["window_gain"] = f"{pub_rate['window'] / pub_rate['each']:.1f}\u00d7"
    figures["messages"] = f"{N:,}"

    queue = f"{prefix}.bench-poison"
    with pika.BlockingConnection(pika.URLParameters(url)) as conn:
        ch = conn.channel()
        ch.queue_declare(queue, durable=True)
        ch.confirm_delivery()
        ch.basic_publish("", queue, b'{"order_id": 13}')
        loops = poison.requeue_loop(ch, queue, seconds=2.0)
        ch.queue_delete(queue)
    figures["poison_per_second"] = rate(loops, 2.0)
    figures["poison_per_hour"] = f"{loops / 2.0 * 3600 / 1e6:.1f} million"
    return {
        "figures": figures,
        "tables": {
            "throughput": {
                "columns": [
                    "publisher",
                    "publish calls/s",
                    "in the queue, msg/s",
                    "consume msg/s",
                    "publish + consume msg/s",
                ],
                "rows": rows,
            }
        },
    }
