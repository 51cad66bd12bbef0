"""The inventory service: reserves stock atomically and idempotently, in its own database."""

from __future__ import annotations

import os
import socket
import sys
import threading
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import psycopg
import uvicorn
from fastapi import FastAPI, HTTPException
from psycopg import sql
from psycopg.conninfo import make_conninfo
from psycopg_pool import ConnectionPool
from pydantic import BaseModel, Field

# --8<-- [start:reservation]
SCHEMA = """
CREATE TABLE IF NOT EXISTS stock (sku text PRIMARY KEY, qty int NOT NULL CHECK (qty >= 0));
CREATE TABLE IF NOT EXISTS reservations (order_id uuid PRIMARY KEY, sku text NOT NULL, qty int NOT NULL);
INSERT INTO stock VALUES ('widget', 100), ('gadget', 5) ON CONFLICT DO NOTHING;
"""


class Reservation(BaseModel):
    order_id: uuid.UUID
    sku: str = Field(min_length=1, max_length=40)
    qty: int = Field(gt=0, le=1000)


def ensure_database(base_url: str, service: str) -> str:
    with psycopg.connect(base_url, autocommit=True) as conn:
        name = f"{conn.info.dbname}_{service}"
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            with suppress(psycopg.errors.DuplicateDatabase):  # another instance was first
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return make_conninfo(base_url, dbname=name)


def reserve(conn: psycopg.Connection[Any], r: Reservation) -> bool:
    """Reserve r.qty of r.sku for r.order_id exactly once; False if there is not enough stock."""
    with conn.transaction() as tx:
        if not conn.execute(
            "INSERT INTO reservations VALUES (%s, %s, %s) ON CONFLICT (order_id) DO NOTHING", [r.order_id, r.sku, r.qty]
        ).rowcount:
            return True  # a retried request: this order already holds its stock, do not take it twice
        if conn.execute(  # check and take in one statement: no oversell under concurrency
            "UPDATE stock SET qty = qty - %s WHERE sku = %s AND qty >= %s", [r.qty, r.sku, r.qty]
        ).rowcount:
            return True
        raise psycopg.Rollback(tx)  # not enough stock: undo the reservation row too
    return False


def create_app(db_url: str) -> FastAPI:
    pool = ConnectionPool(db_url, min_size=1, max_size=2, open=False)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool.open(wait=True)
        yield
        pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.post("/reservations", status_code=201)
    def create_reservation(r: Reservation) -> dict[str, str]:
        with pool.connection() as conn:
            if not reserve(conn, r):
                raise HTTPException(409, f"not enough {r.sku} in stock")
        return {"order_id": str(r.order_id), "status": "reserved"}

    return app


# --8<-- [end:reservation]


# --8<-- [start:stop_at_eof]
def stop_at_eof(server: uvicorn.Server) -> None:
    sys.stdin.read()
    server.should_exit = True


def main() -> None:
    base = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    db_url = ensure_database(base, "inventory")
    with psycopg.connect(db_url) as conn:
        conn.execute("SELECT pg_advisory_xact_lock(1)")
        conn.execute(SCHEMA)
    sock = socket.create_server(("127.0.0.1", int(os.environ.get("PORT", "0"))))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # else keep-alive replies wait for delayed ACKs
    print(f"inventory listening on http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    server = uvicorn.Server(uvicorn.Config(create_app(db_url), log_level="warning"))
    if not sys.stdin.isatty():  # started by a program: stop when it closes our stdin (or exits)
        threading.Thread(target=stop_at_eof, args=[server], daemon=True).start()
    server.run(sockets=[sock])


if __name__ == "__main__":
    main()
# --8<-- [end:stop_at_eof]
