"""A FastAPI service that owns one connection pool: opened at startup, closed at shutdown.

Serve it with:  uvicorn --factory app:create_app --port 8000
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from psycopg_pool import AsyncConnectionPool

APP_NAME = "q6-app"


def create_app(url: str | None = None) -> FastAPI:
    url = url or os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    pool = AsyncConnectionPool(url, min_size=2, max_size=4, open=False, kwargs={"application_name": APP_NAME})

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await pool.open(wait=True)
        print(f"app: pool open, {pool.get_stats()['pool_size']} connections", flush=True)
        yield  # the app serves requests here; uvicorn drains in-flight ones after SIGTERM
        await pool.close()
        print("app: pool closed", flush=True)

    app = FastAPI(lifespan=lifespan)

    @app.get("/health")
    async def health() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/slow")
    async def slow(seconds: float = 1.0) -> dict[str, float]:
        async with pool.connection() as conn:
            cur = await conn.execute("SELECT pg_sleep(%s), %s::float8", [seconds, seconds])
            row = await cur.fetchone()
        assert row is not None
        return {"slept": row[1]}

    return app
