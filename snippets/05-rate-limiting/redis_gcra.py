"""GCRA (a token bucket kept as one timestamp) in a Redis Lua script: `limit` requests per `period`
seconds, bursts of up to `burst`. The server's clock is used unless a test passes `now_us`."""

import os
from dataclasses import dataclass
from functools import cache

import redis
from redis.commands.core import Script

# --8<-- [start:gcra_script]
GCRA = """
local interval, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local now = tonumber(ARGV[3])
if not now then local t = redis.call('TIME'); now = t[1] * 1000000 + t[2] end
local tat = math.max(tonumber(redis.call('GET', KEYS[1])) or now, now)  -- theoretical arrival time
local allow_at = tat + interval - burst * interval
if allow_at > now then
  return {0, 0, math.ceil((allow_at - now) / 1e6), math.ceil((tat - now) / 1e6)}
end
local new_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
return {1, math.floor((now - allow_at) / interval), 0, math.ceil((new_tat - now) / 1e6)}
"""


@cache
def gcra_script(r: redis.Redis) -> Script:
    return r.register_script(GCRA)  # once per client: sends EVALSHA, loads the script if missing


@dataclass
class Decision:
    allowed: bool
    remaining: int
    retry_after: int  # seconds until a request would be admitted (0 when admitted)
    reset: int  # seconds until the bucket is full again


def gcra_allow(
    r: redis.Redis, key: str, limit: int, period: float, burst: int | None = None, now_us: int | None = None
) -> Decision:
    if not key or key.endswith(":"):
        raise ValueError("rate-limit key must name a client (got an empty key)")
    burst = limit if burst is None else burst
    if limit <= 0 or period <= 0 or burst <= 0:
        raise ValueError(f"limit, period and burst must be positive, got {limit}, {period}, {burst}")
    interval = round(period * 1e6 / limit)  # microseconds between two requests at the steady rate
    args = [interval, burst, "" if now_us is None else now_us]
    allowed, remaining, retry_after, reset = gcra_script(r)(keys=[key], args=args)
    return Decision(bool(allowed), remaining, retry_after, reset)


def main() -> None:
    r = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    key = f"{os.environ.get('DEMO_PREFIX', 'demo')}:gcra:alice"
    t0 = 1_700_000_000_000_000  # a fixed clock (µs) so the output is the same on every run
    for at in (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 1.0, 1.0):  # 5 per 5 s, burst 5
        d = gcra_allow(r, key, limit=5, period=5, now_us=t0 + int(at * 1e6))
        print(f"t={at}s allowed={d.allowed} remaining={d.remaining} retry_after={d.retry_after}s")
    r.delete(key)


if __name__ == "__main__":
    main()
# --8<-- [end:gcra_script]
