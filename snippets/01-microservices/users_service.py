"""The users service: its own process, its own port, its own database (<page db>_users)."""

from __future__ import annotations

import os
import socket
import sys
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import psycopg
import uvicorn
from fastapi import FastAPI, HTTPException
from psycopg import sql
from psycopg.conninfo import make_conninfo
from psycopg_pool import ConnectionPool


# --8<-- [start:ensure_database]
def ensure_database(base_url: str, service: str) -> str:
    """Create <base db>_<service> if missing; return its conninfo. Nobody else connects to it."""
    with psycopg.connect(base_url, autocommit=True) as conn:
        name = f"{conn.info.dbname}_{service}"
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            with suppress(psycopg.errors.DuplicateDatabase):  # another instance was first
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return make_conninfo(base_url, dbname=name)


def init_schema(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        conn.execute("SELECT pg_advisory_xact_lock(1)")  # instances starting together
        conn.execute("CREATE TABLE IF NOT EXISTS users (id int PRIMARY KEY, name text NOT NULL)")
        conn.execute("INSERT INTO users VALUES (1, 'Ada'), (2, 'Alan') ON CONFLICT DO NOTHING")


def create_app(db_url: str) -> FastAPI:
    pool = ConnectionPool(db_url, min_size=1, max_size=2, open=False)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool.open(wait=True)
        yield
        pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/users/{user_id}")
    def get_user(user_id: int) -> dict[str, Any]:
        with pool.connection() as conn:
            row = conn.execute("SELECT id, name FROM users WHERE id = %s", [user_id]).fetchone()
        if row is None:
            raise HTTPException(404, f"no user {user_id}")
        return {"id": row[0], "name": row[1]}

    return app


def stop_at_eof(server: uvicorn.Server) -> None:
    sys.stdin.read()
    server.should_exit = True


def main() -> None:
    db_url = ensure_database(os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"), "users")
    init_schema(db_url)
    sock = socket.create_server(("127.0.0.1", int(os.environ.get("PORT", "0"))))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # else keep-alive replies wait for delayed ACKs
    print(f"users listening on http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    server = uvicorn.Server(uvicorn.Config(create_app(db_url), log_level="warning"))
    if not sys.stdin.isatty():  # started by a program: stop when it closes our stdin (or exits)
        threading.Thread(target=stop_at_eof, args=[server], daemon=True).start()
    server.run(sockets=[sock])


if __name__ == "__main__":
    main()
# --8<-- [end:ensure_database]
