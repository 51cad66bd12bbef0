"""Q1: latency of the synchronous order path (orders -> users -> inventory -> commit) against the
asynchronous one (orders commits order + outbox row, answers 202), and how long the asynchronous
order takes to reach inventory through the outbox relay and RabbitMQ."""

from __future__ import annotations

import random
import socket
import statistics
import threading
import time
from typing import Any

import httpx
import psycopg
import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.questions.microservices_helpers import run_all, running_system

N, WARMUP, E2E = 300, 30, 60


def ms(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[int(q) - 1] * 1000 if q < 100 else max(samples)


def timed(client: httpx.Client, url: str, body: dict[str, Any], expect: int) -> float:
    t = time.perf_counter()
    r = client.post(url, json=body)
    elapsed = time.perf_counter() - t
    assert r.status_code == expect, r.text
    return elapsed


def keepalive_p50(nodelay: bool, n: int = 100) -> float:
    """p50 of GETs on one keep-alive connection to uvicorn serving a pre-bound socket."""

    async def hello(request: Any) -> JSONResponse:
        return JSONResponse({"ok": True})

    sock = socket.create_server(("127.0.0.1", 0))
    if nodelay:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    server = uvicorn.Server(uvicorn.Config(Starlette(routes=[Route("/", hello)]), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]})
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        with httpx.Client() as client:
            url = f"http://127.0.0.1:{sock.getsockname()[1]}/"
            samples = []
            for _ in range(n):
                t = time.perf_counter()
                client.get(url).raise_for_status()
                samples.append(time.perf_counter() - t)
    finally:
        server.should_exit = True
        thread.join()
        sock.close()
    return ms(samples, 50)


def run(env: dict[str, str]) -> dict[str, Any]:
    nodelay = httpx.HTTPTransport(socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
    with running_system(env) as system, httpx.Client(timeout=10, transport=nodelay) as client:
        system.query("inventory", "INSERT INTO stock VALUES ('bench', 10000000)")
        orders, body = system.urls["orders"], {"user_id": 1, "sku": "bench", "qty": 1}
        paths = {"sync": (f"{orders}/orders", 201), "async": (f"{orders}/orders/async", 202)}
        samples: dict[str, list[float]] = {}
        for name, (url, code) in paths.items():
            for _ in range(WARMUP):
                timed(client, url, body, code)
            samples[name] = [timed(client, url, body, code) for _ in range(N)]
        helpers = [run_all.start(f, **env) for f in ("outbox_relay.py", "inventory_consumer.py", "orders_saga.py")]
        try:
            with psycopg.connect(system.db("orders"), autocommit=True) as db:

                def pending() -> int:
                    row = db.execute("SELECT count(*) FROM orders WHERE status = 'pending'").fetchone()
                    return int(row[0]) if row else 0

                deadline = time.monotonic() + 90  # let the saga drain the async orders placed above
                while pending() and time.monotonic() < deadline:
                    time.sleep(0.1)
                e2e, rng = [], random.Random(1)
                for _ in range(E2E):
                    time.sleep(rng.uniform(0, 0.05))  # do not fall into step with the relay's 50 ms polling
                    t = time.perf_counter()
                    order_id = client.post(paths["async"][0], json=body).json()["id"]
                    while db.execute("SELECT status FROM orders WHERE id = %s", [order_id]).fetchone() == ("pending",):
                        time.sleep(0.001)
                    e2e.append(time.perf_counter() - t)
        finally:
            run_all.stop(helpers)
    p50 = {k: ms(v, 50) for k, v in samples.items()}
    rows = [
        [
            "synchronous `POST /orders` (201)",
            "users + inventory over HTTP, then the insert",
            f"{p50['sync']:.1f}",
            f"{ms(samples['sync'], 95):.1f}",
            f"{ms(samples['sync'], 99):.1f}",
        ],
        [
            "asynchronous `POST /orders/async` (202)",
            "one transaction: order + outbox row",
            f"{p50['async']:.1f}",
            f"{ms(samples['async'], 95):.1f}",
            f"{ms(samples['async'], 99):.1f}",
        ],
        [
            "asynchronous, until the order is confirmed",
            "+ relay (polls every 50 ms), RabbitMQ, inventory, reply",
            f"{ms(e2e, 50):.1f}",
            f"{ms(e2e, 95):.1f}",
            f"{ms(e2e, 99):.1f}",
        ],
    ]
    return {
        "figures": {
            "sync_p50": f"{p50['sync']:.1f} ms",
            "async_p50": f"{p50['async']:.1f} ms",
            "ratio": f"{p50['sync'] / p50['async']:.1f}x",
            "e2e_p50": f"{ms(e2e, 50):.0f} ms",
            "requests": f"{N}",
            "nagle_p50": f"{keepalive_p50(nodelay=False):.1f} ms",
            "nodelay_p50": f"{keepalive_p50(nodelay=True):.1f} ms",
        },
        "tables": {"latency": {"columns": ["path", "waits for", "p50 ms", "p95 ms", "p99 ms"], "rows": rows}},
    }
