"""Proofs for docs/questions/05-rate-limiting.md: every claim the page makes, against real Redis."""

from __future__ import annotations

import contextlib
import inspect
import multiprocessing
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import redis
import uvicorn
from limits import parse
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

from verify.helpers import load_snippet

fixed_window = load_snippet("05-rate-limiting/fixed_window.py")
sliding_log = load_snippet("05-rate-limiting/sliding_log.py")
sliding_counter = load_snippet("05-rate-limiting/sliding_counter.py")
token_bucket = load_snippet("05-rate-limiting/token_bucket.py")
naive = load_snippet("05-rate-limiting/redis_naive.py")
fw = load_snippet("05-rate-limiting/redis_fixed_window.py")
gcra = load_snippet("05-rate-limiting/redis_gcra.py")
limits_demo = load_snippet("05-rate-limiting/limits_demo.py")
load = load_snippet("05-rate-limiting/load.py")
http_app = load_snippet("05-rate-limiting/http_app.py")

LIMIT, WINDOW = 5, 10.0


class Clock:
    """An injectable clock: time moves only when a test moves it."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


# Each in-process limiter as (limit 5 per 10 s), with the dict that holds its per-key state.
IN_PROCESS: dict[str, Callable[[Clock], Any]] = {
    "fixed_window": lambda c: fixed_window.FixedWindow(LIMIT, WINDOW, clock=c),
    "sliding_log": lambda c: sliding_log.SlidingLog(LIMIT, WINDOW, clock=c),
    "sliding_counter": lambda c: sliding_counter.SlidingCounter(LIMIT, WINDOW, clock=c),
    "token_bucket": lambda c: token_bucket.TokenBucket(LIMIT, LIMIT / WINDOW, clock=c),
}
STATE = {"fixed_window": "counts", "sliding_log": "logs", "sliding_counter": "state", "token_bucket": "buckets"}
IDLE_AFTER = {"fixed_window": WINDOW, "sliding_log": WINDOW, "sliding_counter": 2 * WINDOW, "token_bucket": WINDOW}


def traffic(seed: int, n: int = 3000, span: float = 200.0) -> list[float]:
    """Seeded bursty arrival times: clusters of requests at random instants."""
    rng = random.Random(seed)
    times: list[float] = []
    while len(times) < n:
        t = rng.uniform(0, span)
        times += [t + rng.uniform(0, 0.05) for _ in range(rng.randint(1, 12))]
    return sorted(times[:n])


def run(limiter: Any, clock: Clock, times: list[float], key: str = "k") -> list[float]:
    admitted = []
    for t in times:
        clock.now = t
        if limiter.allow(key):
            admitted.append(t)
    return admitted


def max_in_window(admitted: list[float], width: float) -> int:
    """Most admitted requests in any half-open interval (t - width, t]."""
    best, lo = 0, 0
    for hi, t in enumerate(admitted):
        while admitted[lo] <= t - width:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


# --- in-process algorithms ------------------------------------------------------------------------


def test_fixed_window_admits_twice_the_limit_across_a_boundary() -> None:
    """The page's boundary burst: 5 at t=9.9 and 5 at t=10.0 are all admitted, 10 in 0.1 s."""
    clock = Clock()
    limiter = IN_PROCESS["fixed_window"](clock)
    admitted = run(limiter, clock, [9.9] * 6 + [10.0] * 6)
    assert admitted == [9.9] * 5 + [10.0] * 5
    assert max_in_window(admitted, 0.2) == 2 * LIMIT


@pytest.mark.parametrize("seed", range(5))
def test_fixed_window_never_exceeds_twice_the_limit(seed: int) -> None:
    """Over seeded bursty traffic: never more than 2x the limit in any sliding window."""
    clock = Clock()
    admitted = run(IN_PROCESS["fixed_window"](clock), clock, traffic(seed))
    assert LIMIT < max_in_window(admitted, WINDOW) <= 2 * LIMIT


@pytest.mark.parametrize("seed", range(5))
def test_sliding_log_is_exact(seed: int) -> None:
    """Each decision equals the brute-force rule: admit iff fewer than `limit` admitted in (t-w, t]."""
    clock = Clock()
    limiter = IN_PROCESS["sliding_log"](clock)
    admitted: list[float] = []
    for t in traffic(seed):
        clock.now = t
        expected = sum(1 for a in admitted if a > t - WINDOW) < LIMIT
        assert limiter.allow("k") is expected
        if expected:
            admitted.append(t)
    assert max_in_window(admitted, WINDOW) == LIMIT


