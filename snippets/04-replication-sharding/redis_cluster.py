"""A real 3-master Redis Cluster from the local redis-server binaries (removed on exit): which master
owns a key, what a master says about a key it does not own, and hash tags."""

import contextlib
import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator

import redis
from redis.cluster import RedisCluster

# --8<-- [start:free_port]
PREFIX = os.environ.get("DEMO_PREFIX", "demo")


def free_port() -> int:
    """A free port p with p + 10000 free too (the cluster bus port), so p <= 55535."""
    while True:
        port = random.randint(20000, 40000)
        with contextlib.suppress(OSError), socket.socket() as a, socket.socket() as b:
            a.bind(("127.0.0.1", port))
            b.bind(("127.0.0.1", port + 10000))
            return port


def wait_until(port: int, cluster_ok: bool, what: str) -> None:
    """Until the server answers PING (or, with cluster_ok, reports cluster_state:ok); 30 s at most."""
    deadline = time.monotonic() + 30
    while True:
        with contextlib.suppress(redis.ConnectionError), redis.Redis(port=port) as r:
            if r.cluster("INFO")["cluster_state"] == "ok" if cluster_ok else r.ping():
                return
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.05)


# --8<-- [end:free_port]


# --8<-- [start:redis_cluster]
@contextlib.contextmanager
def redis_cluster(masters: int = 3) -> Iterator[list[int]]:
    """Yield the ports of the masters; the servers are our children and stop when the block ends."""
    tmp = tempfile.mkdtemp(prefix="redis-cluster-")
    procs: list[subprocess.Popen[bytes]] = []
    try:
        ports = [free_port() for _ in range(masters)]
        for port in ports:
            os.mkdir(d := os.path.join(tmp, str(port)))
            procs.append(
                subprocess.Popen(
                    [
                        "redis-server",
                        "--port",
                        str(port),
                        "--bind",
                        "127.0.0.1",
                        "--cluster-enabled",
                        "yes",
                        "--cluster-config-file",
                        "nodes.conf",
                        "--dir",
                        d,
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                    ],
                    stdout=subprocess.DEVNULL,
                )
            )
        for port in ports:
            wait_until(port, False, f"redis-server on port {port} did not start")
        subprocess.run(
            ["redis-cli", "--cluster", "create", *(f"127.0.0.1:{p}" for p in ports), "--cluster-yes"],
            check=True,
            capture_output=True,
            timeout=60,
        )
        for port in ports:
            wait_until(port, True, "the cluster did not reach cluster_state:ok")
        yield ports
    finally:
        for proc in procs:
            proc.kill()  # a throwaway: nothing to save
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


def slot_ranges(rc: RedisCluster) -> dict[tuple[int, int], int]:
    """{(first slot, last slot): port of the master serving them}, from CLUSTER SLOTS."""
    slots: dict[tuple[int, int], dict[str, tuple[str, int]]] = rc.cluster_slots()  # type: ignore[assignment]
    return {rng: int(v["primary"][1]) for rng, v in slots.items()}


# --8<-- [end:redis_cluster]


# --8<-- [start:master_of]
def master_of(rc: RedisCluster, key: str) -> tuple[tuple[int, int], int]:
    slot = rc.cluster_keyslot(key)
    return next((rng, port) for rng, port in slot_ranges(rc).items() if rng[0] <= slot <= rng[1])


def main() -> None:
    with redis_cluster() as ports:
        rc = RedisCluster(host="127.0.0.1", port=ports[0])
        print("cluster_state:", rc.cluster_info()["cluster_state"], "| masters serve slots:", sorted(slot_ranges(rc)))
        for user in (1, 3, 4):
            key = f"{PREFIX}:{{user:{user}}}:profile"  # only the {hash tag} is hashed
            slot = rc.cluster_keyslot(key)  # asked of the server (CRC16 of the tag mod 16384)
            print(f"<prefix>:{{user:{user}}}:profile  slot {slot:>5}  master serving slots {master_of(rc, key)[0]}")
        key = f"{PREFIX}:{{user:1}}:profile"
        wrong = next(p for p in ports if p != master_of(rc, key)[1])
        try:
            redis.Redis(port=wrong).set(key, "x")
        except redis.ResponseError as e:  # the server said: MOVED <slot> <host:port of the owner>
            moved_slot, where = str(e).split()
            is_owner = where == f"127.0.0.1:{master_of(rc, key)[1]}"
            print(f"plain client, wrong master: {type(e).__name__} slot {moved_slot}, points at the owner: {is_owner}")
        print("cluster client (follows MOVED, caches the slot map):", rc.set(key, "ada"), rc.get(key))
        cart = f"{PREFIX}:{{user:1}}:cart"
        print("{user:1}:profile and {user:1}:cart share a slot:", rc.cluster_keyslot(key) == rc.cluster_keyslot(cart))
        owner = redis.Redis(port=master_of(rc, key)[1])
        print("MSET within one slot:", owner.mset({key: "ada", cart: "3 books"}))
        try:
            owner.mset({key: "ada", f"{PREFIX}:user:2:cart": "1 pen"})
        except redis.ResponseError as e:
            print("MSET across slots:", type(e).__name__, e)
        rc.close()


if __name__ == "__main__":
    main()
# --8<-- [end:master_of]
