"""Atomic fixed window on Redis, two ways: a Lua script, or MULTI/EXEC with EXPIRE ... NX."""

import os
from dataclasses import dataclass
from functools import cache

import redis
from redis.commands.core import Script

# --8<-- [start:fixed_window_script]
# One script = one atomic step on the server. PTTL < 0 also repairs a counter left without a TTL.
FIXED_WINDOW = """
local n = redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('PTTL', KEYS[1])}
"""


@cache
def fixed_window_script(r: redis.Redis) -> Script:
    return r.register_script(FIXED_WINDOW)  # once per client: sends EVALSHA, loads the script if missing


@dataclass
class Decision:
    allowed: bool
    remaining: int
    reset: int  # seconds until the window ends


def check(key: str, limit: int, window: int) -> None:
    if not key or key.endswith(":"):
        raise ValueError("rate-limit key must name a client (got an empty key)")
    if limit <= 0 or window <= 0:
        raise ValueError(f"limit and window must be positive, got limit={limit} window={window}")


def allow_lua(r: redis.Redis, key: str, limit: int, window: int) -> Decision:
    check(key, limit, window)
    count, pttl = fixed_window_script(r)(keys=[key], args=[window * 1000])  # EVALSHA
    return Decision(count <= limit, max(0, limit - count), -(-pttl // 1000))


def allow_multi(r: redis.Redis, key: str, limit: int, window: int) -> Decision:
    check(key, limit, window)
    pipe = r.pipeline(transaction=True)  # MULTI ... EXEC: all or nothing, nothing in between
    pipe.incr(key)
    pipe.expire(key, window, nx=True)  # NX: only if it has no TTL yet (Redis 7)
    pipe.ttl(key)
    count, _, ttl = pipe.execute()
    return Decision(count <= limit, max(0, limit - count), ttl)


def main() -> None:
    r = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    prefix = os.environ.get("DEMO_PREFIX", "demo")
    for name, allow in (("lua", allow_lua), ("multi", allow_multi)):
        key = f"{prefix}:fw:{name}:alice"
        decisions = [allow(r, key, limit=3, window=60) for _ in range(4)]
        print(name, [(d.allowed, d.remaining) for d in decisions], "TTL set:", 0 < r.ttl(key) <= 60)
        r.delete(key)
    stuck = f"{prefix}:fw:stuck"
    r.set(stuck, 3)  # what the common answer's code leaves after a crash: a full counter without a TTL
    allow_lua(r, stuck, limit=3, window=60)
    print("counter left without TTL, after one scripted call: TTL set:", 0 < r.ttl(stuck) <= 60)
    r.delete(stuck)


if __name__ == "__main__":
    main()
# --8<-- [end:fixed_window_script]