@pytest.mark.parametrize("seed", range(5))
def test_sliding_counter_bounds(seed: int) -> None:
    """The weighted estimate never lets an aligned window exceed the limit, and blocks the boundary
    burst the fixed window lets through; it is an approximation of the sliding window, not exact."""
    clock = Clock()
    admitted = run(IN_PROCESS["sliding_counter"](clock), clock, traffic(seed))
    per_window: dict[int, int] = {}
    for t in admitted:
        per_window[int(t // WINDOW)] = per_window.get(int(t // WINDOW), 0) + 1
    assert max(per_window.values()) <= LIMIT
    clock2 = Clock()
    assert run(IN_PROCESS["sliding_counter"](clock2), clock2, [9.9] * 6 + [10.0] * 6) == [9.9] * 5


@pytest.mark.parametrize("seed", range(5))
def test_token_bucket_envelope(seed: int) -> None:
    """In every interval [a, b]: admitted <= capacity + rate * (b - a); a fresh bucket bursts to capacity."""
    clock = Clock()
    rate = LIMIT / WINDOW
    admitted = run(IN_PROCESS["token_bucket"](clock), clock, traffic(seed, n=1500))
    for i, a in enumerate(admitted):
        for j in range(i, len(admitted)):
            assert j - i + 1 <= LIMIT + rate * (admitted[j] - a) + 1e-9
    clock2 = Clock()
    assert len(run(IN_PROCESS["token_bucket"](clock2), clock2, [0.0] * 10)) == LIMIT


@pytest.mark.parametrize("name", IN_PROCESS)
def test_idle_keys_are_evicted_and_live_ones_kept(name: str) -> None:
    """Memory is bounded by the keys active recently: 1000 idle users are dropped on the next call,
    while a user who is still limited keeps its state (eviction never changes a decision)."""
    clock = Clock()
    limiter = IN_PROCESS[name](clock)
    state = getattr(limiter, STATE[name])
    for i in range(1000):
        limiter.allow(f"user-{i}")
    assert len(state) == 1000
    clock.now = IDLE_AFTER[name] + 1.0
    assert run(limiter, clock, [clock.now] * (LIMIT + 1), key="alice") == [clock.now] * LIMIT
    assert list(state) == ["alice"]
    clock.now += 0.5
    limiter.allow("bob")
    assert set(state) == {"alice", "bob"}
    assert limiter.allow("alice") is False  # alice's exhausted state survived the sweep


@pytest.mark.parametrize("name", IN_PROCESS)
def test_in_process_limiters_hold_under_16_threads(name: str) -> None:
    """16 threads x 100 calls on one key with the clock frozen: exactly `limit` admitted."""
    limiter = IN_PROCESS[name](Clock())
    assert load.hammer(lambda: limiter.allow("alice"), clients=16, each=100) == LIMIT


def _instance_count(name: str, out: Any) -> None:
    """One app instance: its own limiter in its own memory, 100 requests from one user, clock frozen."""
    limiter = IN_PROCESS[name](Clock())
    out.put(sum(limiter.allow("alice") for _ in range(100)))


@pytest.mark.parametrize("name", IN_PROCESS)
def test_in_process_limits_multiply_by_the_number_of_instances(name: str) -> None:
    """4 processes (4 instances behind a load balancer), each with its own in-process limiter: the user
    gets 4 x the limit. Only shared state (Redis, below) keeps one budget across instances."""
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    procs = [ctx.Process(target=_instance_count, args=(name, out)) for _ in range(4)]
    for p in procs:
        p.start()
    counts = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert counts == [LIMIT] * 4 and sum(counts) == 4 * LIMIT


@pytest.mark.parametrize("name", IN_PROCESS)
def test_in_process_limiters_default_to_a_monotonic_clock(name: str) -> None:
    """Without an injected clock every limiter reads time.monotonic, which never goes back."""
    cls = type(IN_PROCESS[name](Clock()))
    assert inspect.signature(cls).parameters["clock"].default is time.monotonic


def test_a_wall_clock_stepped_back_locks_a_user_out_for_an_hour() -> None:
    """Why not time.time: when the wall clock is stepped back an hour (NTP, an operator), the times
    already in a sliding log lie 'in the future', so they fill the window until the clock catches up:
    the user who used the limit is refused for an hour instead of 10 s."""
    wall = Clock()
    wall.now = 3600.0
    log = sliding_log.SlidingLog(LIMIT, WINDOW, clock=wall)
    assert [log.allow("alice") for _ in range(LIMIT + 1)] == [True] * LIMIT + [False]
    after_step = []
    for later in (10.0, 60.0, 1800.0, 3605.0, 3610.0):  # seconds after the clock was set back to 0
        wall.now = later
        after_step.append(log.allow("alice"))
    assert after_step == [False, False, False, False, True]  # free again only when 3600 + 10 s is reached
    steady = Clock()  # a monotonic clock goes on from where it was: free again after the window
    log = sliding_log.SlidingLog(LIMIT, WINDOW, clock=steady)
    assert [log.allow("alice") for _ in range(LIMIT + 1)] == [True] * LIMIT + [False]
    steady.now = WINDOW
    assert log.allow("alice")


class SeedTokenBucket:
    """The common answer's Go token bucket, line by line: the map under the limiter's mutex, refill and
    take under the bucket's own. `pause` widens the window between reading and writing the tokens."""

    def __init__(self, capacity: float, rate: float, lock_each_bucket: bool = True) -> None:
        self.mu, self.buckets, self.capacity, self.rate = threading.Lock(), dict[str, list[Any]](), capacity, rate
        self.lock_each_bucket = lock_each_bucket

    def allow(self, user: str) -> bool:
        with self.mu:  # rl.mu.Lock(): find or create the user's bucket
            bucket = self.buckets.setdefault(user, [threading.Lock(), self.capacity, 0.0])
        with bucket[0] if self.lock_each_bucket else contextlib.nullcontext():  # tb.mu.Lock()
            elapsed = 0.0  # refill(): now.Sub(tb.lastRefill), with the clock frozen for the test
            tokens = min(self.capacity, bucket[1] + elapsed * self.rate)
            time.sleep(0)  # another thread may run here
            if tokens >= 1:
                bucket[1] = tokens - 1
                return True
            bucket[1] = tokens
            return False


@pytest.mark.parametrize("locked", [True, False], ids=["as-written", "without-the-bucket-mutex"])
def test_the_common_token_bucket_is_race_free_as_written(locked: bool) -> None:
    """16 threads x 100 calls, one user, capacity 5, clock frozen. As written (both mutexes) exactly 5 are
    admitted, however the threads interleave; without the per-bucket mutex the same code overspends."""
    bucket = SeedTokenBucket(capacity=LIMIT, rate=1.0, lock_each_bucket=locked)
    admitted = load.hammer(lambda: bucket.allow("alice"), clients=16, each=100)
    assert admitted == LIMIT if locked else admitted > LIMIT


@pytest.mark.parametrize("name", IN_PROCESS)
@pytest.mark.parametrize(("limit", "window", "key"), [(5, 10.0, ""), (0, 10.0, "a"), (-1, 10.0, "a"), (5, 0.0, "a")])
def test_in_process_bad_input_is_refused(name: str, limit: int, window: float, key: str) -> None:
    """Empty key, non-positive limit or window: a ValueError naming the problem, no state written."""
    cls = type(IN_PROCESS[name](Clock()))
    with pytest.raises(ValueError, match="must be"):
        limiter = cls(limit, window, clock=Clock()) if key else cls(LIMIT, WINDOW, clock=Clock())
        limiter.allow(key)
    if not key:
        assert getattr(limiter, STATE[name]) == {}


# --- Redis ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def r(env: dict[str, str]) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(env["REDIS_URL"], max_connections=64)
    yield client
    client.close()


@pytest.fixture
def prefix(env: dict[str, str], r: redis.Redis, request: pytest.FixtureRequest) -> Iterator[str]:
    """A per-test key prefix under the module's DEMO_PREFIX; its keys are deleted afterwards."""
    p = f"{env['DEMO_PREFIX']}:{re.sub(r'[^A-Za-z0-9]+', '-', request.node.name)}"
    yield p
    for k in r.scan_iter(f"{p}:*"):
        r.delete(k)


def keys(r: redis.Redis, prefix: str) -> list[bytes]:
    return sorted(r.scan_iter(f"{prefix}:*"))


def test_common_incr_then_expire_leaves_a_key_without_ttl(env: dict[str, str], r: redis.Redis, prefix: str) -> None:
    """A client killed between INCR and EXPIRE leaves a counter with no TTL: the user is refused
    after `limit` more calls and the key never expires (TTL -1), i.e. blocked forever."""
    key = f"{prefix}:naive:alice"
    worker = multiprocessing.get_context("fork").Process(target=naive.crashing_client, args=(env["REDIS_URL"], key))
    worker.start()
    worker.join()
    assert worker.exitcode == 1
    assert r.get(key) == b"1" and r.ttl(key) == -1
    assert [naive.naive_allow(r, key, 3, 1) for _ in range(4)] == [True, True, False, False]
    assert r.ttl(key) == -1  # no later call repairs it: the seed only sets EXPIRE when the count is 1


@pytest.mark.parametrize("allow", [fw.allow_lua, fw.allow_multi], ids=["lua", "multi"])
def test_atomic_fixed_window(r: redis.Redis, prefix: str, allow: Callable[..., Any]) -> None:
    """Both atomic versions: limit honoured, remaining counts down, every key has a TTL within the
    window, and a counter left without TTL by the seed's code is repaired on the next call."""
    key = f"{prefix}:alice"
    decisions = [allow(r, key, 3, 60) for _ in range(5)]
    assert [(d.allowed, d.remaining) for d in decisions] == [(True, 2), (True, 1), (True, 0), (False, 0), (False, 0)]
    assert all(0 < d.reset <= 60 for d in decisions)
    assert 0 < r.ttl(key) <= 60
    stuck = f"{prefix}:stuck"
    r.set(stuck, 3)
    assert allow(r, stuck, 3, 60).allowed is False
    assert 0 < r.ttl(stuck) <= 60


def test_gcra_with_a_fixed_clock(r: redis.Redis, prefix: str) -> None:
    """GCRA, 5 per 5 s, burst 5: five at once, then one every second; retry_after tells the wait."""
    key, t0 = f"{prefix}:gcra", 1_700_000_000_000_000

    def at(seconds: float) -> Any:
        return gcra.gcra_allow(r, key, limit=5, period=5, now_us=t0 + int(seconds * 1e6))

    burst = [at(0) for _ in range(6)]
    assert [d.remaining for d in burst[:5]] == [4, 3, 2, 1, 0]
    assert burst[5].allowed is False and burst[5].retry_after == 1
    assert at(0.999).allowed is False
    assert at(1.0).allowed is True and at(1.0).allowed is False
    assert [at(100).allowed for _ in range(6)] == [True] * 5 + [False]  # refills to the burst, no more
    assert 0 < r.pttl(key) <= 5000  # the key expires once the bucket would be full again


def test_gcra_on_the_server_clock(r: redis.Redis, prefix: str) -> None:
    """Without now_us the script reads Redis TIME: a burst of `limit`, then refusals with a wait."""
    decisions = [gcra.gcra_allow(r, f"{prefix}:gcra", limit=10, period=3600) for _ in range(11)]
    assert [d.allowed for d in decisions] == [True] * 10 + [False]
    assert 0 < decisions[-1].retry_after <= 360


def limits_strategy(cls: type) -> Callable[[redis.Redis, str], Callable[[], bool]]:
    def make(r: redis.Redis, prefix: str) -> Callable[[], bool]:
        limiter, item = cls(limits_demo.storage("redis://" + _addr(r), prefix)), parse("100/hour")
        return lambda: bool(limiter.hit(item, "load", "alice"))

    return make


def _addr(r: redis.Redis) -> str:
    kw = r.connection_pool.connection_kwargs
    return f"{kw.get('host', '127.0.0.1')}:{kw.get('port', 6379)}/{kw.get('db', 0)}"


DISTRIBUTED: dict[str, Callable[[redis.Redis, str], Callable[[], bool]]] = {
    "lua": lambda r, p: lambda: bool(fw.allow_lua(r, f"{p}:alice", 100, 3600).allowed),
    "multi": lambda r, p: lambda: bool(fw.allow_multi(r, f"{p}:alice", 100, 3600).allowed),
    "gcra": lambda r, p: lambda: bool(gcra.gcra_allow(r, f"{p}:alice", 100, 3600).allowed),
    "limits-fixed": limits_strategy(FixedWindowRateLimiter),
    "limits-moving": limits_strategy(MovingWindowRateLimiter),
}


@pytest.mark.parametrize("name", DISTRIBUTED)
def test_distributed_limiters_under_16_clients(r: redis.Redis, prefix: str, name: str) -> None:
    """16 threads x 100 requests on one key, limit 100 per hour: exactly 100 admitted, never more."""
    decide = DISTRIBUTED[name](r, prefix)
    assert load.hammer(decide, clients=16, each=100) == 100
    assert keys(r, prefix)  # the state really lives in Redis, under the prefix
    assert all(r.ttl(k) > 0 for k in keys(r, prefix))


def _process_client(url: str, key: str, kind: str, start: Any, out: Any) -> None:
    """One of 16 client processes: its own connection, 100 decisions on the shared key."""
    client = redis.Redis.from_url(url)
    decide = {
        "lua": lambda: fw.allow_lua(client, key, 100, 3600),
        "gcra": lambda: gcra.gcra_allow(client, key, 100, 3600),
    }
    start.wait()
    out.put(sum(bool(decide[kind]().allowed) for _ in range(100)))


@pytest.mark.parametrize("kind", ["lua", "gcra"])
def test_distributed_limiters_under_16_processes(env: dict[str, str], r: redis.Redis, prefix: str, kind: str) -> None:
    """The same with 16 separate processes (like 16 app instances): exactly 100 of 1600 admitted."""
    ctx = multiprocessing.get_context("fork")
    start, out = ctx.Barrier(16), ctx.Queue()
    procs = [
        ctx.Process(target=_process_client, args=(env["REDIS_URL"], f"{prefix}:alice", kind, start, out))
        for _ in range(16)
    ]
    for p in procs:
        p.start()
    counts = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert [p.exitcode for p in procs] == [0] * 16
    assert sum(counts) == 100


@pytest.mark.parametrize("key_suffix", ["", ":"])
@pytest.mark.parametrize(
    "call",
    [
        lambda r, k, n: fw.allow_lua(r, k, n, 60),
        lambda r, k, n: fw.allow_multi(r, k, n, 60),
        lambda r, k, n: gcra.gcra_allow(r, k, n, 60),
    ],
    ids=["lua", "multi", "gcra"],
)
def test_redis_bad_input_is_refused(r: redis.Redis, prefix: str, call: Callable[..., Any], key_suffix: str) -> None:
    """Empty key (or a prefix with no client after it) and non-positive limits: ValueError before any
    command is sent, so Redis holds nothing afterwards."""
    with pytest.raises(ValueError, match="empty key"):
        call(r, prefix + key_suffix if key_suffix else "", 5)
    for bad in (0, -3):
        with pytest.raises(ValueError, match="must be positive"):
            call(r, f"{prefix}:alice", bad)
    assert keys(r, prefix) == [] and r.exists(prefix) == 0


def test_limits_library_works_with_redis_py_8(env: dict[str, str], r: redis.Redis, prefix: str) -> None:
    """limits 5.8 without its [redis] extra (which pins redis<8) runs on redis-py 8.1 against the real
    server: storage check, all three strategies, keys under our prefix, reset() removes them."""
    assert redis.__version__.startswith("8.")
    store = limits_demo.storage(env["REDIS_URL"], prefix)
    assert store.check() is True
    for cls in (FixedWindowRateLimiter, MovingWindowRateLimiter):
        assert limits_demo.hits(cls(store), parse("3/minute"), "alice", 4) == [True, True, True, False]
    assert len(keys(r, prefix)) == 2
    with pytest.raises(ValueError, match="empty key"):
        limits_demo.hits(FixedWindowRateLimiter(store), parse("3/minute"), "", 1)
    assert store.reset() == 2 and keys(r, prefix) == []


def test_limits_library_pitfalls(env: dict[str, str], r: redis.Redis, prefix: str) -> None:
    """The page's two warnings about limits: strategies sharing identifiers collide (WRONGTYPE), and a
    limit of 0 is accepted silently and refuses everything."""
    store = limits_demo.storage(env["REDIS_URL"], prefix)
    item = parse("3/minute")
    assert FixedWindowRateLimiter(store).hit(item, "same", "alice") is True
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        MovingWindowRateLimiter(store).hit(item, "same", "alice")
    zero = parse("0/minute")
    assert zero.amount == 0
    assert [FixedWindowRateLimiter(store).hit(zero, "zero", "bob") for _ in range(3)] == [False] * 3
    store.reset()
    assert keys(r, prefix) == []


# --- HTTP -----------------------------------------------------------------------------------------

FIELD = re.compile(r'^"default";r=(\d+);t=(\d+)$')


def get(base: str, n: int, **headers: str) -> list[httpx.Response]:
    return [httpx.get(f"{base}/hello", headers=headers) for _ in range(n)]


def test_http_429_retry_after_and_ratelimit_fields(env: dict[str, str], prefix: str) -> None:
    """Every answer carries RateLimit-Policy and RateLimit (draft-11 syntax); the 4th request gets
    429 with an integer Retry-After within the window; no legacy X-RateLimit-* fields."""
    with http_app.serve(http_app.create_app(env["REDIS_URL"], prefix, 3, 60), forwarded_allow_ips="10.0.0.1") as base:
        alice = get(base, 4, **{"X-API-Key": "k-alice"})
    assert [x.status_code for x in alice] == [200, 200, 200, 429]
    assert all(x.headers["RateLimit-Policy"] == '"default";q=3;w=60' for x in alice)
    fields = [FIELD.match(x.headers["RateLimit"]) for x in alice]
    assert [int(m[1]) for m in fields if m] == [2, 1, 0, 0]
    assert all(m and 0 < int(m[2]) <= 60 for m in fields)
    assert "Retry-After" not in alice[0].headers
    assert 0 < int(alice[3].headers["Retry-After"]) <= 60
    assert alice[3].json() == {"detail": "Too Many Requests"}
    assert not any(h.lower().startswith("x-ratelimit") for x in alice for h in x.headers)


def test_http_keys_by_user_else_ip(env: dict[str, str], prefix: str) -> None:
    """Alice's 429 does not touch Bob; an unknown API key is anonymous, so it shares the IP's bucket
    (inventing keys does not mint fresh quotas)."""
    with http_app.serve(http_app.create_app(env["REDIS_URL"], prefix, 2, 60), forwarded_allow_ips="10.0.0.1") as base:
        assert [x.status_code for x in get(base, 3, **{"X-API-Key": "k-alice"})] == [200, 200, 429]
        assert [x.status_code for x in get(base, 2, **{"X-API-Key": "k-bob"})] == [200, 200]
        anon = [httpx.get(f"{base}/hello", headers={"X-API-Key": f"made-up-{i}"}).status_code for i in range(3)]
    assert anon == [200, 200, 429]


@pytest.mark.parametrize(
    ("trusted", "expected"),
    [(None, [200] * 5), ("127.0.0.1", [200] * 5), ("10.0.0.1", [200, 200, 200, 429, 429])],
    ids=["uvicorn-default", "trust-127.0.0.1", "trust-only-the-proxy"],
)
def test_http_proxy_caveat(
    env: dict[str, str], prefix: str, trusted: str | None, expected: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """uvicorn trusts X-Forwarded-For from forwarded_allow_ips, whose default (no option, no
    FORWARDED_ALLOW_IPS) is 127.0.0.1. If the clients themselves are 'trusted', a spoofed header gives
    each request a fresh bucket: the limit is evaded. Trusting only the real proxy makes it useless."""
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    options = {} if trusted is None else {"forwarded_allow_ips": trusted}
    with http_app.serve(http_app.create_app(env["REDIS_URL"], prefix, 3, 60), **options) as base:
        codes = [
            httpx.get(f"{base}/hello", headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code for i in range(5)
        ]
    assert codes == expected


def test_uvicorn_trusts_both_loopback_addresses_by_default(
    env: dict[str, str], prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In the pinned uvicorn the default forwarded_allow_ips is "127.0.0.1,::1" (uvicorn/config.py), not
    127.0.0.1 alone: a client on the IPv6 loopback is trusted too, and its spoofed X-Forwarded-For evades
    the limit the same way."""
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    app = http_app.create_app(env["REDIS_URL"], prefix, 3, 60)
    assert uvicorn.__version__ == "0.54.0"
    assert uvicorn.Config(app).forwarded_allow_ips == "127.0.0.1,::1"
    with http_app.serve(app, host="::1") as base:
        assert base.startswith("http://[::1]:")
        codes = [
            httpx.get(f"{base}/hello", headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code for i in range(5)
        ]
    assert codes == [200] * 5  # a fresh bucket per forged address
