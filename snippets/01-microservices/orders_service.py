"""The orders service: composes users and inventory synchronously, or accepts and publishes later."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import threading
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import httpx
import psycopg
import pybreaker
import uvicorn
from fastapi import FastAPI, HTTPException
from psycopg import sql
from psycopg.conninfo import make_conninfo
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel, Field
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, stop_after_delay, wait_exponential

SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (id uuid PRIMARY KEY, user_id int NOT NULL, sku text NOT NULL,
                                   qty int NOT NULL CHECK (qty > 0), status text NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (id bigserial PRIMARY KEY, event_id uuid NOT NULL UNIQUE, topic text NOT NULL,
                                   payload jsonb NOT NULL, published_at timestamptz);
"""


class OrderIn(BaseModel):
    user_id: int = Field(gt=0)
    sku: str = Field(min_length=1, max_length=40)
    qty: int = Field(gt=0, le=1000)


class Unavailable(Exception):
    """No answer, or a 5xx: worth a retry, and counted by the circuit breaker."""


ATTEMPT_S, CALL_S = 1.0, 3.0  # one try, and a whole call with its retries: status line, headers and body


def ensure_database(base_url: str, service: str) -> str:
    with psycopg.connect(base_url, autocommit=True) as conn:
        name = f"{conn.info.dbname}_{service}"
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            with suppress(psycopg.errors.DuplicateDatabase):  # another instance was first
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return make_conninfo(base_url, dbname=name)


def create_app(db_url: str, users_url: str, inventory_url: str, breaker_reset: float = 30.0) -> FastAPI:
    pool = AsyncConnectionPool(db_url, min_size=1, max_size=2, open=False)
    nodelay = httpx.AsyncHTTPTransport(socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
    http = httpx.AsyncClient(timeout=httpx.Timeout(ATTEMPT_S, connect=0.5), transport=nodelay)  # each read
    breakers = {s: pybreaker.CircuitBreaker(fail_max=5, reset_timeout=breaker_reset) for s in ("users", "inventory")}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await pool.open(wait=True)
        yield
        await pool.close()
        await http.aclose()

    app = FastAPI(lifespan=lifespan)

    # --8<-- [start:sync]
    async def send(service: str, method: str, url: str, deadline: float, **kwargs: Any) -> httpx.Response:
        if asyncio.get_running_loop().time() >= deadline:
            raise Unavailable("timed out")  # no time left for another try
        with breakers[service].calling():  # open circuit: CircuitBreakerError at once, no call
            try:  # httpx's timeouts bound each read, not the response: a server may drip bytes forever
                async with asyncio.timeout_at(min(deadline, asyncio.get_running_loop().time() + ATTEMPT_S)):
                    response = await http.request(method, url, **kwargs)  # status, headers and whole body
            except (TimeoutError, httpx.TimeoutException) as e:
                raise Unavailable("timed out") from e
            except httpx.TransportError as e:  # refused, reset
                raise Unavailable(type(e).__name__) from e
            if response.status_code >= 500:
                raise Unavailable(f"HTTP {response.status_code}")
            return response  # 2xx and 4xx are answers, not failures

    async def call(service: str, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """At most 3 tries (50 ms, then 100 ms apart) and CALL_S in all, each through the service's breaker."""
        deadline = asyncio.get_running_loop().time() + CALL_S
        retrying = AsyncRetrying(
            stop=stop_after_attempt(3) | stop_after_delay(CALL_S),
            reraise=True,
            wait=wait_exponential(multiplier=0.05, max=0.2),
            retry=retry_if_exception_type(Unavailable),
        )
        try:
            response: httpx.Response = await retrying(send, service, method, url, deadline, **kwargs)
        except pybreaker.CircuitBreakerError:
            raise HTTPException(503, f"{service} unavailable (circuit open), retry later") from None
        except Unavailable as e:
            raise HTTPException(503, f"{service} unavailable ({e}), retry later") from None
        return response

    @app.post("/orders", status_code=201)
    async def create_order(order: OrderIn) -> dict[str, str]:
        user = await call("users", "GET", f"{users_url}/users/{order.user_id}")
        if user.status_code == 404:
            raise HTTPException(422, f"unknown user {order.user_id}")
        if user.status_code != 200:
            raise HTTPException(502, f"users answered {user.status_code}")
        order_id = str(uuid.uuid4())  # chosen first, so a retried reservation is the same reservation
        reservation = await call(
            "inventory",
            "POST",
            f"{inventory_url}/reservations",
            json={"order_id": order_id, "sku": order.sku, "qty": order.qty},
        )
        if reservation.status_code == 409:
            raise HTTPException(409, f"not enough {order.sku} in stock")
        if reservation.status_code != 201:
            raise HTTPException(502, f"inventory answered {reservation.status_code}")
        async with pool.connection() as conn:
            await conn.execute(
                "INSERT INTO orders VALUES (%s, %s, %s, %s, 'confirmed')",
                [order_id, order.user_id, order.sku, order.qty],
            )
        return {"id": order_id, "status": "confirmed"}

    # --8<-- [end:sync]

    # --8<-- [start:async]
    @app.post("/orders/async", status_code=202)
    async def create_order_async(order: OrderIn) -> dict[str, str]:
        order_id, event_id = str(uuid.uuid4()), str(uuid.uuid4())
        event = {"event_id": event_id, "type": "order.created", "order_id": order_id, **order.model_dump()}
        async with pool.connection() as conn, conn.transaction():  # the order and its event: both or neither
            await conn.execute(
                "INSERT INTO orders VALUES (%s, %s, %s, %s, 'pending')", [order_id, order.user_id, order.sku, order.qty]
            )
            await conn.execute(
                "INSERT INTO outbox (event_id, topic, payload) VALUES (%s, 'order.created', %s)",
                [event_id, Jsonb(event)],
            )
        return {"id": order_id, "status": "pending"}  # the relay publishes it, now or after an outage

    # --8<-- [end:async]

    return app


def stop_at_eof(server: uvicorn.Server) -> None:
    sys.stdin.read()
    server.should_exit = True


def main() -> None:
    db_url = ensure_database(os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"), "orders")
    with psycopg.connect(db_url) as conn:
        conn.execute("SELECT pg_advisory_xact_lock(1)")
        conn.execute(SCHEMA)
    app = create_app(
        db_url,
        os.environ.get("USERS_URL", "http://127.0.0.1:8001"),
        os.environ.get("INVENTORY_URL", "http://127.0.0.1:8002"),
        float(os.environ.get("BREAKER_RESET_S", "30")),
    )
    sock = socket.create_server(("127.0.0.1", int(os.environ.get("PORT", "0"))))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # else keep-alive replies wait for delayed ACKs
    print(f"orders listening on http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    if not sys.stdin.isatty():  # started by a program: stop when it closes our stdin (or exits)
        threading.Thread(target=stop_at_eof, args=[server], daemon=True).start()
    server.run(sockets=[sock])


if __name__ == "__main__":
    main()
