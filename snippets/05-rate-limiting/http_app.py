"""Rate-limit middleware on a real ASGI app: 429 + Retry-After and the IETF RateLimit fields
(draft-ietf-httpapi-ratelimit-headers-11), keyed by authenticated user, else by client IP."""

import os
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import redis
import uvicorn
from fastapi import FastAPI, Request, Response
from redis.asyncio import Redis

# --8<-- [start:create_app]
FIXED_WINDOW = """
local n = redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('PTTL', KEYS[1])}
"""
API_KEYS = {"k-alice": "alice", "k-bob": "bob"}  # stands in for real authentication


def create_app(redis_url: str, prefix: str, limit: int, window: int) -> FastAPI:
    app, script = FastAPI(), Redis.from_url(redis_url).register_script(FIXED_WINDOW)

    @app.middleware("http")
    async def rate_limit(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        user = API_KEYS.get(request.headers.get("x-api-key", ""))
        who = f"user:{user}" if user else f"ip:{request.client.host if request.client else 'unknown'}"
        count, pttl = await script(keys=[f"{prefix}:http:{who}"], args=[window * 1000])
        remaining, reset = max(0, limit - count), -(-pttl // 1000)
        if count > limit:
            response = Response('{"detail":"Too Many Requests"}', 429, media_type="application/json")
            response.headers["Retry-After"] = str(reset)
        else:
            response = await call_next(request)
        response.headers["RateLimit-Policy"] = f'"default";q={limit};w={window}'
        response.headers["RateLimit"] = f'"default";r={remaining};t={reset}'
        return response

    @app.get("/hello")
    async def hello() -> dict[str, str]:
        return {"hello": "world"}

    return app


@contextmanager
def serve(app: FastAPI, host: str = "127.0.0.1", **options: Any) -> Iterator[str]:
    """Run uvicorn on a free port of host (127.0.0.1, or ::1) in a thread; stop it on exit."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.bind((host, 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", **options))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]})
    thread.start()
    while not server.started and thread.is_alive():
        time.sleep(0.01)
    try:
        yield f"http://{f'[{host}]' if ':' in host else host}:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join()
        sock.close()


# --8<-- [end:create_app]


# --8<-- [start:main]
def main() -> None:
    url, prefix = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), os.environ.get("DEMO_PREFIX", "demo")
    with serve(create_app(url, prefix, limit=3, window=60), forwarded_allow_ips="10.0.0.1") as base:
        alice = [httpx.get(f"{base}/hello", headers={"X-API-Key": "k-alice"}) for _ in range(4)]
        print("alice:", [r.status_code for r in alice], [r.headers["RateLimit"].split(";t=")[0] for r in alice])
        print("bob:", httpx.get(f"{base}/hello", headers={"X-API-Key": "k-bob"}).status_code)
        last = alice[-1]
        print("RateLimit-Policy:", last.headers["RateLimit-Policy"])
        print("Retry-After within the window:", 0 < int(last.headers["Retry-After"]) <= 60)
        spoofed = [httpx.get(f"{base}/hello", headers={"X-Forwarded-For": f"203.0.113.{i}"}) for i in range(5)]
        print("anonymous, spoofed X-Forwarded-For, proxy not trusted:", [r.status_code for r in spoofed])
    sync = redis.Redis.from_url(url)
    sync.delete(*sync.scan_iter(f"{prefix}:http:*"))


if __name__ == "__main__":
    main()
# --8<-- [end:main]
